use bascule_core::{Error, ErrorCode, MetadataStore, Stage};

use crate::backends::each_backend;
use crate::fixtures::{assert_error, assert_not_found, evidence, new_version, transition};

#[tokio::test(flavor = "multi_thread")]
async fn the_legal_path_is_walked_and_logged() {
    each_backend(|store| async move {
        let registered = store
            .create_model_version(new_version("churn"))
            .await
            .expect("v1");
        let path = [
            Stage::Validated,
            Stage::Deployed,
            Stage::Monitored,
            Stage::Retired,
        ];
        let mut returned = Vec::new();
        let mut from = Stage::Prototype;
        for to in path {
            let mut step = transition("churn", 1, to);
            if to == Stage::Validated {
                step.evidence = evidence("validation_report", "sha256:abc");
            }
            let event = store.transition(step.clone()).await.expect("legal");
            assert_eq!((event.name.as_str(), event.version), ("churn", 1));
            assert_eq!((event.from, event.to), (Some(from), to));
            assert_eq!(
                (event.actor.as_str(), event.reason.as_str()),
                ("grace", step.reason.as_str())
            );
            assert_eq!(event.evidence, step.evidence);
            assert!(event.time >= registered.creation_time);
            returned.push(event);
            from = to;
        }
        assert_eq!(
            store
                .get_model_version("churn", 1)
                .await
                .expect("found")
                .stage,
            Stage::Retired
        );

        let events = store.list_events("churn", Some(1)).await.expect("events");
        assert_eq!(events.len(), 5);
        let registration = &events[0];
        assert_eq!(
            (registration.from, registration.to),
            (None, Stage::Prototype)
        );
        assert_eq!(
            (registration.actor.as_str(), registration.reason.as_str()),
            ("ada", "first cut")
        );
        assert_eq!(registration.evidence, None);
        assert_eq!(
            &events[1..],
            returned.as_slice(),
            "oldest first, as returned"
        );
        assert!(events.windows(2).all(|pair| pair[0].id < pair[1].id));

        // A retired version passed the gate once and may be deployed again.
        store
            .transition(transition("churn", 1, Stage::Deployed))
            .await
            .expect("redeployed");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_illegal_transition_is_refused_and_writes_nothing() {
    each_backend(|store| async move {
        let before = store
            .create_model_version(new_version("churn"))
            .await
            .expect("v1");
        let refused = store
            .transition(transition("churn", 1, Stage::Deployed))
            .await;
        let error = assert_error(
            refused,
            ErrorCode::FailedPrecondition,
            &["Prototype", "Deployed"],
        );
        match error {
            Error::IllegalTransition(illegal) => assert_eq!(
                (illegal.from, illegal.to),
                (Stage::Prototype, Stage::Deployed)
            ),
            other => panic!("expected IllegalTransition, got {other:?}"),
        }
        assert_eq!(
            store.get_model_version("churn", 1).await.expect("found"),
            before
        );
        assert_eq!(
            store
                .list_events("churn", Some(1))
                .await
                .expect("events")
                .len(),
            1
        );

        store
            .transition(transition("churn", 1, Stage::Rejected))
            .await
            .expect("rejected");
        let final_stage = store
            .transition(transition("churn", 1, Stage::Validated))
            .await;
        assert_error(
            final_stage,
            ErrorCode::FailedPrecondition,
            &["Rejected", "Validated", "final"],
        );
        let same = store
            .transition(transition("churn", 1, Stage::Rejected))
            .await;
        assert_error(same, ErrorCode::FailedPrecondition, &["Rejected", "final"]);

        assert_error(
            store
                .transition(transition("churn", 9, Stage::Validated))
                .await,
            ErrorCode::NotFound,
            &["churn/9"],
        );
        assert_not_found(
            store
                .transition(transition("nope", 1, Stage::Validated))
                .await,
            "registered model",
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn only_a_version_with_a_parent_can_be_improved() {
    each_backend(|store| async move {
        store
            .create_model_version(new_version("churn"))
            .await
            .expect("v1");
        let mut child = new_version("churn");
        child.lineage.parent_version = Some(1);
        store.create_model_version(child).await.expect("v2");
        for version in [1, 2] {
            store
                .transition(transition("churn", version, Stage::Validated))
                .await
                .expect("validated");
        }

        let orphan = store
            .transition(transition("churn", 1, Stage::Improved))
            .await;
        assert_error(
            orphan,
            ErrorCode::FailedPrecondition,
            &["Validated", "Improved", "parent"],
        );
        assert_eq!(
            store
                .get_model_version("churn", 1)
                .await
                .expect("found")
                .stage,
            Stage::Validated
        );

        let mut improved = transition("churn", 2, Stage::Improved);
        improved.evidence = evidence("validation_report", "beats v1 on AUC");
        store.transition(improved).await.expect("improved");
        store
            .transition(transition("churn", 2, Stage::Deployed))
            .await
            .expect("deployed");
        assert_eq!(
            store
                .get_model_version("churn", 2)
                .await
                .expect("found")
                .stage,
            Stage::Deployed
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn of_racing_transitions_exactly_one_wins() {
    each_backend(|store| async move {
        store
            .create_model_version(new_version("churn"))
            .await
            .expect("v1");
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..8 {
            let store = store.clone();
            // Validated and Rejected exclude each other, and neither may repeat.
            let to = if i % 2 == 0 {
                Stage::Validated
            } else {
                Stage::Rejected
            };
            tasks.spawn(async move { store.transition(transition("churn", 1, to)).await });
        }
        let mut winners = Vec::new();
        while let Some(outcome) = tasks.join_next().await {
            match outcome.expect("task finished") {
                Ok(event) => winners.push(event),
                Err(Error::IllegalTransition(_)) => {}
                Err(other) => panic!("a loser must see an illegal transition, not {other:?}"),
            }
        }
        assert_eq!(winners.len(), 1, "{winners:?}");
        let version = store.get_model_version("churn", 1).await.expect("found");
        assert_eq!(version.stage, winners[0].to);
        let events = store.list_events("churn", Some(1)).await.expect("events");
        assert_eq!(events.len(), 2);
        assert_eq!(events[1], winners[0]);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn events_are_listed_per_model_or_per_version() {
    each_backend(|store| async move {
        store
            .create_model_version(new_version("churn"))
            .await
            .expect("v1");
        store
            .create_model_version(new_version("churn"))
            .await
            .expect("v2");
        store
            .transition(transition("churn", 1, Stage::Validated))
            .await
            .expect("validated");
        store
            .create_model_version(new_version("other"))
            .await
            .expect("other v1");

        let all = store.list_events("churn", None).await.expect("events");
        let summary: Vec<_> = all.iter().map(|event| (event.version, event.to)).collect();
        assert_eq!(
            summary,
            [
                (1, Stage::Prototype),
                (2, Stage::Prototype),
                (1, Stage::Validated)
            ]
        );
        assert_eq!(
            store
                .list_events("churn", Some(2))
                .await
                .expect("events")
                .len(),
            1
        );
        assert_not_found(store.list_events("nope", None).await, "registered model");
        assert_not_found(store.list_events("churn", Some(9)).await, "model version");
    })
    .await;
}

use bascule_core::{
    Canary, Deployment, DeploymentChange, ErrorCode, MetadataStore, PredictionRecord, Role, Stage,
    Tensor, TensorData,
};

use crate::backends::each_backend;
use crate::fixtures::{assert_error, assert_not_found, new_version, transition};

fn live(name: &str, version: i64) -> Deployment {
    Deployment {
        live: Some(version),
        updated_by: "ada".to_owned(),
        ..Deployment::empty(name)
    }
}

fn change(
    deployment: Deployment,
    expected_revision: i64,
    moves: &[(i64, Stage)],
) -> DeploymentChange {
    let name = deployment.name.clone();
    DeploymentChange {
        deployment,
        expected_revision,
        transitions: moves
            .iter()
            .map(|&(version, to)| transition(&name, version, to))
            .collect(),
    }
}

/// `bc` with versions 1 and 2 Validated and 3 left a Prototype.
async fn three_versions(store: &impl MetadataStore) {
    for _ in 0..3 {
        store.create_model_version(new_version("bc")).await.unwrap();
    }
    for version in [1, 2] {
        store
            .transition(transition("bc", version, Stage::Validated))
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deployment_is_saved_with_its_transitions() {
    each_backend(|store| async move {
        assert_not_found(store.get_deployment("bc").await, "registered model");
        three_versions(&store).await;
        assert_eq!(store.get_deployment("bc").await.unwrap(), None);

        let (saved, events) = store
            .save_deployment(change(live("bc", 1), 0, &[(1, Stage::Deployed)]))
            .await
            .unwrap();
        assert_eq!(saved.revision, 1);
        assert!(saved.updated_time > 0);
        assert_eq!(events.len(), 1);
        assert_eq!(
            (events[0].from, events[0].to),
            (Some(Stage::Validated), Stage::Deployed)
        );
        assert_eq!(
            store.get_deployment("bc").await.unwrap(),
            Some(saved.clone())
        );

        let canary = Deployment {
            canary: Some(Canary {
                version: 2,
                percent: 10,
            }),
            shadow: Some(1),
            ..saved.clone()
        };
        let (saved, _) = store
            .save_deployment(change(canary, 1, &[(2, Stage::Deployed)]))
            .await
            .unwrap();
        assert_eq!(saved.revision, 2);
        let listed = store.list_deployments().await.unwrap();
        assert_eq!(listed, vec![saved.clone()]);
        assert_eq!(
            listed[0].canary,
            Some(Canary {
                version: 2,
                percent: 10
            })
        );
        assert_eq!(
            store.get_model_version("bc", 2).await.unwrap().stage,
            Stage::Deployed
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn stale_or_illegal_changes_write_nothing() {
    each_backend(|store| async move {
        three_versions(&store).await;
        let (saved, _) = store
            .save_deployment(change(live("bc", 1), 0, &[(1, Stage::Deployed)]))
            .await
            .unwrap();

        // Computed from a stale revision: refused, version 2 not moved.
        assert_error(
            store
                .save_deployment(change(live("bc", 2), 0, &[(2, Stage::Deployed)]))
                .await,
            ErrorCode::FailedPrecondition,
            &["changed", "retry"],
        );
        assert_error(
            store
                .save_deployment(change(live("bc", 2), 7, &[(2, Stage::Deployed)]))
                .await,
            ErrorCode::FailedPrecondition,
            &["retry"],
        );
        assert_eq!(
            store.get_model_version("bc", 2).await.unwrap().stage,
            Stage::Validated
        );

        // A Prototype cannot be deployed: the deployment row is rolled back with it.
        assert_error(
            store
                .save_deployment(change(
                    live("bc", 3),
                    1,
                    &[(3, Stage::Deployed), (1, Stage::Retired)],
                ))
                .await,
            ErrorCode::FailedPrecondition,
            &["Prototype", "Deployed"],
        );
        assert_eq!(store.get_deployment("bc").await.unwrap(), Some(saved));
        assert_eq!(
            store.get_model_version("bc", 1).await.unwrap().stage,
            Stage::Deployed
        );

        let bad_canary = Deployment {
            canary: Some(Canary {
                version: 2,
                percent: 100,
            }),
            ..live("bc", 1)
        };
        assert_error(
            store.save_deployment(change(bad_canary, 1, &[])).await,
            ErrorCode::InvalidArgument,
            &["1 to 99 percent"],
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn undeploying_removes_the_deployment() {
    each_backend(|store| async move {
        three_versions(&store).await;
        store
            .save_deployment(change(live("bc", 1), 0, &[(1, Stage::Deployed)]))
            .await
            .unwrap();
        let (removed, events) = store
            .save_deployment(change(Deployment::empty("bc"), 1, &[(1, Stage::Retired)]))
            .await
            .unwrap();
        assert!(removed.is_empty());
        assert_eq!(removed.revision, 0);
        assert_eq!(events[0].to, Stage::Retired);
        assert_eq!(store.get_deployment("bc").await.unwrap(), None);
        assert!(store.list_deployments().await.unwrap().is_empty());
        // A retired version passed the gate once: it deploys again from revision 0.
        let (saved, _) = store
            .save_deployment(change(live("bc", 1), 0, &[(1, Stage::Deployed)]))
            .await
            .unwrap();
        assert_eq!(saved.revision, 1);
    })
    .await;
}

fn record(request_id: &str, role: Role, value: f32) -> PredictionRecord {
    PredictionRecord {
        request_id: request_id.to_owned(),
        name: "bc".to_owned(),
        version: 1,
        role,
        time: 1_700_000_000_000,
        latency_micros: 42,
        inputs: vec![Tensor::new("input", vec![1, 2], TensorData::Fp32(vec![value, 2.5])).unwrap()],
        outputs: vec![Tensor::new("label", vec![1], TensorData::Int64(vec![1])).unwrap()],
        error: None,
        agrees_with_live: (role == Role::Shadow).then_some(true),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn predictions_are_appended_in_batches() {
    each_backend(|store| async move {
        let records: Vec<_> = (0..1200)
            .map(|i| record(&format!("r{i}"), Role::Live, i as f32))
            .chain([record("r7", Role::Shadow, 7.0)])
            .collect();
        assert_eq!(store.insert_predictions(&records).await.unwrap(), 1201);
        assert_eq!(store.insert_predictions(&[]).await.unwrap(), 0);

        let newest = store.list_predictions("bc", None, 5).await.unwrap();
        assert_eq!(newest.len(), 5);
        assert_eq!(newest[0], records[1200]);
        assert_eq!(newest[1], records[1199]);
        let of_request = store.list_predictions("bc", Some("r7"), 10).await.unwrap();
        let roles: Vec<_> = of_request.iter().map(|r| r.role).collect();
        assert_eq!(roles, vec![Role::Shadow, Role::Live]);
        assert_eq!(of_request[1], records[7]);
        assert!(
            store
                .list_predictions("other", None, 10)
                .await
                .unwrap()
                .is_empty()
        );
    })
    .await;
}

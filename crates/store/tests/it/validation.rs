use bascule_core::{
    ErrorCode, MetadataStore, NewValidationRecord, PolicyFormat, Stage, ValidationRecord,
};

use crate::backends::each_backend;
use crate::fixtures::{assert_error, assert_not_found, evidence, new_version, transition};

fn record(name: &str, version: i64, passed: bool, policy: Option<i64>) -> NewValidationRecord {
    NewValidationRecord {
        name: name.to_owned(),
        version,
        report_digest: "r".repeat(64),
        profile_digest: "p".repeat(64),
        passed,
        policy_version: policy,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn policies_are_versioned_per_model() {
    each_backend(|store| async move {
        assert_not_found(
            store.get_validation_policy("churn").await,
            "registered model",
        );
        assert_not_found(
            store
                .put_validation_policy("churn", "task = 'binary'", PolicyFormat::Toml, "ada")
                .await,
            "registered model",
        );
        store
            .create_model_version(new_version("churn"))
            .await
            .expect("v1");
        assert_eq!(
            store.get_validation_policy("churn").await.expect("none"),
            None
        );

        let first = store
            .put_validation_policy("churn", "task = 'binary'", PolicyFormat::Toml, "ada")
            .await
            .expect("first policy");
        assert_eq!(first.policy_version, 1);
        let second = store
            .put_validation_policy(
                "churn",
                r#"{"task": "regression"}"#,
                PolicyFormat::Json,
                "bob",
            )
            .await
            .expect("second policy");
        assert_eq!(second.policy_version, 2);
        let newest = store
            .get_validation_policy("churn")
            .await
            .expect("read")
            .expect("a policy");
        assert_eq!(newest, second);
        assert_eq!(newest.format, PolicyFormat::Json);
        assert_eq!(newest.created_by, "bob");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_validation_is_recorded_with_its_transition() {
    each_backend(|store| async move {
        store
            .create_model_version(new_version("churn"))
            .await
            .expect("v1");
        assert_eq!(
            store.latest_validation("churn", 1).await.expect("none"),
            None
        );
        assert_not_found(store.latest_validation("churn", 9).await, "model version");
        let policy = store
            .put_validation_policy("churn", "{}", PolicyFormat::Json, "ada")
            .await
            .expect("policy");

        let mut step = transition("churn", 1, Stage::Validated);
        step.evidence = evidence("validation_report", &"r".repeat(64));
        let (stored, event) = store
            .record_validation(record("churn", 1, true, Some(policy.policy_version)), step)
            .await
            .expect("recorded");
        assert_eq!(
            (event.from, event.to),
            (Some(Stage::Prototype), Stage::Validated)
        );
        assert_eq!(stored.time, event.time);
        let latest: ValidationRecord = store
            .latest_validation("churn", 1)
            .await
            .expect("read")
            .expect("recorded");
        assert_eq!(latest, stored);
        assert!(latest.passed);
        assert_eq!(latest.policy_version, Some(1));
        assert_eq!(
            store.get_model_version("churn", 1).await.expect("v1").stage,
            Stage::Validated
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_transition_records_nothing() {
    each_backend(|store| async move {
        store
            .create_model_version(new_version("churn"))
            .await
            .expect("v1");
        store
            .transition(transition("churn", 1, Stage::Rejected))
            .await
            .expect("rejected");
        assert_error(
            store
                .record_validation(
                    record("churn", 1, true, None),
                    transition("churn", 1, Stage::Validated),
                )
                .await,
            ErrorCode::FailedPrecondition,
            &["Rejected", "Validated"],
        );
        assert_eq!(
            store.latest_validation("churn", 1).await.expect("none"),
            None
        );
        // A policy version that does not exist is refused, and the transition with it.
        store
            .create_model_version(new_version("churn"))
            .await
            .expect("v2");
        let result = store
            .record_validation(
                record("churn", 2, false, Some(7)),
                transition("churn", 2, Stage::Rejected),
            )
            .await;
        assert!(result.is_err(), "{result:?}");
        assert_eq!(
            store.get_model_version("churn", 2).await.expect("v2").stage,
            Stage::Prototype
        );
        assert_eq!(
            store
                .list_events("churn", Some(2))
                .await
                .expect("events")
                .len(),
            1
        );
        // A record of another version than the transition's is refused.
        assert_error(
            store
                .record_validation(
                    record("churn", 1, true, None),
                    transition("churn", 2, Stage::Validated),
                )
                .await,
            ErrorCode::InvalidArgument,
            &["churn/1", "churn/2"],
        );
    })
    .await;
}

use bascule_core::{ErrorCode, LifecycleState, MetadataStore, ViewType};

use crate::backends::each_backend;
use crate::fixtures::{assert_error, assert_not_found, new_run, tag};

#[tokio::test(flavor = "multi_thread")]
async fn experiments_are_created_found_and_listed() {
    each_backend(|store| async move {
        let default = store
            .get_experiment(0)
            .await
            .expect("the Default experiment exists");
        assert_eq!(default.name, "Default");
        assert_eq!(default.artifact_location, "mlflow-artifacts:/0");

        let tags = [
            tag("team", "growth"),
            tag("a", "1"),
            tag("team", "retention"),
        ];
        let churn = store
            .create_experiment("churn", None, &tags)
            .await
            .expect("created");
        assert!(churn.experiment_id > 0);
        assert_eq!(
            churn.artifact_location,
            format!("mlflow-artifacts:/{}", churn.experiment_id)
        );
        assert_eq!(churn.lifecycle_stage, LifecycleState::Active);
        assert_eq!(churn.tags, [tag("a", "1"), tag("team", "retention")]);
        assert!(churn.creation_time > 1_600_000_000_000);
        assert_eq!(churn.creation_time, churn.last_update_time);
        assert_eq!(
            store
                .get_experiment(churn.experiment_id)
                .await
                .expect("by id"),
            churn
        );
        assert_eq!(
            store
                .get_experiment_by_name("churn")
                .await
                .expect("by name"),
            churn
        );

        let fraud = store
            .create_experiment("fraud", Some("s3://bucket/fraud"), &[])
            .await
            .expect("created");
        assert_eq!(fraud.artifact_location, "s3://bucket/fraud");
        assert_ne!(fraud.experiment_id, churn.experiment_id);

        let listed = store
            .list_experiments(ViewType::ActiveOnly)
            .await
            .expect("listed");
        let names: Vec<_> = listed
            .iter()
            .map(|experiment| experiment.name.as_str())
            .collect();
        assert_eq!(names, ["Default", "churn", "fraud"]);
        assert_eq!(listed[1], churn);

        assert_not_found(store.get_experiment(9_999).await, "experiment");
        assert_not_found(store.get_experiment_by_name("nope").await, "experiment");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn experiment_names_are_unique_even_once_deleted() {
    each_backend(|store| async move {
        let churn = store
            .create_experiment("churn", None, &[])
            .await
            .expect("created");
        let duplicate = store.create_experiment("churn", None, &[]).await;
        assert_error(
            duplicate,
            ErrorCode::AlreadyExists,
            &["experiment", "churn"],
        );

        store
            .set_experiment_state(churn.experiment_id, LifecycleState::Deleted)
            .await
            .expect("deleted");
        let duplicate = store
            .create_experiment("churn", Some("elsewhere"), &[])
            .await;
        assert_error(duplicate, ErrorCode::AlreadyExists, &["churn"]);
        assert_eq!(
            store
                .list_experiments(ViewType::All)
                .await
                .expect("listed")
                .len(),
            2
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn experiments_are_renamed_to_free_names_only() {
    each_backend(|store| async move {
        let a = store
            .create_experiment("a", None, &[])
            .await
            .expect("created");
        store
            .create_experiment("b", None, &[])
            .await
            .expect("created");

        store
            .rename_experiment(a.experiment_id, "a2")
            .await
            .expect("renamed");
        let renamed = store.get_experiment(a.experiment_id).await.expect("found");
        assert_eq!(renamed.name, "a2");
        assert!(renamed.last_update_time >= a.last_update_time);
        assert_not_found(store.get_experiment_by_name("a").await, "experiment");

        let taken = store.rename_experiment(a.experiment_id, "b").await;
        assert_error(taken, ErrorCode::AlreadyExists, &["'b'"]);
        assert_eq!(
            store
                .get_experiment(a.experiment_id)
                .await
                .expect("found")
                .name,
            "a2"
        );

        assert_error(
            store.rename_experiment(9_999, "x").await,
            ErrorCode::NotFound,
            &["experiment", "9999"],
        );
        store
            .set_experiment_state(a.experiment_id, LifecycleState::Deleted)
            .await
            .expect("deleted");
        let deleted = store.rename_experiment(a.experiment_id, "a3").await;
        assert_error(deleted, ErrorCode::FailedPrecondition, &["deleted"]);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_an_experiment_deletes_its_runs_and_restoring_restores_them() {
    each_backend(|store| async move {
        let churn = store
            .create_experiment("churn", None, &[])
            .await
            .expect("created");
        let id = churn.experiment_id;
        let run = store.create_run(new_run(id, 1)).await.expect("run");

        store
            .set_experiment_state(id, LifecycleState::Deleted)
            .await
            .expect("deleted");
        let active = store
            .list_experiments(ViewType::ActiveOnly)
            .await
            .expect("listed");
        assert!(
            active
                .iter()
                .all(|experiment| experiment.experiment_id != id)
        );
        let deleted = store
            .list_experiments(ViewType::DeletedOnly)
            .await
            .expect("listed");
        assert_eq!(
            deleted.iter().map(|e| e.experiment_id).collect::<Vec<_>>(),
            [id]
        );
        assert_eq!(deleted[0].lifecycle_stage, LifecycleState::Deleted);
        assert_eq!(
            store
                .list_experiments(ViewType::All)
                .await
                .expect("listed")
                .len(),
            2
        );
        let deleted_run = store.get_run(&run.run_id).await.expect("still there");
        assert_eq!(deleted_run.lifecycle_stage, LifecycleState::Deleted);
        assert!(
            store
                .list_runs(id, ViewType::ActiveOnly)
                .await
                .expect("listed")
                .is_empty()
        );
        let no_new_runs = store.create_run(new_run(id, 2)).await;
        assert_error(no_new_runs, ErrorCode::FailedPrecondition, &["deleted"]);
        let again = store
            .set_experiment_state(id, LifecycleState::Deleted)
            .await;
        assert_error(
            again,
            ErrorCode::FailedPrecondition,
            &["is deleted", "cannot be deleted"],
        );

        store
            .set_experiment_state(id, LifecycleState::Active)
            .await
            .expect("restored");
        assert_eq!(
            store
                .get_experiment(id)
                .await
                .expect("found")
                .lifecycle_stage,
            LifecycleState::Active
        );
        let restored_run = store.get_run(&run.run_id).await.expect("found");
        assert_eq!(restored_run.lifecycle_stage, LifecycleState::Active);
        let again = store.set_experiment_state(id, LifecycleState::Active).await;
        assert_error(
            again,
            ErrorCode::FailedPrecondition,
            &["is active", "cannot be restored"],
        );

        let default = store.set_experiment_state(0, LifecycleState::Deleted).await;
        assert_error(default, ErrorCode::InvalidArgument, &["Default"]);
        assert_not_found(
            store
                .set_experiment_state(9_999, LifecycleState::Deleted)
                .await,
            "experiment",
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn experiment_tags_are_set_and_overwritten() {
    each_backend(|store| async move {
        let churn = store
            .create_experiment("churn", None, &[tag("owner", "ada")])
            .await
            .expect("created");
        let id = churn.experiment_id;
        store
            .set_experiment_tag(id, &tag("stage", "draft"))
            .await
            .expect("tagged");
        store
            .set_experiment_tag(id, &tag("stage", "final"))
            .await
            .expect("overwritten");
        let tags = store.get_experiment(id).await.expect("found").tags;
        assert_eq!(tags, [tag("owner", "ada"), tag("stage", "final")]);

        assert_not_found(
            store.set_experiment_tag(9_999, &tag("k", "v")).await,
            "experiment",
        );
        store
            .set_experiment_state(id, LifecycleState::Deleted)
            .await
            .expect("deleted");
        let deleted = store.set_experiment_tag(id, &tag("k", "v")).await;
        assert_error(deleted, ErrorCode::FailedPrecondition, &["deleted"]);
    })
    .await;
}

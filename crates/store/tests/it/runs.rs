use bascule_core::{
    ErrorCode, LifecycleState, MetadataStore, NewRun, RunStatus, RunUpdate, ViewType,
};

use crate::backends::each_backend;
use crate::fixtures::{assert_error, assert_not_found, metric, new_run, param, tag};

#[tokio::test(flavor = "multi_thread")]
async fn runs_are_created_read_and_updated() {
    each_backend(|store| async move {
        let experiment = store
            .create_experiment("churn", None, &[])
            .await
            .expect("created");
        let id = experiment.experiment_id;
        let new = NewRun {
            experiment_id: id,
            run_name: Some("baseline".to_owned()),
            user_id: Some("ada".to_owned()),
            start_time: 1_000,
            tags: vec![tag("source", "notebook")],
        };
        let run = store.create_run(new).await.expect("created");
        assert_eq!(run.run_id.len(), 32);
        assert!(
            run.run_id
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_eq!(
            run.artifact_uri,
            format!("mlflow-artifacts:/{id}/{}/artifacts", run.run_id)
        );
        assert_eq!(
            (run.run_name.as_str(), run.user_id.as_str()),
            ("baseline", "ada")
        );
        assert_eq!(
            (run.status, run.start_time, run.end_time),
            (RunStatus::Running, 1_000, None)
        );
        assert_eq!(
            run.tags,
            [tag("mlflow.runName", "baseline"), tag("source", "notebook")]
        );
        assert_eq!(store.get_run(&run.run_id).await.expect("found"), run);

        let update = RunUpdate {
            status: Some(RunStatus::Finished),
            end_time: Some(2_000),
            run_name: None,
        };
        let finished = store
            .update_run(&run.run_id, update)
            .await
            .expect("updated");
        assert_eq!(
            (finished.status, finished.end_time),
            (RunStatus::Finished, Some(2_000))
        );
        assert_eq!(finished.run_name, "baseline");
        let rename = RunUpdate {
            run_name: Some("champion".to_owned()),
            ..RunUpdate::default()
        };
        let renamed = store
            .update_run(&run.run_id, rename)
            .await
            .expect("renamed");
        assert_eq!(
            (renamed.run_name.as_str(), renamed.status),
            ("champion", RunStatus::Finished)
        );
        assert!(renamed.tags.contains(&tag("mlflow.runName", "champion")));
        assert_eq!(store.get_run(&run.run_id).await.expect("found"), renamed);

        assert_not_found(
            store.get_run("0123456789abcdef0123456789abcdef").await,
            "run",
        );
        assert_not_found(store.update_run("nope", RunUpdate::default()).await, "run");
        assert_not_found(store.create_run(new_run(9_999, 1)).await, "experiment");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn run_names_follow_the_mlflow_name_tag() {
    each_backend(|store| async move {
        let unnamed = store.create_run(new_run(0, 1)).await.expect("created");
        assert!(!unnamed.run_name.is_empty());
        assert_eq!(unnamed.tags, [tag("mlflow.runName", &unnamed.run_name)]);

        let mut from_tag = new_run(0, 2);
        from_tag.tags = vec![tag("mlflow.runName", "from-tag")];
        assert_eq!(
            store.create_run(from_tag).await.expect("created").run_name,
            "from-tag"
        );

        let mut conflicting = new_run(0, 3);
        conflicting.run_name = Some("one".to_owned());
        conflicting.tags = vec![tag("mlflow.runName", "other")];
        assert_error(
            store.create_run(conflicting).await,
            ErrorCode::InvalidArgument,
            &["one", "other"],
        );

        let renamed_by_tag = [tag("mlflow.runName", "renamed")];
        store
            .log_batch(&unnamed.run_id, &[], &[], &renamed_by_tag)
            .await
            .expect("logged");
        assert_eq!(
            store
                .get_run(&unnamed.run_id)
                .await
                .expect("found")
                .run_name,
            "renamed"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn deleted_runs_are_kept_listed_on_request_and_read_only() {
    each_backend(|store| async move {
        let run = store.create_run(new_run(0, 1)).await.expect("created");
        let other = store.create_run(new_run(0, 2)).await.expect("created");

        store
            .set_run_state(&run.run_id, LifecycleState::Deleted)
            .await
            .expect("deleted");
        assert_eq!(
            store
                .get_run(&run.run_id)
                .await
                .expect("kept")
                .lifecycle_stage,
            LifecycleState::Deleted
        );
        let ids = |runs: bascule_core::Result<Vec<bascule_core::Run>>| {
            let runs = runs.expect("listed");
            runs.into_iter().map(|run| run.run_id).collect::<Vec<_>>()
        };
        let active = ids(store.list_runs(0, ViewType::ActiveOnly).await);
        assert_eq!(active, [other.run_id.as_str()]);
        let deleted = ids(store.list_runs(0, ViewType::DeletedOnly).await);
        assert_eq!(deleted, [run.run_id.as_str()]);
        let all = ids(store.list_runs(0, ViewType::All).await);
        assert_eq!(
            all,
            [other.run_id.as_str(), run.run_id.as_str()],
            "newest first"
        );

        let logging = store
            .log_batch(&run.run_id, &[metric("loss", 1.0, 1, 0)], &[], &[])
            .await;
        assert_error(
            logging,
            ErrorCode::FailedPrecondition,
            &[&run.run_id, "deleted"],
        );
        let update = store.update_run(&run.run_id, RunUpdate::default()).await;
        assert_error(update, ErrorCode::FailedPrecondition, &["deleted"]);
        assert_error(
            store.delete_run_tag(&run.run_id, "k").await,
            ErrorCode::FailedPrecondition,
            &["deleted"],
        );

        store
            .set_run_state(&run.run_id, LifecycleState::Active)
            .await
            .expect("restored");
        store
            .log_batch(&run.run_id, &[metric("loss", 1.0, 1, 0)], &[], &[])
            .await
            .expect("logged");
        assert_not_found(
            store.set_run_state("nope", LifecycleState::Deleted).await,
            "run",
        );
        assert_not_found(store.list_runs(9_999, ViewType::All).await, "experiment");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn listed_runs_carry_their_own_metrics_params_and_tags() {
    each_backend(|store| async move {
        let experiment = store
            .create_experiment("many", None, &[])
            .await
            .expect("created");
        let mut run_ids = Vec::new();
        for i in 0..20_i64 {
            let run = store
                .create_run(new_run(experiment.experiment_id, i))
                .await
                .expect("created");
            let metrics = [metric("loss", i as f64, 10, 0), metric("loss", -1.0, 5, 0)];
            let params = [param("seed", &i.to_string())];
            store
                .log_batch(&run.run_id, &metrics, &params, &[tag("i", &i.to_string())])
                .await
                .expect("logged");
            run_ids.push(run.run_id);
        }
        let runs = store
            .list_runs(experiment.experiment_id, ViewType::ActiveOnly)
            .await
            .expect("listed");
        assert_eq!(runs.len(), 20);
        for (position, run) in runs.iter().enumerate() {
            let i = 19 - position as i64;
            assert_eq!(run.run_id, run_ids[i as usize], "newest first");
            assert_eq!(run.metrics, [metric("loss", i as f64, 10, 0)]);
            assert_eq!(run.params, [param("seed", &i.to_string())]);
            assert!(run.tags.contains(&tag("i", &i.to_string())));
            assert_eq!(run, &store.get_run(&run.run_id).await.expect("found"));
        }
    })
    .await;
}

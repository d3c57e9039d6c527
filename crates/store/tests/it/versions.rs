use bascule_core::{
    DataType, ErrorCode, Lineage, MetadataStore, ModelFormat, ModelVersionStatus, Signature, Stage,
    TensorSpec,
};

use crate::backends::each_backend;
use crate::fixtures::{assert_error, assert_not_found, file, new_version, tag};

#[tokio::test(flavor = "multi_thread")]
async fn versions_are_numbered_one_two_three() {
    each_backend(|store| async move {
        let mut without_model = new_version("churn");
        without_model.create_model = false;
        assert_not_found(
            store.create_model_version(without_model.clone()).await,
            "registered model",
        );
        assert_not_found(
            store.get_registered_model("churn").await,
            "registered model",
        );

        for expected in 1..=3 {
            let version = store
                .create_model_version(new_version("churn"))
                .await
                .expect("registered");
            assert_eq!(version.version, expected);
            assert_eq!(version.stage, Stage::Prototype);
        }
        let fourth = store
            .create_model_version(without_model)
            .await
            .expect("the model exists now");
        assert_eq!(fourth.version, 4);
        let other = store
            .create_model_version(new_version("anomaly"))
            .await
            .expect("registered");
        assert_eq!(other.version, 1, "numbering is per model");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn concurrent_registrations_get_distinct_consecutive_numbers() {
    each_backend(|store| async move {
        store
            .create_model_version(new_version("churn"))
            .await
            .expect("v1");
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..8 {
            let store = store.clone();
            tasks.spawn(async move {
                // Half of them also race to create the (new) model.
                let name = if i % 2 == 0 { "churn" } else { "fresh" };
                (
                    name,
                    store
                        .create_model_version(new_version(name))
                        .await
                        .expect("registered")
                        .version,
                )
            });
        }
        let mut churn = Vec::new();
        let mut fresh = Vec::new();
        while let Some(outcome) = tasks.join_next().await {
            match outcome.expect("task finished") {
                ("churn", version) => churn.push(version),
                (_, version) => fresh.push(version),
            }
        }
        churn.sort_unstable();
        fresh.sort_unstable();
        assert_eq!(churn, [2, 3, 4, 5]);
        assert_eq!(fresh, [1, 2, 3, 4]);
        assert_eq!(
            store
                .list_model_versions("churn")
                .await
                .expect("listed")
                .len(),
            5
        );
        assert_eq!(
            store
                .list_events("fresh", None)
                .await
                .expect("events")
                .len(),
            4
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_parent_must_be_an_existing_version_of_the_same_model() {
    each_backend(|store| async move {
        store
            .create_model_version(new_version("churn"))
            .await
            .expect("v1");
        store
            .create_model_version(new_version("anomaly"))
            .await
            .expect("anomaly v1");
        store
            .create_model_version(new_version("anomaly"))
            .await
            .expect("anomaly v2");

        let mut orphan = new_version("churn");
        orphan.lineage.parent_version = Some(2);
        assert_error(
            store.create_model_version(orphan).await,
            ErrorCode::NotFound,
            &["model version", "churn/2"],
        );
        assert_eq!(
            store
                .list_model_versions("churn")
                .await
                .expect("listed")
                .len(),
            1,
            "nothing written"
        );
        assert_eq!(
            store
                .list_events("churn", None)
                .await
                .expect("events")
                .len(),
            1
        );

        let mut child = new_version("churn");
        child.lineage.parent_version = Some(1);
        let child = store.create_model_version(child).await.expect("registered");
        assert_eq!((child.version, child.lineage.parent_version), (2, Some(1)));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn files_lineage_signature_and_tags_round_trip() {
    each_backend(|store| async move {
        let run = store
            .create_run(crate::fixtures::new_run(0, 1))
            .await
            .expect("run");
        store
            .create_model_version(new_version("churn"))
            .await
            .expect("v1");
        let signature = Signature {
            inputs: vec![TensorSpec {
                name: "x".into(),
                datatype: DataType::Fp32,
                shape: vec![-1, 4],
            }],
            outputs: vec![TensorSpec {
                name: "label".into(),
                datatype: DataType::Int64,
                shape: vec![-1],
            }],
        };
        let mut new = new_version("churn");
        new.description = "retrained on March data".into();
        new.source = format!("runs:/{}/model", run.run_id);
        new.run_id = Some(run.run_id.clone());
        new.format = ModelFormat::Other;
        new.lineage = Lineage {
            parent_version: Some(1),
            data_digest: Some("d".repeat(64)),
            code_ref: Some("git:abc123".into()),
        };
        new.signature = Some(signature.clone());
        new.files = vec![
            file("model.onnx", 'b', 4_000_000_000),
            file("MLmodel", 'c', 312),
            file("conda.yaml", 'e', 0),
        ];
        new.tags = vec![
            tag("owner", "ada"),
            tag("owner", "grace"),
            tag("data", "march"),
        ];
        new.actor = "grace".into();

        let created = store
            .create_model_version(new.clone())
            .await
            .expect("registered");
        assert_eq!(created.name, "churn");
        assert_eq!(created.version, 2);
        assert_eq!(created.description, new.description);
        assert_eq!(created.source, new.source);
        assert_eq!(created.run_id, new.run_id);
        assert_eq!(
            (created.status, created.stage, created.format),
            (
                ModelVersionStatus::Ready,
                Stage::Prototype,
                ModelFormat::Other
            )
        );
        assert_eq!(created.lineage, new.lineage);
        assert_eq!(created.signature, Some(signature));
        let mut files = new.files.clone();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        assert_eq!(created.files, files, "files come back sorted by path");
        assert_eq!(created.tags, [tag("data", "march"), tag("owner", "grace")]);
        assert!(created.aliases.is_empty());
        assert_eq!(created.created_by, "grace");
        assert_eq!(created.creation_time, created.last_updated_time);

        assert_eq!(
            store.get_model_version("churn", 2).await.expect("found"),
            created
        );
        let listed = store.list_model_versions("churn").await.expect("listed");
        assert_eq!(listed.iter().map(|v| v.version).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(listed[1], created);
        assert_eq!(listed[0].signature, None);
        assert_eq!(listed[0].lineage, Lineage::default());

        let mut twice = new_version("churn");
        twice.files.push(file("model.onnx", 'f', 1));
        assert_error(
            store.create_model_version(twice).await,
            ErrorCode::InvalidArgument,
            &["model.onnx", "twice"],
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn version_tags_and_unknown_versions() {
    each_backend(|store| async move {
        store
            .create_model_version(new_version("churn"))
            .await
            .expect("v1");
        store
            .set_model_version_tag("churn", 1, &tag("validated_by", "gate"))
            .await
            .expect("tagged");
        store
            .set_model_version_tag("churn", 1, &tag("validated_by", "human"))
            .await
            .expect("overwritten");
        assert_eq!(
            store
                .get_model_version("churn", 1)
                .await
                .expect("found")
                .tags,
            [tag("validated_by", "human")]
        );

        assert_error(
            store.get_model_version("churn", 7).await,
            ErrorCode::NotFound,
            &["model version", "churn/7"],
        );
        assert_not_found(store.get_model_version("nope", 1).await, "registered model");
        assert_not_found(
            store
                .set_model_version_tag("churn", 7, &tag("k", "v"))
                .await,
            "model version",
        );
        assert_not_found(store.list_model_versions("nope").await, "registered model");
        store
            .create_registered_model("empty", "", &[])
            .await
            .expect("created");
        assert!(
            store
                .list_model_versions("empty")
                .await
                .expect("listed")
                .is_empty()
        );
    })
    .await;
}

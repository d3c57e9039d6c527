//! The registry and lifecycle rules over real stores and the real tract engine.

#![allow(clippy::unwrap_used)]

mod serving;

use std::path::PathBuf;
use std::sync::Arc;

use bascule_artifacts::ObjectArtifactStore;
use bascule_core::{Coded, ErrorCode, Evidence, Lineage, Stage, Transition};
use bascule_lifecycle::{ENGINE_TAG, Engines, LifecycleError, RegisterRequest, Registry, Upload};
use bascule_runtime::{OrtConfig, OrtEngine, TractEngine};
use bascule_store::SqlMetadataStore;
use bytes::Bytes;

mod gate;

async fn registry() -> (tempfile::TempDir, Registry) {
    registry_with(engines()).await
}

async fn registry_with(engines: Engines) -> (tempfile::TempDir, Registry) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("bascule.db").display());
    let store = SqlMetadataStore::connect(&url).await.expect("store");
    let artifacts = ObjectArtifactStore::local(&dir.path().join("artifacts")).expect("artifacts");
    (
        dir,
        Registry::new(Arc::new(store), Arc::new(artifacts), engines),
    )
}

fn fixture(path: &str) -> Bytes {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(path);
    Bytes::from(std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

async fn register(
    registry: &Registry,
    name: &str,
    file: &str,
    parent: Option<i64>,
) -> Result<i64, LifecycleError> {
    let bytes = fixture(file);
    let stream: bascule_core::ByteStream<'static> = Box::pin(futures::stream::iter([Ok(bytes)]));
    let upload = registry.upload_file("model.onnx", stream).await?;
    let version = registry
        .register(RegisterRequest {
            name: name.to_owned(),
            upload: Upload::Onnx(upload),
            description: String::new(),
            source: file.to_owned(),
            run_id: None,
            lineage: Lineage {
                parent_version: parent,
                ..Lineage::default()
            },
            actor: "tester".to_owned(),
            engine: None,
        })
        .await?;
    Ok(version.version)
}

fn transition(name: &str, version: i64, to: Stage, reason: &str) -> Transition {
    Transition {
        name: name.to_owned(),
        version,
        to,
        actor: "gate".to_owned(),
        reason: reason.to_owned(),
        evidence: Some(Evidence {
            kind: "validation_report".to_owned(),
            reference: "report-1".to_owned(),
        }),
    }
}

#[tokio::test]
async fn the_deployment_guard_refuses_unvalidated_versions() {
    let (_dir, registry) = registry().await;
    let v1 = register(&registry, "bc", "logistic/model.onnx", None)
        .await
        .unwrap();
    let err = registry.ensure_deployable("bc", v1).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::FailedPrecondition);
    assert!(err.to_string().contains("Prototype"), "{err}");

    registry
        .transition(transition("bc", v1, Stage::Validated, "all checks passed"))
        .await
        .unwrap();
    assert_eq!(
        registry.ensure_deployable("bc", v1).await.unwrap().stage,
        Stage::Validated
    );

    let v2 = register(&registry, "bc", "weak/model.onnx", Some(v1))
        .await
        .unwrap();
    registry
        .transition(transition(
            "bc",
            v2,
            Stage::Rejected,
            "accuracy below threshold",
        ))
        .await
        .unwrap();
    let err = registry.ensure_deployable("bc", v2).await.unwrap_err();
    assert!(err.to_string().contains("Rejected"), "{err}");
}

#[tokio::test]
async fn transitions_are_recorded_and_illegal_ones_refused() {
    let (_dir, registry) = registry().await;
    let v1 = register(&registry, "bc", "logistic/model.onnx", None)
        .await
        .unwrap();
    let err = registry
        .transition(transition("bc", v1, Stage::Deployed, "skip the gate"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::FailedPrecondition);
    let message = err.to_string();
    assert!(
        message.contains("Prototype") && message.contains("Deployed"),
        "{message}"
    );

    for (to, reason) in [
        (Stage::Validated, "passed"),
        (Stage::Deployed, "live"),
        (Stage::Monitored, "observed"),
    ] {
        registry
            .transition(transition("bc", v1, to, reason))
            .await
            .unwrap();
    }
    let events = registry.events("bc", Some(v1)).await.unwrap();
    let stages: Vec<_> = events.iter().map(|e| (e.from, e.to)).collect();
    assert_eq!(
        stages,
        vec![
            (None, Stage::Prototype),
            (Some(Stage::Prototype), Stage::Validated),
            (Some(Stage::Validated), Stage::Deployed),
            (Some(Stage::Deployed), Stage::Monitored),
        ]
    );
    assert_eq!(events[1].actor, "gate");
    assert_eq!(
        events[1].evidence.as_ref().map(|e| e.kind.as_str()),
        Some("validation_report")
    );
    assert_eq!(events[0].actor, "tester");

    // Improved needs a parent.
    let v2 = register(&registry, "bc", "mlp/model.onnx", None)
        .await
        .unwrap();
    registry
        .transition(transition("bc", v2, Stage::Validated, "passed"))
        .await
        .unwrap();
    let err = registry
        .transition(transition("bc", v2, Stage::Improved, "better"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("parent"), "{err}");
    let v3 = register(&registry, "bc", "mlp/model.onnx", Some(v1))
        .await
        .unwrap();
    registry
        .transition(transition("bc", v3, Stage::Validated, "passed"))
        .await
        .unwrap();
    registry
        .transition(transition("bc", v3, Stage::Improved, "beats v1"))
        .await
        .unwrap();
    assert_eq!(
        registry.ensure_deployable("bc", v3).await.unwrap().stage,
        Stage::Improved
    );
}

#[tokio::test]
async fn unknown_models_and_versions() {
    let (_dir, registry) = registry().await;
    assert_eq!(
        registry.get_version("nope", 1).await.unwrap_err().code(),
        ErrorCode::NotFound
    );
    assert_eq!(
        registry.events("nope", None).await.unwrap_err().code(),
        ErrorCode::NotFound
    );
    assert_eq!(
        registry.list_versions("nope").await.unwrap_err().code(),
        ErrorCode::NotFound
    );
    let err = register(&registry, "bc", "logistic/model.onnx", Some(4))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound);
    // The refused registration created nothing, not even the model.
    assert_eq!(
        registry.get_model("bc").await.unwrap_err().code(),
        ErrorCode::NotFound
    );
}

#[tokio::test]
async fn unsupported_operators_are_refused_before_anything_is_recorded() {
    let (_dir, registry) = registry_with(Engines::new(Arc::new(TractEngine::new()))).await;
    let err = register(&registry, "svr", "unsupported/model.onnx", None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
    assert!(
        err.to_string().contains("operator SVMRegressor")
            && err.to_string().contains("(domain ai.onnx.ml)"),
        "{err}"
    );
    assert!(registry.list_models().await.unwrap().is_empty());
}

#[tokio::test]
async fn each_version_records_the_engine_that_serves_it() {
    let (_dir, registry) = registry().await;
    let v1 = register(&registry, "bc", "logistic/model.onnx", None)
        .await
        .unwrap();
    let version = registry.get_version("bc", v1).await.unwrap();
    let engine = |v: &bascule_core::ModelVersion| {
        v.tags
            .iter()
            .find(|t| t.key == ENGINE_TAG)
            .map(|t| t.value.clone())
    };
    assert_eq!(engine(&version).as_deref(), Some("tract"));

    let Some(library) = bascule_runtime::onnxruntime_library_from_env() else {
        eprintln!(
            "BASCULE_ONNXRUNTIME_LIB is not set: the onnxruntime half of this test is skipped"
        );
        return;
    };
    // A model tract cannot run (an SVM) is served by onnxruntime when it is configured.
    let v = register(&registry, "svr", "unsupported/model.onnx", None)
        .await
        .unwrap();
    let svr = registry.get_version("svr", v).await.unwrap();
    assert_eq!(engine(&svr).as_deref(), Some("onnxruntime"));
    assert!(registry.load("svr", v).await.is_ok());

    // A registry that has tract alone cannot serve it, and says which engine it needs.
    let tract_only = Registry::new(
        registry.store().clone(),
        registry.artifacts().clone(),
        Engines::new(Arc::new(TractEngine::new())),
    );
    let err = tract_only.load("svr", v).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::FailedPrecondition, "{err}");
    assert!(
        err.to_string()
            .contains("onnxruntime engine is not configured"),
        "{err}"
    );
    drop(library);
}

#[tokio::test]
async fn loaded_models_are_cached_per_version() {
    let (_dir, registry) = registry().await;
    let v1 = register(&registry, "bc", "logistic/model.onnx", None)
        .await
        .unwrap();
    let first = registry.load("bc", v1).await.unwrap();
    let second = registry.load("bc", v1).await.unwrap();
    assert!(Arc::ptr_eq(&first, &second));
    assert_eq!(first.signature().inputs[0].shape, vec![-1, 30]);
}

/// tract, and onnxruntime after it when the environment names its library (CI does), so
/// the gate's engine-agreement check runs on both.
pub fn engines() -> Engines {
    let engines = Engines::new(Arc::new(TractEngine::new()));
    match bascule_runtime::onnxruntime_library_from_env() {
        Some(library) => engines.with(Arc::new(
            OrtEngine::new(OrtConfig::new(library)).expect("the configured onnxruntime loads"),
        )),
        None => engines,
    }
}

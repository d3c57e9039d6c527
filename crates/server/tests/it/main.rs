//! The real router, in-process, over real stores (SQLite in a temp dir, a local artifact
//! folder) and the real tract engine, on the real fixtures.

#![allow(clippy::unwrap_used)]

mod invocations;
mod metrics;
mod mlflow;
mod monitoring;
mod oip;
mod registry;
mod rollout;
mod ui;
mod validation;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use bascule_artifacts::ObjectArtifactStore;
use bascule_core::{Stage, Transition};
use bascule_lifecycle::serving::{Serving, ServingConfig};
use bascule_lifecycle::{Engines, Registry};
use bascule_runtime::{OrtConfig, OrtEngine, TractEngine};
use bascule_server::{AppState, ServerConfig, app};
use bascule_store::SqlMetadataStore;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

#[derive(Debug)]
pub struct TestApp {
    pub dir: tempfile::TempDir,
    pub router: Router,
    pub registry: Registry,
    pub serving: Serving,
}

pub async fn test_app() -> TestApp {
    test_app_with(ServerConfig::default()).await
}

pub async fn test_app_with(config: ServerConfig) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("bascule.db").display());
    let store = SqlMetadataStore::connect(&url).await.expect("sqlite store");
    let artifacts =
        ObjectArtifactStore::local(&dir.path().join("artifacts")).expect("artifact store");
    let registry = Registry::new(Arc::new(store), Arc::new(artifacts), engines());
    let serving = Serving::start(registry.clone(), ServingConfig::default())
        .await
        .expect("serving starts");
    let router = app(AppState::new(registry.clone(), config, serving.clone()));
    TestApp {
        dir,
        router,
        registry,
        serving,
    }
}

pub fn fixture(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(path)
}

pub fn fixture_bytes(path: &str) -> Vec<u8> {
    std::fs::read(fixture(path)).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}

impl TestApp {
    pub async fn send(&self, request: Request<Body>) -> (StatusCode, Value) {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap_or_default().to_owned())
            .unwrap_or_default();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        if bytes.is_empty() {
            return (status, Value::Null);
        }
        assert!(
            content_type.starts_with("application/json"),
            "{status}: content type {content_type}"
        );
        (status, serde_json::from_slice(&bytes).expect("JSON body"))
    }

    pub async fn get(&self, uri: &str) -> (StatusCode, Value) {
        self.send(Request::get(uri).body(Body::empty()).expect("request"))
            .await
    }

    pub async fn post_json(&self, uri: &str, body: Value) -> (StatusCode, Value) {
        let request = Request::post(uri)
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .expect("request");
        self.send(request).await
    }

    pub async fn upload(&self, uri: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
        let request = Request::post(uri)
            .header("content-type", "application/octet-stream")
            .header("x-bascule-actor", "alice")
            .body(Body::from(bytes))
            .expect("request");
        self.send(request).await
    }
}

/// Asserts an error response in Bascule's format and returns its message.
pub fn error_message(status: StatusCode, body: &Value, expected: StatusCode, code: &str) -> String {
    assert_eq!(status, expected, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    body["error"]["message"]
        .as_str()
        .expect("message")
        .to_owned()
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

/// Registers `fixture` as versions 1..=n of `name`, all Validated.
pub async fn validated(app: &TestApp, name: &str, fixture: &str, n: i64) {
    for version in 1..=n {
        let (status, body) = app
            .upload(
                &format!("/api/v1/models/{name}/versions"),
                fixture_bytes(&format!("{fixture}/model.onnx")),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        app.registry
            .transition(Transition {
                name: name.into(),
                version,
                to: Stage::Validated,
                actor: "gate".into(),
                reason: "passed".into(),
                evidence: None,
            })
            .await
            .unwrap();
    }
}

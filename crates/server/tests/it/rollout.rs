//! Deploy, promote and rollback while requests are in flight: no request fails, and a
//! rollback takes effect at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::{fixture, test_app};

fn first_row() -> Vec<f32> {
    let text = std::fs::read_to_string(fixture("logistic/holdout.csv")).unwrap();
    text.lines()
        .nth(1)
        .unwrap()
        .split(',')
        .take(30)
        .map(|v| v.parse().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rollback_under_load_fails_no_request() {
    let app = Arc::new(test_app().await);
    crate::validated(&app, "bc", "logistic", 2).await;
    let (status, body) = app
        .post_json("/api/v1/deployments", json!({"name": "bc", "version": 1}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let body = json!({
        "inputs": [{"name": "input", "shape": [1, 30], "datatype": "FP32", "data": first_row()}]
    })
    .to_string();
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicU64::new(0));
    // The newest version each client saw, to see the swaps happen under load.
    let mut clients = Vec::new();
    for _ in 0..8 {
        let (app, body, stop, answered) =
            (app.clone(), body.clone(), stop.clone(), answered.clone());
        clients.push(tokio::spawn(async move {
            let mut failures = Vec::new();
            let mut versions = std::collections::BTreeSet::new();
            while !stop.load(Ordering::Relaxed) {
                let request = Request::post("/v2/models/bc/infer")
                    .header("content-type", "application/json")
                    .body(Body::from(body.clone()))
                    .unwrap();
                let response = app.router.clone().oneshot(request).await.unwrap();
                let status = response.status();
                let bytes = response.into_body().collect().await.unwrap().to_bytes();
                if status == StatusCode::OK {
                    let answer: Value = serde_json::from_slice(&bytes).unwrap();
                    versions.insert(answer["model_version"].as_str().unwrap().to_owned());
                    answered.fetch_add(1, Ordering::Relaxed);
                } else {
                    failures.push(format!("{status}: {}", String::from_utf8_lossy(&bytes)));
                }
            }
            (failures, versions)
        }));
    }

    tokio::time::sleep(Duration::from_millis(150)).await;
    let (status, body) = app
        .post_json("/api/v1/deployments", json!({"name": "bc", "version": 2}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    tokio::time::sleep(Duration::from_millis(150)).await;

    let started = Instant::now();
    let (status, body) = app
        .post_json("/api/v1/deployments/bc/rollback", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The next request after the rollback answers is served by version 1.
    let request = Request::post("/v2/models/bc/infer")
        .header("content-type", "application/json")
        .body(Body::from(
            json!({"inputs": [{"name": "input", "shape": [1, 30], "datatype": "FP32", "data": first_row()}]})
                .to_string(),
        ))
        .unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let answer: Value = serde_json::from_slice(&bytes).unwrap();
    let took = started.elapsed();
    eprintln!("rollback answered by version 1 after {took:?}");
    assert_eq!(answer["model_version"], "1", "{answer}");
    assert!(took < Duration::from_secs(1), "rollback took {took:?}");
    tokio::time::sleep(Duration::from_millis(150)).await;

    stop.store(true, Ordering::Relaxed);
    let mut seen = std::collections::BTreeSet::new();
    for client in clients {
        let (failures, versions) = client.await.unwrap();
        assert!(failures.is_empty(), "failed requests: {failures:?}");
        seen.extend(versions);
    }
    assert!(answered.load(Ordering::Relaxed) > 100);
    assert_eq!(seen.into_iter().collect::<Vec<_>>(), ["1", "2"]);

    // Every answered request is in the prediction log.
    let stats = app.serving.shutdown().await;
    assert_eq!(stats.shed, 0);
    assert_eq!(stats.written, answered.load(Ordering::Relaxed) + 1);
}

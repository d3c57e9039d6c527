//! Monitoring end to end on real data: the rainfall model, validated on days 6000..12000,
//! serves replayed days as live traffic. Days drawn from the validation period stay
//! quiet; days from 12000 on raise a drift alert naming dew point; their labels show the
//! live ROC AUC collapse.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use bascule_artifacts::ObjectArtifactStore;
use bascule_core::Stage;
use bascule_lifecycle::Registry;
use bascule_store::SqlMetadataStore;
use serde_json::{Value, json};

use crate::{TestApp, engines, error_message, fixture, fixture_bytes, test_app};

/// The vendored rainfall days: 8 features (the pandas index and `rain` dropped), label.
pub fn rainfall() -> Vec<(Vec<f32>, f64)> {
    let path = fixture("../datasets/rainfall/rainfall.csv");
    let text = std::fs::read_to_string(path).expect("the vendored rainfall data set");
    text.lines()
        .skip(1)
        .map(|line| {
            let fields: Vec<f64> = line
                .split(',')
                .map(|v| v.parse().expect("number"))
                .collect();
            let features = fields[1..9].iter().map(|&v| v as f32).collect();
            (features, fields[9])
        })
        .collect()
}

pub const POLICY: &str = r#"
thresholds = { roc_auc = 0.75 }

[monitoring]
window = 500
# Replayed days arrive faster than one window per default interval: back to back.
window_interval_seconds = 0
"#;

pub async fn deployed_rainfall(app: &TestApp, policy: &str) {
    let request = Request::put("/api/v1/models/rain/policy")
        .header("content-type", "application/toml")
        .body(Body::from(policy.to_owned()))
        .expect("request");
    let (status, body) = app.send(request).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no model yet: {body}");
    let (status, body) = app
        .upload(
            "/api/v1/models/rain/versions",
            fixture_bytes("rainfall/model.onnx"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let request = Request::put("/api/v1/models/rain/policy")
        .header("content-type", "application/toml")
        .body(Body::from(policy.to_owned()))
        .expect("request");
    let (status, body) = app.send(request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    validate_rainfall(app, 1).await;
    let (status, body) = app
        .post_json("/api/v1/deployments", json!({"name": "rain", "version": 1}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// Validates a version of `rain` on the rainfall holdout; it must pass.
pub async fn validate_rainfall(app: &TestApp, version: i64) {
    let request = Request::post(format!("/api/v1/models/rain/versions/{version}/validate"))
        .header("content-type", "text/csv")
        .body(Body::from(fixture_bytes("rainfall/holdout.csv")))
        .expect("request");
    let (status, body) = app.send(request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["report"]["decision"], "Validated", "{body}");
}

/// Sends the given days one request each, with request ids `day-N`.
pub async fn replay(
    app: &TestApp,
    days: &[(Vec<f32>, f64)],
    which: impl IntoIterator<Item = usize>,
) {
    for day in which {
        let body = json!({
            "id": format!("day-{day}"),
            "inputs": [{"name": "input", "shape": [1, 8], "datatype": "FP32", "data": days[day].0}]
        });
        let (status, answer) = app.post_json("/v2/models/rain/infer", body).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    assert!(
        app.serving.flush_log(Duration::from_secs(10)).await,
        "the prediction log stores every answer"
    );
}

/// `n` days of 6000..12000 in a fixed pseudo-random order (a linear congruential walk).
pub fn shuffled_validation_days(n: usize) -> Vec<usize> {
    let mut state: u64 = 20_261_127;
    let mut days: Vec<usize> = (6000..12000).collect();
    for i in (1..days.len()).rev() {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let j = ((state >> 33) as usize) % (i + 1);
        days.swap(i, j);
    }
    days.truncate(n);
    days
}

async fn open_alerts(app: &TestApp) -> Vec<Value> {
    let (status, body) = app.get("/api/v1/models/rain/alerts?state=open").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["alerts"].as_array().cloned().unwrap_or_default()
}

fn rule_names(alerts: &[Value]) -> Vec<String> {
    let mut names: Vec<String> = alerts
        .iter()
        .map(|a| a["rule"].as_str().unwrap_or_default().to_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_from_day_12000_alerts_on_dew_point_and_labels_show_the_drop() {
    let app = test_app().await;
    deployed_rainfall(&app, POLICY).await;
    let days = rainfall();

    // Traffic drawn from the validation period's days, in a seeded random order, is in
    // distribution: two windows, no false alarm. (Consecutive days would not do: 500 days
    // do not cover whole seasons, and visibility moved within the validation period.)
    replay(&app, &days, shuffled_validation_days(1000)).await;
    let summary = app.registry.watch_once().await.expect("monitoring pass");
    assert_eq!(summary.windows, 2, "{summary:?}");
    assert_eq!(rule_names(&open_alerts(&app).await), Vec::<String>::new());
    let version = app
        .registry
        .store()
        .get_model_version("rain", 1)
        .await
        .unwrap();
    assert_eq!(version.stage, Stage::Monitored, "the first window moves it");

    // Days from 12000 on: the drift alerts open, naming dew point.
    replay(&app, &days, 12000..13000).await;
    let summary = app.registry.watch_once().await.expect("monitoring pass");
    assert_eq!(summary.windows, 2, "{summary:?}");
    let alerts = open_alerts(&app).await;
    assert_eq!(
        rule_names(&alerts),
        vec!["drift_share".to_owned(), "feature_drift".to_owned()],
        "{alerts:?}"
    );
    let feature_alert = alerts
        .iter()
        .find(|a| a["rule"] == "feature_drift")
        .unwrap();
    assert!(
        feature_alert["message"]
            .as_str()
            .unwrap()
            .contains("dew point"),
        "{feature_alert}"
    );
    // Deduplicated: one open alert per rule however many windows fire it.
    let first_alert_id = feature_alert["id"].clone();
    replay(&app, &days, 13000..13500).await;
    app.registry.watch_once().await.expect("monitoring pass");
    let alerts = open_alerts(&app).await;
    assert_eq!(alerts.len(), 2, "{alerts:?}");
    let again = alerts
        .iter()
        .find(|a| a["rule"] == "feature_drift")
        .unwrap();
    assert_eq!(again["id"], first_alert_id);
    assert_ne!(again["last_window_id"], again["window_id"]);

    // The evidence: the window that opened it, with per-feature verdicts.
    let (status, window) = app
        .get(&format!(
            "/api/v1/models/rain/windows/{}",
            again["window_id"]
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{window}");
    assert_eq!(window["n_predictions"], 500);
    assert!(window["drift_share"].as_f64().unwrap() >= 0.3, "{window}");

    // Labels arrive later (and one for a request never made).
    let mut labels: Vec<Value> = (12000..13500)
        .map(|day| json!({"request_id": format!("day-{day}"), "label": days[day].1}))
        .collect();
    labels.push(json!({"request_id": "no-such-request", "label": 1}));
    let (status, receipt) = app
        .post_json("/api/v1/models/rain/labels", json!(labels))
        .await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    assert_eq!(receipt["stored"], 1501);
    assert_eq!(receipt["unknown"], 1);
    assert_eq!(receipt["unknown_examples"], json!(["no-such-request"]));
    let summary = app.registry.watch_once().await.expect("monitoring pass");
    assert_eq!(summary.relabelled, 3, "{summary:?}");
    let alerts = open_alerts(&app).await;
    let drop = alerts
        .iter()
        .find(|a| a["rule"] == "metric_drop:roc_auc")
        .unwrap_or_else(|| panic!("a performance alert: {alerts:?}"));
    assert!(drop["value"].as_f64().unwrap() > 0.5, "{drop}");

    let (status, windows) = app.get("/api/v1/models/rain/windows?limit=3").await;
    assert_eq!(status, StatusCode::OK);
    for window in windows["windows"].as_array().unwrap() {
        assert_eq!(window["n_labelled"], 500, "{window}");
        let roc_auc = window["report"]["performance"]["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == "roc_auc")
            .unwrap()
            .clone();
        assert!(roc_auc["value"].as_f64().unwrap() < 0.4, "{roc_auc}");
        assert!(roc_auc["validation"].as_f64().unwrap() > 0.8, "{roc_auc}");
    }
    let (status, summary) = app.get("/api/v1/models/rain/labels").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            summary["labels"].clone(),
            summary["matched"].clone(),
            summary["unmatched"].clone()
        ),
        (json!(1501), json!(1500), json!(1))
    );

    // Undeployed, the version can no longer clear or confirm its alerts: they resolve.
    let (status, body) = app
        .send(
            Request::delete("/api/v1/deployments/rain")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.registry.watch_once().await.expect("monitoring pass");
    assert_eq!(open_alerts(&app).await, Vec::<Value>::new());
    let (_, resolved) = app.get("/api/v1/models/rain/alerts?state=resolved").await;
    assert!(
        resolved["alerts"].as_array().unwrap().len() >= 3,
        "{resolved}"
    );
}

#[tokio::test]
async fn bad_labels_are_refused_whole_with_reasons() {
    let app = test_app().await;
    let (status, body) = app
        .post_json(
            "/api/v1/models/nope/labels",
            json!([{"request_id": "a", "label": 1}]),
        )
        .await;
    error_message(status, &body, StatusCode::NOT_FOUND, "NOT_FOUND");
    deployed_rainfall(&app, POLICY).await;
    let cases = [
        (json!([]), "no labels"),
        (json!([{"label": 1}]), "labels[0]: missing request_id"),
        (
            json!([{"request_id": 7, "label": 1}]),
            "request_id must be a string",
        ),
        (
            json!([{"request_id": "a", "label": 1}, {"request_id": "b", "label": "yes"}]),
            "labels[1]: label must be a number",
        ),
        (json!([{"request_id": "a"}]), "missing label"),
        (
            json!([{"request_id": "a", "label": 1, "extra": 2}]),
            "unknown field 'extra'",
        ),
        (json!({"nothing": true}), "invalid JSON body"),
    ];
    for (body, expected) in cases {
        let (status, answer) = app
            .post_json("/api/v1/models/rain/labels", body.clone())
            .await;
        let message = error_message(status, &answer, StatusCode::BAD_REQUEST, "INVALID_ARGUMENT");
        assert!(message.contains(expected), "{body}: {message}");
    }
    // Nothing of a refused call was stored.
    let (_, summary) = app.get("/api/v1/models/rain/labels").await;
    assert_eq!(summary["labels"], 0, "{summary}");
    let request = Request::post("/api/v1/models/rain/labels")
        .header("content-type", "application/json")
        .body(Body::from("[{\"request_id\": "))
        .expect("request");
    let (status, body) = app.send(request).await;
    error_message(status, &body, StatusCode::BAD_REQUEST, "INVALID_ARGUMENT");
    let (status, body) = app.get("/api/v1/models/rain/windows?limit=0").await;
    error_message(status, &body, StatusCode::BAD_REQUEST, "INVALID_ARGUMENT");
    let (status, body) = app.get("/api/v1/alerts?state=maybe").await;
    error_message(status, &body, StatusCode::BAD_REQUEST, "INVALID_ARGUMENT");
    let (status, body) = app.get("/api/v1/models/rain/windows/999").await;
    error_message(status, &body, StatusCode::NOT_FOUND, "NOT_FOUND");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_time_based_window_closes_when_its_first_prediction_is_old_enough() {
    let app = test_app().await;
    let policy = "[monitoring]\nwindow = 1000\nwindow_seconds = 1\n";
    deployed_rainfall(&app, policy).await;
    let days = rainfall();
    replay(&app, &days, 12000..12040).await;
    let summary = app.registry.watch_once().await.expect("monitoring pass");
    assert_eq!(summary.windows, 0, "neither full nor old enough yet");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let summary = app.registry.watch_once().await.expect("monitoring pass");
    assert_eq!(summary.windows, 1, "{summary:?}");
    let (_, windows) = app.get("/api/v1/models/rain/windows").await;
    assert_eq!(windows["windows"][0]["n_predictions"], 40, "{windows}");
    // 40 rows judge the features (the minimum sample is 30): dew point drifted already.
    let drifted = windows["windows"][0]["drifted_features"]
        .as_array()
        .unwrap()
        .clone();
    assert!(drifted.contains(&json!("dew point")), "{drifted:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn windows_start_at_most_once_per_interval_and_the_traffic_between_is_in_none() {
    let app = test_app().await;
    let policy = "[monitoring]\nwindow = 30\nwindow_interval_seconds = 1\n";
    deployed_rainfall(&app, policy).await;
    let days = rainfall();
    replay(&app, &days, 6000..6100).await;
    let summary = app.registry.watch_once().await.expect("monitoring pass");
    assert_eq!(
        summary.windows, 1,
        "the next may start a second later: {summary:?}"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let summary = app.registry.watch_once().await.expect("monitoring pass");
    assert_eq!(
        summary.windows, 0,
        "nothing logged since the interval: {summary:?}"
    );
    replay(&app, &days, 6100..6170).await;
    let summary = app.registry.watch_once().await.expect("monitoring pass");
    assert_eq!(summary.windows, 1, "{summary:?}");
    let summary = app.registry.watch_once().await.expect("monitoring pass");
    assert_eq!(
        summary.windows, 0,
        "the rest waits for the next interval: {summary:?}"
    );
    // Newest first: the second window starts with the first prediction sent after the
    // interval (day 6100, the log's 101st); 31..=100 are in no window.
    assert_eq!(window_ranges(&app).await, vec![(101, 130), (1, 30)]);
}

/// The stored windows' (first, last) prediction ids, newest first.
async fn window_ranges(app: &TestApp) -> Vec<(i64, i64)> {
    let (_, windows) = app.get("/api/v1/models/rain/windows?limit=100").await;
    windows["windows"]
        .as_array()
        .expect("windows")
        .iter()
        .map(|w| {
            let id = |field: &str| w[field].as_i64().expect("an id");
            (id("first_prediction"), id("last_prediction"))
        })
        .collect()
}

/// A second replica's registry over the app's store and artifacts (its own watcher state).
async fn replica(app: &TestApp) -> Registry {
    let url = format!("sqlite://{}", app.dir.path().join("bascule.db").display());
    let store = SqlMetadataStore::connect(&url).await.expect("sqlite store");
    let artifacts =
        ObjectArtifactStore::local(&app.dir.path().join("artifacts")).expect("artifact store");
    Registry::new(Arc::new(store), Arc::new(artifacts), engines())
}

/// Both replicas watch at once; the windows either stored.
async fn watch_both(a: &Registry, b: &Registry) -> usize {
    let (a, b) = tokio::join!(a.watch_once(), b.watch_once());
    a.expect("monitoring pass").windows + b.expect("monitoring pass").windows
}

#[tokio::test(flavor = "multi_thread")]
async fn two_replicas_watching_one_log_store_each_window_once() {
    let days = rainfall();
    // Back to back: 100 predictions are three windows of 30, whoever stores them.
    let app = test_app().await;
    deployed_rainfall(
        &app,
        "[monitoring]\nwindow = 30\nwindow_interval_seconds = 0\n",
    )
    .await;
    let other = replica(&app).await;
    replay(&app, &days, 6000..6100).await;
    let mut stored = 0;
    for _ in 0..3 {
        stored += watch_both(&app.registry, &other).await;
    }
    assert_eq!(stored, 3);
    assert_eq!(window_ranges(&app).await, vec![(61, 90), (31, 60), (1, 30)]);

    // Spaced: one window per interval between them, the same one whoever sees it first.
    let app = test_app().await;
    deployed_rainfall(
        &app,
        "[monitoring]\nwindow = 30\nwindow_interval_seconds = 1\n",
    )
    .await;
    let other = replica(&app).await;
    replay(&app, &days, 6000..6100).await;
    assert_eq!(watch_both(&app.registry, &other).await, 1);
    assert_eq!(
        watch_both(&app.registry, &other).await,
        0,
        "the interval holds"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    replay(&app, &days, 6100..6170).await;
    assert_eq!(watch_both(&app.registry, &other).await, 1);
    assert_eq!(watch_both(&app.registry, &other).await, 0);
    assert_eq!(window_ranges(&app).await, vec![(101, 130), (1, 30)]);
}

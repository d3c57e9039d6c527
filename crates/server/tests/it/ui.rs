//! The web UI through the real router: every page on the rainfall journey (validated,
//! deployed, drifting on dew point, labelled, retrained into an Improved v2), the MLflow
//! tracking pages, empty states, 404 pages, and escaping of everything a user names.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use bascule_core::{Stage, Tag, Transition};
use http_body_util::BodyExt;
use serde_json::json;
use tower::ServiceExt;

use crate::monitoring::{
    deployed_rainfall, rainfall, replay, shuffled_validation_days, validate_rainfall,
};
use crate::{TestApp, fixture_bytes, test_app};

/// The rainfall policy with a champion comparison and a slice, so the version page has
/// all its sections (the browser test uses it too).
fn policy() -> String {
    String::from_utf8(fixture_bytes("rainfall/policy.toml")).unwrap()
}

/// A page: its status and HTML (asserted to be HTML).
async fn page(app: &TestApp, uri: &str) -> (StatusCode, String) {
    let response = app
        .router
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let html = String::from_utf8(bytes.to_vec()).unwrap();
    assert!(
        content_type.starts_with("text/html"),
        "{uri}: {status} {content_type}: {html}"
    );
    assert!(html.starts_with("<!DOCTYPE html>"), "{uri}: {html}");
    (status, html)
}

async fn ok_page(app: &TestApp, uri: &str) -> String {
    let (status, html) = page(app, uri).await;
    assert_eq!(status, StatusCode::OK, "{uri}: {html}");
    html
}

async fn not_found(app: &TestApp, uri: &str) -> String {
    let (status, html) = page(app, uri).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{uri}: {html}");
    assert!(html.contains("Not found"), "{uri}: {html}");
    html
}

fn contains_all(html: &str, uri: &str, needles: &[&str]) {
    for needle in needles {
        assert!(html.contains(needle), "{uri} lacks {needle:?}:\n{html}");
    }
}

/// What follows `prefix` in the page's first link starting with it.
fn first_link(html: &str, prefix: &str) -> String {
    html.split(&format!("href=\"{prefix}"))
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no link to {prefix}: {html}"))
        .to_owned()
}

/// A page that answers 200 and says every one of `needles`.
async fn shows(app: &TestApp, uri: &str, needles: &[&str]) -> String {
    let html = ok_page(app, uri).await;
    contains_all(&html, uri, needles);
    html
}

/// The whole journey: v1 validated, deployed, watched through quiet and drifting
/// windows, labelled; v2 retrained from it, validated against it, marked Improved and
/// deployed as a canary. Plus a tracking experiment with a run.
async fn journey() -> TestApp {
    let app = test_app().await;
    deployed_rainfall(&app, &policy()).await;
    let days = rainfall();
    replay(&app, &days, shuffled_validation_days(1000)).await;
    app.registry.watch_once().await.unwrap();
    replay(&app, &days, 12000..13000).await;
    app.registry.watch_once().await.unwrap();
    let labels: Vec<_> = (12000..13000)
        .map(|day| json!({"request_id": format!("day-{day}"), "label": days[day].1}))
        .collect();
    let (status, body) = app
        .post_json("/api/v1/models/rain/labels", json!(labels))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.registry.watch_once().await.unwrap();

    let (status, body) = app
        .upload(
            "/api/v1/models/rain/versions?parent=1&data_digest=sha256:5eed",
            fixture_bytes("rainfall/model.onnx"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    validate_rainfall(&app, 2).await;
    // What the feedback loop does (the browser test runs the real loop through `bascule
    // demo`): the retrained version beat its parent.
    app.registry
        .transition(Transition {
            name: "rain".into(),
            version: 2,
            to: Stage::Improved,
            actor: "gate".into(),
            reason: "beat its parent v1 at the gate".into(),
            evidence: None,
        })
        .await
        .unwrap();
    let (status, body) = app
        .post_json(
            "/api/v1/deployments",
            json!({"name": "rain", "version": 2, "mode": "canary", "percent": 20}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let store = app.registry.store();
    let experiment = store
        .create_experiment("rainfall-retraining", None, &[])
        .await
        .unwrap();
    let run = store
        .create_run(bascule_core::NewRun {
            experiment_id: experiment.experiment_id,
            run_name: Some("gbdt-200-trees".into()),
            user_id: Some("alice".into()),
            start_time: 1_767_225_600_000,
            tags: vec![],
        })
        .await
        .unwrap();
    let metrics: Vec<bascule_core::Metric> = (0..20)
        .map(|step| bascule_core::Metric {
            key: "val_auc".into(),
            value: 0.7 + 0.01 * f64::from(step),
            timestamp: 1_767_225_600_000 + i64::from(step),
            step: i64::from(step),
        })
        .collect();
    let params = [bascule_core::Param {
        key: "n_estimators".into(),
        value: "200".into(),
    }];
    store
        .log_batch(&run.run_id, &metrics, &params, &[])
        .await
        .unwrap();
    app
}

#[tokio::test(flavor = "multi_thread")]
async fn every_page_shows_the_rainfall_journey() {
    let app = journey().await;

    shows(
        &app,
        "/ui",
        &[
            "href=\"/ui/models/rain\"",
            "v1 live 80%",
            "v2 canary 20%",
            "stage-monitored",
            "critical open",
            "metric_drop:roc_auc",
        ],
    )
    .await;

    let html = shows(
        &app,
        "/ui/models/rain",
        &[
            "Status tracker",
            "<th>Prototype</th><th>Validated</th><th>Deployed</th><th>Monitored</th><th>Improved</th>",
            "step reached improved",
            "★ Improved",
            "retrained from v1",
            "new data 5eed",
            "validation report",
            "window #",
            "Deployments",
            "v1 live 80% · v2 canary 20%",
            "Event log",
            "metric_drop:roc_auc",
        ],
    )
    .await;
    // The tracker's v2 row reaches Improved; v1's does not.
    let v2_row = html
        .split("<tr>")
        .find(|row| row.contains("<strong>v2</strong>"))
        .unwrap();
    assert!(v2_row.contains("✓ Improved"), "{v2_row}");
    let v1_row = html
        .split("<tr>")
        .find(|row| row.contains("<strong>v1</strong>"))
        .unwrap();
    assert!(
        v1_row.contains("✓ Monitored") && !v1_row.contains("✓ Improved"),
        "{v1_row}"
    );

    shows(
        &app,
        "/ui/models/rain/versions/1",
        &[
            "Validation report",
            "PASSED",
            "threshold: roc_auc",
            "≥ 0.75",
            "Slices",
            "temperature",
            "Signature",
            "input",
            "[batch, 8]",
            "No champion was compared",
        ],
    )
    .await;
    shows(
        &app,
        "/ui/models/rain/versions/2",
        &[
            "Champion comparison",
            "Against the champion <a href=\"/ui/models/rain/versions/1\">v1</a>",
            "confidence interval",
            "at 95%",
            "stage-improved",
        ],
    )
    .await;

    let html = shows(
        &app,
        "/ui/models/rain/monitoring",
        &[
            "<meta http-equiv=\"refresh\"",
            "Share of drifted features per window",
            "Per-feature drift (effect size) per window",
            "dew point",
            "dew point — drifted",
            "dew point: reference vs current values",
            "Prediction distribution",
            "Watched metrics per window",
            "roc_auc live",
            "roc_auc at validation",
            "Model latency per window (p50 and p99)",
            "Requests per second per window",
            "<title id=\"drift-share-title\">",
            "<desc id=\"feature-drift-desc\">",
        ],
    )
    .await;
    // Every chart is followed by its data as a table.
    assert_eq!(
        html.matches("<svg ").count(),
        html.matches("</svg>\n<details><summary>").count(),
        "a text alternative per chart"
    );
    let window_id = first_link(&html, "/ui/models/rain/windows/");
    let uri = format!("/ui/models/rain/windows/{window_id}");
    shows(
        &app,
        &uri,
        &["judged features drifted", "Reference vs current", "Health"],
    )
    .await;
    shows(
        &app,
        "/ui/models/rain/monitoring?version=2",
        &["No traffic yet for v2"],
    )
    .await;

    let html = shows(&app, "/ui/experiments", &["rainfall-retraining"]).await;
    let experiment = app
        .registry
        .store()
        .get_experiment_by_name("rainfall-retraining")
        .await
        .unwrap();
    let uri = format!("/ui/experiments/{}", experiment.experiment_id);
    assert!(html.contains(&format!("href=\"{uri}\"")), "{html}");
    let html = shows(
        &app,
        &uri,
        &["gbdt-200-trees", "n_estimators", "200", "val_auc"],
    )
    .await;
    let run_href = first_link(&html, "/ui/runs/");
    let uri = format!("/ui/runs/{run_href}");
    shows(
        &app,
        &uri,
        &[
            "Parameters",
            "n_estimators",
            "val_auc over steps",
            "20 points, from 0.7000 to 0.8900",
            "No artifacts logged",
        ],
    )
    .await;
}

/// Server time per page on the journey's data: printed for docs/benchmarks.md, and held
/// to the target with room for a loaded debug build.
#[tokio::test(flavor = "multi_thread")]
async fn pages_render_quickly_on_the_journey() {
    let app = journey().await;
    let pages = [
        "/ui",
        "/ui/models/rain",
        "/ui/models/rain/versions/2",
        "/ui/models/rain/monitoring",
        "/ui/experiments",
    ];
    for uri in pages {
        ok_page(&app, uri).await;
        let mut times = Vec::new();
        for _ in 0..5 {
            let start = Instant::now();
            ok_page(&app, uri).await;
            times.push(start.elapsed());
        }
        times.sort();
        let median = times[times.len() / 2];
        eprintln!("ui page {uri}: median {median:?} of 5");
        assert!(
            median < Duration::from_millis(500),
            "{uri} took {median:?} (target: 100 ms in a release build)"
        );
    }
}

#[tokio::test]
async fn empty_states_say_what_to_do_next() {
    let app = test_app().await;
    let response = app
        .router
        .clone()
        .oneshot(Request::get("/").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert!(response.status().is_redirection());
    assert_eq!(response.headers()["location"], "/ui");

    shows(&app, "/ui", &["No models yet", "bascule models register"]).await;
    shows(&app, "/ui/feedback", &["No feedback yet", "[feedback]"]).await;
    shows(
        &app,
        "/ui/experiments",
        &["No runs yet", "MLFLOW_TRACKING_URI"],
    )
    .await;

    let (status, body) = app
        .upload(
            "/api/v1/models/rain/versions",
            fixture_bytes("rainfall/model.onnx"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    shows(
        &app,
        "/ui/models/rain",
        &[
            "Nothing is deployed",
            "bascule deploy rain VERSION",
            "No alerts",
            "No version has a parent yet",
        ],
    )
    .await;
    shows(
        &app,
        "/ui/models/rain/versions/1",
        &["Not validated yet", "bascule validate rain 1 --data"],
    )
    .await;
    let html = shows(
        &app,
        "/ui/models/rain/monitoring",
        &["No traffic yet: nothing is deployed"],
    )
    .await;
    assert!(!html.contains("<svg"), "no chart without data: {html}");

    // Deployed, traffic but no window closed yet, and no labels.
    validate_rainfall(&app, 1).await;
    let (status, body) = app
        .post_json("/api/v1/deployments", json!({"name": "rain", "version": 1}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    shows(
        &app,
        "/ui/models/rain/monitoring",
        &["No traffic yet for v1", "every 1000 predictions"],
    )
    .await;
    let days = rainfall();
    replay(&app, &days, 12000..13000).await;
    app.registry.watch_once().await.unwrap();
    shows(
        &app,
        "/ui/models/rain/monitoring",
        &[
            "No labels yet",
            "bascule labels rain labels.csv",
            "dew point",
        ],
    )
    .await;

    let store = app.registry.store();
    let experiment = store.create_experiment("empty", None, &[]).await.unwrap();
    let uri = format!("/ui/experiments/{}", experiment.experiment_id);
    shows(&app, &uri, &["No runs in this experiment yet"]).await;
}

#[tokio::test]
async fn unknown_models_versions_windows_and_pages_are_404_pages() {
    let app = test_app().await;
    let html = not_found(&app, "/ui/models/nope").await;
    assert!(html.contains("nope"), "{html}");
    not_found(&app, "/ui/models/nope/versions/1").await;
    not_found(&app, "/ui/models/nope/monitoring").await;
    not_found(&app, "/ui/models/nope/windows/1").await;
    not_found(&app, "/ui/no/such/page").await;
    not_found(&app, "/ui/experiments/999").await;
    not_found(&app, "/ui/experiments/abc").await;
    not_found(&app, "/ui/runs/no-such-run").await;
    not_found(&app, "/ui/feedback/42").await;
    not_found(&app, "/ui/feedback/x").await;
    let (status, body) = app
        .upload(
            "/api/v1/models/rain/versions",
            fixture_bytes("rainfall/model.onnx"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    not_found(&app, "/ui/models/rain/versions/9").await;
    not_found(&app, "/ui/models/rain/versions/abc").await;
    not_found(&app, "/ui/models/rain/windows/5").await;
    not_found(&app, "/ui/models/rain/windows/x").await;
    let (status, html) = page(&app, "/ui/models/rain/monitoring?version=x").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
    // The API keeps its JSON 404s.
    let (status, body) = app.get("/api/v1/models/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

#[tokio::test]
async fn what_users_name_is_escaped() {
    let app = test_app().await;
    const XSS: &str = "<script>alert('x')</script>";
    let (status, body) = app
        .post_json(
            "/api/v1/models",
            json!({"name": "rain", "description": XSS}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = app
        .upload(
            "/api/v1/models/rain/versions?description=%3Cscript%3Ealert('x')%3C%2Fscript%3E&code_ref=%3Cb%3E",
            fixture_bytes("rainfall/model.onnx"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // A name the registry would refuse, written straight to the store (as another tool
    // sharing the database could).
    let store = app.registry.store();
    store
        .create_registered_model(
            XSS,
            XSS,
            &[Tag {
                key: XSS.into(),
                value: XSS.into(),
            }],
        )
        .await
        .unwrap();
    let experiment = store.create_experiment(XSS, None, &[]).await.unwrap();
    let run = store
        .create_run(bascule_core::NewRun {
            experiment_id: experiment.experiment_id,
            run_name: Some(XSS.into()),
            user_id: Some(XSS.into()),
            start_time: 0,
            tags: vec![],
        })
        .await
        .unwrap();
    store
        .log_batch(
            &run.run_id,
            &[bascule_core::Metric {
                key: XSS.into(),
                value: 1.0,
                timestamp: 0,
                step: 0,
            }],
            &[bascule_core::Param {
                key: XSS.into(),
                value: XSS.into(),
            }],
            &[Tag {
                key: XSS.into(),
                value: XSS.into(),
            }],
        )
        .await
        .unwrap();
    let (item, _) = store
        .open_feedback(bascule_core::NewFeedback {
            name: XSS.into(),
            version: 1,
            summary: XSS.into(),
            alert_ids: vec![],
            window_id: None,
        })
        .await
        .unwrap();
    store
        .add_feedback_note(item.id, XSS, XSS, XSS)
        .await
        .unwrap();
    let pages = [
        "/ui".to_owned(),
        "/ui/feedback".to_owned(),
        format!("/ui/feedback/{}", item.id),
        "/ui/models/rain".to_owned(),
        "/ui/models/rain/versions/1".to_owned(),
        "/ui/models/%3Cscript%3Ealert('x')%3C%2Fscript%3E".to_owned(),
        "/ui/experiments".to_owned(),
        format!("/ui/experiments/{}", experiment.experiment_id),
        format!("/ui/runs/{}", run.run_id),
    ];
    for uri in &pages {
        let html = ok_page(&app, uri).await;
        assert!(!html.contains("<script"), "{uri}: {html}");
        assert!(
            html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"),
            "{uri}: {html}"
        );
    }
    // The link to that model is percent-encoded.
    let html = ok_page(&app, "/ui").await;
    assert!(
        html.contains("href=\"/ui/models/%3Cscript%3Ealert%28%27x%27%29%3C%2Fscript%3E\""),
        "{html}"
    );
    // A 404 echoes what was asked for, escaped.
    let html = not_found(&app, "/ui/models/%3Cscript%3Enope").await;
    assert!(!html.contains("<script"), "{html}");
    assert!(html.contains("&lt;script&gt;nope"), "{html}");
}

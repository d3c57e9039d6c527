//! Prometheus `/metrics` after requests on both protocols.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::json;

use crate::invocations::{call, deploy, holdout, post_json};
use crate::test_app;
use crate::validated;

/// The value of the sample `series` (name and labels exactly as exposed).
fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no sample {series} in:\n{text}"))
        .parse()
        .unwrap()
}

async fn scrape(app: &crate::TestApp) -> String {
    let answer = call(app, Request::get("/metrics").body(Body::empty()).unwrap()).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    answer.text()
}

#[tokio::test(flavor = "multi_thread")]
async fn counters_follow_requests_on_both_protocols() {
    let app = test_app().await;
    validated(&app, "bc", "logistic", 1).await;
    deploy(&app, json!({"name": "bc", "version": 1})).await;
    let (_, rows) = holdout();
    let oip = |data: &[f64], shape: [usize; 2]| json!({"inputs": [{"name": "input", "shape": shape, "datatype": "FP32", "data": data}]});

    for row in &rows[..3] {
        let answer = call(&app, post_json("/v2/models/bc/infer", &oip(row, [1, 30]))).await;
        assert_eq!(answer.status, StatusCode::OK);
    }
    // Refused by the input check: counted as the version's 4xx error.
    let answer = call(
        &app,
        post_json("/v2/models/bc/infer", &oip(&rows[0][..29], [1, 29])),
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    for row in &rows[..2] {
        let answer = call(
            &app,
            post_json("/invocations", &json!({"instances": [row]})),
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK);
    }
    let mut missing: Vec<serde_json::Value> = rows[0].iter().map(|v| json!(v)).collect();
    missing[0] = serde_json::Value::Null;
    let answer = call(
        &app,
        post_json("/invocations", &json!({"instances": [missing]})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    // Refused before a version is chosen: only the protocol's counter sees it.
    let answer = call(&app, post_json("/invocations", &json!({"rows": []}))).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    // Metadata and health requests are not inference requests.
    call(
        &app,
        Request::get("/v2/models/bc").body(Body::empty()).unwrap(),
    )
    .await;

    let text = scrape(&app).await;
    let version = "model=\"bc\",version=\"1\",role=\"live\"";
    assert_eq!(
        value(
            &text,
            &format!("bascule_inference_requests_total{{{version}}}")
        ),
        7.0
    );
    assert_eq!(
        value(
            &text,
            &format!("bascule_inference_errors_total{{{version},class=\"4xx\"}}")
        ),
        2.0
    );
    assert_eq!(
        value(
            &text,
            &format!("bascule_inference_errors_total{{{version},class=\"5xx\"}}")
        ),
        0.0
    );
    assert_eq!(
        value(
            &text,
            &format!("bascule_inference_duration_seconds_count{{{version}}}")
        ),
        7.0
    );
    assert_eq!(
        value(
            &text,
            &format!("bascule_inference_duration_seconds_bucket{{{version},le=\"+Inf\"}}")
        ),
        7.0
    );
    assert!(
        value(
            &text,
            &format!("bascule_inference_duration_seconds_sum{{{version}}}")
        ) > 0.0
    );
    for (protocol, class, expected) in [
        ("oip", "2xx", 3.0),
        ("oip", "4xx", 1.0),
        ("mlflow", "2xx", 2.0),
        ("mlflow", "4xx", 2.0),
        ("mlflow", "5xx", 0.0),
    ] {
        let series =
            format!("bascule_http_requests_total{{protocol=\"{protocol}\",class=\"{class}\"}}");
        assert_eq!(value(&text, &series), expected, "{series}");
    }
    assert_eq!(
        value(
            &text,
            "bascule_http_request_duration_seconds_count{protocol=\"oip\"}"
        ),
        4.0
    );
    assert_eq!(
        value(
            &text,
            "bascule_http_requests_in_flight{protocol=\"mlflow\"}"
        ),
        0.0
    );
    assert!(text.contains("# TYPE bascule_inference_duration_seconds histogram\n"));
    assert!(text.contains("le=\"0.0001\"") && text.contains("le=\"5\""));
    let build = format!(
        "bascule_build_info{{version=\"{}\"}}",
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(value(&text, &build), 1.0);

    // The prediction log: answered requests are written; once the log is closed, records
    // are shed and counted.
    app.serving.shutdown().await;
    for row in &rows[..3] {
        let answer = call(
            &app,
            post_json("/invocations", &json!({"instances": [row]})),
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK);
    }
    let text = scrape(&app).await;
    assert_eq!(
        value(&text, "bascule_prediction_log_written_records_total"),
        5.0
    );
    assert_eq!(
        value(&text, "bascule_prediction_log_accepted_records_total"),
        5.0
    );
    assert_eq!(
        value(&text, "bascule_prediction_log_shed_records_total"),
        3.0
    );
    assert_eq!(
        value(&text, "bascule_prediction_log_failed_records_total"),
        0.0
    );
    assert_eq!(value(&text, "bascule_prediction_log_queued_records"), 0.0);
    assert_eq!(
        value(&text, "bascule_prediction_log_capacity_records"),
        65536.0
    );
    assert_eq!(
        value(
            &text,
            &format!("bascule_inference_requests_total{{{version}}}")
        ),
        10.0
    );
}

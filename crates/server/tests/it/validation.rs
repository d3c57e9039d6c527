//! The validation gate over REST.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;

use crate::{TestApp, error_message, fixture_bytes, test_app};

async fn put_policy(
    app: &TestApp,
    name: &str,
    content_type: &str,
    body: &str,
) -> (StatusCode, Value) {
    let request = Request::put(format!("/api/v1/models/{name}/policy"))
        .header("content-type", content_type)
        .header("x-bascule-actor", "ada")
        .body(Body::from(body.to_owned()))
        .expect("request");
    app.send(request).await
}

async fn validate(
    app: &TestApp,
    uri: &str,
    content_type: &str,
    data: Vec<u8>,
) -> (StatusCode, Value) {
    let request = Request::post(uri)
        .header("content-type", content_type)
        .header("x-bascule-actor", "alice")
        .body(Body::from(data))
        .expect("request");
    app.send(request).await
}

#[tokio::test]
async fn validate_then_read_the_report() {
    let app = test_app().await;
    let (status, _) = app
        .upload(
            "/api/v1/models/bc/versions",
            fixture_bytes("logistic/model.onnx"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = app.get("/api/v1/models/bc/versions/1/validation").await;
    let message = error_message(status, &body, StatusCode::NOT_FOUND, "NOT_FOUND");
    assert!(message.contains("not been validated"), "{message}");

    let (status, body) = validate(
        &app,
        "/api/v1/models/bc/versions/1/validate",
        "text/csv",
        fixture_bytes("logistic/holdout.csv"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["passed"], true);
    assert_eq!(body["stage"], "Validated");
    assert_eq!(body["report"]["data"]["rows"], 143);
    let digest = body["report_digest"].as_str().expect("digest").to_owned();

    let (status, stored) = app.get("/api/v1/models/bc/versions/1/validation").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(stored["report_digest"], digest.as_str());
    assert_eq!(stored["report"], body["report"]);
    let (_, events) = app.get("/api/v1/models/bc/versions/1/events").await;
    let last = &events["events"][1];
    assert_eq!(last["to"], "Validated");
    assert_eq!(last["actor"], "alice");
    assert_eq!(last["evidence"]["reference"], digest.as_str());

    // Not a Prototype any more: 409, naming the stage.
    let (status, body) = validate(
        &app,
        "/api/v1/models/bc/versions/1/validate",
        "text/csv",
        fixture_bytes("logistic/holdout.csv"),
    )
    .await;
    let message = error_message(status, &body, StatusCode::CONFLICT, "FAILED_PRECONDITION");
    assert!(message.contains("Validated"), "{message}");
}

#[tokio::test]
async fn policies_in_toml_and_json_and_a_rejection() {
    let app = test_app().await;
    app.upload(
        "/api/v1/models/bc/versions",
        fixture_bytes("weak/model.onnx"),
    )
    .await;
    let (status, body) = app.get("/api/v1/models/bc/policy").await;
    error_message(status, &body, StatusCode::NOT_FOUND, "NOT_FOUND");

    let (status, body) = put_policy(
        &app,
        "bc",
        "application/json",
        r#"{"thresholds": {"acc": 1}}"#,
    )
    .await;
    let message = error_message(status, &body, StatusCode::BAD_REQUEST, "INVALID_ARGUMENT");
    assert!(
        message.contains("'acc'") && message.contains("accuracy"),
        "{message}"
    );
    let (status, body) = put_policy(&app, "bc", "text/plain", "x").await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
    let (status, body) = put_policy(&app, "nope", "application/json", "{}").await;
    error_message(status, &body, StatusCode::NOT_FOUND, "NOT_FOUND");

    let (status, body) = put_policy(
        &app,
        "bc",
        "application/json",
        r#"{"thresholds": {"accuracy": 0.5}}"#,
    )
    .await;
    assert_eq!(
        (status, body["policy_version"].as_i64()),
        (StatusCode::OK, Some(1)),
        "{body}"
    );
    let toml = "[thresholds]\naccuracy = 0.95\nroc_auc = 0.99\n";
    let (status, body) = put_policy(&app, "bc", "application/toml", toml).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["policy_version"], 2);
    let (_, body) = app.get("/api/v1/models/bc/policy").await;
    assert_eq!(
        (body["format"].as_str(), body["body"].as_str()),
        (Some("toml"), Some(toml))
    );
    assert_eq!(body["created_by"], "ada");

    let (status, body) = validate(
        &app,
        "/api/v1/models/bc/versions/1/validate",
        "application/octet-stream",
        fixture_bytes("weak/holdout.csv"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["passed"].as_bool(), body["stage"].as_str()),
        (Some(false), Some("Rejected"))
    );
    let failed: Vec<&Value> = body["report"]["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["status"] == "failed")
        .collect();
    assert_eq!(failed.len(), 2, "{body}");
    assert!(
        failed
            .iter()
            .all(|c| c["expected"].is_string() && c["measured"].is_string())
    );
}

#[tokio::test]
async fn bad_data_sets_answer_400_and_record_nothing() {
    let app = test_app().await;
    app.upload(
        "/api/v1/models/bc/versions",
        fixture_bytes("logistic/model.onnx"),
    )
    .await;
    let uri = "/api/v1/models/bc/versions/1/validate";
    let (status, body) = validate(&app, uri, "text/csv", Vec::new()).await;
    error_message(status, &body, StatusCode::BAD_REQUEST, "INVALID_ARGUMENT");
    let (status, body) = validate(
        &app,
        "/api/v1/models/bc/versions/1/validate?label=target",
        "text/csv",
        fixture_bytes("logistic/holdout.csv"),
    )
    .await;
    let message = error_message(status, &body, StatusCode::BAD_REQUEST, "INVALID_ARGUMENT");
    assert!(message.contains("'target'"), "{message}");
    let (status, body) = validate(&app, uri, "image/png", vec![1, 2, 3]).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
    let (status, body) = validate(
        &app,
        "/api/v1/models/bc/versions/9/validate",
        "text/csv",
        fixture_bytes("logistic/holdout.csv"),
    )
    .await;
    error_message(status, &body, StatusCode::NOT_FOUND, "NOT_FOUND");
    let (_, version) = app.get("/api/v1/models/bc/versions/1").await;
    assert_eq!(version["stage"], "Prototype");
}

#[tokio::test]
async fn respond_async_runs_the_validation_as_a_job() {
    let app = test_app().await;
    let (status, _) = app
        .upload(
            "/api/v1/models/bc/versions",
            fixture_bytes("logistic/model.onnx"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let request = Request::post("/api/v1/models/bc/versions/1/validate")
        .header("content-type", "text/csv")
        .header("prefer", "respond-async")
        .header("x-bascule-actor", "alice")
        .body(Body::from(fixture_bytes("logistic/holdout.csv")))
        .expect("request");
    let (status, job) = app.send(request).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    assert_eq!(job["kind"], "validation");
    assert_eq!(job["name"], "bc");
    let job = finished(&app, job).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    assert_eq!(job["result"]["stage"], "Validated");
    assert_eq!(job["result"]["report"]["data"]["rows"], 143);
    assert!(job["finished"].as_i64().is_some());

    // A version that cannot be validated is refused before a job starts.
    let request = Request::post("/api/v1/models/bc/versions/1/validate")
        .header("content-type", "text/csv")
        .header("prefer", "respond-async")
        .body(Body::from(fixture_bytes("logistic/holdout.csv")))
        .expect("request");
    let (status, body) = app.send(request).await;
    let message = error_message(status, &body, StatusCode::CONFLICT, "FAILED_PRECONDITION");
    assert!(message.contains("Validated"), "{message}");

    // Bad data fails the job with the reason, and records nothing.
    let (status, _) = app
        .upload(
            "/api/v1/models/bc/versions",
            fixture_bytes("logistic/model.onnx"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let request = Request::post("/api/v1/models/bc/versions/2/validate")
        .header("content-type", "text/csv")
        .header("prefer", "respond-async")
        .body(Body::from("a,b\n1,2\n"))
        .expect("request");
    let (status, job) = app.send(request).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    let job = finished(&app, job).await;
    assert_eq!(job["state"], "failed", "{job}");
    assert_eq!(job["error"]["code"], "INVALID_ARGUMENT");
    assert!(
        job["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("label"),
        "{job}"
    );
    let (_, version) = app.get("/api/v1/models/bc/versions/2").await;
    assert_eq!(version["stage"], "Prototype");

    let (status, body) = app.get("/api/v1/jobs/nosuchjob").await;
    error_message(status, &body, StatusCode::NOT_FOUND, "NOT_FOUND");
}

/// Polls a job until it is no longer running.
async fn finished(app: &TestApp, mut job: Value) -> Value {
    let id = job["id"].as_str().expect("job id").to_owned();
    for _ in 0..500 {
        if job["state"] != "running" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let (status, body) = app.get(&format!("/api/v1/jobs/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        job = body;
    }
    job
}

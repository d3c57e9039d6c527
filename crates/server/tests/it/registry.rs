use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::json;

use crate::{error_message, fixture_bytes, test_app, test_app_with};

#[tokio::test]
async fn empty_registry_lists_no_models() {
    let app = test_app().await;
    let (status, body) = app.get("/api/v1/models").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({ "models": [] }));
    let (status, body) = app.get("/api/v1/health").await;
    assert_eq!((status, body), (StatusCode::OK, json!({ "status": "ok" })));
}

#[tokio::test]
async fn register_an_onnx_file_as_prototype() {
    let app = test_app().await;
    let (status, body) = app
        .upload(
            "/api/v1/models/breast-cancer/versions?data_digest=sha256:abc&code_ref=git:1234",
            fixture_bytes("logistic/model.onnx"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["version"], 1);
    assert_eq!(body["stage"], "Prototype");
    assert_eq!(body["format"], "onnx");
    assert_eq!(body["created_by"], "alice");
    assert_eq!(body["lineage"]["data_digest"], "sha256:abc");
    assert_eq!(body["lineage"]["code_ref"], "git:1234");
    let inputs = body["signature"]["inputs"].as_array().expect("inputs");
    assert_eq!(inputs.len(), 1);
    assert_eq!(inputs[0]["datatype"], "FP32");
    assert_eq!(inputs[0]["shape"], json!([-1, 30]));
    let paths: Vec<&str> = body["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(
        paths.contains(&"MLmodel") && paths.contains(&"model.onnx"),
        "{paths:?}"
    );

    // The model was created on the way, and the registration is in the event log.
    let (status, model) = app.get("/api/v1/models/breast-cancer").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(model["latest_version"], 1);
    let (_, events) = app.get("/api/v1/models/breast-cancer/events").await;
    let events = events["events"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["to"], "Prototype");
    assert_eq!(events[0]["from"], serde_json::Value::Null);
    assert_eq!(events[0]["actor"], "alice");

    // The stored model file is the uploaded one, byte for byte.
    let request = Request::get("/api/v1/models/breast-cancer/versions/1/files/model.onnx")
        .body(Body::empty())
        .unwrap();
    let response = tower::ServiceExt::oneshot(app.router.clone(), request)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    assert_eq!(
        bytes.as_ref(),
        fixture_bytes("logistic/model.onnx").as_slice()
    );

    // A second registration is version 2 with its parent recorded.
    let (status, body) = app
        .upload(
            "/api/v1/models/breast-cancer/versions?parent=1",
            fixture_bytes("mlp/model.onnx"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        (
            body["version"].as_i64(),
            body["lineage"]["parent_version"].as_i64()
        ),
        (Some(2), Some(1))
    );
    let (_, versions) = app.get("/api/v1/models/breast-cancer/versions").await;
    assert_eq!(versions["versions"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn models_no_engine_can_run_are_refused_by_operator_name() {
    let app = test_app().await;
    let (status, body) = app
        .upload(
            "/api/v1/models/gbr/versions",
            fixture_bytes("custom_op/model.onnx"),
        )
        .await;
    let message = error_message(status, &body, StatusCode::BAD_REQUEST, "INVALID_ARGUMENT");
    assert!(
        message.contains("operator Frobnicate")
            && message.contains("(domain com.example.custom)")
            && message.contains("not supported"),
        "{message}"
    );
    // Nothing was recorded: no model, no version.
    let (status, _) = app.get("/api/v1/models/gbr").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn corrupt_truncated_and_empty_uploads_are_refused() {
    let app = test_app().await;
    let real = fixture_bytes("logistic/model.onnx");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", real[..real.len() / 2].to_vec()),
        ("not onnx", b"this is not an ONNX model at all".to_vec()),
        ("empty", Vec::new()),
    ];
    for (what, bytes) in cases {
        let (status, body) = app.upload("/api/v1/models/m/versions", bytes).await;
        let message = error_message(status, &body, StatusCode::BAD_REQUEST, "INVALID_ARGUMENT");
        assert!(!message.is_empty(), "{what}");
    }
    let (_, list) = app.get("/api/v1/models").await;
    assert_eq!(list, json!({ "models": [] }));
}

#[tokio::test]
async fn oversized_uploads_are_refused() {
    let app = test_app_with(bascule_server::ServerConfig {
        max_upload_bytes: 1024,
        ..bascule_server::ServerConfig::default()
    })
    .await;
    let (status, body) = app
        .upload(
            "/api/v1/models/m/versions",
            fixture_bytes("logistic/model.onnx"),
        )
        .await;
    let message = error_message(status, &body, StatusCode::BAD_REQUEST, "INVALID_ARGUMENT");
    assert!(message.contains("1024 bytes"), "{message}");
}

#[tokio::test]
async fn register_an_mlflow_model_directory() {
    let app = test_app().await;
    // Make a directory the way `bascule models register` would upload one.
    let onnx = fixture_bytes("linear/model.onnx");
    let (status, first) = app
        .upload("/api/v1/models/diabetes/versions", onnx.clone())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let mlmodel = {
        let request = Request::get("/api/v1/models/diabetes/versions/1/files/MLmodel")
            .body(Body::empty())
            .unwrap();
        let response = tower::ServiceExt::oneshot(app.router.clone(), request)
            .await
            .unwrap();
        http_body_util::BodyExt::collect(response.into_body())
            .await
            .unwrap()
            .to_bytes()
    };
    let boundary = "bascule-test-boundary";
    let mut body = Vec::new();
    for (path, content) in [("MLmodel", mlmodel.to_vec()), ("model.onnx", onnx)] {
        body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{path}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
        body.extend(content);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{boundary}--\r\n").as_bytes());
    let request = Request::post("/api/v1/models/diabetes/versions")
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from(body))
        .unwrap();
    let (status, second) = app.send(request).await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    assert_eq!(second["version"], 2);
    assert_eq!(second["signature"], first["signature"]);
}

#[tokio::test]
async fn bad_requests_get_clear_errors() {
    let app = test_app().await;
    let (status, body) = app.get("/api/v1/models/nope").await;
    let message = error_message(status, &body, StatusCode::NOT_FOUND, "NOT_FOUND");
    assert!(message.contains("nope"), "{message}");
    let (status, body) = app.get("/api/v1/models/nope/versions/abc").await;
    error_message(status, &body, StatusCode::BAD_REQUEST, "INVALID_ARGUMENT");
    let (status, body) = app.get("/api/v1/no/such/endpoint").await;
    error_message(status, &body, StatusCode::NOT_FOUND, "NOT_FOUND");
    let (status, body) = app
        .send(
            Request::delete("/api/v1/models")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    error_message(
        status,
        &body,
        StatusCode::METHOD_NOT_ALLOWED,
        "INVALID_ARGUMENT",
    );

    let request = Request::post("/api/v1/models")
        .header("content-type", "application/json")
        .body(Body::from("{\"name\": "))
        .unwrap();
    let (status, body) = app.send(request).await;
    error_message(status, &body, StatusCode::BAD_REQUEST, "INVALID_ARGUMENT");
    let (status, body) = app.post_json("/api/v1/models", json!({ "name": 42 })).await;
    error_message(status, &body, StatusCode::BAD_REQUEST, "INVALID_ARGUMENT");
    let (status, body) = app
        .post_json("/api/v1/models", json!({ "name": "has space" }))
        .await;
    error_message(status, &body, StatusCode::BAD_REQUEST, "INVALID_ARGUMENT");
    let request = Request::post("/api/v1/models")
        .body(Body::from("name=x"))
        .unwrap();
    let (status, _) = app.send(request).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let (status, _) = app
        .post_json("/api/v1/models", json!({ "name": "dup" }))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = app
        .post_json("/api/v1/models", json!({ "name": "dup" }))
        .await;
    error_message(status, &body, StatusCode::CONFLICT, "ALREADY_EXISTS");

    let request = Request::post("/api/v1/models/dup/versions")
        .header("content-type", "text/plain")
        .body(Body::from("x"))
        .unwrap();
    let (status, body) = app.send(request).await;
    error_message(
        status,
        &body,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "INVALID_ARGUMENT",
    );
    let (status, body) = app
        .upload(
            "/api/v1/models/dup/versions?parent=7",
            fixture_bytes("logistic/model.onnx"),
        )
        .await;
    error_message(status, &body, StatusCode::NOT_FOUND, "NOT_FOUND");
    let (status, body) = app
        .upload(
            "/api/v1/models/dup/versions?bogus=1",
            fixture_bytes("logistic/model.onnx"),
        )
        .await;
    error_message(status, &body, StatusCode::BAD_REQUEST, "INVALID_ARGUMENT");
    let (_, versions) = app.get("/api/v1/models/dup/versions").await;
    assert_eq!(versions["versions"], json!([]));
}

#[tokio::test]
async fn aliases() {
    let app = test_app().await;
    let (status, _) = app
        .upload(
            "/api/v1/models/m/versions",
            fixture_bytes("logistic/model.onnx"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let request = Request::put("/api/v1/models/m/aliases/champion")
        .header("content-type", "application/json")
        .body(Body::from("{\"version\": 1}"))
        .unwrap();
    let (status, _) = app.send(request).await;
    assert_eq!(status, StatusCode::OK);
    let (status, version) = app.get("/api/v1/models/m/aliases/champion").await;
    assert_eq!(
        (status, version["version"].as_i64()),
        (StatusCode::OK, Some(1))
    );
    assert_eq!(version["aliases"], json!(["champion"]));
    let request = Request::put("/api/v1/models/m/aliases/champion")
        .header("content-type", "application/json")
        .body(Body::from("{\"version\": 9}"))
        .unwrap();
    let (status, body) = app.send(request).await;
    error_message(status, &body, StatusCode::NOT_FOUND, "NOT_FOUND");
    let (status, _) = app
        .send(
            Request::delete("/api/v1/models/m/aliases/champion")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = app.get("/api/v1/models/m/aliases/champion").await;
    error_message(status, &body, StatusCode::NOT_FOUND, "NOT_FOUND");
}

#[tokio::test]
async fn registration_may_name_the_serving_engine() {
    let app = test_app().await;
    let (status, body) = app
        .upload(
            "/api/v1/models/bc/versions?engine=tract",
            fixture_bytes("logistic/model.onnx"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["tags"]["bascule.engine"], "tract");
    let (status, body) = app
        .upload(
            "/api/v1/models/bc/versions?engine=cuda",
            fixture_bytes("logistic/model.onnx"),
        )
        .await;
    let message = error_message(status, &body, StatusCode::CONFLICT, "FAILED_PRECONDITION");
    assert!(
        message.contains("cuda engine is not configured") && message.contains("tract"),
        "{message}"
    );
    let (_, versions) = app.get("/api/v1/models/bc/versions").await;
    assert_eq!(
        versions["versions"].as_array().unwrap().len(),
        1,
        "nothing recorded"
    );
}

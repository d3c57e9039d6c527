//! Open Inference Protocol v2 on deployed fixtures, and the deployments API.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::{TestApp, fixture, fixture_bytes, test_app};
use bascule_core::Role;

/// Registers the logistic fixture `n` times as versions of `bc`, all Validated.
async fn validated_versions(app: &TestApp, n: usize) {
    crate::validated(app, "bc", "logistic", n as i64).await;
}

async fn deploy(app: &TestApp, body: Value) -> (StatusCode, Value) {
    app.post_json("/api/v1/deployments", body).await
}

fn holdout() -> Vec<Vec<f32>> {
    let text = std::fs::read_to_string(fixture("logistic/holdout.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|line| {
            line.split(',')
                .take(30)
                .map(|v| v.parse().unwrap())
                .collect()
        })
        .collect()
}

fn infer_body(rows: &[Vec<f32>], id: Option<&str>) -> Value {
    let data: Vec<f32> = rows.iter().flatten().copied().collect();
    let mut body = json!({
        "inputs": [{"name": "input", "shape": [rows.len(), 30], "datatype": "FP32", "data": data}]
    });
    if let Some(id) = id {
        body["id"] = json!(id);
    }
    body
}

/// Sends a request and returns status, headers of interest and the JSON body.
async fn call(app: &TestApp, request: Request<Body>) -> (StatusCode, Option<String>, Value) {
    let response = app.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let request_id = response
        .headers()
        .get("x-request-id")
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    (status, request_id, body)
}

fn post(uri: &str, body: &Value, route_key: Option<&str>) -> Request<Body> {
    let mut request = Request::post(uri).header("content-type", "application/json");
    if let Some(key) = route_key {
        request = request.header("x-bascule-route-key", key);
    }
    request.body(Body::from(body.to_string())).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn inference_equals_the_recorded_outputs() {
    let app = test_app().await;
    validated_versions(&app, 1).await;
    let (status, body) = deploy(&app, json!({"name": "bc", "version": 1})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["deployment"]["live"], 1);
    assert_eq!(body["events"][0]["to"], "Deployed");

    let rows = holdout();
    let (status, request_id, body) = call(
        &app,
        post(
            "/v2/models/bc/infer",
            &infer_body(&rows, Some("batch-1")),
            None,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["id"].as_str(), request_id.as_deref()),
        (Some("batch-1"), Some("batch-1"))
    );
    assert_eq!(
        (body["model_name"].as_str(), body["model_version"].as_str()),
        (Some("bc"), Some("1"))
    );
    let expected: Value =
        serde_json::from_slice(&std::fs::read(fixture("logistic/expected.json")).unwrap()).unwrap();
    for output in body["outputs"].as_array().unwrap() {
        let name = output["name"].as_str().unwrap();
        let want = &expected["outputs"][name];
        assert_eq!(output["shape"], want["shape"], "{name}");
        assert_eq!(output["datatype"], want["datatype"], "{name}");
        let got = output["data"].as_array().unwrap();
        let want = want["data"].as_array().unwrap();
        assert_eq!(got.len(), want.len());
        for (got, want) in got.iter().zip(want) {
            assert!(
                (got.as_f64().unwrap() - want.as_f64().unwrap()).abs() <= 1e-5,
                "{name}"
            );
        }
    }

    // One row, no id: one is generated and returned both ways; outputs can be chosen.
    let mut one = infer_body(&rows[..1], None);
    one["outputs"] = json!([{"name": "label"}]);
    let (status, request_id, body) =
        call(&app, post("/v2/models/bc/versions/1/infer", &one, None)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["id"].as_str(), request_id.as_deref());
    assert_eq!(
        body["outputs"],
        json!([{"name": "label", "shape": [1], "datatype": "INT64", "data": [0]}])
    );

    // Health and metadata.
    for (uri, expected) in [
        ("/v2/health/live", StatusCode::OK),
        ("/v2/health/ready", StatusCode::OK),
        ("/v2/models/bc/ready", StatusCode::OK),
        ("/v2/models/bc/versions/1/ready", StatusCode::OK),
        ("/v2/models/bc/versions/2/ready", StatusCode::NOT_FOUND),
        ("/v2/models/nope/ready", StatusCode::NOT_FOUND),
    ] {
        let (status, body) = app.get(uri).await;
        assert_eq!((status, body), (expected, Value::Null), "{uri}");
    }
    let (_, server) = app.get("/v2").await;
    assert_eq!(server["name"], "bascule");
    let (status, metadata) = app.get("/v2/models/bc").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(metadata["platform"], "onnx_onnxv1");
    assert_eq!(metadata["versions"], json!(["1"]));
    assert_eq!(
        metadata["inputs"],
        json!([{"name": "input", "datatype": "FP32", "shape": [-1, 30]}])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_requests_get_protocol_errors() {
    let app = test_app().await;
    validated_versions(&app, 1).await;
    deploy(&app, json!({"name": "bc", "version": 1})).await;
    let row = holdout()[0].clone();
    let input = |shape: Value, datatype: &str, data: Value| json!({"inputs": [{"name": "input", "shape": shape, "datatype": datatype, "data": data}]});
    let mut huge = row.iter().map(|&v| json!(v)).collect::<Vec<_>>();
    huge[3] = json!(1e39);
    let cases = [
        (
            input(json!([1, 29]), "FP32", json!(&row[..29])),
            "shape [-1, 30]",
        ),
        (input(json!([1, 30]), "FP64", json!(row)), "must be FP32"),
        (
            input(json!([1, 30]), "FP32", json!(&row[..29])),
            "29 elements",
        ),
        (input(json!([1, 30]), "FLOAT", json!(row)), "'FLOAT'"),
        (
            input(json!([1, 30]), "FP32", json!(huge)),
            "NaN or infinite",
        ),
        (
            json!({"inputs": [{"name": "x", "shape": [1, 30], "datatype": "FP32", "data": row}]}),
            "[\"input\"]",
        ),
        (json!({"inputs": "nope"}), "invalid inference request"),
    ];
    for (body, words) in cases {
        let (status, request_id, answer) =
            call(&app, post("/v2/models/bc/infer", &body, None)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        let message = answer["error"].as_str().unwrap();
        assert!(message.contains(words), "{words}: {message}");
        assert!(request_id.is_some());
    }
    let mut wrong_output = input(json!([1, 30]), "FP32", json!(row));
    wrong_output["outputs"] = json!([{"name": "score"}]);
    let (status, _, answer) = call(&app, post("/v2/models/bc/infer", &wrong_output, None)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("no output 'score'")
    );
    // A request refused before the model ran is answered, and logged as nothing.
    assert_eq!(app.serving.log_stats().accepted, 0);

    let good = input(json!([1, 30]), "FP32", json!(row));
    let (status, _, answer) = call(&app, post("/v2/models/nope/infer", &good, None)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(answer["error"].as_str().unwrap().contains("not deployed"));
    let (status, _, answer) = call(&app, post("/v2/models/bc/versions/x/infer", &good, None)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    let (status, _, _) = call(&app, post("/v2/models/bc/versions/7/infer", &good, None)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Paths and methods no route takes: still OIP's format, with a request id.
    let get = |uri: &str| Request::get(uri).body(Body::empty()).unwrap();
    let (status, request_id, answer) = call(&app, get("/v2/models/bc/infer")).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{answer}");
    assert_eq!(answer["error"], "GET is not allowed on /v2/models/bc/infer");
    assert!(request_id.is_some());
    let mut delete = get("/v2/models/bc");
    *delete.method_mut() = axum::http::Method::DELETE;
    delete
        .headers_mut()
        .insert("x-request-id", "mine".parse().unwrap());
    let (status, request_id, answer) = call(&app, delete).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{answer}");
    assert_eq!(request_id.as_deref(), Some("mine"));
    let (status, request_id, answer) = call(&app, post("/v2/models/bc/explain", &good, None)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    assert_eq!(
        answer["error"],
        "no such endpoint: POST /v2/models/bc/explain"
    );
    assert!(request_id.is_some());
    // Outside OIP's paths, the native API's format.
    let (status, _, answer) = call(&app, get("/api/v1/nothing-here")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(answer["error"]["code"], "NOT_FOUND", "{answer}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_canary_takes_its_share_and_keys_stick() {
    let app = test_app().await;
    validated_versions(&app, 2).await;
    deploy(&app, json!({"name": "bc", "version": 1})).await;
    let (status, body) = deploy(
        &app,
        json!({"name": "bc", "version": 2, "mode": "canary", "percent": 20}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let one = infer_body(&holdout()[..1], None);
    let mut on_canary = 0;
    for i in 0..2000 {
        let key = format!("user-{i}");
        let (status, _, body) = call(&app, post("/v2/models/bc/infer", &one, Some(&key))).await;
        assert_eq!(status, StatusCode::OK);
        if body["model_version"] == "2" {
            on_canary += 1;
        }
    }
    assert!(
        (320..=480).contains(&on_canary),
        "{on_canary} of 2000 on a 20% canary"
    );
    let versions: Vec<Value> = futures::future::join_all((0..5).map(|_| async {
        let (_, _, body) = call(&app, post("/v2/models/bc/infer", &one, Some("user-7"))).await;
        body["model_version"].clone()
    }))
    .await;
    assert!(versions.windows(2).all(|w| w[0] == w[1]), "{versions:?}");

    // Promote, then roll back: the previous live version answers again.
    let (status, body) = app
        .post_json(
            "/api/v1/deployments/bc/promote",
            json!({"reason": "looks good"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (
            body["deployment"]["live"].clone(),
            body["deployment"]["previous_live"].clone()
        ),
        (json!(2), json!(1))
    );
    assert_eq!(body["events"][0]["reason"], "looks good");
    let (status, body) = app
        .post_json("/api/v1/deployments/bc/rollback", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, _, answer) = call(&app, post("/v2/models/bc/infer", &one, None)).await;
    assert_eq!(answer["model_version"], "1");
    let (status, body) = app
        .post_json("/api/v1/deployments/bc/rollback", json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_answer_is_logged_and_shadows_are_never_returned() {
    let app = test_app().await;
    validated_versions(&app, 2).await;
    deploy(&app, json!({"name": "bc", "version": 1})).await;
    let (status, body) = deploy(&app, json!({"name": "bc", "version": 2, "mode": "shadow"})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let rows = holdout();
    let n = 60;
    for i in 0..n {
        let body = infer_body(&rows[i..=i], Some(&format!("req-{i}")));
        let (status, _, answer) = call(&app, post("/v2/models/bc/infer", &body, None)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(answer["model_version"], "1");
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let stats = app.serving.shutdown().await;
    assert_eq!((stats.written, stats.shed), (2 * n as u64, 0));
    let records = app
        .registry
        .store()
        .list_predictions("bc", None, 1000)
        .await
        .unwrap();
    let live: Vec<_> = records.iter().filter(|r| r.role == Role::Live).collect();
    let shadow: Vec<_> = records.iter().filter(|r| r.role == Role::Shadow).collect();
    assert_eq!((live.len(), shadow.len()), (n, n));
    assert!(
        shadow
            .iter()
            .all(|r| r.version == 2 && r.agrees_with_live == Some(true))
    );
    let logged = app
        .registry
        .store()
        .list_predictions("bc", Some("req-7"), 10)
        .await
        .unwrap();
    assert_eq!(logged.len(), 2);

    let (status, listed) = app.get("/api/v1/deployments").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["deployments"][0]["shadow"], 2);
    assert_eq!(listed["prediction_log"]["written"], 2 * n as u64);
}

#[tokio::test(flavor = "multi_thread")]
async fn prototypes_do_not_deploy() {
    let app = test_app().await;
    app.upload(
        "/api/v1/models/bc/versions",
        fixture_bytes("logistic/model.onnx"),
    )
    .await;
    let (status, body) = deploy(&app, json!({"name": "bc", "version": 1})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Prototype"),
        "{body}"
    );
    let (status, body) = deploy(&app, json!({"name": "bc", "version": 1, "mode": "blue"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = deploy(&app, json!({"name": "nope", "version": 1})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, listed) = app.get("/api/v1/deployments").await;
    assert_eq!(
        (status, listed["deployments"].clone()),
        (StatusCode::OK, json!([]))
    );
    let request = Request::delete("/api/v1/deployments/bc")
        .body(Body::empty())
        .unwrap();
    let (status, _) = app.send(request).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

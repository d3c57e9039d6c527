//! MLflow's scoring protocol on deployed fixtures: every input format answers what
//! onnxruntime recorded, errors come in MLflow's format, and every answer is logged.

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use bascule_core::Role;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::{TestApp, fixture, test_app, validated};

pub async fn deploy(app: &TestApp, body: Value) {
    let (status, answer) = app.post_json("/api/v1/deployments", body).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
}

/// A raw answer: status, headers and body bytes.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{}: {e}: {}", self.status, self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    /// Asserts an MLflow error and returns its message.
    pub fn mlflow_error(&self, status: StatusCode, code: &str) -> String {
        assert_eq!(self.status, status, "{}", self.text());
        let body = self.json();
        assert_eq!(body["error_code"], code, "{body}");
        body["message"].as_str().unwrap().to_owned()
    }
}

pub async fn call(app: &TestApp, request: Request<Body>) -> Answer {
    let response = app.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        body: body.to_vec(),
    }
}

pub fn post(uri: &str, content_type: &str, body: impl Into<Body>) -> Request<Body> {
    Request::post(uri)
        .header("content-type", content_type)
        .body(body.into())
        .unwrap()
}

pub fn post_json(uri: &str, body: &Value) -> Request<Body> {
    post(uri, "application/json", body.to_string())
}

/// The breast-cancer holdout: feature names and rows (label dropped).
pub fn holdout() -> (Vec<String>, Vec<Vec<f64>>) {
    let text = std::fs::read_to_string(fixture("logistic/holdout.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .take(30)
        .map(str::to_owned)
        .collect();
    let rows = lines
        .map(|line| {
            line.split(',')
                .take(30)
                .map(|v| v.parse().unwrap())
                .collect()
        })
        .collect();
    (header, rows)
}

fn expected(fixture_name: &str) -> Value {
    let path = fixture(&format!("{fixture_name}/expected.json"));
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn flat(value: &Value, out: &mut Vec<f64>) {
    match value {
        Value::Array(items) => items.iter().for_each(|item| flat(item, out)),
        other => out.push(other.as_f64().unwrap()),
    }
}

/// Asserts MLflow's `{"predictions": {output: nested}}` equals the recorded outputs.
fn assert_predictions(answer: &Answer, fixture_name: &str, what: &str) {
    assert_eq!(answer.status, StatusCode::OK, "{what}: {}", answer.text());
    let body = answer.json();
    let expected = expected(fixture_name);
    let outputs = expected["outputs"].as_object().unwrap();
    let predictions = body["predictions"].as_object().unwrap();
    assert_eq!(predictions.len(), outputs.len(), "{what}");
    for (name, want) in outputs {
        let shape = want["shape"].as_array().unwrap();
        let got = &predictions[name];
        assert_eq!(
            got.as_array().unwrap().len() as u64,
            shape[0].as_u64().unwrap(),
            "{what}: {name} rows"
        );
        if shape.len() == 2 {
            assert_eq!(
                got[0].as_array().unwrap().len() as u64,
                shape[1].as_u64().unwrap(),
                "{what}: {name} columns"
            );
        }
        let mut values = Vec::new();
        flat(got, &mut values);
        let mut wanted = Vec::new();
        flat(&want["data"], &mut wanted);
        assert_eq!(values.len(), wanted.len(), "{what}: {name}");
        for (i, (got, want)) in values.iter().zip(&wanted).enumerate() {
            assert!(
                (got - want).abs() <= 1e-5 * (1.0 + want.abs()),
                "{what}: {name}[{i}] = {got}, recorded {want}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_input_format_answers_the_recorded_outputs() {
    let app = test_app().await;
    validated(&app, "bc", "logistic", 1).await;
    deploy(&app, json!({"name": "bc", "version": 1})).await;
    let (columns, rows) = holdout();
    // Records written by hand: serde_json's `Map` would sort the columns.
    let records: Vec<String> = rows
        .iter()
        .map(|row| {
            let cells: Vec<String> = columns
                .iter()
                .zip(row)
                .map(|(column, value)| format!("{}: {}", json!(column), json!(value)))
                .collect();
            format!("{{{}}}", cells.join(", "))
        })
        .collect();
    let records = format!("{{\"dataframe_records\": [{}]}}", records.join(", "));
    let answer = call(
        &app,
        post("/models/bc/invocations", "application/json", records),
    )
    .await;
    assert_predictions(&answer, "logistic", "dataframe_records");
    let cases = [
        (
            "dataframe_split",
            json!({"dataframe_split": {"columns": columns, "data": rows,
                "index": (0..rows.len()).collect::<Vec<_>>()}}),
        ),
        ("instances", json!({"instances": rows})),
        (
            "inputs as a list",
            json!({"inputs": rows, "params": {"ignored": 1}}),
        ),
        ("inputs as a dict", json!({"inputs": {"input": rows}})),
        (
            "a column holding the input's rows",
            json!({"dataframe_split": {"columns": ["input"],
                "data": rows.iter().map(|row| vec![row]).collect::<Vec<_>>()}}),
        ),
    ];
    for (what, body) in cases {
        let answer = call(&app, post_json("/models/bc/invocations", &body)).await;
        assert_predictions(&answer, "logistic", what);
        assert_eq!(answer.header("x-bascule-role"), Some("live"));
        assert_eq!(answer.header("x-bascule-model-version"), Some("1"));
        assert!(answer.header("x-request-id").is_some(), "{what}");
    }

    // CSV: the holdout file without its label column, through /invocations.
    let text = std::fs::read_to_string(fixture("logistic/holdout.csv")).unwrap();
    let csv: String = text
        .lines()
        .map(|line| format!("{}\r\n", line.rsplit_once(',').unwrap().0))
        .collect();
    let answer = call(&app, post("/invocations", "text/csv; charset=utf-8", csv)).await;
    assert_predictions(&answer, "logistic", "CSV");

    // The caller's request id is echoed.
    let request = Request::post("/invocations")
        .header("content-type", "application/json")
        .header("x-request-id", "mine-1")
        .body(Body::from(json!({"instances": [rows[0]]}).to_string()))
        .unwrap();
    let answer = call(&app, request).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.header("x-request-id"), Some("mine-1"));
    assert_eq!(answer.json()["predictions"]["label"], json!([0]));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_model_with_one_input_per_column_takes_them_by_name() {
    let app = test_app().await;
    validated(&app, "diabetes", "column_transformer", 1).await;
    deploy(&app, json!({"name": "diabetes", "version": 1})).await;
    let expected = expected("column_transformer");
    let inputs = expected["inputs"].as_object().unwrap();
    let n_rows = 111;
    let column = |name: &str| inputs[name]["data"].as_array().unwrap().clone();
    // Records with the columns in another order than the model's inputs, and an extra one.
    let records: Vec<Value> = (0..n_rows)
        .map(|row| {
            let mut record = serde_json::Map::new();
            record.insert("unused".into(), json!(row));
            for name in ["bmi_band", "sex", "s5", "bp", "bmi", "age"] {
                record.insert(name.into(), column(name)[row].clone());
            }
            Value::Object(record)
        })
        .collect();
    let answer = call(
        &app,
        post_json(
            "/models/diabetes/invocations",
            &json!({"dataframe_records": records}),
        ),
    )
    .await;
    assert_predictions(&answer, "column_transformer", "dataframe_records");

    let named: serde_json::Map<String, Value> = inputs
        .keys()
        .map(|name| (name.clone(), Value::Array(column(name))))
        .collect();
    let answer = call(
        &app,
        post_json("/invocations", &json!({"inputs": Value::Object(named)})),
    )
    .await;
    assert_predictions(&answer, "column_transformer", "inputs as a dict");

    let answer = call(
        &app,
        post_json(
            "/invocations",
            &json!({"dataframe_split": {"columns": ["age", "bmi"], "data": [[0.1, 0.2]]}}),
        ),
    )
    .await;
    let message = answer.mlflow_error(StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE");
    assert!(
        message.contains("lacks") && message.contains("\"sex\""),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn mistakes_get_mlflow_errors() {
    let app = test_app().await;
    // Nothing deployed yet.
    let one_row = json!({"instances": [holdout().1[0]]});
    let answer = call(&app, post_json("/invocations", &one_row)).await;
    let message = answer.mlflow_error(StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST");
    assert!(message.contains("no model is deployed"), "{message}");
    assert!(answer.header("x-request-id").is_some());
    let (status, _) =
        (call(&app, Request::get("/ping").body(Body::empty()).unwrap()).await).status_and_text();
    assert_eq!(status, StatusCode::NOT_FOUND);

    validated(&app, "bc", "logistic", 1).await;
    deploy(&app, json!({"name": "bc", "version": 1})).await;
    let (status, _) = call(&app, Request::get("/ping").body(Body::empty()).unwrap())
        .await
        .status_and_text();
    assert_eq!(status, StatusCode::OK);
    let uri = "/models/bc/invocations";

    for (content_type, words) in [
        ("text/plain", "Got 'text/plain'"),
        (
            "application/json; format=pandas-split",
            "parameters: format",
        ),
        ("application/json; charset=latin-1", "only supports UTF-8"),
    ] {
        let answer = call(&app, post(uri, content_type, one_row.to_string())).await;
        assert_eq!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert!(
            answer
                .header("content-type")
                .unwrap()
                .starts_with("text/plain")
        );
        assert!(answer.text().contains(words), "{}", answer.text());
        assert!(answer.header("x-request-id").is_some());
    }

    let answer = call(
        &app,
        post(uri, "application/json", "{\"instances\": [[1, 2"),
    )
    .await;
    let message = answer.mlflow_error(StatusCode::BAD_REQUEST, "BAD_REQUEST");
    assert!(
        message.contains("Failed to parse input from JSON"),
        "{message}"
    );

    let answer = call(&app, post_json(uri, &json!({"data": [[1, 2]]}))).await;
    let message = answer.mlflow_error(StatusCode::BAD_REQUEST, "BAD_REQUEST");
    assert!(
        message.contains("exactly one of the input fields") && message.contains("[\"data\"]"),
        "{message}"
    );
    let answer = call(&app, post_json(uri, &json!([[1, 2]]))).await;
    answer.mlflow_error(StatusCode::BAD_REQUEST, "BAD_REQUEST");

    let (columns, rows) = holdout();
    let narrow = json!({"dataframe_split": {"columns": columns[..29],
        "data": [rows[0][..29]]}});
    let answer = call(&app, post_json(uri, &narrow)).await;
    let message = answer.mlflow_error(StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE");
    assert!(
        message.contains("takes 30 features, got 29 columns"),
        "{message}"
    );
    let ragged = json!({"dataframe_split": {"columns": columns, "data": [rows[0][..29]]}});
    let answer = call(&app, post_json(uri, &ragged)).await;
    let message = answer.mlflow_error(StatusCode::BAD_REQUEST, "BAD_REQUEST");
    assert!(
        message.contains("row 0 has 29 values but there are 30 columns"),
        "{message}"
    );

    let mut missing = rows[0].iter().map(|v| json!(v)).collect::<Vec<_>>();
    missing[4] = Value::Null;
    let answer = call(&app, post_json(uri, &json!({"instances": [missing]}))).await;
    let message = answer.mlflow_error(StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE");
    assert!(message.contains("NaN"), "{message}");
    let mut text = rows[0].iter().map(|v| json!(v)).collect::<Vec<_>>();
    text[2] = json!("tall");
    let answer = call(&app, post_json(uri, &json!({"instances": [text]}))).await;
    let message = answer.mlflow_error(StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE");
    assert!(message.contains("\"tall\" is not a number"), "{message}");

    let answer = call(&app, post_json("/models/nope/invocations", &one_row)).await;
    let message = answer.mlflow_error(StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST");
    assert!(message.contains("not deployed"), "{message}");

    // A body over the configured limit: 413 in each protocol's format, never a 500.
    let small = crate::test_app_with(bascule_server::ServerConfig {
        max_request_bytes: 1 << 20,
        ..bascule_server::ServerConfig::default()
    })
    .await;
    let padded = format!(
        "{{\"instances\": [[1]], \"pad\": \"{}\"}}",
        "x".repeat(3 << 20)
    );
    let answer = call(&small, post(uri, "application/json", padded.clone())).await;
    let message = answer.mlflow_error(StatusCode::PAYLOAD_TOO_LARGE, "BAD_REQUEST");
    assert!(message.contains("too large"), "{message}");
    let (status, body) = small
        .send(
            axum::http::Request::post("/v2/models/bc/infer")
                .header("content-type", "application/json")
                .body(axum::body::Body::from(padded))
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap_or_default()
            .contains("too large"),
        "{body}"
    );

    // Two models deployed: /invocations cannot choose.
    validated(&app, "other", "logistic", 1).await;
    deploy(&app, json!({"name": "other", "version": 1})).await;
    let answer = call(&app, post_json("/invocations", &one_row)).await;
    let message = answer.mlflow_error(StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE");
    assert!(
        message.contains("2 models are deployed (bc, other)")
            && message.contains("/models/NAME/invocations"),
        "{message}"
    );
    let answer = call(&app, post_json("/models/other/invocations", &one_row)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
}

impl Answer {
    fn status_and_text(&self) -> (StatusCode, String) {
        (self.status, self.text())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn answers_are_logged_and_routed_like_the_open_inference_protocol() {
    let app = test_app().await;
    validated(&app, "bc", "logistic", 3).await;
    deploy(&app, json!({"name": "bc", "version": 1})).await;
    deploy(&app, json!({"name": "bc", "version": 2, "mode": "shadow"})).await;
    let (_, rows) = holdout();
    let n = 25;
    for (i, row) in rows.iter().take(n).enumerate() {
        let request = Request::post("/invocations")
            .header("content-type", "application/json")
            .header("x-request-id", format!("mlflow-{i}"))
            .body(Body::from(json!({"inputs": [row]}).to_string()))
            .unwrap();
        let answer = call(&app, request).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
        assert_eq!(answer.header("x-bascule-model-version"), Some("1"));
    }

    // A canary takes its share by routing key, and a key sticks to its version.
    deploy(
        &app,
        json!({"name": "bc", "version": 3, "mode": "canary", "percent": 50}),
    )
    .await;
    let mut roles = std::collections::BTreeMap::new();
    for i in 0..40 {
        let request = Request::post("/invocations")
            .header("content-type", "application/json")
            .header("x-bascule-route-key", format!("user-{i}"))
            .body(Body::from(json!({"instances": [rows[0]]}).to_string()))
            .unwrap();
        let answer = call(&app, request).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
        let role = answer.header("x-bascule-role").unwrap().to_owned();
        let version = answer.header("x-bascule-model-version").unwrap().to_owned();
        assert_eq!(
            (role.as_str(), version.as_str()),
            if role == "canary" {
                ("canary", "3")
            } else {
                ("live", "1")
            }
        );
        *roles.entry(role).or_insert(0) += 1;
    }
    assert_eq!(roles.len(), 2, "{roles:?}");

    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let stats = app.serving.shutdown().await;
    assert_eq!((stats.written, stats.shed), (2 * n as u64 + 40 * 2, 0));
    let store = app.registry.store();
    let records = store.list_predictions("bc", None, 1000).await.unwrap();
    let count = |role: Role, version: i64| {
        records
            .iter()
            .filter(|r| r.role == role && r.version == version)
            .count()
    };
    assert_eq!(
        count(Role::Live, 1) + count(Role::Canary, 3),
        n + 40,
        "one row per answer"
    );
    assert_eq!(count(Role::Shadow, 2), n + 40, "one shadow row per answer");
    let logged = store
        .list_predictions("bc", Some("mlflow-7"), 10)
        .await
        .unwrap();
    assert_eq!(logged.len(), 2);
    let live = logged.iter().find(|r| r.role == Role::Live).unwrap();
    assert_eq!(live.version, 1);
    assert!(live.error.is_none());
    assert_eq!(live.inputs[0].shape, vec![1, 30]);
}

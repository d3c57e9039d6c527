//! The MLflow-compatible API through the real router: what the client relies on, bad
//! input answered with MLflow's error JSON and a 4xx, params immutable, concurrent
//! log-batch calls losing nothing, and a version registered from the artifact tree.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use super::{TestApp, fixture_bytes, test_app};

const API: &str = "/api/2.0/mlflow";

/// Asserts MLflow's error format and returns the message.
fn mlflow_error(status: StatusCode, body: &Value, expected: StatusCode, code: &str) -> String {
    assert_eq!(status, expected, "{body}");
    assert_eq!(body["error_code"], code, "{body}");
    body["message"].as_str().expect("message").to_owned()
}

async fn raw(app: &TestApp, method: &str, uri: &str, body: &str) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .expect("request");
    app.send(request).await
}

async fn post(app: &TestApp, path: &str, body: Value) -> (StatusCode, Value) {
    app.post_json(&format!("{API}/{path}"), body).await
}

async fn new_run(app: &TestApp, experiment_id: &str) -> String {
    let (status, body) = post(
        app,
        "runs/create",
        json!({"experiment_id": experiment_id, "start_time": 1000, "run_name": "r"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["run"]["info"]["run_id"]
        .as_str()
        .expect("run id")
        .to_owned()
}

async fn new_experiment(app: &TestApp, name: &str) -> String {
    let (status, body) = post(app, "experiments/create", json!({"name": name})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["experiment_id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn set_experiment_flow_and_the_run_as_the_client_reads_it() {
    let app = test_app().await;
    let (status, body) = app
        .get(&format!(
            "{API}/experiments/get-by-name?experiment_name=anchor"
        ))
        .await;
    mlflow_error(
        status,
        &body,
        StatusCode::NOT_FOUND,
        "RESOURCE_DOES_NOT_EXIST",
    );
    let experiment_id = new_experiment(&app, "anchor").await;
    let (status, body) = app
        .get(&format!(
            "{API}/experiments/get?experiment_id={experiment_id}"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["experiment"]["name"], "anchor");
    assert_eq!(
        body["experiment"]["artifact_location"],
        format!("mlflow-artifacts:/{experiment_id}")
    );
    let (status, body) = post(&app, "experiments/create", json!({"name": "anchor"})).await;
    mlflow_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        "RESOURCE_ALREADY_EXISTS",
    );

    let run_id = new_run(&app, &experiment_id).await;
    for (path, body) in [
        (
            "runs/log-parameter",
            json!({"run_id": run_id, "run_uuid": run_id, "key": "C", "value": "1.0"}),
        ),
        (
            "runs/log-metric",
            json!({"run_id": run_id, "key": "acc", "value": 0.5, "timestamp": 5, "step": 0}),
        ),
        (
            "runs/log-metric",
            json!({"run_id": run_id, "key": "acc", "value": "NaN", "timestamp": "6", "step": "1"}),
        ),
        (
            "runs/log-metric",
            json!({"run_id": run_id, "key": "acc", "value": 0.9, "timestamp": 7, "step": 2}),
        ),
        (
            "runs/set-tag",
            json!({"run_id": run_id, "key": "team", "value": "anchors"}),
        ),
        (
            "runs/log-inputs",
            json!({"run_id": run_id, "datasets": [{
            "tags": [{"key": "mlflow.data.context", "value": "training"}],
            "dataset": {"name": "bc", "digest": "81e5", "source_type": "local",
                        "source": "{\"uri\": \"x\"}", "schema": "{}", "profile": "{}"}}]}),
        ),
    ] {
        let (status, response) = post(&app, path, body).await;
        assert_eq!(status, StatusCode::OK, "{path}: {response}");
        assert_eq!(response, json!({}), "{path}");
    }
    let (status, body) = app
        .get(&format!("{API}/runs/get?run_uuid={run_id}&run_id={run_id}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let run = &body["run"];
    assert_eq!(run["info"]["status"], "RUNNING");
    assert_eq!(
        run["data"]["metrics"][0],
        json!({"key": "acc", "value": 0.9, "timestamp": 7, "step": 2})
    );
    assert_eq!(run["data"]["params"], json!([{"key": "C", "value": "1.0"}]));
    assert_eq!(run["inputs"]["dataset_inputs"][0]["dataset"]["name"], "bc");
    let (status, body) = app
        .get(&format!(
            "{API}/metrics/get-history?run_id={run_id}&metric_key=acc&max_results=25000"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let values: Vec<&Value> = body["metrics"]
        .as_array()
        .expect("metrics")
        .iter()
        .map(|m| &m["value"])
        .collect();
    assert_eq!(values, [&json!(0.5), &json!("NaN"), &json!(0.9)]);

    let (status, body) = post(
        &app,
        "runs/update",
        json!({"run_id": run_id, "status": "FINISHED", "end_time": 9}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["run_info"]["status"], "FINISHED");
    assert_eq!(body["run_info"]["end_time"], 9);
}

#[tokio::test]
async fn bad_input_gets_mlflow_errors_never_a_5xx_or_html() {
    let app = test_app().await;
    let run_id = new_run(&app, "0").await;
    // Malformed JSON and a body that is not an object.
    for body in ["{not json", "[1, 2]", "\"x\""] {
        let (status, response) = raw(&app, "POST", &format!("{API}/runs/log-batch"), body).await;
        mlflow_error(
            status,
            &response,
            StatusCode::BAD_REQUEST,
            "MALFORMED_REQUEST",
        );
    }
    // Unknown endpoints, under both prefixes, and a wrong method.
    for uri in [
        "/api/2.0/mlflow/no-such-endpoint",
        "/ajax-api/2.0/mlflow/runs/nope",
        "/api/2.0/mlflow-artifacts/nope",
        "/api/3.0/mlflow/nope",
    ] {
        let (status, response) = app.get(uri).await;
        mlflow_error(
            status,
            &response,
            StatusCode::NOT_FOUND,
            "ENDPOINT_NOT_FOUND",
        );
    }
    let (status, response) = app.get(&format!("{API}/runs/create")).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{response}");
    assert!(response["error_code"].is_string(), "{response}");
    // Missing fields.
    for (path, body, field) in [
        (
            "runs/log-metric",
            json!({"run_id": run_id, "value": 1.0, "timestamp": 0}),
            "key",
        ),
        (
            "runs/log-metric",
            json!({"run_id": run_id, "key": "k", "timestamp": 0}),
            "value",
        ),
        (
            "runs/log-metric",
            json!({"key": "k", "value": 1.0, "timestamp": 0}),
            "run_id",
        ),
        (
            "runs/log-parameter",
            json!({"run_id": run_id, "key": "k"}),
            "value",
        ),
        ("experiments/create", json!({}), "name"),
        ("runs/log-batch", json!({"metrics": []}), "run_id"),
        ("registered-models/create", json!({"name": ""}), "name"),
        ("model-versions/create", json!({"name": "m"}), "source"),
    ] {
        let (status, response) = post(&app, path, body).await;
        let message = mlflow_error(
            status,
            &response,
            StatusCode::BAD_REQUEST,
            "INVALID_PARAMETER_VALUE",
        );
        assert!(message.contains(&format!("'{field}'")), "{path}: {message}");
    }
    // Wrong types.
    for (path, body) in [
        (
            "runs/log-metric",
            json!({"run_id": run_id, "key": "k", "value": "high", "timestamp": 0}),
        ),
        (
            "runs/log-metric",
            json!({"run_id": run_id, "key": "k", "value": 1, "timestamp": "soon"}),
        ),
        (
            "runs/log-batch",
            json!({"run_id": run_id, "metrics": "many"}),
        ),
        (
            "runs/log-batch",
            json!({"run_id": run_id, "tags": [{"key": ["a"], "value": "b"}]}),
        ),
        ("runs/create", json!({"experiment_id": "first"})),
        (
            "runs/search",
            json!({"experiment_ids": ["0"], "max_results": -1}),
        ),
        (
            "runs/search",
            json!({"experiment_ids": ["0"], "page_token": "garbage"}),
        ),
        ("runs/update", json!({"run_id": run_id, "status": "DONE"})),
    ] {
        let (status, response) = post(&app, path, body.clone()).await;
        mlflow_error(
            status,
            &response,
            StatusCode::BAD_REQUEST,
            "INVALID_PARAMETER_VALUE",
        );
    }
    // Oversized batches, with MLflow's limits.
    let metrics: Vec<Value> = (0..1001)
        .map(|i| json!({"key": format!("m{i}"), "value": 1.0, "timestamp": 0, "step": 0}))
        .collect();
    let (status, response) = post(
        &app,
        "runs/log-batch",
        json!({"run_id": run_id, "metrics": metrics}),
    )
    .await;
    let message = mlflow_error(
        status,
        &response,
        StatusCode::BAD_REQUEST,
        "INVALID_PARAMETER_VALUE",
    );
    assert!(
        message.contains("at most 1000 metrics. Got 1001"),
        "{message}"
    );
    let params: Vec<Value> = (0..101)
        .map(|i| json!({"key": format!("p{i}"), "value": "v"}))
        .collect();
    let (status, response) = post(
        &app,
        "runs/log-batch",
        json!({"run_id": run_id, "params": params}),
    )
    .await;
    let message = mlflow_error(
        status,
        &response,
        StatusCode::BAD_REQUEST,
        "INVALID_PARAMETER_VALUE",
    );
    assert!(message.contains("at most 100 params"), "{message}");
    let long_key = "k".repeat(251);
    let (status, response) = post(
        &app,
        "runs/set-tag",
        json!({"run_id": run_id, "key": long_key, "value": "v"}),
    )
    .await;
    mlflow_error(
        status,
        &response,
        StatusCode::BAD_REQUEST,
        "INVALID_PARAMETER_VALUE",
    );
    // Nothing of the refused batches was written.
    let (_, body) = app.get(&format!("{API}/runs/get?run_id={run_id}")).await;
    assert!(body["run"]["data"].get("metrics").is_none(), "{body}");
    // Unknown ids.
    let missing = "0".repeat(32);
    for (status, response) in [
        app.get(&format!("{API}/runs/get?run_id={missing}")).await,
        post(
            &app,
            "runs/log-batch",
            json!({"run_id": missing, "params": [{"key": "a", "value": "b"}]}),
        )
        .await,
        app.get(&format!("{API}/experiments/get?experiment_id=999999"))
            .await,
        app.get(&format!(
            "{API}/metrics/get-history?run_id={missing}&metric_key=x"
        ))
        .await,
        app.get(&format!("{API}/registered-models/get?name=no-such-model"))
            .await,
        app.get(&format!(
            "{API}/model-versions/get?name=no-such-model&version=1"
        ))
        .await,
        app.get(&format!("{API}/logged-models/m-{missing}")).await,
        app.get(&format!(
            "/api/2.0/mlflow-artifacts/artifacts/0/{missing}/artifacts/x.txt"
        ))
        .await,
        post(&app, "runs/create", json!({"experiment_id": "424242"})).await,
    ] {
        mlflow_error(
            status,
            &response,
            StatusCode::NOT_FOUND,
            "RESOURCE_DOES_NOT_EXIST",
        );
    }
    // Invalid filters and orders.
    for filter in [
        "metrics.acc >>> 1",
        "metrics.acc > 'high'",
        "params.a = 1",
        "params.a > '1'",
        "metrics.acc > 1 or params.a = 'b'",
        "nonsense.acc > 1",
        "attributes.colour = 'red'",
        "params.a IN 'x'",
        "params.a = 'unterminated",
        "datasets.size = 'x'",
    ] {
        let (status, response) = post(
            &app,
            "runs/search",
            json!({"experiment_ids": ["0"], "filter": filter}),
        )
        .await;
        mlflow_error(
            status,
            &response,
            StatusCode::BAD_REQUEST,
            "INVALID_PARAMETER_VALUE",
        );
    }
    let (status, response) = post(
        &app,
        "runs/search",
        json!({"experiment_ids": ["0"], "order_by": ["metrics.acc sideways"]}),
    )
    .await;
    mlflow_error(
        status,
        &response,
        StatusCode::BAD_REQUEST,
        "INVALID_PARAMETER_VALUE",
    );
}

#[tokio::test]
async fn params_are_immutable() {
    let app = test_app().await;
    let run_id = new_run(&app, "0").await;
    let log = |value: &str| json!({"run_id": run_id, "key": "C", "value": value});
    assert_eq!(
        post(&app, "runs/log-parameter", log("1.0")).await.0,
        StatusCode::OK
    );
    // The same value again is fine, as in MLflow.
    assert_eq!(
        post(&app, "runs/log-parameter", log("1.0")).await.0,
        StatusCode::OK
    );
    let (status, response) = post(&app, "runs/log-parameter", log("2.0")).await;
    let message = mlflow_error(
        status,
        &response,
        StatusCode::BAD_REQUEST,
        "INVALID_PARAMETER_VALUE",
    );
    assert!(
        message.contains("'C'") && message.contains("1.0"),
        "{message}"
    );
    let batch = json!({"run_id": run_id, "params": [{"key": "D", "value": "x"}, {"key": "C", "value": "3"}]});
    let (status, response) = post(&app, "runs/log-batch", batch).await;
    mlflow_error(
        status,
        &response,
        StatusCode::BAD_REQUEST,
        "INVALID_PARAMETER_VALUE",
    );
    let (_, body) = app.get(&format!("{API}/runs/get?run_id={run_id}")).await;
    assert_eq!(
        body["run"]["data"]["params"],
        json!([{"key": "C", "value": "1.0"}])
    );
}

#[tokio::test]
async fn concurrent_log_batches_to_one_run_lose_nothing() {
    let app = test_app().await;
    let run_id = new_run(&app, "0").await;
    let n_tasks = 16;
    let n_steps = 50;
    let mut tasks = Vec::new();
    for task in 0..n_tasks {
        let router = app.router.clone();
        let run_id = run_id.clone();
        tasks.push(tokio::spawn(async move {
            let metrics: Vec<Value> = (0..n_steps)
                .map(|step| json!({"key": "loss", "value": task * 1000 + step, "timestamp": task, "step": step}))
                .chain(std::iter::once(json!({"key": format!("own{task}"), "value": 1, "timestamp": 0})))
                .collect();
            let body = json!({
                "run_id": run_id,
                "metrics": metrics,
                "params": [{"key": format!("p{task}"), "value": "v"}],
                "tags": [{"key": "shared", "value": format!("{task}")}],
            });
            let request = Request::post(format!("{API}/runs/log-batch"))
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .expect("request");
            let response = router.oneshot(request).await.expect("infallible");
            let status = response.status();
            let bytes = response.into_body().collect().await.expect("body").to_bytes();
            assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&bytes));
        }));
    }
    for task in tasks {
        task.await.expect("task");
    }
    let (status, body) = app
        .get(&format!(
            "{API}/metrics/get-history?run_id={run_id}&metric_key=loss"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["metrics"].as_array().expect("metrics").len(),
        n_tasks * n_steps
    );
    let (_, body) = app.get(&format!("{API}/runs/get?run_id={run_id}")).await;
    let data = &body["run"]["data"];
    assert_eq!(data["params"].as_array().expect("params").len(), n_tasks);
    assert_eq!(
        data["metrics"].as_array().expect("metrics").len(),
        n_tasks + 1
    );
    // The latest loss: the largest step, then the largest timestamp.
    let loss = data["metrics"]
        .as_array()
        .expect("metrics")
        .iter()
        .find(|m| m["key"] == "loss")
        .expect("loss");
    assert_eq!(loss["step"], n_steps - 1);
    assert_eq!(loss["timestamp"], n_tasks - 1);
}

#[tokio::test]
async fn search_filters_orders_and_pages() {
    let app = test_app().await;
    let experiment_id = new_experiment(&app, "search").await;
    let mut runs = Vec::new();
    for i in 0..5 {
        let run_id = new_run(&app, &experiment_id).await;
        let body = json!({
            "run_id": run_id,
            "metrics": [{"key": "acc", "value": f64::from(i) / 4.0, "timestamp": 0, "step": 0}],
            "params": [{"key": "kind", "value": if i % 2 == 0 { "even" } else { "odd" }}],
            "tags": [{"key": "mlflow.runName", "value": format!("Run-{i}")}],
        });
        assert_eq!(post(&app, "runs/log-batch", body).await.0, StatusCode::OK);
        runs.push(run_id);
    }
    let search = |filter: &str, order: &[&str], max: u64, token: Option<&str>| {
        let mut body = json!({"experiment_ids": [experiment_id], "filter": filter,
                              "order_by": order, "max_results": max});
        if let Some(token) = token {
            body["page_token"] = json!(token);
        }
        body
    };
    let names = |body: &Value| -> Vec<String> {
        body["runs"].as_array().map_or_else(Vec::new, |runs| {
            runs.iter()
                .map(|run| run["info"]["run_name"].as_str().expect("name").to_owned())
                .collect()
        })
    };
    let (status, body) = post(
        &app,
        "runs/search",
        search("metrics.acc > 0.3", &["metrics.acc DESC"], 2, None),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(names(&body), ["Run-4", "Run-3"]);
    let token = body["next_page_token"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let (_, body) = post(
        &app,
        "runs/search",
        search("metrics.acc > 0.3", &["metrics.acc DESC"], 2, Some(&token)),
    )
    .await;
    assert_eq!(names(&body), ["Run-2"]);
    assert!(body.get("next_page_token").is_none(), "{body}");
    for (filter, expected) in [
        ("params.kind = 'odd'", vec!["Run-1", "Run-3"]),
        (
            "params.kind != 'odd' and metrics.acc <= 0.5",
            vec!["Run-0", "Run-2"],
        ),
        (
            "attributes.run_name LIKE 'Run-%'",
            vec!["Run-0", "Run-1", "Run-2", "Run-3", "Run-4"],
        ),
        ("attributes.run_name LIKE 'run-%'", vec![]),
        ("attributes.run_name ILIKE 'run-1'", vec!["Run-1"]),
        (
            "tags.`mlflow.runName` IN ('Run-0', 'Run-4')",
            vec!["Run-0", "Run-4"],
        ),
        (
            "params.kind NOT IN ('odd')",
            vec!["Run-0", "Run-2", "Run-4"],
        ),
        ("metrics.missing > 0", vec![]),
    ] {
        let (status, body) = post(
            &app,
            "runs/search",
            search(filter, &["attributes.run_name ASC"], 100, None),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{filter}: {body}");
        assert_eq!(names(&body), expected, "{filter}");
    }
    // Deleted runs leave the default view.
    let (status, _) = post(&app, "runs/delete", json!({"run_id": runs[0]})).await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = post(
        &app,
        "runs/search",
        search("", &["attributes.run_name"], 100, None),
    )
    .await;
    assert_eq!(names(&body), ["Run-1", "Run-2", "Run-3", "Run-4"]);
    let mut deleted = search("", &[], 100, None);
    deleted["run_view_type"] = json!("DELETED_ONLY");
    let (_, body) = post(&app, "runs/search", deleted).await;
    assert_eq!(names(&body), ["Run-0"]);
    let mut all = search("", &["attributes.run_name"], 100, None);
    all["run_view_type"] = json!("ALL");
    let (status, body) = post(&app, "runs/search", all).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(names(&body).len(), 5);
}

/// An MLmodel with the ONNX flavor, as `mlflow.onnx.log_model` writes it.
const ONNX_MLMODEL: &str = "artifact_path: model\nflavors:\n  onnx:\n    code: null\n    \
    data: model.onnx\n    onnx_version: 1.17.0\n    providers: []\n  python_function:\n    \
    data: model.onnx\n    loader_module: mlflow.onnx\n    python_version: 3.11.7\n\
    mlflow_version: 3.17.2\n";

const SKLEARN_MLMODEL: &str = "flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n    \
    model_path: model.pkl\n  sklearn:\n    pickled_model: model.pkl\n    \
    serialization_format: cloudpickle\nmlflow_version: 3.17.2\n";

async fn put_artifact(app: &TestApp, path: &str, bytes: Vec<u8>) {
    let request = Request::put(format!("/api/2.0/mlflow-artifacts/artifacts/{path}"))
        .header("content-type", "application/octet-stream")
        .body(Body::from(bytes))
        .expect("request");
    let (status, body) = app.send(request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn log_model(
    app: &TestApp,
    experiment_id: &str,
    run_id: &str,
    files: &[(&str, Vec<u8>)],
) -> String {
    let (status, body) = post(
        app,
        "logged-models",
        json!({
        "experiment_id": experiment_id, "name": "model", "source_run_id": run_id,
        "params": [{"key": "C", "value": "1.0"}]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["model"]["info"]["status"], "LOGGED_MODEL_PENDING");
    let model_id = body["model"]["info"]["model_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let location = body["model"]["info"]["artifact_uri"]
        .as_str()
        .expect("uri")
        .to_owned();
    assert_eq!(
        location,
        format!("mlflow-artifacts:/{experiment_id}/models/{model_id}/artifacts")
    );
    let (status, _) = post(
        app,
        "runs/outputs",
        json!({"run_id": run_id, "models": [{"model_id": model_id, "step": 0}]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for (path, bytes) in files {
        let tree = location.trim_start_matches("mlflow-artifacts:/");
        put_artifact(app, &format!("{tree}/{path}"), bytes.clone()).await;
    }
    let request = Request::patch(format!("{API}/logged-models/{model_id}"))
        .header("content-type", "application/json")
        .body(Body::from(
            json!({"model_id": model_id, "status": "LOGGED_MODEL_READY"}).to_string(),
        ))
        .expect("request");
    let (status, body) = app.send(request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["model"]["info"]["status"], "LOGGED_MODEL_READY");
    model_id
}

#[tokio::test]
async fn versions_registered_through_mlflow_are_bascule_versions() {
    let app = test_app().await;
    let experiment_id = new_experiment(&app, "registry").await;
    let run_id = new_run(&app, &experiment_id).await;

    // The artifact proxy: upload, list, download.
    put_artifact(
        &app,
        &format!("{experiment_id}/{run_id}/artifacts/notes.txt"),
        b"accuracy=0.98\n".to_vec(),
    )
    .await;
    put_artifact(
        &app,
        &format!("{experiment_id}/{run_id}/artifacts/plots/roc.txt"),
        b"roc".to_vec(),
    )
    .await;
    let (status, body) = app
        .get(&format!(
            "/api/2.0/mlflow-artifacts/artifacts?path={experiment_id}/{run_id}/artifacts"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["files"],
        json!([
            {"path": "notes.txt", "is_dir": false, "file_size": 14},
            {"path": "plots", "is_dir": true},
        ])
    );
    let response = app
        .router
        .clone()
        .oneshot(
            Request::get(format!(
                "/api/2.0/mlflow-artifacts/artifacts/{experiment_id}/{run_id}/artifacts/notes.txt"
            ))
            .body(Body::empty())
            .expect("request"),
        )
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    assert_eq!(&bytes[..], b"accuracy=0.98\n");
    let request = Request::put("/api/2.0/mlflow-artifacts/artifacts/1/../../etc/passwd")
        .body(Body::from("x"))
        .expect("request");
    let (status, body) = app.send(request).await;
    assert!(status.is_client_error(), "{status} {body}");

    // An ONNX model: a Prototype with its engine recorded.
    let onnx = log_model(
        &app,
        &experiment_id,
        &run_id,
        &[
            ("MLmodel", ONNX_MLMODEL.as_bytes().to_vec()),
            ("model.onnx", fixture_bytes("logistic/model.onnx")),
        ],
    )
    .await;
    let (status, body) = post(&app, "registered-models/create", json!({"name": "bc"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = post(
        &app,
        "model-versions/create",
        json!({
        "name": "bc", "source": format!("models:/{onnx}"), "run_id": run_id, "model_id": onnx}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let version = &body["model_version"];
    assert_eq!(version["version"], "1");
    assert_eq!(version["current_stage"], "None");
    assert_eq!(version["model_id"], onnx.as_str());
    let bascule_version = app
        .registry
        .get_version("bc", 1)
        .await
        .expect("a Bascule version");
    assert_eq!(bascule_version.stage, bascule_core::Stage::Prototype);
    assert_eq!(bascule_version.format, bascule_core::ModelFormat::Onnx);
    assert!(bascule_version.signature.is_some());
    assert!(
        bascule_version
            .tags
            .iter()
            .any(|tag| tag.key == "bascule.engine"),
        "{:?}",
        bascule_version.tags
    );
    let (status, body) = app
        .get(&format!(
            "{API}/model-versions/get-download-uri?name=bc&version=1"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["artifact_uri"],
        format!("mlflow-artifacts:/{experiment_id}/models/{onnx}/artifacts")
    );

    // Aliases.
    let (status, _) = post(
        &app,
        "registered-models/alias",
        json!({"name": "bc", "alias": "champion", "version": "1"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app
        .get(&format!(
            "{API}/registered-models/alias?name=bc&alias=champion"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["model_version"]["aliases"], json!(["champion"]));
    let (_, body) = app
        .get(&format!("{API}/registered-models/get?name=bc"))
        .await;
    assert_eq!(
        body["registered_model"]["aliases"],
        json!([{"alias": "champion", "version": "1"}])
    );
    assert_eq!(
        body["registered_model"]["latest_versions"][0]["version"],
        "1"
    );

    // A pickled scikit-learn model: stored and listed, never deployable.
    let pickled = log_model(
        &app,
        &experiment_id,
        &run_id,
        &[
            ("MLmodel", SKLEARN_MLMODEL.as_bytes().to_vec()),
            ("model.pkl", b"\x80\x04pickle".to_vec()),
        ],
    )
    .await;
    let (status, body) = post(
        &app,
        "model-versions/create",
        json!({
        "name": "bc", "source": format!("models:/{pickled}"), "run_id": run_id}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, body) = app
        .get(&format!(
            "{API}/model-versions/search?filter=name%3D%27bc%27&max_results=10"
        ))
        .await;
    let listed: Vec<&str> = body["model_versions"]
        .as_array()
        .expect("versions")
        .iter()
        .map(|v| v["version"].as_str().expect("v"))
        .collect();
    assert_eq!(listed, ["2", "1"]);
    let error = app
        .registry
        .ensure_deployable("bc", 2)
        .await
        .expect_err("not ONNX");
    assert!(error.to_string().contains("skl2onnx"), "{error}");

    // Deleting through MLflow hides; the history stays.
    let request = Request::delete(format!("{API}/model-versions/delete"))
        .header("content-type", "application/json")
        .body(Body::from(
            json!({"name": "bc", "version": "2"}).to_string(),
        ))
        .expect("request");
    assert_eq!(app.send(request).await.0, StatusCode::OK);
    let (status, body) = app
        .get(&format!("{API}/model-versions/get?name=bc&version=2"))
        .await;
    mlflow_error(
        status,
        &body,
        StatusCode::NOT_FOUND,
        "RESOURCE_DOES_NOT_EXIST",
    );
    assert_eq!(
        app.registry
            .events("bc", Some(2))
            .await
            .expect("events")
            .len(),
        1
    );

    // The logged models of the experiment, and a search by name that finds none.
    let (status, body) = post(
        &app,
        "logged-models/search",
        json!({"experiment_ids": [experiment_id]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["models"].as_array().expect("models").len(), 2);
    let (_, body) = post(
        &app,
        "logged-models/search",
        json!({"experiment_ids": [experiment_id], "filter": "name = 'notes.txt'"}),
    )
    .await;
    assert_eq!(body, json!({}));
    let (status, body) = app.get("/api/3.0/mlflow/server-info").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["multipart_uploads_enabled"], false);
}

//! Logging a training run through Bascule's MLflow-compatible API, as research code does
//! with the `mlflow` client: the experiment (created on first use), the run with its
//! params, metrics and tags, the model file as an artifact, then FINISHED.

use anyhow::Context;
use reqwest::Method;
use serde_json::{Value, json};

use super::client::Client;

const MLFLOW: &str = "/api/2.0/mlflow";

/// One run to log.
pub struct TrainingRun<'a> {
    pub experiment: &'a str,
    pub run_name: String,
    pub params: Vec<(&'static str, String)>,
    pub metrics: Vec<(&'static str, f64)>,
    /// A metric logged once per step.
    pub curve: (&'static str, Vec<f64>),
    pub tags: Vec<(&'static str, String)>,
    /// The artifact's path in the run, and its bytes.
    pub artifact: (&'a str, Vec<u8>),
}

/// Logs the run; returns its id.
pub async fn log_training_run(client: &Client, run: TrainingRun<'_>) -> anyhow::Result<String> {
    let experiment_id = experiment_id(client, run.experiment).await?;
    let now = bascule_core::now_millis();
    let created: Value = client
        .send(
            client
                .request_root(Method::POST, &format!("{MLFLOW}/runs/create"))
                .json(&json!({
                    "experiment_id": experiment_id,
                    "run_name": run.run_name,
                    "start_time": now,
                    "tags": pairs(&run.tags),
                })),
        )
        .await
        .context("cannot create the training run")?;
    let run_id = created["run"]["info"]["run_id"]
        .as_str()
        .context("the server's run has no id")?
        .to_owned();
    let (curve, values) = &run.curve;
    let metrics: Vec<Value> = run
        .metrics
        .iter()
        .map(|(key, value)| json!({ "key": key, "value": value, "timestamp": now, "step": 0 }))
        .chain(values.iter().enumerate().map(
            |(step, value)| json!({ "key": curve, "value": value, "timestamp": now, "step": step }),
        ))
        .collect();
    let params: Vec<(&str, String)> = run
        .params
        .iter()
        .map(|(key, value)| (*key, value.chars().take(6000).collect()))
        .collect();
    let _: Value = client
        .send(
            client
                .request_root(Method::POST, &format!("{MLFLOW}/runs/log-batch"))
                .json(&json!({
                    "run_id": run_id,
                    "metrics": metrics,
                    "params": pairs(&params),
                })),
        )
        .await
        .context("cannot log the run's params and metrics")?;
    let (path, bytes) = run.artifact;
    client
        .send_raw(
            client
                .request_root(
                    Method::PUT,
                    &format!("/api/2.0/mlflow-artifacts/artifacts/{experiment_id}/{run_id}/artifacts/{path}"),
                )
                .body(bytes),
        )
        .await
        .context("cannot upload the run's model")?;
    let _: Value = client
        .send(
            client
                .request_root(Method::POST, &format!("{MLFLOW}/runs/update"))
                .json(&json!({
                    "run_id": run_id,
                    "status": "FINISHED",
                    "end_time": bascule_core::now_millis(),
                })),
        )
        .await
        .context("cannot finish the run")?;
    Ok(run_id)
}

/// The experiment's id, creating it on first use.
async fn experiment_id(client: &Client, name: &str) -> anyhow::Result<String> {
    let found = client
        .request_root(Method::GET, &format!("{MLFLOW}/experiments/get-by-name"))
        .query(&[("experiment_name", name)])
        .send()
        .await
        .context("cannot reach the tracking API")?;
    if found.status().is_success() {
        let found: Value = found.json().await.context("an unreadable experiment")?;
        if let Some(id) = found["experiment"]["experiment_id"].as_str() {
            return Ok(id.to_owned());
        }
    }
    let created: Value = client
        .send(
            client
                .request_root(Method::POST, &format!("{MLFLOW}/experiments/create"))
                .json(&json!({ "name": name })),
        )
        .await
        .context("cannot create the experiment")?;
    created["experiment_id"]
        .as_str()
        .map(str::to_owned)
        .context("the server's experiment has no id")
}

fn pairs<K: AsRef<str>>(pairs: &[(K, String)]) -> Vec<Value> {
    pairs
        .iter()
        .map(|(key, value)| json!({ "key": key.as_ref(), "value": value }))
        .collect()
}

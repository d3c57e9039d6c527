//! `runs/*` and `metrics/get-history`: creating, reading, updating and soft-deleting runs,
//! logging metrics, params, tags, inputs and outputs, and searching.

use axum::Json;
use axum::extract::State;
use bascule_core::{
    Dataset, DatasetInput, LifecycleState, Metric, ModelLink, NewRun, Param, Run, RunIo, RunSearch,
    RunStatus, RunUpdate, Tag, now_millis,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::{TrackingError, TrackingResult};
use super::experiments::page_size;
use super::search::{Filter, run_order, view_type};
use super::wire::{
    Message, MetricOut, TagIn, TagOut, empty, experiment_id, experiment_ids, next_page_token,
    opt_f64, opt_i64, opt_text, page_offset, paginate, required, required_text, run_id_of, tags_in,
    tags_out, texts,
};
use crate::AppState;

/// MLflow's limits on one log-batch request.
const MAX_METRICS_PER_BATCH: usize = 1000;
const MAX_PARAMS_PER_BATCH: usize = 100;
const MAX_TAGS_PER_BATCH: usize = 100;
const MAX_ENTITIES_PER_BATCH: usize = 1000;
/// MLflow's limits on keys and values.
const MAX_KEY_LENGTH: usize = 250;
const MAX_PARAM_VALUE_LENGTH: usize = 6000;
const MAX_TAG_VALUE_LENGTH: usize = 8000;

#[derive(Debug, Serialize)]
pub struct RunInfoOut {
    run_uuid: String,
    run_id: String,
    experiment_id: String,
    run_name: String,
    user_id: String,
    status: &'static str,
    start_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_time: Option<i64>,
    artifact_uri: String,
    lifecycle_stage: &'static str,
}

#[derive(Debug, Serialize)]
pub struct RunDataOut {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    metrics: Vec<MetricOut>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    params: Vec<TagOut>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<TagOut>,
}

#[derive(Debug, Serialize)]
pub struct DatasetOut {
    name: String,
    digest: String,
    source_type: String,
    source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    schema: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    profile: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct DatasetInputOut {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<TagOut>,
    dataset: DatasetOut,
}

#[derive(Debug, Serialize)]
pub struct ModelLinkOut {
    model_id: String,
    step: i64,
}

#[derive(Debug, Serialize)]
pub struct RunInputsOut {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    dataset_inputs: Vec<DatasetInputOut>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    model_inputs: Vec<ModelLinkOut>,
}

#[derive(Debug, Serialize)]
pub struct RunOutputsOut {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    model_outputs: Vec<ModelLinkOut>,
}

#[derive(Debug, Serialize)]
pub struct RunOut {
    info: RunInfoOut,
    data: RunDataOut,
    inputs: RunInputsOut,
    outputs: RunOutputsOut,
}

fn info_out(run: &Run) -> RunInfoOut {
    RunInfoOut {
        run_uuid: run.run_id.clone(),
        run_id: run.run_id.clone(),
        experiment_id: run.experiment_id.to_string(),
        run_name: run.run_name.clone(),
        user_id: run.user_id.clone(),
        status: run.status.as_str(),
        start_time: run.start_time,
        end_time: run.end_time,
        artifact_uri: run.artifact_uri.clone(),
        lifecycle_stage: run.lifecycle_stage.as_str(),
    }
}

fn links_out(links: Vec<ModelLink>) -> Vec<ModelLinkOut> {
    links
        .into_iter()
        .map(|link| ModelLinkOut {
            model_id: link.model_id,
            step: link.step,
        })
        .collect()
}

fn run_out(run: Run, io: RunIo) -> RunOut {
    let info = info_out(&run);
    RunOut {
        info,
        data: RunDataOut {
            metrics: run.metrics.into_iter().map(MetricOut::from).collect(),
            params: run.params.into_iter().map(TagOut::from).collect(),
            tags: tags_out(run.tags),
        },
        inputs: RunInputsOut {
            dataset_inputs: io
                .dataset_inputs
                .into_iter()
                .map(|input| DatasetInputOut {
                    tags: tags_out(input.tags),
                    dataset: DatasetOut {
                        name: input.dataset.name,
                        digest: input.dataset.digest,
                        source_type: input.dataset.source_type,
                        source: input.dataset.source,
                        schema: input.dataset.schema,
                        profile: input.dataset.profile,
                    },
                })
                .collect(),
            model_inputs: links_out(io.model_inputs),
        },
        outputs: RunOutputsOut {
            model_outputs: links_out(io.model_outputs),
        },
    }
}

/// Runs with their inputs and outputs (one more query for all of them).
async fn runs_out(state: &AppState, runs: Vec<Run>) -> TrackingResult<Vec<RunOut>> {
    let run_ids: Vec<String> = runs.iter().map(|run| run.run_id.clone()).collect();
    let io = state.registry.store().get_run_io(&run_ids).await?;
    Ok(runs
        .into_iter()
        .zip(io)
        .map(|(run, io)| run_out(run, io))
        .collect())
}

#[derive(Debug, Serialize)]
pub struct GetRunResponse {
    run: RunOut,
}

async fn load_run(state: &AppState, run_id: &str) -> TrackingResult<Run> {
    state
        .registry
        .store()
        .get_run(run_id)
        .await
        .map_err(|error| match error {
            bascule_core::Error::NotFound { kind: "run", .. } => {
                TrackingError::not_found(format!("Run with id={run_id} not found"))
            }
            other => other.into(),
        })
}

async fn run_response(state: &AppState, run: Run) -> TrackingResult<Json<GetRunResponse>> {
    let run = runs_out(state, vec![run])
        .await?
        .pop()
        .ok_or_else(|| TrackingError::not_found("the run vanished"))?;
    Ok(Json(GetRunResponse { run }))
}

#[derive(Debug, Deserialize)]
pub struct CreateRunRequest {
    #[serde(default, deserialize_with = "opt_text")]
    experiment_id: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    user_id: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    run_name: Option<String>,
    #[serde(default, deserialize_with = "opt_i64")]
    start_time: Option<i64>,
    #[serde(default)]
    tags: Vec<TagIn>,
}

pub async fn create_run(
    State(state): State<AppState>,
    Message(request): Message<CreateRunRequest>,
) -> TrackingResult<Json<GetRunResponse>> {
    let experiment = request.experiment_id.unwrap_or_else(|| "0".to_owned());
    let tags = tags_in(request.tags)?;
    check_tags(&tags)?;
    let run = state
        .registry
        .store()
        .create_run(NewRun {
            experiment_id: experiment_id(&experiment)?,
            run_name: request.run_name.filter(|name| !name.is_empty()),
            user_id: request.user_id,
            start_time: request.start_time.unwrap_or_else(now_millis),
            tags,
        })
        .await
        .map_err(|error| match error {
            bascule_core::Error::NotFound { .. } => {
                TrackingError::not_found(format!("No Experiment with id={experiment} exists"))
            }
            other => other.into(),
        })?;
    run_response(&state, run).await
}

#[derive(Debug, Deserialize)]
pub struct RunIdRequest {
    #[serde(default, deserialize_with = "opt_text")]
    run_id: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    run_uuid: Option<String>,
}

pub async fn get_run(
    State(state): State<AppState>,
    Message(request): Message<RunIdRequest>,
) -> TrackingResult<Json<GetRunResponse>> {
    let run_id = run_id_of(request.run_id, request.run_uuid)?;
    let run = load_run(&state, &run_id).await?;
    run_response(&state, run).await
}

#[derive(Debug, Deserialize)]
pub struct UpdateRunRequest {
    #[serde(default, deserialize_with = "opt_text")]
    run_id: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    run_uuid: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    status: Option<String>,
    #[serde(default, deserialize_with = "opt_i64")]
    end_time: Option<i64>,
    #[serde(default, deserialize_with = "opt_text")]
    run_name: Option<String>,
}

pub async fn update_run(
    State(state): State<AppState>,
    Message(request): Message<UpdateRunRequest>,
) -> TrackingResult<Json<Value>> {
    let run_id = run_id_of(request.run_id, request.run_uuid)?;
    let status = match request.status.as_deref() {
        None | Some("") => None,
        Some(status) => Some(RunStatus::parse(status).ok_or_else(|| {
            TrackingError::invalid(format!(
                "Invalid run status '{status}': expected RUNNING, SCHEDULED, FINISHED, FAILED \
                 or KILLED"
            ))
        })?),
    };
    load_run(&state, &run_id).await?;
    let run = state
        .registry
        .store()
        .update_run(
            &run_id,
            RunUpdate {
                status,
                end_time: request.end_time,
                run_name: request.run_name.filter(|name| !name.is_empty()),
            },
        )
        .await?;
    Ok(Json(serde_json::json!({ "run_info": info_out(&run) })))
}

async fn set_run_state(
    state: &AppState,
    request: RunIdRequest,
    lifecycle: LifecycleState,
) -> TrackingResult<Json<Value>> {
    let run_id = run_id_of(request.run_id, request.run_uuid)?;
    load_run(state, &run_id).await?;
    state
        .registry
        .store()
        .set_run_state(&run_id, lifecycle)
        .await?;
    Ok(empty())
}

pub async fn delete_run(
    State(state): State<AppState>,
    Message(request): Message<RunIdRequest>,
) -> TrackingResult<Json<Value>> {
    set_run_state(&state, request, LifecycleState::Deleted).await
}

pub async fn restore_run(
    State(state): State<AppState>,
    Message(request): Message<RunIdRequest>,
) -> TrackingResult<Json<Value>> {
    set_run_state(&state, request, LifecycleState::Active).await
}

#[derive(Debug, Deserialize)]
pub struct MetricIn {
    #[serde(default, deserialize_with = "opt_text")]
    key: Option<String>,
    #[serde(default, deserialize_with = "opt_f64")]
    value: Option<f64>,
    #[serde(default, deserialize_with = "opt_i64")]
    timestamp: Option<i64>,
    #[serde(default, deserialize_with = "opt_i64")]
    step: Option<i64>,
}

impl MetricIn {
    fn into_metric(self) -> TrackingResult<Metric> {
        Ok(Metric {
            key: required_text(self.key, "key")?,
            value: required(self.value, "value")?,
            timestamp: required(self.timestamp, "timestamp")?,
            step: self.step.unwrap_or(0),
        })
    }
}

#[derive(Debug, Deserialize)]
pub struct LogMetricRequest {
    #[serde(default, deserialize_with = "opt_text")]
    run_id: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    run_uuid: Option<String>,
    #[serde(flatten)]
    metric: MetricIn,
}

/// Logs through the store's batch path, mapping a missing run to MLflow's message.
async fn log(
    state: &AppState,
    run_id: &str,
    metrics: &[Metric],
    params: &[Param],
    tags: &[Tag],
) -> TrackingResult<Json<Value>> {
    state
        .registry
        .store()
        .log_batch(run_id, metrics, params, tags)
        .await
        .map_err(|error| match error {
            bascule_core::Error::NotFound { kind: "run", .. } => {
                TrackingError::not_found(format!("Run with id={run_id} not found"))
            }
            bascule_core::Error::FailedPrecondition(message) => {
                TrackingError::invalid_state(message)
            }
            other => other.into(),
        })?;
    Ok(empty())
}

pub async fn log_metric(
    State(state): State<AppState>,
    Message(request): Message<LogMetricRequest>,
) -> TrackingResult<Json<Value>> {
    let run_id = run_id_of(request.run_id, request.run_uuid)?;
    let metric = request.metric.into_metric()?;
    check_key(&metric.key)?;
    log(&state, &run_id, &[metric], &[], &[]).await
}

#[derive(Debug, Deserialize)]
pub struct KeyValueRequest {
    #[serde(default, deserialize_with = "opt_text")]
    run_id: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    run_uuid: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    key: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    value: Option<String>,
}

pub async fn log_parameter(
    State(state): State<AppState>,
    Message(request): Message<KeyValueRequest>,
) -> TrackingResult<Json<Value>> {
    let run_id = run_id_of(request.run_id, request.run_uuid)?;
    let param = Param {
        key: required_text(request.key, "key")?,
        value: required(request.value, "value")?,
    };
    check_params(std::slice::from_ref(&param))?;
    log(&state, &run_id, &[], &[param], &[]).await
}

pub async fn set_tag(
    State(state): State<AppState>,
    Message(request): Message<KeyValueRequest>,
) -> TrackingResult<Json<Value>> {
    let run_id = run_id_of(request.run_id, request.run_uuid)?;
    let tag = Tag {
        key: required_text(request.key, "key")?,
        value: required(request.value, "value")?,
    };
    check_tags(std::slice::from_ref(&tag))?;
    log(&state, &run_id, &[], &[], &[tag]).await
}

pub async fn delete_tag(
    State(state): State<AppState>,
    Message(request): Message<KeyValueRequest>,
) -> TrackingResult<Json<Value>> {
    let run_id = run_id_of(request.run_id, request.run_uuid)?;
    let key = required_text(request.key, "key")?;
    load_run(&state, &run_id).await?;
    state.registry.store().delete_run_tag(&run_id, &key).await?;
    Ok(empty())
}

#[derive(Debug, Deserialize)]
pub struct LogBatchRequest {
    #[serde(default, deserialize_with = "opt_text")]
    run_id: Option<String>,
    #[serde(default)]
    metrics: Vec<MetricIn>,
    #[serde(default)]
    params: Vec<TagIn>,
    #[serde(default)]
    tags: Vec<TagIn>,
}

pub async fn log_batch(
    State(state): State<AppState>,
    Message(request): Message<LogBatchRequest>,
) -> TrackingResult<Json<Value>> {
    let run_id = required_text(request.run_id, "run_id")?;
    let limit = |what: &str, count: usize, limit: usize| {
        if count > limit {
            Err(TrackingError::invalid(format!(
                "A batch logging request can contain at most {limit} {what}. Got {count} \
                 {what}. Please split up {what} across multiple requests and try again."
            )))
        } else {
            Ok(())
        }
    };
    limit("metrics", request.metrics.len(), MAX_METRICS_PER_BATCH)?;
    limit("params", request.params.len(), MAX_PARAMS_PER_BATCH)?;
    limit("tags", request.tags.len(), MAX_TAGS_PER_BATCH)?;
    let total = request.metrics.len() + request.params.len() + request.tags.len();
    limit("metrics, params, and tags", total, MAX_ENTITIES_PER_BATCH)?;
    let metrics = request
        .metrics
        .into_iter()
        .map(MetricIn::into_metric)
        .collect::<TrackingResult<Vec<_>>>()?;
    for metric in &metrics {
        check_key(&metric.key)?;
    }
    let params = request
        .params
        .into_iter()
        .map(TagIn::into_param)
        .collect::<TrackingResult<Vec<_>>>()?;
    check_params(&params)?;
    let tags = tags_in(request.tags)?;
    check_tags(&tags)?;
    log(&state, &run_id, &metrics, &params, &tags).await
}

fn check_key(key: &str) -> TrackingResult<()> {
    if key.chars().count() > MAX_KEY_LENGTH {
        return Err(TrackingError::invalid(format!(
            "'{}…' exceeds the maximum length of {MAX_KEY_LENGTH} characters for a key",
            key.chars().take(32).collect::<String>()
        )));
    }
    Ok(())
}

fn check_params(params: &[Param]) -> TrackingResult<()> {
    for param in params {
        check_key(&param.key)?;
        if param.value.chars().count() > MAX_PARAM_VALUE_LENGTH {
            return Err(TrackingError::invalid(format!(
                "Param value of '{}' exceeds the maximum length of {MAX_PARAM_VALUE_LENGTH} \
                 characters",
                param.key
            )));
        }
    }
    Ok(())
}

fn check_tags(tags: &[Tag]) -> TrackingResult<()> {
    for tag in tags {
        check_key(&tag.key)?;
        if tag.value.chars().count() > MAX_TAG_VALUE_LENGTH {
            return Err(TrackingError::invalid(format!(
                "Tag value of '{}' exceeds the maximum length of {MAX_TAG_VALUE_LENGTH} \
                 characters",
                tag.key
            )));
        }
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
pub struct DatasetIn {
    #[serde(default, deserialize_with = "opt_text")]
    name: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    digest: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    source_type: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    source: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    schema: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    profile: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct DatasetInputIn {
    #[serde(default)]
    tags: Vec<TagIn>,
    dataset: Option<DatasetIn>,
}

#[derive(Debug, Deserialize)]
pub struct ModelLinkIn {
    #[serde(default, deserialize_with = "opt_text")]
    model_id: Option<String>,
    #[serde(default, deserialize_with = "opt_i64")]
    step: Option<i64>,
}

fn links_in(models: Vec<ModelLinkIn>) -> TrackingResult<Vec<ModelLink>> {
    models
        .into_iter()
        .map(|model| {
            Ok(ModelLink {
                model_id: required_text(model.model_id, "model_id")?,
                step: model.step.unwrap_or(0),
            })
        })
        .collect()
}

#[derive(Debug, Deserialize)]
pub struct LogInputsRequest {
    #[serde(default, deserialize_with = "opt_text")]
    run_id: Option<String>,
    #[serde(default)]
    datasets: Vec<DatasetInputIn>,
    #[serde(default)]
    models: Vec<ModelLinkIn>,
}

pub async fn log_inputs(
    State(state): State<AppState>,
    Message(request): Message<LogInputsRequest>,
) -> TrackingResult<Json<Value>> {
    let run_id = required_text(request.run_id, "run_id")?;
    let datasets = request
        .datasets
        .into_iter()
        .map(|input| {
            let dataset = required(input.dataset, "dataset")?;
            Ok(DatasetInput {
                dataset: Dataset {
                    name: required_text(dataset.name, "name")?,
                    digest: required_text(dataset.digest, "digest")?,
                    source_type: required_text(dataset.source_type, "source_type")?,
                    source: required(dataset.source, "source")?,
                    schema: dataset.schema,
                    profile: dataset.profile,
                },
                tags: tags_in(input.tags)?,
            })
        })
        .collect::<TrackingResult<Vec<_>>>()?;
    let models = links_in(request.models)?;
    load_run(&state, &run_id).await?;
    state
        .registry
        .store()
        .log_run_inputs(&run_id, &datasets, &models)
        .await?;
    Ok(empty())
}

#[derive(Debug, Deserialize)]
pub struct LogOutputsRequest {
    #[serde(default, deserialize_with = "opt_text")]
    run_id: Option<String>,
    #[serde(default)]
    models: Vec<ModelLinkIn>,
}

pub async fn log_outputs(
    State(state): State<AppState>,
    Message(request): Message<LogOutputsRequest>,
) -> TrackingResult<Json<Value>> {
    let run_id = required_text(request.run_id, "run_id")?;
    let models = links_in(request.models)?;
    load_run(&state, &run_id).await?;
    state
        .registry
        .store()
        .log_run_outputs(&run_id, &models)
        .await?;
    Ok(empty())
}

#[derive(Debug, Deserialize)]
pub struct MetricHistoryRequest {
    #[serde(default, deserialize_with = "opt_text")]
    run_id: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    run_uuid: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    metric_key: Option<String>,
    #[serde(default, deserialize_with = "opt_i64")]
    max_results: Option<i64>,
    #[serde(default, deserialize_with = "opt_text")]
    page_token: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct MetricHistoryResponse {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    metrics: Vec<MetricOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_page_token: Option<String>,
}

pub async fn get_metric_history(
    State(state): State<AppState>,
    Message(request): Message<MetricHistoryRequest>,
) -> TrackingResult<Json<MetricHistoryResponse>> {
    let run_id = run_id_of(request.run_id, request.run_uuid)?;
    let key = required_text(request.metric_key, "metric_key")?;
    let max_results = page_size(request.max_results, 25_000, 25_000)?;
    let offset = page_offset(request.page_token.as_deref())?;
    load_run(&state, &run_id).await?;
    let history = state
        .registry
        .store()
        .get_metric_history(&run_id, &key)
        .await?;
    let (page, next_page_token) = paginate(history, offset, max_results);
    Ok(Json(MetricHistoryResponse {
        metrics: page.into_iter().map(MetricOut::from).collect(),
        next_page_token,
    }))
}

#[derive(Debug, Deserialize)]
pub struct SearchRunsRequest {
    #[serde(default, deserialize_with = "texts")]
    experiment_ids: Vec<String>,
    #[serde(default, deserialize_with = "opt_text")]
    filter: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    run_view_type: Option<String>,
    #[serde(default, deserialize_with = "opt_i64")]
    max_results: Option<i64>,
    #[serde(default, deserialize_with = "texts")]
    order_by: Vec<String>,
    #[serde(default, deserialize_with = "opt_text")]
    page_token: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct SearchRunsResponse {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    runs: Vec<RunOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_page_token: Option<String>,
}

pub async fn search_runs(
    State(state): State<AppState>,
    Message(request): Message<SearchRunsRequest>,
) -> TrackingResult<Json<SearchRunsResponse>> {
    let experiment_ids = experiment_ids(&request.experiment_ids)?;
    let filter = Filter::parse(request.filter.as_deref().unwrap_or_default())?;
    let search = RunSearch {
        experiment_ids,
        clauses: filter.run_clauses()?,
        order_by: run_order(&request.order_by)?,
        view: view_type(request.run_view_type.as_deref())?,
        max_results: page_size(request.max_results, 1000, 50_000)? as u32,
        offset: page_offset(request.page_token.as_deref())?,
    };
    let (runs, more) = state.registry.store().search_runs(&search).await?;
    let next_page_token = next_page_token(search.offset, runs.len(), more);
    Ok(Json(SearchRunsResponse {
        runs: runs_out(&state, runs).await?,
        next_page_token,
    }))
}

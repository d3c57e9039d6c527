//! `logged-models*`: MLflow 3's logged models — created when a run logs a model, its
//! files PUT through the artifact proxy, then finalized (status READY) and tagged with the
//! versions registered from it.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use bascule_core::{LifecycleState, LoggedModel, LoggedModelStatus, NewLoggedModel};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::{TrackingError, TrackingResult};
use super::experiments::page_size;
use super::search::{Filter, param_field, tag_field};
use super::wire::{
    Message, TagIn, TagOut, empty, experiment_id, experiment_ids, opt_i64, opt_text, page_offset,
    paginate, required_text, tags_in, tags_out, texts,
};
use crate::AppState;

#[derive(Debug, Serialize)]
pub struct LoggedModelInfoOut {
    model_id: String,
    experiment_id: String,
    name: String,
    creation_timestamp_ms: i64,
    last_updated_timestamp_ms: i64,
    artifact_uri: String,
    status: &'static str,
    model_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_run_id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<TagOut>,
}

#[derive(Debug, Serialize)]
pub struct LoggedModelDataOut {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    params: Vec<TagOut>,
}

#[derive(Debug, Serialize)]
pub struct LoggedModelOut {
    info: LoggedModelInfoOut,
    data: LoggedModelDataOut,
}

impl From<LoggedModel> for LoggedModelOut {
    fn from(model: LoggedModel) -> Self {
        LoggedModelOut {
            info: LoggedModelInfoOut {
                model_id: model.model_id,
                experiment_id: model.experiment_id.to_string(),
                name: model.name,
                creation_timestamp_ms: model.creation_time,
                last_updated_timestamp_ms: model.last_updated_time,
                artifact_uri: model.artifact_location,
                status: model.status.as_str(),
                model_type: model.model_type,
                source_run_id: model.source_run_id,
                tags: tags_out(model.tags),
            },
            data: LoggedModelDataOut {
                params: model.params.into_iter().map(TagOut::from).collect(),
            },
        }
    }
}

#[derive(Debug, Serialize)]
pub struct LoggedModelResponse {
    model: LoggedModelOut,
}

fn model_id(path: Result<Path<String>, PathRejection>) -> TrackingResult<String> {
    path.map(|Path(model_id)| model_id)
        .map_err(|rejection| TrackingError::invalid(rejection.body_text()))
}

async fn load(state: &AppState, model_id: &str) -> TrackingResult<LoggedModel> {
    state
        .registry
        .store()
        .get_logged_model(model_id)
        .await
        .map_err(|error| match error {
            bascule_core::Error::NotFound { .. } => {
                TrackingError::not_found(format!("Logged model with ID '{model_id}' not found."))
            }
            other => other.into(),
        })
}

#[derive(Debug, Deserialize)]
pub struct CreateLoggedModelRequest {
    #[serde(default, deserialize_with = "opt_text")]
    experiment_id: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    name: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    model_type: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    source_run_id: Option<String>,
    #[serde(default)]
    params: Vec<TagIn>,
    #[serde(default)]
    tags: Vec<TagIn>,
}

pub async fn create_logged_model(
    State(state): State<AppState>,
    Message(request): Message<CreateLoggedModelRequest>,
) -> TrackingResult<Json<LoggedModelResponse>> {
    let experiment = required_text(request.experiment_id, "experiment_id")?;
    let params = request
        .params
        .into_iter()
        .map(TagIn::into_param)
        .collect::<TrackingResult<Vec<_>>>()?;
    let model = state
        .registry
        .store()
        .create_logged_model(NewLoggedModel {
            experiment_id: experiment_id(&experiment)?,
            name: request
                .name
                .filter(|name| !name.is_empty())
                .unwrap_or_else(|| "model".to_owned()),
            model_type: request.model_type.unwrap_or_default(),
            source_run_id: request.source_run_id.filter(|id| !id.is_empty()),
            tags: tags_in(request.tags)?,
            params,
        })
        .await
        .map_err(|error| match error {
            bascule_core::Error::NotFound { .. } => {
                TrackingError::not_found(format!("No Experiment with id={experiment} exists"))
            }
            other => other.into(),
        })?;
    Ok(Json(LoggedModelResponse {
        model: model.into(),
    }))
}

pub async fn get_logged_model(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> TrackingResult<Json<LoggedModelResponse>> {
    let model = load(&state, &model_id(path)?).await?;
    Ok(Json(LoggedModelResponse {
        model: model.into(),
    }))
}

#[derive(Debug, Deserialize)]
pub struct FinalizeLoggedModelRequest {
    #[serde(default, deserialize_with = "opt_text")]
    status: Option<String>,
}

pub async fn finalize_logged_model(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    Message(request): Message<FinalizeLoggedModelRequest>,
) -> TrackingResult<Json<LoggedModelResponse>> {
    let model_id = model_id(path)?;
    let status = required_text(request.status, "status")?;
    let status = LoggedModelStatus::parse(&status).ok_or_else(|| {
        TrackingError::invalid(format!(
            "Invalid logged model status '{status}': expected LOGGED_MODEL_READY or \
             LOGGED_MODEL_UPLOAD_FAILED"
        ))
    })?;
    load(&state, &model_id).await?;
    let model = state
        .registry
        .store()
        .set_logged_model_status(&model_id, status)
        .await?;
    Ok(Json(LoggedModelResponse {
        model: model.into(),
    }))
}

pub async fn delete_logged_model(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> TrackingResult<Json<Value>> {
    let model_id = model_id(path)?;
    load(&state, &model_id).await?;
    state
        .registry
        .store()
        .set_logged_model_state(&model_id, LifecycleState::Deleted)
        .await?;
    Ok(empty())
}

#[derive(Debug, Deserialize)]
pub struct SetLoggedModelTagsRequest {
    #[serde(default)]
    tags: Vec<TagIn>,
}

pub async fn set_logged_model_tags(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    Message(request): Message<SetLoggedModelTagsRequest>,
) -> TrackingResult<Json<Value>> {
    let model_id = model_id(path)?;
    let tags = tags_in(request.tags)?;
    load(&state, &model_id).await?;
    state
        .registry
        .store()
        .set_logged_model_tags(&model_id, &tags)
        .await?;
    Ok(empty())
}

pub async fn delete_logged_model_tag(
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> TrackingResult<Json<Value>> {
    let Path((model_id, key)) =
        path.map_err(|rejection| TrackingError::invalid(rejection.body_text()))?;
    load(&state, &model_id).await?;
    state
        .registry
        .store()
        .delete_logged_model_tag(&model_id, &key)
        .await?;
    Ok(empty())
}

#[derive(Debug, Deserialize)]
pub struct SearchLoggedModelsRequest {
    #[serde(default, deserialize_with = "texts")]
    experiment_ids: Vec<String>,
    #[serde(default, deserialize_with = "opt_text")]
    filter: Option<String>,
    #[serde(default, deserialize_with = "opt_i64")]
    max_results: Option<i64>,
    #[serde(default, deserialize_with = "opt_text")]
    page_token: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct SearchLoggedModelsResponse {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    models: Vec<LoggedModelOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_page_token: Option<String>,
}

/// Newest first; the filter may name attributes (`name`, `model_id`, `status`,
/// `model_type`, `source_run_id`), params and tags.
pub async fn search_logged_models(
    State(state): State<AppState>,
    Message(request): Message<SearchLoggedModelsRequest>,
) -> TrackingResult<Json<SearchLoggedModelsResponse>> {
    let experiment_ids = experiment_ids(&request.experiment_ids)?;
    let filter = Filter::parse(request.filter.as_deref().unwrap_or_default())?;
    let max_results = page_size(request.max_results, 100, 50_000)?;
    let offset = page_offset(request.page_token.as_deref())?;
    let models: Vec<LoggedModel> = state
        .registry
        .store()
        .list_logged_models(&experiment_ids)
        .await?
        .into_iter()
        .filter(|model| {
            filter.matches(|entity, key| match (entity, key) {
                ("attribute", "name") => Some(model.name.clone().into()),
                ("attribute", "model_id") => Some(model.model_id.clone().into()),
                ("attribute", "status") => Some(model.status.as_str().to_owned().into()),
                ("attribute", "model_type") => Some(model.model_type.clone().into()),
                ("attribute", "source_run_id") => model.source_run_id.clone().map(Into::into),
                ("attribute", "creation_timestamp" | "creation_time") => {
                    Some((model.creation_time as f64).into())
                }
                ("param", key) => param_field(&model.params, key),
                ("tag", key) => tag_field(&model.tags, key),
                _ => None,
            })
        })
        .collect();
    let (page, next_page_token) = paginate(models, offset, max_results);
    Ok(Json(SearchLoggedModelsResponse {
        models: page.into_iter().map(LoggedModelOut::from).collect(),
        next_page_token,
    }))
}

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use bascule_core::{LifecycleEvent, RegisteredModel};
use serde::{Deserialize, Serialize};

use super::versions::{EventResponse, VersionResponse};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath};

#[derive(Debug, Serialize)]
pub struct ModelResponse {
    pub name: String,
    pub description: String,
    pub creation_time: i64,
    pub last_updated_time: i64,
    pub latest_version: Option<i64>,
    pub aliases: Vec<AliasResponse>,
    pub tags: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
pub struct AliasResponse {
    pub alias: String,
    pub version: i64,
}

impl From<RegisteredModel> for ModelResponse {
    fn from(model: RegisteredModel) -> Self {
        ModelResponse {
            name: model.name,
            description: model.description,
            creation_time: model.creation_time,
            last_updated_time: model.last_updated_time,
            latest_version: model.latest_version,
            aliases: model
                .aliases
                .into_iter()
                .map(|(alias, version)| AliasResponse { alias, version })
                .collect(),
            tags: model
                .tags
                .into_iter()
                .map(|tag| (tag.key, tag.value))
                .collect(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ListModelsResponse {
    pub models: Vec<ModelResponse>,
}

pub async fn list_models(
    State(state): State<AppState>,
) -> Result<Json<ListModelsResponse>, ApiError> {
    let models = state.registry.list_models().await?;
    Ok(Json(ListModelsResponse {
        models: models.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateModelRequest {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

pub async fn create_model(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<CreateModelRequest>,
) -> Result<(StatusCode, Json<ModelResponse>), ApiError> {
    let model = state
        .registry
        .create_model(&request.name, &request.description)
        .await?;
    Ok((StatusCode::CREATED, Json(model.into())))
}

pub async fn get_model(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<ModelResponse>, ApiError> {
    Ok(Json(state.registry.get_model(&name).await?.into()))
}

#[derive(Debug, Serialize)]
pub struct ListEventsResponse {
    pub events: Vec<EventResponse>,
}

pub fn events_response(events: Vec<LifecycleEvent>) -> Json<ListEventsResponse> {
    Json(ListEventsResponse {
        events: events.into_iter().map(Into::into).collect(),
    })
}

pub async fn list_model_events(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<ListEventsResponse>, ApiError> {
    Ok(events_response(state.registry.events(&name, None).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetAliasRequest {
    pub version: i64,
}

pub async fn set_alias(
    State(state): State<AppState>,
    ApiPath((name, alias)): ApiPath<(String, String)>,
    ApiJson(request): ApiJson<SetAliasRequest>,
) -> Result<Json<AliasResponse>, ApiError> {
    state
        .registry
        .set_alias(&name, &alias, request.version)
        .await?;
    Ok(Json(AliasResponse {
        alias,
        version: request.version,
    }))
}

pub async fn get_alias(
    State(state): State<AppState>,
    ApiPath((name, alias)): ApiPath<(String, String)>,
) -> Result<Json<VersionResponse>, ApiError> {
    Ok(Json(
        state.registry.version_by_alias(&name, &alias).await?.into(),
    ))
}

pub async fn delete_alias(
    State(state): State<AppState>,
    ApiPath((name, alias)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state.registry.delete_alias(&name, &alias).await?;
    Ok(StatusCode::NO_CONTENT)
}

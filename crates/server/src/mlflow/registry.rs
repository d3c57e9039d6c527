//! `registered-models/*` and `model-versions/*`: MLflow's model registry on Bascule's own.
//! A version registered here is a Bascule version: its files are taken from the artifact
//! tree (an ONNX flavor enters the loop as Prototype), its Bascule stage is shown as the
//! tag `bascule.stage`. MLflow's deletes hide (the tag `bascule.mlflow.deleted`): the
//! lifecycle event log is append-only, so nothing it names is erased.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use bascule_core::{ModelVersion, RegisteredModel, Stage, Tag};
use bascule_lifecycle::MlflowVersionRequest;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::{TrackingError, TrackingResult};
use super::experiments::page_size;
use super::search::{Filter, tag_field};
use super::wire::{
    Message, TagIn, TagOut, empty, opt_i64, opt_text, page_offset, paginate, required,
    required_text, tags_in,
};
use crate::AppState;

/// Marks what MLflow deleted; hidden from the MLflow API.
const DELETED_TAG: &str = "bascule.mlflow.deleted";
/// Shows a version's Bascule stage to MLflow clients.
const STAGE_TAG: &str = "bascule.stage";

fn is_hidden(tags: &[Tag]) -> bool {
    tags.iter().any(|tag| tag.key == DELETED_TAG)
}

fn visible_tags(tags: Vec<Tag>) -> Vec<TagOut> {
    tags.into_iter()
        .filter(|tag| tag.key != DELETED_TAG)
        .map(TagOut::from)
        .collect()
}

/// Who registers: what the client says in `X-Bascule-Actor`, else `mlflow`.
fn actor(headers: &HeaderMap) -> String {
    headers
        .get("x-bascule-actor")
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|value| !value.is_empty() && value.len() <= 128)
        .unwrap_or("mlflow")
        .to_owned()
}

#[derive(Debug, Serialize)]
pub struct ModelVersionOut {
    name: String,
    version: String,
    creation_timestamp: i64,
    last_updated_timestamp: i64,
    current_stage: &'static str,
    description: String,
    source: String,
    run_id: String,
    status: &'static str,
    run_link: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<TagOut>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    aliases: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    model_id: Option<String>,
}

fn logged_model_id(source: &str) -> Option<String> {
    source
        .strip_prefix("models:/")
        .filter(|id| id.starts_with("m-") && !id.contains('/'))
        .map(str::to_owned)
}

impl From<ModelVersion> for ModelVersionOut {
    fn from(version: ModelVersion) -> Self {
        let mut tags = visible_tags(version.tags);
        tags.push(TagOut {
            key: STAGE_TAG.to_owned(),
            value: version.stage.as_str().to_owned(),
        });
        ModelVersionOut {
            model_id: logged_model_id(&version.source),
            name: version.name,
            version: version.version.to_string(),
            creation_timestamp: version.creation_time,
            last_updated_timestamp: version.last_updated_time,
            current_stage: "None",
            description: version.description,
            source: version.source,
            run_id: version.run_id.unwrap_or_default(),
            status: version.status.as_str(),
            run_link: String::new(),
            tags,
            aliases: version.aliases,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct AliasOut {
    alias: String,
    version: String,
}

#[derive(Debug, Serialize)]
pub struct RegisteredModelOut {
    name: String,
    creation_timestamp: i64,
    last_updated_timestamp: i64,
    description: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    latest_versions: Vec<ModelVersionOut>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<TagOut>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    aliases: Vec<AliasOut>,
}

async fn model_out(state: &AppState, model: RegisteredModel) -> TrackingResult<RegisteredModelOut> {
    let mut latest_versions = Vec::new();
    if let Some(latest) = model.latest_version {
        let versions = state
            .registry
            .store()
            .list_model_versions(&model.name)
            .await?;
        if let Some(version) = versions
            .into_iter()
            .rev()
            .find(|version| version.version <= latest && !is_hidden(&version.tags))
        {
            latest_versions.push(version.into());
        }
    }
    Ok(RegisteredModelOut {
        name: model.name,
        creation_timestamp: model.creation_time,
        last_updated_timestamp: model.last_updated_time,
        description: model.description,
        latest_versions,
        tags: visible_tags(model.tags),
        aliases: model
            .aliases
            .into_iter()
            .map(|(alias, version)| AliasOut {
                alias,
                version: version.to_string(),
            })
            .collect(),
    })
}

fn not_found_model(name: &str) -> TrackingError {
    TrackingError::not_found(format!("Registered Model with name={name} not found"))
}

/// A registered model MLflow can see.
async fn load_model(state: &AppState, name: &str) -> TrackingResult<RegisteredModel> {
    match state.registry.store().get_registered_model(name).await {
        Ok(model) if !is_hidden(&model.tags) => Ok(model),
        Ok(_) | Err(bascule_core::Error::NotFound { .. }) => Err(not_found_model(name)),
        Err(other) => Err(other.into()),
    }
}

fn version_number(text: &str) -> TrackingResult<i64> {
    text.trim()
        .parse()
        .map_err(|_| TrackingError::invalid(format!("Invalid model version '{text}'")))
}

/// A model version MLflow can see.
async fn load_version(state: &AppState, name: &str, version: &str) -> TrackingResult<ModelVersion> {
    let number = version_number(version)?;
    load_model(state, name).await?;
    let not_found = || {
        TrackingError::not_found(format!(
            "Model Version (name={name}, version={version}) not found"
        ))
    };
    match state.registry.store().get_model_version(name, number).await {
        Ok(model_version) if !is_hidden(&model_version.tags) => Ok(model_version),
        Ok(_) | Err(bascule_core::Error::NotFound { .. }) => Err(not_found()),
        Err(other) => Err(other.into()),
    }
}

#[derive(Debug, Serialize)]
pub struct RegisteredModelResponse {
    registered_model: RegisteredModelOut,
}

#[derive(Debug, Serialize)]
pub struct ModelVersionResponse {
    model_version: ModelVersionOut,
}

#[derive(Debug, Deserialize)]
pub struct CreateRegisteredModelRequest {
    #[serde(default, deserialize_with = "opt_text")]
    name: Option<String>,
    #[serde(default)]
    tags: Vec<TagIn>,
    #[serde(default, deserialize_with = "opt_text")]
    description: Option<String>,
}

/// Creates the model, or brings back one MLflow deleted.
pub async fn create_registered_model(
    State(state): State<AppState>,
    Message(request): Message<CreateRegisteredModelRequest>,
) -> TrackingResult<Json<RegisteredModelResponse>> {
    let name = required_text(request.name, "name")?;
    let tags = tags_in(request.tags)?;
    let description = request.description.unwrap_or_default();
    let store = state.registry.store();
    match state.registry.create_model(&name, &description).await {
        Ok(_) => {}
        Err(bascule_lifecycle::LifecycleError::Store(bascule_core::Error::AlreadyExists {
            ..
        })) => {
            let existing = store.get_registered_model(&name).await?;
            if !is_hidden(&existing.tags) {
                return Err(TrackingError::already_exists(format!(
                    "Registered Model (name={name}) already exists."
                )));
            }
            store
                .delete_registered_model_tag(&name, DELETED_TAG)
                .await?;
            store
                .set_registered_model_description(&name, &description)
                .await?;
        }
        Err(other) => return Err(other.into()),
    }
    for tag in &tags {
        store.set_registered_model_tag(&name, tag).await?;
    }
    let model = load_model(&state, &name).await?;
    Ok(Json(RegisteredModelResponse {
        registered_model: model_out(&state, model).await?,
    }))
}

#[derive(Debug, Deserialize)]
pub struct NameRequest {
    #[serde(default, deserialize_with = "opt_text")]
    name: Option<String>,
}

pub async fn get_registered_model(
    State(state): State<AppState>,
    Message(request): Message<NameRequest>,
) -> TrackingResult<Json<RegisteredModelResponse>> {
    let name = required_text(request.name, "name")?;
    let model = load_model(&state, &name).await?;
    Ok(Json(RegisteredModelResponse {
        registered_model: model_out(&state, model).await?,
    }))
}

#[derive(Debug, Deserialize)]
pub struct SearchRequest {
    #[serde(default, deserialize_with = "opt_text")]
    filter: Option<String>,
    #[serde(default, deserialize_with = "opt_i64")]
    max_results: Option<i64>,
    #[serde(default, deserialize_with = "opt_text")]
    page_token: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct SearchRegisteredModelsResponse {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    registered_models: Vec<RegisteredModelOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_page_token: Option<String>,
}

/// By name; the filter may name `name` and tags.
pub async fn search_registered_models(
    State(state): State<AppState>,
    Message(request): Message<SearchRequest>,
) -> TrackingResult<Json<SearchRegisteredModelsResponse>> {
    let filter = Filter::parse(request.filter.as_deref().unwrap_or_default())?;
    let max_results = page_size(request.max_results, 100, 1000)?;
    let offset = page_offset(request.page_token.as_deref())?;
    let models: Vec<RegisteredModel> = state
        .registry
        .list_models()
        .await?
        .into_iter()
        .filter(|model| !is_hidden(&model.tags))
        .filter(|model| {
            filter.matches(|entity, key| match (entity, key) {
                ("attribute", "name") => Some(model.name.clone().into()),
                ("tag", key) => tag_field(&model.tags, key),
                _ => None,
            })
        })
        .collect();
    let (page, next_page_token) = paginate(models, offset, max_results);
    let mut registered_models = Vec::with_capacity(page.len());
    for model in page {
        registered_models.push(model_out(&state, model).await?);
    }
    Ok(Json(SearchRegisteredModelsResponse {
        registered_models,
        next_page_token,
    }))
}

#[derive(Debug, Deserialize)]
pub struct UpdateRegisteredModelRequest {
    #[serde(default, deserialize_with = "opt_text")]
    name: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    description: Option<String>,
}

pub async fn update_registered_model(
    State(state): State<AppState>,
    Message(request): Message<UpdateRegisteredModelRequest>,
) -> TrackingResult<Json<RegisteredModelResponse>> {
    let name = required_text(request.name, "name")?;
    load_model(&state, &name).await?;
    if let Some(description) = request.description {
        state
            .registry
            .store()
            .set_registered_model_description(&name, &description)
            .await?;
    }
    let model = load_model(&state, &name).await?;
    Ok(Json(RegisteredModelResponse {
        registered_model: model_out(&state, model).await?,
    }))
}

#[derive(Debug, Deserialize)]
pub struct RenameRegisteredModelRequest {
    #[serde(default, deserialize_with = "opt_text")]
    name: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    new_name: Option<String>,
}

/// Refused: a model's name keys its append-only lifecycle event log and its deployments.
pub async fn rename_registered_model(
    State(state): State<AppState>,
    Message(request): Message<RenameRegisteredModelRequest>,
) -> TrackingResult<Json<Value>> {
    let name = required_text(request.name, "name")?;
    let new_name = required_text(request.new_name, "new_name")?;
    load_model(&state, &name).await?;
    Err(TrackingError::invalid(format!(
        "Bascule does not rename registered models: '{name}' keys its append-only lifecycle \
         event log and its deployments. Register the versions under '{new_name}' instead."
    )))
}

pub async fn delete_registered_model(
    State(state): State<AppState>,
    Message(request): Message<NameRequest>,
) -> TrackingResult<Json<Value>> {
    let name = required_text(request.name, "name")?;
    load_model(&state, &name).await?;
    let store = state.registry.store();
    if store.get_deployment(&name).await?.is_some() {
        return Err(TrackingError::invalid_state(format!(
            "Registered model '{name}' is deployed; undeploy it (`bascule undeploy`) before \
             deleting it"
        )));
    }
    let deleted = Tag {
        key: DELETED_TAG.to_owned(),
        value: "true".to_owned(),
    };
    for version in store.list_model_versions(&name).await? {
        store
            .set_model_version_tag(&name, version.version, &deleted)
            .await?;
    }
    store.set_registered_model_tag(&name, &deleted).await?;
    Ok(empty())
}

#[derive(Debug, Deserialize)]
pub struct ModelTagRequest {
    #[serde(default, deserialize_with = "opt_text")]
    name: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    version: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    key: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    value: Option<String>,
}

fn user_tag_key(key: Option<String>) -> TrackingResult<String> {
    let key = required_text(key, "key")?;
    if key == DELETED_TAG || key == STAGE_TAG {
        return Err(TrackingError::invalid(format!(
            "The tag '{key}' is Bascule's own and cannot be set or deleted"
        )));
    }
    Ok(key)
}

pub async fn set_registered_model_tag(
    State(state): State<AppState>,
    Message(request): Message<ModelTagRequest>,
) -> TrackingResult<Json<Value>> {
    let name = required_text(request.name, "name")?;
    let tag = Tag {
        key: user_tag_key(request.key)?,
        value: required(request.value, "value")?,
    };
    load_model(&state, &name).await?;
    state
        .registry
        .store()
        .set_registered_model_tag(&name, &tag)
        .await?;
    Ok(empty())
}

pub async fn delete_registered_model_tag(
    State(state): State<AppState>,
    Message(request): Message<ModelTagRequest>,
) -> TrackingResult<Json<Value>> {
    let name = required_text(request.name, "name")?;
    let key = user_tag_key(request.key)?;
    load_model(&state, &name).await?;
    state
        .registry
        .store()
        .delete_registered_model_tag(&name, &key)
        .await?;
    Ok(empty())
}

#[derive(Debug, Deserialize)]
pub struct AliasRequest {
    #[serde(default, deserialize_with = "opt_text")]
    name: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    alias: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    version: Option<String>,
}

pub async fn set_alias(
    State(state): State<AppState>,
    Message(request): Message<AliasRequest>,
) -> TrackingResult<Json<Value>> {
    let name = required_text(request.name, "name")?;
    let alias = required_text(request.alias, "alias")?;
    let version = required_text(request.version, "version")?;
    let model_version = load_version(&state, &name, &version).await?;
    state
        .registry
        .set_alias(&name, &alias, model_version.version)
        .await?;
    Ok(empty())
}

pub async fn delete_alias(
    State(state): State<AppState>,
    Message(request): Message<AliasRequest>,
) -> TrackingResult<Json<Value>> {
    let name = required_text(request.name, "name")?;
    let alias = required_text(request.alias, "alias")?;
    load_model(&state, &name).await?;
    state.registry.delete_alias(&name, &alias).await?;
    Ok(empty())
}

pub async fn get_version_by_alias(
    State(state): State<AppState>,
    Message(request): Message<AliasRequest>,
) -> TrackingResult<Json<ModelVersionResponse>> {
    let name = required_text(request.name, "name")?;
    let alias = required_text(request.alias, "alias")?;
    load_model(&state, &name).await?;
    let model_version = state
        .registry
        .version_by_alias(&name, &alias)
        .await
        .map_err(|error| match error {
            bascule_lifecycle::LifecycleError::Store(bascule_core::Error::NotFound { .. }) => {
                TrackingError::not_found(format!(
                    "Registered model alias {alias} not found for model {name}"
                ))
            }
            other => other.into(),
        })?;
    Ok(Json(ModelVersionResponse {
        model_version: model_version.into(),
    }))
}

#[derive(Debug, Serialize)]
pub struct ModelVersionsResponse {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    model_versions: Vec<ModelVersionOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_page_token: Option<String>,
}

/// The newest visible version (MLflow's per-stage latest, with Bascule showing no MLflow
/// stages: one version).
pub async fn get_latest_versions(
    State(state): State<AppState>,
    Message(request): Message<NameRequest>,
) -> TrackingResult<Json<ModelVersionsResponse>> {
    let name = required_text(request.name, "name")?;
    let model = load_model(&state, &name).await?;
    let out = model_out(&state, model).await?;
    Ok(Json(ModelVersionsResponse {
        model_versions: out.latest_versions,
        next_page_token: None,
    }))
}

#[derive(Debug, Deserialize)]
pub struct CreateModelVersionRequest {
    #[serde(default, deserialize_with = "opt_text")]
    name: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    source: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    run_id: Option<String>,
    #[serde(default)]
    tags: Vec<TagIn>,
    #[serde(default, deserialize_with = "opt_text")]
    description: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    model_id: Option<String>,
}

pub async fn create_model_version(
    State(state): State<AppState>,
    headers: HeaderMap,
    Message(request): Message<CreateModelVersionRequest>,
) -> TrackingResult<Json<ModelVersionResponse>> {
    let name = required_text(request.name, "name")?;
    let source = match (request.source.filter(|s| !s.is_empty()), request.model_id) {
        (Some(source), _) => source,
        (None, Some(model_id)) if !model_id.is_empty() => format!("models:/{model_id}"),
        _ => return Err(TrackingError::missing("source")),
    };
    let tags = tags_in(request.tags)?;
    for tag in &tags {
        user_tag_key(Some(tag.key.clone()))?;
    }
    load_model(&state, &name).await?;
    let model_version = state
        .registry
        .register_mlflow_version(MlflowVersionRequest {
            name,
            source,
            run_id: request.run_id.filter(|id| !id.is_empty()),
            description: request.description.unwrap_or_default(),
            tags,
            actor: actor(&headers),
        })
        .await?;
    Ok(Json(ModelVersionResponse {
        model_version: model_version.into(),
    }))
}

#[derive(Debug, Deserialize)]
pub struct VersionRequest {
    #[serde(default, deserialize_with = "opt_text")]
    name: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    version: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    description: Option<String>,
}

async fn requested_version(
    state: &AppState,
    request: &VersionRequest,
) -> TrackingResult<ModelVersion> {
    let name = required_text(request.name.clone(), "name")?;
    let version = required_text(request.version.clone(), "version")?;
    load_version(state, &name, &version).await
}

pub async fn get_model_version(
    State(state): State<AppState>,
    Message(request): Message<VersionRequest>,
) -> TrackingResult<Json<ModelVersionResponse>> {
    let model_version = requested_version(&state, &request).await?;
    Ok(Json(ModelVersionResponse {
        model_version: model_version.into(),
    }))
}

pub async fn update_model_version(
    State(state): State<AppState>,
    Message(request): Message<VersionRequest>,
) -> TrackingResult<Json<ModelVersionResponse>> {
    let model_version = requested_version(&state, &request).await?;
    if let Some(description) = &request.description {
        state
            .registry
            .store()
            .set_model_version_description(&model_version.name, model_version.version, description)
            .await?;
    }
    let model_version = requested_version(&state, &request).await?;
    Ok(Json(ModelVersionResponse {
        model_version: model_version.into(),
    }))
}

pub async fn delete_model_version(
    State(state): State<AppState>,
    Message(request): Message<VersionRequest>,
) -> TrackingResult<Json<Value>> {
    let model_version = requested_version(&state, &request).await?;
    if matches!(model_version.stage, Stage::Deployed | Stage::Monitored) {
        return Err(TrackingError::invalid_state(format!(
            "{} version {} is {}; roll it back or undeploy it before deleting it",
            model_version.name,
            model_version.version,
            model_version.stage.as_str()
        )));
    }
    let deleted = Tag {
        key: DELETED_TAG.to_owned(),
        value: "true".to_owned(),
    };
    state
        .registry
        .store()
        .set_model_version_tag(&model_version.name, model_version.version, &deleted)
        .await?;
    Ok(empty())
}

pub async fn set_model_version_tag(
    State(state): State<AppState>,
    Message(request): Message<ModelTagRequest>,
) -> TrackingResult<Json<Value>> {
    let name = required_text(request.name, "name")?;
    let version = required_text(request.version, "version")?;
    let tag = Tag {
        key: user_tag_key(request.key)?,
        value: required(request.value, "value")?,
    };
    let model_version = load_version(&state, &name, &version).await?;
    state
        .registry
        .store()
        .set_model_version_tag(&name, model_version.version, &tag)
        .await?;
    Ok(empty())
}

pub async fn delete_model_version_tag(
    State(state): State<AppState>,
    Message(request): Message<ModelTagRequest>,
) -> TrackingResult<Json<Value>> {
    let name = required_text(request.name, "name")?;
    let version = required_text(request.version, "version")?;
    let key = user_tag_key(request.key)?;
    let model_version = load_version(&state, &name, &version).await?;
    state
        .registry
        .store()
        .delete_model_version_tag(&name, model_version.version, &key)
        .await?;
    Ok(empty())
}

/// Where the version's files can be downloaded: the artifact tree directory its source
/// names (as `mlflow-artifacts:/…`), else the source itself.
pub async fn get_download_uri(
    State(state): State<AppState>,
    Message(request): Message<VersionRequest>,
) -> TrackingResult<Json<Value>> {
    let model_version = requested_version(&state, &request).await?;
    let uri = match state
        .registry
        .resolve_mlflow_source(&model_version.source)
        .await
    {
        Ok(Some(path)) => format!("mlflow-artifacts:/{path}"),
        Ok(None) | Err(_) => model_version.source.clone(),
    };
    Ok(Json(serde_json::json!({ "artifact_uri": uri })))
}

#[derive(Debug, Deserialize)]
pub struct SearchVersionsRequest {
    #[serde(default, deserialize_with = "opt_text")]
    filter: Option<String>,
    #[serde(default, deserialize_with = "opt_i64")]
    max_results: Option<i64>,
    #[serde(default, deserialize_with = "opt_text")]
    page_token: Option<String>,
}

/// Versions matching `name`, `version`, `run_id`, `source_path`, tags; newest model
/// first, then newest version.
pub async fn search_model_versions(
    State(state): State<AppState>,
    Message(request): Message<SearchVersionsRequest>,
) -> TrackingResult<Json<ModelVersionsResponse>> {
    let filter = Filter::parse(request.filter.as_deref().unwrap_or_default())?;
    let max_results = page_size(request.max_results, 10_000, 200_000)?;
    let offset = page_offset(request.page_token.as_deref())?;
    let named: Option<String> = filter.clauses.iter().find_map(|clause| {
        match (
            clause.entity,
            clause.key.as_str(),
            clause.comparator,
            &clause.value,
        ) {
            (
                "attribute",
                "name",
                bascule_core::Comparator::Eq,
                bascule_core::SearchValue::Text(name),
            ) => Some(name.clone()),
            _ => None,
        }
    });
    let names: Vec<String> = match named {
        Some(name) => vec![name],
        None => state
            .registry
            .list_models()
            .await?
            .into_iter()
            .map(|model| model.name)
            .collect(),
    };
    let mut versions = Vec::new();
    for name in names {
        match state.registry.store().list_model_versions(&name).await {
            Ok(list) => versions.extend(list.into_iter().rev()),
            Err(bascule_core::Error::NotFound { .. }) => {}
            Err(other) => return Err(other.into()),
        }
    }
    let versions: Vec<ModelVersion> = versions
        .into_iter()
        .filter(|version| !is_hidden(&version.tags))
        .filter(|version| {
            filter.matches(|entity, key| match (entity, key) {
                ("attribute", "name") => Some(version.name.clone().into()),
                ("attribute", "version" | "version_number") => {
                    Some((version.version as f64).into())
                }
                ("attribute", "run_id") => version.run_id.clone().map(Into::into),
                ("attribute", "source_path" | "source") => Some(version.source.clone().into()),
                ("tag", STAGE_TAG) => Some(version.stage.as_str().to_owned().into()),
                ("tag", key) => tag_field(&version.tags, key),
                _ => None,
            })
        })
        .collect();
    let (page, next_page_token) = paginate(versions, offset, max_results);
    Ok(Json(ModelVersionsResponse {
        model_versions: page.into_iter().map(ModelVersionOut::from).collect(),
        next_page_token,
    }))
}

//! `experiments/*`: create, get, get-by-name, search, update (rename), delete, restore, tags.

use axum::Json;
use axum::extract::State;
use bascule_core::{Experiment, LifecycleState, Tag};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::{TrackingError, TrackingResult};
use super::search::{Filter, tag_field, view_type};
use super::wire::{
    Message, TagIn, TagOut, empty, experiment_id, opt_i64, opt_text, page_offset, paginate,
    required_text, tags_in, tags_out, texts,
};
use crate::AppState;

#[derive(Debug, Serialize)]
pub struct ExperimentOut {
    experiment_id: String,
    name: String,
    artifact_location: String,
    lifecycle_stage: &'static str,
    last_update_time: i64,
    creation_time: i64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<TagOut>,
}

impl From<Experiment> for ExperimentOut {
    fn from(experiment: Experiment) -> Self {
        ExperimentOut {
            experiment_id: experiment.experiment_id.to_string(),
            name: experiment.name,
            artifact_location: experiment.artifact_location,
            lifecycle_stage: experiment.lifecycle_stage.as_str(),
            last_update_time: experiment.last_update_time,
            creation_time: experiment.creation_time,
            tags: tags_out(experiment.tags),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct GetExperimentResponse {
    experiment: ExperimentOut,
}

#[derive(Debug, Deserialize)]
pub struct CreateExperimentRequest {
    #[serde(default, deserialize_with = "opt_text")]
    name: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    artifact_location: Option<String>,
    #[serde(default)]
    tags: Vec<TagIn>,
}

pub async fn create_experiment(
    State(state): State<AppState>,
    Message(request): Message<CreateExperimentRequest>,
) -> TrackingResult<Json<Value>> {
    let name = required_text(request.name, "name")?;
    let tags = tags_in(request.tags)?;
    let location = request
        .artifact_location
        .filter(|location| !location.is_empty());
    let experiment = state
        .registry
        .store()
        .create_experiment(&name, location.as_deref(), &tags)
        .await
        .map_err(|error| match error {
            bascule_core::Error::AlreadyExists { .. } => {
                TrackingError::already_exists(format!("Experiment(name={name}) already exists."))
            }
            other => other.into(),
        })?;
    Ok(Json(serde_json::json!({
        "experiment_id": experiment.experiment_id.to_string()
    })))
}

#[derive(Debug, Deserialize)]
pub struct ExperimentIdRequest {
    #[serde(default, deserialize_with = "opt_text")]
    experiment_id: Option<String>,
}

async fn get_by_id(state: &AppState, experiment: Option<String>) -> TrackingResult<Experiment> {
    let text = required_text(experiment, "experiment_id")?;
    let id = experiment_id(&text)?;
    state
        .registry
        .store()
        .get_experiment(id)
        .await
        .map_err(|error| match error {
            bascule_core::Error::NotFound { .. } => {
                TrackingError::not_found(format!("No Experiment with id={text} exists"))
            }
            other => other.into(),
        })
}

pub async fn get_experiment(
    State(state): State<AppState>,
    Message(request): Message<ExperimentIdRequest>,
) -> TrackingResult<Json<GetExperimentResponse>> {
    let experiment = get_by_id(&state, request.experiment_id).await?;
    Ok(Json(GetExperimentResponse {
        experiment: experiment.into(),
    }))
}

#[derive(Debug, Deserialize)]
pub struct GetByNameRequest {
    #[serde(default, deserialize_with = "opt_text")]
    experiment_name: Option<String>,
}

pub async fn get_experiment_by_name(
    State(state): State<AppState>,
    Message(request): Message<GetByNameRequest>,
) -> TrackingResult<Json<GetExperimentResponse>> {
    let name = required_text(request.experiment_name, "experiment_name")?;
    let experiment = state
        .registry
        .store()
        .get_experiment_by_name(&name)
        .await
        .map_err(|error| match error {
            bascule_core::Error::NotFound { .. } => {
                TrackingError::not_found(format!("Could not find experiment with name '{name}'"))
            }
            other => other.into(),
        })?;
    Ok(Json(GetExperimentResponse {
        experiment: experiment.into(),
    }))
}

#[derive(Debug, Deserialize)]
pub struct SearchExperimentsRequest {
    #[serde(default, deserialize_with = "opt_i64")]
    max_results: Option<i64>,
    #[serde(default, deserialize_with = "opt_text")]
    page_token: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    filter: Option<String>,
    #[serde(default, deserialize_with = "texts")]
    order_by: Vec<String>,
    #[serde(default, deserialize_with = "opt_text")]
    view_type: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct SearchExperimentsResponse {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    experiments: Vec<ExperimentOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_page_token: Option<String>,
}

/// Experiments are few: they are filtered and ordered in memory.
pub async fn search_experiments(
    State(state): State<AppState>,
    Message(request): Message<SearchExperimentsRequest>,
) -> TrackingResult<Json<SearchExperimentsResponse>> {
    let view = view_type(request.view_type.as_deref())?;
    let filter = Filter::parse(request.filter.as_deref().unwrap_or_default())?;
    let max_results = page_size(request.max_results, 1000, 50_000)?;
    let offset = page_offset(request.page_token.as_deref())?;
    let mut experiments: Vec<Experiment> = state
        .registry
        .store()
        .list_experiments(view)
        .await?
        .into_iter()
        .filter(|experiment| {
            filter.matches(|entity, key| match (entity, key) {
                ("attribute", "name") => Some(experiment.name.clone().into()),
                ("attribute", "creation_time") => Some((experiment.creation_time as f64).into()),
                ("attribute", "last_update_time") => {
                    Some((experiment.last_update_time as f64).into())
                }
                ("tag", key) => tag_field(&experiment.tags, key),
                _ => None,
            })
        })
        .collect();
    sort_experiments(&mut experiments, &request.order_by)?;
    let (page, next_page_token) = paginate(experiments, offset, max_results);
    Ok(Json(SearchExperimentsResponse {
        experiments: page.into_iter().map(ExperimentOut::from).collect(),
        next_page_token,
    }))
}

/// Newest first by default, as MLflow; `name`, `experiment_id`, `creation_time`,
/// `last_update_time` with ASC or DESC otherwise.
fn sort_experiments(experiments: &mut [Experiment], order_by: &[String]) -> TrackingResult<()> {
    let mut keys = Vec::new();
    for clause in order_by {
        let mut words = clause.split_whitespace();
        let key = words.next().unwrap_or_default();
        let key = key.strip_prefix("attributes.").unwrap_or(key).to_owned();
        let ascending = match words.next().map(str::to_ascii_uppercase).as_deref() {
            None | Some("ASC") => true,
            Some("DESC") => false,
            Some(other) => {
                return Err(TrackingError::invalid(format!(
                    "Invalid order_by clause '{clause}': '{other}' is not ASC or DESC"
                )));
            }
        };
        if !["name", "experiment_id", "creation_time", "last_update_time"].contains(&key.as_str()) {
            return Err(TrackingError::invalid(format!(
                "Invalid order_by key '{key}': expected name, experiment_id, creation_time or \
                 last_update_time"
            )));
        }
        keys.push((key, ascending));
    }
    experiments.sort_by(|a, b| {
        for (key, ascending) in &keys {
            let ordering = match key.as_str() {
                "name" => a.name.cmp(&b.name),
                "experiment_id" => a.experiment_id.cmp(&b.experiment_id),
                "creation_time" => a.creation_time.cmp(&b.creation_time),
                _ => a.last_update_time.cmp(&b.last_update_time),
            };
            let ordering = if *ascending {
                ordering
            } else {
                ordering.reverse()
            };
            if ordering.is_ne() {
                return ordering;
            }
        }
        b.creation_time
            .cmp(&a.creation_time)
            .then(b.experiment_id.cmp(&a.experiment_id))
    });
    Ok(())
}

/// `max_results`, checked against MLflow's limit.
pub fn page_size(requested: Option<i64>, default: usize, limit: usize) -> TrackingResult<usize> {
    match requested {
        None => Ok(default),
        Some(requested) if requested >= 0 && requested as usize <= limit => Ok(requested as usize),
        Some(requested) => Err(TrackingError::invalid(format!(
            "Invalid value {requested} for parameter 'max_results' supplied: it must be at \
             most {limit} and not negative"
        ))),
    }
}

#[derive(Debug, Deserialize)]
pub struct UpdateExperimentRequest {
    #[serde(default, deserialize_with = "opt_text")]
    experiment_id: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    new_name: Option<String>,
}

pub async fn update_experiment(
    State(state): State<AppState>,
    Message(request): Message<UpdateExperimentRequest>,
) -> TrackingResult<Json<Value>> {
    let experiment = get_by_id(&state, request.experiment_id).await?;
    if let Some(new_name) = request.new_name.filter(|name| !name.is_empty()) {
        state
            .registry
            .store()
            .rename_experiment(experiment.experiment_id, &new_name)
            .await?;
    }
    Ok(empty())
}

async fn set_state(
    state: &AppState,
    experiment: Option<String>,
    lifecycle: LifecycleState,
) -> TrackingResult<Json<Value>> {
    let experiment = get_by_id(state, experiment).await?;
    state
        .registry
        .store()
        .set_experiment_state(experiment.experiment_id, lifecycle)
        .await?;
    Ok(empty())
}

pub async fn delete_experiment(
    State(state): State<AppState>,
    Message(request): Message<ExperimentIdRequest>,
) -> TrackingResult<Json<Value>> {
    set_state(&state, request.experiment_id, LifecycleState::Deleted).await
}

pub async fn restore_experiment(
    State(state): State<AppState>,
    Message(request): Message<ExperimentIdRequest>,
) -> TrackingResult<Json<Value>> {
    set_state(&state, request.experiment_id, LifecycleState::Active).await
}

#[derive(Debug, Deserialize)]
pub struct SetExperimentTagRequest {
    #[serde(default, deserialize_with = "opt_text")]
    experiment_id: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    key: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    value: Option<String>,
}

pub async fn set_experiment_tag(
    State(state): State<AppState>,
    Message(request): Message<SetExperimentTagRequest>,
) -> TrackingResult<Json<Value>> {
    let experiment = get_by_id(&state, request.experiment_id).await?;
    let tag = Tag {
        key: required_text(request.key, "key")?,
        value: request.value.unwrap_or_default(),
    };
    state
        .registry
        .store()
        .set_experiment_tag(experiment.experiment_id, &tag)
        .await?;
    Ok(empty())
}

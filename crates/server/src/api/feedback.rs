//! Feedback over REST: the items monitoring opened, their evidence and history, their
//! exports (CSV and Parquet), the outbox of webhook deliveries and retraining runs, and
//! acknowledging or resolving an item.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bascule_core::{FeedbackItem, FeedbackState, Task};
use bascule_lifecycle::feedback::FeedbackDetail;
use bascule_lifecycle::gate::DataFormat as Format;
use serde::{Deserialize, Serialize};

use super::monitoring::limit_of;
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Actor, ApiPath, ApiQuery};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedbackQuery {
    pub model: Option<String>,
    pub state: Option<String>,
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize)]
pub struct FeedbackListResponse {
    pub feedback: Vec<FeedbackItem>,
}

fn state_of(state: Option<&str>) -> Result<Option<FeedbackState>, ApiError> {
    state
        .map(|s| s.parse::<FeedbackState>().map_err(ApiError::bad_request))
        .transpose()
}

pub async fn list_feedback(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<FeedbackQuery>,
) -> Result<Json<FeedbackListResponse>, ApiError> {
    let feedback = state
        .registry
        .list_feedback(
            query.model.as_deref(),
            state_of(query.state.as_deref())?,
            limit_of(query.limit)?,
        )
        .await?;
    Ok(Json(FeedbackListResponse { feedback }))
}

pub async fn get_feedback(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<FeedbackDetail>, ApiError> {
    Ok(Json(state.registry.feedback(id).await?))
}

/// The body of `ack` and `resolve`; every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedbackAction {
    /// The version that answers the item (resolve only).
    pub version: Option<i64>,
    pub message: Option<String>,
}

/// An empty body is no options; anything else must be the JSON object.
fn action_of(body: &[u8]) -> Result<FeedbackAction, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(FeedbackAction::default());
    }
    serde_json::from_slice(body).map_err(|error| {
        ApiError::bad_request(format!(
            "the body must be {{\"version\": N, \"message\": \"…\"}} (both optional): {error}"
        ))
    })
}

pub async fn acknowledge_feedback(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    Actor(actor): Actor,
    body: axum::body::Bytes,
) -> Result<Json<FeedbackItem>, ApiError> {
    let action = action_of(&body)?;
    if action.version.is_some() {
        return Err(ApiError::bad_request(
            "acknowledging takes no version; resolve names the version that answers the item",
        ));
    }
    Ok(Json(
        state
            .registry
            .acknowledge_feedback(id, &actor, action.message.as_deref())
            .await?,
    ))
}

pub async fn resolve_feedback(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    Actor(actor): Actor,
    body: axum::body::Bytes,
) -> Result<Json<FeedbackItem>, ApiError> {
    let action = action_of(&body)?;
    Ok(Json(
        state
            .registry
            .resolve_feedback(id, &actor, action.version, action.message.as_deref())
            .await?,
    ))
}

/// `GET /feedback/{id}/export.csv` and `export.parquet`.
pub async fn download_export(
    State(state): State<AppState>,
    ApiPath((id, file)): ApiPath<(i64, String)>,
) -> Result<Response, ApiError> {
    let format = match file.as_str() {
        "export.csv" => Format::Csv,
        "export.parquet" => Format::Parquet,
        other => {
            return Err(bascule_core::Error::not_found(
                "feedback export file (export.csv or export.parquet)",
                other,
            )
            .into());
        }
    };
    let (_, bytes) = state.registry.feedback_export(id, format).await?;
    let headers = [
        (header::CONTENT_TYPE, format.content_type().to_owned()),
        (
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"feedback-{id}.{}\"",
                format.extension()
            ),
        ),
    ];
    Ok((headers, Body::from(bytes)).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TasksQuery {
    pub feedback: Option<i64>,
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize)]
pub struct TasksResponse {
    pub tasks: Vec<Task>,
}

/// `GET /tasks`: the outbox — webhook deliveries, retraining runs, candidate validations.
pub async fn list_tasks(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<TasksQuery>,
) -> Result<Json<TasksResponse>, ApiError> {
    let tasks = state
        .registry
        .tasks(query.feedback, limit_of(query.limit)?)
        .await?;
    Ok(Json(TasksResponse { tasks }))
}

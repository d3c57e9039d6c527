//! `/api/v1/deployments`: what serves each model, and the changes (deploy live, canary or
//! shadow; promote; roll back; undeploy). Handlers translate to `Serving::change`, which
//! holds every rule.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use bascule_core::{Deployment, LifecycleEvent, Role};
use bascule_lifecycle::serving::{ChangeRequest, DeployCommand, LogStats, ServingError};
use serde::{Deserialize, Serialize};

use super::versions::EventResponse;
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Actor, ApiJson, ApiPath};

#[derive(Debug, Serialize)]
pub struct DeploymentResponse {
    pub name: String,
    pub live: Option<i64>,
    pub canary: Option<CanaryResponse>,
    pub shadow: Option<i64>,
    pub previous_live: Option<i64>,
    pub revision: i64,
    pub updated_by: String,
    pub updated_time: i64,
}

#[derive(Debug, Serialize)]
pub struct CanaryResponse {
    pub version: i64,
    pub percent: u8,
}

impl From<Deployment> for DeploymentResponse {
    fn from(d: Deployment) -> Self {
        DeploymentResponse {
            name: d.name,
            live: d.live,
            canary: d.canary.map(|c| CanaryResponse {
                version: c.version,
                percent: c.percent,
            }),
            shadow: d.shadow,
            previous_live: d.previous_live,
            revision: d.revision,
            updated_by: d.updated_by,
            updated_time: d.updated_time,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ListDeploymentsResponse {
    pub deployments: Vec<DeploymentResponse>,
    pub prediction_log: PredictionLogResponse,
}

/// The prediction log's counters since start-up: shed records are never lost silently.
#[derive(Debug, Serialize)]
pub struct PredictionLogResponse {
    pub accepted: u64,
    pub written: u64,
    pub shed: u64,
    pub failed: u64,
    pub queued: u64,
    pub capacity: u64,
}

impl From<LogStats> for PredictionLogResponse {
    fn from(s: LogStats) -> Self {
        PredictionLogResponse {
            accepted: s.accepted,
            written: s.written,
            shed: s.shed,
            failed: s.failed,
            queued: s.queued,
            capacity: s.capacity,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ChangeResponse {
    pub deployment: DeploymentResponse,
    pub events: Vec<EventResponse>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateDeploymentRequest {
    pub name: String,
    pub version: i64,
    #[serde(default = "live")]
    pub mode: String,
    pub percent: Option<u8>,
    pub reason: Option<String>,
}

fn live() -> String {
    "live".to_owned()
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeReasonRequest {
    pub reason: Option<String>,
}

/// An optional `{"reason": …}` body.
fn reason_from(body: &Bytes) -> Result<Option<String>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let request: ChangeReasonRequest = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))?;
    Ok(request.reason)
}

fn error(error: ServingError) -> ApiError {
    ApiError::from_coded(&error)
}

fn changed((deployment, events): (Deployment, Vec<LifecycleEvent>)) -> Json<ChangeResponse> {
    Json(ChangeResponse {
        deployment: deployment.into(),
        events: events.into_iter().map(Into::into).collect(),
    })
}

pub async fn list_deployments(
    State(state): State<AppState>,
) -> Result<Json<ListDeploymentsResponse>, ApiError> {
    let deployments = state.serving.list().await.map_err(error)?;
    Ok(Json(ListDeploymentsResponse {
        deployments: deployments.into_iter().map(Into::into).collect(),
        prediction_log: state.serving.log_stats().into(),
    }))
}

pub async fn get_deployment(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<DeploymentResponse>, ApiError> {
    Ok(Json(state.serving.get(&name).await.map_err(error)?.into()))
}

pub async fn create_deployment(
    State(state): State<AppState>,
    Actor(actor): Actor,
    ApiJson(request): ApiJson<CreateDeploymentRequest>,
) -> Result<(StatusCode, Json<ChangeResponse>), ApiError> {
    let role: Role = request.mode.parse().map_err(ApiError::bad_request)?;
    if (role == Role::Canary) != request.percent.is_some() {
        return Err(ApiError::bad_request(
            "'percent' is required with mode 'canary' and allowed only with it",
        ));
    }
    let change = ChangeRequest {
        name: request.name,
        command: DeployCommand::Deploy {
            version: request.version,
            role,
            percent: request.percent,
        },
        actor,
        reason: request.reason,
    };
    let result = state.serving.change(change).await.map_err(error)?;
    Ok((StatusCode::CREATED, changed(result)))
}

async fn apply(
    state: &AppState,
    name: String,
    command: DeployCommand,
    actor: String,
    reason: Option<String>,
) -> Result<Json<ChangeResponse>, ApiError> {
    let change = ChangeRequest {
        name,
        command,
        actor,
        reason,
    };
    Ok(changed(state.serving.change(change).await.map_err(error)?))
}

pub async fn promote_deployment(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    Actor(actor): Actor,
    body: Bytes,
) -> Result<Json<ChangeResponse>, ApiError> {
    let reason = reason_from(&body)?;
    apply(&state, name, DeployCommand::Promote, actor, reason).await
}

pub async fn rollback_deployment(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    Actor(actor): Actor,
    body: Bytes,
) -> Result<Json<ChangeResponse>, ApiError> {
    let reason = reason_from(&body)?;
    apply(&state, name, DeployCommand::Rollback, actor, reason).await
}

pub async fn delete_deployment(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    Actor(actor): Actor,
) -> Result<Json<ChangeResponse>, ApiError> {
    apply(&state, name, DeployCommand::Undeploy, actor, None).await
}

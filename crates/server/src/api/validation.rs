//! The validation gate over REST: a model's validation policy, validating a version on
//! an uploaded data set, and the newest validation report of a version.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bascule_core::{ErrorCode, PolicyFormat, StoredPolicy, ValidationRecord};
use bascule_lifecycle::gate::{DataFormat, ValidateRequest, ValidationReport};
use bascule_lifecycle::jobs::{Job, JobState, ProgressSnapshot};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Actor, ApiPath, ApiQuery};

#[derive(Debug, Serialize)]
pub struct PolicyResponse {
    pub name: String,
    pub policy_version: i64,
    pub format: String,
    pub body: String,
    pub created_by: String,
    pub time: i64,
}

impl From<StoredPolicy> for PolicyResponse {
    fn from(policy: StoredPolicy) -> Self {
        PolicyResponse {
            name: policy.name,
            policy_version: policy.policy_version,
            format: policy.format.as_str().to_owned(),
            body: policy.body,
            created_by: policy.created_by,
            time: policy.time,
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct ValidateQuery {
    pub label: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ValidationResponse {
    pub name: String,
    pub version: i64,
    pub passed: bool,
    pub stage: String,
    pub report_digest: String,
    pub profile_digest: String,
    pub policy_version: Option<i64>,
    pub time: i64,
    /// The stored report document (its own schema, `schema: 1`).
    pub report: serde_json::Value,
}

fn validation_response(
    record: ValidationRecord,
    report: &ValidationReport,
) -> Result<ValidationResponse, ApiError> {
    let document = serde_json::to_value(report).map_err(|error| {
        ApiError::from(bascule_core::Error::internal(
            "cannot encode the report",
            error,
        ))
    })?;
    Ok(ValidationResponse {
        name: record.name,
        version: record.version,
        passed: record.passed,
        stage: report.decision.as_str().to_owned(),
        report_digest: record.report_digest,
        profile_digest: record.profile_digest,
        policy_version: record.policy_version,
        time: record.time,
        report: document,
    })
}

fn content_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
}

/// `PUT /models/{name}/policy`: a TOML (`application/toml`) or JSON body.
pub async fn put_policy(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    Actor(actor): Actor,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<PolicyResponse>, ApiError> {
    let format = match content_type(&headers).as_deref() {
        Some("application/json") => PolicyFormat::Json,
        Some("application/toml" | "text/toml" | "text/x-toml") => PolicyFormat::Toml,
        other => {
            return Err(ApiError::unsupported_media_type(format!(
                "unsupported content type '{}': send the policy as application/toml or application/json",
                other.unwrap_or("(none)")
            )));
        }
    };
    let body = std::str::from_utf8(&body)
        .map_err(|_| ApiError::bad_request("the policy is not UTF-8 text"))?;
    let policy = state
        .registry
        .set_policy(&name, body, format, &actor)
        .await?;
    Ok(Json(policy.into()))
}

/// `GET /models/{name}/policy`: the newest policy.
pub async fn get_policy(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<PolicyResponse>, ApiError> {
    match state.registry.policy(&name).await? {
        Some(policy) => Ok(Json(policy.into())),
        None => Err(ApiError::new(
            ErrorCode::NotFound,
            format!(
                "model '{name}' has no validation policy; set one with PUT /api/v1/models/{name}/policy (validation then uses the defaults)"
            ),
        )),
    }
}

/// `POST /models/{name}/versions/{version}/validate[?label=]`: the data set is the body
/// (`text/csv`, `application/vnd.apache.parquet`, or `application/octet-stream`, sniffed).
/// Answers when the version is Validated or Rejected; with `Prefer: respond-async`
/// (RFC 7240) it answers 202 at once with a job to poll at `Location`.
pub async fn validate_version(
    State(state): State<AppState>,
    ApiPath((name, version)): ApiPath<(String, i64)>,
    ApiQuery(query): ApiQuery<ValidateQuery>,
    Actor(actor): Actor,
    request: Request,
) -> Result<Response, ApiError> {
    let asynchronous = prefers_async(request.headers());
    let declared = content_type(request.headers());
    let limit = usize::try_from(state.config.max_upload_bytes).unwrap_or(usize::MAX);
    let data = axum::body::to_bytes(request.into_body(), limit)
        .await
        .map_err(|error| {
            ApiError::bad_request(format!(
                "cannot read the data set (limit {limit} bytes): {error}"
            ))
        })?;
    let format = match declared.as_deref() {
        Some("application/octet-stream") | None => DataFormat::sniff(&data),
        Some(other) => DataFormat::from_content_type(other).ok_or_else(|| {
            ApiError::unsupported_media_type(format!(
                "unsupported content type '{other}': send the data set as text/csv or application/vnd.apache.parquet"
            ))
        })?,
    };
    let request = ValidateRequest {
        name,
        version,
        data,
        format,
        label: query.label,
        actor,
        compare_with: None,
        also_report: Vec::new(),
    };
    if asynchronous {
        // Refuse what cannot start (no such version, not a Prototype) before accepting.
        state
            .registry
            .check_validatable(&request.name, request.version)
            .await?;
        let job = state.registry.start_validation(request);
        let location = format!("/api/v1/jobs/{}", job.id);
        let body = job_response(&job)?;
        return Ok((
            StatusCode::ACCEPTED,
            [(header::LOCATION, location)],
            Json(body),
        )
            .into_response());
    }
    let outcome = state.registry.validate(request).await?;
    Ok((
        StatusCode::OK,
        Json(validation_response(outcome.record, &outcome.report)?),
    )
        .into_response())
}

/// `Prefer: respond-async`, alone or among other preferences.
fn prefers_async(headers: &HeaderMap) -> bool {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|preference| preference.trim().eq_ignore_ascii_case("respond-async"))
}

/// A background job: its phase and progress, and once finished its outcome (the
/// validation, as `GET …/validation` gives it) or its error.
#[derive(Debug, Serialize)]
pub struct JobResponse {
    pub id: String,
    pub kind: &'static str,
    pub name: String,
    pub version: i64,
    pub actor: String,
    /// `running`, `succeeded` or `failed`.
    pub state: &'static str,
    pub progress: ProgressSnapshot,
    pub started: i64,
    pub finished: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<ValidationResponse>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<JobErrorBody>,
}

#[derive(Debug, Serialize)]
pub struct JobErrorBody {
    pub code: &'static str,
    pub message: String,
}

fn job_response(job: &Job) -> Result<JobResponse, ApiError> {
    let (state, finished) = job.state();
    let mut response = JobResponse {
        id: job.id.clone(),
        kind: job.kind,
        name: job.model.clone(),
        version: job.version,
        actor: job.actor.clone(),
        state: state.as_str(),
        progress: job.progress.snapshot(),
        started: job.started,
        finished,
        result: None,
        error: None,
    };
    match state {
        JobState::Running => {}
        JobState::Succeeded(outcome) => {
            response.result = Some(validation_response(outcome.record, &outcome.report)?);
        }
        JobState::Failed { code, message } => {
            response.error = Some(JobErrorBody {
                code: code.as_str(),
                message,
            });
        }
    }
    Ok(response)
}

/// `GET /jobs/{id}`: a job of this server.
pub async fn get_job(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<JobResponse>, ApiError> {
    let job = state.registry.job(&id).ok_or_else(|| {
        ApiError::new(
            ErrorCode::NotFound,
            format!(
                "no job '{id}' on this server (finished jobs are kept for {} minutes)",
                bascule_lifecycle::jobs::RETENTION.as_secs() / 60
            ),
        )
    })?;
    Ok(Json(job_response(&job)?))
}

/// `GET /models/{name}/versions/{version}/validation`: the newest report.
pub async fn get_validation(
    State(state): State<AppState>,
    ApiPath((name, version)): ApiPath<(String, i64)>,
) -> Result<Json<ValidationResponse>, ApiError> {
    match state.registry.validation_report(&name, version).await? {
        Some((record, report)) => Ok(Json(validation_response(record, &report)?)),
        None => Err(ApiError::new(
            ErrorCode::NotFound,
            format!(
                "{name} version {version} has not been validated; run `bascule validate {name} {version} --data FILE`"
            ),
        )),
    }
}

//! The validation gate over REST: a model's validation policy, validating a version on
//! an uploaded data set, and the newest validation report of a version.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use bascule_core::{ErrorCode, PolicyFormat, StoredPolicy, ValidationRecord};
use bascule_lifecycle::gate::{DataFormat, ValidateRequest, ValidationReport};
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
/// Synchronous: answers when the version is Validated or Rejected.
pub async fn validate_version(
    State(state): State<AppState>,
    ApiPath((name, version)): ApiPath<(String, i64)>,
    ApiQuery(query): ApiQuery<ValidateQuery>,
    Actor(actor): Actor,
    request: Request,
) -> Result<(StatusCode, Json<ValidationResponse>), ApiError> {
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
    let outcome = state
        .registry
        .validate(ValidateRequest {
            name,
            version,
            data,
            format,
            label: query.label,
            actor,
        })
        .await?;
    Ok((
        StatusCode::OK,
        Json(validation_response(outcome.record, &outcome.report)?),
    ))
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

//! Monitoring over REST: ground-truth labels (`POST /models/{name}/labels`), the closed
//! windows of each serving version with their reports, and alerts.

use axum::Json;
use axum::extract::State;
use bascule_core::{Alert, AlertState, Label, LabelReceipt, LabelSummary, StoredWindow};
use bascule_lifecycle::monitoring::WindowReport;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};

/// The body of `POST /labels`: a list of `{request_id, label}`, bare or as `{"labels": …}`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum LabelsBody {
    List(Vec<Value>),
    Wrapped { labels: Vec<Value> },
}

/// Reads every label or refuses the whole call, naming each offending entry (up to ten):
/// nothing is stored unless everything is valid.
fn parse_labels(body: LabelsBody) -> Result<Vec<Label>, ApiError> {
    let entries = match body {
        LabelsBody::List(entries) | LabelsBody::Wrapped { labels: entries } => entries,
    };
    let mut labels = Vec::with_capacity(entries.len());
    let mut problems = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        match parse_label(entry) {
            Ok(label) => labels.push(label),
            Err(problem) => problems.push(format!("labels[{index}]: {problem}")),
        }
    }
    if problems.is_empty() {
        return Ok(labels);
    }
    let shown = problems.len().min(10);
    let more = problems.len() - shown;
    let mut message = format!("no labels stored: {}", problems[..shown].join("; "));
    if more > 0 {
        message.push_str(&format!(" (and {more} more)"));
    }
    Err(ApiError::bad_request(message))
}

fn parse_label(entry: &Value) -> Result<Label, String> {
    let Value::Object(fields) = entry else {
        return Err(format!(
            "expected an object {{\"request_id\", \"label\"}}, got {entry}"
        ));
    };
    if let Some(unknown) = fields.keys().find(|k| *k != "request_id" && *k != "label") {
        return Err(format!(
            "unknown field '{unknown}' (expected request_id and label)"
        ));
    }
    let request_id = match fields.get("request_id") {
        Some(Value::String(id)) if !id.is_empty() && id.len() <= 256 => id.clone(),
        Some(Value::String(_)) => return Err("request_id must be 1 to 256 characters".into()),
        Some(other) => return Err(format!("request_id must be a string, got {other}")),
        None => return Err("missing request_id".into()),
    };
    let label = match fields.get("label") {
        Some(Value::Number(number)) => number
            .as_f64()
            .filter(|v| v.is_finite())
            .ok_or_else(|| format!("label {number} is not a finite number"))?,
        Some(Value::Bool(flag)) => f64::from(u8::from(*flag)),
        Some(other) => {
            return Err(format!(
                "label must be a number (a class index or a target value), got {other}"
            ));
        }
        None => return Err("missing label".into()),
    };
    Ok(Label { request_id, label })
}

pub async fn post_labels(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<LabelsBody>,
) -> Result<Json<LabelReceipt>, ApiError> {
    let labels = parse_labels(body)?;
    Ok(Json(state.registry.post_labels(&name, &labels).await?))
}

pub async fn get_labels(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<LabelSummary>, ApiError> {
    Ok(Json(state.registry.label_summary(&name).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowsQuery {
    pub version: Option<i64>,
    pub limit: Option<i64>,
}

/// A window with its report as JSON (not a string).
#[derive(Debug, Serialize)]
pub struct WindowResponse {
    pub id: i64,
    pub name: String,
    pub version: i64,
    pub role: String,
    pub first_prediction: i64,
    pub last_prediction: i64,
    pub start_time: i64,
    pub end_time: i64,
    pub n_predictions: i64,
    pub n_labelled: i64,
    pub drift_share: Option<f64>,
    /// The features the window's report judged drifted.
    pub drifted_features: Vec<String>,
    pub computed_time: i64,
    pub report: Value,
}

impl From<StoredWindow> for WindowResponse {
    fn from(w: StoredWindow) -> Self {
        let drifted_features = serde_json::from_str::<WindowReport>(&w.report)
            .ok()
            .and_then(|report| report.drift)
            .map(|drift| drift.drifted_features())
            .unwrap_or_default();
        WindowResponse {
            drifted_features,
            report: serde_json::from_str(&w.report).unwrap_or(Value::Null),
            id: w.id,
            name: w.name,
            version: w.version,
            role: w.role.as_str().to_owned(),
            first_prediction: w.first_prediction,
            last_prediction: w.last_prediction,
            start_time: w.start_time,
            end_time: w.end_time,
            n_predictions: w.n_predictions,
            n_labelled: w.n_labelled,
            drift_share: w.drift_share,
            computed_time: w.computed_time,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct WindowsResponse {
    pub windows: Vec<WindowResponse>,
}

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 10_000;

pub(super) fn limit_of(limit: Option<i64>) -> Result<i64, ApiError> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(limit) if (1..=MAX_LIMIT).contains(&limit) => Ok(limit),
        Some(limit) => Err(ApiError::bad_request(format!(
            "limit {limit} is out of range; give 1 to {MAX_LIMIT}"
        ))),
    }
}

pub async fn list_windows(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiQuery(query): ApiQuery<WindowsQuery>,
) -> Result<Json<WindowsResponse>, ApiError> {
    let windows = state
        .registry
        .windows(&name, query.version, limit_of(query.limit)?)
        .await?;
    Ok(Json(WindowsResponse {
        windows: windows.into_iter().map(WindowResponse::from).collect(),
    }))
}

pub async fn get_window(
    State(state): State<AppState>,
    ApiPath((name, id)): ApiPath<(String, i64)>,
) -> Result<Json<WindowResponse>, ApiError> {
    Ok(Json(state.registry.window(&name, id).await?.into()))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertsQuery {
    pub model: Option<String>,
    pub state: Option<String>,
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize)]
pub struct AlertsResponse {
    pub alerts: Vec<Alert>,
}

fn state_of(state: Option<&str>) -> Result<Option<AlertState>, ApiError> {
    state
        .map(|s| s.parse::<AlertState>().map_err(ApiError::bad_request))
        .transpose()
}

pub async fn list_alerts(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<AlertsQuery>,
) -> Result<Json<AlertsResponse>, ApiError> {
    let alerts = state
        .registry
        .alerts(
            query.model.as_deref(),
            state_of(query.state.as_deref())?,
            limit_of(query.limit)?,
        )
        .await?;
    Ok(Json(AlertsResponse { alerts }))
}

pub async fn list_model_alerts(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiQuery(query): ApiQuery<AlertsQuery>,
) -> Result<Json<AlertsResponse>, ApiError> {
    if query.model.as_ref().is_some_and(|model| *model != name) {
        return Err(ApiError::bad_request(
            "the model is in the path; drop the 'model' parameter",
        ));
    }
    let alerts = state
        .registry
        .alerts(
            Some(&name),
            state_of(query.state.as_deref())?,
            limit_of(query.limit)?,
        )
        .await?;
    Ok(Json(AlertsResponse { alerts }))
}

pub async fn get_alert(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Alert>, ApiError> {
    Ok(Json(state.registry.alert(id).await?))
}

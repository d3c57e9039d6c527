//! The tracking API's errors, as MLflow writes them: `{"error_code", "message"}` with the
//! status MLflow gives each code (`mlflow/protos/databricks.proto`): 404 for
//! `RESOURCE_DOES_NOT_EXIST` (which `mlflow.set_experiment` relies on), 400 for the other
//! client mistakes, JSON for malformed bodies and unknown endpoints too. Server failures
//! are classified and logged by `crate::error`, and say nothing internal.

use axum::Json;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bascule_core::{Coded, ErrorCode};
use bascule_lifecycle::LifecycleError;

use crate::error::ApiError;

#[derive(Debug)]
pub struct TrackingError {
    pub status: StatusCode,
    pub error_code: &'static str,
    pub message: String,
}

impl TrackingError {
    pub fn invalid(message: impl Into<String>) -> Self {
        TrackingError {
            status: StatusCode::BAD_REQUEST,
            error_code: "INVALID_PARAMETER_VALUE",
            message: message.into(),
        }
    }

    pub fn malformed(message: impl Into<String>) -> Self {
        TrackingError {
            status: StatusCode::BAD_REQUEST,
            error_code: "MALFORMED_REQUEST",
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        TrackingError {
            status: StatusCode::NOT_FOUND,
            error_code: "RESOURCE_DOES_NOT_EXIST",
            message: message.into(),
        }
    }

    pub fn already_exists(message: impl Into<String>) -> Self {
        TrackingError {
            status: StatusCode::BAD_REQUEST,
            error_code: "RESOURCE_ALREADY_EXISTS",
            message: message.into(),
        }
    }

    pub fn invalid_state(message: impl Into<String>) -> Self {
        TrackingError {
            status: StatusCode::BAD_REQUEST,
            error_code: "INVALID_STATE",
            message: message.into(),
        }
    }

    /// MLflow's message for a required field left out.
    pub fn missing(field: &str) -> Self {
        TrackingError::invalid(format!(
            "Missing value for required parameter '{field}'. See the API docs for more \
             information about request parameters."
        ))
    }

    fn from_coded(error: &(dyn Coded + 'static)) -> Self {
        let api = ApiError::from_coded(error);
        let (status, error_code) = match error.code() {
            ErrorCode::NotFound => (StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST"),
            ErrorCode::AlreadyExists => (StatusCode::BAD_REQUEST, "RESOURCE_ALREADY_EXISTS"),
            ErrorCode::InvalidArgument => (StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE"),
            ErrorCode::FailedPrecondition => (StatusCode::BAD_REQUEST, "INVALID_STATE"),
            ErrorCode::Unavailable => (api.status, "TEMPORARILY_UNAVAILABLE"),
            ErrorCode::DataLoss => (api.status, "DATA_LOSS"),
            ErrorCode::Internal => (api.status, "INTERNAL_ERROR"),
        };
        TrackingError {
            status,
            error_code,
            message: api.message,
        }
    }
}

impl From<bascule_core::Error> for TrackingError {
    fn from(error: bascule_core::Error) -> Self {
        TrackingError::from_coded(&error)
    }
}

impl From<LifecycleError> for TrackingError {
    fn from(error: LifecycleError) -> Self {
        TrackingError::from_coded(&error)
    }
}

impl IntoResponse for TrackingError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "error_code": self.error_code,
            "message": self.message,
        });
        (self.status, Json(body)).into_response()
    }
}

pub type TrackingResult<T> = Result<T, TrackingError>;

/// Unknown paths under the MLflow prefixes: JSON, not an HTML page.
pub async fn no_endpoint(method: Method, uri: Uri) -> TrackingError {
    TrackingError {
        status: StatusCode::NOT_FOUND,
        error_code: "ENDPOINT_NOT_FOUND",
        message: format!("No API endpoint {method} {}", uri.path()),
    }
}

pub async fn method_not_allowed(method: Method, uri: Uri) -> TrackingError {
    TrackingError {
        status: StatusCode::METHOD_NOT_ALLOWED,
        error_code: "ENDPOINT_NOT_FOUND",
        message: format!("{method} is not allowed on {}", uri.path()),
    }
}

//! MLflow's error format: `{"error_code": "…", "message": "…"}` with the status MLflow
//! gives the code, except for unsupported content types, which MLflow answers with a
//! plain-text 415.
//!
//! The status of a serving error comes from `error.rs`, like every other protocol's; only
//! the code's MLflow name is chosen here.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bascule_core::{Coded, ErrorCode};
use bascule_lifecycle::serving::ServingError;

use crate::error::ApiError;

#[derive(Debug)]
pub struct MlflowError {
    status: StatusCode,
    error_code: &'static str,
    message: String,
}

impl MlflowError {
    /// A request MLflow could not parse (`BAD_REQUEST`, 400).
    pub fn bad_request(message: impl Into<String>) -> Self {
        MlflowError {
            status: StatusCode::BAD_REQUEST,
            error_code: "BAD_REQUEST",
            message: message.into(),
        }
    }

    /// Parsed, but not what the model takes (`INVALID_PARAMETER_VALUE`, 400).
    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        MlflowError {
            status: StatusCode::BAD_REQUEST,
            error_code: "INVALID_PARAMETER_VALUE",
            message: message.into(),
        }
    }

    /// No such model (`RESOURCE_DOES_NOT_EXIST`, 404).
    pub fn not_found(message: impl Into<String>) -> Self {
        MlflowError {
            status: StatusCode::NOT_FOUND,
            error_code: "RESOURCE_DOES_NOT_EXIST",
            message: message.into(),
        }
    }

    /// A content type other than JSON or CSV in UTF-8: 415, plain text, as MLflow does.
    pub fn unsupported_media_type(message: impl Into<String>) -> Self {
        MlflowError {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            error_code: "",
            message: message.into(),
        }
    }

    /// A body over the size limit: 413.
    pub fn too_large(message: impl Into<String>) -> Self {
        MlflowError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            error_code: "BAD_REQUEST",
            message: message.into(),
        }
    }
}

/// MLflow's name for each error code (`mlflow/protos/databricks.proto`), chosen so that
/// MLflow's own status for the name agrees with Bascule's status for the code.
fn mlflow_code(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::NotFound => "RESOURCE_DOES_NOT_EXIST",
        ErrorCode::AlreadyExists => "RESOURCE_ALREADY_EXISTS",
        ErrorCode::InvalidArgument => "INVALID_PARAMETER_VALUE",
        ErrorCode::FailedPrecondition => "RESOURCE_CONFLICT",
        ErrorCode::Unavailable => "TEMPORARILY_UNAVAILABLE",
        ErrorCode::DataLoss => "DATA_LOSS",
        ErrorCode::Internal => "INTERNAL_ERROR",
    }
}

impl From<ServingError> for MlflowError {
    fn from(error: ServingError) -> Self {
        let code = error.code();
        let api = ApiError::from_coded(&error);
        MlflowError {
            status: api.status,
            error_code: mlflow_code(code),
            message: api.message,
        }
    }
}

impl IntoResponse for MlflowError {
    fn into_response(self) -> Response {
        if self.status == StatusCode::UNSUPPORTED_MEDIA_TYPE {
            let plain = [(header::CONTENT_TYPE, "text/plain; charset=utf-8")];
            return (self.status, plain, self.message).into_response();
        }
        let body = serde_json::json!({
            "error_code": self.error_code,
            "message": self.message,
        });
        (self.status, Json(body)).into_response()
    }
}

#[cfg(test)]
impl MlflowError {
    pub fn message_for_test(&self) -> String {
        self.message.clone()
    }
}

//! The one place where an error becomes an HTTP status and an error body.

use axum::Json;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bascule_core::{Coded, ErrorCode};
use bascule_lifecycle::LifecycleError;

/// An error on Bascule's own API: `{"error": {"code": …, "message": …}}`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            status: status_of(code),
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::InvalidArgument, message)
    }

    /// 413: a request body over the configured limit.
    pub fn too_large(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: ErrorCode::InvalidArgument,
            message: message.into(),
        }
    }

    pub fn unsupported_media_type(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code: ErrorCode::InvalidArgument,
            message: message.into(),
        }
    }

    /// Classifies any coded error; 5xx messages say nothing internal and the full chain
    /// is logged here, inside the request's span.
    pub fn from_coded(error: &(dyn Coded + 'static)) -> Self {
        let code = error.code();
        let status = status_of(code);
        if status.is_server_error() {
            tracing::error!(error = %chain(error), "request failed");
            let message = match code {
                ErrorCode::Unavailable => "a backing service is unavailable; try again later",
                _ => "internal error; the server log has the details",
            };
            return ApiError {
                status,
                code,
                message: message.to_owned(),
            };
        }
        ApiError {
            status,
            code,
            message: error.to_string(),
        }
    }
}

/// The HTTP status of each error code (Bascule's API).
pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::AlreadyExists | ErrorCode::FailedPrecondition => StatusCode::CONFLICT,
        ErrorCode::InvalidArgument => StatusCode::BAD_REQUEST,
        ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::DataLoss | ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl From<LifecycleError> for ApiError {
    fn from(error: LifecycleError) -> Self {
        ApiError::from_coded(&error)
    }
}

impl From<bascule_core::Error> for ApiError {
    fn from(error: bascule_core::Error) -> Self {
        ApiError::from_coded(&error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "error": { "code": self.code.as_str(), "message": self.message }
        });
        (self.status, Json(body)).into_response()
    }
}

/// The app's answer to a path no route has: in OIP's error format (with a request id) on
/// OIP's paths, in the native API's elsewhere.
pub async fn no_route(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let error = ApiError::new(
        ErrorCode::NotFound,
        format!("no such endpoint: {method} {}", uri.path()),
    );
    in_the_paths_format(error, uri.path(), &headers)
}

/// The app's answer to a method a route does not take, formatted as [`no_route`]'s.
pub async fn method_not_allowed(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let error = ApiError {
        status: StatusCode::METHOD_NOT_ALLOWED,
        code: ErrorCode::InvalidArgument,
        message: format!("{method} is not allowed on {}", uri.path()),
    };
    in_the_paths_format(error, uri.path(), &headers)
}

fn in_the_paths_format(error: ApiError, path: &str, headers: &HeaderMap) -> Response {
    if path == "/v2" || path.starts_with("/v2/") {
        crate::oip::error_response(error, headers)
    } else {
        error.into_response()
    }
}

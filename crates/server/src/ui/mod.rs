//! The web UI: server-rendered HTML pages under `/ui`, one module per page, drawn from
//! what the registry, serving and the tracking store already hold. No script, no
//! network fetch from the page: charts are inline SVG (`svg.rs`), each with a text
//! alternative. Handlers read and render; they decide nothing.
//!
//! | route | page |
//! |---|---|
//! | `/ui` | every model: live version, stage, traffic split, last alert, open feedback |
//! | `/ui/models/{name}` | the status tracker, lineage, deployments, alerts, event log |
//! | `/ui/models/{name}/versions/{v}` | the validation report and the signature |
//! | `/ui/models/{name}/monitoring[?version=]` | drift, performance, latency, traffic over windows |
//! | `/ui/models/{name}/windows/{id}` | one window: per-feature drift and histograms |
//! | `/ui/feedback`, `/ui/feedback/{id}` | feedback items: alerts, export, deliveries and runs, answer, history |
//! | `/ui/experiments`, `/ui/experiments/{id}`, `/ui/runs/{id}` | tracking: runs, params, metric curves, artifacts |
//!
//! Anything else under `/ui/` is a 404 page.

mod experiments;
mod feedback;
mod layout;
mod model;
mod models;
mod monitoring;
mod svg;
mod version;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::de::DeserializeOwned;

use self::layout::{Esc, Section, Shell};
use crate::AppState;
use crate::error::ApiError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/ui", get(models::models_page))
        .route("/ui/models/{name}", get(model::model_page))
        .route(
            "/ui/models/{name}/versions/{version}",
            get(version::version_page),
        )
        .route(
            "/ui/models/{name}/monitoring",
            get(monitoring::monitoring_page),
        )
        .route(
            "/ui/models/{name}/windows/{id}",
            get(monitoring::window_page),
        )
        .route("/ui/feedback", get(feedback::feedback_list_page))
        .route("/ui/feedback/{id}", get(feedback::feedback_page))
        .route("/ui/experiments", get(experiments::experiments_page))
        .route("/ui/experiments/{id}", get(experiments::experiment_page))
        .route("/ui/runs/{run_id}", get(experiments::run_page))
        .route("/ui/{*rest}", get(not_found_page))
}

/// What a page handler returns.
pub type PageResult = Result<Html<String>, UiError>;

/// A failed page: a status and a message, rendered as a page of its own.
#[derive(Debug)]
pub struct UiError {
    status: StatusCode,
    message: String,
}

impl UiError {
    pub fn not_found(message: impl Into<String>) -> Self {
        UiError {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        UiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }
}

impl From<ApiError> for UiError {
    fn from(error: ApiError) -> Self {
        UiError {
            status: error.status,
            message: error.message,
        }
    }
}

/// Errors are classified as the API classifies them: 5xx messages say nothing internal,
/// and the chain is logged.
macro_rules! from_coded {
    ($($error:ty),*) => {$(
        impl From<$error> for UiError {
            fn from(error: $error) -> Self {
                ApiError::from_coded(&error).into()
            }
        }
    )*};
}

from_coded!(
    bascule_core::Error,
    bascule_lifecycle::LifecycleError,
    bascule_lifecycle::serving::ServingError
);

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        let title = match self.status {
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::BAD_REQUEST => "Bad request",
            status if status.is_server_error() => "Something went wrong",
            _ => "Cannot show this page",
        };
        let body = format!(
            "<div class=\"empty\"><p><strong>{}</strong></p><p>Go back to <a href=\"/ui\">the models</a> or <a href=\"/ui/experiments\">the experiments</a>.</p></div>\n",
            Esc(&self.message)
        );
        let page = Shell::new(title, Section::None).render(&body);
        (self.status, Html(page)).into_response()
    }
}

/// `Path<T>` whose bad segments answer with a 404 page (a segment that does not parse
/// names nothing that exists).
#[derive(Debug)]
pub struct UiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for UiPath<T> {
    type Rejection = UiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, UiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(UiPath(value)),
            Err(_) => Err(UiError::not_found(format!(
                "no such page: {}",
                parts.uri.path()
            ))),
        }
    }
}

/// `Query<T>` whose bad parameters answer with a 400 page.
#[derive(Debug)]
pub struct UiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for UiQuery<T> {
    type Rejection = UiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, UiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(UiQuery(value)),
            Err(rejection) => Err(UiError::bad_request(rejection.body_text())),
        }
    }
}

async fn not_found_page(uri: axum::http::Uri) -> UiError {
    UiError::not_found(format!("no such page: {}", uri.path()))
}

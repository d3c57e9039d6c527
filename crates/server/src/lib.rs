//! Bascule's HTTP layer: the native REST API under `/api/v1`, the Open Inference
//! Protocol, MLflow's scoring protocol, the MLflow-compatible tracking, registry and artifact API
//! (`mlflow/`), Prometheus `/metrics`, and the web UI (`ui/`, server-rendered HTML under `/ui`).
//!
//! Handlers translate between wire types and the lifecycle services; they hold no business
//! rules. `error.rs` is the one place where an error code becomes an HTTP status and a
//! protocol's error body.

mod api;
mod error;
mod extract;
mod invocations;
mod metrics;
mod mlflow;
mod oip;
mod ui;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::Redirect;
use axum::routing::get;
use bascule_lifecycle::Registry;
use bascule_lifecycle::serving::Serving;
use tokio::net::TcpListener;

pub use error::ApiError;

/// Limits and settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The largest model upload accepted, in bytes.
    pub max_upload_bytes: u64,
    /// The largest inference request body (OIP and MLflow scoring), in bytes.
    pub max_request_bytes: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_upload_bytes: 2 << 30,
            max_request_bytes: 64 << 20,
        }
    }
}

/// What every handler can reach. axum clones the state for every request it routes, so
/// this is one `Arc`: a clone is one reference count, not one per service inside.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

/// The services and settings behind [`AppState`].
#[derive(Debug)]
pub struct Shared {
    pub registry: Registry,
    pub config: ServerConfig,
    /// Deployments, the routing table and the prediction log.
    pub serving: Serving,
    /// The inference requests counted per protocol (`/metrics`).
    pub(crate) http_metrics: metrics::HttpMetrics,
}

impl AppState {
    pub fn new(registry: Registry, config: ServerConfig, serving: Serving) -> Self {
        AppState(Arc::new(Shared {
            registry,
            config,
            serving,
            http_metrics: metrics::HttpMetrics::default(),
        }))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    let body_limit = DefaultBodyLimit::max(state.config.max_request_bytes);
    Router::new()
        .nest("/api/v1", api::routes())
        .merge(oip::routes().layer(body_limit))
        .merge(invocations::routes().layer(body_limit))
        .merge(mlflow::routes())
        .merge(ui::routes())
        .route("/", get(|| async { Redirect::to("/ui") }))
        .route("/metrics", get(metrics::render_metrics))
        .fallback(error::no_route)
        .method_not_allowed_fallback(error::method_not_allowed)
        .with_state(state)
}

/// Serves `app` on `listener` until `shutdown` resolves, then drains in-flight requests.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

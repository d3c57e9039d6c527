//! Bascule's HTTP layer: the native REST API under `/api/v1` (and, as they land, the Open
//! Inference Protocol, the MLflow-compatible API, the UI and `/metrics`).
//!
//! Handlers translate between wire types and the lifecycle services; they hold no business
//! rules. `error.rs` is the one place where an error code becomes an HTTP status and a
//! protocol's error body.

mod api;
mod error;
mod extract;
mod oip;

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use bascule_lifecycle::Registry;
use bascule_lifecycle::serving::Serving;
use tokio::net::TcpListener;

pub use error::ApiError;

/// Limits and settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The largest model upload accepted, in bytes.
    pub max_upload_bytes: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_upload_bytes: 2 << 30,
        }
    }
}

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    pub registry: Registry,
    pub config: ServerConfig,
    /// Deployments, the routing table and the prediction log.
    pub serving: Serving,
}

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    Router::new()
        .nest("/api/v1", api::routes())
        .merge(oip::routes())
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

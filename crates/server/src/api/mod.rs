//! Bascule's native REST API, under `/api/v1`.

mod models;
mod versions;

use axum::Router;
use axum::routing::{get, put};

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route(
            "/models",
            get(models::list_models).post(models::create_model),
        )
        .route("/models/{name}", get(models::get_model))
        .route("/models/{name}/events", get(models::list_model_events))
        .route(
            "/models/{name}/aliases/{alias}",
            put(models::set_alias)
                .get(models::get_alias)
                .delete(models::delete_alias),
        )
        .route(
            "/models/{name}/versions",
            get(versions::list_versions).post(versions::register_version),
        )
        .route(
            "/models/{name}/versions/{version}",
            get(versions::get_version),
        )
        .route(
            "/models/{name}/versions/{version}/events",
            get(versions::list_version_events),
        )
        .route(
            "/models/{name}/versions/{version}/files/{*path}",
            get(versions::download_file),
        )
}

async fn health(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> Result<axum::Json<serde_json::Value>, crate::ApiError> {
    state.registry.store().ping().await?;
    Ok(axum::Json(serde_json::json!({ "status": "ok" })))
}

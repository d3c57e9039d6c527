//! Bascule's native REST API, under `/api/v1`.

mod deployments;
mod feedback;
mod models;
mod monitoring;
mod validation;
pub(crate) mod versions;

use axum::Router;
use axum::routing::{get, post, put};

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route(
            "/deployments",
            get(deployments::list_deployments).post(deployments::create_deployment),
        )
        .route(
            "/deployments/{name}",
            get(deployments::get_deployment).delete(deployments::delete_deployment),
        )
        .route(
            "/deployments/{name}/promote",
            post(deployments::promote_deployment),
        )
        .route(
            "/deployments/{name}/rollback",
            post(deployments::rollback_deployment),
        )
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
        .route(
            "/models/{name}/policy",
            put(validation::put_policy).get(validation::get_policy),
        )
        .route(
            "/models/{name}/versions/{version}/validate",
            post(validation::validate_version),
        )
        .route(
            "/models/{name}/versions/{version}/validation",
            get(validation::get_validation),
        )
        .route("/jobs/{id}", get(validation::get_job))
        .route(
            "/models/{name}/labels",
            post(monitoring::post_labels).get(monitoring::get_labels),
        )
        .route("/models/{name}/windows", get(monitoring::list_windows))
        .route("/models/{name}/windows/{id}", get(monitoring::get_window))
        .route("/models/{name}/alerts", get(monitoring::list_model_alerts))
        .route("/alerts", get(monitoring::list_alerts))
        .route("/alerts/{id}", get(monitoring::get_alert))
        .route("/feedback", get(feedback::list_feedback))
        .route("/feedback/{id}", get(feedback::get_feedback))
        .route("/feedback/{id}/ack", post(feedback::acknowledge_feedback))
        .route("/feedback/{id}/resolve", post(feedback::resolve_feedback))
        .route("/feedback/{id}/{file}", get(feedback::download_export))
        .route("/tasks", get(feedback::list_tasks))
}

async fn health(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> Result<axum::Json<serde_json::Value>, crate::ApiError> {
    state.registry.store().ping().await?;
    Ok(axum::Json(serde_json::json!({ "status": "ok" })))
}

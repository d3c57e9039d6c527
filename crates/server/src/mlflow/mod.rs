//! The MLflow-compatible API on Bascule's port: tracking (experiments, runs, metrics,
//! logged models), the model registry and the artifact proxy, as the official `mlflow`
//! client 3.x calls them (`MLFLOW_TRACKING_URI=http://127.0.0.1:8080`). Every path is
//! served under `/api/2.0/…` and under the UI's `/ajax-api/2.0/…`; unknown paths under
//! these prefixes answer MLflow's error JSON. One file per resource; `wire.rs` reads
//! MLflow's requests, `search.rs` its filter grammar, `error.rs` writes its errors.

mod artifacts;
mod error;
mod experiments;
mod logged_models;
mod registry;
mod runs;
mod search;
mod wire;

use axum::Json;
use axum::Router;
use axum::routing::{get, patch, post};
use serde_json::Value;

use crate::AppState;

/// Every MLflow route, nested under its prefixes.
pub fn routes() -> Router<AppState> {
    let mut router = Router::new();
    for root in ["/api", "/ajax-api"] {
        router = router
            .nest(&format!("{root}/2.0/mlflow"), with_fallback(tracking()))
            .nest(
                &format!("{root}/2.0/mlflow-artifacts"),
                with_fallback(artifact_proxy()),
            )
            .nest(&format!("{root}/3.0/mlflow"), with_fallback(version_3()));
    }
    router
}

fn with_fallback(router: Router<AppState>) -> Router<AppState> {
    router
        .fallback(error::no_endpoint)
        .method_not_allowed_fallback(error::method_not_allowed)
}

fn tracking() -> Router<AppState> {
    use experiments as e;
    use logged_models as l;
    use registry as m;
    use runs as r;
    Router::new()
        .route("/experiments/create", post(e::create_experiment))
        .route("/experiments/get", get(e::get_experiment))
        .route("/experiments/get-by-name", get(e::get_experiment_by_name))
        .route(
            "/experiments/search",
            get(e::search_experiments).post(e::search_experiments),
        )
        .route("/experiments/update", post(e::update_experiment))
        .route("/experiments/delete", post(e::delete_experiment))
        .route("/experiments/restore", post(e::restore_experiment))
        .route(
            "/experiments/set-experiment-tag",
            post(e::set_experiment_tag),
        )
        .route("/runs/create", post(r::create_run))
        .route("/runs/get", get(r::get_run))
        .route("/runs/update", post(r::update_run))
        .route("/runs/delete", post(r::delete_run))
        .route("/runs/restore", post(r::restore_run))
        .route("/runs/log-metric", post(r::log_metric))
        .route("/runs/log-parameter", post(r::log_parameter))
        .route("/runs/set-tag", post(r::set_tag))
        .route("/runs/delete-tag", post(r::delete_tag))
        .route("/runs/log-batch", post(r::log_batch))
        .route("/runs/log-inputs", post(r::log_inputs))
        .route("/runs/outputs", post(r::log_outputs))
        .route("/runs/search", post(r::search_runs).get(r::search_runs))
        .route("/metrics/get-history", get(r::get_metric_history))
        .route("/logged-models", post(l::create_logged_model))
        .route("/logged-models/search", post(l::search_logged_models))
        .route(
            "/logged-models/{model_id}",
            get(l::get_logged_model)
                .patch(l::finalize_logged_model)
                .delete(l::delete_logged_model),
        )
        .route(
            "/logged-models/{model_id}/tags",
            patch(l::set_logged_model_tags),
        )
        .route(
            "/logged-models/{model_id}/tags/{tag_key}",
            axum::routing::delete(l::delete_logged_model_tag),
        )
        .route(
            "/registered-models/create",
            post(m::create_registered_model),
        )
        .route("/registered-models/get", get(m::get_registered_model))
        .route(
            "/registered-models/search",
            get(m::search_registered_models).post(m::search_registered_models),
        )
        .route(
            "/registered-models/update",
            patch(m::update_registered_model),
        )
        .route(
            "/registered-models/rename",
            post(m::rename_registered_model),
        )
        .route(
            "/registered-models/delete",
            axum::routing::delete(m::delete_registered_model),
        )
        .route(
            "/registered-models/set-tag",
            post(m::set_registered_model_tag),
        )
        .route(
            "/registered-models/delete-tag",
            axum::routing::delete(m::delete_registered_model_tag),
        )
        .route(
            "/registered-models/alias",
            post(m::set_alias)
                .delete(m::delete_alias)
                .get(m::get_version_by_alias),
        )
        .route(
            "/registered-models/get-latest-versions",
            post(m::get_latest_versions).get(m::get_latest_versions),
        )
        .route("/model-versions/create", post(m::create_model_version))
        .route("/model-versions/get", get(m::get_model_version))
        .route(
            "/model-versions/search",
            get(m::search_model_versions).post(m::search_model_versions),
        )
        .route("/model-versions/update", patch(m::update_model_version))
        .route(
            "/model-versions/delete",
            axum::routing::delete(m::delete_model_version),
        )
        .route("/model-versions/set-tag", post(m::set_model_version_tag))
        .route(
            "/model-versions/delete-tag",
            axum::routing::delete(m::delete_model_version_tag),
        )
        .route("/model-versions/get-download-uri", get(m::get_download_uri))
}

fn artifact_proxy() -> Router<AppState> {
    Router::new()
        .route("/artifacts", get(artifacts::list_artifacts))
        .route(
            "/artifacts/{*path}",
            get(artifacts::download_artifact).put(artifacts::upload_artifact),
        )
}

fn version_3() -> Router<AppState> {
    Router::new().route("/server-info", get(server_info))
}

/// What the client asks before a download: no multipart transfers, a SQL store.
async fn server_info() -> Json<Value> {
    Json(serde_json::json!({
        "store_type": "SqlStore",
        "workspaces_enabled": false,
        "trace_archival_enabled": false,
        "multipart_uploads_enabled": false,
        "multipart_downloads_enabled": false,
        "presigned_upload_run_id_supported": false,
        "presigned_upload_model_id_supported": false,
        "features_enabled": {}
    }))
}

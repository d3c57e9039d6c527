//! The artifact proxy, `/api/2.0/mlflow-artifacts/artifacts[/<path>]`: PUT streams a file
//! into Bascule's content-addressed store and records which blob the path holds, GET
//! downloads it (verified against its digest), GET without a path lists a directory.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bascule_core::{ArtifactEntry, ByteStream};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};

use super::error::{TrackingError, TrackingResult};
use super::wire::{Message, opt_text};
use crate::AppState;
use crate::api::versions::limited;

fn artifact_path(path: Result<Path<String>, PathRejection>) -> TrackingResult<String> {
    let Path(path) = path.map_err(|rejection| TrackingError::invalid(rejection.body_text()))?;
    Ok(path.trim_matches('/').to_owned())
}

pub async fn upload_artifact(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    request: Request,
) -> TrackingResult<Response> {
    let path = artifact_path(path)?;
    let body = request
        .into_body()
        .into_data_stream()
        .map_err(std::io::Error::other);
    let stream: ByteStream<'_> = Box::pin(limited(body, state.config.max_upload_bytes));
    let file = state.registry.upload_file(&path, stream).await?;
    state
        .registry
        .store()
        .put_artifact_entry(&ArtifactEntry {
            path: file.path,
            digest: file.digest,
            size: file.size,
        })
        .await?;
    Ok(axum::http::StatusCode::OK.into_response())
}

pub async fn download_artifact(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> TrackingResult<Response> {
    let path = artifact_path(path)?;
    let entry = state
        .registry
        .store()
        .get_artifact_entry(&path)
        .await?
        .ok_or_else(|| TrackingError::not_found(format!("Artifact '{path}' does not exist")))?;
    let stream = state.registry.artifacts().get_stream(&entry.digest).await?;
    let headers = [
        (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
        (header::CONTENT_LENGTH, entry.size.to_string()),
    ];
    Ok((headers, Body::from_stream(stream)).into_response())
}

#[derive(Debug, Deserialize)]
pub struct ListArtifactsRequest {
    #[serde(default, deserialize_with = "opt_text")]
    path: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct FileOut {
    path: String,
    is_dir: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    file_size: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct ListArtifactsResponse {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    files: Vec<FileOut>,
}

/// The children of a directory, with paths relative to it; a file lists as `{}`.
pub async fn list_artifacts(
    State(state): State<AppState>,
    Message(request): Message<ListArtifactsRequest>,
) -> TrackingResult<Json<ListArtifactsResponse>> {
    let directory = request.path.unwrap_or_default();
    let directory = directory.trim_matches('/');
    let entries = state
        .registry
        .store()
        .list_artifact_entries(directory)
        .await?;
    // name → size for a file, None for a directory.
    let mut children: BTreeMap<String, Option<u64>> = BTreeMap::new();
    let prefix = if directory.is_empty() {
        String::new()
    } else {
        format!("{directory}/")
    };
    for entry in entries {
        let Some(relative) = entry.path.strip_prefix(&prefix) else {
            continue;
        };
        match relative.split_once('/') {
            Some((child, _)) => {
                children.insert(child.to_owned(), None);
            }
            None => {
                children
                    .entry(relative.to_owned())
                    .or_insert(Some(entry.size));
            }
        }
    }
    let files = children
        .into_iter()
        .map(|(path, size)| FileOut {
            path,
            is_dir: size.is_none(),
            file_size: size,
        })
        .collect();
    Ok(Json(ListArtifactsResponse { files }))
}

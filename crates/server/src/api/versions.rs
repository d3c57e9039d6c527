use std::collections::BTreeMap;

use axum::Json;
use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bascule_core::{ByteStream, LifecycleEvent, Lineage, ModelVersion, TensorSpec};
use bascule_lifecycle::{RegisterRequest, Upload};
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};

use super::models::{ListEventsResponse, events_response};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Actor, ApiPath, ApiQuery};

#[derive(Debug, Serialize)]
pub struct VersionResponse {
    pub name: String,
    pub version: i64,
    pub stage: String,
    pub status: String,
    pub format: String,
    pub description: String,
    pub source: String,
    pub run_id: Option<String>,
    pub created_by: String,
    pub creation_time: i64,
    pub last_updated_time: i64,
    pub lineage: LineageResponse,
    pub signature: Option<SignatureResponse>,
    pub files: Vec<FileResponse>,
    pub aliases: Vec<String>,
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
pub struct LineageResponse {
    pub parent_version: Option<i64>,
    pub data_digest: Option<String>,
    pub code_ref: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct SignatureResponse {
    pub inputs: Vec<TensorSpecResponse>,
    pub outputs: Vec<TensorSpecResponse>,
}

#[derive(Debug, Serialize)]
pub struct TensorSpecResponse {
    pub name: String,
    pub datatype: String,
    pub shape: Vec<i64>,
}

#[derive(Debug, Serialize)]
pub struct FileResponse {
    pub path: String,
    pub digest: String,
    pub size: u64,
}

fn spec(spec: TensorSpec) -> TensorSpecResponse {
    TensorSpecResponse {
        name: spec.name,
        datatype: spec.datatype.as_str().to_owned(),
        shape: spec.shape,
    }
}

impl From<ModelVersion> for VersionResponse {
    fn from(v: ModelVersion) -> Self {
        VersionResponse {
            name: v.name,
            version: v.version,
            stage: v.stage.as_str().to_owned(),
            status: v.status.as_str().to_owned(),
            format: v.format.as_str().to_owned(),
            description: v.description,
            source: v.source,
            run_id: v.run_id,
            created_by: v.created_by,
            creation_time: v.creation_time,
            last_updated_time: v.last_updated_time,
            lineage: LineageResponse {
                parent_version: v.lineage.parent_version,
                data_digest: v.lineage.data_digest,
                code_ref: v.lineage.code_ref,
            },
            signature: v.signature.map(|s| SignatureResponse {
                inputs: s.inputs.into_iter().map(spec).collect(),
                outputs: s.outputs.into_iter().map(spec).collect(),
            }),
            files: v
                .files
                .into_iter()
                .map(|f| FileResponse {
                    path: f.path,
                    digest: f.digest,
                    size: f.size,
                })
                .collect(),
            aliases: v.aliases,
            tags: v.tags.into_iter().map(|t| (t.key, t.value)).collect(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct EventResponse {
    pub id: i64,
    pub name: String,
    pub version: i64,
    pub from: Option<String>,
    pub to: String,
    pub actor: String,
    pub time: i64,
    pub reason: String,
    pub evidence: Option<EvidenceResponse>,
}

#[derive(Debug, Serialize)]
pub struct EvidenceResponse {
    pub kind: String,
    pub reference: String,
}

impl From<LifecycleEvent> for EventResponse {
    fn from(e: LifecycleEvent) -> Self {
        EventResponse {
            id: e.id,
            name: e.name,
            version: e.version,
            from: e.from.map(|s| s.as_str().to_owned()),
            to: e.to.as_str().to_owned(),
            actor: e.actor,
            time: e.time,
            reason: e.reason,
            evidence: e.evidence.map(|ev| EvidenceResponse {
                kind: ev.kind,
                reference: ev.reference,
            }),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ListVersionsResponse {
    pub versions: Vec<VersionResponse>,
}

pub async fn list_versions(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<ListVersionsResponse>, ApiError> {
    let versions = state.registry.list_versions(&name).await?;
    Ok(Json(ListVersionsResponse {
        versions: versions.into_iter().map(Into::into).collect(),
    }))
}

pub async fn get_version(
    State(state): State<AppState>,
    ApiPath((name, version)): ApiPath<(String, i64)>,
) -> Result<Json<VersionResponse>, ApiError> {
    Ok(Json(
        state.registry.get_version(&name, version).await?.into(),
    ))
}

pub async fn list_version_events(
    State(state): State<AppState>,
    ApiPath((name, version)): ApiPath<(String, i64)>,
) -> Result<Json<ListEventsResponse>, ApiError> {
    Ok(events_response(
        state.registry.events(&name, Some(version)).await?,
    ))
}

pub async fn download_file(
    State(state): State<AppState>,
    ApiPath((name, version, path)): ApiPath<(String, i64, String)>,
) -> Result<Response, ApiError> {
    let model_version = state.registry.get_version(&name, version).await?;
    let file = model_version
        .files
        .iter()
        .find(|f| f.path == path)
        .ok_or_else(|| {
            ApiError::from(bascule_core::Error::not_found(
                "file",
                format!("{name} version {version}: {path}"),
            ))
        })?;
    let stream = state.registry.artifacts().get_stream(&file.digest).await?;
    let headers = [
        (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
        (header::CONTENT_LENGTH, file.size.to_string()),
        (header::ETAG, format!("\"sha256:{}\"", file.digest)),
    ];
    Ok((headers, Body::from_stream(stream)).into_response())
}

/// Query parameters of a registration; the body is the model.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterQuery {
    pub parent: Option<i64>,
    pub run_id: Option<String>,
    pub data_digest: Option<String>,
    pub code_ref: Option<String>,
    #[serde(default)]
    pub description: String,
    pub source: Option<String>,
    /// The engine to serve the version (`tract`, `onnxruntime`); default: the first that
    /// runs it.
    pub engine: Option<String>,
    /// The feedback item the version answers: it is validated against its parent (the
    /// item's version unless `parent` says otherwise) automatically.
    pub feedback: Option<i64>,
}

/// `POST /api/v1/models/{name}/versions`: the body is either a bare ONNX file
/// (`application/octet-stream`) or the files of an MLflow model directory
/// (`multipart/form-data`, one part per file, the file name being its relative path).
pub async fn register_version(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiQuery(query): ApiQuery<RegisterQuery>,
    Actor(actor): Actor,
    request: Request,
) -> Result<(StatusCode, Json<VersionResponse>), ApiError> {
    let limit = state.config.max_upload_bytes;
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_owned();
    let upload = if content_type.starts_with("multipart/form-data") {
        let mut multipart = Multipart::from_request(request, &state)
            .await
            .map_err(|rejection| ApiError::bad_request(rejection.body_text()))?;
        let mut files = Vec::new();
        let mut total = 0u64;
        while let Some(field) = multipart.next_field().await.map_err(|e| {
            ApiError::bad_request(format!("malformed multipart body: {}", e.body_text()))
        })? {
            let path = field
                .file_name()
                .or(field.name())
                .map(str::to_owned)
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "every multipart part needs a file name (its path in the model directory)",
                    )
                })?;
            let stream: ByteStream<'_> = Box::pin(limited(
                field.map_err(std::io::Error::other),
                limit.saturating_sub(total),
            ));
            let file = state.registry.upload_file(&path, stream).await?;
            total += file.size;
            files.push(file);
        }
        if files.is_empty() {
            return Err(ApiError::bad_request("the multipart body holds no files"));
        }
        Upload::ModelDir(files)
    } else if content_type.starts_with("application/octet-stream") {
        let body = request
            .into_body()
            .into_data_stream()
            .map_err(std::io::Error::other);
        let stream: ByteStream<'_> = Box::pin(limited(body, limit));
        let file = state.registry.upload_file("model.onnx", stream).await?;
        if file.size == 0 {
            return Err(ApiError::bad_request(
                "the request body is empty; send the ONNX model's bytes",
            ));
        }
        Upload::Onnx(file)
    } else {
        return Err(ApiError::unsupported_media_type(format!(
            "unsupported content type '{content_type}': send an ONNX file as application/octet-stream or an MLflow model directory as multipart/form-data"
        )));
    };
    let request = RegisterRequest {
        source: query.source.unwrap_or_else(|| "upload".to_owned()),
        name,
        upload,
        description: query.description,
        run_id: query.run_id,
        lineage: Lineage {
            parent_version: query.parent,
            data_digest: query.data_digest,
            code_ref: query.code_ref,
        },
        actor,
        engine: query.engine,
    };
    let version = match query.feedback {
        Some(feedback_id) => {
            state
                .registry
                .register_candidate(request, feedback_id)
                .await?
        }
        None => state.registry.register(request).await?,
    };
    Ok((StatusCode::CREATED, Json(version.into())))
}

/// Fails the stream once more than `limit` bytes have passed.
pub(crate) fn limited<S>(
    stream: S,
    limit: u64,
) -> impl futures::Stream<Item = std::io::Result<bytes::Bytes>> + Send
where
    S: futures::Stream<Item = std::io::Result<bytes::Bytes>> + Send,
{
    let mut seen = 0u64;
    stream.map(move |chunk| {
        let chunk = chunk?;
        seen += chunk.len() as u64;
        if seen > limit {
            return Err(std::io::Error::other(format!(
                "the upload exceeds the limit of {limit} bytes"
            )));
        }
        Ok(chunk)
    })
}

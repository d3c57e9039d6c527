//! The Open Inference Protocol v2 (KServe, Triton, Seldon MLServer) over REST: health,
//! server and model metadata, readiness, and inference on the deployed models. Errors are
//! `{"error": "…"}` with the status `error.rs` gives their code.

mod elements;
mod request_id;
mod wire;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bascule_lifecycle::serving::{Arriving, ServingError, Target};

pub(crate) use request_id::{
    ROUTE_KEY, assign as assign_request_id, from_headers as request_id_from_headers,
    stamp as stamp_request_id,
};
use wire::{InferenceRequest, InferenceResponse, ModelMetadataResponse, ServerMetadataResponse};

use crate::AppState;
use crate::error::ApiError;
use crate::metrics::Protocol;

pub fn routes() -> Router<AppState> {
    // The inference routes give requests their ids and count them themselves: a middleware
    // boxes every request's future (docs/benchmarks.md, "The request path").
    let inference = Router::new()
        .route("/v2/models/{name}/infer", post(infer))
        .route(
            "/v2/models/{name}/versions/{version}/infer",
            post(infer_version),
        );
    Router::new()
        .route("/v2", get(server_metadata))
        .route("/v2/health/live", get(live))
        .route("/v2/health/ready", get(ready))
        .route("/v2/models/{name}", get(model_metadata))
        .route("/v2/models/{name}/ready", get(model_ready))
        .route(
            "/v2/models/{name}/versions/{version}",
            get(version_metadata),
        )
        .route(
            "/v2/models/{name}/versions/{version}/ready",
            get(version_ready),
        )
        .layer(axum::middleware::from_fn(request_id::assign))
        .merge(inference)
}

/// An error in the protocol's format: `{"error": message}`.
#[derive(Debug)]
pub struct OipError(ApiError);

impl OipError {
    fn bad_request(message: impl Into<String>) -> Self {
        OipError(ApiError::bad_request(message))
    }
}

impl From<ServingError> for OipError {
    fn from(error: ServingError) -> Self {
        OipError(ApiError::from_coded(&error))
    }
}

/// `error` as OIP answers it, with the caller's request id or a new one (for the app's
/// fallbacks, which no OIP handler runs under).
pub(crate) fn error_response(error: ApiError, headers: &HeaderMap) -> Response {
    let mut response = OipError(error).into_response();
    request_id::stamp(&mut response, &request_id::from_headers(headers));
    response
}

impl IntoResponse for OipError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.0.message });
        (self.0.status, Json(body)).into_response()
    }
}

async fn server_metadata() -> Json<ServerMetadataResponse> {
    Json(ServerMetadataResponse {
        name: "bascule",
        version: env!("CARGO_PKG_VERSION"),
        extensions: Vec::new(),
    })
}

async fn live() -> StatusCode {
    StatusCode::OK
}

/// Ready once the routing table is built (before the server listens) and while the
/// metadata store answers.
async fn ready(State(state): State<AppState>) -> StatusCode {
    match state.registry.store().ping().await {
        Ok(()) => StatusCode::OK,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

fn parse_version(version: &str) -> Result<i64, OipError> {
    version
        .parse()
        .map_err(|_| OipError::bad_request(format!("'{version}' is not a version number")))
}

async fn model_ready(State(state): State<AppState>, Path(name): Path<String>) -> StatusCode {
    match state.serving.resolve(&name, None, "") {
        Ok(_) => StatusCode::OK,
        Err(_) => StatusCode::NOT_FOUND,
    }
}

async fn version_ready(
    State(state): State<AppState>,
    Path((name, version)): Path<(String, String)>,
) -> StatusCode {
    let version = version.parse().ok();
    match version.map(|version| state.serving.resolve(&name, Some(version), "")) {
        Some(Ok(_)) => StatusCode::OK,
        _ => StatusCode::NOT_FOUND,
    }
}

async fn model_metadata(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<ModelMetadataResponse>, OipError> {
    metadata(&state, &name, None)
}

async fn version_metadata(
    State(state): State<AppState>,
    Path((name, version)): Path<(String, String)>,
) -> Result<Json<ModelMetadataResponse>, OipError> {
    metadata(&state, &name, Some(parse_version(&version)?))
}

fn metadata(
    state: &AppState,
    name: &str,
    version: Option<i64>,
) -> Result<Json<ModelMetadataResponse>, OipError> {
    let target = state.serving.resolve(name, version, "")?;
    let versions = match version {
        Some(version) => vec![version.to_string()],
        None => state
            .serving
            .routes()
            .get(name)
            .map_or_else(Vec::new, |route| {
                route
                    .deployment
                    .serving()
                    .iter()
                    .map(|(version, _)| version.to_string())
                    .collect()
            }),
    };
    Ok(Json(ModelMetadataResponse::new(
        name,
        versions,
        target.signature(),
    )))
}

async fn infer(
    State(state): State<AppState>,
    Path(name): Path<String>,
    request: Request,
) -> Response {
    inference(&state, &name, None, request).await
}

async fn infer_version(
    State(state): State<AppState>,
    Path((name, version)): Path<(String, String)>,
    request: Request,
) -> Response {
    inference(&state, &name, Some(&version), request).await
}

/// An inference request, counted in `/metrics` and answered with its id. The headers it
/// needs are read before the body takes the request (extracting a `HeaderMap` would copy
/// them all).
async fn inference(
    state: &AppState,
    name: &str,
    version: Option<&str>,
    request: Request,
) -> Response {
    let tracked = state.http_metrics.start(Protocol::Oip);
    let header_id = request_id::from_headers(request.headers());
    let route_key = request
        .headers()
        .get(&ROUTE_KEY)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let response = match version.map(parse_version).transpose() {
        Ok(version) => {
            // A batched model's batch waits for this request while its body is read.
            let arriving = state.serving.arriving(name);
            let body = Bytes::from_request(request, &()).await;
            let call = Call {
                name,
                version,
                route_key: route_key.as_deref(),
                arriving,
            };
            run_inference(state, call, header_id, body).await
        }
        Err(error) => {
            let mut response = error.into_response();
            request_id::stamp(&mut response, &header_id);
            response
        }
    };
    tracked.finish(&response);
    response
}

/// Which model a request is for, and how it is routed.
struct Call<'a> {
    name: &'a str,
    version: Option<i64>,
    route_key: Option<&'a str>,
    /// Counts the request as on its way to a batched model until it runs.
    arriving: Option<Arriving>,
}

async fn run_inference(
    state: &AppState,
    call: Call<'_>,
    header_id: String,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let request = body
        .map_err(|rejection| match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => OipError(ApiError::too_large(format!(
                "the request body is too large: the limit is {} bytes \
                 (BASCULE_MAX_REQUEST_BYTES); send fewer rows per request",
                state.config.max_request_bytes
            ))),
            _ => OipError::bad_request(format!("cannot read the body: {}", rejection.body_text())),
        })
        .and_then(|body| {
            serde_json::from_slice::<InferenceRequest>(&body).map_err(|error| {
                OipError::bad_request(format!("invalid inference request: {error}"))
            })
        });
    let request_id = match &request {
        Ok(InferenceRequest { id: Some(id), .. }) => id.clone(),
        _ => header_id,
    };
    let mut response = match request {
        Ok(request) => answer(state, call, &request_id, request).await,
        Err(error) => error.into_response(),
    };
    request_id::stamp(&mut response, &request_id);
    response
}

async fn answer(
    state: &AppState,
    call: Call<'_>,
    request_id: &str,
    request: InferenceRequest,
) -> Response {
    let Call {
        name,
        version,
        route_key,
        arriving,
    } = call;
    let route_key = route_key.unwrap_or(request_id);
    let result = async {
        let target: Target = state.serving.resolve(name, version, route_key)?;
        let inputs = request
            .inputs
            .into_iter()
            .map(wire::to_tensor)
            .collect::<Result<Vec<_>, _>>()
            .map_err(OipError::bad_request)?;
        // Outputs the model does not have are refused before it runs (and before anything is
        // logged); engines return outputs in signature order.
        let spec = &target.signature().outputs;
        let selected: Option<Vec<usize>> = match &request.outputs {
            None => None,
            Some(wanted) => Some(
                wanted
                    .iter()
                    .map(|wanted| {
                        spec.iter()
                            .position(|output| output.name == wanted.name)
                            .ok_or_else(|| {
                                let names: Vec<&str> =
                                    spec.iter().map(|o| o.name.as_str()).collect();
                                OipError::bad_request(format!(
                                    "the model has no output '{}'; it has {names:?}",
                                    wanted.name
                                ))
                            })
                    })
                    .collect::<Result<_, _>>()?,
            ),
        };
        drop(arriving);
        let outputs = state.serving.predict(&target, inputs, request_id).await?;
        let selected: Vec<_> = match selected {
            None => outputs.iter().collect(),
            Some(indices) => indices.iter().filter_map(|&i| outputs.get(i)).collect(),
        };
        let body = InferenceResponse {
            model_name: name,
            model_version: target.version().to_string(),
            id: request_id,
            outputs: selected.into_iter().map(wire::output).collect(),
        };
        let mut response = Json(body).into_response();
        response.headers_mut().insert(
            "x-bascule-role",
            HeaderValue::from_static(target.role().as_str()),
        );
        Ok::<_, OipError>(response)
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

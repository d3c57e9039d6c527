//! MLflow's scoring protocol, as `mlflow models serve` speaks it: `POST /invocations`
//! (when exactly one model is deployed) and `POST /models/{name}/invocations`, with JSON
//! bodies in the `dataframe_split`, `dataframe_records`, `instances` or `inputs` format
//! or CSV with a header row; `GET /ping`, `/health` and `/version`.
//!
//! A request runs through the same `Serving` calls as the Open Inference Protocol's: the
//! route is resolved with the same routing key (canary and shadow apply), the inputs are
//! checked against the signature, and the prediction is logged under the request's id
//! (`X-Request-Id`, the caller's or a new one).

mod error;
mod input;
mod tensors;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bascule_lifecycle::serving::Arriving;

use crate::AppState;
use crate::metrics::Protocol;
use crate::oip::{ROUTE_KEY, assign_request_id, request_id_from_headers, stamp_request_id};
use error::MlflowError;
use input::Input;
use tensors::Predictions;

/// The MLflow version whose scoring protocol this follows (reported by `/version`).
const MLFLOW_PROTOCOL_VERSION: &str = "2.22.0";

pub fn routes() -> Router<AppState> {
    // As for the Open Inference Protocol, the invocation handlers give requests their ids
    // and count them themselves, without a middleware.
    let inference = Router::new()
        .route("/invocations", post(invoke_only_model))
        .route("/models/{name}/invocations", post(invoke_model));
    Router::new()
        .route("/ping", get(ping))
        .route("/health", get(ping))
        .route("/version", get(version))
        .layer(axum::middleware::from_fn(assign_request_id))
        .merge(inference)
}

/// 200 while some model is deployed, else 404 (MLflow: "the model is loaded").
async fn ping(State(state): State<AppState>) -> Response {
    let status = match state.serving.routes().all().is_empty() {
        true => StatusCode::NOT_FOUND,
        false => StatusCode::OK,
    };
    let json = [(header::CONTENT_TYPE, "application/json")];
    (status, json, "\n").into_response()
}

async fn version() -> Json<&'static str> {
    Json(MLFLOW_PROTOCOL_VERSION)
}

async fn invoke_model(
    State(state): State<AppState>,
    Path(name): Path<String>,
    request: Request,
) -> Response {
    invocation(&state, Some(name), request).await
}

async fn invoke_only_model(State(state): State<AppState>, request: Request) -> Response {
    invocation(&state, None, request).await
}

/// An invocation, counted in `/metrics` and answered with its id (`X-Request-Id`). The
/// headers it needs are read before the body takes the request.
async fn invocation(state: &AppState, name: Option<String>, request: Request) -> Response {
    let tracked = state.http_metrics.start(Protocol::Mlflow);
    let headers = request.headers();
    let request_id = request_id_from_headers(headers);
    let format = format_of(headers);
    let route_key = headers
        .get(&ROUTE_KEY)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    // The model is known before the body is read (`/invocations` serves the only one
    // deployed), so a batched model's batch waits for this request meanwhile. A failure
    // to name it is answered after the body's own errors, as before.
    let name = name.map_or_else(|| only_model(state), Ok);
    let arriving = name
        .as_deref()
        .ok()
        .and_then(|name| state.serving.arriving(name));
    let body = Bytes::from_request(request, &()).await;
    let call = Call {
        name,
        route_key: route_key.as_deref(),
        arriving,
    };
    let mut response = invoke(state, call, &request_id, format, body)
        .await
        .unwrap_or_else(IntoResponse::into_response);
    stamp_request_id(&mut response, &request_id);
    tracked.finish(&response);
    response
}

/// What the body holds, from its content type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Csv,
}

/// Which model an invocation is for (named by its path, or the only one deployed), and how
/// it is routed.
struct Call<'a> {
    name: Result<String, MlflowError>,
    route_key: Option<&'a str>,
    /// Counts the request as on its way to a batched model until it runs.
    arriving: Option<Arriving>,
}

async fn invoke(
    state: &AppState,
    call: Call<'_>,
    request_id: &str,
    format: Result<Format, MlflowError>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, MlflowError> {
    let Call {
        name,
        route_key,
        arriving,
    } = call;
    let format = format?;
    let body = body.map_err(|rejection| {
        let reason = rejection.body_text();
        match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => MlflowError::too_large(format!(
                "the request body is too large ({reason}); send fewer rows per request"
            )),
            _ => MlflowError::bad_request(format!("cannot read the request body: {reason}")),
        }
    })?;
    let input: Input = match format {
        Format::Json => input::from_json(&body)?,
        Format::Csv => input::from_csv(&body)?,
    };
    let name = name?;
    let route_key = route_key.unwrap_or(request_id);
    let target = state.serving.resolve(&name, None, route_key)?;
    let inputs =
        tensors::to_tensors(input, target.signature()).map_err(MlflowError::invalid_parameter)?;
    drop(arriving);
    let outputs = state.serving.predict(&target, inputs, request_id).await?;
    let mut response = Json(Predictions(&outputs)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        "x-bascule-role",
        HeaderValue::from_static(target.role().as_str()),
    );
    headers.insert(
        "x-bascule-model-version",
        HeaderValue::from(target.version()),
    );
    Ok(response)
}

/// The one deployed model, for `/invocations`.
fn only_model(state: &AppState) -> Result<String, MlflowError> {
    let routes = state.serving.routes().all();
    match &routes[..] {
        [route] => Ok(route.deployment.name.clone()),
        [] => Err(MlflowError::not_found(
            "no model is deployed; deploy one with `bascule deploy NAME VERSION`",
        )),
        several => {
            let names: Vec<&str> = several
                .iter()
                .map(|route| route.deployment.name.as_str())
                .collect();
            Err(MlflowError::invalid_parameter(format!(
                "{} models are deployed ({}); /invocations serves a single model, so POST to \
                 /models/NAME/invocations instead",
                names.len(),
                names.join(", ")
            )))
        }
    }
}

/// `application/json` or `text/csv`, with no parameter but `charset=utf-8`; anything else
/// is refused with MLflow's 415 messages.
fn format_of(headers: &HeaderMap) -> Result<Format, MlflowError> {
    let raw = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let mut parts = raw.split(';').map(str::trim);
    let mime = parts.next().unwrap_or_default().to_ascii_lowercase();
    let mut unexpected = Vec::new();
    for parameter in parts.filter(|part| !part.is_empty()) {
        let (key, value) = parameter.split_once('=').unwrap_or((parameter, ""));
        let key = key.trim().to_ascii_lowercase();
        if key == "charset" {
            if !value.trim().trim_matches('"').eq_ignore_ascii_case("utf-8") {
                return Err(MlflowError::unsupported_media_type(
                    "The scoring server only supports UTF-8",
                ));
            }
        } else {
            unexpected.push(key);
        }
    }
    if !unexpected.is_empty() {
        return Err(MlflowError::unsupported_media_type(format!(
            "Unrecognized content type parameters: {}. The MLflow scoring protocol changed \
             in MLflow 2.0: name the data format with a JSON key (dataframe_split, \
             dataframe_records, instances or inputs) instead of a content type parameter.",
            unexpected.join(", ")
        )));
    }
    match mime.as_str() {
        "application/json" => Ok(Format::Json),
        "text/csv" => Ok(Format::Csv),
        _ => Err(MlflowError::unsupported_media_type(format!(
            "This predictor only supports the following content types: Types: ['text/csv', \
             'application/json']. Got '{raw}'."
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format(content_type: &str) -> Result<Format, MlflowError> {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(content_type).expect("header"),
        );
        format_of(&headers)
    }

    #[test]
    fn content_types_are_checked_like_mlflow() {
        assert_eq!(format("application/json").ok(), Some(Format::Json));
        assert_eq!(format("text/csv; charset=UTF-8").ok(), Some(Format::Csv));
        let message = |content_type| format(content_type).expect_err("415").message_for_test();
        assert!(message("text/plain").contains("Got 'text/plain'"));
        assert!(message("application/json; charset=latin-1").contains("only supports UTF-8"));
        assert!(message("application/json; format=pandas-split").contains("parameters: format"));
        assert!(format_of(&HeaderMap::new()).is_err());
    }
}

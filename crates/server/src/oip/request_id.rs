//! Request ids: every inference response carries one (`X-Request-Id`), so that labels
//! arriving later can be joined to the logged prediction. A caller's id is kept; else one
//! is made from a random per-process prefix and a counter (unique without a syscall per
//! request; the form is `bascule_core::generated_request_id`'s). The prediction log indexes
//! ids of that form by runs of consecutive counters, a row per run rather than per record.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use bascule_core::{GENERATED_PREFIX_LEN, generated_request_id};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
pub const ROUTE_KEY: HeaderName = HeaderName::from_static("x-bascule-route-key");

static PREFIX: LazyLock<String> = LazyLock::new(|| {
    let random = uuid::Uuid::new_v4().simple().to_string();
    random[..GENERATED_PREFIX_LEN].to_owned()
});
static COUNTER: AtomicU64 = AtomicU64::new(0);

fn generate() -> String {
    generated_request_id(&PREFIX, COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// The caller's `X-Request-Id` when it is a sane header value, else a new id.
pub(crate) fn from_headers(headers: &HeaderMap) -> String {
    headers
        .get(&REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|value| !value.is_empty() && value.len() <= 256)
        .map_or_else(generate, str::to_owned)
}

/// Sets the response's `X-Request-Id` to `id` (an id that is not a header value is left
/// out; callers' ids come from a header, so only an OIP body's `id` can be one).
pub(crate) fn stamp(response: &mut Response, id: &str) {
    if let Ok(value) = HeaderValue::from_str(id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
}

/// Gives the response of a route that runs no model an `X-Request-Id` header: the caller's
/// or a new id. (Inference handlers assign ids themselves, and an OIP body's `id` wins.)
pub async fn assign(request: Request, next: Next) -> Response {
    let id = from_headers(request.headers());
    let mut response = next.run(request).await;
    if !response.headers().contains_key(&REQUEST_ID) {
        stamp(&mut response, &id);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_unique_and_callers_ids_kept() {
        let (first, second) = (generate(), generate());
        assert!(first < second, "{first} then {second}");
        assert_eq!(first.len(), 12 + 1 + 16);
        let n = u64::from_str_radix(&first[13..], 16).expect("a hex counter");
        assert_eq!(first, format!("{}-{n:016x}", PREFIX.as_str()));
        // Of the form the prediction log indexes by runs.
        let parsed = bascule_core::parse_generated_request_id(&second);
        assert_eq!(parsed, Some((PREFIX.as_str(), n as i64 + 1)));
        let mut headers = HeaderMap::new();
        headers.insert(REQUEST_ID, HeaderValue::from_static("abc"));
        assert_eq!(from_headers(&headers), "abc");
        assert!(from_headers(&HeaderMap::new()).starts_with(PREFIX.as_str()));
    }
}

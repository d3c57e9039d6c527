//! Prometheus `/metrics` (text exposition format 0.0.4), and every metric Bascule exports,
//! declared here:
//!
//! - per model, version and role (counted by `Serving` for every request a version
//!   answers, whichever protocol brought it): `bascule_inference_requests_total`,
//!   `bascule_inference_errors_total` by status class, `bascule_inference_duration_seconds`;
//! - per protocol (counted by the inference handlers on every inference request, including
//!   those refused before a version is chosen): `bascule_http_requests_total` by status
//!   class, `bascule_http_request_duration_seconds`, `bascule_http_requests_in_flight`;
//! - the prediction log: queued records, capacity, accepted, written, shed and failed;
//! - `bascule_build_info`.
//!
//! Recording is a handful of relaxed atomic additions per request; the text is built only
//! when scraped.

use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bascule_lifecycle::serving::{Histogram, HistogramSnapshot, LATENCY_BUCKETS_MICROS};

use crate::AppState;
use crate::error::status_of;

/// The protocols whose inference requests are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// The Open Inference Protocol v2 (`/v2/...`).
    Oip,
    /// MLflow's scoring protocol (`/invocations`).
    Mlflow,
}

impl Protocol {
    const ALL: [Protocol; 2] = [Protocol::Oip, Protocol::Mlflow];

    fn as_str(self) -> &'static str {
        match self {
            Protocol::Oip => "oip",
            Protocol::Mlflow => "mlflow",
        }
    }
}

const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// One protocol's counters.
#[derive(Debug, Default)]
struct ProtocolMetrics {
    by_class: [AtomicU64; CLASSES.len()],
    in_flight: AtomicI64,
    latency: Histogram,
}

/// The HTTP layer's counters, one set per application.
#[derive(Debug, Default)]
pub struct HttpMetrics {
    protocols: [ProtocolMetrics; Protocol::ALL.len()],
}

impl HttpMetrics {
    fn of(&self, protocol: Protocol) -> &ProtocolMetrics {
        &self.protocols[protocol as usize]
    }

    /// Starts counting one inference request of `protocol`: in flight until the returned
    /// guard is dropped (also when the client goes away mid-request), then by status class
    /// with its latency when [`Tracked::finish`] sees the response. Inference handlers call
    /// it first thing: a middleware would box every request's future for the same few
    /// atomic additions.
    pub(crate) fn start(&self, protocol: Protocol) -> Tracked<'_> {
        let counters = self.of(protocol);
        counters.in_flight.fetch_add(1, Ordering::Relaxed);
        Tracked {
            counters,
            started: Instant::now(),
        }
    }
}

/// One inference request being counted.
#[must_use = "a request is counted by status when finished"]
pub(crate) struct Tracked<'a> {
    counters: &'a ProtocolMetrics,
    started: Instant,
}

impl Tracked<'_> {
    /// Counts the request by the response's status class, with its latency so far.
    pub(crate) fn finish(self, response: &Response) {
        let class = usize::from(response.status().as_u16() / 100)
            .saturating_sub(1)
            .min(CLASSES.len() - 1);
        self.counters.by_class[class].fetch_add(1, Ordering::Relaxed);
        self.counters.latency.observe(self.started.elapsed());
    }
}

impl Drop for Tracked<'_> {
    fn drop(&mut self) {
        self.counters.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// `GET /metrics`.
pub async fn render_metrics(State(state): State<AppState>) -> Response {
    let text = render(&state, &state.http_metrics);
    let content_type = HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8");
    ([(header::CONTENT_TYPE, content_type)], text).into_response()
}

fn render(state: &AppState, metrics: &HttpMetrics) -> String {
    let mut out = String::with_capacity(8 * 1024);
    let served = state.serving.served_stats();

    header_line(
        &mut out,
        "bascule_inference_requests_total",
        "counter",
        "Requests answered by each served version (all protocols).",
    );
    for stats in &served {
        let labels = version_labels(&stats.name, stats.version, stats.role.as_str());
        sample(
            &mut out,
            "bascule_inference_requests_total",
            &labels,
            stats.requests,
        );
    }
    header_line(
        &mut out,
        "bascule_inference_errors_total",
        "counter",
        "Failed requests of each served version, by HTTP status class.",
    );
    for stats in &served {
        let mut by_class = [0u64; CLASSES.len()];
        for (code, count) in &stats.errors {
            let class = usize::from(status_of(*code).as_u16() / 100).saturating_sub(1);
            by_class[class.min(CLASSES.len() - 1)] += count;
        }
        for (class, count) in CLASSES.iter().zip(by_class) {
            if count > 0 || *class == "4xx" || *class == "5xx" {
                let mut labels = version_labels(&stats.name, stats.version, stats.role.as_str());
                labels.push(("class", (*class).to_owned()));
                sample(&mut out, "bascule_inference_errors_total", &labels, count);
            }
        }
    }
    header_line(
        &mut out,
        "bascule_inference_duration_seconds",
        "histogram",
        "Time to answer a request on a served version (input check, model run, logging).",
    );
    for stats in &served {
        let labels = version_labels(&stats.name, stats.version, stats.role.as_str());
        histogram(
            &mut out,
            "bascule_inference_duration_seconds",
            &labels,
            &stats.latency,
        );
    }

    header_line(
        &mut out,
        "bascule_http_requests_total",
        "counter",
        "Inference requests received, by protocol and HTTP status class.",
    );
    for protocol in Protocol::ALL {
        let counters = metrics.of(protocol);
        for (class, count) in CLASSES.iter().zip(&counters.by_class) {
            let count = count.load(Ordering::Relaxed);
            if count > 0 || matches!(*class, "2xx" | "4xx" | "5xx") {
                let labels = [
                    ("protocol", protocol.as_str().to_owned()),
                    ("class", (*class).to_owned()),
                ];
                sample(&mut out, "bascule_http_requests_total", &labels, count);
            }
        }
    }
    header_line(
        &mut out,
        "bascule_http_request_duration_seconds",
        "histogram",
        "Time from receiving an inference request to its response, by protocol.",
    );
    for protocol in Protocol::ALL {
        let labels = [("protocol", protocol.as_str().to_owned())];
        let snapshot = metrics.of(protocol).latency.snapshot();
        histogram(
            &mut out,
            "bascule_http_request_duration_seconds",
            &labels,
            &snapshot,
        );
    }
    header_line(
        &mut out,
        "bascule_http_requests_in_flight",
        "gauge",
        "Inference requests being answered, by protocol.",
    );
    for protocol in Protocol::ALL {
        let labels = [("protocol", protocol.as_str().to_owned())];
        let value = metrics
            .of(protocol)
            .in_flight
            .load(Ordering::Relaxed)
            .max(0);
        sample(&mut out, "bascule_http_requests_in_flight", &labels, value);
    }

    let log = state.serving.log_stats();
    for (name, kind, help, value) in [
        (
            "bascule_prediction_log_queued_records",
            "gauge",
            "Prediction records accepted and not stored yet (queued, or in the batch being written).",
            log.queued,
        ),
        (
            "bascule_prediction_log_capacity_records",
            "gauge",
            "Prediction records the log queue holds before it sheds.",
            log.capacity,
        ),
        (
            "bascule_prediction_log_accepted_records_total",
            "counter",
            "Prediction records handed to the log queue.",
            log.accepted,
        ),
        (
            "bascule_prediction_log_written_records_total",
            "counter",
            "Prediction records stored.",
            log.written,
        ),
        (
            "bascule_prediction_log_shed_records_total",
            "counter",
            "Prediction records dropped because the log queue was full or closed.",
            log.shed,
        ),
        (
            "bascule_prediction_log_failed_records_total",
            "counter",
            "Prediction records dropped because the store refused their batch.",
            log.failed,
        ),
    ] {
        header_line(&mut out, name, kind, help);
        sample(&mut out, name, &[], value);
    }

    header_line(
        &mut out,
        "bascule_build_info",
        "gauge",
        "Always 1; the labels say which build is running.",
    );
    let labels = [("version", env!("CARGO_PKG_VERSION").to_owned())];
    sample(&mut out, "bascule_build_info", &labels, 1);
    out
}

fn version_labels(name: &str, version: i64, role: &str) -> Vec<(&'static str, String)> {
    vec![
        ("model", name.to_owned()),
        ("version", version.to_string()),
        ("role", role.to_owned()),
    ]
}

fn header_line(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn sample(
    out: &mut String,
    name: &str,
    labels: &[(&'static str, String)],
    value: impl std::fmt::Display,
) {
    out.push_str(name);
    write_labels(out, labels, None);
    let _ = writeln!(out, " {value}");
}

fn write_labels(out: &mut String, labels: &[(&'static str, String)], le: Option<&str>) {
    if labels.is_empty() && le.is_none() {
        return;
    }
    out.push('{');
    let mut first = true;
    let extra = le.map(|le| ("le", le));
    for (key, value) in labels
        .iter()
        .map(|(key, value)| (*key, value.as_str()))
        .chain(extra)
    {
        if !first {
            out.push(',');
        }
        first = false;
        out.push_str(key);
        out.push_str("=\"");
        for c in value.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '\n' => out.push_str("\\n"),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    out.push('}');
}

fn histogram(
    out: &mut String,
    name: &str,
    labels: &[(&'static str, String)],
    snapshot: &HistogramSnapshot,
) {
    for (bound, count) in LATENCY_BUCKETS_MICROS.iter().zip(&snapshot.cumulative) {
        let le = format!("{}", *bound as f64 / 1e6);
        let _ = write!(out, "{name}_bucket");
        write_labels(out, labels, Some(&le));
        let _ = writeln!(out, " {count}");
    }
    let _ = write!(out, "{name}_bucket");
    write_labels(out, labels, Some("+Inf"));
    let _ = writeln!(out, " {}", snapshot.count);
    let _ = write!(out, "{name}_sum");
    write_labels(out, labels, None);
    let _ = writeln!(out, " {}", snapshot.sum_nanos as f64 / 1e9);
    let _ = write!(out, "{name}_count");
    write_labels(out, labels, None);
    let _ = writeln!(out, " {}", snapshot.count);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        let mut out = String::new();
        sample(&mut out, "m", &[("model", "a\"b\\c\nd".to_owned())], 2);
        assert_eq!(out, "m{model=\"a\\\"b\\\\c\\nd\"} 2\n");
    }

    #[test]
    fn histograms_have_cumulative_buckets_inf_sum_and_count() {
        let histogram = Histogram::default();
        histogram.observe(std::time::Duration::from_micros(200));
        histogram.observe(std::time::Duration::from_secs(10));
        let mut out = String::new();
        super::histogram(&mut out, "h", &[], &histogram.snapshot());
        assert!(out.starts_with("h_bucket{le=\"0.0001\"} 0\nh_bucket{le=\"0.00025\"} 1\n"));
        assert!(out.contains("h_bucket{le=\"5\"} 1\nh_bucket{le=\"+Inf\"} 2\n"));
        assert!(out.contains("h_sum 10.0002\nh_count 2\n"), "{out}");
    }
}

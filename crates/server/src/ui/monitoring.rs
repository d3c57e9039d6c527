//! Page 4, `/ui/models/{name}/monitoring[?version=]`: one version's windows over time —
//! drift share and per-feature drift, live performance against validation, latency and
//! requests per second — then the newest window in detail (reference vs current
//! histogram per feature, the prediction distribution) and the alerts. It reloads itself.
//! `/ui/models/{name}/windows/{id}` shows any one window the same way.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use axum::extract::State;
use axum::response::Html;
use bascule_core::{Deployment, LabelSummary, StoredWindow};
use bascule_lifecycle::gate::Policy;
use bascule_lifecycle::monitoring::{MonitoringPolicy, WindowReport};
use bascule_monitor::{DriftReport, FeatureDrift, Verdict};
use serde::Deserialize;

use super::layout::{
    self, Esc, Section, Seg, Shell, empty_state, maybe, model_href, monitoring_href, number,
    percent, window_href,
};
use super::model::alerts_table;
use super::svg::{BarChart, CURRENT_COLOUR, LineChart, REFERENCE_COLOUR, Series};
use super::{PageResult, UiError, UiPath, UiQuery};
use crate::AppState;

/// Windows drawn on the charts (the newest).
const WINDOWS_SHOWN: i64 = 200;
const ALERTS_SHOWN: i64 = 20;
/// Seconds between reloads of the monitoring page.
const REFRESH_SECONDS: u32 = 15;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitoringQuery {
    pub version: Option<i64>,
}

/// A stored window with its report decoded (`None` if it cannot be read).
struct Window {
    stored: StoredWindow,
    report: Option<WindowReport>,
}

impl Window {
    fn of(stored: StoredWindow) -> Self {
        let report = serde_json::from_str(&stored.report).ok();
        Window { stored, report }
    }

    fn drift(&self) -> Option<&DriftReport> {
        Some(&self.report.as_ref()?.drift.as_ref()?.features)
    }
}

pub async fn monitoring_page(
    State(state): State<AppState>,
    UiPath(name): UiPath<String>,
    UiQuery(query): UiQuery<MonitoringQuery>,
) -> PageResult {
    let recent = state.registry.windows(&name, None, WINDOWS_SHOWN).await?;
    let deployment = state.serving.get(&name).await?;
    let labels = state.registry.label_summary(&name).await?;
    let policy = monitoring_policy(&state, &name).await?;
    let alerts = state
        .registry
        .alerts(Some(&name), None, ALERTS_SHOWN)
        .await?;
    let versions: BTreeSet<i64> = recent.iter().map(|w| w.version).collect();
    let selected = query
        .version
        .or(deployment.live.filter(|v| versions.contains(v)))
        .or(recent.first().map(|w| w.version));

    let mut body = String::new();
    version_picker(&mut body, &name, &versions, selected);
    let windows: Vec<Window> = match selected {
        Some(version) => {
            let mut stored = state
                .registry
                .windows(&name, Some(version), WINDOWS_SHOWN)
                .await?;
            stored.reverse();
            stored.into_iter().map(Window::of).collect()
        }
        None => Vec::new(),
    };
    match windows.last() {
        None => no_windows(&mut body, &name, &deployment, selected, &policy),
        Some(newest) => {
            kpis(&mut body, newest, &labels);
            charts(&mut body, &windows, &policy, &labels, &name);
            let _ = writeln!(
                body,
                "<h2 id=\"newest\">Newest window: <a href=\"{}\">#{}</a></h2>",
                Esc(&window_href(&name, newest.stored.id)),
                newest.stored.id
            );
            window_detail(&mut body, &name, newest);
        }
    }
    body.push_str("<h2 id=\"alerts\">Alerts</h2>\n");
    if alerts.is_empty() {
        body.push_str("<p class=\"muted\">No alerts have been raised for this model.</p>\n");
    } else {
        alerts_table(&mut body, &name, &alerts);
    }
    let title = format!("{name}: monitoring");
    let page = Shell::new(&title, Section::Models)
        .crumb("Models", "/ui")
        .crumb(name.clone(), model_href(&name))
        .refresh(REFRESH_SECONDS)
        .render(&body);
    Ok(Html(page))
}

pub async fn window_page(
    State(state): State<AppState>,
    UiPath((name, id)): UiPath<(String, String)>,
) -> PageResult {
    let id = id
        .trim_start_matches('#')
        .parse::<i64>()
        .map_err(|_| UiError::not_found(format!("model '{name}' has no window '{id}'")))?;
    state.registry.get_model(&name).await?;
    let window = Window::of(state.registry.window(&name, id).await?);
    let mut body = String::new();
    let _ = writeln!(
        body,
        "<p><a href=\"{}?version={}\">All windows of v{} →</a></p>",
        Esc(&monitoring_href(&name)),
        window.stored.version,
        window.stored.version
    );
    window_detail(&mut body, &name, &window);
    let title = format!("{name}: window #{id}");
    let page = Shell::new(&title, Section::Models)
        .crumb("Models", "/ui")
        .crumb(name.clone(), model_href(&name))
        .crumb("monitoring", monitoring_href(&name))
        .render(&body);
    Ok(Html(page))
}

/// The model's monitoring policy as stored (the defaults without one).
async fn monitoring_policy(state: &AppState, name: &str) -> Result<MonitoringPolicy, UiError> {
    Ok(match state.registry.policy(name).await? {
        Some(stored) => Policy::parse(&stored.body, stored.format)
            .map(|policy| policy.monitoring)
            .unwrap_or_default(),
        None => MonitoringPolicy::default(),
    })
}

fn version_picker(out: &mut String, name: &str, versions: &BTreeSet<i64>, selected: Option<i64>) {
    if versions.len() < 2 {
        return;
    }
    out.push_str("<p>Version: ");
    for version in versions {
        if Some(*version) == selected {
            let _ = write!(out, "<strong>v{version}</strong> ");
        } else {
            let _ = write!(
                out,
                "<a href=\"/ui/models/{}/monitoring?version={version}\">v{version}</a> ",
                Seg(name)
            );
        }
    }
    out.push_str("</p>\n");
}

fn no_windows(
    out: &mut String,
    name: &str,
    deployment: &Deployment,
    selected: Option<i64>,
    policy: &MonitoringPolicy,
) {
    let mut every = match policy.window_seconds {
        Some(seconds) => format!(
            "every {} predictions or {seconds} s after its first",
            policy.window_size()
        ),
        None => format!("every {} predictions", policy.window_size()),
    };
    if let Some(ms) = policy.window_interval_ms() {
        every.push_str(&format!(", at most one starting every {} s", ms / 1000));
    }
    if deployment.is_empty() {
        empty_state(
            out,
            "No traffic yet: nothing is deployed.",
            &format!(
                "Deploy a Validated version with <code>bascule deploy {} VERSION</code>, send requests to <code>/v2/models/{}/infer</code>; a monitoring window closes {every}.",
                Esc(name),
                Esc(name)
            ),
        );
    } else {
        let version = selected
            .or(deployment.live)
            .map_or_else(String::new, |v| format!(" for v{v}"));
        empty_state(
            out,
            &format!("No traffic yet{version}: no monitoring window has closed."),
            &format!(
                "Send requests to <code>/v2/models/{}/infer</code> or <code>/models/{}/invocations</code>; a window closes {every}, and its drift, latency and (once labels arrive) performance show here.",
                Esc(name),
                Esc(name)
            ),
        );
    }
}

fn requests_per_second(window: &StoredWindow) -> Option<f64> {
    let seconds = (window.end_time - window.start_time) as f64 / 1000.0;
    (seconds > 0.0).then(|| window.n_predictions as f64 / seconds)
}

fn kpis(out: &mut String, newest: &Window, labels: &LabelSummary) {
    let stored = &newest.stored;
    let health = newest.report.as_ref().map(|r| &r.health);
    let latency = health.and_then(|h| h.latency_ms.as_ref());
    let drifted = newest.drift().map_or_else(
        || "–".to_owned(),
        |d| format!("{} of {}", d.n_drifted, d.n_judged),
    );
    let _ = writeln!(
        out,
        "<p class=\"muted\">v{} ({}), newest window #{} closed {}. Reloads every {REFRESH_SECONDS} s.</p>",
        stored.version,
        stored.role.as_str(),
        stored.id,
        layout::time(stored.end_time)
    );
    let _ = writeln!(
        out,
        "<div class=\"kpis\"><div class=\"kpi\"><span>drift share</span><b>{}</b></div><div class=\"kpi\"><span>drifted features</span><b>{}</b></div><div class=\"kpi\"><span>latency p50 / p99</span><b>{} / {} ms</b></div><div class=\"kpi\"><span>requests/s</span><b>{}</b></div><div class=\"kpi\"><span>error rate</span><b>{}</b></div><div class=\"kpi\"><span>labels</span><b>{} matched</b>{}</div></div>",
        stored.drift_share.map_or_else(|| "–".to_owned(), percent),
        Esc(&drifted),
        maybe(latency.map(|l| l.p50)),
        maybe(latency.map(|l| l.p99)),
        maybe(requests_per_second(stored)),
        health.map_or_else(|| "–".to_owned(), |h| percent(h.error_rate)),
        labels.matched,
        if labels.unmatched > 0 {
            format!("<span>{} unmatched</span>", labels.unmatched)
        } else {
            String::new()
        }
    );
}

fn charts(
    out: &mut String,
    windows: &[Window],
    policy: &MonitoringPolicy,
    labels: &LabelSummary,
    name: &str,
) {
    let x = |index: usize| (index + 1) as f64;
    let ticks: Vec<(f64, String)> = windows
        .iter()
        .enumerate()
        .map(|(i, w)| (x(i), format!("#{}", w.stored.id)))
        .collect();
    out.push_str("<h2 id=\"drift\">Drift over windows</h2>\n<div class=\"grid\">\n<div>\n");

    let mut share = LineChart::new(
        "drift-share",
        "Share of drifted features per window",
        "window",
        "drift share",
    );
    share.series.push(Series::new(
        "drift share",
        windows
            .iter()
            .enumerate()
            .filter_map(|(i, w)| Some((x(i), w.stored.drift_share?)))
            .collect(),
    ));
    share.y_range = Some((0.0, 1.0));
    share.threshold = Some((
        policy.alerts.drift_share,
        format!("alert at {}", percent(policy.alerts.drift_share)),
    ));
    share.x_ticks = ticks.clone();
    share.render(out);
    out.push_str("</div>\n<div>\n");

    // One line per feature: its effect size in each window (what the verdict weighs
    // against the floor).
    let mut features: Vec<String> = Vec::new();
    for window in windows {
        for feature in window.drift().map_or(&[][..], |d| &d.features[..]) {
            if !features.contains(&feature.name) {
                features.push(feature.name.clone());
            }
        }
    }
    let mut per_feature = LineChart::new(
        "feature-drift",
        "Per-feature drift (effect size) per window",
        "window",
        "effect size",
    );
    let mut floors = BTreeSet::new();
    for feature in &features {
        let points = windows
            .iter()
            .enumerate()
            .filter_map(|(i, w)| {
                let measured = w.drift()?.feature(feature)?;
                if let Some(floor) = measured.threshold {
                    floors.insert(floor.to_bits());
                }
                Some((x(i), measured.effect_size?))
            })
            .collect();
        per_feature
            .series
            .push(Series::new(feature.clone(), points));
    }
    if let (1, Some(&bits)) = (floors.len(), floors.first()) {
        let floor = f64::from_bits(bits);
        per_feature.threshold = Some((floor, format!("floor {}", number(floor))));
    }
    per_feature.x_ticks = ticks.clone();
    per_feature.render(out);
    out.push_str("</div>\n</div>\n");

    out.push_str("<h2 id=\"performance\">Live performance against validation</h2>\n");
    // The metrics the alert rules watch (the task's main metric by default); the newest
    // window's table lists them all.
    let task = windows.iter().rev().find_map(|w| w.report.as_ref()?.task);
    let metric_names: Vec<String> = task
        .map(|task| {
            policy
                .alerts
                .watched_metrics(task)
                .into_iter()
                .map(|(metric, _)| metric.as_str().to_owned())
                .collect()
        })
        .unwrap_or_default();
    let any_labelled = windows.iter().any(|w| w.stored.n_labelled > 0);
    if !any_labelled {
        empty_state(
            out,
            "No labels yet.",
            &format!(
                "Live performance needs ground truth: post it against the request ids with <code>bascule labels {} labels.csv</code> (columns <code>request_id,label</code>) or <code>POST /api/v1/models/{}/labels</code>. {} labels received so far.",
                Esc(name),
                Esc(name),
                labels.labels
            ),
        );
    } else {
        let mut performance = LineChart::new(
            "performance",
            "Watched metrics per window, live and at validation (dashed)",
            "window",
            "metric",
        );
        for metric in &metric_names {
            let of = |w: &Window| {
                w.report
                    .as_ref()?
                    .performance
                    .as_ref()?
                    .metrics
                    .iter()
                    .find(|m| &m.name == metric)
                    .cloned()
            };
            let live = windows
                .iter()
                .enumerate()
                .filter_map(|(i, w)| Some((x(i), of(w)?.value?)))
                .collect();
            let validation: Vec<(f64, f64)> = windows
                .iter()
                .enumerate()
                .filter_map(|(i, w)| Some((x(i), of(w)?.validation?)))
                .collect();
            performance
                .series
                .push(Series::new(format!("{metric} live"), live));
            if !validation.is_empty() {
                performance
                    .series
                    .push(Series::new(format!("{metric} at validation"), validation).dashed());
            }
        }
        performance.x_ticks = ticks.clone();
        performance.render(out);
    }

    out.push_str("<h2 id=\"traffic\">Latency and traffic</h2>\n<div class=\"grid\">\n<div>\n");
    let mut latency = LineChart::new(
        "latency",
        "Model latency per window (p50 and p99)",
        "window",
        "milliseconds",
    );
    for (label, p99) in [("p50", false), ("p99", true)] {
        latency.series.push(Series::new(
            label,
            windows
                .iter()
                .enumerate()
                .filter_map(|(i, w)| {
                    let latency = w.report.as_ref()?.health.latency_ms.as_ref()?;
                    Some((x(i), if p99 { latency.p99 } else { latency.p50 }))
                })
                .collect(),
        ));
    }
    if let Some(budget) = policy.alerts.latency_p99_ms {
        latency.threshold = Some((budget, format!("p99 budget {} ms", number(budget))));
    }
    latency.x_ticks = ticks.clone();
    latency.render(out);
    out.push_str("</div>\n<div>\n");
    let mut rate = LineChart::new(
        "requests",
        "Requests per second per window",
        "window",
        "requests/s",
    );
    rate.series.push(Series::new(
        "requests/s",
        windows
            .iter()
            .enumerate()
            .filter_map(|(i, w)| Some((x(i), requests_per_second(&w.stored)?)))
            .collect(),
    ));
    rate.x_ticks = ticks;
    rate.render(out);
    out.push_str("</div>\n</div>\n");
}

/// One window: what it covers, its drift per feature with histograms, the prediction
/// distribution, live performance and health.
fn window_detail(out: &mut String, name: &str, window: &Window) {
    let stored = &window.stored;
    let _ = writeln!(
        out,
        "<p>v{} ({}) · predictions {}–{} · {} → {} · {} predictions, {} labelled · computed {}</p>",
        stored.version,
        stored.role.as_str(),
        stored.first_prediction,
        stored.last_prediction,
        layout::time(stored.start_time),
        layout::time(stored.end_time),
        stored.n_predictions,
        stored.n_labelled,
        layout::time(stored.computed_time)
    );
    let Some(report) = &window.report else {
        out.push_str("<p class=\"bad\">This window's report cannot be read by this version of Bascule.</p>\n");
        return;
    };
    match &report.drift {
        None => empty_state(
            out,
            "No drift report for this window.",
            &Esc(report
                .drift_note
                .as_deref()
                .unwrap_or("The version has no reference profile: validate it to get one."))
            .to_string(),
        ),
        Some(drift) => {
            feature_table(out, &drift.features);
            out.push_str("<h3>Reference vs current, per feature</h3>\n<div class=\"grid\">\n");
            // Drifted features first.
            let mut order: Vec<&FeatureDrift> = drift.features.features.iter().collect();
            order.sort_by_key(|f| f.verdict != Verdict::Drifted);
            for (index, feature) in order.into_iter().enumerate() {
                histogram(out, &format!("feature-{index}"), feature, "values");
            }
            out.push_str("</div>\n<h3>Prediction distribution</h3>\n");
            match &drift.predictions {
                None => out
                    .push_str("<p class=\"muted\">No successful prediction in this window.</p>\n"),
                Some(predictions) => {
                    out.push_str("<div class=\"grid\">\n");
                    for (index, output) in predictions.features.iter().enumerate() {
                        histogram(out, &format!("prediction-{index}"), output, "predictions");
                    }
                    out.push_str("</div>\n");
                }
            }
        }
    }
    out.push_str("<h3>Live performance</h3>\n");
    match &report.performance {
        None => out.push_str("<p class=\"muted\">No validation report to compare with.</p>\n"),
        Some(performance) if performance.labelled == 0 => empty_state(
            out,
            "No labels yet for this window.",
            &format!(
                "Post ground truth for its request ids: <code>bascule labels {} labels.csv</code>.",
                Esc(name)
            ),
        ),
        Some(performance) => {
            let _ = writeln!(
                out,
                "<p>{} labelled predictions.{}</p>\n<table><thead><tr><th>metric</th><th class=\"num\">live</th><th class=\"num\">at validation</th><th class=\"num\">worse by</th></tr></thead><tbody>",
                performance.labelled,
                performance
                    .note
                    .as_deref()
                    .map(|n| format!(" <span class=\"muted\">{}</span>", Esc(n)))
                    .unwrap_or_default()
            );
            for metric in &performance.metrics {
                let class = if metric.worsening.is_some_and(|w| w > 0.05) {
                    "num bad"
                } else {
                    "num"
                };
                let _ = writeln!(
                    out,
                    "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"{class}\">{}</td></tr>",
                    Esc(&metric.name),
                    maybe(metric.value),
                    maybe(metric.validation),
                    maybe(metric.worsening)
                );
            }
            out.push_str("</tbody></table>\n");
        }
    }
    let health = &report.health;
    let latency = health.latency_ms.as_ref();
    let _ = writeln!(
        out,
        "<h3>Health</h3>\n<table><tbody><tr><th>predictions</th><td class=\"num\">{}</td><th>rows</th><td class=\"num\">{}</td><th>errors</th><td class=\"num\">{} ({})</td></tr><tr><th>latency p50</th><td class=\"num\">{} ms</td><th>p90</th><td class=\"num\">{} ms</td><th>p99 / max</th><td class=\"num\">{} / {} ms</td></tr></tbody></table>",
        health.predictions,
        health.rows,
        health.errors,
        percent(health.error_rate),
        maybe(latency.map(|l| l.p50)),
        maybe(latency.map(|l| l.p90)),
        maybe(latency.map(|l| l.p99)),
        maybe(latency.map(|l| l.max)),
    );
}

fn feature_table(out: &mut String, drift: &DriftReport) {
    let drifted: Vec<&str> = drift.drifted().collect();
    let _ = writeln!(
        out,
        "<p><strong>{} of {} judged features drifted</strong> (share {}){}. A feature drifts when its adjusted p-value is below {} and its effect size reaches its floor, with at least {} values on each side.</p>",
        drift.n_drifted,
        drift.n_judged,
        percent(drift.drift_share),
        if drifted.is_empty() {
            String::new()
        } else {
            format!(": {}", Esc(&drifted.join(", ")))
        },
        number(drift.config.alpha),
        drift.config.min_sample_size
    );
    out.push_str("<table><thead><tr><th>feature</th><th>test</th><th class=\"num\">statistic</th><th class=\"num\">adjusted p</th><th>effect</th><th class=\"num\">floor</th><th>verdict</th></tr></thead><tbody>\n");
    for feature in &drift.features {
        let (class, verdict) = match &feature.verdict {
            Verdict::Drifted => ("bad", "drifted".to_owned()),
            Verdict::NotDrifted => ("ok", "not drifted".to_owned()),
            Verdict::InsufficientData { reason } => {
                ("muted", format!("insufficient data: {reason}"))
            }
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{} {}</td><td class=\"num\">{}</td><td class=\"{class}\">{}</td></tr>",
            Esc(&feature.name),
            feature.test.map_or("–", |t| t.as_str()),
            maybe(feature.statistic),
            maybe(feature.adjusted_p_value),
            maybe(feature.effect_size),
            feature.effect_kind.map_or("", |k| k.as_str()),
            maybe(feature.threshold),
            Esc(&verdict)
        );
    }
    out.push_str("</tbody></table>\n");
}

fn histogram(out: &mut String, id: &str, feature: &FeatureDrift, what: &str) {
    let verdict = match feature.verdict {
        Verdict::Drifted => " — drifted",
        _ => "",
    };
    let _ = writeln!(out, "<div><h3>{}{verdict}</h3>", Esc(&feature.name));
    let Some(histogram) = &feature.histogram else {
        out.push_str("<p class=\"muted\">No histogram: one side has no values.</p></div>\n");
        return;
    };
    let (labels, reference, current) = histogram.bins();
    let title = format!("{}: reference vs current {what}", feature.name);
    BarChart {
        id,
        title: &title,
        x_label: &feature.name,
        labels,
        groups: vec![
            ("reference".to_owned(), REFERENCE_COLOUR, reference.to_vec()),
            ("current".to_owned(), CURRENT_COLOUR, current.to_vec()),
        ],
    }
    .render(out);
    out.push_str("</div>\n");
}

//! Page 2, `/ui/models/{name}`: the status tracker (each version's way through Prototype,
//! Validated, Deployed, Monitored and Improved, with the evidence of each step one click
//! away), the lineage graph, deployments, alerts and the event log.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use axum::extract::State;
use axum::response::Html;
use bascule_core::{Alert, AlertState, Deployment, LifecycleEvent, ModelVersion, Stage};

use super::layout::{
    self, Esc, Section, Shell, empty_state, model_href, monitoring_href, stage_badge, version_href,
    window_href,
};
use super::models::traffic;
use super::{PageResult, UiPath};
use crate::AppState;

/// The steps of the status tracker, in the order the seed's Model State row reads.
const TRACKED: [Stage; 5] = [
    Stage::Prototype,
    Stage::Validated,
    Stage::Deployed,
    Stage::Monitored,
    Stage::Improved,
];

const ALERTS_SHOWN: i64 = 20;

pub async fn model_page(State(state): State<AppState>, UiPath(name): UiPath<String>) -> PageResult {
    let model = state.registry.get_model(&name).await?;
    let versions = state.registry.list_versions(&name).await?;
    let events = state.registry.events(&name, None).await?;
    let deployment = state.serving.get(&name).await?;
    let alerts = state
        .registry
        .alerts(Some(&name), None, ALERTS_SHOWN)
        .await?;
    let feedback = state
        .registry
        .list_feedback(Some(&name), None, ALERTS_SHOWN)
        .await?;
    let answers: Answers = feedback
        .iter()
        .filter_map(|item| {
            item.answered_by
                .or(item.candidate_version)
                .map(|v| (v, item.id))
        })
        .collect();

    let mut body = String::new();
    if !model.description.is_empty() {
        let _ = writeln!(body, "<p>{}</p>", Esc(&model.description));
    }
    let _ = writeln!(
        body,
        "<p><a href=\"{}\">Monitoring: drift, performance, latency and traffic over windows →</a></p>",
        Esc(&monitoring_href(&name))
    );
    if versions.is_empty() {
        empty_state(
            &mut body,
            "No versions yet.",
            &format!(
                "Register one with <code>bascule models register {} model.onnx</code>.",
                Esc(&name)
            ),
        );
    } else {
        tracker(&mut body, &name, &versions, &events);
        lineage(&mut body, &name, &versions, &events, &answers);
    }
    body.push_str("<h2 id=\"feedback\">Feedback</h2>\n");
    if feedback.is_empty() {
        empty_state(
            &mut body,
            "No feedback for this model.",
            "An alert on a serving version opens an item, with an export of its traffic for retraining.",
        );
    } else {
        super::feedback::items_table(&mut body, &feedback);
    }
    deployments(&mut body, &name, &deployment, &events);
    alerts_section(&mut body, &name, &alerts);
    event_log(&mut body, &name, &events);
    let page = Shell::new(&name, Section::Models)
        .crumb("Models", "/ui")
        .render(&body);
    Ok(Html(page))
}

/// The first event that moved `version` to `stage`.
fn reached(events: &[LifecycleEvent], version: i64, stage: Stage) -> Option<&LifecycleEvent> {
    events
        .iter()
        .find(|e| e.version == version && e.to == stage)
}

/// Whether a version ever became Improved.
fn improved(events: &[LifecycleEvent], version: i64) -> bool {
    reached(events, version, Stage::Improved).is_some()
}

fn tracker(out: &mut String, name: &str, versions: &[ModelVersion], events: &[LifecycleEvent]) {
    out.push_str("<h2 id=\"tracker\">Status tracker</h2>\n<p class=\"muted\">Each version's way through the lifecycle: when it reached each stage and the evidence that moved it there.</p>\n<table class=\"tracker\">\n<thead><tr><th>version</th>");
    for stage in TRACKED {
        let _ = write!(out, "<th>{}</th>", stage.as_str());
    }
    out.push_str("<th>now</th></tr></thead>\n<tbody>\n");
    for version in versions {
        let _ = write!(
            out,
            "<tr><td><a href=\"{}\"><strong>v{}</strong></a>{}</td>",
            Esc(&version_href(name, version.version)),
            version.version,
            version
                .lineage
                .parent_version
                .map(|p| format!("<br><span class=\"muted\">from v{p}</span>"))
                .unwrap_or_default()
        );
        for stage in TRACKED {
            match reached(events, version.version, stage) {
                Some(event) => {
                    let class = if stage == Stage::Improved {
                        "step reached improved"
                    } else {
                        "step reached"
                    };
                    let _ = write!(
                        out,
                        "<td class=\"{class}\" title=\"{}\">✓ {}<br>{}<br><span class=\"muted\">{}</span></td>",
                        Esc(&event.reason),
                        stage.as_str(),
                        layout::time(event.time),
                        evidence_link(name, event)
                    );
                }
                None => {
                    let _ = write!(out, "<td class=\"step pending\">–</td>");
                }
            }
        }
        let _ = writeln!(out, "<td>{}</td></tr>", stage_badge(version.stage));
    }
    out.push_str("</tbody>\n</table>\n");
}

/// Where an event's evidence is shown, as a link (or plain text when Bascule has no page
/// for it).
pub fn evidence_link(name: &str, event: &LifecycleEvent) -> String {
    let Some(evidence) = &event.evidence else {
        return if event.from.is_none() {
            "registered".to_owned()
        } else {
            "no evidence recorded".to_owned()
        };
    };
    match evidence.kind.as_str() {
        "validation_report" => format!(
            "<a href=\"{}#validation\">validation report</a>",
            Esc(&version_href(name, event.version))
        ),
        "monitoring_window" => id_link(&evidence.reference, "window", |id| window_href(name, id)),
        "deployment" => format!(
            "<a href=\"{}#deployments\">deployment {}</a>",
            Esc(&model_href(name)),
            Esc(evidence
                .reference
                .rsplit_once('@')
                .map_or(evidence.reference.as_str(), |(_, revision)| revision))
        ),
        "feedback" => id_link(
            &evidence.reference,
            "feedback",
            super::feedback::feedback_href,
        ),
        kind => format!("{}: {}", Esc(kind), Esc(&evidence.reference)),
    }
}

/// A link to the page of the id that ends an evidence reference (`…/windows/17`), or the
/// reference as text.
fn id_link(reference: &str, label: &str, href: impl Fn(i64) -> String) -> String {
    match reference
        .rsplit('/')
        .next()
        .and_then(|id| id.parse::<i64>().ok())
    {
        Some(id) => format!("<a href=\"{}\">{label} #{id}</a>", Esc(&href(id))),
        None => format!("{label} {}", Esc(reference)),
    }
}

const NODE_W: f64 = 168.0;
const NODE_H: f64 = 52.0;
const GAP_X: f64 = 150.0;
const GAP_Y: f64 = 18.0;
const PAD: f64 = 16.0;

/// Parent → child as boxes and arrows (an Improved child marked), and the same as a list.
/// Version → the feedback item it was registered to answer.
type Answers = BTreeMap<i64, i64>;

fn lineage(
    out: &mut String,
    name: &str,
    versions: &[ModelVersion],
    events: &[LifecycleEvent],
    answers: &Answers,
) {
    // Versions come oldest first and a parent is always older than its child.
    let mut depth: BTreeMap<i64, usize> = BTreeMap::new();
    for version in versions {
        let d = version
            .lineage
            .parent_version
            .and_then(|p| depth.get(&p).map(|d| d + 1))
            .unwrap_or(0);
        depth.insert(version.version, d);
    }
    let mut rows_per_depth: BTreeMap<usize, usize> = BTreeMap::new();
    let mut place: BTreeMap<i64, (f64, f64)> = BTreeMap::new();
    for version in versions {
        let d = depth.get(&version.version).copied().unwrap_or(0);
        let row = rows_per_depth.entry(d).or_default();
        place.insert(
            version.version,
            (
                PAD + d as f64 * (NODE_W + GAP_X),
                PAD + *row as f64 * (NODE_H + GAP_Y),
            ),
        );
        *row += 1;
    }
    let columns = rows_per_depth.len().max(1) as f64;
    let rows = rows_per_depth.values().copied().max().unwrap_or(1) as f64;
    let width = PAD * 2.0 + columns * NODE_W + (columns - 1.0) * GAP_X;
    let height = PAD * 2.0 + rows * NODE_H + (rows - 1.0) * GAP_Y;
    let n_children = versions
        .iter()
        .filter(|v| v.lineage.parent_version.is_some())
        .count();
    out.push_str("<h2 id=\"lineage\">Lineage</h2>\n");
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-labelledby=\"lineage-title lineage-desc\">\n<title id=\"lineage-title\">Lineage of {}: each version and the version it was retrained from</title>\n<desc id=\"lineage-desc\">{} versions, {n_children} with a parent. The list below gives every edge.</desc>\n<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#5b6575\"/></marker></defs>",
        Esc(name),
        versions.len()
    );
    for version in versions {
        let (Some(parent), Some(&(x2, y2))) =
            (version.lineage.parent_version, place.get(&version.version))
        else {
            continue;
        };
        let Some(&(x1, y1)) = place.get(&parent) else {
            continue;
        };
        let (sx, sy, ex, ey) = (x1 + NODE_W, y1 + NODE_H / 2.0, x2, y2 + NODE_H / 2.0);
        let mid = (sx + ex) / 2.0;
        let _ = writeln!(
            out,
            "<path d=\"M{sx:.1},{sy:.1} C{mid:.1},{sy:.1} {mid:.1},{ey:.1} {ex:.1},{ey:.1}\" fill=\"none\" stroke=\"#5b6575\" stroke-width=\"1.5\" marker-end=\"url(#arrow)\"/><text x=\"{mid:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            sy.min(ey) - 8.0,
            Esc(&edge_label(version, answers))
        );
    }
    for version in versions {
        let Some(&(x, y)) = place.get(&version.version) else {
            continue;
        };
        let is_improved = improved(events, version.version);
        let (fill, stroke, width) = if is_improved {
            ("#fff4dc", "#e8a317", 2.5)
        } else {
            ("#ffffff", "#9aa4b5", 1.2)
        };
        let _ = writeln!(
            out,
            "<a href=\"{}\"><rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{NODE_W}\" height=\"{NODE_H}\" rx=\"7\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"{width}\"/><text x=\"{:.1}\" y=\"{:.1}\" style=\"font-size:14px;font-weight:600\">v{}{}</text><text x=\"{:.1}\" y=\"{:.1}\">now {}</text></a>",
            Esc(&version_href(name, version.version)),
            x + 10.0,
            y + 21.0,
            version.version,
            if is_improved { "  ★ Improved" } else { "" },
            x + 10.0,
            y + 40.0,
            version.stage.as_str()
        );
    }
    out.push_str("</svg>\n<ul>\n");
    for version in versions {
        let parent = match version.lineage.parent_version {
            Some(parent) => format!(
                "retrained from v{parent} ({})",
                answers.get(&version.version).map_or_else(
                    || Esc(&edge_label(version, answers)).to_string(),
                    |id| format!(
                        "<a href=\"{}\">feedback #{id}</a>",
                        Esc(&super::feedback::feedback_href(*id))
                    )
                )
            ),
            None => "no parent".to_owned(),
        };
        let _ = writeln!(
            out,
            "<li>v{}: {parent}{}; now {}</li>",
            version.version,
            if improved(events, version.version) {
                "; <strong>Improved</strong> (beat its parent at the gate)"
            } else {
                ""
            },
            version.stage.as_str()
        );
    }
    out.push_str("</ul>\n");
    if n_children == 0 {
        out.push_str("<p class=\"muted\">No version has a parent yet: register a retrained version with <code>--parent N</code> to record where it came from.</p>\n");
    }
}

/// What an edge says about how the child came about.
fn edge_label(version: &ModelVersion, answers: &Answers) -> String {
    if let Some(id) = answers.get(&version.version) {
        return format!("feedback #{id}");
    }
    match (&version.lineage.data_digest, &version.lineage.code_ref) {
        (Some(digest), _) => {
            let digest = digest.strip_prefix("sha256:").unwrap_or(digest);
            format!("new data {}", digest.get(..8).unwrap_or(digest))
        }
        (None, Some(code)) => format!("code {}", code.get(..12).unwrap_or(code)),
        (None, None) => "retrained".to_owned(),
    }
}

fn deployments(out: &mut String, name: &str, deployment: &Deployment, events: &[LifecycleEvent]) {
    out.push_str("<h2 id=\"deployments\">Deployments</h2>\n");
    if deployment.is_empty() {
        empty_state(
            out,
            "Nothing is deployed.",
            &format!(
                "Deploy a Validated version with <code>bascule deploy {} VERSION</code> (canary: <code>--canary PERCENT</code>).",
                Esc(name)
            ),
        );
    } else {
        let _ = writeln!(
            out,
            "<div class=\"kpis\"><div class=\"kpi\"><span>traffic</span><b>{}</b></div><div class=\"kpi\"><span>rollback returns to</span><b>{}</b></div><div class=\"kpi\"><span>revision</span><b>{}</b></div><div class=\"kpi\"><span>changed by</span><b>{}</b>{}</div></div>",
            traffic(deployment),
            deployment
                .previous_live
                .map_or_else(|| "–".to_owned(), |v| format!("v{v}")),
            deployment.revision,
            Esc(&deployment.updated_by),
            layout::time(deployment.updated_time)
        );
    }
    // Deployment changes, newest first: the events they wrote, grouped by revision.
    let mut changes: BTreeMap<&str, Vec<&LifecycleEvent>> = BTreeMap::new();
    for event in events {
        if let Some(evidence) = event.evidence.as_ref().filter(|e| e.kind == "deployment") {
            changes
                .entry(evidence.reference.as_str())
                .or_default()
                .push(event);
        }
    }
    if changes.is_empty() {
        return;
    }
    let mut ordered: Vec<(&str, Vec<&LifecycleEvent>)> = changes.into_iter().collect();
    ordered.sort_by_key(|(_, events)| std::cmp::Reverse(events[0].id));
    out.push_str("<h3>History</h3>\n<table><thead><tr><th>when</th><th>change</th><th>by</th><th>stage changes</th></tr></thead><tbody>\n");
    for (reference, events) in ordered {
        let first = events[0];
        let moves: Vec<String> = events
            .iter()
            .map(|e| format!("v{} → {}", e.version, stage_badge(e.to)))
            .collect();
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}<br><span class=\"muted\">{}</span></td><td>{}</td><td>{}</td></tr>",
            layout::time(first.time),
            Esc(&first.reason),
            Esc(reference),
            Esc(&first.actor),
            moves.join("<br>")
        );
    }
    out.push_str("</tbody></table>\n");
}

fn alerts_section(out: &mut String, name: &str, alerts: &[Alert]) {
    out.push_str("<h2 id=\"alerts\">Alerts</h2>\n");
    if alerts.is_empty() {
        empty_state(
            out,
            "No alerts.",
            &format!(
                "Alerts open when a monitoring window breaks a rule of the model's policy (<code>[monitoring]</code>); see <a href=\"{}\">monitoring</a>.",
                Esc(&monitoring_href(name))
            ),
        );
        return;
    }
    alerts_table(out, name, alerts);
}

/// Alerts with their evidence window; shared with the monitoring page.
pub fn alerts_table(out: &mut String, name: &str, alerts: &[Alert]) {
    out.push_str("<table><thead><tr><th>opened</th><th>version</th><th>rule</th><th>severity</th><th>state</th><th>message</th><th>evidence</th></tr></thead><tbody>\n");
    for alert in alerts {
        let state = match alert.state {
            AlertState::Open => "<span class=\"bad\">open</span>".to_owned(),
            AlertState::Resolved => format!(
                "resolved {}",
                alert.resolved_time.map(layout::time).unwrap_or_default()
            ),
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>v{}</td><td>{}</td><td>{}</td><td>{state}</td><td>{}</td><td><a href=\"{}\">window #{}</a>{}</td></tr>",
            layout::time(alert.opened_time),
            alert.version,
            Esc(&alert.rule),
            alert.severity.as_str(),
            Esc(&alert.message),
            Esc(&window_href(name, alert.window_id)),
            alert.window_id,
            if alert.last_window_id != alert.window_id {
                format!(
                    "<br>latest <a href=\"{}\">#{}</a>",
                    Esc(&window_href(name, alert.last_window_id)),
                    alert.last_window_id
                )
            } else {
                String::new()
            }
        );
    }
    out.push_str("</tbody></table>\n");
}

/// The append-only event log, newest first; shared with the version page.
pub fn event_log(out: &mut String, name: &str, events: &[LifecycleEvent]) {
    out.push_str("<h2 id=\"events\">Event log</h2>\n");
    if events.is_empty() {
        empty_state(
            out,
            "No events yet.",
            "Every registration and stage change is recorded here.",
        );
        return;
    }
    out.push_str("<table><thead><tr><th>when</th><th>version</th><th>change</th><th>by</th><th>why</th><th>evidence</th></tr></thead><tbody>\n");
    for event in events.iter().rev() {
        let from = event.from.map_or_else(|| "(new)".to_owned(), stage_badge);
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td><a href=\"{}\">v{}</a></td><td>{from} → {}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            layout::time(event.time),
            Esc(&version_href(name, event.version)),
            event.version,
            stage_badge(event.to),
            Esc(&event.actor),
            Esc(&event.reason),
            evidence_link(name, event)
        );
    }
    out.push_str("</tbody></table>\n");
}

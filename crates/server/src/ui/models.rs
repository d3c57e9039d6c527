//! Page 1, `/ui`: every registered model with its live version and stage, how its traffic
//! is split, and its newest alert.

use std::collections::HashMap;
use std::fmt::Write as _;

use axum::extract::State;
use axum::response::Html;
use bascule_core::{Alert, AlertState, Deployment};

use super::layout::{Esc, Section, Shell, empty_state, model_href, monitoring_href, stage_badge};
use super::{PageResult, layout};
use crate::AppState;

/// Alerts read to find each model's newest and count its open ones.
const ALERTS_READ: i64 = 10_000;

pub async fn models_page(State(state): State<AppState>) -> PageResult {
    let models = state.registry.list_models().await?;
    let deployments: HashMap<String, Deployment> = state
        .serving
        .list()
        .await?
        .into_iter()
        .map(|d| (d.name.clone(), d))
        .collect();
    // Newest first: the first alert seen per model is its last.
    let alerts = state.registry.alerts(None, None, ALERTS_READ).await?;
    let mut last_alert: HashMap<&str, &Alert> = HashMap::new();
    let mut open_alerts: HashMap<&str, usize> = HashMap::new();
    for alert in &alerts {
        last_alert.entry(alert.name.as_str()).or_insert(alert);
        if alert.state == AlertState::Open {
            *open_alerts.entry(alert.name.as_str()).or_default() += 1;
        }
    }

    let mut open_feedback: HashMap<String, Vec<i64>> = HashMap::new();
    for item in state
        .registry
        .list_feedback(None, None, ALERTS_READ)
        .await?
    {
        if item.state.is_active() {
            open_feedback
                .entry(item.name.clone())
                .or_default()
                .push(item.id);
        }
    }

    let mut body = String::new();
    if models.is_empty() {
        empty_state(
            &mut body,
            "No models yet.",
            "Register one with <code>bascule models register NAME model.onnx</code>, or log and register one from Python with the <code>mlflow</code> client pointed at this server (<code>MLFLOW_TRACKING_URI</code>).",
        );
        return Ok(Html(Shell::new("Models", Section::Models).render(&body)));
    }
    let _ = writeln!(
        body,
        "<p class=\"muted\">{} registered model{}. A model's row shows the version answering live traffic, its stage, how traffic is split, and its newest alert.</p>",
        models.len(),
        if models.len() == 1 { "" } else { "s" }
    );
    body.push_str("<table>\n<thead><tr><th>model</th><th class=\"num\">versions</th><th>live version</th><th>stage</th><th>traffic</th><th>last alert</th><th class=\"num\">open alerts</th><th>open feedback</th><th>monitoring</th></tr></thead>\n<tbody>\n");
    for model in &models {
        let deployment = deployments.get(&model.name);
        let live = deployment.and_then(|d| d.live);
        // The stage shown is the live version's, else the newest version's.
        let shown_version = live.or(model.latest_version);
        let stage = match shown_version {
            Some(version) => Some(
                state
                    .registry
                    .get_version(&model.name, version)
                    .await?
                    .stage,
            ),
            None => None,
        };
        let _ = write!(
            body,
            "<tr><td><a href=\"{}\"><strong>{}</strong></a>",
            Esc(&model_href(&model.name)),
            Esc(&model.name)
        );
        if !model.description.is_empty() {
            let _ = write!(
                body,
                "<br><span class=\"muted\">{}</span>",
                Esc(&model.description)
            );
        }
        let _ = writeln!(
            body,
            "</td><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td><td><a href=\"{}\">windows and drift</a></td></tr>",
            model.latest_version.unwrap_or(0),
            live.map_or_else(
                || "<span class=\"muted\">not deployed</span>".to_owned(),
                |v| format!(
                    "<a href=\"{}\">v{v}</a>",
                    Esc(&layout::version_href(&model.name, v))
                )
            ),
            stage.map_or_else(|| "–".to_owned(), stage_badge),
            deployment.map_or_else(|| "–".to_owned(), traffic),
            last_alert.get(model.name.as_str()).map_or_else(
                || "<span class=\"muted\">none</span>".to_owned(),
                |a| alert_cell(a)
            ),
            open_alerts.get(model.name.as_str()).copied().unwrap_or(0),
            open_feedback.get(&model.name).map_or_else(
                || "<span class=\"muted\">none</span>".to_owned(),
                |ids| ids
                    .iter()
                    .map(|id| format!("<a href=\"/ui/feedback/{id}\">#{id}</a>"))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            Esc(&monitoring_href(&model.name)),
        );
    }
    body.push_str("</tbody>\n</table>\n");
    Ok(Html(Shell::new("Models", Section::Models).render(&body)))
}

/// `v1 live 90% · v2 canary 10% · v3 shadow (copy)`.
pub fn traffic(deployment: &Deployment) -> String {
    if deployment.is_empty() {
        return "<span class=\"muted\">no traffic</span>".to_owned();
    }
    let canary_percent = deployment.canary.map_or(0, |c| c.percent);
    let mut parts = Vec::new();
    if let Some(live) = deployment.live {
        parts.push(format!("v{live} live {}%", 100 - u32::from(canary_percent)));
    }
    if let Some(canary) = deployment.canary {
        parts.push(format!("v{} canary {}%", canary.version, canary.percent));
    }
    if let Some(shadow) = deployment.shadow {
        parts.push(format!("v{shadow} shadow (copy)"));
    }
    parts.join(" · ")
}

fn alert_cell(alert: &Alert) -> String {
    let class = match alert.state {
        AlertState::Open => "bad",
        AlertState::Resolved => "muted",
    };
    format!(
        "<span class=\"{class}\">{} {}</span> {} on v{}<br><span class=\"muted\">{}</span>",
        alert.severity.as_str(),
        alert.state.as_str(),
        Esc(&alert.rule),
        alert.version,
        layout::time(alert.updated_time)
    )
}

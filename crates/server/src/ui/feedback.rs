//! Page 5, `/ui/feedback` and `/ui/feedback/{id}`: what monitoring sent back to research —
//! each item's alerts and their evidence windows, the export to download, the webhook
//! deliveries and retraining runs with their status, the version that answered it, and
//! its history.

use std::fmt::Write as _;

use axum::extract::State;
use axum::response::Html;
use bascule_core::{FeedbackItem, FeedbackState, Task, TaskState};

use super::layout::{Esc, Section, Shell, empty_state, model_href, version_href, window_href};
use super::svg::truncate;
use super::{PageResult, UiPath, layout};
use crate::AppState;

const ITEMS_SHOWN: i64 = 200;

/// `/ui/feedback/{id}`.
pub fn feedback_href(id: i64) -> String {
    format!("/ui/feedback/{id}")
}

pub async fn feedback_list_page(State(state): State<AppState>) -> PageResult {
    let items = state
        .registry
        .list_feedback(None, None, ITEMS_SHOWN)
        .await?;
    let mut body = String::new();
    if items.is_empty() {
        empty_state(
            &mut body,
            "No feedback yet.",
            "An alert on a deployed version opens a feedback item here, with an export of its production traffic. Configure webhooks and a retraining command under <code>[feedback]</code> in the server's configuration file (docs/feedback.md).",
        );
        return Ok(Html(
            Shell::new("Feedback", Section::Feedback).render(&body),
        ));
    }
    let active = items.iter().filter(|i| i.state.is_active()).count();
    let _ = writeln!(
        body,
        "<p class=\"muted\">{} item{}, {active} active. An alert opens an item for its version; the retraining it triggers answers it with a new version that must beat its parent at the gate.</p>",
        items.len(),
        if items.len() == 1 { "" } else { "s" }
    );
    items_table(&mut body, &items);
    Ok(Html(
        Shell::new("Feedback", Section::Feedback).render(&body),
    ))
}

/// A table of items (the feedback page, and a model's page).
pub fn items_table(out: &mut String, items: &[FeedbackItem]) {
    out.push_str("<table>\n<thead><tr><th>item</th><th>model</th><th>state</th><th>what was found</th><th class=\"num\">alerts</th><th>export</th><th>answered by</th><th>opened</th></tr></thead>\n<tbody>\n");
    for item in items {
        let _ = writeln!(
            out,
            "<tr><td><a href=\"{}\"><strong>#{}</strong></a></td><td><a href=\"{}\">{}</a> v{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            Esc(&feedback_href(item.id)),
            item.id,
            Esc(&model_href(&item.name)),
            Esc(&item.name),
            item.version,
            state_badge(item.state),
            Esc(&truncate(&item.summary, 140)),
            item.alert_ids.len(),
            item.export.as_ref().map_or_else(
                || "<span class=\"muted\">waiting for labels</span>".to_owned(),
                |e| format!("{} rows ({} labelled)", e.rows, e.labelled)
            ),
            answer(item),
            layout::time(item.opened_time)
        );
    }
    out.push_str("</tbody>\n</table>\n");
}

pub async fn feedback_page(State(state): State<AppState>, UiPath(id): UiPath<i64>) -> PageResult {
    let detail = state.registry.feedback(id).await?;
    let item = &detail.item;
    let mut body = String::new();
    let _ = writeln!(
        body,
        "<div class=\"kpis\"><div class=\"kpi\"><span>model</span><b><a href=\"{}\">{}</a> v{}</b></div><div class=\"kpi\"><span>state</span><b>{}</b></div><div class=\"kpi\"><span>answered by</span><b>{}</b></div><div class=\"kpi\"><span>opened</span><b>{}</b></div></div>",
        Esc(&model_href(&item.name)),
        Esc(&item.name),
        item.version,
        state_badge(item.state),
        answer(item),
        layout::time(item.opened_time)
    );
    let _ = writeln!(body, "<p>{}</p>", Esc(&item.summary));

    body.push_str("<h2 id=\"alerts\">Alerts and their evidence</h2>\n<table>\n<thead><tr><th>alert</th><th>rule</th><th>severity</th><th>state</th><th>message</th><th>evidence</th></tr></thead>\n<tbody>\n");
    for alert in &detail.alerts {
        let _ = writeln!(
            body,
            "<tr><td>#{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><a href=\"{}\">window #{}</a></td></tr>",
            alert.id,
            Esc(&alert.rule),
            alert.severity.as_str(),
            alert.state.as_str(),
            Esc(&alert.message),
            Esc(&window_href(&alert.name, alert.window_id)),
            alert.window_id
        );
    }
    body.push_str("</tbody>\n</table>\n");

    body.push_str("<h2 id=\"export\">Exported production traffic</h2>\n");
    match &item.export {
        Some(export) => {
            let _ = writeln!(
                body,
                "<p>{} rows ({} with a ground-truth label) from predictions {}..{}, exported {}: <a href=\"/api/v1/feedback/{id}/export.csv\" download>CSV ({} bytes)</a> · <a href=\"/api/v1/feedback/{id}/export.parquet\" download>Parquet ({} bytes)</a></p>\n<p class=\"muted\">columns: {}</p>",
                export.rows,
                export.labelled,
                export.first_prediction,
                export.last_prediction,
                layout::time(export.created_time),
                export.csv_size,
                export.parquet_size,
                Esc(&export.columns.join(", "))
            );
        }
        None => empty_state(
            &mut body,
            "Not exported yet.",
            "The export waits until the version has enough labelled predictions (<code>export_min_labels</code>); post labels with <code>bascule labels</code>.",
        ),
    }

    body.push_str("<h2 id=\"tasks\">Webhook deliveries and retraining runs</h2>\n");
    if detail.tasks.is_empty() {
        empty_state(
            &mut body,
            "No triggers ran.",
            "Configure <code>[[feedback.webhooks]]</code> or <code>[feedback.retrain]</code> in the server's configuration file.",
        );
    } else {
        tasks_table(&mut body, &detail.tasks);
    }

    body.push_str("<h2 id=\"history\">History</h2>\n<table>\n<thead><tr><th>time</th><th>step</th><th>by</th><th>what happened</th></tr></thead>\n<tbody>\n");
    for note in &detail.notes {
        let _ = writeln!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            layout::time(note.time),
            Esc(&note.kind),
            Esc(&note.actor),
            Esc(&note.message)
        );
    }
    body.push_str("</tbody>\n</table>\n");
    let title = format!("Feedback #{id}");
    let page = Shell::new(&title, Section::Feedback)
        .crumb("Feedback", "/ui/feedback")
        .render(&body);
    Ok(Html(page))
}

fn tasks_table(out: &mut String, tasks: &[Task]) {
    out.push_str("<table>\n<thead><tr><th>task</th><th>kind</th><th>target</th><th>event</th><th>state</th><th class=\"num\">attempts</th><th>last status</th><th>last error</th><th>output</th></tr></thead>\n<tbody>\n");
    for task in tasks {
        let state = match task.state {
            TaskState::Done => "<span class=\"ok\">done</span>",
            TaskState::Failed => "<span class=\"bad\">failed</span>",
            TaskState::Running => "running",
            TaskState::Pending => "pending",
        };
        let _ = writeln!(
            out,
            "<tr><td>#{}</td><td>{}</td><td>{}</td><td>{}</td><td>{state}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            task.id,
            task.kind.as_str(),
            Esc(&truncate(&task.target, 40)),
            Esc(&task.event),
            task.attempts,
            task.last_status
                .map_or_else(|| "–".to_owned(), |s| s.to_string()),
            Esc(task.last_error.as_deref().unwrap_or("")),
            task.output
                .as_deref()
                .filter(|o| !o.trim().is_empty())
                .map_or_else(String::new, |o| format!(
                    "<details><summary>{} lines</summary><pre>{}</pre></details>",
                    o.lines().count(),
                    Esc(o)
                ))
        );
    }
    out.push_str("</tbody>\n</table>\n");
}

fn answer(item: &FeedbackItem) -> String {
    match (item.answered_by, item.candidate_version) {
        (Some(version), _) => format!(
            "<a href=\"{}\">v{version}</a>",
            Esc(&version_href(&item.name, version))
        ),
        (None, Some(candidate)) => format!(
            "<span class=\"muted\">candidate <a href=\"{}\">v{candidate}</a></span>",
            Esc(&version_href(&item.name, candidate))
        ),
        (None, None) => "<span class=\"muted\">–</span>".to_owned(),
    }
}

fn state_badge(state: FeedbackState) -> String {
    let class = match state {
        FeedbackState::Open => "bad",
        FeedbackState::Acknowledged => "",
        FeedbackState::Answered | FeedbackState::Resolved => "ok",
    };
    format!("<span class=\"{class}\">{}</span>", state.as_str())
}

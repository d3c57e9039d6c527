//! Page 6, tracking: `/ui/experiments` (every experiment), `/ui/experiments/{id}` (its
//! runs with their params and latest metrics) and `/ui/runs/{id}` (a run's params,
//! metrics, metric curves over steps, tags and artifacts).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use axum::extract::State;
use axum::response::Html;
use bascule_core::{Run, ViewType};
use bascule_lifecycle::artifact_tree_path;

use super::layout::{self, Esc, Section, Seg, Shell, empty_state, number};
use super::svg::{LineChart, Series};
use super::{PageResult, UiError, UiPath};
use crate::AppState;

/// Columns of params and metrics in the runs table before the rest are left to the run
/// page.
const MAX_COLUMNS: usize = 8;
/// Metric curves drawn on a run page.
const MAX_CURVES: usize = 12;

fn experiment_href(id: i64) -> String {
    format!("/ui/experiments/{id}")
}

fn run_href(run_id: &str) -> String {
    format!("/ui/runs/{}", Seg(run_id))
}

pub async fn experiments_page(State(state): State<AppState>) -> PageResult {
    let store = state.registry.store();
    let experiments = store.list_experiments(ViewType::ActiveOnly).await?;
    let mut body = String::new();
    let mut table = String::new();
    let mut n_runs = 0;
    if !experiments.is_empty() {
        table.push_str("<table><thead><tr><th>experiment</th><th class=\"num\">id</th><th class=\"num\">runs</th><th>last run</th><th>created</th></tr></thead><tbody>\n");
        for experiment in &experiments {
            let runs = store
                .list_runs(experiment.experiment_id, ViewType::ActiveOnly)
                .await?;
            n_runs += runs.len();
            let last = runs.iter().map(|r| r.start_time).max();
            let _ = writeln!(
                table,
                "<tr><td><a href=\"{}\">{}</a></td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
                experiment_href(experiment.experiment_id),
                Esc(&experiment.name),
                experiment.experiment_id,
                runs.len(),
                last.map_or_else(|| "–".to_owned(), layout::time),
                layout::time(experiment.creation_time)
            );
        }
        table.push_str("</tbody></table>\n");
    }
    // MLflow's Default experiment always exists: "empty" means no run anywhere.
    if n_runs == 0 {
        empty_state(
            &mut body,
            "No runs yet.",
            "Point the <code>mlflow</code> client at this server (<code>MLFLOW_TRACKING_URI=http://127.0.0.1:8080</code>) and log a run: its params, metrics, metric curves and artifacts show here.",
        );
    }
    body.push_str(&table);
    Ok(Html(
        Shell::new("Experiments", Section::Experiments).render(&body),
    ))
}

pub async fn experiment_page(
    State(state): State<AppState>,
    UiPath(id): UiPath<String>,
) -> PageResult {
    let experiment_id = id
        .parse::<i64>()
        .map_err(|_| UiError::not_found(format!("no experiment '{id}'")))?;
    let store = state.registry.store();
    let experiment = store.get_experiment(experiment_id).await?;
    let mut runs = store.list_runs(experiment_id, ViewType::ActiveOnly).await?;
    runs.sort_by_key(|r| std::cmp::Reverse(r.start_time));
    let mut body = String::new();
    if runs.is_empty() {
        empty_state(
            &mut body,
            "No runs in this experiment yet.",
            &format!(
                "Log one: <code>mlflow.set_experiment(\"{}\")</code>, then <code>with mlflow.start_run(): mlflow.log_param(…); mlflow.log_metric(…)</code>.",
                Esc(&experiment.name)
            ),
        );
    } else {
        runs_table(&mut body, &runs);
    }
    let page = Shell::new(&experiment.name, Section::Experiments)
        .crumb("Experiments", "/ui/experiments")
        .render(&body);
    Ok(Html(page))
}

fn runs_table(out: &mut String, runs: &[Run]) {
    let params: BTreeSet<&str> = runs
        .iter()
        .flat_map(|r| r.params.iter().map(|p| p.key.as_str()))
        .collect();
    let metrics: BTreeSet<&str> = runs
        .iter()
        .flat_map(|r| r.metrics.iter().map(|m| m.key.as_str()))
        .collect();
    let params: Vec<&str> = params.into_iter().take(MAX_COLUMNS).collect();
    let metrics: Vec<&str> = metrics.into_iter().take(MAX_COLUMNS).collect();
    let _ = write!(
        out,
        "<p class=\"muted\">{} runs, newest first.</p>\n<table><thead><tr><th>run</th><th>status</th><th>started</th><th>user</th>",
        runs.len()
    );
    for key in &params {
        let _ = write!(out, "<th>{}</th>", Esc(key));
    }
    for key in &metrics {
        let _ = write!(out, "<th class=\"num\">{}</th>", Esc(key));
    }
    out.push_str("</tr></thead><tbody>\n");
    for run in runs {
        let _ = write!(
            out,
            "<tr><td><a href=\"{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td>",
            Esc(&run_href(&run.run_id)),
            Esc(if run.run_name.is_empty() {
                &run.run_id
            } else {
                &run.run_name
            }),
            run.status.as_str(),
            layout::time(run.start_time),
            Esc(&run.user_id)
        );
        for key in &params {
            let value = run
                .params
                .iter()
                .find(|p| p.key == *key)
                .map_or("", |p| p.value.as_str());
            let _ = write!(out, "<td>{}</td>", Esc(value));
        }
        for key in &metrics {
            let value = run
                .metrics
                .iter()
                .find(|m| m.key == *key)
                .map_or_else(String::new, |m| number(m.value));
            let _ = write!(out, "<td class=\"num\">{value}</td>");
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
}

pub async fn run_page(State(state): State<AppState>, UiPath(run_id): UiPath<String>) -> PageResult {
    let store = state.registry.store();
    let run = store.get_run(&run_id).await?;
    let experiment = store.get_experiment(run.experiment_id).await?;
    let mut body = String::new();
    let duration = run
        .end_time
        .map(|end| format!("{:.1} s", (end - run.start_time) as f64 / 1000.0))
        .unwrap_or_else(|| "running".to_owned());
    let _ = writeln!(
        body,
        "<div class=\"kpis\"><div class=\"kpi\"><span>status</span><b>{}</b></div><div class=\"kpi\"><span>started</span><b>{}</b></div><div class=\"kpi\"><span>duration</span><b>{duration}</b></div><div class=\"kpi\"><span>user</span><b>{}</b></div><div class=\"kpi\"><span>run id</span><b><code>{}</code></b></div></div>",
        run.status.as_str(),
        layout::time(run.start_time),
        Esc(if run.user_id.is_empty() {
            "–"
        } else {
            &run.user_id
        }),
        Esc(&run.run_id)
    );

    body.push_str("<div class=\"grid\">\n<div>\n<h2>Parameters</h2>\n");
    key_values(
        &mut body,
        run.params.iter().map(|p| (p.key.as_str(), p.value.clone())),
        "No parameters logged.",
    );
    body.push_str("</div>\n<div>\n<h2>Metrics (latest)</h2>\n");
    key_values(
        &mut body,
        run.metrics.iter().map(|m| {
            (
                m.key.as_str(),
                format!("{} (step {})", number(m.value), m.step),
            )
        }),
        "No metrics logged.",
    );
    body.push_str("</div>\n</div>\n");

    body.push_str("<h2 id=\"curves\">Metric curves</h2>\n");
    // A metric logged at one step only is a value, not a curve: the table above has it.
    let mut curves = Vec::new();
    for metric in &run.metrics {
        if curves.len() == MAX_CURVES {
            break;
        }
        let history = store.get_metric_history(&run.run_id, &metric.key).await?;
        if history.len() >= 2 {
            curves.push((metric.key.as_str(), history));
        }
    }
    if curves.is_empty() {
        body.push_str("<p class=\"muted\">No metric was logged at more than one step (the values are in the table above).</p>\n");
    } else {
        body.push_str("<div class=\"grid\">\n");
        for (index, (key, history)) in curves.iter().enumerate() {
            let id = format!("curve-{index}");
            let title = format!("{key} over steps");
            let mut chart = LineChart::new(&id, &title, "step", key);
            chart.series.push(Series::new(
                *key,
                history.iter().map(|m| (m.step as f64, m.value)).collect(),
            ));
            body.push_str("<div>\n");
            chart.render(&mut body);
            body.push_str("</div>\n");
        }
        body.push_str("</div>\n");
        if run.metrics.len() > MAX_CURVES {
            let _ = writeln!(
                body,
                "<p class=\"muted\">Curves are drawn for the first {MAX_CURVES} metrics; all are in the table above.</p>"
            );
        }
    }

    body.push_str("<h2 id=\"artifacts\">Artifacts</h2>\n");
    let entries = match artifact_tree_path(&run.artifact_uri) {
        Some(root) => store.list_artifact_entries(&root).await?,
        None => Vec::new(),
    };
    if entries.is_empty() {
        body.push_str("<p class=\"muted\">No artifacts logged (<code>mlflow.log_artifact</code>, <code>mlflow.onnx.log_model</code>).</p>\n");
    } else {
        body.push_str(
            "<table><thead><tr><th>path</th><th class=\"num\">bytes</th></tr></thead><tbody>\n",
        );
        for entry in &entries {
            let href: Vec<String> = entry.path.split('/').map(|p| Seg(p).to_string()).collect();
            let _ = writeln!(
                body,
                "<tr><td><a href=\"/api/2.0/mlflow-artifacts/artifacts/{}\">{}</a></td><td class=\"num\">{}</td></tr>",
                href.join("/"),
                Esc(&entry.path),
                entry.size
            );
        }
        body.push_str("</tbody></table>\n");
    }

    body.push_str("<h2 id=\"tags\">Tags</h2>\n");
    key_values(
        &mut body,
        run.tags.iter().map(|t| (t.key.as_str(), t.value.clone())),
        "No tags.",
    );
    let title = if run.run_name.is_empty() {
        format!("Run {}", run.run_id)
    } else {
        format!("Run {}", run.run_name)
    };
    let page = Shell::new(&title, Section::Experiments)
        .crumb("Experiments", "/ui/experiments")
        .crumb(
            experiment.name.clone(),
            experiment_href(experiment.experiment_id),
        )
        .render(&body);
    Ok(Html(page))
}

fn key_values<'a>(out: &mut String, pairs: impl Iterator<Item = (&'a str, String)>, none: &str) {
    let mut pairs = pairs.peekable();
    if pairs.peek().is_none() {
        let _ = writeln!(out, "<p class=\"muted\">{none}</p>");
        return;
    }
    out.push_str("<table><tbody>\n");
    for (key, value) in pairs {
        let _ = writeln!(
            out,
            "<tr><th>{}</th><td>{}</td></tr>",
            Esc(key),
            Esc(&value)
        );
    }
    out.push_str("</tbody></table>\n");
}

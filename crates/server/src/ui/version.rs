//! Page 3, `/ui/models/{name}/versions/{v}`: a version's validation report (every check,
//! expected vs measured, the champion comparison with its confidence interval, slices,
//! latency, engine agreement), its signature, files and events.

use std::fmt::Write as _;

use axum::extract::State;
use axum::response::Html;
use bascule_core::{ModelVersion, TensorSpec, ValidationRecord};
use bascule_lifecycle::ENGINE_TAG;
use bascule_lifecycle::gate::report::MetricValue;
use bascule_lifecycle::gate::{CheckStatus, ValidationReport};

use super::layout::{
    self, Esc, Section, Seg, Shell, empty_state, maybe, model_href, number, stage_badge,
    version_href,
};
use super::model::event_log;
use super::{PageResult, UiError, UiPath};
use crate::AppState;

pub async fn version_page(
    State(state): State<AppState>,
    UiPath((name, version)): UiPath<(String, String)>,
) -> PageResult {
    let version_number = version
        .strip_prefix('v')
        .unwrap_or(&version)
        .parse::<i64>()
        .map_err(|_| UiError::not_found(format!("model '{name}' has no version '{version}'")))?;
    let model_version = state.registry.get_version(&name, version_number).await?;
    let validation = state
        .registry
        .validation_report(&name, version_number)
        .await?;
    let events = state.registry.events(&name, Some(version_number)).await?;

    let mut body = String::new();
    summary(&mut body, &model_version);
    body.push_str("<h2 id=\"validation\">Validation report</h2>\n");
    match &validation {
        Some((record, report)) => validation_report(&mut body, &name, record, report),
        None => empty_state(
            &mut body,
            "Not validated yet.",
            &format!(
                "Run the gate on a holdout set: <code>bascule validate {} {version_number} --data holdout.csv</code>. The report, with every check, will show here.",
                Esc(&name)
            ),
        ),
    }
    signature(&mut body, &model_version);
    files(&mut body, &model_version);
    event_log(&mut body, &name, &events);
    let title = format!("{name} v{version_number}");
    let page = Shell::new(&title, Section::Models)
        .crumb("Models", "/ui")
        .crumb(name.clone(), model_href(&name))
        .render(&body);
    Ok(Html(page))
}

fn summary(out: &mut String, version: &ModelVersion) {
    let engine = version
        .tags
        .iter()
        .find(|t| t.key == ENGINE_TAG)
        .map_or("–", |t| t.value.as_str());
    let parent = version.lineage.parent_version.map_or_else(
        || "none".to_owned(),
        |p| {
            format!(
                "<a href=\"{}\">v{p}</a>",
                Esc(&version_href(&version.name, p))
            )
        },
    );
    let run = version.run_id.as_deref().map_or_else(
        || "–".to_owned(),
        |run| format!("<a href=\"/ui/runs/{}\">{}</a>", Seg(run), Esc(run)),
    );
    let _ = writeln!(
        out,
        "<div class=\"kpis\"><div class=\"kpi\"><span>stage</span><b>{}</b></div><div class=\"kpi\"><span>engine</span><b>{}</b></div><div class=\"kpi\"><span>parent</span><b>{parent}</b></div><div class=\"kpi\"><span>registered by</span><b>{}</b>{}</div><div class=\"kpi\"><span>run</span><b>{run}</b></div></div>",
        stage_badge(version.stage),
        Esc(engine),
        Esc(&version.created_by),
        layout::time(version.creation_time),
    );
    let mut facts = Vec::new();
    if !version.description.is_empty() {
        facts.push(format!("description: {}", Esc(&version.description)));
    }
    facts.push(format!("source: <code>{}</code>", Esc(&version.source)));
    if let Some(digest) = &version.lineage.data_digest {
        facts.push(format!("training data: <code>{}</code>", Esc(digest)));
    }
    if let Some(code) = &version.lineage.code_ref {
        facts.push(format!("code: <code>{}</code>", Esc(code)));
    }
    if !version.aliases.is_empty() {
        let aliases: Vec<String> = version.aliases.iter().map(|a| Esc(a).to_string()).collect();
        facts.push(format!("aliases: {}", aliases.join(", ")));
    }
    let _ = writeln!(out, "<p class=\"muted\">{}</p>", facts.join(" · "));
}

fn validation_report(
    out: &mut String,
    name: &str,
    record: &ValidationRecord,
    report: &ValidationReport,
) {
    let judged = report
        .checks
        .iter()
        .filter(|c| c.status != CheckStatus::Reported)
        .count();
    let failed = report.failed_checks().count();
    let verdict = if report.passed {
        format!("<span class=\"ok\">PASSED</span>: {judged} judged checks passed")
    } else {
        format!("<span class=\"bad\">FAILED</span>: {failed} of {judged} judged checks failed")
    };
    let policy = report.policy_version.map_or_else(
        || "defaults (sanity checks; metrics reported)".to_owned(),
        |v| format!("version {v}"),
    );
    let _ = writeln!(
        out,
        "<div class=\"card\"><p><strong>{verdict}</strong> → {}</p><p class=\"muted\">Task {} · engine {} · policy {policy} · data {} rows, {} features, label <code>{}</code> ({}, sha256 <code>{}</code>) · run {} in {} ms · report <code>{}</code></p></div>",
        stage_badge(report.decision),
        Esc(report.task.describe()),
        Esc(&report.engine),
        report.data.rows,
        report.data.features.len(),
        Esc(&report.data.label),
        Esc(&report.data.format),
        Esc(short(&report.data.digest)),
        layout::time(record.time),
        report.duration_ms,
        Esc(short(&record.report_digest)),
    );

    out.push_str("<h3>Checks</h3>\n<table><thead><tr><th>check</th><th>result</th><th>expected</th><th>measured</th></tr></thead><tbody>\n");
    for check in &report.checks {
        let status = match check.status {
            CheckStatus::Passed => "<span class=\"ok\">pass</span>",
            CheckStatus::Failed => "<span class=\"bad\">FAIL</span>",
            CheckStatus::Reported => "<span class=\"muted\">reported</span>",
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{status}</td><td>{}</td><td>{}</td></tr>",
            Esc(&check.check),
            Esc(check.expected.as_deref().unwrap_or("–")),
            Esc(&check.measured)
        );
    }
    out.push_str("</tbody></table>\n");

    out.push_str("<h3>Metrics on the holdout set</h3>\n");
    metric_table(out, &report.metrics);

    out.push_str("<h3>Champion comparison</h3>\n");
    match &report.champion {
        None => out.push_str("<p class=\"muted\">No champion was compared: nothing was live when this version was validated, or the policy asks for no comparison.</p>\n"),
        Some(champion) => {
            let _ = writeln!(
                out,
                "<p>Against the champion <a href=\"{}\">v{}</a> ({}), on the same rows. The interval is the seeded paired bootstrap's interval of candidate − champion; it excludes 0 when the difference is unlikely to be chance.</p>",
                Esc(&version_href(name, champion.version)),
                champion.version,
                champion.stage.as_str()
            );
            out.push_str("<table><thead><tr><th>metric</th><th class=\"num\">champion</th><th class=\"num\">candidate</th><th class=\"num\">difference</th><th>confidence interval</th><th class=\"num\">resamples</th></tr></thead><tbody>\n");
            for c in &champion.comparisons {
                let difference = c.candidate - c.champion;
                let class = if c.difference_low > 0.0 {
                    "ok"
                } else if c.difference_high < 0.0 {
                    "bad"
                } else {
                    "muted"
                };
                let _ = writeln!(
                    out,
                    "<tr><td>{}</td><td class=\"num\">{:.4}</td><td class=\"num\">{:.4}</td><td class=\"num {class}\">{difference:+.4}</td><td>[{:+.4}, {:+.4}] at {:.0}%</td><td class=\"num\">{}</td></tr>",
                    Esc(&c.metric),
                    c.champion,
                    c.candidate,
                    c.difference_low,
                    c.difference_high,
                    c.confidence * 100.0,
                    c.resamples_used
                );
            }
            out.push_str("</tbody></table>\n");
            if let Some(m) = &champion.mcnemar {
                let _ = writeln!(
                    out,
                    "<p>McNemar: the candidate alone is right on {} rows, the champion alone on {}; p = {}.</p>",
                    m.candidate_only_right,
                    m.champion_only_right,
                    number(m.pvalue)
                );
            }
        }
    }

    out.push_str("<h3>Slices</h3>\n");
    if report.slices.is_empty() {
        out.push_str(
            "<p class=\"muted\">No slices: the policy names none (<code>[[slices]]</code>).</p>\n",
        );
    } else {
        let names: Vec<&str> = report.slices[0]
            .metrics
            .iter()
            .map(|m| m.name.as_str())
            .collect();
        out.push_str("<table><thead><tr><th>column</th><th>slice</th><th class=\"num\">rows</th><th>judged</th>");
        for metric in &names {
            let _ = write!(out, "<th class=\"num\">{}</th>", Esc(metric));
        }
        out.push_str("</tr></thead><tbody>\n");
        for slice in &report.slices {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td>",
                Esc(&slice.column),
                Esc(&slice.slice),
                slice.rows,
                if slice.judged { "yes" } else { "too small" }
            );
            for metric in &slice.metrics {
                let _ = write!(out, "<td class=\"num\">{}</td>", maybe(metric.value));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody></table>\n");
    }

    if let Some(latency) = &report.latency {
        let _ = writeln!(
            out,
            "<h3>Latency</h3>\n<table><thead><tr><th>batch</th><th class=\"num\">p50 ms</th><th class=\"num\">p99 ms</th></tr></thead><tbody><tr><td>1 row</td><td class=\"num\">{:.3}</td><td class=\"num\">{:.3}</td></tr><tr><td>{} rows</td><td class=\"num\">{:.3}</td><td class=\"num\">{:.3}</td></tr></tbody></table><p class=\"muted\">{} runs each.</p>",
            latency.single_p50_ms,
            latency.single_p99_ms,
            latency.batch_size,
            latency.batch_p50_ms,
            latency.batch_p99_ms,
            latency.runs
        );
    }
    if !report.agreement.is_empty() {
        out.push_str("<h3>Engine agreement</h3>\n<table><thead><tr><th>engine</th><th>agrees</th><th class=\"num\">tolerance</th><th>outputs</th></tr></thead><tbody>\n");
        for agreement in &report.agreement {
            let outputs: Vec<String> = agreement
                .outputs
                .iter()
                .map(|o| {
                    format!(
                        "{}: max difference {}, {} mismatches",
                        Esc(&o.name),
                        number(o.max_difference),
                        o.mismatches
                    )
                })
                .chain(agreement.error.iter().map(|e| Esc(e).to_string()))
                .collect();
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
                Esc(&agreement.engine),
                if agreement.agrees {
                    "<span class=\"ok\">yes</span>"
                } else {
                    "<span class=\"bad\">no</span>"
                },
                number(agreement.tolerance),
                outputs.join("<br>")
            );
        }
        out.push_str("</tbody></table>\n");
    }
}

fn metric_table(out: &mut String, metrics: &[MetricValue]) {
    out.push_str("<table><thead><tr><th>metric</th><th class=\"num\">value</th><th>note</th></tr></thead><tbody>\n");
    for metric in metrics {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"muted\">{}</td></tr>",
            Esc(&metric.name),
            maybe(metric.value),
            Esc(metric.note.as_deref().unwrap_or(""))
        );
    }
    out.push_str("</tbody></table>\n");
}

fn signature(out: &mut String, version: &ModelVersion) {
    out.push_str("<h2 id=\"signature\">Signature</h2>\n");
    let Some(signature) = &version.signature else {
        out.push_str("<p class=\"muted\">No signature: the version is not an ONNX model Bascule can serve.</p>\n");
        return;
    };
    out.push_str("<div class=\"grid\">\n");
    for (title, specs) in [
        ("Inputs", &signature.inputs),
        ("Outputs", &signature.outputs),
    ] {
        let _ = write!(
            out,
            "<div><h3>{title}</h3><table><thead><tr><th>name</th><th>type</th><th>shape</th></tr></thead><tbody>"
        );
        for spec in specs {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                Esc(&spec.name),
                spec.datatype.as_str(),
                shape(spec)
            );
        }
        out.push_str("</tbody></table></div>\n");
    }
    out.push_str("</div>\n");
}

/// `[-1, 8]` as `[batch, 8]`.
fn shape(spec: &TensorSpec) -> String {
    let dims: Vec<String> = spec
        .shape
        .iter()
        .map(|&d| {
            if d < 0 {
                "batch".to_owned()
            } else {
                d.to_string()
            }
        })
        .collect();
    format!("[{}]", dims.join(", "))
}

fn files(out: &mut String, version: &ModelVersion) {
    if version.files.is_empty() {
        return;
    }
    out.push_str("<h2 id=\"files\">Files</h2>\n<table><thead><tr><th>path</th><th class=\"num\">bytes</th><th>sha256</th></tr></thead><tbody>\n");
    for file in &version.files {
        let path: Vec<String> = file.path.split('/').map(|p| Seg(p).to_string()).collect();
        let _ = writeln!(
            out,
            "<tr><td><a href=\"/api/v1/models/{}/versions/{}/files/{}\">{}</a></td><td class=\"num\">{}</td><td><code>{}</code></td></tr>",
            Seg(&version.name),
            version.version,
            path.join("/"),
            Esc(&file.path),
            file.size,
            Esc(short(&file.digest))
        );
    }
    out.push_str("</tbody></table>\n");
}

fn short(digest: &str) -> &str {
    digest.get(..12).unwrap_or(digest)
}

//! The alert rules applied to each window's report. A rule that cannot judge a window
//! (no drift reference, too few labels, no latency) does not fire, and so resolves an
//! alert it opened earlier only when it can judge again and the condition cleared.

use bascule_core::{RuleOutcome, Severity};

use super::WindowReport;
use super::policy::AlertRules;
use crate::gate::policy::Task;

/// Every rule's outcome on one window. Rules that cannot judge are left out, so that
/// their open alerts stay open until a window can judge them.
pub fn evaluate(rules: &AlertRules, task: Task, report: &WindowReport) -> Vec<RuleOutcome> {
    let mut outcomes = Vec::new();
    if let Some(drift) = &report.drift {
        let drifted = drift.drifted_features();
        if rules.is_on("drift_share")
            && let Some(share) = drift.drift_share()
        {
            outcomes.push(RuleOutcome {
                rule: "drift_share".to_owned(),
                severity: Severity::Critical,
                firing: share >= rules.drift_share,
                message: format!(
                    "{:.0}% of the features drifted ({}); the rule fires at {:.0}%",
                    share * 100.0,
                    list_or_none(&drifted),
                    rules.drift_share * 100.0
                ),
                value: Some(share),
                threshold: Some(rules.drift_share),
            });
        }
        if rules.is_on("feature_drift") {
            let watched: Vec<&String> = drifted
                .iter()
                .filter(|f| rules.feature_drift.is_empty() || rules.feature_drift.contains(f))
                .collect();
            outcomes.push(RuleOutcome {
                rule: "feature_drift".to_owned(),
                severity: Severity::Warning,
                firing: !watched.is_empty(),
                message: if watched.is_empty() {
                    "no watched feature drifted".to_owned()
                } else {
                    format!(
                        "drifted: {}",
                        watched
                            .iter()
                            .map(|f| drift.describe_feature(f))
                            .collect::<Vec<_>>()
                            .join("; ")
                    )
                },
                value: Some(watched.len() as f64),
                threshold: Some(1.0),
            });
        }
    }
    if rules.is_on("metric_drop")
        && let Some(performance) = &report.performance
        && performance.labelled as u64 >= rules.min_labels
    {
        for (metric, tolerance) in rules.watched_metrics(task) {
            let Some(live) = performance
                .metrics
                .iter()
                .find(|m| m.name == metric.as_str())
            else {
                continue;
            };
            let (Some(value), Some(validation), Some(worsening)) =
                (live.value, live.validation, live.worsening)
            else {
                continue;
            };
            let direction = if metric.higher_is_better() {
                "dropped"
            } else {
                "rose"
            };
            outcomes.push(RuleOutcome {
                rule: format!("metric_drop:{}", metric.as_str()),
                severity: Severity::Critical,
                firing: worsening >= tolerance,
                message: format!(
                    "{} {direction} from {validation:.4} at validation to {value:.4} on {} \
                     labelled predictions (by {worsening:.4}; tolerated {tolerance})",
                    metric.as_str(),
                    performance.labelled
                ),
                value: Some(worsening),
                threshold: Some(tolerance),
            });
        }
    }
    if rules.is_on("latency_p99")
        && let (Some(budget), Some(latency)) = (rules.latency_p99_ms, &report.health.latency_ms)
    {
        outcomes.push(RuleOutcome {
            rule: "latency_p99".to_owned(),
            severity: Severity::Warning,
            firing: latency.p99 > budget,
            message: format!(
                "p99 model latency {:.3} ms over {} predictions; budget {budget} ms",
                latency.p99, report.health.predictions
            ),
            value: Some(latency.p99),
            threshold: Some(budget),
        });
    }
    if rules.is_on("error_rate") && report.health.predictions > 0 {
        outcomes.push(RuleOutcome {
            rule: "error_rate".to_owned(),
            severity: Severity::Critical,
            firing: report.health.error_rate >= rules.error_rate,
            message: format!(
                "{} of {} predictions failed ({:.2}%); the rule fires at {:.2}%",
                report.health.errors,
                report.health.predictions,
                report.health.error_rate * 100.0,
                rules.error_rate * 100.0
            ),
            value: Some(report.health.error_rate),
            threshold: Some(rules.error_rate),
        });
    }
    outcomes
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

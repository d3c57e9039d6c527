//! The gate's checks. Each returns `CheckResult`s that say what was expected and what
//! was measured; none of them decides the transition (the gate does, from the results).

pub mod agreement;
pub mod champion;
pub mod latency;
pub mod sanity;
pub mod slices;

use std::collections::BTreeMap;

use super::metrics::{Evaluation, MetricName};
use super::report::{CheckResult, MetricValue};

/// Every metric of the task on `evaluation`, undefined ones with their reason.
pub fn metric_values(evaluation: &Evaluation, metrics: &[MetricName]) -> Vec<MetricValue> {
    metrics
        .iter()
        .map(|&metric| match evaluation.metric(metric) {
            Ok(value) => MetricValue {
                name: metric.as_str().to_owned(),
                value: Some(value),
                note: None,
            },
            Err(error) => MetricValue {
                name: metric.as_str().to_owned(),
                value: None,
                note: Some(error.to_string()),
            },
        })
        .collect()
}

/// Judges `values` against `thresholds` (names already checked by the policy parser).
pub fn threshold_checks(
    place: &str,
    values: &[MetricValue],
    thresholds: &BTreeMap<String, f64>,
) -> Vec<CheckResult> {
    let mut checks = Vec::new();
    for (name, &threshold) in thresholds {
        let Some(metric) = MetricName::parse(name) else {
            continue;
        };
        let expected = if metric.higher_is_better() {
            format!("{name} ≥ {threshold}")
        } else {
            format!("{name} ≤ {threshold}")
        };
        let measured = values.iter().find(|v| v.name == *name);
        let check = format!("{place}{name}");
        match measured.and_then(|m| m.value) {
            Some(value) => {
                let passed = if metric.higher_is_better() {
                    value >= threshold
                } else {
                    value <= threshold
                };
                checks.push(CheckResult::judged(
                    check,
                    passed,
                    expected,
                    format!("{value:.6}"),
                ));
            }
            None => {
                let why = measured
                    .and_then(|m| m.note.clone())
                    .unwrap_or_else(|| "not computed for this task".to_owned());
                checks.push(CheckResult::judged(
                    check,
                    false,
                    expected,
                    format!("undefined ({why})"),
                ));
            }
        }
    }
    checks
}

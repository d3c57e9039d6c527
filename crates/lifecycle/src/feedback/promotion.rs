//! How a version that beat its parent reaches production: by hand (`bascule deploy`), or
//! automatically — as a canary taking a share of the traffic, promoted once enough canary
//! windows show it no worse than the live version over the same period, rolled back as
//! soon as they show it worse.
//!
//! The rule (windowed comparison, decided when the canary has closed `windows` windows):
//! the canary's windows are pooled, and so are the live version's windows that closed
//! while the canary served. The canary is rolled back if
//! - its error rate exceeds the live error rate by more than `max_error_rate_increase`, or
//! - its model p99 latency exceeds `max_latency_ratio` × the live p99 and the live p99 by
//!   more than `min_latency_increase_ms` (sub-millisecond noise is not a regression), or
//! - with at least `min_labels` labelled predictions on both sides, its `metric` is worse
//!   than the live one by more than `max_metric_drop`;
//!
//! otherwise it is promoted. Until both sides have `min_labels` labels the decision waits,
//! at most `max_windows` canary windows; then it is taken on errors and latency alone and
//! says so.

use crate::monitoring::{Health, LatencyMs};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromotionMode {
    /// A person deploys the Improved version.
    #[default]
    Manual,
    /// Canary, then promote or roll back by the rule above.
    Auto,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromotionPolicy {
    #[serde(default)]
    pub mode: PromotionMode,
    /// The canary's share of the traffic, in percent (default 25).
    #[serde(default = "default_canary_percent")]
    pub canary_percent: u8,
    /// Canary windows judged together (default 2).
    #[serde(default = "default_windows")]
    pub windows: usize,
    /// The most canary windows to wait for labels before judging without them (default 6).
    #[serde(default = "default_max_windows")]
    pub max_windows: usize,
    /// The compared metric; the policy's primary metric when absent.
    #[serde(default)]
    pub metric: Option<String>,
    /// How much worse (in the metric's units) the canary may be (default 0.02).
    #[serde(default = "default_metric_drop")]
    pub max_metric_drop: f64,
    /// Labelled predictions needed on each side to compare the metric (default 100).
    #[serde(default = "default_min_labels")]
    pub min_labels: usize,
    /// The canary's p99 may be at most this many times the live p99 (default 1.5).
    #[serde(default = "default_latency_ratio")]
    pub max_latency_ratio: f64,
    /// …unless the difference is below this many milliseconds (default 1).
    #[serde(default = "default_latency_increase")]
    pub min_latency_increase_ms: f64,
    /// The canary's error rate may exceed the live one by at most this (default 0.01).
    #[serde(default = "default_error_increase")]
    pub max_error_rate_increase: f64,
}

impl Default for PromotionPolicy {
    fn default() -> Self {
        PromotionPolicy {
            mode: PromotionMode::Manual,
            canary_percent: default_canary_percent(),
            windows: default_windows(),
            max_windows: default_max_windows(),
            metric: None,
            max_metric_drop: default_metric_drop(),
            min_labels: default_min_labels(),
            max_latency_ratio: default_latency_ratio(),
            min_latency_increase_ms: default_latency_increase(),
            max_error_rate_increase: default_error_increase(),
        }
    }
}

fn default_canary_percent() -> u8 {
    25
}
fn default_windows() -> usize {
    2
}
fn default_max_windows() -> usize {
    6
}
fn default_metric_drop() -> f64 {
    0.02
}
fn default_min_labels() -> usize {
    100
}
fn default_latency_ratio() -> f64 {
    1.5
}
fn default_latency_increase() -> f64 {
    1.0
}
fn default_error_increase() -> f64 {
    0.01
}

impl PromotionPolicy {
    pub(crate) fn check(&self, problems: &mut Vec<String>) {
        if !(1..=99).contains(&self.canary_percent) {
            problems.push("promotion.canary_percent: must lie between 1 and 99".to_owned());
        }
        if self.windows == 0 || self.max_windows < self.windows {
            problems.push("promotion: windows must be ≥ 1 and max_windows ≥ windows".to_owned());
        }
        if !(self.max_metric_drop.is_finite() && self.max_metric_drop >= 0.0) {
            problems.push("promotion.max_metric_drop: must be ≥ 0".to_owned());
        }
        if !(self.max_latency_ratio.is_finite() && self.max_latency_ratio >= 1.0) {
            problems.push("promotion.max_latency_ratio: must be ≥ 1".to_owned());
        }
        if !(self.min_latency_increase_ms.is_finite() && self.min_latency_increase_ms >= 0.0) {
            problems.push("promotion.min_latency_increase_ms: must be ≥ 0".to_owned());
        }
        if !(self.max_error_rate_increase.is_finite() && self.max_error_rate_increase >= 0.0) {
            problems.push("promotion.max_error_rate_increase: must be ≥ 0".to_owned());
        }
    }
}

/// One side of the comparison: pooled windows of one version.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Side {
    pub version: i64,
    pub windows: usize,
    pub health: Health,
    /// The compared metric on the side's labelled predictions, and how many there were.
    pub metric: Option<f64>,
    pub labelled: usize,
}

/// What the rule decided.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    Wait { reason: String },
    Promote { reason: String },
    Rollback { reason: String },
}

/// Applies the rule to the pooled canary and live windows.
pub fn decide(
    policy: &PromotionPolicy,
    metric: &str,
    higher_is_better: bool,
    canary: &Side,
    live: &Side,
) -> Decision {
    if canary.windows < policy.windows {
        return Decision::Wait {
            reason: format!(
                "{} of {} canary windows closed",
                canary.windows, policy.windows
            ),
        };
    }
    let error_increase = canary.health.error_rate - live.health.error_rate;
    if error_increase > policy.max_error_rate_increase {
        return Decision::Rollback {
            reason: format!(
                "canary error rate {:.4} vs live {:.4} (allowed increase {})",
                canary.health.error_rate, live.health.error_rate, policy.max_error_rate_increase
            ),
        };
    }
    if let (Some(canary_p99), Some(live_p99)) =
        (p99(&canary.health.latency_ms), p99(&live.health.latency_ms))
        && live_p99 > 0.0
        && canary_p99 > policy.max_latency_ratio * live_p99
        && canary_p99 - live_p99 > policy.min_latency_increase_ms
    {
        return Decision::Rollback {
            reason: format!(
                "canary p99 {canary_p99:.3} ms vs live {live_p99:.3} ms (allowed ×{} or +{} ms)",
                policy.max_latency_ratio, policy.min_latency_increase_ms
            ),
        };
    }
    let labelled = canary.labelled >= policy.min_labels && live.labelled >= policy.min_labels;
    match (labelled, canary.metric, live.metric) {
        (true, Some(canary_value), Some(live_value)) => {
            let worse_by = if higher_is_better {
                live_value - canary_value
            } else {
                canary_value - live_value
            };
            let figures = format!(
                "{metric}: canary {canary_value:.4} on {} labels vs live {live_value:.4} on {} labels",
                canary.labelled, live.labelled
            );
            if worse_by > policy.max_metric_drop {
                Decision::Rollback {
                    reason: format!(
                        "{figures} (worse by {worse_by:.4} > {})",
                        policy.max_metric_drop
                    ),
                }
            } else {
                Decision::Promote {
                    reason: format!(
                        "{figures}; errors {:.4} vs {:.4}; no regression over {} canary windows",
                        canary.health.error_rate, live.health.error_rate, canary.windows
                    ),
                }
            }
        }
        _ if canary.windows < policy.max_windows => Decision::Wait {
            reason: format!(
                "waiting for labels: canary {} and live {} labelled predictions, {} needed on each side",
                canary.labelled, live.labelled, policy.min_labels
            ),
        },
        _ => Decision::Promote {
            reason: format!(
                "no regression in errors ({:.4} vs {:.4}) or latency over {} canary windows; \
                 {metric} not compared: canary {} and live {} labelled predictions, {} needed",
                canary.health.error_rate,
                live.health.error_rate,
                canary.windows,
                canary.labelled,
                live.labelled,
                policy.min_labels
            ),
        },
    }
}

fn p99(latency: &Option<LatencyMs>) -> Option<f64> {
    latency.as_ref().map(|l| l.p99)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side(
        version: i64,
        windows: usize,
        error_rate: f64,
        p99: f64,
        metric: f64,
        labelled: usize,
    ) -> Side {
        Side {
            version,
            windows,
            health: Health {
                predictions: 500,
                rows: 500,
                errors: (error_rate * 500.0) as usize,
                error_rate,
                latency_ms: Some(LatencyMs {
                    p50: p99 / 2.0,
                    p90: p99 * 0.9,
                    p99,
                    max: p99 * 1.1,
                }),
            },
            metric: Some(metric),
            labelled,
        }
    }

    fn decision(canary: &Side, live: &Side) -> Decision {
        decide(&PromotionPolicy::default(), "roc_auc", true, canary, live)
    }

    fn is_rollback(decision: &Decision, mentions: &str) -> bool {
        matches!(decision, Decision::Rollback { reason } if reason.contains(mentions))
    }

    #[test]
    fn a_canary_no_worse_than_live_is_promoted_once_its_windows_closed() {
        let live = side(1, 4, 0.0, 2.0, 0.80, 900);
        assert!(matches!(
            decision(&side(2, 1, 0.0, 2.0, 0.85, 300), &live),
            Decision::Wait { .. }
        ));
        // Worse, but within the tolerated drop (0.02): promoted.
        assert!(matches!(
            decision(&side(2, 2, 0.0, 2.0, 0.79, 300), &live),
            Decision::Promote { .. }
        ));
    }

    #[test]
    fn a_regressing_canary_is_rolled_back_and_the_reason_names_the_figures() {
        let live = side(1, 4, 0.0, 2.0, 0.80, 900);
        assert!(is_rollback(
            &decision(&side(2, 2, 0.0, 2.0, 0.70, 300), &live),
            "roc_auc: canary 0.7000 on 300 labels vs live 0.8000"
        ));
        assert!(is_rollback(
            &decision(&side(2, 2, 0.05, 2.0, 0.85, 300), &live),
            "canary error rate 0.0500"
        ));
        assert!(is_rollback(
            &decision(&side(2, 2, 0.0, 4.0, 0.85, 300), &live),
            "canary p99 4.000 ms"
        ));
        // Twice as slow, but by less than a millisecond: noise, not a regression.
        assert!(matches!(
            decision(
                &side(2, 2, 0.0, 0.2, 0.85, 300),
                &side(1, 4, 0.0, 0.1, 0.8, 900)
            ),
            Decision::Promote { .. }
        ));
        // For a loss, higher is worse.
        let policy = PromotionPolicy::default();
        let worse = decide(
            &policy,
            "rmse",
            false,
            &side(2, 2, 0.0, 2.0, 12.0, 300),
            &side(1, 4, 0.0, 2.0, 10.0, 900),
        );
        assert!(matches!(worse, Decision::Rollback { .. }));
    }

    #[test]
    fn without_labels_the_decision_waits_then_goes_on_errors_and_latency_alone() {
        let live = side(1, 4, 0.0, 2.0, 0.80, 900);
        let unlabelled = |windows| side(2, windows, 0.0, 2.0, 0.10, 20);
        assert!(
            matches!(decision(&unlabelled(2), &live), Decision::Wait { reason } if reason.contains("waiting for labels"))
        );
        assert!(matches!(
            decision(&unlabelled(6), &live),
            Decision::Promote { reason } if reason.contains("not compared")
        ));
    }
}

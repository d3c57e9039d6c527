//! The `[monitoring]` section of a model's policy: how windows close and which alert
//! rules judge them. Every field is optional; the defaults are in `docs/monitoring.md`.
//!
//! ```toml
//! [monitoring]
//! window = 1000            # predictions per window
//! window_seconds = 3600    # or: close a window once its first prediction is this old
//! window_interval_seconds = 10   # start windows at least this far apart (0: back to back)
//!
//! [monitoring.drift]      # bascule-monitor's settings (docs/monitoring.md)
//! alpha = 0.05
//! correction = "benjamini_hochberg"
//! features = { "dew point" = { test = "psi", threshold = 0.2 } }
//!
//! [monitoring.alerts]
//! drift_share = 0.3        # share of drifted features (critical)
//! feature_drift = ["dew point"]   # any of these drifted (warning); [] = any feature
//! metric_drop = { roc_auc = 0.05 } # drop against the validation figure (critical)
//! latency_p99_ms = 50.0    # model latency budget (warning; off unless set)
//! error_rate = 0.01        # failed predictions (critical)
//! off = ["feature_drift"]  # rules turned off
//! ```

use std::collections::BTreeMap;

use bascule_monitor::DriftConfig;

use crate::gate::metrics::MetricName;
use crate::gate::policy::Task;

/// Predictions per window when the policy does not say.
pub const DEFAULT_WINDOW: u64 = 1000;

/// Seconds between window starts when the policy does not say: no effect below
/// `DEFAULT_WINDOW / DEFAULT_WINDOW_INTERVAL_SECONDS` = 100 predictions a second, a bound
/// on monitoring's CPU above (at 40,000 requests/s, back-to-back windows of 1,000 would be
/// 40 reports a second, most of a core; docs/monitoring.md).
pub const DEFAULT_WINDOW_INTERVAL_SECONDS: u64 = 10;

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitoringPolicy {
    /// Predictions per window (default 1000).
    #[serde(default)]
    pub window: Option<u64>,
    /// Close a window once its first prediction is this many seconds old, however many
    /// predictions it holds (time-based windows; with `window`, whichever comes first).
    #[serde(default)]
    pub window_seconds: Option<u64>,
    /// Start windows at least this many seconds apart (by their first predictions' times;
    /// default `DEFAULT_WINDOW_INTERVAL_SECONDS`). Traffic that fills windows faster is
    /// sampled: the predictions logged between a window and the next start belong to no
    /// window. Monitoring then costs the same at any traffic (back to back,
    /// 1,000-prediction windows at 25,000 requests/s are 25 reports a second). `0`: windows
    /// follow each other, every prediction in one.
    #[serde(default)]
    pub window_interval_seconds: Option<u64>,
    #[serde(default)]
    pub alerts: AlertRules,
    /// How drift is tested and judged: `bascule-monitor`'s settings (alpha, correction,
    /// minimum sample size, effect-size floors, per-feature tests and thresholds).
    #[serde(default)]
    pub drift: DriftConfig,
}

impl MonitoringPolicy {
    pub fn window_size(&self) -> u64 {
        match (self.window, self.window_seconds) {
            (Some(n), _) => n,
            // A time-based window still closes at a size that bounds its memory.
            (None, Some(_)) => 100 * DEFAULT_WINDOW,
            (None, None) => DEFAULT_WINDOW,
        }
    }

    /// How far apart windows start, in milliseconds; `None` when they follow each other.
    pub fn window_interval_ms(&self) -> Option<i64> {
        match self
            .window_interval_seconds
            .unwrap_or(DEFAULT_WINDOW_INTERVAL_SECONDS)
        {
            0 => None,
            seconds => Some(
                i64::try_from(seconds)
                    .unwrap_or(i64::MAX)
                    .saturating_mul(1000),
            ),
        }
    }

    pub(crate) fn check(&self, problems: &mut Vec<String>) {
        if self.window == Some(0) {
            problems.push("monitoring.window: must be at least 1".to_owned());
        }
        if self.window_seconds == Some(0) {
            problems.push("monitoring.window_seconds: must be at least 1".to_owned());
        }
        if let Err(error) = self.drift.validate() {
            problems.push(format!("monitoring.drift: {error}"));
        }
        let alerts = &self.alerts;
        let mut in_range = |place: &str, value: Option<f64>, max: f64| {
            if let Some(value) = value
                && !(value.is_finite() && value >= 0.0 && value <= max)
            {
                problems.push(format!("monitoring.alerts.{place}: must be in [0, {max}]"));
            }
        };
        in_range("drift_share", Some(alerts.drift_share), 1.0);
        in_range("error_rate", Some(alerts.error_rate), 1.0);
        in_range("latency_p99_ms", alerts.latency_p99_ms, f64::MAX);
        for rule in &alerts.off {
            if !RULES.contains(&rule.as_str()) {
                problems.push(format!(
                    "monitoring.alerts.off: unknown rule '{rule}' (rules: {})",
                    RULES.join(", ")
                ));
            }
        }
        for (name, drop) in &alerts.metric_drop {
            if MetricName::parse(name).is_none() {
                problems.push(format!(
                    "monitoring.alerts.metric_drop: unknown metric '{name}' (known: {})",
                    MetricName::known()
                ));
            }
            if !drop.is_finite() || *drop < 0.0 {
                problems.push(format!(
                    "monitoring.alerts.metric_drop.{name}: must be a finite number ≥ 0"
                ));
            }
        }
    }
}

/// The alert rules, each on with its default unless the policy changes it or lists it in
/// `off`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRules {
    /// Fires (critical) when at least this share of the features drifted (default 0.3).
    #[serde(default = "default_drift_share")]
    pub drift_share: f64,
    /// Fires (warning) when any of these features drifted; empty (the default): any.
    #[serde(default)]
    pub feature_drift: Vec<String>,
    /// Metric → the largest tolerated worsening against the validation figure (a drop
    /// for scores, a rise for losses). Empty: the task's main metric with 0.05.
    #[serde(default)]
    pub metric_drop: BTreeMap<String, f64>,
    /// Fires (warning) when the window's p99 model latency exceeds this; no default
    /// budget, so the rule is on only when set.
    #[serde(default)]
    pub latency_p99_ms: Option<f64>,
    /// Fires (critical) when at least this share of the window's predictions failed.
    #[serde(default = "default_error_rate")]
    pub error_rate: f64,
    /// Fewest labelled predictions before live performance is judged (default 100).
    #[serde(default = "default_min_labels")]
    pub min_labels: u64,
    /// Rules turned off, by name: `drift_share`, `feature_drift`, `metric_drop`,
    /// `latency_p99`, `error_rate`.
    #[serde(default)]
    pub off: Vec<String>,
}

/// The names of the rules, as alerts and `off` spell them.
pub const RULES: [&str; 5] = [
    "drift_share",
    "feature_drift",
    "metric_drop",
    "latency_p99",
    "error_rate",
];

impl Default for AlertRules {
    fn default() -> Self {
        AlertRules {
            drift_share: default_drift_share(),
            feature_drift: Vec::new(),
            metric_drop: BTreeMap::new(),
            latency_p99_ms: None,
            error_rate: default_error_rate(),
            min_labels: default_min_labels(),
            off: Vec::new(),
        }
    }
}

impl AlertRules {
    pub fn is_on(&self, rule: &str) -> bool {
        !self.off.iter().any(|off| off == rule)
    }

    /// The metrics watched for a drop, with their tolerance: the policy's, or the main
    /// metric of the task.
    pub fn watched_metrics(&self, task: Task) -> Vec<(MetricName, f64)> {
        if self.metric_drop.is_empty() {
            let main = match task {
                Task::Binary | Task::Multiclass => MetricName::RocAuc,
                Task::Regression => MetricName::Rmse,
            };
            return vec![(main, 0.05)];
        }
        self.metric_drop
            .iter()
            .filter_map(|(name, drop)| MetricName::parse(name).map(|m| (m, *drop)))
            .filter(|(metric, _)| metric.applies_to(task))
            .collect()
    }
}

fn default_drift_share() -> f64 {
    0.3
}
fn default_error_rate() -> f64 {
    0.01
}
fn default_min_labels() -> u64 {
    100
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(toml_text: &str) -> Vec<String> {
        let policy: MonitoringPolicy = toml::from_str(toml_text).expect("a monitoring section");
        let mut problems = Vec::new();
        policy.check(&mut problems);
        problems
    }

    #[test]
    fn window_settings_must_be_positive() {
        assert!(problems("window = 1000\nwindow_interval_seconds = 60\n").is_empty());
        let found = problems("window = 0\nwindow_seconds = 0\nwindow_interval_seconds = 0\n");
        assert_eq!(
            found.len(),
            2,
            "0 s between windows means back to back: {found:?}"
        );
        assert!(
            toml::from_str::<MonitoringPolicy>("window_interval = 60\n").is_err(),
            "an unknown field is refused"
        );
    }

    #[test]
    fn windows_are_spaced_by_default_and_zero_puts_them_back_to_back() {
        let policy = |text: &str| toml::from_str::<MonitoringPolicy>(text).expect("a section");
        assert_eq!(
            policy("").window_interval_ms(),
            Some(DEFAULT_WINDOW_INTERVAL_SECONDS as i64 * 1000)
        );
        assert_eq!(
            policy("window_interval_seconds = 60").window_interval_ms(),
            Some(60_000)
        );
        assert_eq!(
            policy("window_interval_seconds = 0").window_interval_ms(),
            None
        );
        assert_eq!(
            policy("window_interval_seconds = 9223372036854775807").window_interval_ms(),
            Some(i64::MAX),
            "a huge interval saturates instead of wrapping"
        );
    }
}

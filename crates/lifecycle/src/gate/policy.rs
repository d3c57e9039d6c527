//! The validation policy of a registered model: what task the model solves, where its
//! label and features are, and the checks a version must pass. Written in TOML or JSON,
//! stored as written (versioned by the metadata store) and parsed strictly: an unknown
//! field or metric name is refused with the list of known ones.

use std::collections::BTreeMap;

use bascule_core::PolicyFormat;

use super::metrics::MetricName;
use crate::monitoring::MonitoringPolicy;

pub use crate::feedback::promotion::{PromotionMode, PromotionPolicy};

/// The learning task of a model, which decides its metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// Two classes; outputs an int64 `label` and float `probabilities` `[N, 2]`.
    Binary,
    /// k > 2 classes; `probabilities` `[N, k]`.
    Multiclass,
    /// One float output.
    Regression,
}

impl Task {
    pub fn describe(self) -> &'static str {
        match self {
            Task::Binary => "binary classification",
            Task::Multiclass => "multiclass classification",
            Task::Regression => "regression",
        }
    }
}

/// A validation policy, as parsed. Every part is optional: an empty policy is the
/// defaults (sanity checks, and the metrics of the inferred task reported unjudged).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// The task; inferred from the model's outputs when absent.
    #[serde(default)]
    pub task: Option<Task>,
    /// The label column (default `label`; `--label` overrides both).
    #[serde(default)]
    pub label: Option<String>,
    /// Model input name → the data set's columns feeding it, in order. Needed only when
    /// the model's inputs are not the data set's columns in order (or by name).
    #[serde(default)]
    pub features: BTreeMap<String, Vec<String>>,
    /// Metric name → the least (or, for losses, the most) acceptable value.
    #[serde(default)]
    pub thresholds: BTreeMap<String, f64>,
    /// Comparison with the champion (the newest Deployed or Monitored version).
    #[serde(default)]
    pub champion: Option<ChampionPolicy>,
    /// Per-slice checks.
    #[serde(default)]
    pub slices: Vec<SlicePolicy>,
    /// The latency budget; latency is measured only when this is present.
    #[serde(default)]
    pub latency: Option<LatencyPolicy>,
    /// How production traffic is watched once the version serves (windows, alert rules).
    #[serde(default)]
    pub monitoring: MonitoringPolicy,
    /// How a version that beat its parent reaches production (manual, or canary then
    /// promote with automatic rollback).
    #[serde(default)]
    pub promotion: PromotionPolicy,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChampionPolicy {
    /// Metric name → non-inferiority margin: the candidate fails if the bootstrap
    /// interval of (candidate − champion) reaches below −margin (above +margin for
    /// losses), i.e. if it may be worse by more than the margin.
    #[serde(default)]
    pub margins: BTreeMap<String, f64>,
    /// Significance level of McNemar's test on classification errors: the candidate
    /// fails if the champion is significantly more often right (default 0.05).
    #[serde(default = "default_alpha")]
    pub mcnemar_alpha: f64,
    #[serde(default)]
    pub bootstrap: BootstrapPolicy,
}

impl ChampionPolicy {
    /// A comparison on one metric with a margin, and the defaults otherwise.
    pub fn with_margin(metric: &str, margin: f64) -> Self {
        ChampionPolicy {
            margins: BTreeMap::from([(metric.to_owned(), margin)]),
            mcnemar_alpha: default_alpha(),
            bootstrap: BootstrapPolicy::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BootstrapPolicy {
    #[serde(default = "default_resamples")]
    pub resamples: usize,
    #[serde(default = "default_confidence")]
    pub confidence: f64,
    #[serde(default)]
    pub seed: u64,
}

impl Default for BootstrapPolicy {
    fn default() -> Self {
        BootstrapPolicy {
            resamples: default_resamples(),
            confidence: default_confidence(),
            seed: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlicePolicy {
    /// The column to slice by: its values (text, or numbers without `edges`) or buckets.
    pub column: String,
    /// Bucket edges of a numeric column, ascending: `[a, b]` makes `< a`, `[a, b)`, `≥ b`.
    #[serde(default)]
    pub edges: Option<Vec<f64>>,
    /// Slices with fewer rows are reported, not judged (default 30).
    #[serde(default = "default_min_size")]
    pub min_size: usize,
    /// Thresholds per slice; the policy's top-level thresholds when absent.
    #[serde(default)]
    pub thresholds: Option<BTreeMap<String, f64>>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatencyPolicy {
    /// Timed runs of each kind (default 200).
    #[serde(default = "default_runs")]
    pub runs: usize,
    /// Rows per batch run (default 256).
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub batch_p50_ms: Option<f64>,
    pub batch_p99_ms: Option<f64>,
}

fn default_alpha() -> f64 {
    0.05
}
fn default_resamples() -> usize {
    1000
}
fn default_confidence() -> f64 {
    0.95
}
fn default_min_size() -> usize {
    30
}
fn default_runs() -> usize {
    200
}
fn default_batch_size() -> usize {
    256
}

impl Policy {
    /// Parses and checks a policy; the error lists every offending field.
    pub fn parse(body: &str, format: PolicyFormat) -> Result<Policy, String> {
        let policy: Policy = match format {
            PolicyFormat::Toml => toml::from_str(body).map_err(|e| format!("invalid TOML: {e}"))?,
            PolicyFormat::Json => {
                serde_json::from_str(body).map_err(|e| format!("invalid JSON: {e}"))?
            }
        };
        policy.check()?;
        Ok(policy)
    }

    fn check(&self) -> Result<(), String> {
        let mut problems = Vec::new();
        let mut check_metrics = |place: &str, names: &mut dyn Iterator<Item = &String>| {
            for name in names {
                match MetricName::parse(name) {
                    None => problems.push(format!(
                        "{place}: unknown metric '{name}' (known: {})",
                        MetricName::known()
                    )),
                    Some(metric) => {
                        if let Some(task) = self.task
                            && !metric.applies_to(task)
                        {
                            problems.push(format!(
                                "{place}: metric '{name}' does not apply to {}",
                                task.describe()
                            ));
                        }
                    }
                }
            }
        };
        check_metrics("thresholds", &mut self.thresholds.keys());
        check_metrics("promotion.metric", &mut self.promotion.metric.iter());
        if let Some(champion) = &self.champion {
            check_metrics("champion.margins", &mut champion.margins.keys());
        }
        for (index, slice) in self.slices.iter().enumerate() {
            if let Some(thresholds) = &slice.thresholds {
                check_metrics(
                    &format!("slices[{index}].thresholds"),
                    &mut thresholds.keys(),
                );
            }
        }
        for (name, value) in &self.thresholds {
            if !value.is_finite() {
                problems.push(format!("thresholds.{name}: must be a finite number"));
            }
        }
        if let Some(champion) = &self.champion {
            if !(champion.mcnemar_alpha > 0.0 && champion.mcnemar_alpha < 1.0) {
                problems.push("champion.mcnemar_alpha: must lie strictly between 0 and 1".into());
            }
            let bootstrap = &champion.bootstrap;
            if bootstrap.resamples == 0 {
                problems.push("champion.bootstrap.resamples: must be at least 1".into());
            }
            if !(bootstrap.confidence > 0.0 && bootstrap.confidence < 1.0) {
                problems.push(
                    "champion.bootstrap.confidence: must lie strictly between 0 and 1".into(),
                );
            }
            for (name, margin) in &champion.margins {
                if !(margin.is_finite() && *margin >= 0.0) {
                    problems.push(format!("champion.margins.{name}: must be ≥ 0"));
                }
            }
        }
        for (index, slice) in self.slices.iter().enumerate() {
            if let Some(edges) = &slice.edges
                && (edges.is_empty()
                    || edges.iter().any(|e| !e.is_finite())
                    || edges.windows(2).any(|w| w[0] >= w[1]))
            {
                problems.push(format!(
                    "slices[{index}].edges: give finite, strictly ascending bucket edges"
                ));
            }
        }
        if let Some(latency) = &self.latency
            && (latency.runs == 0 || latency.batch_size == 0)
        {
            problems.push("latency: runs and batch_size must be at least 1".into());
        }
        self.monitoring.check(&mut problems);
        self.promotion.check(&mut problems);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "invalid validation policy: {}",
                problems.join("; ")
            ))
        }
    }

    /// The metric that decides whether a version beats another: the promotion policy's,
    /// else the first champion margin, else the task's usual score (ROC AUC, accuracy,
    /// RMSE).
    pub fn primary_metric(&self) -> &str {
        if let Some(metric) = &self.promotion.metric {
            return metric;
        }
        if let Some(name) = self
            .champion
            .as_ref()
            .and_then(|champion| champion.margins.keys().next())
        {
            return name;
        }
        match self.task {
            Some(Task::Multiclass) => "accuracy",
            Some(Task::Regression) => "rmse",
            Some(Task::Binary) | None => "roc_auc",
        }
    }

    /// Every column the policy names (label excluded), for the data set check.
    pub fn slice_columns(&self) -> impl Iterator<Item = &str> {
        self.slices.iter().map(|slice| slice.column.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_policy_parses_in_toml() {
        let policy = Policy::parse(
            r#"
            task = "binary"
            label = "diagnosis"
            [features]
            input = ["a", "b"]
            [thresholds]
            accuracy = 0.95
            roc_auc = 0.97
            [champion]
            margins = { accuracy = 0.01 }
            bootstrap = { resamples = 200, seed = 7 }
            [[slices]]
            column = "a"
            edges = [10.0, 20.0]
            min_size = 5
            [latency]
            p99_ms = 5.0
            "#,
            PolicyFormat::Toml,
        )
        .expect("parses");
        assert_eq!(policy.task, Some(Task::Binary));
        assert_eq!(policy.thresholds["roc_auc"], 0.97);
        let champion = policy.champion.expect("champion");
        assert_eq!(champion.bootstrap.resamples, 200);
        assert_eq!(champion.mcnemar_alpha, 0.05);
        assert_eq!(policy.slices[0].min_size, 5);
        assert_eq!(policy.latency.expect("latency").runs, 200);
    }

    #[test]
    fn unknown_metrics_and_fields_are_named() {
        let error = Policy::parse(r#"{"thresholds": {"acuracy": 0.9}}"#, PolicyFormat::Json)
            .expect_err("unknown metric");
        assert!(
            error.contains("acuracy") && error.contains("accuracy"),
            "{error}"
        );
        let error = Policy::parse("treshold = 1", PolicyFormat::Toml).expect_err("unknown field");
        assert!(error.contains("treshold"), "{error}");
        let error = Policy::parse(
            "task = \"regression\"\n[thresholds]\naccuracy = 0.9",
            PolicyFormat::Toml,
        )
        .expect_err("wrong task");
        assert!(error.contains("does not apply to regression"), "{error}");
    }
}

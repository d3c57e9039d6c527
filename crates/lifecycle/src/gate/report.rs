//! The validation report: what was checked, what was expected and what was measured,
//! stored as JSON in the artifact store, and rendered as text for people.

use std::fmt::Write as _;

use bascule_core::{Millis, Stage};

use super::policy::Task;

/// The report's schema version, bumped when its shape changes incompatibly.
pub const REPORT_SCHEMA: u32 = 1;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ValidationReport {
    pub schema: u32,
    pub model: String,
    pub version: i64,
    /// Whether every judged check passed.
    pub passed: bool,
    /// The stage the version moved to.
    pub decision: Stage,
    pub task: Task,
    /// The policy version applied; `None` for the defaults.
    pub policy_version: Option<i64>,
    /// The engine that ran the model, and serves it once deployed.
    pub engine: String,
    pub data: DataSummary,
    /// The metrics of the task on the whole data set, in a fixed order.
    pub metrics: Vec<MetricValue>,
    pub checks: Vec<CheckResult>,
    pub slices: Vec<SliceResult>,
    pub champion: Option<ChampionSummary>,
    pub latency: Option<LatencyResult>,
    /// The version run on every other engine of the process and compared with `engine`.
    #[serde(default)]
    pub agreement: Vec<EngineAgreement>,
    /// sha256 of the reference profile stored with the report.
    pub profile_digest: String,
    pub started: Millis,
    pub duration_ms: u64,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DataSummary {
    pub rows: usize,
    pub features: Vec<String>,
    pub label: String,
    /// sha256 of the data file as uploaded.
    pub digest: String,
    pub format: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MetricValue {
    pub name: String,
    /// `None` when the metric is undefined on this data (the reason is in `note`).
    pub value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Passed,
    Failed,
    /// Measured and reported, not judged (no threshold, or a slice below its minimum).
    Reported,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CheckResult {
    /// What was checked (`sanity: outputs are finite`, `threshold: accuracy`, …).
    pub check: String,
    pub status: CheckStatus,
    /// What the policy asked for, in words and numbers (`≥ 0.95`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// What the gate measured.
    pub measured: String,
}

impl CheckResult {
    pub fn judged(
        check: impl Into<String>,
        passed: bool,
        expected: String,
        measured: String,
    ) -> Self {
        CheckResult {
            check: check.into(),
            status: if passed {
                CheckStatus::Passed
            } else {
                CheckStatus::Failed
            },
            expected: Some(expected),
            measured,
        }
    }

    pub fn reported(check: impl Into<String>, measured: String) -> Self {
        CheckResult {
            check: check.into(),
            status: CheckStatus::Reported,
            expected: None,
            measured,
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SliceResult {
    pub column: String,
    /// The value, or the bucket (`[10, 15)`).
    pub slice: String,
    pub rows: usize,
    /// Whether the slice was large enough to be judged.
    pub judged: bool,
    pub metrics: Vec<MetricValue>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ChampionSummary {
    pub version: i64,
    pub stage: Stage,
    /// Per metric: the champion's value, the candidate's, and the bootstrap interval of
    /// candidate − champion.
    pub comparisons: Vec<Comparison>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcnemar: Option<McNemarSummary>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Comparison {
    pub metric: String,
    pub champion: f64,
    pub candidate: f64,
    pub difference_low: f64,
    pub difference_high: f64,
    pub confidence: f64,
    pub resamples_used: usize,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct McNemarSummary {
    /// Rows the candidate gets right and the champion wrong.
    pub candidate_only_right: u64,
    /// Rows the champion gets right and the candidate wrong.
    pub champion_only_right: u64,
    pub pvalue: f64,
}

/// One other engine against the serving engine.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EngineAgreement {
    pub engine: String,
    pub agrees: bool,
    pub tolerance: f64,
    /// Why the engine could not load or run the version, if it could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub outputs: Vec<OutputAgreement>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OutputAgreement {
    pub name: String,
    pub max_difference: f64,
    pub mismatches: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LatencyResult {
    pub runs: usize,
    pub batch_size: usize,
    pub single_p50_ms: f64,
    pub single_p99_ms: f64,
    pub batch_p50_ms: f64,
    pub batch_p99_ms: f64,
}

impl ValidationReport {
    pub fn failed_checks(&self) -> impl Iterator<Item = &CheckResult> {
        self.checks
            .iter()
            .filter(|check| check.status == CheckStatus::Failed)
    }

    /// A readable rendering: verdict, data, metrics, checks, slices, champion, latency.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let failed = self.failed_checks().count();
        let judged = self
            .checks
            .iter()
            .filter(|c| c.status != CheckStatus::Reported)
            .count();
        let verdict = if self.passed {
            format!("PASSED ({judged} judged checks passed)")
        } else {
            format!("FAILED ({failed} of {judged} judged checks failed)")
        };
        let _ = writeln!(
            out,
            "Validation of {} version {}: {verdict}",
            self.model, self.version
        );
        let _ = writeln!(out, "  decision  {}", self.decision);
        let _ = writeln!(
            out,
            "  task      {} (engine {})",
            self.task.describe(),
            self.engine
        );
        let policy = match self.policy_version {
            Some(version) => format!("version {version}"),
            None => "none (defaults: sanity checks, metrics reported)".to_owned(),
        };
        let _ = writeln!(out, "  policy    {policy}");
        let _ = writeln!(
            out,
            "  data      {} rows, {} features, label '{}', {} sha256:{}",
            self.data.rows,
            self.data.features.len(),
            self.data.label,
            self.data.format,
            short(&self.data.digest)
        );
        let _ = writeln!(
            out,
            "  profile   sha256:{}   took {} ms",
            short(&self.profile_digest),
            self.duration_ms
        );
        let _ = writeln!(out, "\nMetrics");
        for metric in &self.metrics {
            let _ = writeln!(out, "  {:<10} {}", metric.name, metric_text(metric));
        }
        let _ = writeln!(out, "\nChecks");
        for check in &self.checks {
            let status = match check.status {
                CheckStatus::Passed => "PASS",
                CheckStatus::Failed => "FAIL",
                CheckStatus::Reported => "info",
            };
            let expected = check
                .expected
                .as_ref()
                .map(|e| format!("expected {e}, "))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {status}  {}: {expected}measured {}",
                check.check, check.measured
            );
        }
        if !self.slices.is_empty() {
            let _ = writeln!(out, "\nSlices");
            for slice in &self.slices {
                let metrics: Vec<String> = slice
                    .metrics
                    .iter()
                    .map(|m| format!("{} {}", m.name, metric_text(m)))
                    .collect();
                let judged = if slice.judged {
                    ""
                } else {
                    " (too small, not judged)"
                };
                let _ = writeln!(
                    out,
                    "  {} = {:<16} {:>6} rows{judged}  {}",
                    slice.column,
                    slice.slice,
                    slice.rows,
                    metrics.join("  ")
                );
            }
        }
        if let Some(champion) = &self.champion {
            let _ = writeln!(
                out,
                "\nChampion: version {} ({})",
                champion.version, champion.stage
            );
            for c in &champion.comparisons {
                let _ = writeln!(
                    out,
                    "  {:<10} champion {:.4}  candidate {:.4}  difference {:+.4} [{:+.4}, {:+.4}] ({:.0}% CI, {} resamples)",
                    c.metric,
                    c.champion,
                    c.candidate,
                    c.candidate - c.champion,
                    c.difference_low,
                    c.difference_high,
                    c.confidence * 100.0,
                    c.resamples_used
                );
            }
            if let Some(m) = &champion.mcnemar {
                let _ = writeln!(
                    out,
                    "  McNemar    candidate-only right {}, champion-only right {}, p = {:.4}",
                    m.candidate_only_right, m.champion_only_right, m.pvalue
                );
            }
        }
        if let Some(latency) = &self.latency {
            let _ = writeln!(
                out,
                "\nLatency ({} runs each)\n  single row  p50 {:.3} ms  p99 {:.3} ms\n  batch of {:<4} p50 {:.3} ms  p99 {:.3} ms",
                latency.runs,
                latency.single_p50_ms,
                latency.single_p99_ms,
                latency.batch_size,
                latency.batch_p50_ms,
                latency.batch_p99_ms
            );
        }
        out
    }
}

fn metric_text(metric: &MetricValue) -> String {
    match (metric.value, &metric.note) {
        (Some(value), _) => format!("{value:.4}"),
        (None, Some(note)) => format!("undefined ({note})"),
        (None, None) => "undefined".to_owned(),
    }
}

fn short(digest: &str) -> &str {
    digest.get(..12).unwrap_or(digest)
}

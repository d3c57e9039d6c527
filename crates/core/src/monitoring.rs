//! What the metadata store keeps for monitoring: ground-truth labels joined to logged
//! predictions by request id, the closed windows of each serving version, and the alerts
//! raised from them. The window report itself is the lifecycle layer's JSON; the store
//! keeps it as written.

use std::fmt;
use std::str::FromStr;

use crate::{Millis, Role};

/// A ground-truth label for one answered request: a class index or a target value.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Label {
    pub request_id: String,
    pub label: f64,
}

/// What storing a batch of labels did.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct LabelReceipt {
    /// Labels stored (new or replacing an earlier label of the same request).
    pub stored: u64,
    /// Of those, how many replaced an earlier label.
    pub replaced: u64,
    /// Labels whose request id matches no logged prediction of the model (yet): they are
    /// kept, and join as soon as such a prediction is logged.
    pub unknown: u64,
    /// The first few unknown request ids, to help find the mistake.
    pub unknown_examples: Vec<String>,
}

/// The model's labels at a glance.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct LabelSummary {
    pub labels: u64,
    /// Labels whose request id matches a logged prediction of the model.
    pub matched: u64,
    pub unmatched: u64,
    pub last_received: Option<Millis>,
}

/// A logged prediction with its id in the log, and its label when one arrived.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedPrediction {
    pub id: i64,
    pub record: crate::PredictionRecord,
    pub label: Option<f64>,
}

/// What waits past a version's last window: how many predictions (counted up to the
/// window's size) and when the oldest of them was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PendingPredictions {
    pub count: u64,
    pub oldest_time: Option<crate::Millis>,
}

/// A window about to be stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewWindow {
    pub name: String,
    pub version: i64,
    pub role: Role,
    pub first_prediction: i64,
    pub last_prediction: i64,
    pub start_time: Millis,
    pub end_time: Millis,
    pub n_predictions: i64,
    pub n_labelled: i64,
    pub drift_share: Option<f64>,
    /// The window report, JSON.
    pub report: String,
}

/// A stored window.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StoredWindow {
    pub id: i64,
    pub name: String,
    pub version: i64,
    pub role: Role,
    pub first_prediction: i64,
    pub last_prediction: i64,
    pub start_time: Millis,
    pub end_time: Millis,
    pub n_predictions: i64,
    pub n_labelled: i64,
    pub drift_share: Option<f64>,
    pub report: String,
    pub computed_time: Millis,
}

/// How urgent an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "warning" => Ok(Severity::Warning),
            "critical" => Ok(Severity::Critical),
            _ => Err(format!(
                "unknown severity '{s}'; expected warning or critical"
            )),
        }
    }
}

/// An alert's state: open while its condition holds, resolved when a window clears it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    Open,
    Resolved,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Open => "open",
            AlertState::Resolved => "resolved",
        }
    }
}

impl fmt::Display for AlertState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AlertState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "open" => Ok(AlertState::Open),
            "resolved" => Ok(AlertState::Resolved),
            _ => Err(format!(
                "unknown alert state '{s}'; expected open or resolved"
            )),
        }
    }
}

/// A rule's verdict on one window: whether its condition holds, with the evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleOutcome {
    pub rule: String,
    pub severity: Severity,
    pub firing: bool,
    pub message: String,
    pub value: Option<f64>,
    pub threshold: Option<f64>,
}

/// A stored alert.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Alert {
    pub id: i64,
    pub name: String,
    pub version: i64,
    pub rule: String,
    pub severity: Severity,
    pub state: AlertState,
    pub message: String,
    pub value: Option<f64>,
    pub threshold: Option<f64>,
    /// The window whose report opened the alert (its evidence).
    pub window_id: i64,
    /// The newest window in which the condition held.
    pub last_window_id: i64,
    pub opened_time: Millis,
    pub updated_time: Millis,
    pub resolved_time: Option<Millis>,
    /// The feedback item the alert opened or extended.
    #[serde(default)]
    pub feedback_id: Option<i64>,
}

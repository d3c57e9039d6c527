//! What the feedback loop keeps: feedback items (what monitoring found, for research),
//! their history, and the durable tasks that act on them — webhook deliveries, retraining
//! runs and the validation of the version that answers them — kept in an outbox so a
//! restart loses none.

use std::fmt;
use std::str::FromStr;

use crate::Millis;

/// Where a feedback item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedbackState {
    /// Opened by an alert; nobody has looked at it yet.
    Open,
    /// Someone (or something) took it on.
    Acknowledged,
    /// A version that beat the item's version at the gate (Improved) answers it.
    Answered,
    /// Closed: the answering version went live, or a person resolved it.
    Resolved,
}

impl FeedbackState {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedbackState::Open => "open",
            FeedbackState::Acknowledged => "acknowledged",
            FeedbackState::Answered => "answered",
            FeedbackState::Resolved => "resolved",
        }
    }

    /// Whether new alerts on the same version extend this item rather than open another.
    pub fn is_active(self) -> bool {
        self != FeedbackState::Resolved
    }
}

impl fmt::Display for FeedbackState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FeedbackState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "open" => Ok(FeedbackState::Open),
            "acknowledged" => Ok(FeedbackState::Acknowledged),
            "answered" => Ok(FeedbackState::Answered),
            "resolved" => Ok(FeedbackState::Resolved),
            other => Err(format!(
                "unknown feedback state '{other}' (open, acknowledged, answered, resolved)"
            )),
        }
    }
}

/// The production traffic exported with a feedback item, as CSV and Parquet blobs in the
/// artifact store.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FeedbackExport {
    pub csv_digest: String,
    pub csv_size: u64,
    pub parquet_digest: String,
    pub parquet_size: u64,
    pub rows: u64,
    /// Rows with a ground-truth label.
    pub labelled: u64,
    pub columns: Vec<String>,
    /// The prediction-log ids the export covers.
    pub first_prediction: i64,
    pub last_prediction: i64,
    pub created_time: Millis,
}

/// A feedback item: a model version's problem, its evidence and how it was answered.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FeedbackItem {
    pub id: i64,
    pub name: String,
    pub version: i64,
    pub state: FeedbackState,
    /// One line: what was found.
    pub summary: String,
    pub alert_ids: Vec<i64>,
    /// The newest window behind the alerts.
    pub window_id: Option<i64>,
    pub export: Option<FeedbackExport>,
    /// The newest version registered to answer the item.
    pub candidate_version: Option<i64>,
    /// The version that beat this one at the gate.
    pub answered_by: Option<i64>,
    pub opened_time: Millis,
    pub updated_time: Millis,
    pub resolved_time: Option<Millis>,
}

/// What opening feedback for an alert needs.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFeedback {
    pub name: String,
    pub version: i64,
    pub summary: String,
    pub alert_ids: Vec<i64>,
    pub window_id: Option<i64>,
}

/// One line of a feedback item's history (append-only).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FeedbackNote {
    pub id: i64,
    pub feedback_id: i64,
    pub time: Millis,
    /// `opened`, `alert`, `export`, `webhook`, `retraining`, `candidate`, `validation`,
    /// `improved`, `promotion`, `acknowledged`, `resolved`, `error`.
    pub kind: String,
    pub actor: String,
    pub message: String,
}

/// What a durable task does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// POST an event to a configured webhook.
    Webhook,
    /// Run the configured retraining command.
    Retrain,
    /// Validate a candidate version registered to answer a feedback item.
    Validate,
}

impl TaskKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskKind::Webhook => "webhook",
            TaskKind::Retrain => "retrain",
            TaskKind::Validate => "validate",
        }
    }
}

impl fmt::Display for TaskKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TaskKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "webhook" => Ok(TaskKind::Webhook),
            "retrain" => Ok(TaskKind::Retrain),
            "validate" => Ok(TaskKind::Validate),
            other => Err(format!("unknown task kind '{other}'")),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    /// Waiting for its next attempt.
    Pending,
    /// Claimed by a worker until its lease ends; a worker that died lets the lease lapse
    /// and another claims it again.
    Running,
    Done,
    /// Gave up: out of attempts, or an error no retry can mend.
    Failed,
}

impl TaskState {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Pending => "pending",
            TaskState::Running => "running",
            TaskState::Done => "done",
            TaskState::Failed => "failed",
        }
    }
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TaskState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pending" => Ok(TaskState::Pending),
            "running" => Ok(TaskState::Running),
            "done" => Ok(TaskState::Done),
            "failed" => Ok(TaskState::Failed),
            other => Err(format!("unknown task state '{other}'")),
        }
    }
}

/// A task to enqueue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTask {
    pub kind: TaskKind,
    /// The webhook's name, the retraining command's name, or `name@version`.
    pub target: String,
    pub feedback_id: Option<i64>,
    /// The event (`feedback.opened`, …) or what the task is for.
    pub event: String,
    /// JSON.
    pub payload: String,
}

/// A task in the outbox.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Task {
    pub id: i64,
    pub kind: TaskKind,
    pub target: String,
    pub feedback_id: Option<i64>,
    pub event: String,
    pub payload: String,
    pub state: TaskState,
    /// Attempts started so far.
    pub attempts: i64,
    pub next_attempt_time: Millis,
    pub lease_until: Option<Millis>,
    pub last_error: Option<String>,
    /// The HTTP status of a delivery, or the exit code of a command.
    pub last_status: Option<i64>,
    /// The tail of a command's output, or of a webhook's answer.
    pub output: Option<String>,
    pub created_time: Millis,
    pub updated_time: Millis,
    pub finished_time: Option<Millis>,
}

/// How an attempt at a task ended.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskOutcome {
    Done {
        status: Option<i64>,
        output: Option<String>,
    },
    /// Try again at `next_attempt_time`.
    Retry {
        error: String,
        status: Option<i64>,
        output: Option<String>,
        next_attempt_time: Millis,
    },
    Failed {
        error: String,
        status: Option<i64>,
        output: Option<String>,
    },
}

/// A change to a feedback item, applied only if the item is in one of `from` (empty: any).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FeedbackUpdate {
    pub from: Vec<FeedbackState>,
    pub to: Option<FeedbackState>,
    pub candidate_version: Option<i64>,
    pub answered_by: Option<i64>,
}

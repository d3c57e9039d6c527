//! Experiment tracking, shaped like MLflow's so its REST API can sit on top unchanged.

use crate::Millis;

/// Whether an experiment or run is live or soft-deleted (MLflow's `lifecycle_stage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LifecycleState {
    Active,
    Deleted,
}

impl LifecycleState {
    pub fn as_str(self) -> &'static str {
        match self {
            LifecycleState::Active => "active",
            LifecycleState::Deleted => "deleted",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(LifecycleState::Active),
            "deleted" => Some(LifecycleState::Deleted),
            _ => None,
        }
    }
}

/// Which soft-deleted objects a listing includes (MLflow's `ViewType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ViewType {
    #[default]
    ActiveOnly,
    DeletedOnly,
    All,
}

impl ViewType {
    pub fn includes(self, state: LifecycleState) -> bool {
        match self {
            ViewType::ActiveOnly => state == LifecycleState::Active,
            ViewType::DeletedOnly => state == LifecycleState::Deleted,
            ViewType::All => true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Param {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Metric {
    pub key: String,
    pub value: f64,
    pub timestamp: Millis,
    pub step: i64,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Experiment {
    pub experiment_id: i64,
    pub name: String,
    pub artifact_location: String,
    pub lifecycle_stage: LifecycleState,
    pub creation_time: Millis,
    pub last_update_time: Millis,
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RunStatus {
    Running,
    Scheduled,
    Finished,
    Failed,
    Killed,
}

impl RunStatus {
    pub const ALL: [RunStatus; 5] = [
        RunStatus::Running,
        RunStatus::Scheduled,
        RunStatus::Finished,
        RunStatus::Failed,
        RunStatus::Killed,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "RUNNING",
            RunStatus::Scheduled => "SCHEDULED",
            RunStatus::Finished => "FINISHED",
            RunStatus::Failed => "FAILED",
            RunStatus::Killed => "KILLED",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        RunStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
    }
}

/// What creating a run needs; the store assigns the id and artifact location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRun {
    pub experiment_id: i64,
    pub run_name: Option<String>,
    pub user_id: Option<String>,
    pub start_time: Millis,
    pub tags: Vec<Tag>,
}

/// A partial update of a run (MLflow's `runs/update`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RunUpdate {
    pub status: Option<RunStatus>,
    pub end_time: Option<Millis>,
    pub run_name: Option<String>,
}

/// A run with its latest metric values, params and tags.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Run {
    pub run_id: String,
    pub experiment_id: i64,
    pub run_name: String,
    pub user_id: String,
    pub status: RunStatus,
    pub start_time: Millis,
    pub end_time: Option<Millis>,
    pub artifact_uri: String,
    pub lifecycle_stage: LifecycleState,
    /// The latest value of each metric (largest step, then largest timestamp).
    pub metrics: Vec<Metric>,
    pub params: Vec<Param>,
    pub tags: Vec<Tag>,
}

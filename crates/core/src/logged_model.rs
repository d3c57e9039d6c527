//! What MLflow 3 adds around runs: logged models (a model's files and metadata before it is
//! registered), the data sets and models a run takes in or gives out, and the files the
//! client writes through MLflow's artifact proxy.

use crate::{LifecycleState, Millis, Param, Tag};

/// MLflow's `LoggedModelStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum LoggedModelStatus {
    Pending,
    Ready,
    UploadFailed,
}

impl LoggedModelStatus {
    pub const ALL: [LoggedModelStatus; 3] = [
        LoggedModelStatus::Pending,
        LoggedModelStatus::Ready,
        LoggedModelStatus::UploadFailed,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            LoggedModelStatus::Pending => "LOGGED_MODEL_PENDING",
            LoggedModelStatus::Ready => "LOGGED_MODEL_READY",
            LoggedModelStatus::UploadFailed => "LOGGED_MODEL_UPLOAD_FAILED",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        LoggedModelStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
    }
}

/// A model logged from a run (`mlflow.<flavor>.log_model`), addressed as `models:/<id>`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LoggedModel {
    /// `m-` and 32 hex digits, as MLflow.
    pub model_id: String,
    pub experiment_id: i64,
    pub name: String,
    /// `mlflow-artifacts:/<experiment>/models/<model id>/artifacts`.
    pub artifact_location: String,
    pub status: LoggedModelStatus,
    pub model_type: String,
    pub source_run_id: Option<String>,
    pub lifecycle_stage: LifecycleState,
    pub creation_time: Millis,
    pub last_updated_time: Millis,
    pub tags: Vec<Tag>,
    pub params: Vec<Param>,
}

/// What creating a logged model needs; the store assigns the id and location.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewLoggedModel {
    pub experiment_id: i64,
    pub name: String,
    pub model_type: String,
    pub source_run_id: Option<String>,
    pub tags: Vec<Tag>,
    pub params: Vec<Param>,
}

/// A data set as MLflow describes it (its schema and profile are JSON text).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Dataset {
    pub name: String,
    pub digest: String,
    pub source_type: String,
    pub source: String,
    pub schema: Option<String>,
    pub profile: Option<String>,
}

/// A data set a run logged as input, with its tags (`mlflow.data.context`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DatasetInput {
    pub dataset: Dataset,
    pub tags: Vec<Tag>,
}

/// A logged model a run took as input or produced as output.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ModelLink {
    pub model_id: String,
    pub step: i64,
}

/// Everything a run took in and gave out.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct RunIo {
    pub run_id: String,
    pub dataset_inputs: Vec<DatasetInput>,
    pub model_inputs: Vec<ModelLink>,
    pub model_outputs: Vec<ModelLink>,
}

/// A file written through the artifact proxy: its path in the artifact tree
/// (`1/<run id>/artifacts/notes.txt`) and the blob holding it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ArtifactEntry {
    pub path: String,
    pub digest: String,
    pub size: u64,
}

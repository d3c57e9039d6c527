//! Bascule's core: the domain types every other crate speaks (experiments, runs, registered
//! models, model versions, lineage, lifecycle events), the lifecycle state machine, the
//! stable error codes, and the port traits that adapters implement (`MetadataStore`,
//! `ArtifactStore`, `InferenceEngine`).
//!
//! This crate does no I/O and knows no technology: no database, object store, ONNX
//! runtime or HTTP. Adapters live in sibling crates named by their technology.

mod deployment;
mod error;
mod feedback;
mod logged_model;
mod model;
mod monitoring;
mod ports;
mod request_id;
mod run_search;
mod stage;
mod tensor;
mod time;
mod tracking;
mod validation;

pub use deployment::{Canary, Deployment, DeploymentChange, PredictionRecord, Role};
pub use error::{Coded, Error, ErrorCode, Result};
pub use feedback::{
    FeedbackExport, FeedbackItem, FeedbackNote, FeedbackState, FeedbackUpdate, NewFeedback,
    NewTask, Task, TaskKind, TaskOutcome, TaskState,
};
pub use logged_model::{
    ArtifactEntry, Dataset, DatasetInput, LoggedModel, LoggedModelStatus, ModelLink,
    NewLoggedModel, RunIo,
};
pub use model::{
    ArtifactFile, Evidence, LifecycleEvent, Lineage, ModelFormat, ModelVersion, ModelVersionStatus,
    NewModelVersion, RegisteredModel, Transition,
};
pub use monitoring::{
    Alert, AlertState, Label, LabelReceipt, LabelSummary, LoggedPrediction, NewWindow,
    PendingPredictions, RuleOutcome, Severity, StoredWindow,
};
pub use ports::{
    ArtifactStore, BlobRef, ByteStream, EngineError, InferenceEngine, LoadedModel, MetadataStore,
};
pub use request_id::{
    PREFIX_LEN as GENERATED_PREFIX_LEN, generated_request_id, parse_generated_request_id,
};
pub use run_search::{Comparator, RunSearch, SearchClause, SearchEntity, SearchOrder, SearchValue};
pub use stage::{IllegalTransition, Stage};
pub use tensor::{DataType, Signature, Tensor, TensorData, TensorSpec};
pub use time::{civil_from_days, format_utc};
pub use tracking::{
    Experiment, LifecycleState, Metric, NewRun, Param, Run, RunStatus, RunUpdate, Tag, ViewType,
};
pub use validation::{NewValidationRecord, PolicyFormat, StoredPolicy, ValidationRecord};

/// Milliseconds since the Unix epoch, the time unit of every stored timestamp (as MLflow).
pub type Millis = i64;

/// Now, in [`Millis`].
pub fn now_millis() -> Millis {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}

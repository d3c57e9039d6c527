//! The port traits adapters implement. Each is object safe so the binary can choose an
//! adapter at start-up (`Arc<dyn MetadataStore>`).

use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use futures::Stream;

use crate::{
    Alert, AlertState, ArtifactEntry, Coded, DatasetInput, Deployment, DeploymentChange, ErrorCode,
    Experiment, FeedbackExport, FeedbackItem, FeedbackNote, FeedbackState, FeedbackUpdate, Label,
    LabelReceipt, LabelSummary, LifecycleEvent, LifecycleState, LoggedModel, LoggedModelStatus,
    LoggedPrediction, Metric, Millis, ModelLink, ModelVersion, NewFeedback, NewLoggedModel,
    NewModelVersion, NewRun, NewTask, NewValidationRecord, NewWindow, Param, PendingPredictions,
    PolicyFormat, PredictionRecord, RegisteredModel, Result, Role, RuleOutcome, Run, RunIo,
    RunSearch, RunUpdate, Signature, StoredPolicy, StoredWindow, Tag, Task, TaskKind, TaskOutcome,
    Tensor, Transition, ValidationRecord, ViewType,
};

/// The metadata store: experiments, runs, the registry and the lifecycle event log.
///
/// Every method is atomic: it either applies completely or not at all.
#[async_trait::async_trait]
pub trait MetadataStore: Send + Sync + std::fmt::Debug {
    /// Answers quickly whether the database is reachable.
    async fn ping(&self) -> Result<()>;

    // ---- experiments -------------------------------------------------------------
    /// Creates an experiment; `artifact_location` `None` lets the store derive one.
    async fn create_experiment(
        &self,
        name: &str,
        artifact_location: Option<&str>,
        tags: &[Tag],
    ) -> Result<Experiment>;
    async fn get_experiment(&self, experiment_id: i64) -> Result<Experiment>;
    async fn get_experiment_by_name(&self, name: &str) -> Result<Experiment>;
    async fn list_experiments(&self, view: ViewType) -> Result<Vec<Experiment>>;
    async fn rename_experiment(&self, experiment_id: i64, new_name: &str) -> Result<()>;
    async fn set_experiment_state(&self, experiment_id: i64, state: LifecycleState) -> Result<()>;
    async fn set_experiment_tag(&self, experiment_id: i64, tag: &Tag) -> Result<()>;

    // ---- runs --------------------------------------------------------------------
    async fn create_run(&self, run: NewRun) -> Result<Run>;
    async fn get_run(&self, run_id: &str) -> Result<Run>;
    async fn update_run(&self, run_id: &str, update: RunUpdate) -> Result<Run>;
    async fn set_run_state(&self, run_id: &str, state: LifecycleState) -> Result<()>;
    /// Logs metrics, params and tags in one transaction. A param already logged with a
    /// different value is refused (params are immutable) and nothing is written.
    async fn log_batch(
        &self,
        run_id: &str,
        metrics: &[Metric],
        params: &[Param],
        tags: &[Tag],
    ) -> Result<()>;
    async fn delete_run_tag(&self, run_id: &str, key: &str) -> Result<()>;
    /// Every logged value of one metric, ordered by step then timestamp.
    async fn get_metric_history(&self, run_id: &str, key: &str) -> Result<Vec<Metric>>;
    async fn list_runs(&self, experiment_id: i64, view: ViewType) -> Result<Vec<Run>>;

    // ---- registered models ---------------------------------------------------------
    async fn create_registered_model(
        &self,
        name: &str,
        description: &str,
        tags: &[Tag],
    ) -> Result<RegisteredModel>;
    async fn get_registered_model(&self, name: &str) -> Result<RegisteredModel>;
    async fn list_registered_models(&self) -> Result<Vec<RegisteredModel>>;
    async fn set_registered_model_tag(&self, name: &str, tag: &Tag) -> Result<()>;
    async fn delete_registered_model_tag(&self, name: &str, key: &str) -> Result<()>;
    /// Points `alias` at `version`, moving it if it pointed elsewhere.
    async fn set_alias(&self, name: &str, alias: &str, version: i64) -> Result<()>;
    async fn delete_alias(&self, name: &str, alias: &str) -> Result<()>;
    async fn get_version_by_alias(&self, name: &str, alias: &str) -> Result<ModelVersion>;

    // ---- model versions and lifecycle ------------------------------------------------
    /// Registers a version as `Prototype`: assigns the next number, stores its files,
    /// lineage and signature, and appends the registration event, in one transaction.
    /// A parent version that does not exist is refused.
    async fn create_model_version(&self, version: NewModelVersion) -> Result<ModelVersion>;
    async fn get_model_version(&self, name: &str, version: i64) -> Result<ModelVersion>;
    async fn list_model_versions(&self, name: &str) -> Result<Vec<ModelVersion>>;
    async fn set_model_version_tag(&self, name: &str, version: i64, tag: &Tag) -> Result<()>;
    /// Moves a version to `transition.to` if the state machine allows it from the stage
    /// the version is in *at commit time*, and appends the event; otherwise refuses with
    /// `IllegalTransition` and writes nothing.
    async fn transition(&self, transition: Transition) -> Result<LifecycleEvent>;
    /// The event log of a model, or of one version, oldest first.
    async fn list_events(&self, name: &str, version: Option<i64>) -> Result<Vec<LifecycleEvent>>;

    // ---- validation gate ---------------------------------------------------------------
    /// Appends a new version of a model's validation policy (the body as written).
    async fn put_validation_policy(
        &self,
        name: &str,
        body: &str,
        format: PolicyFormat,
        actor: &str,
    ) -> Result<StoredPolicy>;
    /// The newest policy of a model; `None` if it has none (`NotFound` if no such model).
    async fn get_validation_policy(&self, name: &str) -> Result<Option<StoredPolicy>>;
    /// Records a validation run and applies its transition in one transaction: both or
    /// neither. The transition is checked as in `transition`.
    async fn record_validation(
        &self,
        record: NewValidationRecord,
        transition: Transition,
    ) -> Result<(ValidationRecord, LifecycleEvent)>;
    /// The newest validation record of a version; `None` if it was never validated.
    async fn latest_validation(&self, name: &str, version: i64)
    -> Result<Option<ValidationRecord>>;

    // ---- deployments and the prediction log ----------------------------------------------
    /// Every stored deployment, by model name.
    async fn list_deployments(&self) -> Result<Vec<Deployment>>;
    /// A model's deployment; `None` if nothing is deployed (`NotFound` if no such model).
    async fn get_deployment(&self, name: &str) -> Result<Option<Deployment>>;
    /// Saves a deployment change and applies its transitions in one transaction, if the
    /// stored revision is still `expected_revision`; otherwise refuses and writes nothing.
    /// Returns the stored state (empty, revision 0, when the change removed it).
    async fn save_deployment(
        &self,
        change: DeploymentChange,
    ) -> Result<(Deployment, Vec<LifecycleEvent>)>;
    /// Appends prediction records in as few statements as the batch allows.
    async fn insert_predictions(&self, records: &[PredictionRecord]) -> Result<u64>;
    /// The newest predictions of a model (of one request, when `request_id` is given),
    /// newest first.
    async fn list_predictions(
        &self,
        name: &str,
        request_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<PredictionRecord>>;

    // ---- monitoring --------------------------------------------------------------------
    /// Stores ground-truth labels of a model's requests (a later label of a request
    /// replaces the earlier one), counting those that match no logged prediction.
    async fn insert_labels(&self, name: &str, labels: &[Label]) -> Result<LabelReceipt>;
    async fn label_summary(&self, name: &str) -> Result<LabelSummary>;
    /// Predictions of a version and role with ids after `after`, oldest first, with
    /// their labels.
    async fn predictions_after(
        &self,
        name: &str,
        version: i64,
        role: Role,
        after: i64,
        limit: i64,
    ) -> Result<Vec<LoggedPrediction>>;
    /// How many predictions of a version and role have ids after `after` (counted up to
    /// `limit`) and the time of the oldest: whether a window is due, without reading it.
    async fn pending_predictions(
        &self,
        name: &str,
        version: i64,
        role: Role,
        after: i64,
        limit: i64,
    ) -> Result<PendingPredictions>;
    /// Where monitoring resumes after skipping ahead to `time` (a policy's
    /// `window_interval_seconds`): the id of the first prediction of a version and role,
    /// after `after`, in the first write batch of the log stamped at or after `time`. A
    /// batch gathers `BASCULE_LOG_GATHER_MS` of traffic (20 ms by default), so the answer
    /// can lie that much past `time`, never before it. `None` while no such batch is stored.
    async fn first_prediction_since(
        &self,
        name: &str,
        version: i64,
        role: Role,
        after: i64,
        time: Millis,
    ) -> Result<Option<i64>>;
    /// The predictions a window covers, with their labels.
    async fn window_predictions(&self, window: &StoredWindow) -> Result<Vec<LoggedPrediction>>;
    /// Stores a closed window; `None` if another replica stored it first.
    async fn insert_window(&self, window: NewWindow) -> Result<Option<StoredWindow>>;
    /// Replaces a window's report (labels arrived for it).
    async fn update_window(&self, id: i64, n_labelled: i64, report: &str) -> Result<()>;
    async fn last_window(
        &self,
        name: &str,
        version: i64,
        role: Role,
    ) -> Result<Option<StoredWindow>>;
    /// A model's windows, newest first.
    async fn list_windows(
        &self,
        name: &str,
        version: Option<i64>,
        limit: i64,
    ) -> Result<Vec<StoredWindow>>;
    async fn get_window(&self, name: &str, id: i64) -> Result<StoredWindow>;
    /// Windows holding a prediction whose label arrived (at or after `since`) after the
    /// window's report was computed.
    async fn windows_with_new_labels(&self, name: &str, since: Millis)
    -> Result<Vec<StoredWindow>>;
    /// Opens, extends or resolves the alerts of a version from one window's rule outcomes,
    /// in one transaction; returns the alerts that changed.
    async fn apply_rule_outcomes(
        &self,
        name: &str,
        version: i64,
        window_id: i64,
        outcomes: &[RuleOutcome],
    ) -> Result<Vec<Alert>>;
    /// Alerts, newest first, of one model and in one state when given.
    async fn list_alerts(
        &self,
        name: Option<&str>,
        state: Option<AlertState>,
        limit: i64,
    ) -> Result<Vec<Alert>>;
    async fn get_alert(&self, id: i64) -> Result<Alert>;

    // ---- feedback: items, their history, the outbox of tasks --------------------------
    /// Open alerts that no feedback item holds yet, oldest first.
    async fn unassigned_alerts(&self, limit: i64) -> Result<Vec<Alert>>;
    /// Opens a feedback item for a version or, when one is active, extends it with the
    /// alerts; the alerts are attached to it in the same transaction. Returns the item and
    /// whether it is new.
    async fn open_feedback(&self, feedback: NewFeedback) -> Result<(FeedbackItem, bool)>;
    async fn get_feedback(&self, id: i64) -> Result<FeedbackItem>;
    /// Feedback items, newest first, of one model and in one state when given.
    async fn list_feedback(
        &self,
        name: Option<&str>,
        state: Option<FeedbackState>,
        limit: i64,
    ) -> Result<Vec<FeedbackItem>>;
    async fn set_feedback_export(&self, id: i64, export: &FeedbackExport) -> Result<()>;
    /// Applies an update if the item is in one of `update.from` (`FAILED_PRECONDITION`
    /// naming its state otherwise).
    async fn update_feedback(&self, id: i64, update: FeedbackUpdate) -> Result<FeedbackItem>;
    async fn add_feedback_note(
        &self,
        feedback_id: i64,
        kind: &str,
        actor: &str,
        message: &str,
    ) -> Result<FeedbackNote>;
    async fn list_feedback_notes(&self, feedback_id: i64) -> Result<Vec<FeedbackNote>>;
    /// Adds tasks to the outbox, due now.
    async fn enqueue_tasks(&self, tasks: &[NewTask]) -> Result<Vec<Task>>;
    /// Claims the oldest due task of a kind (pending and due, or running with a lapsed
    /// lease): it becomes running until `now + lease_ms`, one attempt more.
    async fn claim_task(&self, kind: TaskKind, now: Millis, lease_ms: i64) -> Result<Option<Task>>;
    async fn finish_task(&self, id: i64, outcome: &TaskOutcome) -> Result<Task>;
    async fn get_task(&self, id: i64) -> Result<Task>;
    /// Tasks, newest first, of one feedback item when given.
    async fn list_tasks(&self, feedback_id: Option<i64>, limit: i64) -> Result<Vec<Task>>;
    /// The newest `limit` logged predictions of a model served live or as a canary, with
    /// ids above `after`, oldest first; of one version when given; labelled ones only
    /// when asked.
    async fn recent_predictions(
        &self,
        name: &str,
        version: Option<i64>,
        after: i64,
        labelled_only: bool,
        limit: i64,
    ) -> Result<Vec<LoggedPrediction>>;

    // ---- the MLflow-compatible API: search, run inputs and outputs, logged models, ----
    // ---- the artifact tree, registry edits ----------------------------------------------
    /// One page of runs matching the search, and whether more follow.
    async fn search_runs(&self, search: &RunSearch) -> Result<(Vec<Run>, bool)>;
    /// Records data sets and models as inputs of an active run (a repeat is kept once).
    async fn log_run_inputs(
        &self,
        run_id: &str,
        datasets: &[DatasetInput],
        models: &[ModelLink],
    ) -> Result<()>;
    async fn log_run_outputs(&self, run_id: &str, models: &[ModelLink]) -> Result<()>;
    /// What each of the runs took in and gave out, in the order of `run_ids`.
    async fn get_run_io(&self, run_ids: &[String]) -> Result<Vec<RunIo>>;
    async fn create_logged_model(&self, model: NewLoggedModel) -> Result<LoggedModel>;
    async fn get_logged_model(&self, model_id: &str) -> Result<LoggedModel>;
    async fn set_logged_model_status(
        &self,
        model_id: &str,
        status: LoggedModelStatus,
    ) -> Result<LoggedModel>;
    async fn set_logged_model_tags(&self, model_id: &str, tags: &[Tag]) -> Result<()>;
    async fn delete_logged_model_tag(&self, model_id: &str, key: &str) -> Result<()>;
    async fn set_logged_model_state(&self, model_id: &str, state: LifecycleState) -> Result<()>;
    /// The active logged models of the experiments, newest first.
    async fn list_logged_models(&self, experiment_ids: &[i64]) -> Result<Vec<LoggedModel>>;
    /// Points a path of the artifact tree at a stored blob (replacing what it pointed at).
    async fn put_artifact_entry(&self, entry: &ArtifactEntry) -> Result<()>;
    async fn get_artifact_entry(&self, path: &str) -> Result<Option<ArtifactEntry>>;
    /// Every file under `directory/`, by path.
    async fn list_artifact_entries(&self, directory: &str) -> Result<Vec<ArtifactEntry>>;
    async fn set_registered_model_description(&self, name: &str, description: &str) -> Result<()>;
    async fn set_model_version_description(
        &self,
        name: &str,
        version: i64,
        description: &str,
    ) -> Result<()>;
    async fn delete_model_version_tag(&self, name: &str, version: i64, key: &str) -> Result<()>;
}

/// A stream of bytes, as uploads arrive and downloads leave.
pub type ByteStream<'a> = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send + 'a>>;

/// A stored blob: its sha256 (lower-case hex) and size.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BlobRef {
    pub digest: String,
    pub size: u64,
}

/// The artifact store: immutable blobs addressed by the sha256 of their content.
#[async_trait::async_trait]
pub trait ArtifactStore: Send + Sync + std::fmt::Debug {
    /// Streams a blob in, hashing as it goes. The blob becomes visible under its digest
    /// only once it is complete; an interrupted stream leaves nothing behind.
    async fn put_stream(&self, stream: ByteStream<'_>) -> Result<BlobRef>;
    /// Stores a blob held in memory.
    async fn put_bytes(&self, bytes: Bytes) -> Result<BlobRef>;
    /// Reads a whole blob and verifies its digest; a mismatch is `DataLoss`.
    async fn get(&self, digest: &str) -> Result<Bytes>;
    /// Streams a blob out; the stream ends in an error if the content does not match.
    async fn get_stream(&self, digest: &str) -> Result<ByteStream<'static>>;
    async fn exists(&self, digest: &str) -> Result<bool>;
    async fn delete(&self, digest: &str) -> Result<()>;
}

/// What an inference engine can report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error(
        "operator {op} (domain {domain}) of node '{node}' is not supported by the {engine} engine"
    )]
    UnsupportedOperator {
        engine: &'static str,
        op: String,
        domain: String,
        node: String,
    },
    #[error("not a valid ONNX model: {0}")]
    InvalidModel(String),
    #[error("bad input: {0}")]
    BadInput(String),
    #[error("inference failed: {0}")]
    Failed(String),
    /// The engine a version needs is not configured in this process.
    #[error("{0}")]
    Unavailable(String),
}

impl Coded for EngineError {
    fn code(&self) -> ErrorCode {
        match self {
            EngineError::UnsupportedOperator { .. } | EngineError::InvalidModel(_) => {
                ErrorCode::InvalidArgument
            }
            EngineError::BadInput(_) => ErrorCode::InvalidArgument,
            EngineError::Failed(_) => ErrorCode::Internal,
            EngineError::Unavailable(_) => ErrorCode::FailedPrecondition,
        }
    }
}

/// An inference engine: turns ONNX bytes into a runnable model.
pub trait InferenceEngine: Send + Sync + std::fmt::Debug {
    /// A short name recorded with every version it serves (`tract`, `onnxruntime`).
    fn name(&self) -> &'static str;
    /// Loads and optimises a model once; the result is cached and shared across threads.
    fn load(&self, onnx: &[u8]) -> Result<Arc<dyn LoadedModel>, EngineError>;
}

/// A model loaded into an engine, ready to run batches concurrently.
pub trait LoadedModel: Send + Sync + std::fmt::Debug {
    fn signature(&self) -> &Signature;
    /// Runs one batch; inputs in signature order, outputs in signature order.
    fn run(&self, inputs: Vec<Tensor>) -> Result<Vec<Tensor>, EngineError>;

    /// Runs one batch the caller keeps (serving logs the inputs after the run). Engines
    /// that copy inputs into their own tensors override this to skip the clone.
    fn run_borrowed(&self, inputs: &[Tensor]) -> Result<Vec<Tensor>, EngineError> {
        self.run(inputs.to_vec())
    }
}

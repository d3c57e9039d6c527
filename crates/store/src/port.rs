//! `SqlMetadataStore` as the `MetadataStore` port: each method hands over to the module of
//! its area, and the store's errors become `bascule_core::Error` here (`?`).

use bascule_core::{
    Alert, AlertState, ArtifactEntry, DatasetInput, Deployment, DeploymentChange, Experiment,
    FeedbackExport, FeedbackItem, FeedbackNote, FeedbackState, FeedbackUpdate, Label, LabelReceipt,
    LabelSummary, LifecycleEvent, LifecycleState, LoggedModel, LoggedModelStatus, LoggedPrediction,
    MetadataStore, Metric, Millis, ModelLink, ModelVersion, NewFeedback, NewLoggedModel,
    NewModelVersion, NewRun, NewTask, NewValidationRecord, NewWindow, Param, PendingPredictions,
    PolicyFormat, PredictionRecord, RegisteredModel, Result, Role, RuleOutcome, Run, RunIo,
    RunSearch, RunUpdate, StoredPolicy, StoredWindow, Tag, Task, TaskKind, TaskOutcome, Transition,
    ValidationRecord, ViewType,
};

use crate::{
    SqlMetadataStore, deployments, experiments, feedback, lifecycle, monitoring, predictions,
    registry, run_data, runs, validation, versions,
};
use crate::{artifact_tree, logged_models, run_io, run_search};

#[async_trait::async_trait]
impl MetadataStore for SqlMetadataStore {
    async fn ping(&self) -> Result<()> {
        Ok(SqlMetadataStore::ping(self).await?)
    }

    // ---- experiments -------------------------------------------------------------
    async fn create_experiment(
        &self,
        name: &str,
        artifact_location: Option<&str>,
        tags: &[Tag],
    ) -> Result<Experiment> {
        Ok(experiments::create(self, name, artifact_location, tags).await?)
    }
    async fn get_experiment(&self, experiment_id: i64) -> Result<Experiment> {
        Ok(experiments::get(self, experiment_id).await?)
    }
    async fn get_experiment_by_name(&self, name: &str) -> Result<Experiment> {
        Ok(experiments::get_by_name(self, name).await?)
    }
    async fn list_experiments(&self, view: ViewType) -> Result<Vec<Experiment>> {
        Ok(experiments::list(self, view).await?)
    }
    async fn rename_experiment(&self, experiment_id: i64, new_name: &str) -> Result<()> {
        Ok(experiments::rename(self, experiment_id, new_name).await?)
    }
    async fn set_experiment_state(&self, experiment_id: i64, state: LifecycleState) -> Result<()> {
        Ok(experiments::set_state(self, experiment_id, state).await?)
    }
    async fn set_experiment_tag(&self, experiment_id: i64, tag: &Tag) -> Result<()> {
        Ok(experiments::set_tag(self, experiment_id, tag).await?)
    }

    // ---- runs --------------------------------------------------------------------
    async fn create_run(&self, run: NewRun) -> Result<Run> {
        Ok(runs::create(self, run).await?)
    }
    async fn get_run(&self, run_id: &str) -> Result<Run> {
        Ok(runs::get(self, run_id).await?)
    }
    async fn update_run(&self, run_id: &str, update: RunUpdate) -> Result<Run> {
        Ok(runs::update(self, run_id, update).await?)
    }
    async fn set_run_state(&self, run_id: &str, state: LifecycleState) -> Result<()> {
        Ok(runs::set_state(self, run_id, state).await?)
    }
    async fn log_batch(
        &self,
        run_id: &str,
        metrics: &[Metric],
        params: &[Param],
        tags: &[Tag],
    ) -> Result<()> {
        Ok(run_data::log_batch(self, run_id, metrics, params, tags).await?)
    }
    async fn delete_run_tag(&self, run_id: &str, key: &str) -> Result<()> {
        Ok(run_data::delete_tag(self, run_id, key).await?)
    }
    async fn get_metric_history(&self, run_id: &str, key: &str) -> Result<Vec<Metric>> {
        Ok(run_data::metric_history(self, run_id, key).await?)
    }
    async fn list_runs(&self, experiment_id: i64, view: ViewType) -> Result<Vec<Run>> {
        Ok(runs::list(self, experiment_id, view).await?)
    }

    // ---- registered models ---------------------------------------------------------
    async fn create_registered_model(
        &self,
        name: &str,
        description: &str,
        tags: &[Tag],
    ) -> Result<RegisteredModel> {
        Ok(registry::create(self, name, description, tags).await?)
    }
    async fn get_registered_model(&self, name: &str) -> Result<RegisteredModel> {
        Ok(registry::get(self, name).await?)
    }
    async fn list_registered_models(&self) -> Result<Vec<RegisteredModel>> {
        Ok(registry::list(self).await?)
    }
    async fn set_registered_model_tag(&self, name: &str, tag: &Tag) -> Result<()> {
        Ok(registry::set_tag(self, name, tag).await?)
    }
    async fn delete_registered_model_tag(&self, name: &str, key: &str) -> Result<()> {
        Ok(registry::delete_tag(self, name, key).await?)
    }
    async fn set_alias(&self, name: &str, alias: &str, version: i64) -> Result<()> {
        Ok(registry::set_alias(self, name, alias, version).await?)
    }
    async fn delete_alias(&self, name: &str, alias: &str) -> Result<()> {
        Ok(registry::delete_alias(self, name, alias).await?)
    }
    async fn get_version_by_alias(&self, name: &str, alias: &str) -> Result<ModelVersion> {
        Ok(registry::version_by_alias(self, name, alias).await?)
    }

    // ---- model versions and lifecycle ------------------------------------------------
    async fn create_model_version(&self, version: NewModelVersion) -> Result<ModelVersion> {
        Ok(versions::create(self, version).await?)
    }
    async fn get_model_version(&self, name: &str, version: i64) -> Result<ModelVersion> {
        Ok(versions::get(self, name, version).await?)
    }
    async fn list_model_versions(&self, name: &str) -> Result<Vec<ModelVersion>> {
        Ok(versions::list(self, name).await?)
    }
    async fn set_model_version_tag(&self, name: &str, version: i64, tag: &Tag) -> Result<()> {
        Ok(versions::set_tag(self, name, version, tag).await?)
    }
    async fn transition(&self, transition: Transition) -> Result<LifecycleEvent> {
        Ok(lifecycle::transition(self, transition).await?)
    }
    async fn list_events(&self, name: &str, version: Option<i64>) -> Result<Vec<LifecycleEvent>> {
        Ok(lifecycle::list_events(self, name, version).await?)
    }

    // ---- validation gate ---------------------------------------------------------------
    async fn put_validation_policy(
        &self,
        name: &str,
        body: &str,
        format: PolicyFormat,
        actor: &str,
    ) -> Result<StoredPolicy> {
        Ok(validation::put_policy(self, name, body, format, actor).await?)
    }
    async fn get_validation_policy(&self, name: &str) -> Result<Option<StoredPolicy>> {
        Ok(validation::get_policy(self, name).await?)
    }
    async fn record_validation(
        &self,
        record: NewValidationRecord,
        transition: Transition,
    ) -> Result<(ValidationRecord, LifecycleEvent)> {
        Ok(validation::record(self, record, transition).await?)
    }
    async fn latest_validation(
        &self,
        name: &str,
        version: i64,
    ) -> Result<Option<ValidationRecord>> {
        Ok(validation::latest(self, name, version).await?)
    }

    // ---- deployments and the prediction log ----------------------------------------------
    async fn list_deployments(&self) -> Result<Vec<Deployment>> {
        Ok(deployments::list(self).await?)
    }
    async fn get_deployment(&self, name: &str) -> Result<Option<Deployment>> {
        Ok(deployments::get(self, name).await?)
    }
    async fn save_deployment(
        &self,
        change: DeploymentChange,
    ) -> Result<(Deployment, Vec<LifecycleEvent>)> {
        Ok(deployments::save(self, change).await?)
    }
    async fn insert_predictions(&self, records: &[PredictionRecord]) -> Result<u64> {
        Ok(predictions::insert(self, records).await?)
    }
    async fn list_predictions(
        &self,
        name: &str,
        request_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<PredictionRecord>> {
        Ok(predictions::list(self, name, request_id, limit).await?)
    }

    // ---- monitoring --------------------------------------------------------------------
    async fn insert_labels(&self, name: &str, labels: &[Label]) -> Result<LabelReceipt> {
        Ok(monitoring::insert_labels(self, name, labels).await?)
    }
    async fn label_summary(&self, name: &str) -> Result<LabelSummary> {
        Ok(monitoring::label_summary(self, name).await?)
    }
    async fn predictions_after(
        &self,
        name: &str,
        version: i64,
        role: Role,
        after: i64,
        limit: i64,
    ) -> Result<Vec<LoggedPrediction>> {
        Ok(monitoring::predictions_after(self, name, version, role, after, limit).await?)
    }
    async fn pending_predictions(
        &self,
        name: &str,
        version: i64,
        role: Role,
        after: i64,
        limit: i64,
    ) -> Result<PendingPredictions> {
        Ok(monitoring::pending_predictions(self, name, version, role, after, limit).await?)
    }
    async fn first_prediction_since(
        &self,
        name: &str,
        version: i64,
        role: Role,
        after: i64,
        time: Millis,
    ) -> Result<Option<i64>> {
        Ok(monitoring::first_prediction_since(self, name, version, role, after, time).await?)
    }
    async fn window_predictions(&self, window: &StoredWindow) -> Result<Vec<LoggedPrediction>> {
        Ok(monitoring::window_predictions(self, window).await?)
    }
    async fn insert_window(&self, window: NewWindow) -> Result<Option<StoredWindow>> {
        Ok(monitoring::insert_window(self, window).await?)
    }
    async fn update_window(&self, id: i64, n_labelled: i64, report: &str) -> Result<()> {
        Ok(monitoring::update_window(self, id, n_labelled, report).await?)
    }
    async fn last_window(
        &self,
        name: &str,
        version: i64,
        role: Role,
    ) -> Result<Option<StoredWindow>> {
        Ok(monitoring::last_window(self, name, version, role).await?)
    }
    async fn list_windows(
        &self,
        name: &str,
        version: Option<i64>,
        limit: i64,
    ) -> Result<Vec<StoredWindow>> {
        Ok(monitoring::list_windows(self, name, version, limit).await?)
    }
    async fn get_window(&self, name: &str, id: i64) -> Result<StoredWindow> {
        Ok(monitoring::get_window(self, name, id).await?)
    }
    async fn windows_with_new_labels(
        &self,
        name: &str,
        since: Millis,
    ) -> Result<Vec<StoredWindow>> {
        Ok(monitoring::windows_with_new_labels(self, name, since).await?)
    }
    async fn apply_rule_outcomes(
        &self,
        name: &str,
        version: i64,
        window_id: i64,
        outcomes: &[RuleOutcome],
    ) -> Result<Vec<Alert>> {
        Ok(monitoring::apply_rule_outcomes(self, name, version, window_id, outcomes).await?)
    }
    async fn list_alerts(
        &self,
        name: Option<&str>,
        state: Option<AlertState>,
        limit: i64,
    ) -> Result<Vec<Alert>> {
        Ok(monitoring::list_alerts(self, name, state, limit).await?)
    }
    async fn get_alert(&self, id: i64) -> Result<Alert> {
        Ok(monitoring::get_alert(self, id).await?)
    }

    // ---- feedback -----------------------------------------------------------------------
    async fn unassigned_alerts(&self, limit: i64) -> Result<Vec<Alert>> {
        Ok(feedback::unassigned_alerts(self, limit).await?)
    }
    async fn open_feedback(&self, item: NewFeedback) -> Result<(FeedbackItem, bool)> {
        Ok(feedback::open_feedback(self, item).await?)
    }
    async fn get_feedback(&self, id: i64) -> Result<FeedbackItem> {
        Ok(feedback::get_feedback(self, id).await?)
    }
    async fn list_feedback(
        &self,
        name: Option<&str>,
        state: Option<FeedbackState>,
        limit: i64,
    ) -> Result<Vec<FeedbackItem>> {
        Ok(feedback::list_feedback(self, name, state, limit).await?)
    }
    async fn set_feedback_export(&self, id: i64, export: &FeedbackExport) -> Result<()> {
        Ok(feedback::set_feedback_export(self, id, export).await?)
    }
    async fn update_feedback(&self, id: i64, update: FeedbackUpdate) -> Result<FeedbackItem> {
        Ok(feedback::update_feedback(self, id, update).await?)
    }
    async fn add_feedback_note(
        &self,
        feedback_id: i64,
        kind: &str,
        actor: &str,
        message: &str,
    ) -> Result<FeedbackNote> {
        Ok(feedback::add_feedback_note(self, feedback_id, kind, actor, message).await?)
    }
    async fn list_feedback_notes(&self, feedback_id: i64) -> Result<Vec<FeedbackNote>> {
        Ok(feedback::list_feedback_notes(self, feedback_id).await?)
    }
    async fn enqueue_tasks(&self, tasks: &[NewTask]) -> Result<Vec<Task>> {
        Ok(feedback::enqueue_tasks(self, tasks).await?)
    }
    async fn claim_task(&self, kind: TaskKind, now: Millis, lease_ms: i64) -> Result<Option<Task>> {
        Ok(feedback::claim_task(self, kind, now, lease_ms).await?)
    }
    async fn finish_task(&self, id: i64, outcome: &TaskOutcome) -> Result<Task> {
        Ok(feedback::finish_task(self, id, outcome).await?)
    }
    async fn get_task(&self, id: i64) -> Result<Task> {
        Ok(feedback::get_task(self, id).await?)
    }
    async fn list_tasks(&self, feedback_id: Option<i64>, limit: i64) -> Result<Vec<Task>> {
        Ok(feedback::list_tasks(self, feedback_id, limit).await?)
    }
    async fn recent_predictions(
        &self,
        name: &str,
        version: Option<i64>,
        after: i64,
        labelled_only: bool,
        limit: i64,
    ) -> Result<Vec<LoggedPrediction>> {
        Ok(feedback::recent_predictions(self, name, version, after, labelled_only, limit).await?)
    }

    // ---- the MLflow-compatible API ----------------------------------------------------------
    async fn search_runs(&self, search: &RunSearch) -> Result<(Vec<Run>, bool)> {
        Ok(run_search::search(self, search).await?)
    }
    async fn log_run_inputs(
        &self,
        run_id: &str,
        datasets: &[DatasetInput],
        models: &[ModelLink],
    ) -> Result<()> {
        Ok(run_io::log_inputs(self, run_id, datasets, models).await?)
    }
    async fn log_run_outputs(&self, run_id: &str, models: &[ModelLink]) -> Result<()> {
        Ok(run_io::log_outputs(self, run_id, models).await?)
    }
    async fn get_run_io(&self, run_ids: &[String]) -> Result<Vec<RunIo>> {
        Ok(run_io::load(self, run_ids).await?)
    }
    async fn create_logged_model(&self, model: NewLoggedModel) -> Result<LoggedModel> {
        Ok(logged_models::create(self, model).await?)
    }
    async fn get_logged_model(&self, model_id: &str) -> Result<LoggedModel> {
        Ok(logged_models::get(self, model_id).await?)
    }
    async fn set_logged_model_status(
        &self,
        model_id: &str,
        status: LoggedModelStatus,
    ) -> Result<LoggedModel> {
        Ok(logged_models::set_status(self, model_id, status).await?)
    }
    async fn set_logged_model_tags(&self, model_id: &str, tags: &[Tag]) -> Result<()> {
        Ok(logged_models::set_tags(self, model_id, tags).await?)
    }
    async fn delete_logged_model_tag(&self, model_id: &str, key: &str) -> Result<()> {
        Ok(logged_models::delete_tag(self, model_id, key).await?)
    }
    async fn set_logged_model_state(&self, model_id: &str, state: LifecycleState) -> Result<()> {
        Ok(logged_models::set_state(self, model_id, state).await?)
    }
    async fn list_logged_models(&self, experiment_ids: &[i64]) -> Result<Vec<LoggedModel>> {
        Ok(logged_models::list(self, experiment_ids).await?)
    }
    async fn put_artifact_entry(&self, entry: &ArtifactEntry) -> Result<()> {
        Ok(artifact_tree::put(self, entry).await?)
    }
    async fn get_artifact_entry(&self, path: &str) -> Result<Option<ArtifactEntry>> {
        Ok(artifact_tree::get(self, path).await?)
    }
    async fn list_artifact_entries(&self, directory: &str) -> Result<Vec<ArtifactEntry>> {
        Ok(artifact_tree::list(self, directory).await?)
    }
    async fn set_registered_model_description(&self, name: &str, description: &str) -> Result<()> {
        Ok(registry::set_description(self, name, description).await?)
    }
    async fn set_model_version_description(
        &self,
        name: &str,
        version: i64,
        description: &str,
    ) -> Result<()> {
        Ok(versions::set_description(self, name, version, description).await?)
    }
    async fn delete_model_version_tag(&self, name: &str, version: i64, key: &str) -> Result<()> {
        Ok(versions::delete_tag(self, name, version, key).await?)
    }
}

//! The way back: a version registered to answer a feedback item (by the retraining command
//! or by hand, `--feedback ID`) is checked against the item, registered with the item's
//! version as its parent, and queued for validation against that parent.

use bascule_core::{Error, FeedbackUpdate, ModelVersion, NewTask, TaskKind};

use super::FEEDBACK_ACTOR;
use crate::registry::RegisterRequest;
use crate::{LifecycleError, Registry};

/// What a validation task carries.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct CandidateTask {
    pub name: String,
    pub version: i64,
    pub parent: i64,
    pub feedback_id: i64,
}

impl Registry {
    /// Registers a version answering feedback item `feedback_id`. Whatever goes wrong is
    /// recorded on the item as well as returned.
    pub async fn register_candidate(
        &self,
        mut request: RegisterRequest,
        feedback_id: i64,
    ) -> Result<ModelVersion, LifecycleError> {
        let item = self.store().get_feedback(feedback_id).await?;
        let refuse = |message: String| async move {
            self.note(feedback_id, "error", FEEDBACK_ACTOR, &message)
                .await;
            message
        };
        if item.name != request.name {
            let message = format!(
                "feedback item {feedback_id} is about model '{}', not '{}'",
                item.name, request.name
            );
            return Err(Error::invalid(refuse(message).await).into());
        }
        if !item.state.is_active() {
            let message = format!(
                "feedback item {feedback_id} is resolved; open a new one or register without --feedback"
            );
            return Err(Error::FailedPrecondition(refuse(message).await).into());
        }
        let parent = *request.lineage.parent_version.get_or_insert(item.version);
        if let Err(error) = self.store().get_model_version(&item.name, parent).await {
            let message = format!(
                "a candidate for feedback item {feedback_id} names parent version {parent}, \
                 which does not exist: {error}"
            );
            return Err(Error::invalid(refuse(message).await).into());
        }
        let actor = request.actor.clone();
        let version = match self.register(request).await {
            Ok(version) => version,
            Err(error) => {
                let message = format!("registering a candidate failed: {error}");
                self.note(feedback_id, "error", &actor, &message).await;
                return Err(error);
            }
        };
        self.store()
            .update_feedback(
                feedback_id,
                FeedbackUpdate {
                    candidate_version: Some(version.version),
                    ..FeedbackUpdate::default()
                },
            )
            .await?;
        self.note(
            feedback_id,
            "candidate",
            &actor,
            &format!(
                "version {} registered to answer this item (parent {parent}); it is validated \
                 against version {parent} on labelled production data logged after the export",
                version.version
            ),
        )
        .await;
        let payload = CandidateTask {
            name: version.name.clone(),
            version: version.version,
            parent,
            feedback_id,
        };
        let task = NewTask {
            kind: TaskKind::Validate,
            target: format!("{}@{}", version.name, version.version),
            feedback_id: Some(feedback_id),
            event: "validate".to_owned(),
            payload: serde_json::to_string(&payload)
                .map_err(|error| Error::internal("cannot encode a task", error))?,
        };
        self.store().enqueue_tasks(&[task]).await?;
        Ok(version)
    }
}

//! Rolling out the answer: for each answered feedback item whose model's promotion policy
//! is automatic, the Improved version is deployed as a canary, then promoted or rolled
//! back by the rule in [`super::promotion`]. A promoted answer resolves its item; a rolled
//! back one sends the item back to research (acknowledged) with the reason.

use bascule_core::{
    FeedbackItem, FeedbackState, FeedbackUpdate, LoggedPrediction, Role, Stage, StoredWindow,
};

use super::promotion::{Decision, PromotionMode, Side, decide};
use super::{FEEDBACK_ACTOR, FeedbackLoop};
use crate::gate::metrics::MetricName;
use crate::monitoring::window;
use crate::serving::{ChangeRequest, DeployCommand};
use crate::{LifecycleError, Registry};

/// Windows read per side when judging a canary.
const WINDOWS_READ: i64 = 200;

impl FeedbackLoop {
    /// One pass over the answered items; returns how many deployments it changed.
    pub(super) async fn roll_out(&self) -> Result<usize, LifecycleError> {
        let registry = &self.inner.registry;
        let answered = registry
            .store()
            .list_feedback(None, Some(FeedbackState::Answered), 100)
            .await?;
        let mut changed = 0;
        for item in answered {
            match self.roll_out_item(&item).await {
                Ok(true) => changed += 1,
                Ok(false) => {}
                Err(error) => {
                    tracing::warn!(%error, feedback = item.id, "cannot roll out an answer");
                }
            }
        }
        Ok(changed)
    }

    async fn roll_out_item(&self, item: &FeedbackItem) -> Result<bool, LifecycleError> {
        let registry = &self.inner.registry;
        let serving = &self.inner.serving;
        let Some(answer) = item.answered_by else {
            return Ok(false);
        };
        let deployment = serving.get(&item.name).await?;
        if deployment.live == Some(answer) {
            registry
                .close_answered(item, &format!("version {answer} is live"))
                .await?;
            return Ok(false);
        }
        let policy = registry.parsed_policy(&item.name).await?;
        if policy.promotion.mode == PromotionMode::Manual {
            return Ok(false);
        }
        // The answer beat the item's version; it rolls out only while that version is
        // the live one (otherwise it was never compared with what serves now).
        if deployment.live != Some(item.version) {
            return Ok(false);
        }
        let promotion = &policy.promotion;
        let canary = deployment.canary.as_ref().map(|c| c.version);
        if canary != Some(answer) {
            let stage = registry.get_version(&item.name, answer).await?.stage;
            if canary.is_some() || stage == Stage::Retired {
                // Another canary is running, or this answer was tried and rolled back.
                return Ok(false);
            }
            let (_, events) = serving
                .change(ChangeRequest {
                    name: item.name.clone(),
                    command: DeployCommand::Deploy {
                        version: answer,
                        role: Role::Canary,
                        percent: Some(promotion.canary_percent),
                    },
                    actor: FEEDBACK_ACTOR.to_owned(),
                    reason: Some(format!(
                        "promotion policy: canary for feedback item {} ({}% of traffic)",
                        item.id, promotion.canary_percent
                    )),
                })
                .await?;
            registry
                .note(
                    item.id,
                    "promotion",
                    FEEDBACK_ACTOR,
                    &format!(
                        "version {answer} deployed as a {}% canary ({} transition(s))",
                        promotion.canary_percent,
                        events.len()
                    ),
                )
                .await;
            return Ok(true);
        }
        let Some(live) = deployment.live else {
            return Ok(false);
        };
        let since = deployment.updated_time;
        let metric = policy.primary_metric().to_owned();
        let canary_side = registry
            .pooled_side(
                &item.name,
                answer,
                Role::Canary,
                since,
                &metric,
                promotion.windows,
            )
            .await?;
        if canary_side.windows < promotion.windows {
            // Too early to judge: the predictions are not read until the windows closed.
            return Ok(false);
        }
        let live_side = registry
            .pooled_side(&item.name, live, Role::Live, since, &metric, 0)
            .await?;
        let higher_is_better = MetricName::parse(&metric).is_none_or(|m| m.higher_is_better());
        let decision = decide(
            promotion,
            &metric,
            higher_is_better,
            &canary_side,
            &live_side,
        );
        let (command, reason) = match decision {
            Decision::Wait { .. } => return Ok(false),
            Decision::Promote { reason } => (DeployCommand::Promote, reason),
            Decision::Rollback { reason } => (DeployCommand::Rollback, reason),
        };
        let promoted = command == DeployCommand::Promote;
        serving
            .change(ChangeRequest {
                name: item.name.clone(),
                command,
                actor: FEEDBACK_ACTOR.to_owned(),
                reason: Some(format!("promotion policy: {reason}")),
            })
            .await?;
        if promoted {
            registry
                .note(
                    item.id,
                    "promotion",
                    FEEDBACK_ACTOR,
                    &format!("promoted version {answer}: {reason}"),
                )
                .await;
            registry
                .close_answered(item, &format!("version {answer} promoted to live"))
                .await?;
        } else {
            registry
                .note(
                    item.id,
                    "promotion",
                    FEEDBACK_ACTOR,
                    &format!("rolled back version {answer}: {reason}"),
                )
                .await;
            registry
                .store()
                .update_feedback(
                    item.id,
                    FeedbackUpdate {
                        from: vec![FeedbackState::Answered],
                        to: Some(FeedbackState::Acknowledged),
                        ..FeedbackUpdate::default()
                    },
                )
                .await?;
            registry
                .emit(
                    "deployment.rolled_back",
                    Some(item.id),
                    serde_json::json!({ "name": item.name, "version": answer, "reason": reason }),
                )
                .await;
        }
        Ok(true)
    }
}

impl Registry {
    /// Resolves an answered item whose answer went live.
    async fn close_answered(&self, item: &FeedbackItem, why: &str) -> Result<(), LifecycleError> {
        let resolved = self
            .store()
            .update_feedback(
                item.id,
                FeedbackUpdate {
                    from: vec![FeedbackState::Answered],
                    to: Some(FeedbackState::Resolved),
                    ..FeedbackUpdate::default()
                },
            )
            .await?;
        self.note(
            item.id,
            "resolved",
            FEEDBACK_ACTOR,
            &format!("resolved: {why}"),
        )
        .await;
        self.emit(
            "feedback.resolved",
            Some(item.id),
            serde_json::json!({ "feedback": resolved }),
        )
        .await;
        Ok(())
    }

    /// A version's windows in one role that started at or after `since`, pooled; fewer
    /// than `at_least` windows are only counted, their predictions not read.
    async fn pooled_side(
        &self,
        name: &str,
        version: i64,
        role: Role,
        since: i64,
        metric: &str,
        at_least: usize,
    ) -> Result<Side, LifecycleError> {
        let windows: Vec<StoredWindow> = self
            .store()
            .list_windows(name, Some(version), WINDOWS_READ)
            .await?
            .into_iter()
            .filter(|w| w.role == role && w.start_time >= since)
            .collect();
        if windows.len() < at_least {
            return Ok(Side {
                version,
                windows: windows.len(),
                health: window::health(&[]),
                metric: None,
                labelled: 0,
            });
        }
        let mut predictions: Vec<LoggedPrediction> = Vec::new();
        for stored in &windows {
            predictions.extend(self.store().window_predictions(stored).await?);
        }
        let report = self.validation_report(name, version).await?;
        let (metric_value, labelled) = match &report {
            Some((_, report)) => {
                let performance = window::performance(&predictions, report.task, &report.metrics);
                let value = performance
                    .metrics
                    .iter()
                    .find(|m| m.name == metric)
                    .and_then(|m| m.value);
                (value, performance.labelled)
            }
            None => (None, 0),
        };
        Ok(Side {
            version,
            windows: windows.len(),
            health: window::health(&predictions),
            metric: metric_value,
            labelled,
        })
    }
}

//! Validating a candidate: the same gate, against its parent, on the labelled production
//! predictions logged after the feedback item's export — the newest data, which the
//! retraining never saw (validating on the export itself would grade the model on its own
//! training data). The parent's original holdout is run too and reported beside it, not
//! judged: the alert says the world moved away from it. A candidate that passes is
//! Improved when it beats its parent on the primary metric — the bootstrap interval of
//! (candidate − parent) lies wholly on the better side of zero.

use bascule_core::{
    Error, Evidence, FeedbackState, FeedbackUpdate, Stage, Task, TaskOutcome, Transition,
    now_millis,
};
use bascule_datasets::Format;
use bytes::Bytes;

use super::FEEDBACK_ACTOR;
use super::candidate::CandidateTask;
use super::export::to_bytes;
use super::promotion::PromotionMode;
use crate::gate::metrics::MetricName;
use crate::gate::policy::Policy;
use crate::gate::{ValidateRequest, ValidationReport};
use crate::{LifecycleError, Registry};

/// How long a candidate waits between looks for fresh labelled data.
const LABEL_WAIT_MS: i64 = 2_000;

impl Registry {
    pub(crate) async fn validate_candidate(&self, task: &Task) -> TaskOutcome {
        let candidate: CandidateTask = match serde_json::from_str(&task.payload) {
            Ok(candidate) => candidate,
            Err(error) => {
                return TaskOutcome::Failed {
                    error: format!("unreadable task: {error}"),
                    status: None,
                    output: None,
                };
            }
        };
        match self.try_validate_candidate(&candidate, task).await {
            Ok(outcome) => outcome,
            Err(error) => {
                let message = format!("validating version {} failed: {error}", candidate.version);
                self.note(candidate.feedback_id, "error", FEEDBACK_ACTOR, &message)
                    .await;
                TaskOutcome::Failed {
                    error: message,
                    status: None,
                    output: None,
                }
            }
        }
    }

    async fn try_validate_candidate(
        &self,
        candidate: &CandidateTask,
        task: &Task,
    ) -> Result<TaskOutcome, LifecycleError> {
        let item = self.store().get_feedback(candidate.feedback_id).await?;
        let version = self
            .store()
            .get_model_version(&candidate.name, candidate.version)
            .await?;
        if version.stage != Stage::Prototype {
            return Ok(TaskOutcome::Done {
                status: None,
                output: Some(format!(
                    "version {} is already {}",
                    version.version, version.stage
                )),
            });
        }
        let after = item.export.as_ref().map_or(0, |e| e.last_prediction);
        let needed = self.feedback_config().min_fresh_labels;
        let limit = self.feedback_config().export_rows.max(needed) as i64;
        let fresh = self
            .store()
            .recent_predictions(&candidate.name, None, after, true, limit)
            .await?;
        if fresh.len() < needed {
            if task.attempts == 1 {
                self.note(
                    item.id,
                    "validation",
                    FEEDBACK_ACTOR,
                    &format!(
                        "version {} waits for {needed} labelled predictions logged after the \
                         export (prediction {after}); {} so far",
                        candidate.version,
                        fresh.len()
                    ),
                )
                .await;
            }
            return Ok(TaskOutcome::Retry {
                error: format!(
                    "waiting for labelled production data: {} of {needed}",
                    fresh.len()
                ),
                status: None,
                output: None,
                next_attempt_time: now_millis() + LABEL_WAIT_MS,
            });
        }
        let production = self
            .production_data(&candidate.name, candidate.parent, fresh)
            .await?;
        let (_, parent_report) = self
            .validation_report(&candidate.name, candidate.parent)
            .await?
            .ok_or_else(|| {
                Error::FailedPrecondition(format!(
                    "parent version {} was never validated",
                    candidate.parent
                ))
            })?;
        let label = parent_report.data.label.clone();
        let mut wanted: Vec<&str> = parent_report
            .data
            .features
            .iter()
            .map(String::as_str)
            .collect();
        wanted.push(&label);
        let frame = production
            .frame
            .select(&wanted)
            .map_err(|error| Error::invalid(format!("the production data: {error}")))?;
        let rows = frame.n_rows();
        let data = Bytes::from(to_bytes(&frame, Format::Csv)?);
        let mut also_report = Vec::new();
        match self.artifacts().get(&parent_report.data.digest).await {
            Ok(holdout) => also_report.push((
                format!("original holdout of version {}", candidate.parent),
                holdout,
                parent_report_format(&parent_report),
            )),
            Err(error) => {
                self.note(
                    item.id,
                    "validation",
                    FEEDBACK_ACTOR,
                    &format!(
                        "the original holdout of version {} is not stored ({error}); \
                         reporting on production data only",
                        candidate.parent
                    ),
                )
                .await;
            }
        }
        self.note(
            item.id,
            "validation",
            FEEDBACK_ACTOR,
            &format!(
                "validating version {} against version {} on {rows} labelled production rows \
                 (predictions {}..{})",
                candidate.version,
                candidate.parent,
                production.first_prediction,
                production.last_prediction
            ),
        )
        .await;
        let outcome = self
            .validate(ValidateRequest {
                name: candidate.name.clone(),
                version: candidate.version,
                data,
                format: Format::Csv,
                label: Some(label),
                actor: FEEDBACK_ACTOR.to_owned(),
                compare_with: Some(candidate.parent),
                also_report,
            })
            .await?;
        let report = outcome.report;
        if !report.passed {
            let message = format!(
                "version {} was Rejected: {}",
                candidate.version, outcome.event.reason
            );
            self.note(item.id, "validation", FEEDBACK_ACTOR, &message)
                .await;
            self.emit(
                "candidate.rejected",
                Some(item.id),
                serde_json::json!({ "name": candidate.name, "version": candidate.version, "reason": message }),
            )
            .await;
            return Ok(TaskOutcome::Done {
                status: None,
                output: Some(message),
            });
        }
        let policy = self.parsed_policy(&candidate.name).await?;
        let primary = policy.primary_metric().to_owned();
        match beats(&report, &primary) {
            Some(reason) => {
                self.mark_improved(candidate, &item.id, &reason, &policy)
                    .await?;
                Ok(TaskOutcome::Done {
                    status: None,
                    output: Some(reason),
                })
            }
            None => {
                let message = format!(
                    "version {} is Validated but does not beat version {} on {primary}: {}",
                    candidate.version,
                    candidate.parent,
                    describe_comparison(&report, &primary)
                );
                self.note(item.id, "validation", FEEDBACK_ACTOR, &message)
                    .await;
                Ok(TaskOutcome::Done {
                    status: None,
                    output: Some(message),
                })
            }
        }
    }

    async fn mark_improved(
        &self,
        candidate: &CandidateTask,
        feedback_id: &i64,
        reason: &str,
        policy: &Policy,
    ) -> Result<(), LifecycleError> {
        self.store()
            .transition(Transition {
                name: candidate.name.clone(),
                version: candidate.version,
                to: Stage::Improved,
                actor: FEEDBACK_ACTOR.to_owned(),
                reason: reason.to_owned(),
                evidence: Some(Evidence {
                    kind: "feedback".to_owned(),
                    reference: format!("/api/v1/feedback/{feedback_id}"),
                }),
            })
            .await?;
        let item = self
            .store()
            .update_feedback(
                *feedback_id,
                FeedbackUpdate {
                    from: vec![FeedbackState::Open, FeedbackState::Acknowledged],
                    to: Some(FeedbackState::Answered),
                    answered_by: Some(candidate.version),
                    ..FeedbackUpdate::default()
                },
            )
            .await?;
        let next = match policy.promotion.mode {
            PromotionMode::Auto => format!(
                "the promotion policy deploys it as a {}% canary",
                policy.promotion.canary_percent
            ),
            PromotionMode::Manual => format!(
                "promotion is manual: `bascule deploy {} {} --canary PCT`, then `bascule promote {}`",
                candidate.name, candidate.version, candidate.name
            ),
        };
        self.note(
            *feedback_id,
            "improved",
            FEEDBACK_ACTOR,
            &format!(
                "version {} is Improved: {reason}; {next}",
                candidate.version
            ),
        )
        .await;
        self.emit(
            "version.improved",
            Some(*feedback_id),
            serde_json::json!({ "name": candidate.name, "version": candidate.version, "parent": candidate.parent, "reason": reason, "feedback": item }),
        )
        .await;
        Ok(())
    }

    /// The model's policy, parsed (the default policy when it has none).
    pub(crate) async fn parsed_policy(&self, name: &str) -> Result<Policy, LifecycleError> {
        Ok(match self.store().get_validation_policy(name).await? {
            Some(stored) => Policy::parse(&stored.body, stored.format)
                .map_err(|e| Error::FailedPrecondition(format!("the stored policy: {e}")))?,
            None => Policy::default(),
        })
    }
}

fn parent_report_format(report: &ValidationReport) -> Format {
    match report.data.format.as_str() {
        "parquet" => Format::Parquet,
        _ => Format::Csv,
    }
}

/// `Some(why)` when the report's comparison on `metric` is wholly on the better side.
fn beats(report: &ValidationReport, metric: &str) -> Option<String> {
    let champion = report.champion.as_ref()?;
    let comparison = champion.comparisons.iter().find(|c| c.metric == metric)?;
    let higher_is_better = MetricName::parse(metric).is_none_or(|m| m.higher_is_better());
    let better = if higher_is_better {
        comparison.difference_low > 0.0
    } else {
        comparison.difference_high < 0.0
    };
    better.then(|| {
        format!(
            "beats version {} on {} labelled production rows: {metric} {:.4} vs {:.4}, \
             difference in [{:+.4}, {:+.4}] ({:.0}% CI)",
            champion.version,
            report.data.rows,
            comparison.candidate,
            comparison.champion,
            comparison.difference_low,
            comparison.difference_high,
            comparison.confidence * 100.0
        )
    })
}

fn describe_comparison(report: &ValidationReport, metric: &str) -> String {
    report
        .champion
        .as_ref()
        .and_then(|c| c.comparisons.iter().find(|c| c.metric == metric))
        .map_or_else(
            || format!("no comparison on {metric} in the report"),
            |c| {
                format!(
                    "{:.4} vs {:.4}, difference in [{:+.4}, {:+.4}]",
                    c.candidate, c.champion, c.difference_low, c.difference_high
                )
            },
        )
}

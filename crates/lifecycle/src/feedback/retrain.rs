//! The retraining trigger: the command from the server's configuration (never from an API
//! call), run without a shell with the export downloaded next to it and the feedback item
//! described in its environment, under a timeout. Its exit status and the tail of its
//! output are recorded on the task and the item; a failure or a timeout is retried up to
//! the configured attempts, a command that cannot be started is not.
//!
//! Environment: `BASCULE_FEEDBACK_ID`, `BASCULE_MODEL`, `BASCULE_PARENT_VERSION`,
//! `BASCULE_EXPORT_CSV`, `BASCULE_EXPORT_PARQUET`, `BASCULE_EXPORT_DIR`, `BASCULE_LABEL`,
//! `BASCULE_ATTEMPT` and, when the server knows its URL, `BASCULE_URL`.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use bascule_core::{
    FeedbackItem, FeedbackState, FeedbackUpdate, NewTask, Task, TaskKind, TaskOutcome, now_millis,
};

use super::{FEEDBACK_ACTOR, RetrainConfig};
use crate::{LifecycleError, Registry};

/// The most output kept from a run.
const OUTPUT_TAIL: usize = 16 * 1024;

impl Registry {
    pub(crate) async fn enqueue_retraining(&self, item: &FeedbackItem) {
        let Some(config) = &self.feedback_config().retrain else {
            self.note(
                item.id,
                "retraining",
                FEEDBACK_ACTOR,
                "no retraining command is configured ([feedback.retrain] in the server's \
                 configuration); retrain from the export and register with --feedback",
            )
            .await;
            return;
        };
        let task = NewTask {
            kind: TaskKind::Retrain,
            target: config.command.first().cloned().unwrap_or_default(),
            feedback_id: Some(item.id),
            event: "retrain".to_owned(),
            payload: serde_json::json!({ "feedback_id": item.id }).to_string(),
        };
        if let Err(error) = self.store().enqueue_tasks(&[task]).await {
            self.note(
                item.id,
                "error",
                FEEDBACK_ACTOR,
                &format!("cannot queue the retraining run: {error}"),
            )
            .await;
        }
    }

    /// A run's lease: its timeout and a margin, so a live run is never claimed twice.
    pub(crate) fn retrain_lease(&self) -> Duration {
        self.feedback_config()
            .retrain
            .as_ref()
            .map_or(Duration::from_secs(60), |config| config.timeout)
            + Duration::from_secs(60)
    }

    pub(crate) async fn run_retraining(&self, task: &Task) -> TaskOutcome {
        let failed = |error: String| TaskOutcome::Failed {
            error,
            status: None,
            output: None,
        };
        let Some(config) = self.feedback_config().retrain.clone() else {
            return failed("no retraining command is configured".to_owned());
        };
        let Some(feedback_id) = task.feedback_id else {
            return failed("the task names no feedback item".to_owned());
        };
        let item = match self.store().get_feedback(feedback_id).await {
            Ok(item) => item,
            Err(error) => return failed(format!("cannot read feedback item: {error}")),
        };
        let outcome = match self.retrain_once(&config, &item, task).await {
            Ok(outcome) => outcome,
            Err(error) => retry_or_fail(&config, task, format!("{error}"), None, None),
        };
        let message = match &outcome {
            TaskOutcome::Done { .. } => "the retraining command finished (exit 0)".to_owned(),
            TaskOutcome::Retry { error, .. } => {
                format!(
                    "retraining attempt {} failed: {error}; retrying",
                    task.attempts
                )
            }
            TaskOutcome::Failed { error, .. } => format!("retraining failed: {error}"),
        };
        let kind = match outcome {
            TaskOutcome::Done { .. } => "retraining",
            _ => "error",
        };
        self.note(item.id, kind, FEEDBACK_ACTOR, &message).await;
        self.emit(
            "retraining.finished",
            Some(item.id),
            serde_json::json!({
                "feedback_id": item.id,
                "attempt": task.attempts,
                "outcome": message,
            }),
        )
        .await;
        outcome
    }

    async fn retrain_once(
        &self,
        config: &RetrainConfig,
        item: &FeedbackItem,
        task: &Task,
    ) -> Result<TaskOutcome, LifecycleError> {
        let Some(export) = &item.export else {
            return Ok(TaskOutcome::Failed {
                error: "the feedback item has no export to retrain on".to_owned(),
                status: None,
                output: None,
            });
        };
        let Some(program) = config.command.first() else {
            return Ok(TaskOutcome::Failed {
                error: "the retraining command is empty".to_owned(),
                status: None,
                output: None,
            });
        };
        // Taken on: an open item becomes acknowledged (an item already further along stays).
        let _ = self
            .store()
            .update_feedback(
                item.id,
                FeedbackUpdate {
                    from: vec![FeedbackState::Open],
                    to: Some(FeedbackState::Acknowledged),
                    ..FeedbackUpdate::default()
                },
            )
            .await;
        let directory = std::env::temp_dir().join(format!(
            "bascule-retrain-{}-{}-{}",
            item.id, task.id, task.attempts
        ));
        tokio::fs::create_dir_all(&directory)
            .await
            .map_err(|error| {
                bascule_core::Error::internal("cannot create a work directory", error)
            })?;
        let csv = directory.join("export.csv");
        let parquet = directory.join("export.parquet");
        for (digest, path) in [
            (&export.csv_digest, &csv),
            (&export.parquet_digest, &parquet),
        ] {
            let bytes = self.artifacts().get(digest).await?;
            tokio::fs::write(path, &bytes)
                .await
                .map_err(|error| bascule_core::Error::internal("cannot write the export", error))?;
        }
        let label = self
            .validation_report(&item.name, item.version)
            .await?
            .map(|(_, report)| report.data.label)
            .unwrap_or_else(|| crate::gate::DEFAULT_LABEL.to_owned());
        self.note(
            item.id,
            "retraining",
            FEEDBACK_ACTOR,
            &format!(
                "retraining attempt {}: {}",
                task.attempts,
                config.command.join(" ")
            ),
        )
        .await;
        let mut command = tokio::process::Command::new(program);
        command
            .args(&config.command[1..])
            .env("BASCULE_FEEDBACK_ID", item.id.to_string())
            .env("BASCULE_MODEL", &item.name)
            .env("BASCULE_PARENT_VERSION", item.version.to_string())
            .env("BASCULE_EXPORT_CSV", &csv)
            .env("BASCULE_EXPORT_PARQUET", &parquet)
            .env("BASCULE_EXPORT_DIR", &directory)
            .env("BASCULE_LABEL", &label)
            .env("BASCULE_ATTEMPT", task.attempts.to_string())
            .env(
                "BASCULE_ACTOR",
                format!("retraining for feedback {}", item.id),
            )
            .current_dir(config.working_dir.as_deref().unwrap_or(&directory))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(url) = &self.feedback_config().server_url {
            command.env("BASCULE_URL", url);
        }
        let started = Instant::now();
        let outcome = match command.spawn() {
            Err(error) => TaskOutcome::Failed {
                error: format!("the retraining command `{program}` cannot be started: {error}"),
                status: None,
                output: None,
            },
            Ok(child) => {
                match tokio::time::timeout(config.timeout, child.wait_with_output()).await {
                    Err(_) => retry_or_fail(
                        config,
                        task,
                        format!(
                            "timed out after {} s and was killed",
                            config.timeout.as_secs_f64()
                        ),
                        None,
                        None,
                    ),
                    Ok(Err(error)) => retry_or_fail(
                        config,
                        task,
                        format!("cannot wait for it: {error}"),
                        None,
                        None,
                    ),
                    Ok(Ok(output)) => {
                        let text = tail(&output.stdout, &output.stderr);
                        let code = output.status.code().map(i64::from);
                        if output.status.success() {
                            TaskOutcome::Done {
                                status: code,
                                output: Some(text),
                            }
                        } else {
                            retry_or_fail(
                                config,
                                task,
                                format!(
                                    "exited with {} after {:.1} s",
                                    code.map_or("a signal".to_owned(), |c| format!("status {c}")),
                                    started.elapsed().as_secs_f64()
                                ),
                                code,
                                Some(text),
                            )
                        }
                    }
                }
            }
        };
        remove(&directory).await;
        Ok(outcome)
    }
}

fn retry_or_fail(
    config: &RetrainConfig,
    task: &Task,
    error: String,
    status: Option<i64>,
    output: Option<String>,
) -> TaskOutcome {
    if task.attempts >= i64::from(config.max_attempts) {
        TaskOutcome::Failed {
            error: format!(
                "{error} (attempt {} of {})",
                task.attempts, config.max_attempts
            ),
            status,
            output,
        }
    } else {
        TaskOutcome::Retry {
            error,
            status,
            output,
            next_attempt_time: now_millis()
                + super::webhook::backoff(task.attempts).as_millis() as i64,
        }
    }
}

/// The end of stdout then stderr, at most [`OUTPUT_TAIL`] bytes of each.
fn tail(stdout: &[u8], stderr: &[u8]) -> String {
    let cut = |bytes: &[u8]| {
        let start = bytes.len().saturating_sub(OUTPUT_TAIL);
        String::from_utf8_lossy(&bytes[start..]).into_owned()
    };
    let mut text = cut(stdout);
    let stderr = cut(stderr);
    if !stderr.is_empty() {
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&stderr);
    }
    text
}

async fn remove(directory: &Path) {
    if let Err(error) = tokio::fs::remove_dir_all(directory).await {
        tracing::debug!(%error, directory = %directory.display(), "cannot remove a work directory");
    }
}

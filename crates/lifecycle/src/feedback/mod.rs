//! Feedback: monitoring's findings go back to research, and the retrained version comes
//! back through the gate.
//!
//! An open alert opens a feedback item for its version (or extends the active one) with an
//! export of the recent production traffic (inputs, predictions, labels where known) as
//! CSV and Parquet in the artifact store. Opening it enqueues durable tasks in the store's
//! outbox: one webhook delivery per configured webhook (signed with HMAC-SHA256, retried
//! with exponential backoff) and a run of the retraining command from the server's
//! configuration. A version registered to answer the item (`feedback` id, parent) is
//! validated automatically by the same gate against its parent, on labelled production
//! data that arrived after the export (data the retraining never saw), with the original
//! holdout reported beside it; if it passes and beats its parent it is Improved, and the
//! model's promotion policy deploys it as a canary and promotes or rolls it back.
//!
//! Tasks are claimed with a lease, so a task whose worker died (a restart in the middle
//! of a delivery or a retraining run) is claimed again when the lease lapses: nothing is
//! lost, and a delivery may arrive twice (receivers deduplicate on `X-Bascule-Delivery`).

mod candidate;
mod export;
mod improve;
pub mod promotion;
mod retrain;
mod rollout;
mod webhook;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bascule_core::{
    Alert, FeedbackItem, FeedbackNote, FeedbackState, FeedbackUpdate, NewFeedback, NewTask, Task,
    TaskKind,
};
use tokio::task::JoinHandle;

pub use webhook::{WebhookTransport, signature};

use crate::serving::Serving;
use crate::{LifecycleError, Registry};

/// The actor the loop records its own steps under.
pub const FEEDBACK_ACTOR: &str = "bascule-feedback";

/// Everything the feedback loop is configured with (the server's configuration file only:
/// no API call can set a command to run).
#[derive(Debug, Clone)]
pub struct FeedbackConfig {
    pub webhooks: Vec<WebhookConfig>,
    pub retrain: Option<RetrainConfig>,
    /// Predictions (newest) exported with a feedback item (default 5000).
    pub export_rows: usize,
    /// Labelled predictions the version needs before its traffic is exported (and the
    /// retraining command runs): retraining on a handful of labels helps nobody
    /// (default 100).
    pub export_min_labels: usize,
    /// Labelled predictions logged after the export needed before a candidate is
    /// validated (default 200); until then its validation waits.
    pub min_fresh_labels: usize,
    /// The server's own URL, given to the retraining command as `BASCULE_URL`.
    pub server_url: Option<String>,
}

impl Default for FeedbackConfig {
    fn default() -> Self {
        FeedbackConfig {
            webhooks: Vec::new(),
            retrain: None,
            export_rows: 5000,
            export_min_labels: 100,
            min_fresh_labels: 200,
            server_url: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct WebhookConfig {
    pub name: String,
    pub url: String,
    /// The HMAC-SHA256 key of the `X-Bascule-Signature` header; unsigned without one.
    pub secret: Option<String>,
    /// Events sent (empty: all).
    pub events: Vec<String>,
    pub max_attempts: u32,
    pub timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct RetrainConfig {
    /// The program and its arguments (no shell).
    pub command: Vec<String>,
    pub timeout: Duration,
    pub max_attempts: u32,
    pub working_dir: Option<PathBuf>,
}

/// A feedback item with its history, tasks and alerts.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FeedbackDetail {
    pub item: FeedbackItem,
    pub notes: Vec<FeedbackNote>,
    pub tasks: Vec<Task>,
    pub alerts: Vec<Alert>,
}

impl Registry {
    pub async fn list_feedback(
        &self,
        name: Option<&str>,
        state: Option<FeedbackState>,
        limit: i64,
    ) -> Result<Vec<FeedbackItem>, LifecycleError> {
        if let Some(name) = name {
            self.store().get_registered_model(name).await?;
        }
        Ok(self.store().list_feedback(name, state, limit).await?)
    }

    pub async fn feedback(&self, id: i64) -> Result<FeedbackDetail, LifecycleError> {
        let item = self.store().get_feedback(id).await?;
        let notes = self.store().list_feedback_notes(id).await?;
        let tasks = self.store().list_tasks(Some(id), 1000).await?;
        let mut alerts = Vec::with_capacity(item.alert_ids.len());
        for alert_id in &item.alert_ids {
            alerts.push(self.store().get_alert(*alert_id).await?);
        }
        Ok(FeedbackDetail {
            item,
            notes,
            tasks,
            alerts,
        })
    }

    /// The outbox, newest first: of one feedback item when given.
    pub async fn tasks(
        &self,
        feedback_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Task>, LifecycleError> {
        if let Some(id) = feedback_id {
            self.store().get_feedback(id).await?;
        }
        Ok(self.store().list_tasks(feedback_id, limit).await?)
    }

    /// Someone takes the item on.
    pub async fn acknowledge_feedback(
        &self,
        id: i64,
        actor: &str,
        message: Option<&str>,
    ) -> Result<FeedbackItem, LifecycleError> {
        let item = self
            .store()
            .update_feedback(
                id,
                FeedbackUpdate {
                    from: vec![FeedbackState::Open],
                    to: Some(FeedbackState::Acknowledged),
                    ..FeedbackUpdate::default()
                },
            )
            .await?;
        self.note(id, "acknowledged", actor, message.unwrap_or("acknowledged"))
            .await;
        Ok(item)
    }

    /// Closes the item, naming the version that answers it when there is one.
    pub async fn resolve_feedback(
        &self,
        id: i64,
        actor: &str,
        version: Option<i64>,
        message: Option<&str>,
    ) -> Result<FeedbackItem, LifecycleError> {
        let current = self.store().get_feedback(id).await?;
        if let Some(version) = version {
            self.store()
                .get_model_version(&current.name, version)
                .await?;
        }
        let item = self
            .store()
            .update_feedback(
                id,
                FeedbackUpdate {
                    from: vec![
                        FeedbackState::Open,
                        FeedbackState::Acknowledged,
                        FeedbackState::Answered,
                    ],
                    to: Some(FeedbackState::Resolved),
                    answered_by: version,
                    ..FeedbackUpdate::default()
                },
            )
            .await?;
        let text = match (version, message) {
            (Some(v), Some(m)) => format!("resolved by version {v}: {m}"),
            (Some(v), None) => format!("resolved by version {v}"),
            (None, Some(m)) => format!("resolved: {m}"),
            (None, None) => "resolved".to_owned(),
        };
        self.note(id, "resolved", actor, &text).await;
        self.emit(
            "feedback.resolved",
            Some(id),
            serde_json::json!({ "feedback": item }),
        )
        .await;
        Ok(item)
    }

    /// Appends to an item's history; a failure is logged, never fatal to the step.
    pub(crate) async fn note(&self, feedback_id: i64, kind: &str, actor: &str, message: &str) {
        if let Err(error) = self
            .store()
            .add_feedback_note(feedback_id, kind, actor, message)
            .await
        {
            tracing::warn!(%error, feedback_id, kind, "cannot record a feedback note");
        }
    }

    /// Enqueues an event for every webhook that wants it.
    pub(crate) async fn emit(
        &self,
        event: &str,
        feedback_id: Option<i64>,
        data: serde_json::Value,
    ) {
        let webhooks = self.feedback_config().webhooks.clone();
        let tasks: Vec<NewTask> = webhooks
            .iter()
            .filter(|hook| hook.events.is_empty() || hook.events.iter().any(|e| e == event))
            .map(|hook| NewTask {
                kind: TaskKind::Webhook,
                target: hook.name.clone(),
                feedback_id,
                event: event.to_owned(),
                payload: serde_json::json!({
                    "event": event,
                    "time": bascule_core::now_millis(),
                    "data": data,
                })
                .to_string(),
            })
            .collect();
        if tasks.is_empty() {
            return;
        }
        if let Err(error) = self.store().enqueue_tasks(&tasks).await {
            tracing::error!(%error, event, "cannot enqueue webhook deliveries");
        }
    }
}

/// The feedback loop's background work: opening items from alerts, delivering webhooks,
/// running retraining, validating candidates and rolling out Improved versions.
#[derive(Debug, Clone)]
pub struct FeedbackLoop {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    registry: Registry,
    serving: Serving,
    transport: Arc<dyn WebhookTransport>,
    retraining: AtomicBool,
    validating: AtomicBool,
    /// Tasks this process holds, released (made due again) on a graceful stop.
    claimed: std::sync::Mutex<std::collections::HashSet<i64>>,
}

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoopSummary {
    pub opened: usize,
    pub extended: usize,
    pub delivered: usize,
    pub started: usize,
    pub rollouts: usize,
}

impl FeedbackLoop {
    pub fn new(registry: Registry, serving: Serving, transport: Arc<dyn WebhookTransport>) -> Self {
        FeedbackLoop {
            inner: Arc::new(Inner {
                registry,
                serving,
                transport,
                retraining: AtomicBool::new(false),
                validating: AtomicBool::new(false),
                claimed: std::sync::Mutex::new(std::collections::HashSet::new()),
            }),
        }
    }

    pub fn registry(&self) -> &Registry {
        &self.inner.registry
    }

    /// Runs [`FeedbackLoop::tick`] every `interval` until the process ends.
    pub fn run(&self, interval: Duration) -> JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                if let Err(error) = this.tick().await {
                    tracing::warn!(%error, "feedback pass failed");
                }
            }
        })
    }

    /// Makes the tasks this process holds due again (a graceful stop): the next process
    /// takes them over at once instead of waiting for their leases to lapse.
    pub async fn release(&self) {
        let held: Vec<i64> = self
            .inner
            .claimed
            .lock()
            .map(|claimed| claimed.iter().copied().collect())
            .unwrap_or_default();
        for id in held {
            let outcome = bascule_core::TaskOutcome::Retry {
                error: "the server stopped during this attempt".to_owned(),
                status: None,
                output: None,
                next_attempt_time: bascule_core::now_millis(),
            };
            if let Err(error) = self.inner.registry.store().finish_task(id, &outcome).await {
                tracing::warn!(%error, task = id, "cannot release a task");
            }
        }
    }

    pub(super) fn hold(&self, id: i64) {
        if let Ok(mut claimed) = self.inner.claimed.lock() {
            claimed.insert(id);
        }
    }

    pub(super) fn unhold(&self, id: i64) {
        if let Ok(mut claimed) = self.inner.claimed.lock() {
            claimed.remove(&id);
        }
    }

    /// One pass: each step's failure is logged and the others still run.
    pub async fn tick(&self) -> Result<LoopSummary, LifecycleError> {
        let mut summary = LoopSummary::default();
        let registry = &self.inner.registry;
        match registry.open_from_alerts().await {
            Ok((opened, extended)) => {
                summary.opened = opened;
                summary.extended = extended;
            }
            Err(error) => tracing::warn!(%error, "cannot open feedback from alerts"),
        }
        if let Err(error) = registry.export_waiting().await {
            tracing::warn!(%error, "cannot export feedback traffic");
        }
        match self.deliver_webhooks().await {
            Ok(delivered) => summary.delivered = delivered,
            Err(error) => tracing::warn!(%error, "cannot deliver webhooks"),
        }
        summary.started += self.start_background(TaskKind::Retrain).await?;
        summary.started += self.start_background(TaskKind::Validate).await?;
        match self.roll_out().await {
            Ok(changed) => summary.rollouts = changed,
            Err(error) => tracing::warn!(%error, "cannot apply the promotion policies"),
        }
        Ok(summary)
    }

    /// Claims one retraining or validation task and runs it off the loop, one of each
    /// kind at a time per process (retraining commands and validations are heavy).
    async fn start_background(&self, kind: TaskKind) -> Result<usize, LifecycleError> {
        let busy = match kind {
            TaskKind::Retrain => &self.inner.retraining,
            _ => &self.inner.validating,
        };
        if busy.swap(true, Ordering::AcqRel) {
            return Ok(0);
        }
        let lease = match kind {
            TaskKind::Retrain => self.inner.registry.retrain_lease(),
            _ => Duration::from_secs(600),
        };
        let claimed = self
            .inner
            .registry
            .store()
            .claim_task(kind, bascule_core::now_millis(), lease.as_millis() as i64)
            .await;
        let task = match claimed {
            Ok(Some(task)) => task,
            Ok(None) => {
                busy.store(false, Ordering::Release);
                return Ok(0);
            }
            Err(error) => {
                busy.store(false, Ordering::Release);
                return Err(error.into());
            }
        };
        self.hold(task.id);
        let this = self.clone();
        tokio::spawn(async move {
            let registry = &this.inner.registry;
            let outcome = match kind {
                TaskKind::Retrain => registry.run_retraining(&task).await,
                _ => registry.validate_candidate(&task).await,
            };
            if let Err(error) = registry.store().finish_task(task.id, &outcome).await {
                tracing::error!(%error, task = task.id, "cannot record a task's outcome");
            }
            this.unhold(task.id);
            let busy = match kind {
                TaskKind::Retrain => &this.inner.retraining,
                _ => &this.inner.validating,
            };
            busy.store(false, Ordering::Release);
        });
        Ok(1)
    }
}

impl Registry {
    /// Opens or extends feedback items for the open alerts no item holds yet.
    async fn open_from_alerts(&self) -> Result<(usize, usize), LifecycleError> {
        let alerts = self.store().unassigned_alerts(1000).await?;
        let mut by_version: std::collections::BTreeMap<(String, i64), Vec<Alert>> =
            std::collections::BTreeMap::new();
        for alert in alerts {
            by_version
                .entry((alert.name.clone(), alert.version))
                .or_default()
                .push(alert);
        }
        let (mut opened, mut extended) = (0, 0);
        for ((name, version), alerts) in by_version {
            // A version that no longer serves gets no feedback: nothing would act on it,
            // and monitoring resolves its alerts.
            if !self
                .store()
                .get_model_version(&name, version)
                .await?
                .stage
                .is_serving()
            {
                continue;
            }
            let summary = alerts
                .iter()
                .map(|a| format!("{}: {}", a.rule, shorten(&a.message, 160)))
                .collect::<Vec<_>>()
                .join("; ");
            let (item, created) = self
                .store()
                .open_feedback(NewFeedback {
                    name: name.clone(),
                    version,
                    summary: summary.clone(),
                    alert_ids: alerts.iter().map(|a| a.id).collect(),
                    window_id: alerts.iter().map(|a| a.last_window_id).max(),
                })
                .await?;
            if created {
                opened += 1;
                self.note(item.id, "opened", FEEDBACK_ACTOR, &summary).await;
                self.on_opened(&item).await;
            } else {
                extended += 1;
                self.note(
                    item.id,
                    "alert",
                    FEEDBACK_ACTOR,
                    &format!("new alert: {summary}"),
                )
                .await;
                self.emit(
                    "feedback.updated",
                    Some(item.id),
                    serde_json::json!({ "feedback": item, "alerts": alerts }),
                )
                .await;
            }
        }
        Ok((opened, extended))
    }

    /// A new item: tell the webhooks, then export the traffic and start retraining as
    /// soon as enough of it is labelled.
    async fn on_opened(&self, item: &FeedbackItem) {
        self.emit(
            "feedback.opened",
            Some(item.id),
            serde_json::json!({ "feedback": item }),
        )
        .await;
        if let Err(error) = self.export_when_labelled(item, true).await {
            self.note(
                item.id,
                "error",
                FEEDBACK_ACTOR,
                &format!("cannot export the production traffic: {error}"),
            )
            .await;
        }
    }

    /// Exports an active item's traffic once the version has `export_min_labels` labelled
    /// predictions, then queues the retraining run; returns whether it exported.
    async fn export_when_labelled(
        &self,
        item: &FeedbackItem,
        first_look: bool,
    ) -> Result<bool, LifecycleError> {
        let needed = self.feedback_config().export_min_labels;
        let labelled = self
            .store()
            .recent_predictions(&item.name, Some(item.version), 0, true, needed as i64)
            .await?
            .len();
        if labelled < needed {
            if first_look {
                self.note(
                    item.id,
                    "export",
                    FEEDBACK_ACTOR,
                    &format!(
                        "waiting for {needed} labelled predictions of version {} before \
                         exporting its traffic ({labelled} so far)",
                        item.version
                    ),
                )
                .await;
            }
            return Ok(false);
        }
        let item = self.export_feedback(item).await?;
        self.enqueue_retraining(&item).await;
        Ok(true)
    }

    /// Exports the active items still waiting for labels.
    async fn export_waiting(&self) -> Result<usize, LifecycleError> {
        let mut exported = 0;
        for state in [FeedbackState::Open, FeedbackState::Acknowledged] {
            for item in self.store().list_feedback(None, Some(state), 100).await? {
                if item.export.is_some() {
                    continue;
                }
                // One item's failure (its version's profile gone, say) leaves the others.
                match self.export_when_labelled(&item, false).await {
                    Ok(true) => exported += 1,
                    Ok(false) => {}
                    Err(error) => {
                        tracing::warn!(%error, feedback = item.id, "cannot export feedback traffic");
                    }
                }
            }
        }
        Ok(exported)
    }
}

/// At most `limit` characters of `text`, with an ellipsis when cut.
fn shorten(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

//! Monitoring: the prediction log of every serving version is cut into windows (by count,
//! or by age), and each closed window gets a report — input and prediction drift against
//! the reference profile the gate stored, live performance from the labels that arrived
//! (recomputed when more arrive, minutes or weeks later), model latency and errors — that
//! the model's alert rules judge. Alerts open, stay open (deduplicated) while their
//! condition holds, and resolve when a window clears it. The first window of a live
//! version moves it from Deployed to Monitored.
//!
//! The watcher runs beside serving, off its path: it reads the log from the store and
//! computes reports on the blocking pool, so serving never waits for it. Replicas sharing
//! a store may all watch: a window is stored once (the store refuses the second copy).

mod drift;
pub mod policy;
pub mod rules;
pub mod window;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bascule_core::{
    Alert, AlertState, Error, Evidence, Label, LabelReceipt, LabelSummary, LoggedPrediction,
    Millis, NewWindow, Role, Stage, StoredWindow, Transition, now_millis,
};
use tokio::task::JoinHandle;

pub use drift::WindowDrift;
pub use policy::{AlertRules, MonitoringPolicy};
pub use window::{Health, LatencyMs, LiveMetric, Performance};

use crate::gate::policy::{Policy, Task};
use crate::gate::{ReferenceProfile, ValidationReport};
use crate::{LifecycleError, Registry};

/// The window report's schema version.
pub const WINDOW_SCHEMA: u32 = 1;

/// The most labels one call may post.
pub const MAX_LABELS_PER_CALL: usize = 100_000;

/// The actor monitoring's transitions and alerts are recorded under.
pub const MONITOR_ACTOR: &str = "bascule-monitor";

/// What one window of a version's traffic looked like.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WindowReport {
    pub schema: u32,
    pub model: String,
    pub version: i64,
    pub role: Role,
    pub task: Option<Task>,
    pub first_prediction: i64,
    pub last_prediction: i64,
    pub start_time: Millis,
    pub end_time: Millis,
    pub health: Health,
    /// Input and prediction drift against the version's reference profile; `None` when
    /// there is no reference (see `drift_note`).
    pub drift: Option<WindowDrift>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift_note: Option<String>,
    /// Live performance on the labelled predictions; `None` without a validation report.
    pub performance: Option<Performance>,
}

/// What one pass of the watcher did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WatchSummary {
    pub windows: usize,
    pub relabelled: usize,
    pub alerts_changed: usize,
}

/// What the watcher keeps between passes: decoded references, and when each model's labels
/// were last looked at.
#[derive(Debug, Default)]
pub(crate) struct MonitorState {
    references: Mutex<HashMap<(String, i64), Arc<Reference>>>,
    labels_checked: Mutex<HashMap<String, Millis>>,
}

/// A version's validation report and reference profile, and the model's policy.
#[derive(Debug)]
struct Reference {
    report: Option<ValidationReport>,
    profile: Option<ReferenceProfile>,
    digest: Option<String>,
}

impl Registry {
    /// Stores ground-truth labels for a model's requests.
    pub async fn post_labels(
        &self,
        name: &str,
        labels: &[Label],
    ) -> Result<LabelReceipt, LifecycleError> {
        if labels.is_empty() {
            return Err(
                Error::invalid("no labels: send [{\"request_id\": …, \"label\": …}]").into(),
            );
        }
        if labels.len() > MAX_LABELS_PER_CALL {
            return Err(Error::invalid(format!(
                "{} labels in one call; send at most {MAX_LABELS_PER_CALL} per call",
                labels.len()
            ))
            .into());
        }
        if let Some(label) = labels.iter().find(|l| l.request_id.is_empty()) {
            return Err(Error::invalid(format!(
                "a label ({}) has an empty request_id",
                label.label
            ))
            .into());
        }
        self.store().get_registered_model(name).await?;
        Ok(self.store().insert_labels(name, labels).await?)
    }

    pub async fn label_summary(&self, name: &str) -> Result<LabelSummary, LifecycleError> {
        self.store().get_registered_model(name).await?;
        Ok(self.store().label_summary(name).await?)
    }

    pub async fn windows(
        &self,
        name: &str,
        version: Option<i64>,
        limit: i64,
    ) -> Result<Vec<StoredWindow>, LifecycleError> {
        self.store().get_registered_model(name).await?;
        Ok(self.store().list_windows(name, version, limit).await?)
    }

    pub async fn window(&self, name: &str, id: i64) -> Result<StoredWindow, LifecycleError> {
        Ok(self.store().get_window(name, id).await?)
    }

    pub async fn alerts(
        &self,
        name: Option<&str>,
        state: Option<AlertState>,
        limit: i64,
    ) -> Result<Vec<Alert>, LifecycleError> {
        if let Some(name) = name {
            self.store().get_registered_model(name).await?;
        }
        Ok(self.store().list_alerts(name, state, limit).await?)
    }

    pub async fn alert(&self, id: i64) -> Result<Alert, LifecycleError> {
        Ok(self.store().get_alert(id).await?)
    }

    /// Runs [`Registry::watch_once`] every `interval` until the process ends; a failing
    /// pass is logged and the next one tries again.
    pub fn watch(&self, interval: Duration) -> JoinHandle<()> {
        let registry = self.clone();
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                match registry.watch_once().await {
                    Ok(summary) if summary != WatchSummary::default() => {
                        tracing::debug!(?summary, "monitoring pass");
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "monitoring pass failed"),
                }
            }
        })
    }

    /// One pass over every deployment: closes the windows that are complete, recomputes
    /// the windows whose labels arrived, and applies the alert rules.
    pub async fn watch_once(&self) -> Result<WatchSummary, LifecycleError> {
        let mut summary = WatchSummary::default();
        let deployments = self.store().list_deployments().await?;
        match self.resolve_unserved_alerts(&deployments).await {
            Ok(resolved) => summary.alerts_changed += resolved,
            Err(error) => tracing::warn!(%error, "cannot resolve the alerts of retired versions"),
        }
        for deployment in deployments {
            let name = &deployment.name;
            let policy = self.model_policy(name).await?;
            let mut serving = Vec::new();
            serving.extend(deployment.live.map(|v| (v, Role::Live)));
            serving.extend(deployment.canary.map(|c| (c.version, Role::Canary)));
            serving.extend(deployment.shadow.map(|v| (v, Role::Shadow)));
            for (version, role) in serving {
                let closed = self
                    .close_windows(name, version, role, &policy, &mut summary)
                    .await;
                if let Err(error) = closed {
                    tracing::warn!(%error, name, version, %role, "cannot close a window");
                }
            }
            if let Err(error) = self.relabel(name, &policy, &mut summary).await {
                tracing::warn!(%error, name, "cannot recompute labelled windows");
            }
        }
        Ok(summary)
    }

    /// Resolves the open alerts of versions that no longer serve (retired, rolled back,
    /// undeployed): no window of theirs can clear or confirm the condition any more.
    async fn resolve_unserved_alerts(
        &self,
        deployments: &[bascule_core::Deployment],
    ) -> Result<usize, LifecycleError> {
        let serving: std::collections::HashSet<(&str, i64)> = deployments
            .iter()
            .flat_map(|d| {
                d.live
                    .into_iter()
                    .chain(d.canary.map(|c| c.version))
                    .chain(d.shadow)
                    .map(move |v| (d.name.as_str(), v))
            })
            .collect();
        let open = self
            .store()
            .list_alerts(None, Some(AlertState::Open), 10_000)
            .await?;
        let mut resolved = 0;
        for alert in open {
            if serving.contains(&(alert.name.as_str(), alert.version)) {
                continue;
            }
            let outcome = bascule_core::RuleOutcome {
                rule: alert.rule.clone(),
                severity: alert.severity,
                firing: false,
                message: format!("version {} no longer serves", alert.version),
                value: None,
                threshold: alert.threshold,
            };
            resolved += self
                .store()
                .apply_rule_outcomes(&alert.name, alert.version, alert.last_window_id, &[outcome])
                .await?
                .len();
        }
        Ok(resolved)
    }

    async fn model_policy(&self, name: &str) -> Result<MonitoringPolicy, LifecycleError> {
        Ok(match self.store().get_validation_policy(name).await? {
            // A stored policy was checked when it was set.
            Some(stored) => Policy::parse(&stored.body, stored.format)
                .map(|policy| policy.monitoring)
                .unwrap_or_default(),
            None => MonitoringPolicy::default(),
        })
    }

    /// The version's reference (validation report and profile), cached per validation.
    async fn reference(&self, name: &str, version: i64) -> Result<Arc<Reference>, LifecycleError> {
        let record = self.store().latest_validation(name, version).await?;
        let digest = record.as_ref().map(|r| r.profile_digest.clone());
        let key = (name.to_owned(), version);
        if let Some(cached) = self
            .monitoring_state()
            .references
            .lock()
            .ok()
            .and_then(|cache| cache.get(&key).cloned())
            && cached.digest == digest
        {
            return Ok(cached);
        }
        let report = self
            .validation_report(name, version)
            .await?
            .map(|(_, report)| report);
        let profile = self.reference_profile(name, version).await?;
        let reference = Arc::new(Reference {
            report,
            profile,
            digest,
        });
        if let Ok(mut cache) = self.monitoring_state().references.lock() {
            cache.insert(key, reference.clone());
        }
        Ok(reference)
    }

    async fn close_windows(
        &self,
        name: &str,
        version: i64,
        role: Role,
        policy: &MonitoringPolicy,
        summary: &mut WatchSummary,
    ) -> Result<(), LifecycleError> {
        let size = policy.window_size();
        let last = self.store().last_window(name, version, role).await?;
        let mut cursor = last.as_ref().map_or(0, |w| w.last_prediction);
        let interval_ms = policy.window_interval_ms();
        // When the next window may start (the last one's start plus the interval): what is
        // logged before then is in no window.
        let mut not_before = last
            .as_ref()
            .zip(interval_ms)
            .map(|(window, interval)| window.start_time.saturating_add(interval));
        loop {
            if let Some(start) = not_before {
                if now_millis() < start {
                    return Ok(());
                }
                let resume = self
                    .store()
                    .first_prediction_since(name, version, role, cursor, start)
                    .await?;
                let Some(resume) = resume else {
                    return Ok(());
                };
                cursor = cursor.max(resume - 1);
            }
            // Most passes find the next window still filling: count it before reading
            // (and decoding) its predictions.
            let pending = self
                .store()
                .pending_predictions(name, version, role, cursor, size as i64)
                .await?;
            let Some(oldest) = pending.oldest_time else {
                return Ok(());
            };
            let full = pending.count >= size;
            let aged = policy.window_seconds.is_some_and(|seconds| {
                now_millis() - oldest >= (seconds as i64).saturating_mul(1000)
            });
            if !full && !aged {
                return Ok(());
            }
            let reference = self.reference(name, version).await?;
            let rules = policy.alerts.clone();
            let drift_config = policy.drift.clone();
            let model = name.to_owned();
            let store = self.store().clone();
            let runtime = tokio::runtime::Handle::current();
            // The window is read on the background thread too: turning a thousand stored
            // rows into tensors is CPU work of the same kind as the report.
            let built = crate::background::run("a monitoring window's report", move || {
                let window = runtime.block_on(store.predictions_after(
                    &model,
                    version,
                    role,
                    cursor,
                    size as i64,
                ))?;
                if window.is_empty() {
                    return Ok(None);
                }
                let report =
                    build_report(&reference, &drift_config, &model, version, role, &window);
                let outcomes = report
                    .task
                    .map(|task| rules::evaluate(&rules, task, &report))
                    .unwrap_or_default();
                Ok::<_, Error>(Some((report, outcomes)))
            })
            .await??;
            let Some((report, outcomes)) = built else {
                return Ok(());
            };
            cursor = report.last_prediction;
            not_before = interval_ms.map(|interval| report.start_time.saturating_add(interval));
            let stored = self.store().insert_window(new_window(&report)?).await?;
            let Some(stored) = stored else {
                // Another replica stored a window starting here first. Its end can differ
                // from this one's (a time-based window closed on a longer or shorter read
                // of the log): the next pass resumes from the stored one.
                return Ok(());
            };
            summary.windows += 1;
            let changed = self
                .store()
                .apply_rule_outcomes(name, version, stored.id, &outcomes)
                .await?;
            summary.alerts_changed += changed.len();
            for alert in &changed {
                tracing::warn!(name, version, rule = %alert.rule, state = %alert.state, message = %alert.message, "alert");
            }
            if role == Role::Live {
                self.mark_monitored(name, version, &stored).await?;
            }
        }
    }

    /// Deployed → Monitored, with the first window as evidence.
    async fn mark_monitored(
        &self,
        name: &str,
        version: i64,
        window: &StoredWindow,
    ) -> Result<(), LifecycleError> {
        let current = self.store().get_model_version(name, version).await?;
        if current.stage != Stage::Deployed {
            return Ok(());
        }
        let transition = Transition {
            name: name.to_owned(),
            version,
            to: Stage::Monitored,
            actor: MONITOR_ACTOR.to_owned(),
            reason: format!(
                "first monitoring window closed: {} predictions",
                window.n_predictions
            ),
            evidence: Some(Evidence {
                kind: "monitoring_window".to_owned(),
                reference: format!("/api/v1/models/{name}/windows/{}", window.id),
            }),
        };
        match self.store().transition(transition).await {
            Ok(_) => Ok(()),
            // Another replica moved it first, or it was retired meanwhile.
            Err(error)
                if bascule_core::Coded::code(&error)
                    == bascule_core::ErrorCode::FailedPrecondition =>
            {
                Ok(())
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Recomputes the performance of windows whose labels arrived since their report.
    async fn relabel(
        &self,
        name: &str,
        policy: &MonitoringPolicy,
        summary: &mut WatchSummary,
    ) -> Result<(), LifecycleError> {
        let started = now_millis();
        let since = self
            .monitoring_state()
            .labels_checked
            .lock()
            .ok()
            .and_then(|checked| checked.get(name).copied())
            .unwrap_or(0);
        let windows = self.store().windows_with_new_labels(name, since).await?;
        for stored in windows {
            let Ok(mut report) = serde_json::from_str::<WindowReport>(&stored.report) else {
                continue;
            };
            let (Some(task), Some(validation)) = (
                report.task,
                self.reference(name, stored.version)
                    .await?
                    .report
                    .as_ref()
                    .map(|r| r.metrics.clone()),
            ) else {
                continue;
            };
            let rules = policy.alerts.clone();
            let store = self.store().clone();
            let runtime = tokio::runtime::Handle::current();
            let window = stored.clone();
            let (report, outcomes) =
                crate::background::run("recomputing a window's report", move || {
                    let predictions = runtime.block_on(store.window_predictions(&window))?;
                    report.performance = Some(window::performance(&predictions, task, &validation));
                    let outcomes: Vec<_> = rules::evaluate(&rules, task, &report)
                        .into_iter()
                        .filter(|o| o.rule.starts_with("metric_drop"))
                        .collect();
                    Ok::<_, Error>((report, outcomes))
                })
                .await??;
            let labelled = report.performance.as_ref().map_or(0, |p| p.labelled) as i64;
            let body = serde_json::to_string(&report)
                .map_err(|error| Error::internal("cannot encode a window report", error))?;
            self.store()
                .update_window(stored.id, labelled, &body)
                .await?;
            summary.relabelled += 1;
            let changed = self
                .store()
                .apply_rule_outcomes(name, stored.version, stored.id, &outcomes)
                .await?;
            summary.alerts_changed += changed.len();
        }
        if let Ok(mut checked) = self.monitoring_state().labels_checked.lock() {
            checked.insert(name.to_owned(), started);
        }
        Ok(())
    }
}

/// The report of one window (pure: runs on the background thread).
fn build_report(
    reference: &Reference,
    drift_config: &bascule_monitor::DriftConfig,
    name: &str,
    version: i64,
    role: Role,
    window: &[LoggedPrediction],
) -> WindowReport {
    let task = reference.report.as_ref().map(|r| r.task);
    let first = window.first();
    let last = window.last();
    let (drift, drift_note) = match (&reference.profile, task) {
        (Some(profile), Some(task)) => match drift::compute(profile, window, task, drift_config) {
            Ok(drift) => (Some(drift), None),
            Err(note) => (None, Some(note)),
        },
        _ => (
            None,
            Some(
                "the version has no validation, so there is no reference to compare with"
                    .to_owned(),
            ),
        ),
    };
    let performance = reference
        .report
        .as_ref()
        .map(|report| window::performance(window, report.task, &report.metrics));
    WindowReport {
        schema: WINDOW_SCHEMA,
        model: name.to_owned(),
        version,
        role,
        task,
        first_prediction: first.map_or(0, |p| p.id),
        last_prediction: last.map_or(0, |p| p.id),
        // The log orders a batch's records by arrival, and their times are when each
        // finished: the window's span is its earliest and latest, not its ends'.
        start_time: window.iter().map(|p| p.record.time).min().unwrap_or(0),
        end_time: window.iter().map(|p| p.record.time).max().unwrap_or(0),
        health: window::health(window),
        drift,
        drift_note,
        performance,
    }
}

fn new_window(report: &WindowReport) -> Result<NewWindow, LifecycleError> {
    Ok(NewWindow {
        name: report.model.clone(),
        version: report.version,
        role: report.role,
        first_prediction: report.first_prediction,
        last_prediction: report.last_prediction,
        start_time: report.start_time,
        end_time: report.end_time,
        n_predictions: report.health.predictions as i64,
        n_labelled: report.performance.as_ref().map_or(0, |p| p.labelled) as i64,
        drift_share: report.drift.as_ref().and_then(WindowDrift::drift_share),
        report: serde_json::to_string(report)
            .map_err(|error| Error::internal("cannot encode a window report", error))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prediction(id: i64, time: Millis) -> LoggedPrediction {
        LoggedPrediction {
            id,
            record: bascule_core::PredictionRecord {
                request_id: format!("req-{id}"),
                name: "m".to_owned(),
                version: 1,
                role: Role::Live,
                time,
                latency_micros: 10,
                inputs: Vec::new(),
                outputs: Vec::new(),
                error: None,
                agrees_with_live: None,
            },
            label: None,
        }
    }

    #[test]
    fn a_window_spans_its_earliest_and_latest_record_not_its_ends() {
        // A log batch keeps its records in arrival order; each is stamped when it finished,
        // so a slow first request can be stamped after its successors.
        let window = [
            prediction(7, 1_050),
            prediction(8, 1_010),
            prediction(9, 1_090),
            prediction(10, 1_070),
        ];
        let reference = Reference {
            report: None,
            profile: None,
            digest: None,
        };
        let config = bascule_monitor::DriftConfig::default();
        let report = build_report(&reference, &config, "m", 1, Role::Live, &window);
        assert_eq!((report.first_prediction, report.last_prediction), (7, 10));
        assert_eq!((report.start_time, report.end_time), (1_010, 1_090));
        assert!(report.drift.is_none() && report.drift_note.is_some());
    }
}

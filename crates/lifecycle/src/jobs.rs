//! Long-running work as job resources: a validation started with `Prefer: respond-async`
//! runs in the background while clients poll its phase and progress, then read its
//! outcome. Jobs live in the memory of the process that runs them (their results — the
//! report and the transition — are in the stores); finished jobs are kept for
//! [`RETENTION`] so a client can read the outcome.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bascule_core::{Coded, ErrorCode, Millis};

use crate::gate::{ValidateRequest, ValidationOutcome};
use crate::registry::Registry;

/// How long a finished job stays readable.
pub const RETENTION: Duration = Duration::from_secs(3600);

/// Where a piece of work is: its phase, and rows done of the phase's total (0 when the
/// phase has no count).
#[derive(Debug, Default)]
pub struct Progress {
    /// The phase and its total change together.
    phase: Mutex<(&'static str, u64)>,
    done: AtomicU64,
}

/// A copy of a [`Progress`] at one moment.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProgressSnapshot {
    pub phase: &'static str,
    pub done: u64,
    pub total: u64,
}

impl Progress {
    /// Enters a phase with `total` units of work (0: uncounted).
    pub fn phase(&self, phase: &'static str, total: usize) {
        let mut current = self.phase.lock().unwrap_or_else(PoisonError::into_inner);
        *current = (phase, total as u64);
        self.done.store(0, Ordering::Relaxed);
    }

    pub fn set_done(&self, done: usize) {
        self.done.store(done as u64, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> ProgressSnapshot {
        let (phase, total) = *self.phase.lock().unwrap_or_else(PoisonError::into_inner);
        ProgressSnapshot {
            phase,
            done: self.done.load(Ordering::Relaxed).min(total),
            total,
        }
    }
}

/// What a job has come to.
#[derive(Debug, Clone)]
pub enum JobState {
    Running,
    Succeeded(Box<ValidationOutcome>),
    /// Why it could not finish; nothing was recorded (the gate writes all or nothing).
    Failed {
        code: ErrorCode,
        message: String,
    },
}

impl JobState {
    pub fn as_str(&self) -> &'static str {
        match self {
            JobState::Running => "running",
            JobState::Succeeded(_) => "succeeded",
            JobState::Failed { .. } => "failed",
        }
    }
}

/// One background validation.
#[derive(Debug)]
pub struct Job {
    pub id: String,
    pub kind: &'static str,
    pub model: String,
    pub version: i64,
    pub actor: String,
    pub started: Millis,
    pub progress: Arc<Progress>,
    state: Mutex<(JobState, Option<Millis>)>,
    finished_at: Mutex<Option<Instant>>,
}

impl Job {
    /// The state, and when it finished (epoch milliseconds) if it has.
    pub fn state(&self) -> (JobState, Option<Millis>) {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn finish(&self, state: JobState) {
        *self.state.lock().unwrap_or_else(PoisonError::into_inner) =
            (state, Some(bascule_core::now_millis()));
        *self
            .finished_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
    }

    fn expired(&self) -> bool {
        self.finished_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some_and(|at| at.elapsed() > RETENTION)
    }
}

/// The jobs of this process.
#[derive(Debug, Default)]
pub struct Jobs {
    table: Mutex<HashMap<String, Arc<Job>>>,
}

impl Jobs {
    pub fn get(&self, id: &str) -> Option<Arc<Job>> {
        self.table
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
            .cloned()
    }

    fn insert(&self, job: Arc<Job>) {
        let mut table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        table.retain(|_, job| !job.expired());
        table.insert(job.id.clone(), job);
    }
}

impl Registry {
    /// Starts validating a version in the background and returns its job at once.
    pub fn start_validation(&self, request: ValidateRequest) -> Arc<Job> {
        let progress = Arc::new(Progress::default());
        progress.phase("queued", 0);
        let job = Arc::new(Job {
            id: uuid::Uuid::new_v4().simple().to_string(),
            kind: "validation",
            model: request.name.clone(),
            version: request.version,
            actor: request.actor.clone(),
            started: bascule_core::now_millis(),
            progress: progress.clone(),
            state: Mutex::new((JobState::Running, None)),
            finished_at: Mutex::new(None),
        });
        self.jobs().insert(job.clone());
        let registry = self.clone();
        let running = job.clone();
        tokio::spawn(async move {
            let state = match registry.validate_with_progress(request, progress).await {
                Ok(outcome) => JobState::Succeeded(Box::new(outcome)),
                Err(error) => JobState::Failed {
                    code: error.code(),
                    message: error.to_string(),
                },
            };
            tracing::info!(job = %running.id, state = state.as_str(), "job finished");
            running.finish(state);
        });
        job
    }

    /// A job of this process, if it exists and has not expired.
    pub fn job(&self, id: &str) -> Option<Arc<Job>> {
        self.jobs().get(id).filter(|job| !job.expired())
    }
}

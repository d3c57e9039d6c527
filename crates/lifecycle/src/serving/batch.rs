//! Adaptive batching: concurrent requests to one served version are run as one batch when
//! the model is configured for it. A few batches run at once (one per core); while they all
//! run, requests queue, and the next batch takes every queued request (up to `max_rows`
//! rows) as soon as one finishes. So the batch size follows the load: a lone request runs
//! at once, alone, and a saturated model runs full batches, with no timer involved. With a
//! `max_wait`, a batch that is not full yet also waits, up to that long after its first
//! request, for requests on their way: those the server has taken in for the model and is
//! still reading or parsing ([`Arriving`]). Nobody on the way, no wait: closed-loop
//! callers fewer than a batch's rows do not make every batch wait out the wait.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bascule_core::{EngineError, LoadedModel, Tensor};
use tokio::sync::{Semaphore, mpsc, oneshot};

/// How one model's requests are batched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchingConfig {
    /// Rows in one batch at most.
    pub max_rows: usize,
    /// How long after its first request a batch that is not full may wait for requests on
    /// their way ([`Arriving`]; zero: a batch takes what is queued when a run slot frees,
    /// and never waits).
    pub max_wait: Duration,
}

/// Batches of one model running at once: one per core, so that while they all run the
/// queue gathers the next batch.
fn run_slots() -> usize {
    std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
}

/// How many requests to one batched model are on their way: taken in by the server, not
/// queued for a batch yet.
#[derive(Debug, Default)]
pub struct OnTheirWay(AtomicUsize);

impl OnTheirWay {
    fn count(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
}

/// One request on its way to a batched model ([`crate::serving::Serving::arriving`]):
/// counted until it is dropped, which the caller does just before running the request.
#[derive(Debug)]
pub struct Arriving(Arc<OnTheirWay>);

impl Arriving {
    pub(crate) fn new(way: &Arc<OnTheirWay>) -> Self {
        way.0.fetch_add(1, Ordering::Relaxed);
        Arriving(way.clone())
    }
}

impl Drop for Arriving {
    fn drop(&mut self) {
        self.0.0.fetch_sub(1, Ordering::Relaxed);
    }
}

type Reply = oneshot::Sender<Result<(Vec<Tensor>, Duration), EngineError>>;

struct Queued {
    inputs: Vec<Tensor>,
    rows: usize,
    reply: Reply,
}

/// The batching queue of one served version.
#[derive(Debug)]
pub struct Batcher {
    sender: mpsc::Sender<Queued>,
    /// Batches run, and requests answered through them.
    pub batches: Arc<AtomicU64>,
    pub requests: Arc<AtomicU64>,
}

impl std::fmt::Debug for Queued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queued").field("rows", &self.rows).finish()
    }
}

impl Batcher {
    pub fn start(
        plan: Arc<dyn LoadedModel>,
        config: BatchingConfig,
        on_their_way: Arc<OnTheirWay>,
    ) -> Self {
        let (sender, receiver) = mpsc::channel(config.max_rows.max(1) * 4);
        let batches = Arc::new(AtomicU64::new(0));
        let requests = Arc::new(AtomicU64::new(0));
        tokio::spawn(collect(
            plan,
            config,
            on_their_way,
            receiver,
            batches.clone(),
            requests.clone(),
        ));
        Batcher {
            sender,
            batches,
            requests,
        }
    }

    /// Runs one request's inputs (in signature order) as part of a batch; returns its
    /// outputs and the batch's run time.
    pub async fn run(&self, inputs: Vec<Tensor>) -> Result<(Vec<Tensor>, Duration), EngineError> {
        let rows = inputs
            .first()
            .and_then(|t| t.shape.first().copied())
            .unwrap_or(1);
        let (reply, answer) = oneshot::channel();
        self.sender
            .send(Queued {
                inputs,
                rows,
                reply,
            })
            .await
            .map_err(|_| EngineError::Failed("the batching queue is closed".into()))?;
        answer
            .await
            .map_err(|_| EngineError::Failed("the batch was dropped".into()))?
    }
}

async fn collect(
    plan: Arc<dyn LoadedModel>,
    config: BatchingConfig,
    on_their_way: Arc<OnTheirWay>,
    mut receiver: mpsc::Receiver<Queued>,
    batches: Arc<AtomicU64>,
    requests: Arc<AtomicU64>,
) {
    let slots = Arc::new(Semaphore::new(run_slots()));
    while let Some(first) = receiver.recv().await {
        let deadline = tokio::time::Instant::now() + config.max_wait;
        // While every slot is busy, what arrives queues for this batch.
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let mut rows = first.rows;
        let mut queued = vec![first];
        while rows < config.max_rows {
            let next = match receiver.try_recv() {
                Ok(next) => next,
                Err(mpsc::error::TryRecvError::Empty)
                    if !config.max_wait.is_zero() && on_their_way.count() > 0 =>
                {
                    match tokio::time::timeout_at(deadline, receiver.recv()).await {
                        Ok(Some(next)) => next,
                        _ => break,
                    }
                }
                Err(_) => break,
            };
            rows += next.rows;
            queued.push(next);
        }
        batches.fetch_add(1, Ordering::Relaxed);
        requests.fetch_add(queued.len() as u64, Ordering::Relaxed);
        let plan = plan.clone();
        // The batch runs off the reactor; the next one gathers meanwhile.
        tokio::task::spawn_blocking(move || {
            run_batch(&*plan, queued);
            drop(slot);
        });
    }
}

/// Runs the requests as one batch and answers each with its rows; a batch that cannot be
/// split by rows (or fails) is run request by request, so one bad request fails alone.
fn run_batch(plan: &dyn LoadedModel, queued: Vec<Queued>) {
    if queued.len() == 1 {
        let mut queued = queued;
        if let Some(only) = queued.pop() {
            answer_alone(plan, only);
        }
        return;
    }
    let total: usize = queued.iter().map(|q| q.rows).sum();
    let Some(inputs) = concatenate(&queued) else {
        queued.into_iter().for_each(|q| answer_alone(plan, q));
        return;
    };
    let started = Instant::now();
    match plan.run(inputs) {
        Ok(outputs) if outputs.iter().all(|o| o.shape.first() == Some(&total)) => {
            let elapsed = started.elapsed();
            let mut start = 0;
            for q in queued {
                let end = start + q.rows;
                let part = outputs.iter().map(|o| o.rows(start, end)).collect();
                let _ = q.reply.send(Ok((part, elapsed)));
                start = end;
            }
        }
        _ => queued.into_iter().for_each(|q| answer_alone(plan, q)),
    }
}

fn answer_alone(plan: &dyn LoadedModel, queued: Queued) {
    let started = Instant::now();
    let result = plan
        .run(queued.inputs)
        .map(|outputs| (outputs, started.elapsed()));
    let _ = queued.reply.send(result);
}

/// The requests' inputs joined along the first axis, input by input; `None` when they do
/// not line up (names or types differ).
fn concatenate(queued: &[Queued]) -> Option<Vec<Tensor>> {
    let first = &queued.first()?.inputs;
    let mut joined: Vec<Tensor> = first.clone();
    for q in &queued[1..] {
        if q.inputs.len() != joined.len() {
            return None;
        }
        for (whole, part) in joined.iter_mut().zip(&q.inputs) {
            if whole.name != part.name || whole.append_rows(part).is_err() {
                return None;
            }
        }
    }
    Some(joined)
}

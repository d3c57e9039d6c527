//! Running a request: resolve the version that answers it, check the inputs, run the
//! model (inline when it is known to be cheap, else on the blocking pool), log the
//! prediction, and copy the request to the shadow after the answer is computed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bascule_core::{
    Coded, EngineError, ErrorCode, PredictionRecord, Role, Signature, Tensor, TensorData,
};

use super::inputs::check_inputs;
use super::routes::Served;
use super::{Serving, ServingError};

/// The version chosen to answer one request, and the shadow that gets a copy.
#[derive(Debug, Clone)]
pub struct Target {
    pub name: String,
    pub served: Arc<Served>,
    pub shadow: Option<Arc<Served>>,
}

impl Target {
    pub fn version(&self) -> i64 {
        self.served.version
    }
    pub fn role(&self) -> Role {
        self.served.role
    }
    pub fn signature(&self) -> &Signature {
        self.served.plan.signature()
    }
}

/// A model's answer. Its prediction-log record is sent when the answer is dropped, taking
/// the outputs with it: the response is serialised from them first, so the log needs no
/// copy. Handlers drop it before they return, so a request is logged before it is answered.
#[derive(Debug)]
pub struct Prediction {
    outputs: Vec<Tensor>,
    record: Option<(Serving, PredictionRecord)>,
}

impl std::ops::Deref for Prediction {
    type Target = Vec<Tensor>;

    fn deref(&self) -> &Vec<Tensor> {
        &self.outputs
    }
}

impl Drop for Prediction {
    fn drop(&mut self) {
        if let Some((serving, mut record)) = self.record.take() {
            record.outputs = std::mem::take(&mut self.outputs);
            serving.inner.log.record(record);
        }
    }
}

impl Serving {
    /// The version answering a request for `name` (or exactly `version`, if it serves);
    /// `route_key` places the request on the canary or the live version.
    pub fn resolve(
        &self,
        name: &str,
        version: Option<i64>,
        route_key: &str,
    ) -> Result<Target, ServingError> {
        let not_deployed = || ServingError::NotDeployed {
            name: name.to_owned(),
        };
        let route = self.routes().get(name).ok_or_else(not_deployed)?;
        let served = match version {
            Some(version) => {
                route
                    .version(version)
                    .ok_or_else(|| ServingError::VersionNotServing {
                        name: name.to_owned(),
                        version,
                        serving: route.describe(),
                    })?
            }
            None => route.choose(route_key).ok_or_else(not_deployed)?,
        };
        let shadow = route
            .shadow
            .as_ref()
            .filter(|shadow| shadow.version != served.version)
            .cloned();
        Ok(Target {
            name: name.to_owned(),
            served: served.clone(),
            shadow,
        })
    }

    /// Answers one request. The prediction is logged without waiting (when the answer is
    /// dropped; a failure at once); the shadow runs after the answer is computed, off the
    /// response path. The answering version's counters record the request, its outcome
    /// and its latency.
    pub async fn predict(
        &self,
        target: &Target,
        inputs: Vec<Tensor>,
        request_id: &str,
    ) -> Result<Prediction, ServingError> {
        let started = Instant::now();
        let result = self.answer(target, inputs, request_id).await;
        let error = result.as_ref().err().map(Coded::code);
        target.served.stats.record(started.elapsed(), error);
        result
    }

    async fn answer(
        &self,
        target: &Target,
        inputs: Vec<Tensor>,
        request_id: &str,
    ) -> Result<Prediction, ServingError> {
        let inputs = check_inputs(target.signature(), inputs, self.config().max_batch_rows)?;
        let logging = self.inner.log.is_enabled();
        let shadow_inputs = target.shadow.as_ref().map(|_| inputs.clone());
        let budget = self.config().inline_budget;
        let ((result, elapsed), returned) = run(&target.served, inputs, budget, logging).await?;
        let logged_inputs = returned.filter(|_| logging);
        let shadow_run = match (&target.shadow, shadow_inputs, &result) {
            (Some(shadow), Some(inputs), Ok(outputs)) => {
                Some((shadow.clone(), inputs, outputs.clone()))
            }
            _ => None,
        };
        let record = logged_inputs.map(|logged_inputs| PredictionRecord {
            request_id: request_id.to_owned(),
            name: target.name.clone(),
            version: target.version(),
            role: target.role(),
            time: bascule_core::now_millis(),
            latency_micros: micros(elapsed),
            inputs: logged_inputs,
            outputs: Vec::new(),
            error: result.as_ref().err().map(ToString::to_string),
            agrees_with_live: None,
        });
        if let Some((shadow, inputs, outputs)) = shadow_run {
            let serving = self.clone();
            let name = target.name.clone();
            let request_id = request_id.to_owned();
            tokio::spawn(async move {
                serving
                    .run_shadow(name, shadow, inputs, outputs, request_id, budget)
                    .await;
            });
        }
        match result {
            Ok(outputs) => Ok(Prediction {
                outputs,
                record: record.map(|record| (self.clone(), record)),
            }),
            Err(error) => {
                if let Some(record) = record {
                    self.inner.log.record(record);
                }
                Err(match error {
                    EngineError::BadInput(message) => ServingError::BadInput(message),
                    other => ServingError::Engine(other),
                })
            }
        }
    }

    async fn run_shadow(
        &self,
        name: String,
        shadow: Arc<Served>,
        inputs: Vec<Tensor>,
        live_outputs: Vec<Tensor>,
        request_id: String,
        budget: Duration,
    ) {
        let ((outputs, error, elapsed), returned) = match run(&shadow, inputs, budget, true).await {
            Ok(((Ok(outputs), elapsed), returned)) => ((outputs, None, elapsed), returned),
            Ok(((Err(error), elapsed), returned)) => {
                ((Vec::new(), Some(failure(&error)), elapsed), returned)
            }
            Err(error) => ((Vec::new(), Some(failure(&error)), Duration::ZERO), None),
        };
        let logged_inputs = returned.unwrap_or_default();
        shadow
            .stats
            .record(elapsed, error.as_ref().map(|(code, _)| *code));
        let error = error.map(|(_, message)| message);
        let agrees = error.is_none() && agree(&outputs, &live_outputs);
        self.inner.log.record(PredictionRecord {
            request_id,
            name,
            version: shadow.version,
            role: Role::Shadow,
            time: bascule_core::now_millis(),
            latency_micros: micros(elapsed),
            inputs: logged_inputs,
            outputs,
            error,
            agrees_with_live: Some(agrees),
        });
    }
}

fn failure(error: &(impl Coded + ToString)) -> (ErrorCode, String) {
    (error.code(), error.to_string())
}

type Run = (Result<Vec<Tensor>, EngineError>, Duration);

/// Runs the model on `inputs` and hands them back: the engine only borrows them. A
/// batching queue keeps them, so for it they are copied first, and only when `keep` (the
/// log wants them).
async fn run(
    served: &Arc<Served>,
    inputs: Vec<Tensor>,
    budget: Duration,
    keep: bool,
) -> Result<(Run, Option<Vec<Tensor>>), ServingError> {
    if let Some(batcher) = &served.batcher {
        let kept = keep.then(|| inputs.clone());
        let run = match batcher.run(inputs).await {
            Ok((outputs, elapsed)) => (Ok(outputs), elapsed),
            Err(error) => (Err(error), Duration::ZERO),
        };
        return Ok((run, kept));
    }
    let n_elements: usize = inputs.iter().map(|tensor| tensor.data.len()).sum();
    let timed = move |served: &Served, inputs: Vec<Tensor>| {
        let started = Instant::now();
        let result = served.plan.run_borrowed(&inputs);
        let elapsed = started.elapsed();
        served.record_cost(n_elements, elapsed);
        ((result, elapsed), Some(inputs))
    };
    if served.fits_inline(n_elements, budget) {
        return Ok(timed(served, inputs));
    }
    let served = served.clone();
    tokio::task::spawn_blocking(move || timed(&served, inputs))
        .await
        .map_err(|error| ServingError::Task(error.to_string()))
}

/// Whether two answers are the same: names, shapes and datatypes equal, integers and
/// strings exactly, floats within 1e-5 (absolute and relative).
fn agree(a: &[Tensor], b: &[Tensor]) -> bool {
    let close = |x: f64, y: f64| (x - y).abs() <= 1e-5 * (1.0 + x.abs().max(y.abs()));
    a.len() == b.len()
        && a.iter().zip(b).all(|(a, b)| {
            a.name == b.name
                && a.shape == b.shape
                && match (&a.data, &b.data) {
                    (TensorData::Fp32(x), TensorData::Fp32(y)) => x
                        .iter()
                        .zip(y)
                        .all(|(x, y)| close(f64::from(*x), f64::from(*y))),
                    (TensorData::Fp64(x), TensorData::Fp64(y)) => {
                        x.iter().zip(y).all(|(x, y)| close(*x, *y))
                    }
                    (x, y) => x == y,
                }
        })
}

fn micros(elapsed: Duration) -> i64 {
    i64::try_from(elapsed.as_micros()).unwrap_or(i64::MAX)
}

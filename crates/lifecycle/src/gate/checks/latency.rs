//! In-process latency: single-row and batch runs of the loaded model, timed one by one.

use std::time::Instant;

use bascule_core::{LoadedModel, Tensor};

use crate::gate::GateError;
use crate::gate::policy::LatencyPolicy;
use crate::gate::report::{CheckResult, LatencyResult};

pub fn measure(
    model: &dyn LoadedModel,
    inputs: &[Tensor],
    n_rows: usize,
    policy: &LatencyPolicy,
) -> Result<(LatencyResult, Vec<CheckResult>), GateError> {
    let time = |start: usize, end: usize| -> Result<f64, GateError> {
        let batch: Vec<Tensor> = inputs.iter().map(|t| t.rows(start, end)).collect();
        let started = Instant::now();
        model.run(batch).map_err(GateError::Inference)?;
        Ok(started.elapsed().as_secs_f64() * 1000.0)
    };
    let mut single = Vec::with_capacity(policy.runs);
    for run in 0..policy.runs {
        let row = run % n_rows;
        single.push(time(row, row + 1)?);
    }
    let batch_size = policy.batch_size.min(n_rows);
    let mut batch = Vec::with_capacity(policy.runs);
    for run in 0..policy.runs {
        let start = (run * batch_size) % (n_rows - batch_size + 1);
        batch.push(time(start, start + batch_size)?);
    }
    let summary = |samples: &[f64]| {
        bascule_stats::latency_summary(samples)
            .map_err(|e| GateError::Output(format!("latency samples: {e}")))
    };
    let (single, batch) = (summary(&single)?, summary(&batch)?);
    let result = LatencyResult {
        runs: policy.runs,
        batch_size,
        single_p50_ms: single.p50,
        single_p99_ms: single.p99,
        batch_p50_ms: batch.p50,
        batch_p99_ms: batch.p99,
    };
    let mut checks = Vec::new();
    for (name, budget, measured) in [
        ("single-row p50", policy.p50_ms, single.p50),
        ("single-row p99", policy.p99_ms, single.p99),
        ("batch p50", policy.batch_p50_ms, batch.p50),
        ("batch p99", policy.batch_p99_ms, batch.p99),
    ] {
        let check = format!("latency: {name}");
        match budget {
            Some(budget) => checks.push(CheckResult::judged(
                check,
                measured <= budget,
                format!("≤ {budget} ms"),
                format!("{measured:.3} ms"),
            )),
            None => checks.push(CheckResult::reported(check, format!("{measured:.3} ms"))),
        }
    }
    Ok((result, checks))
}

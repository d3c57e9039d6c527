//! Engine agreement: the version runs on every other engine of this process over the same
//! data, and each must agree with the serving engine — labels and other exact outputs
//! equal, floating-point outputs within [`DEFAULT_TOLERANCE`] (relative above 1).

use std::sync::Arc;

use bascule_core::{LoadedModel, Tensor};
use bascule_runtime::{AgreementReport, DEFAULT_TOLERANCE, compare_runs};

use super::super::inference::run_all;
use super::super::report::{CheckResult, EngineAgreement, OutputAgreement};
use crate::jobs::Progress;

/// Another engine's loaded model, or why it could not load the version.
pub type OtherEngine = (&'static str, Result<Arc<dyn LoadedModel>, String>);

pub const CHECK: &str = "engines agree";

/// Runs `others` on `inputs`, compares them with `outputs` (the serving engine's), and
/// returns the report's entries and checks. An engine that cannot run the version at all
/// is reported, not judged: the version is served by an engine that can.
pub fn check(
    serving: &str,
    outputs: &[Tensor],
    others: Vec<OtherEngine>,
    inputs: &[Tensor],
    n_rows: usize,
    progress: &Progress,
) -> (Vec<EngineAgreement>, Vec<CheckResult>) {
    if others.is_empty() {
        return (
            Vec::new(),
            vec![CheckResult::reported(
                CHECK,
                format!(
                    "only {serving} is configured; set BASCULE_ONNXRUNTIME_LIB to compare it with onnxruntime"
                ),
            )],
        );
    }
    let mut entries = Vec::new();
    let mut checks = Vec::new();
    for (engine, loaded) in others {
        let ran = loaded.and_then(|model| {
            run_all(&*model, inputs, n_rows, |done| progress.set_done(done))
                .map_err(|error| error.to_string())
        });
        let ran_at_all = ran.is_ok();
        let report = compare_runs(
            vec![
                (serving.to_owned(), Ok(outputs.to_vec())),
                (engine.to_owned(), ran),
            ],
            DEFAULT_TOLERANCE,
        );
        let entry = entry(engine, &report);
        let name = format!("{CHECK}: {engine} vs {serving}");
        if ran_at_all {
            checks.push(CheckResult::judged(
                name,
                entry.agrees,
                format!("labels equal, scores within {DEFAULT_TOLERANCE:e} on all {n_rows} rows"),
                describe(&entry),
            ));
        } else {
            checks.push(CheckResult::reported(
                name,
                format!(
                    "{engine} cannot run this version ({}); it is served by {serving}",
                    entry.error.as_deref().unwrap_or("no reason given")
                ),
            ));
        }
        entries.push(entry);
    }
    (entries, checks)
}

fn entry(engine: &str, report: &AgreementReport) -> EngineAgreement {
    let run = report.engines.iter().find(|run| run.engine == engine);
    EngineAgreement {
        engine: engine.to_owned(),
        agrees: report.agree,
        tolerance: report.tolerance,
        error: run.and_then(|run| run.error.clone()),
        outputs: run
            .map(|run| {
                run.outputs
                    .iter()
                    .map(|o| OutputAgreement {
                        name: o.name.clone(),
                        max_difference: o.max_difference,
                        mismatches: o.mismatches,
                        problem: o.problem.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

fn describe(entry: &EngineAgreement) -> String {
    entry
        .outputs
        .iter()
        .map(|o| match &o.problem {
            Some(problem) => format!("{}: {problem}", o.name),
            None => format!(
                "{}: {} mismatches, largest difference {:.1e}",
                o.name, o.mismatches, o.max_difference
            ),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

//! Running one model on every available engine and checking they agree: integer and string
//! outputs (labels) exactly, floating-point outputs within a tolerance. The validation gate
//! records the report with the version.

use bascule_core::{InferenceEngine, Tensor, TensorData};

/// Floating-point outputs agree when `|a - b| <= tolerance * max(1, |b|)`.
pub const DEFAULT_TOLERANCE: f64 = 1e-5;

/// What running one model on several engines showed.
#[derive(Debug, Clone, PartialEq)]
pub struct AgreementReport {
    /// The engine every other one is compared with (the first given).
    pub reference: String,
    pub tolerance: f64,
    pub engines: Vec<EngineRun>,
    /// Every engine loaded and ran the model, and every comparison agreed.
    pub agree: bool,
}

/// One engine's part of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineRun {
    pub engine: String,
    /// Why the engine could not load or run the model, if it could not.
    pub error: Option<String>,
    /// Per output, how it compares with the reference (empty for the reference itself).
    pub outputs: Vec<OutputComparison>,
}

/// One output of one engine against the reference's.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputComparison {
    pub name: String,
    /// The largest scaled difference among floating-point elements (0 for exact outputs).
    pub max_difference: f64,
    /// How many elements differ beyond the tolerance (or at all, for exact outputs).
    pub mismatches: usize,
    /// Why the outputs cannot be compared element by element (missing, shape, type), if so.
    pub problem: Option<String>,
}

impl OutputComparison {
    pub fn agrees(&self) -> bool {
        self.problem.is_none() && self.mismatches == 0
    }
}

/// Runs `onnx` on every engine with the same `inputs` and compares each engine's outputs
/// with the first engine's.
pub fn check_agreement(
    engines: &[&dyn InferenceEngine],
    onnx: &[u8],
    inputs: &[Tensor],
    tolerance: f64,
) -> AgreementReport {
    let runs = engines
        .iter()
        .map(|engine| {
            let outputs = engine
                .load(onnx)
                .and_then(|model| model.run(inputs.to_vec()))
                .map_err(|error| error.to_string());
            (engine.name().to_owned(), outputs)
        })
        .collect();
    compare_runs(runs, tolerance)
}

/// Compares engines' outputs for the same inputs: each `(engine, outputs or why it could
/// not run)` with the first engine that ran. The validation gate calls this with the
/// outputs it already computed, so the serving engine does not run twice.
pub fn compare_runs(
    runs: Vec<(String, Result<Vec<Tensor>, String>)>,
    tolerance: f64,
) -> AgreementReport {
    let mut reports = Vec::with_capacity(runs.len());
    let mut reference: Option<Vec<Tensor>> = None;
    let reference_engine = runs.first().map(|(engine, _)| engine.clone());
    for (engine, result) in runs {
        let mut run = EngineRun {
            engine,
            error: None,
            outputs: Vec::new(),
        };
        match result {
            Err(error) => run.error = Some(error),
            Ok(outputs) => match &reference {
                None => reference = Some(outputs),
                Some(expected) => {
                    run.outputs = expected
                        .iter()
                        .map(|want| {
                            compare(
                                want,
                                outputs.iter().find(|o| o.name == want.name),
                                tolerance,
                            )
                        })
                        .collect();
                }
            },
        }
        reports.push(run);
    }
    let agree = !reports.is_empty()
        && reports
            .iter()
            .all(|run| run.error.is_none() && run.outputs.iter().all(OutputComparison::agrees));
    AgreementReport {
        reference: reference_engine.unwrap_or_default(),
        tolerance,
        engines: reports,
        agree,
    }
}

fn compare(want: &Tensor, got: Option<&Tensor>, tolerance: f64) -> OutputComparison {
    let mut comparison = OutputComparison {
        name: want.name.clone(),
        max_difference: 0.0,
        mismatches: 0,
        problem: None,
    };
    let Some(got) = got else {
        comparison.problem = Some("the engine did not return this output".into());
        return comparison;
    };
    if got.shape != want.shape {
        comparison.problem = Some(format!(
            "shape {:?} where the reference has {:?}",
            got.shape, want.shape
        ));
        return comparison;
    }
    if got.data.datatype() != want.data.datatype() {
        comparison.problem = Some(format!(
            "type {} where the reference has {}",
            got.data.datatype(),
            want.data.datatype()
        ));
        return comparison;
    }
    match (&want.data, &got.data) {
        (TensorData::Fp32(_) | TensorData::Fp64(_), _) => {
            let (Some(want), Some(got)) = (want.data.to_f64(), got.data.to_f64()) else {
                comparison.problem = Some("not numeric".into());
                return comparison;
            };
            for (want, got) in want.iter().zip(&got) {
                let scaled = (got - want).abs() / want.abs().max(1.0);
                let scaled = if scaled.is_nan() {
                    if got.is_nan() && want.is_nan() {
                        0.0
                    } else {
                        f64::INFINITY
                    }
                } else {
                    scaled
                };
                comparison.max_difference = comparison.max_difference.max(scaled);
                if scaled > tolerance {
                    comparison.mismatches += 1;
                }
            }
        }
        (want_data, got_data) => {
            comparison.mismatches = match (want_data, got_data) {
                (TensorData::Bytes(a), TensorData::Bytes(b)) => {
                    a.iter().zip(b).filter(|(a, b)| a != b).count()
                }
                _ => {
                    let (a, b) = (
                        want_data.to_f64().unwrap_or_default(),
                        got_data.to_f64().unwrap_or_default(),
                    );
                    a.iter().zip(&b).filter(|(a, b)| a != b).count()
                }
            };
        }
    }
    comparison
}

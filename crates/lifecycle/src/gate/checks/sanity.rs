//! Sanity of the outputs: finite numbers, probabilities that are probabilities, and the
//! same answers on a repeated run.

use bascule_core::{Tensor, TensorData};

use crate::gate::inference::OutputRoles;
use crate::gate::report::CheckResult;

/// How far a row of probabilities may sum from 1 (float32 outputs; numpy's `allclose`
/// tolerance is 1e-8 + 1e-5).
pub const SUM_TOLERANCE: f64 = 1e-5;

/// Rows re-run to check determinism.
pub const REPEAT_ROWS: usize = 1024;

pub fn finite_outputs(outputs: &[Tensor]) -> CheckResult {
    let mut total = 0usize;
    let mut bad = Vec::new();
    for output in outputs {
        let Some(values) = output.data.to_f64() else {
            continue;
        };
        total += values.len();
        let count = values.iter().filter(|v| !v.is_finite()).count();
        if count > 0 {
            bad.push(format!("{count} in '{}'", output.name));
        }
    }
    let measured = if bad.is_empty() {
        format!("0 NaN or infinite values among {total}")
    } else {
        format!("NaN or infinite values: {}", bad.join(", "))
    };
    CheckResult::judged(
        "sanity: outputs are finite",
        bad.is_empty(),
        "no NaN or infinite output".to_owned(),
        measured,
    )
}

pub fn probabilities(outputs: &[Tensor], roles: &OutputRoles) -> Option<CheckResult> {
    let output = &outputs[roles.probabilities?];
    let n_classes = *output.shape.get(1)?;
    let values = output.data.to_f64()?;
    let out_of_range = values
        .iter()
        .filter(|p| !(**p >= 0.0 && **p <= 1.0))
        .count();
    let mut worst_sum_error = 0.0f64;
    let mut rows_off = 0usize;
    for row in values.chunks(n_classes) {
        let error = (row.iter().sum::<f64>() - 1.0).abs();
        if error.is_nan() || error > SUM_TOLERANCE {
            rows_off += 1;
        }
        if error.is_nan() || error > worst_sum_error {
            worst_sum_error = error;
        }
    }
    let passed = out_of_range == 0 && rows_off == 0;
    Some(CheckResult::judged(
        format!("sanity: '{}' are probabilities", output.name),
        passed,
        format!("every value in [0, 1], every row summing to 1 ± {SUM_TOLERANCE:e}"),
        format!(
            "{out_of_range} values outside [0, 1]; {rows_off} rows off (largest |sum − 1| = {worst_sum_error:.2e})"
        ),
    ))
}

/// Compares a repeated run of the first rows with the first run, bit for bit.
pub fn repeatable(first: &[Tensor], again: &[Tensor], rows: usize) -> CheckResult {
    let differing: Vec<String> = first
        .iter()
        .zip(again)
        .filter(|(a, b)| !same_prefix(&a.data, &b.data, b.data.len()))
        .map(|(a, _)| format!("'{}'", a.name))
        .collect();
    CheckResult::judged(
        "sanity: repeated run gives identical outputs",
        differing.is_empty(),
        format!("identical outputs when the first {rows} rows run again"),
        if differing.is_empty() {
            "identical".to_owned()
        } else {
            format!("outputs {} differ", differing.join(", "))
        },
    )
}

fn same_prefix(whole: &TensorData, part: &TensorData, n: usize) -> bool {
    match (whole, part) {
        (TensorData::Bool(a), TensorData::Bool(b)) => a.get(..n) == Some(b),
        (TensorData::Int32(a), TensorData::Int32(b)) => a.get(..n) == Some(b),
        (TensorData::Int64(a), TensorData::Int64(b)) => a.get(..n) == Some(b),
        (TensorData::Fp32(a), TensorData::Fp32(b)) => a
            .get(..n)
            .is_some_and(|a| a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())),
        (TensorData::Fp64(a), TensorData::Fp64(b)) => a
            .get(..n)
            .is_some_and(|a| a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())),
        (TensorData::Bytes(a), TensorData::Bytes(b)) => a.get(..n) == Some(b),
        _ => false,
    }
}

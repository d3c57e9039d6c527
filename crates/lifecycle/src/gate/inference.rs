//! Running a model over a whole data set in batches, and reading its outputs as
//! predictions of a task (inferred from the outputs when the policy does not say).

use bascule_core::{LoadedModel, Tensor, TensorData};

use super::GateError;
use super::metrics::{Predictions, Truth};
use super::policy::Task;

/// Rows per inference batch: large enough to amortise a call, small enough to bound the
/// memory of intermediate tensors.
pub const BATCH_ROWS: usize = 8192;

/// Runs `inputs` (all rows) through the model in batches and concatenates the outputs.
pub fn run_all(
    model: &dyn LoadedModel,
    inputs: &[Tensor],
    n_rows: usize,
    mut progress: impl FnMut(usize),
) -> Result<Vec<Tensor>, GateError> {
    let mut outputs: Vec<Tensor> = Vec::new();
    let mut start = 0;
    while start < n_rows {
        let end = (start + BATCH_ROWS).min(n_rows);
        let batch = inputs.iter().map(|t| t.rows(start, end)).collect();
        let produced = model.run(batch).map_err(GateError::Inference)?;
        if outputs.is_empty() {
            outputs = produced;
        } else {
            for (whole, part) in outputs.iter_mut().zip(produced) {
                whole.append_rows(&part).map_err(GateError::Output)?;
            }
        }
        start = end;
        progress(end);
    }
    Ok(outputs)
}

/// Where a classifier's or regressor's answers are among its outputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputRoles {
    pub task: Task,
    /// Index of the probability output `[N, k]` (classification).
    pub probabilities: Option<usize>,
    /// Index of the predicted-class output (classification; argmax when absent).
    pub label: Option<usize>,
    /// Index of the value output (regression).
    pub value: Option<usize>,
}

/// Infers the task from the outputs (of a first batch), checked against the policy's.
pub fn output_roles(
    outputs: &[Tensor],
    n_rows: usize,
    declared: Option<Task>,
) -> Result<OutputRoles, GateError> {
    let is_float = |t: &Tensor| matches!(t.data, TensorData::Fp32(_) | TensorData::Fp64(_));
    let is_int = |t: &Tensor| matches!(t.data, TensorData::Int64(_) | TensorData::Int32(_));
    let probabilities = outputs
        .iter()
        .position(|t| is_float(t) && t.shape.len() == 2 && t.shape[1] >= 2);
    let label = outputs
        .iter()
        .position(|t| is_int(t) && t.data.len() == n_rows);
    let value = outputs
        .iter()
        .position(|t| is_float(t) && t.data.len() == n_rows);
    let inferred = match (probabilities, value) {
        (Some(p), _) if outputs[p].shape[1] == 2 => Some(Task::Binary),
        (Some(_), _) => Some(Task::Multiclass),
        (None, Some(_)) => Some(Task::Regression),
        (None, None) => None,
    };
    let described: Vec<String> = outputs
        .iter()
        .map(|t| format!("'{}' {} {:?}", t.name, t.data.datatype(), t.shape))
        .collect();
    let Some(task) = inferred else {
        return Err(GateError::Output(format!(
            "cannot tell the task from the model's outputs ({}): the gate expects an int64 \
             label and float probabilities [N, k] (classification) or one float output \
             (regression)",
            described.join(", ")
        )));
    };
    if let Some(declared) = declared
        && declared != task
    {
        return Err(GateError::Policy(format!(
            "the policy says {} but the model's outputs ({}) are those of {}",
            declared.describe(),
            described.join(", "),
            task.describe()
        )));
    }
    Ok(OutputRoles {
        task,
        probabilities,
        label,
        value,
    })
}

/// Reads the outputs as predictions.
pub fn predictions(outputs: &[Tensor], roles: &OutputRoles) -> Result<Predictions, GateError> {
    let as_f64 = |index: usize| {
        outputs[index].data.to_f64().ok_or_else(|| {
            GateError::Output(format!("output '{}' is not numeric", outputs[index].name))
        })
    };
    if roles.task == Task::Regression {
        let index = roles
            .value
            .ok_or_else(|| GateError::Output("no value output".into()))?;
        return Ok(Predictions::Values(as_f64(index)?));
    }
    let index = roles
        .probabilities
        .ok_or_else(|| GateError::Output("no probability output".into()))?;
    let n_classes = outputs[index].shape[1];
    let probabilities = as_f64(index)?;
    let predicted = match roles.label {
        Some(label) => {
            let classes = as_f64(label)?;
            let mut predicted = Vec::with_capacity(classes.len());
            for class in classes {
                if !(class >= 0.0 && class < n_classes as f64) {
                    return Err(GateError::Output(format!(
                        "the model predicts class {class}, outside 0..{n_classes}: the gate \
                         needs classifiers whose classes are the indices 0..k-1"
                    )));
                }
                predicted.push(class as usize);
            }
            predicted
        }
        None => probabilities
            .chunks(n_classes)
            .map(|row| {
                row.iter()
                    .enumerate()
                    .fold((0, f64::NEG_INFINITY), |best, (i, &p)| {
                        if p > best.1 { (i, p) } else { best }
                    })
                    .0
            })
            .collect(),
    };
    Ok(Predictions::Classes {
        predicted,
        probabilities,
        n_classes,
    })
}

/// The label column as the truth of a task; refuses labels that are not class indices.
pub fn truth(values: &[f64], label: &str, predictions: &Predictions) -> Result<Truth, GateError> {
    match predictions {
        Predictions::Values(_) => {
            if let Some(row) = values.iter().position(|v| !v.is_finite()) {
                return Err(GateError::Data(format!(
                    "label column '{label}' holds {} at row {}; regression targets must be finite",
                    values[row],
                    row + 1
                )));
            }
            Ok(Truth::Values(values.to_vec()))
        }
        Predictions::Classes { n_classes, .. } => {
            let mut classes = Vec::with_capacity(values.len());
            for (row, &value) in values.iter().enumerate() {
                if value.fract() != 0.0 || value < 0.0 || value >= *n_classes as f64 {
                    return Err(GateError::Data(format!(
                        "label column '{label}' holds {value} at row {}; the model has \
                         {n_classes} classes, so labels must be class indices 0..{}",
                        row + 1,
                        n_classes - 1
                    )));
                }
                classes.push(value as usize);
            }
            Ok(Truth::Classes(classes))
        }
    }
}

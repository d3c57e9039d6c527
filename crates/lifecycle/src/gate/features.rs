//! From a data set to a model's input tensors and to the true labels.
//!
//! A model with one 2-D numeric input takes the data set's non-label columns in file
//! order; a model with one input per column takes them by name; a policy's `features`
//! table maps input names to columns when neither fits. Every refusal names the
//! offending columns.

use std::collections::{BTreeMap, BTreeSet};

use bascule_core::{DataType, Signature, Tensor, TensorData, TensorSpec};
use bascule_datasets::{ColumnValues, Frame};

use super::GateError;

/// The columns feeding each model input, in signature order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureMapping {
    pub inputs: Vec<(TensorSpec, Vec<String>)>,
}

impl FeatureMapping {
    /// Every column feeding the model, in first-use order.
    pub fn columns(&self) -> Vec<&str> {
        let mut seen = BTreeSet::new();
        self.inputs
            .iter()
            .flat_map(|(_, columns)| columns.iter().map(String::as_str))
            .filter(|column| seen.insert(*column))
            .collect()
    }
}

/// Decides which columns feed which input. `allowed_extra` are columns the data set may
/// hold besides the features and the label (slice columns).
pub fn map_features(
    frame: &Frame,
    signature: &Signature,
    mapping: &BTreeMap<String, Vec<String>>,
    label: &str,
    allowed_extra: &[&str],
) -> Result<FeatureMapping, GateError> {
    let available: Vec<&str> = frame.names().filter(|name| *name != label).collect();
    let input_names: BTreeSet<&str> = signature.inputs.iter().map(|i| i.name.as_str()).collect();
    let unknown: Vec<&String> = mapping
        .keys()
        .filter(|name| !input_names.contains(name.as_str()))
        .collect();
    if !unknown.is_empty() {
        return Err(GateError::Policy(format!(
            "features: the model has no input named {} (its inputs: {})",
            quoted(unknown),
            quoted(&input_names)
        )));
    }
    let single_matrix = signature.inputs.len() == 1 && signature.inputs[0].shape.len() == 2;
    let mut inputs = Vec::new();
    for spec in &signature.inputs {
        let columns = if let Some(columns) = mapping.get(&spec.name) {
            columns.clone()
        } else if single_matrix {
            available.iter().map(|c| (*c).to_owned()).collect()
        } else {
            vec![spec.name.clone()]
        };
        inputs.push((spec.clone(), columns));
    }
    let result = FeatureMapping { inputs };

    let used: BTreeSet<&str> = result.columns().into_iter().collect();
    let missing: Vec<&str> = used
        .iter()
        .copied()
        .filter(|c| frame.column(c).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(GateError::Data(format!(
            "the data set lacks the column(s) {} that the model needs (it has {})",
            quoted(&missing),
            quoted(&available)
        )));
    }
    let extra: Vec<&str> = available
        .iter()
        .copied()
        .filter(|c| !used.contains(c) && !allowed_extra.contains(c))
        .collect();
    if !extra.is_empty() && mapping.is_empty() {
        return Err(GateError::Data(format!(
            "the data set has column(s) {} that no model input takes; remove them, or map \
             columns to inputs in the policy's [features] table",
            quoted(&extra)
        )));
    }
    for (spec, columns) in &result.inputs {
        if let Some(&width) = spec.shape.get(1)
            && spec.shape.len() == 2
            && width > 0
            && columns.len() > 1
            && columns.len() as i64 != width
        {
            return Err(GateError::Data(format!(
                "model input '{}' takes {width} features but {} columns feed it ({}); \
                 the data set must hold exactly the model's features and the label '{label}'",
                spec.name,
                columns.len(),
                quoted(columns)
            )));
        }
    }
    Ok(result)
}

/// Builds the input tensors of all rows.
pub fn input_tensors(frame: &Frame, mapping: &FeatureMapping) -> Result<Vec<Tensor>, GateError> {
    let n_rows = frame.n_rows();
    let mut tensors = Vec::new();
    for (spec, columns) in &mapping.inputs {
        let values: Vec<&ColumnValues> = columns
            .iter()
            .filter_map(|c| frame.column(c).map(|column| &column.values))
            .collect();
        let width = values.len();
        let shape = if spec.shape.len() >= 2 {
            vec![n_rows, width]
        } else {
            vec![n_rows]
        };
        let wrong = |kind: &str| {
            GateError::Data(format!(
                "model input '{}' expects {} but column(s) {} hold {kind}",
                spec.name,
                spec.datatype,
                quoted(columns)
            ))
        };
        let numeric: Vec<&[f64]> = values.iter().filter_map(|v| v.as_numeric()).collect();
        let data = match spec.datatype {
            DataType::Bytes => {
                let text: Vec<_> = values.iter().filter_map(|v| v.as_text()).collect();
                if text.len() != width {
                    return Err(wrong("numbers"));
                }
                let mut data = Vec::with_capacity(n_rows * width);
                for row in 0..n_rows {
                    for column in &text {
                        data.push(column.get(row).unwrap_or_default().to_owned());
                    }
                }
                TensorData::Bytes(data)
            }
            _ if numeric.len() != width => return Err(wrong("text")),
            DataType::Fp32 => TensorData::Fp32(row_major(&numeric, n_rows, |x| x as f32)),
            DataType::Fp64 => TensorData::Fp64(row_major(&numeric, n_rows, |x| x)),
            DataType::Int64 | DataType::Int32 => {
                if numeric.iter().any(|c| c.iter().any(|x| x.fract() != 0.0)) {
                    return Err(wrong("non-integer numbers or missing values"));
                }
                if spec.datatype == DataType::Int64 {
                    TensorData::Int64(row_major(&numeric, n_rows, |x| x as i64))
                } else {
                    TensorData::Int32(row_major(&numeric, n_rows, |x| x as i32))
                }
            }
            other => {
                return Err(GateError::Data(format!(
                    "model input '{}' is {other}, which the gate cannot feed from a data set",
                    spec.name
                )));
            }
        };
        tensors.push(Tensor::new(spec.name.clone(), shape, data).map_err(GateError::Data)?);
    }
    Ok(tensors)
}

fn row_major<T>(columns: &[&[f64]], n_rows: usize, cast: impl Fn(f64) -> T) -> Vec<T> {
    let mut data = Vec::with_capacity(n_rows * columns.len());
    for row in 0..n_rows {
        for column in columns {
            data.push(cast(column[row]));
        }
    }
    data
}

/// The label column as numbers; refuses a missing, text or incomplete label.
pub fn label_values<'a>(frame: &'a Frame, label: &str) -> Result<&'a [f64], GateError> {
    let column = frame.column(label).ok_or_else(|| {
        GateError::Data(format!(
            "the data set has no label column '{label}' (its columns: {}); name it with \
             --label or the policy's `label`",
            quoted(frame.names().collect::<Vec<_>>())
        ))
    })?;
    let values = column.values.as_numeric().ok_or_else(|| {
        GateError::Data(format!(
            "label column '{label}' holds text; the gate needs class indices (0, 1, …) or \
             numeric targets"
        ))
    })?;
    let missing = values.iter().filter(|v| v.is_nan()).count();
    if missing > 0 {
        return Err(GateError::Data(format!(
            "label column '{label}' has {missing} missing value(s); every row needs a label"
        )));
    }
    Ok(values)
}

pub(crate) fn quoted<T: AsRef<str>>(names: impl IntoIterator<Item = T>) -> String {
    names
        .into_iter()
        .map(|name| format!("'{}'", name.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

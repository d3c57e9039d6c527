//! From an MLflow `Input` to the model's input tensors, and from its output tensors to
//! MLflow's `predictions`.
//!
//! Columns map to inputs as the validation gate maps a data set's: a model with one 2-D
//! input takes every column, in the order given (the served signature holds no feature
//! names to reorder them by); any other model takes one column per input, by name, and
//! ignores other columns as MLflow does. A data frame with a single column named after
//! the model's one input, holding a list per row, is that input's rows (MLflow's own way).
//! Text cells (CSV) are parsed as the input's datatype.
//!
//! The answer is shaped as MLflow's ONNX flavour shapes it for a model with a tensor
//! signature: `{"predictions": {output: values nested by the output's shape}}`.

use bascule_core::{DataType, Signature, Tensor, TensorData, TensorSpec};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;

use super::input::Input;

/// The model's input tensors for `input`, or what is wrong with it.
pub fn to_tensors(input: Input, signature: &Signature) -> Result<Vec<Tensor>, String> {
    let specs = &signature.inputs;
    let expected: Vec<&str> = specs.iter().map(|spec| spec.name.as_str()).collect();
    match input {
        Input::Frame { columns, rows } => {
            if let [spec] = &specs[..]
                && spec.shape.len() == 2
            {
                if columns.len() == 1 && columns[0] == spec.name {
                    let cells = rows.into_iter().flatten().collect();
                    return Ok(vec![from_value(spec, Value::Array(cells))?]);
                }
                return Ok(vec![from_frame(spec, &columns, rows)?]);
            }
            let missing: Vec<&str> = expected
                .iter()
                .copied()
                .filter(|name| !columns.iter().any(|column| column == name))
                .collect();
            if !missing.is_empty() {
                return Err(format!(
                    "the model takes one column per input {expected:?}; the data lacks \
                     {missing:?} (its columns: {columns:?})"
                ));
            }
            let mut by_column: Vec<(String, Vec<Value>)> = columns
                .into_iter()
                .map(|name| (name, Vec::with_capacity(rows.len())))
                .collect();
            for row in rows {
                for ((_, values), cell) in by_column.iter_mut().zip(row) {
                    values.push(cell);
                }
            }
            named(
                specs,
                by_column.into_iter().map(|(n, v)| (n, Value::Array(v))),
            )
        }
        Input::Rows(rows) => match &specs[..] {
            [spec] => Ok(vec![from_value(spec, rows)?]),
            _ => Err(format!(
                "the model takes {} inputs {expected:?}; send `inputs` as a dict of input \
                 name → values, or a data frame with one column per input",
                specs.len()
            )),
        },
        Input::Named(pairs) => {
            let missing: Vec<&str> = expected
                .iter()
                .copied()
                .filter(|name| !pairs.iter().any(|(given, _)| given == name))
                .collect();
            if !missing.is_empty() {
                let given: Vec<&str> = pairs.iter().map(|(name, _)| name.as_str()).collect();
                return Err(format!(
                    "the model takes inputs {expected:?}; missing {missing:?} (given: {given:?})"
                ));
            }
            named(specs, pairs.into_iter())
        }
    }
}

/// One tensor per spec, from the values under its name (others are ignored).
fn named(
    specs: &[TensorSpec],
    pairs: impl Iterator<Item = (String, Value)>,
) -> Result<Vec<Tensor>, String> {
    let mut pairs: Vec<(String, Value)> = pairs.collect();
    specs
        .iter()
        .map(|spec| {
            let position = pairs
                .iter()
                .position(|(name, _)| *name == spec.name)
                .ok_or_else(|| format!("no values for input '{}'", spec.name))?;
            let (_, value) = pairs.swap_remove(position);
            from_value(spec, value)
        })
        .collect()
}

/// A single 2-D input from every column of a frame, row-major.
fn from_frame(
    spec: &TensorSpec,
    columns: &[String],
    rows: Vec<Vec<Value>>,
) -> Result<Tensor, String> {
    let width = spec.shape[1];
    if width >= 0 && usize::try_from(width) != Ok(columns.len()) {
        return Err(format!(
            "the model's input '{}' takes {width} features, got {} columns {columns:?}",
            spec.name,
            columns.len()
        ));
    }
    let n_rows = rows.len();
    let cells: Vec<Value> = rows.into_iter().flatten().collect();
    let at = |index: usize| {
        let column = columns.get(index % columns.len().max(1));
        format!(
            "row {}, column '{}'",
            index / columns.len().max(1),
            column.map_or("", String::as_str)
        )
    };
    let data = convert(spec, &cells.iter().collect::<Vec<_>>(), at)?;
    Tensor::new(spec.name.clone(), vec![n_rows, columns.len()], data)
}

/// A tensor from nested lists (its shape is their nesting); a list of scalars for a
/// `[-1, 1]` input becomes a column.
fn from_value(spec: &TensorSpec, value: Value) -> Result<Tensor, String> {
    let name = &spec.name;
    let mut shape = Vec::new();
    let mut level = &value;
    while let Value::Array(items) = level {
        shape.push(items.len());
        match items.first() {
            Some(first) => level = first,
            None => break,
        }
    }
    let mut elements = Vec::new();
    flatten(&value, &shape, &mut elements).map_err(|()| {
        format!("input '{name}': the nested lists are ragged (not all rows have the same length)")
    })?;
    if spec.shape.len() == 2 && spec.shape[1] == 1 && shape.len() == 1 {
        shape.push(1);
    }
    let data = convert(spec, &elements, |index| format!("element {index}"))?;
    Tensor::new(name.clone(), shape, data)
}

fn flatten<'a>(value: &'a Value, shape: &[usize], out: &mut Vec<&'a Value>) -> Result<(), ()> {
    match (value, shape.split_first()) {
        (Value::Array(items), Some((&len, rest))) if items.len() == len => {
            items.iter().try_for_each(|item| flatten(item, rest, out))
        }
        (Value::Array(_), _) => Err(()),
        (scalar, None) => {
            out.push(scalar);
            Ok(())
        }
        (_, Some(_)) => Err(()),
    }
}

/// Elements as the input's datatype; `at` names an element's place for messages.
fn convert(
    spec: &TensorSpec,
    elements: &[&Value],
    at: impl Fn(usize) -> String,
) -> Result<TensorData, String> {
    let name = &spec.name;
    let wrong = |index: usize, kind: &str| {
        format!(
            "input '{name}' ({}) at {}: {} is not {kind}",
            spec.datatype,
            at(index),
            elements[index]
        )
    };
    fn each<T>(
        elements: &[&Value],
        convert: impl Fn(&Value) -> Option<T>,
        wrong: impl Fn(usize) -> String,
    ) -> Result<Vec<T>, String> {
        elements
            .iter()
            .enumerate()
            .map(|(index, value)| convert(value).ok_or_else(|| wrong(index)))
            .collect()
    }
    Ok(match spec.datatype {
        DataType::Fp32 => TensorData::Fp32(each(
            elements,
            |v| number(v).map(|x| x as f32),
            |i| wrong(i, "a number"),
        )?),
        DataType::Fp64 => TensorData::Fp64(each(elements, number, |i| wrong(i, "a number"))?),
        DataType::Int64 => TensorData::Int64(each(elements, integer, |i| wrong(i, "an integer"))?),
        DataType::Int32 => TensorData::Int32(each(
            elements,
            |v| integer(v).and_then(|x| i32::try_from(x).ok()),
            |i| wrong(i, "a 32-bit integer"),
        )?),
        DataType::Bool => TensorData::Bool(each(elements, boolean, |i| wrong(i, "true or false"))?),
        DataType::Bytes => TensorData::Bytes(each(elements, text, |i| wrong(i, "text"))?),
        other => {
            return Err(format!(
                "input '{name}' is {other}, which the MLflow protocol does not feed yet; use \
                 the Open Inference Protocol (/v2/models/…/infer)"
            ));
        }
    })
}

/// A number; text is parsed (CSV), null is NaN (refused later as missing).
fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.trim().parse().ok(),
        Value::Null => Some(f64::NAN),
        _ => None,
    }
}

fn integer(value: &Value) -> Option<i64> {
    let whole = |x: f64| (x.fract() == 0.0 && x.abs() < 9.0e15).then_some(x as i64);
    match value {
        Value::Number(number) => number.as_i64().or_else(|| number.as_f64().and_then(whole)),
        Value::String(text) => {
            let text = text.trim();
            text.parse()
                .ok()
                .or_else(|| text.parse().ok().and_then(whole))
        }
        _ => None,
    }
}

fn boolean(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(text) => match text.trim() {
            "true" | "True" | "TRUE" | "1" => Some(true),
            "false" | "False" | "FALSE" | "0" => Some(false),
            _ => None,
        },
        Value::Number(number) => match number.as_u64() {
            Some(1) => Some(true),
            Some(0) => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `{"predictions": {output: nested values}}`, written straight from the tensors.
#[derive(Debug)]
pub struct Predictions<'a>(pub &'a [Tensor]);

impl Serialize for Predictions<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Outputs<'a>(&'a [Tensor]);
        impl Serialize for Outputs<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(Some(self.0.len()))?;
                for tensor in self.0 {
                    map.serialize_entry(&tensor.name, &NestedTensor(tensor))?;
                }
                map.end()
            }
        }
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry("predictions", &Outputs(self.0))?;
        map.end()
    }
}

struct NestedTensor<'a>(&'a Tensor);

impl Serialize for NestedTensor<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let shape = &self.0.shape;
        match &self.0.data {
            TensorData::Bool(data) => Nested { data, shape }.serialize(serializer),
            TensorData::Int32(data) => Nested { data, shape }.serialize(serializer),
            TensorData::Int64(data) => Nested { data, shape }.serialize(serializer),
            TensorData::Fp32(data) => Nested { data, shape }.serialize(serializer),
            TensorData::Fp64(data) => Nested { data, shape }.serialize(serializer),
            TensorData::Bytes(data) => Nested { data, shape }.serialize(serializer),
        }
    }
}

/// Row-major data as lists nested by `shape`.
struct Nested<'a, T> {
    data: &'a [T],
    shape: &'a [usize],
}

impl<T: Serialize> Serialize for Nested<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.shape {
            [] => self.data.first().serialize(serializer),
            [_] => serializer.collect_seq(self.data),
            [rows, inner @ ..] => {
                let chunk: usize = inner.iter().product();
                let mut seq = serializer.serialize_seq(Some(*rows))?;
                for row in 0..*rows {
                    let start = (row * chunk).min(self.data.len());
                    let end = (start + chunk).min(self.data.len());
                    seq.serialize_element(&Nested {
                        data: &self.data[start..end],
                        shape: inner,
                    })?;
                }
                seq.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(name: &str, datatype: DataType, shape: Vec<i64>) -> TensorSpec {
        TensorSpec {
            name: name.into(),
            datatype,
            shape,
        }
    }

    fn signature(inputs: Vec<TensorSpec>) -> Signature {
        Signature {
            inputs,
            outputs: vec![],
        }
    }

    #[test]
    fn a_matrix_input_takes_every_column_in_order() {
        let signature = signature(vec![spec("x", DataType::Fp32, vec![-1, 2])]);
        let frame = Input::Frame {
            columns: vec!["b".into(), "a".into()],
            rows: vec![vec![json!(1), json!("2.5")], vec![json!(3), Value::Null]],
        };
        let tensors = to_tensors(frame, &signature).expect("tensors");
        assert_eq!(tensors[0].shape, vec![2, 2]);
        match &tensors[0].data {
            TensorData::Fp32(v) => assert_eq!((v[0], v[1], v[2]), (1.0, 2.5, 3.0)),
            other => panic!("{other:?}"),
        }
        let narrow = Input::Frame {
            columns: vec!["a".into()],
            rows: vec![vec![json!(1)]],
        };
        let message = to_tensors(narrow, &signature).expect_err("refused");
        assert!(
            message.contains("takes 2 features, got 1 columns"),
            "{message}"
        );
        let rows = Input::Rows(json!([[1, 2], [3]]));
        assert!(
            to_tensors(rows, &signature)
                .expect_err("ragged")
                .contains("ragged")
        );
    }

    #[test]
    fn per_column_inputs_are_taken_by_name() {
        let signature = signature(vec![
            spec("age", DataType::Fp32, vec![-1, 1]),
            spec("sex", DataType::Bytes, vec![-1, 1]),
        ]);
        let frame = Input::Frame {
            columns: vec!["sex".into(), "extra".into(), "age".into()],
            rows: vec![vec![json!("F"), json!(0), json!(41)]],
        };
        let tensors = to_tensors(frame, &signature).expect("tensors");
        assert_eq!(tensors[0].shape, vec![1, 1]);
        assert_eq!(tensors[1].data, TensorData::Bytes(vec!["F".into()]));
        let missing = Input::Named(vec![("age".into(), json!([1.0]))]);
        assert!(
            to_tensors(missing, &signature)
                .expect_err("refused")
                .contains("[\"sex\"]")
        );
    }

    #[test]
    fn predictions_nest_by_shape() {
        let label = Tensor::new("label", vec![2], TensorData::Int64(vec![0, 1])).expect("t");
        let probabilities = Tensor::new(
            "probabilities",
            vec![2, 2],
            TensorData::Fp32(vec![0.25, 0.75, 1.0, 0.0]),
        )
        .expect("t");
        let text = serde_json::to_value(Predictions(&[label, probabilities])).expect("json");
        assert_eq!(
            text,
            json!({"predictions": {"label": [0, 1], "probabilities": [[0.25, 0.75], [1.0, 0.0]]}})
        );
    }
}

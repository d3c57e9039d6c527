//! Categorical operators: `OneHotEncoder`, `LabelEncoder` and `ZipMap`.

use std::collections::HashMap;
use std::sync::Arc;

use tract_onnx::pb::NodeProto;
use tract_onnx::tract_hir::internal::*;

use super::{Attributes, FactView, Kernel, slice_of};

fn strings_of(value: &TValue) -> TractResult<Vec<String>> {
    Ok(value
        .to_plain_array_view::<String>()?
        .iter()
        .cloned()
        .collect())
}

fn string_tensor(shape: &[usize], values: Vec<String>) -> TractResult<Tensor> {
    Ok(tract_ndarray::ArrayD::from_shape_vec(tract_ndarray::IxDyn(shape), values)?.into())
}

// --------------------------------------------------------------------------- OneHotEncoder

#[derive(Debug)]
enum Categories {
    Ints(HashMap<i64, usize>),
    Strings(HashMap<String, usize>),
}

#[derive(Debug)]
struct OneHotEncoder {
    categories: Categories,
    n_categories: usize,
    /// Whether an unknown category encodes as all zeros (`zeros = 1`) or is an error.
    zeros: bool,
}

pub(crate) fn one_hot(node: &NodeProto) -> TractResult<Arc<dyn Kernel>> {
    let attributes = Attributes::new(node);
    let ints = attributes.ints("cats_int64s");
    let strings = attributes.strings("cats_strings")?;
    let (categories, n_categories) = match (ints.is_empty(), strings.is_empty()) {
        (false, true) => {
            let map: HashMap<i64, usize> = ints
                .iter()
                .enumerate()
                .map(|(index, &value)| (value, index))
                .collect();
            (Categories::Ints(map), ints.len())
        }
        (true, false) => {
            let n = strings.len();
            let map: HashMap<String, usize> = strings
                .into_iter()
                .enumerate()
                .map(|(index, value)| (value, index))
                .collect();
            (Categories::Strings(map), n)
        }
        _ => {
            return Err(attributes.error("exactly one of cats_int64s and cats_strings must be set"));
        }
    };
    Ok(Arc::new(OneHotEncoder {
        categories,
        n_categories,
        zeros: attributes.int("zeros").unwrap_or(1) != 0,
    }))
}

impl Kernel for OneHotEncoder {
    fn name(&self) -> &'static str {
        "OneHotEncoder"
    }

    fn output_facts(&self, inputs: &[FactView]) -> TractResult<TVec<(DatumType, TVec<TDim>)>> {
        ensure!(inputs.len() == 1, "OneHotEncoder takes one input");
        let mut shape: TVec<TDim> = inputs[0].1.iter().cloned().collect();
        shape.push(self.n_categories.into());
        Ok(tvec!((DatumType::F32, shape)))
    }

    fn eval(&self, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = &inputs[0];
        let positions: Vec<Option<usize>> = match &self.categories {
            Categories::Strings(map) => {
                ensure!(
                    input.datum_type() == DatumType::String,
                    "OneHotEncoder with string categories takes strings, got {:?}",
                    input.datum_type()
                );
                strings_of(input)?
                    .iter()
                    .map(|value| map.get(value).copied())
                    .collect()
            }
            Categories::Ints(map) => {
                ensure!(
                    input.datum_type() != DatumType::String,
                    "OneHotEncoder with integer categories takes numbers, got strings"
                );
                let values = input.cast_to::<i64>()?;
                slice_of::<i64>(&values)?
                    .iter()
                    .map(|value| map.get(value).copied())
                    .collect()
            }
        };
        let n = self.n_categories;
        let mut output = vec![0f32; positions.len() * n];
        for (index, position) in positions.iter().enumerate() {
            match position {
                Some(position) => output[index * n + position] = 1.0,
                None if self.zeros => {}
                None => bail!("OneHotEncoder: a value is not one of the known categories"),
            }
        }
        let mut shape: TVec<usize> = input.shape().into();
        shape.push(n);
        Ok(tvec!(Tensor::from_shape(&shape, &output)?.into_tvalue()))
    }
}

// ---------------------------------------------------------------------------- LabelEncoder

#[derive(Debug, Clone, PartialEq)]
enum Key {
    Strings(Vec<String>),
    Ints(Vec<i64>),
    Floats(Vec<f32>),
}

#[derive(Debug)]
struct LabelEncoder {
    keys: Key,
    values: Key,
    default_string: String,
    default_int: i64,
    default_float: f32,
}

pub(crate) fn label_encoder(node: &NodeProto) -> TractResult<Arc<dyn Kernel>> {
    let attributes = Attributes::new(node);
    let default_string = attributes
        .string("default_string")?
        .unwrap_or_else(|| "_Unused".to_owned());
    let default_int = attributes.int("default_int64").unwrap_or(-1);
    let default_float = attributes.float("default_float").unwrap_or(-0.0);
    let pick = |prefix: &str| -> TractResult<Option<Key>> {
        let strings = attributes.strings(&format!("{prefix}_strings"))?;
        let ints = attributes.ints(&format!("{prefix}_int64s"));
        let floats = attributes.floats(&format!("{prefix}_floats"));
        Ok(
            match (!strings.is_empty(), !ints.is_empty(), !floats.is_empty()) {
                (true, false, false) => Some(Key::Strings(strings)),
                (false, true, false) => Some(Key::Ints(ints.to_vec())),
                (false, false, true) => Some(Key::Floats(floats.to_vec())),
                _ => None,
            },
        )
    };
    let (keys, values) = match (pick("keys")?, pick("values")?) {
        (Some(keys), Some(values)) => (keys, values),
        _ if attributes.has("classes_strings") => {
            // ai.onnx.ml opset 1: strings to their index, or indices to strings, by input type.
            let classes = attributes.strings("classes_strings")?;
            let indices: Vec<i64> = (0..classes.len() as i64).collect();
            (Key::Strings(classes), Key::Ints(indices))
        }
        _ => {
            return Err(attributes.error(
                "needs one keys_* and one values_* attribute (or opset 1's classes_strings)",
            ));
        }
    };
    let length = |key: &Key| match key {
        Key::Strings(values) => values.len(),
        Key::Ints(values) => values.len(),
        Key::Floats(values) => values.len(),
    };
    if length(&keys) != length(&values) {
        return Err(attributes.error(format!(
            "{} keys for {} values",
            length(&keys),
            length(&values)
        )));
    }
    Ok(Arc::new(LabelEncoder {
        keys,
        values,
        default_string,
        default_int,
        default_float,
    }))
}

impl LabelEncoder {
    fn output_type(&self) -> DatumType {
        match self.values {
            Key::Strings(_) => DatumType::String,
            Key::Ints(_) => DatumType::I64,
            Key::Floats(_) => DatumType::F32,
        }
    }

    /// Where each input value sits among the keys.
    fn positions(&self, input: &TValue) -> TractResult<Vec<Option<usize>>> {
        Ok(match &self.keys {
            Key::Strings(keys) => {
                let map: HashMap<&str, usize> = keys
                    .iter()
                    .enumerate()
                    .map(|(i, k)| (k.as_str(), i))
                    .collect();
                strings_of(input)?
                    .iter()
                    .map(|value| map.get(value.as_str()).copied())
                    .collect()
            }
            Key::Ints(keys) => {
                let map: HashMap<i64, usize> =
                    keys.iter().enumerate().map(|(i, &k)| (k, i)).collect();
                let values = input.cast_to::<i64>()?;
                slice_of::<i64>(&values)?
                    .iter()
                    .map(|value| map.get(value).copied())
                    .collect()
            }
            Key::Floats(keys) => {
                let values = input.cast_to::<f32>()?;
                slice_of::<f32>(&values)?
                    .iter()
                    .map(|value| {
                        keys.iter()
                            .position(|key| key.to_bits() == value.to_bits() || key == value)
                    })
                    .collect()
            }
        })
    }
}

impl Kernel for LabelEncoder {
    fn name(&self) -> &'static str {
        "LabelEncoder"
    }

    fn output_facts(&self, inputs: &[FactView]) -> TractResult<TVec<(DatumType, TVec<TDim>)>> {
        ensure!(inputs.len() == 1, "LabelEncoder takes one input");
        Ok(tvec!((
            self.output_type(),
            inputs[0].1.iter().cloned().collect()
        )))
    }

    fn eval(&self, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = &inputs[0];
        let positions = self.positions(input)?;
        let shape = input.shape();
        let tensor = match &self.values {
            Key::Strings(values) => {
                let output = positions
                    .iter()
                    .map(|p| p.map_or_else(|| self.default_string.clone(), |i| values[i].clone()))
                    .collect();
                string_tensor(shape, output)?
            }
            Key::Ints(values) => {
                let output: Vec<i64> = positions
                    .iter()
                    .map(|p| p.map_or(self.default_int, |i| values[i]))
                    .collect();
                Tensor::from_shape(shape, &output)?
            }
            Key::Floats(values) => {
                let output: Vec<f32> = positions
                    .iter()
                    .map(|p| p.map_or(self.default_float, |i| values[i]))
                    .collect();
                Tensor::from_shape(shape, &output)?
            }
        };
        Ok(tvec!(tensor.into_tvalue()))
    }
}

// ---------------------------------------------------------------------------------- ZipMap

/// `ZipMap` turns `[N, C]` probabilities into a sequence of N maps (class → probability).
/// Bascule's tensors carry no maps: the output stays the `[N, C]` matrix, its columns in
/// the order of the class labels (the maps' keys, as onnxruntime iterates them).
#[derive(Debug)]
struct ZipMap {
    n_classes: usize,
}

pub(crate) fn zipmap(node: &NodeProto) -> TractResult<Arc<dyn Kernel>> {
    let attributes = Attributes::new(node);
    let ints = attributes.ints("classlabels_int64s").len();
    let strings = attributes.strings("classlabels_strings")?.len();
    let n_classes = match (ints, strings) {
        (0, 0) | (1.., 1..) => {
            return Err(attributes
                .error("exactly one of classlabels_int64s and classlabels_strings must be set"));
        }
        (n, 0) | (0, n) => n,
    };
    Ok(Arc::new(ZipMap { n_classes }))
}

impl Kernel for ZipMap {
    fn name(&self) -> &'static str {
        "ZipMap"
    }

    fn output_facts(&self, inputs: &[FactView]) -> TractResult<TVec<(DatumType, TVec<TDim>)>> {
        ensure!(inputs.len() == 1, "ZipMap takes one input");
        let shape = inputs[0].1;
        ensure!(
            shape.len() == 2 && shape[1] == TDim::Val(self.n_classes as i64),
            "ZipMap takes [N, {}] probabilities",
            self.n_classes
        );
        Ok(tvec!((DatumType::F32, shape.iter().cloned().collect())))
    }

    fn eval(&self, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let probabilities = inputs[0].cast_to::<f32>()?.into_owned();
        Ok(tvec!(probabilities.into_tvalue()))
    }
}

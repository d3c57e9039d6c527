//! Numeric feature transforms: `Scaler`, `Normalizer`, `Binarizer`, `Imputer` and
//! `FeatureVectorizer`, as onnxruntime computes them.

use std::sync::Arc;

use tract_onnx::pb::NodeProto;
use tract_onnx::tract_hir::internal::*;

use super::{Attributes, FactView, Kernel, batch_dim, rows_and_width, slice_of};

/// A per-feature parameter given once for all features or once per feature.
fn broadcast(values: &[f32], feature: usize) -> f32 {
    if values.len() == 1 {
        values[0]
    } else {
        values[feature]
    }
}

fn check_width(name: &str, values: usize, width: usize) -> TractResult<()> {
    ensure!(
        values == 1 || values == width,
        "{name} has {values} values but the input has {width} features per row"
    );
    Ok(())
}

fn same_shape_f32(inputs: &[FactView]) -> TractResult<TVec<(DatumType, TVec<TDim>)>> {
    ensure!(inputs.len() == 1, "the operator takes one input");
    Ok(tvec!((
        DatumType::F32,
        inputs[0].1.iter().cloned().collect()
    )))
}

// ---------------------------------------------------------------------------------- Scaler

#[derive(Debug)]
struct Scaler {
    offset: Vec<f32>,
    scale: Vec<f32>,
}

pub(crate) fn scaler(node: &NodeProto) -> TractResult<Arc<dyn Kernel>> {
    let attributes = Attributes::new(node);
    let mut offset = attributes.floats("offset").to_vec();
    let mut scale = attributes.floats("scale").to_vec();
    if offset.is_empty() {
        offset.push(0.0);
    }
    if scale.is_empty() {
        scale.push(1.0);
    }
    Ok(Arc::new(Scaler { offset, scale }))
}

impl Kernel for Scaler {
    fn name(&self) -> &'static str {
        "Scaler"
    }

    fn output_facts(&self, inputs: &[FactView]) -> TractResult<TVec<(DatumType, TVec<TDim>)>> {
        same_shape_f32(inputs)
    }

    fn eval(&self, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = inputs[0].cast_to::<f32>()?;
        let (_, width) = rows_and_width(input.shape());
        check_width("Scaler offset", self.offset.len(), width)?;
        check_width("Scaler scale", self.scale.len(), width)?;
        let values = slice_of::<f32>(&input)?;
        let output: Vec<f32> = values
            .iter()
            .enumerate()
            .map(|(index, &x)| {
                let feature = index % width.max(1);
                (x - broadcast(&self.offset, feature)) * broadcast(&self.scale, feature)
            })
            .collect();
        Ok(tvec!(
            Tensor::from_shape(input.shape(), &output)?.into_tvalue()
        ))
    }
}

// ------------------------------------------------------------------------------ Normalizer

#[derive(Debug, Clone, Copy)]
enum Norm {
    Max,
    L1,
    L2,
}

#[derive(Debug)]
struct Normalizer {
    norm: Norm,
}

pub(crate) fn normalizer(node: &NodeProto) -> TractResult<Arc<dyn Kernel>> {
    let attributes = Attributes::new(node);
    let norm = match attributes.string("norm")?.as_deref().unwrap_or("MAX") {
        "MAX" => Norm::Max,
        "L1" => Norm::L1,
        "L2" => Norm::L2,
        other => return Err(attributes.error(format!("unknown norm '{other}'"))),
    };
    Ok(Arc::new(Normalizer { norm }))
}

impl Kernel for Normalizer {
    fn name(&self) -> &'static str {
        "Normalizer"
    }

    fn output_facts(&self, inputs: &[FactView]) -> TractResult<TVec<(DatumType, TVec<TDim>)>> {
        same_shape_f32(inputs)
    }

    fn eval(&self, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = inputs[0].cast_to::<f32>()?;
        let (_, width) = rows_and_width(input.shape());
        let mut output = slice_of::<f32>(&input)?.to_vec();
        for row in output.chunks_mut(width.max(1)) {
            match self.norm {
                Norm::Max => {
                    let max = row.iter().copied().fold(f32::MIN, f32::max);
                    if max != 0.0 {
                        row.iter_mut().for_each(|x| *x /= max);
                    }
                }
                Norm::L1 => {
                    let sum: f32 = row.iter().map(|x| x.abs()).sum();
                    if sum != 0.0 {
                        row.iter_mut().for_each(|x| *x /= sum);
                    }
                }
                Norm::L2 => {
                    let sum: f32 = row.iter().map(|x| x * x).sum();
                    if sum != 0.0 {
                        row.iter_mut().for_each(|x| {
                            let magnitude = (*x * *x / sum).sqrt();
                            *x = if *x < 0.0 { -magnitude } else { magnitude };
                        });
                    }
                }
            }
        }
        Ok(tvec!(
            Tensor::from_shape(input.shape(), &output)?.into_tvalue()
        ))
    }
}

// ------------------------------------------------------------------------------- Binarizer

#[derive(Debug)]
struct Binarizer {
    threshold: f32,
}

pub(crate) fn binarizer(node: &NodeProto) -> TractResult<Arc<dyn Kernel>> {
    let attributes = Attributes::new(node);
    Ok(Arc::new(Binarizer {
        threshold: attributes.float("threshold").unwrap_or(0.0),
    }))
}

impl Kernel for Binarizer {
    fn name(&self) -> &'static str {
        "Binarizer"
    }

    fn output_facts(&self, inputs: &[FactView]) -> TractResult<TVec<(DatumType, TVec<TDim>)>> {
        ensure!(inputs.len() == 1, "Binarizer takes one input");
        Ok(tvec!((inputs[0].0, inputs[0].1.iter().cloned().collect())))
    }

    fn eval(&self, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = &inputs[0];
        let datum_type = input.datum_type();
        let values = input.cast_to::<f32>()?;
        let output: Vec<f32> = slice_of::<f32>(&values)?
            .iter()
            .map(|&x| if x > self.threshold { 1.0 } else { 0.0 })
            .collect();
        let tensor = Tensor::from_shape(input.shape(), &output)?
            .cast_to_dt(datum_type)?
            .into_owned();
        Ok(tvec!(tensor.into_tvalue()))
    }
}

// --------------------------------------------------------------------------------- Imputer

#[derive(Debug)]
enum Imputation {
    Floats { values: Vec<f32>, replaced: f32 },
    Ints { values: Vec<i64>, replaced: i64 },
}

#[derive(Debug)]
struct Imputer {
    imputation: Imputation,
}

pub(crate) fn imputer(node: &NodeProto) -> TractResult<Arc<dyn Kernel>> {
    let attributes = Attributes::new(node);
    let floats = attributes.floats("imputed_value_floats");
    let ints = attributes.ints("imputed_value_int64s");
    let imputation = match (floats.is_empty(), ints.is_empty()) {
        (false, true) => Imputation::Floats {
            values: floats.to_vec(),
            replaced: attributes.float("replaced_value_float").unwrap_or(0.0),
        },
        (true, false) => Imputation::Ints {
            values: ints.to_vec(),
            replaced: attributes.int("replaced_value_int64").unwrap_or(0),
        },
        _ => {
            return Err(attributes.error(
                "exactly one of imputed_value_floats and imputed_value_int64s must be set",
            ));
        }
    };
    Ok(Arc::new(Imputer { imputation }))
}

impl Kernel for Imputer {
    fn name(&self) -> &'static str {
        "Imputer"
    }

    fn output_facts(&self, inputs: &[FactView]) -> TractResult<TVec<(DatumType, TVec<TDim>)>> {
        ensure!(inputs.len() == 1, "Imputer takes one input");
        let datum_type = match self.imputation {
            Imputation::Floats { .. } => DatumType::F32,
            Imputation::Ints { .. } => DatumType::I64,
        };
        Ok(tvec!((datum_type, inputs[0].1.iter().cloned().collect())))
    }

    fn eval(&self, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = &inputs[0];
        let (_, width) = rows_and_width(input.shape());
        let width = width.max(1);
        let tensor = match &self.imputation {
            Imputation::Floats { values, replaced } => {
                check_width("imputed_value_floats", values.len(), width)?;
                let input = input.cast_to::<f32>()?;
                let output: Vec<f32> = slice_of::<f32>(&input)?
                    .iter()
                    .enumerate()
                    .map(|(index, &x)| {
                        let missing = x.is_nan() || (!replaced.is_nan() && x == *replaced);
                        if missing {
                            broadcast(values, index % width)
                        } else {
                            x
                        }
                    })
                    .collect();
                Tensor::from_shape(input.shape(), &output)?
            }
            Imputation::Ints { values, replaced } => {
                ensure!(
                    values.len() == 1 || values.len() == width,
                    "imputed_value_int64s has {} values but the input has {width} features",
                    values.len()
                );
                let input = input.cast_to::<i64>()?;
                let output: Vec<i64> = slice_of::<i64>(&input)?
                    .iter()
                    .enumerate()
                    .map(|(index, &x)| {
                        if x == *replaced {
                            if values.len() == 1 {
                                values[0]
                            } else {
                                values[index % width]
                            }
                        } else {
                            x
                        }
                    })
                    .collect();
                Tensor::from_shape(input.shape(), &output)?
            }
        };
        Ok(tvec!(tensor.into_tvalue()))
    }
}

// ----------------------------------------------------------------------- FeatureVectorizer

#[derive(Debug)]
struct FeatureVectorizer {
    dimensions: Vec<usize>,
}

pub(crate) fn feature_vectorizer(node: &NodeProto) -> TractResult<Arc<dyn Kernel>> {
    let attributes = Attributes::new(node);
    let dimensions = attributes.indices("inputdimensions", Some(1 << 24))?;
    if dimensions.len() != node.input.len() {
        return Err(attributes.error(format!(
            "inputdimensions has {} values for {} inputs",
            dimensions.len(),
            node.input.len()
        )));
    }
    Ok(Arc::new(FeatureVectorizer { dimensions }))
}

impl Kernel for FeatureVectorizer {
    fn name(&self) -> &'static str {
        "FeatureVectorizer"
    }

    fn output_facts(&self, inputs: &[FactView]) -> TractResult<TVec<(DatumType, TVec<TDim>)>> {
        ensure!(
            inputs.len() == self.dimensions.len(),
            "FeatureVectorizer: wrong input count"
        );
        let batch = batch_dim(inputs[0].1);
        let width: usize = self.dimensions.iter().sum();
        Ok(tvec!((DatumType::F32, tvec!(batch, width.into()))))
    }

    fn eval(&self, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        ensure!(
            inputs.len() == self.dimensions.len(),
            "FeatureVectorizer: wrong input count"
        );
        let rows = rows_and_width(inputs[0].shape()).0;
        let width: usize = self.dimensions.iter().sum();
        let mut output = vec![0f32; rows * width];
        let mut column = 0;
        for (input, &dimension) in inputs.iter().zip(&self.dimensions) {
            let values = input.cast_to::<f32>()?;
            let (input_rows, input_width) = rows_and_width(values.shape());
            ensure!(
                input_rows == rows,
                "FeatureVectorizer: inputs disagree on the batch size"
            );
            let values = slice_of::<f32>(&values)?;
            let copied = input_width.min(dimension);
            for row in 0..rows {
                let source = &values[row * input_width..row * input_width + copied];
                output[row * width + column..row * width + column + copied].copy_from_slice(source);
            }
            column += dimension;
        }
        Ok(tvec!(
            Tensor::from_shape(&[rows, width], &output)?.into_tvalue()
        ))
    }
}

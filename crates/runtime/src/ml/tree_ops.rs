//! `TreeEnsembleRegressor` and `TreeEnsembleClassifier` (ai.onnx.ml opsets 1 and 3) with
//! onnxruntime's semantics: scores summed in `f32` in tree order, base values, every
//! aggregate and post-transform, and the binary layouts where converters write one score
//! column (the label then comes from that column, not from an argmax over one value).

use std::sync::Arc;

use tract_onnx::pb::NodeProto;
use tract_onnx::tract_hir::internal::*;

use super::tree::{self, Forest};
use super::{Attributes, FactView, Kernel, batch_dim, rows_and_width, slice_of};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PostTransform {
    None,
    Logistic,
    Softmax,
    SoftmaxZero,
    Probit,
}

impl PostTransform {
    pub(crate) fn parse(attributes: &Attributes) -> TractResult<Self> {
        let text = attributes.string("post_transform")?;
        Ok(match text.as_deref().unwrap_or("NONE") {
            "NONE" => PostTransform::None,
            "LOGISTIC" => PostTransform::Logistic,
            "SOFTMAX" => PostTransform::Softmax,
            "SOFTMAX_ZERO" => PostTransform::SoftmaxZero,
            "PROBIT" => PostTransform::Probit,
            other => return Err(attributes.error(format!("unknown post_transform '{other}'"))),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    Sum,
    Average,
    Min,
    Max,
}

/// Per target or class: the score and whether any leaf gave one (onnxruntime's
/// `ScoreValue`).
#[derive(Debug, Clone, Copy, Default)]
struct Score {
    value: f32,
    has: bool,
}

fn base_values(attributes: &Attributes, n: usize) -> TractResult<Vec<f32>> {
    let base = attributes.floats_or_tensor("base_values")?;
    if !base.is_empty() && base.len() != 1 && base.len() != n {
        return Err(attributes.error(format!(
            "base_values has {} values; expected none, one or {n}",
            base.len()
        )));
    }
    Ok(base)
}

// ----------------------------------------------------------------------------- regressor

#[derive(Debug)]
struct Regressor {
    forest: Forest,
    aggregate: Aggregate,
    post_transform: PostTransform,
    base: Vec<f32>,
}

pub(crate) fn regressor(node: &NodeProto) -> TractResult<Arc<dyn Kernel>> {
    let attributes = Attributes::new(node);
    let n_targets = attributes.int("n_targets").unwrap_or(1);
    let n_targets = usize::try_from(n_targets)
        .ok()
        .filter(|n| (1..1 << 20).contains(n))
        .ok_or_else(|| attributes.error(format!("n_targets is {n_targets}")))?;
    let aggregate = match attributes
        .string("aggregate_function")?
        .as_deref()
        .unwrap_or("SUM")
    {
        "SUM" => Aggregate::Sum,
        "AVERAGE" => Aggregate::Average,
        "MIN" => Aggregate::Min,
        "MAX" => Aggregate::Max,
        other => return Err(attributes.error(format!("unknown aggregate_function '{other}'"))),
    };
    Ok(Arc::new(Regressor {
        forest: tree::parse(&attributes, "target", n_targets)?,
        aggregate,
        post_transform: PostTransform::parse(&attributes)?,
        base: base_values(&attributes, n_targets)?,
    }))
}

impl Kernel for Regressor {
    fn name(&self) -> &'static str {
        "TreeEnsembleRegressor"
    }

    fn output_facts(&self, inputs: &[FactView]) -> TractResult<TVec<(DatumType, TVec<TDim>)>> {
        ensure!(inputs.len() == 1, "TreeEnsembleRegressor takes one input");
        let batch = batch_dim(inputs[0].1);
        Ok(tvec!((
            DatumType::F32,
            tvec!(batch, self.forest.n_targets.into())
        )))
    }

    fn eval(&self, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        ensure!(inputs.len() == 1, "TreeEnsembleRegressor takes one input");
        let features = inputs[0].cast_to::<f32>()?;
        let (rows, width) = rows_and_width(features.shape());
        let features = slice_of::<f32>(&features)?;
        let n_targets = self.forest.n_targets;
        let mut output = vec![0f32; rows * n_targets];
        if n_targets == 1 {
            self.eval_one_target(features, width, rows, &mut output)?;
        } else {
            self.eval_targets(features, width, rows, &mut output)?;
        }
        let tensor = Tensor::from_shape(&[rows, n_targets], &output)?;
        Ok(tvec!(tensor.into_tvalue()))
    }
}

impl Regressor {
    fn eval_one_target(
        &self,
        features: &[f32],
        width: usize,
        rows: usize,
        output: &mut [f32],
    ) -> TractResult<()> {
        let forest = &self.forest;
        let origin = if self.base.len() == 1 {
            self.base[0]
        } else {
            0.0
        };
        let mut has = vec![false; rows];
        match self.aggregate {
            Aggregate::Sum | Aggregate::Average if !forest.leaf_value.is_empty() => {
                let values = &forest.leaf_value;
                forest.for_each_leaf(features, width, rows, |row, leaf| {
                    output[row] += values[leaf];
                })?;
            }
            Aggregate::Sum | Aggregate::Average => {
                forest.for_each_leaf(features, width, rows, |row, leaf| {
                    if let Some((_, value)) = forest.weights(leaf).next() {
                        output[row] += value;
                    }
                })?;
            }
            Aggregate::Min | Aggregate::Max => {
                let min = self.aggregate == Aggregate::Min;
                forest.for_each_leaf(features, width, rows, |row, leaf| {
                    if let Some((_, value)) = forest.weights(leaf).next() {
                        let better = if min {
                            value < output[row]
                        } else {
                            value > output[row]
                        };
                        if !has[row] || better {
                            output[row] = value;
                        }
                        has[row] = true;
                    }
                })?;
            }
        }
        let n_trees = forest.n_trees() as f32;
        for (row, score) in output.iter_mut().enumerate() {
            *score = match self.aggregate {
                Aggregate::Sum => *score + origin,
                Aggregate::Average => *score / n_trees + origin,
                Aggregate::Min | Aggregate::Max if has[row] => *score + origin,
                Aggregate::Min | Aggregate::Max => origin,
            };
            if self.post_transform == PostTransform::Probit {
                *score = probit(*score);
            }
        }
        Ok(())
    }

    fn eval_targets(
        &self,
        features: &[f32],
        width: usize,
        rows: usize,
        output: &mut [f32],
    ) -> TractResult<()> {
        let forest = &self.forest;
        let n_targets = forest.n_targets;
        let mut scores = vec![Score::default(); rows * n_targets];
        let aggregate = self.aggregate;
        forest.for_each_leaf(features, width, rows, |row, leaf| {
            let row_scores = &mut scores[row * n_targets..(row + 1) * n_targets];
            for (target, value) in forest.weights(leaf) {
                let score = &mut row_scores[target];
                match aggregate {
                    Aggregate::Sum | Aggregate::Average => score.value += value,
                    Aggregate::Min if !score.has || value < score.value => score.value = value,
                    Aggregate::Max if !score.has || value > score.value => score.value = value,
                    Aggregate::Min | Aggregate::Max => {}
                }
                score.has = true;
            }
        })?;
        let use_base = self.base.len() == n_targets;
        let n_trees = forest.n_trees() as f32;
        let mut row_values = Vec::with_capacity(n_targets);
        for row in 0..rows {
            row_values.clear();
            for target in 0..n_targets {
                let score = scores[row * n_targets + target];
                let base = if use_base { self.base[target] } else { 0.0 };
                row_values.push(match aggregate {
                    Aggregate::Sum => score.value + base,
                    Aggregate::Average => score.value / n_trees + base,
                    Aggregate::Min | Aggregate::Max => {
                        base + if score.has { score.value } else { 0.0 }
                    }
                });
            }
            transform_all(&mut row_values, self.post_transform);
            output[row * n_targets..(row + 1) * n_targets].copy_from_slice(&row_values);
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------- classifier

#[derive(Debug, Clone, PartialEq)]
enum Labels {
    Ints(Vec<i64>),
    Strings(Vec<String>),
}

#[derive(Debug)]
struct Classifier {
    forest: Forest,
    labels: Labels,
    post_transform: PostTransform,
    base: Vec<f32>,
    /// Two classes, and every leaf weight is for one and the same class id: the ensemble
    /// scores one column and the other is derived (onnxruntime's `binary_case_`).
    binary_case: bool,
    weights_all_positive: bool,
}

pub(crate) fn classifier(node: &NodeProto) -> TractResult<Arc<dyn Kernel>> {
    let attributes = Attributes::new(node);
    let ints = attributes.ints("classlabels_int64s");
    let strings = attributes.strings("classlabels_strings")?;
    let labels = match (ints.is_empty(), strings.is_empty()) {
        (false, true) => Labels::Ints(ints.to_vec()),
        (true, false) => Labels::Strings(strings),
        (true, true) => {
            return Err(
                attributes.error("neither classlabels_int64s nor classlabels_strings is set")
            );
        }
        (false, false) => {
            return Err(attributes.error("both classlabels_int64s and classlabels_strings are set"));
        }
    };
    let n_classes = match &labels {
        Labels::Ints(labels) => labels.len(),
        Labels::Strings(labels) => labels.len(),
    };
    if n_classes < 2 {
        return Err(attributes.error(format!("{n_classes} class label(s); at least 2 are needed")));
    }
    let forest = tree::parse(&attributes, "class", n_classes)?;
    let mut classes: Vec<u32> = forest.weight_target.clone();
    classes.sort_unstable();
    classes.dedup();
    Ok(Arc::new(Classifier {
        binary_case: n_classes == 2 && classes.len() == 1,
        weights_all_positive: forest.weight_value.iter().all(|&weight| weight >= 0.0),
        forest,
        labels,
        post_transform: PostTransform::parse(&attributes)?,
        base: base_values(&attributes, n_classes)?,
    }))
}

impl Kernel for Classifier {
    fn name(&self) -> &'static str {
        "TreeEnsembleClassifier"
    }

    fn n_outputs(&self) -> usize {
        2
    }

    fn output_facts(&self, inputs: &[FactView]) -> TractResult<TVec<(DatumType, TVec<TDim>)>> {
        ensure!(inputs.len() == 1, "TreeEnsembleClassifier takes one input");
        let batch = batch_dim(inputs[0].1);
        let label_type = match self.labels {
            Labels::Ints(_) => DatumType::I64,
            Labels::Strings(_) => DatumType::String,
        };
        Ok(tvec!(
            (label_type, tvec!(batch.clone())),
            (DatumType::F32, tvec!(batch, self.forest.n_targets.into()))
        ))
    }

    fn eval(&self, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        ensure!(inputs.len() == 1, "TreeEnsembleClassifier takes one input");
        let features = inputs[0].cast_to::<f32>()?;
        let (rows, width) = rows_and_width(features.shape());
        let features = slice_of::<f32>(&features)?;
        let n_classes = self.forest.n_targets;
        let mut scores = vec![Score::default(); rows * n_classes];
        let forest = &self.forest;
        forest.for_each_leaf(features, width, rows, |row, leaf| {
            let row_scores = &mut scores[row * n_classes..(row + 1) * n_classes];
            for (class, value) in forest.weights(leaf) {
                row_scores[class].value += value;
                row_scores[class].has = true;
            }
        })?;
        let mut label_index = Vec::with_capacity(rows);
        let mut probabilities = vec![0f32; rows * n_classes];
        let mut row_scores = Vec::with_capacity(n_classes);
        for row in 0..rows {
            row_scores.clear();
            row_scores.extend_from_slice(&scores[row * n_classes..(row + 1) * n_classes]);
            let (label, values) = self.finalize(&mut row_scores);
            label_index.push(label);
            let out = &mut probabilities[row * n_classes..(row + 1) * n_classes];
            for (slot, value) in out.iter_mut().zip(values) {
                *slot = value;
            }
        }
        let labels = match &self.labels {
            Labels::Ints(classes) => {
                let values: Vec<i64> = label_index
                    .iter()
                    .map(|label| match label {
                        Label::Index(index) => classes[*index],
                        Label::Literal(value) => *value,
                    })
                    .collect();
                Tensor::from_shape(&[rows], &values)?
            }
            Labels::Strings(classes) => {
                let values: Vec<String> = label_index
                    .iter()
                    .map(|label| match label {
                        Label::Index(index) => classes[*index].clone(),
                        Label::Literal(value) => {
                            classes.get(*value as usize).cloned().unwrap_or_default()
                        }
                    })
                    .collect();
                tract_ndarray::ArrayD::from_shape_vec(tract_ndarray::IxDyn(&[rows]), values)?.into()
            }
        };
        let probabilities = Tensor::from_shape(&[rows, n_classes], &probabilities)?;
        Ok(tvec!(labels.into_tvalue(), probabilities.into_tvalue()))
    }
}

/// A predicted label: an index into the class labels, or (onnxruntime's two-class case
/// where weights name both classes) the literal 0 or 1.
#[derive(Debug, Clone, Copy)]
enum Label {
    Index(usize),
    Literal(i64),
}

impl Classifier {
    /// onnxruntime's `TreeAggregatorClassifier::FinalizeScores`: base values, the label and
    /// the output scores of one row.
    fn finalize(&self, predictions: &mut Vec<Score>) -> (Label, Vec<f32>) {
        let n_classes = predictions.len();
        let base = &self.base;
        if n_classes > 2 {
            for (score, &base) in predictions.iter_mut().zip(base) {
                if score.has {
                    score.value += base;
                } else {
                    *score = Score {
                        value: base,
                        has: true,
                    };
                }
            }
            let mut best: Option<(usize, f32)> = None;
            for (class, score) in predictions.iter().enumerate() {
                if score.has && best.is_none_or(|(_, value)| score.value > value) {
                    best = Some((class, score.value));
                }
            }
            let label = Label::Index(best.map_or(0, |(class, _)| class));
            let mut values: Vec<f32> = predictions.iter().map(|score| score.value).collect();
            transform_all(&mut values, self.post_transform);
            return (label, values);
        }
        let mut add_second_class = -1;
        if base.len() == 2 {
            if predictions[1].has {
                predictions[1].value = base[1] + predictions[0].value;
                predictions[0].value = -predictions[1].value;
            } else {
                predictions[1].value += base[1];
                predictions[0].value += base[0];
            }
        } else if base.len() == 1 {
            predictions[0].value += base[0];
            if !predictions[1].has {
                predictions.pop();
            }
        } else {
            add_second_class = 3;
            if !predictions[1].has {
                predictions.pop();
            }
        }
        let (score0, has0) = (predictions[0].value, predictions[0].has);
        let (score1, has1) = match predictions.get(1) {
            Some(second) if second.has => (second.value, true),
            _ => (0.0, false),
        };
        let positive = if has1 {
            score1
        } else if has0 {
            score0
        } else {
            0.0
        };
        let label = if self.binary_case {
            if self.weights_all_positive {
                if positive > 0.5 {
                    add_second_class = 0;
                    Label::Index(1)
                } else {
                    add_second_class = 1;
                    Label::Index(0)
                }
            } else if positive > 0.0 {
                add_second_class = 2;
                Label::Index(1)
            } else {
                add_second_class = 3;
                Label::Index(0)
            }
        } else {
            Label::Literal(i64::from(positive > 0.0))
        };
        let mut values: Vec<f32> = predictions.iter().map(|score| score.value).collect();
        if values.len() >= 2 {
            transform_all(&mut values, self.post_transform);
        } else {
            let score = values[0];
            let logistic = self.post_transform == PostTransform::Logistic;
            values = match (self.post_transform, add_second_class) {
                (PostTransform::Probit, _) => vec![probit(score), 0.0],
                (_, 0 | 1) => vec![1.0 - score, score],
                (_, 2 | 3) if logistic => vec![logistic_of(-score), logistic_of(score)],
                (_, 2) => vec![-score, score],
                (_, 3) => vec![score, -score],
                _ => vec![score, 0.0],
            };
        }
        (label, values)
    }
}

// ----------------------------------------------------------------------- post-transforms

fn transform_all(values: &mut [f32], post_transform: PostTransform) {
    match post_transform {
        PostTransform::None => {}
        PostTransform::Logistic => values.iter_mut().for_each(|v| *v = logistic_of(*v)),
        PostTransform::Probit => values.iter_mut().for_each(|v| *v = probit(*v)),
        PostTransform::Softmax => {
            let max = values.iter().copied().fold(-f32::MAX, f32::max);
            let mut sum = 0f32;
            for value in values.iter_mut() {
                *value = (*value - max).exp();
                sum += *value;
            }
            values.iter_mut().for_each(|v| *v /= sum);
        }
        PostTransform::SoftmaxZero => {
            let max = values.iter().copied().fold(-f32::MAX, f32::max);
            let exp_neg_max = (-max).exp();
            let mut sum = 0f32;
            for value in values.iter_mut() {
                if *value > 0.000_000_1 || *value < -0.000_000_1 {
                    *value = (*value - max).exp();
                    sum += *value;
                } else {
                    *value *= exp_neg_max;
                }
            }
            values.iter_mut().for_each(|v| *v /= sum);
        }
    }
}

pub(crate) fn logistic_of(value: f32) -> f32 {
    let v = 1.0 / (1.0 + (-value.abs()).exp());
    if value < 0.0 { 1.0 - v } else { v }
}

/// onnxruntime's probit: `sqrt(2) * erfinv(2x - 1)` with its approximate inverse erf,
/// constants included (its 3.14159 is not quite pi).
#[allow(clippy::approx_constant)]
fn probit(value: f32) -> f32 {
    let x = 2.0 * value - 1.0;
    let sign = if x < 0.0 { -1.0f32 } else { 1.0 };
    let x = (1.0 - x) * (1.0 + x);
    let log = x.ln();
    let v = 2.0 / (3.14159 * 0.147) + 0.5 * log;
    let v2 = 1.0 / 0.147 * log;
    let v3 = -v + (v * v - v2).sqrt();
    std::f32::consts::SQRT_2 * sign * v3.sqrt()
}

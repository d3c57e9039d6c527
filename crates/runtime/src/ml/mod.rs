//! Bascule's own ai.onnx.ml operators, registered into tract's ONNX operator registry.
//!
//! tract builds only a few ai.onnx.ml operators, and runs its `TreeEnsembleClassifier`
//! slowly and, for binary models with one score column, with wrong labels. Every operator
//! here is one [`Kernel`]: it is parsed and validated once, when the model loads (bad
//! attributes are refused with the reason), and then evaluated by plain Rust code that
//! reproduces onnxruntime's semantics. [`MlOp`] adapts a kernel to tract, both as an
//! inference-time operator (`Expansion`) and as the typed operator the plan runs.

mod attributes;
mod encoders;
mod transforms;
mod tree;
mod tree_ops;

use std::fmt;
use std::sync::Arc;

use tract_onnx::model::OnnxOpRegister;
use tract_onnx::tract_hir::internal::*;

pub(crate) use attributes::Attributes;

/// The ai.onnx.ml operators Bascule implements (and registers, replacing tract's own
/// `TreeEnsembleClassifier`).
pub const OPERATORS: [&str; 10] = [
    "TreeEnsembleRegressor",
    "TreeEnsembleClassifier",
    "Scaler",
    "OneHotEncoder",
    "ZipMap",
    "Imputer",
    "LabelEncoder",
    "Binarizer",
    "FeatureVectorizer",
    "Normalizer",
];

/// Adds Bascule's operators to a tract ONNX registry.
pub(crate) fn register(registry: &mut OnnxOpRegister) {
    registry.insert("TreeEnsembleRegressor", |_, node| {
        build(tree_ops::regressor(node))
    });
    registry.insert("TreeEnsembleClassifier", |_, node| {
        build(tree_ops::classifier(node))
    });
    registry.insert("Scaler", |_, node| build(transforms::scaler(node)));
    registry.insert("Binarizer", |_, node| build(transforms::binarizer(node)));
    registry.insert("Imputer", |_, node| build(transforms::imputer(node)));
    registry.insert("FeatureVectorizer", |_, node| {
        build(transforms::feature_vectorizer(node))
    });
    registry.insert("Normalizer", |_, node| build(transforms::normalizer(node)));
    registry.insert("OneHotEncoder", |_, node| build(encoders::one_hot(node)));
    registry.insert("LabelEncoder", |_, node| {
        build(encoders::label_encoder(node))
    });
    registry.insert("ZipMap", |_, node| build(encoders::zipmap(node)));
}

type Built = TractResult<(Box<dyn InferenceOp>, Vec<String>)>;

fn build(kernel: TractResult<Arc<dyn Kernel>>) -> Built {
    Ok((expand(MlOp(kernel?)), vec![]))
}

/// One input's element type and shape, as an operator sees it when working out its outputs.
pub(crate) type FactView<'a> = (DatumType, &'a [TDim]);

/// An ai.onnx.ml operator, validated at load and evaluated by Bascule.
pub(crate) trait Kernel: fmt::Debug + Send + Sync + 'static {
    fn name(&self) -> &'static str;

    fn n_outputs(&self) -> usize {
        1
    }

    /// The outputs' element types and shapes, from the inputs'.
    fn output_facts(&self, inputs: &[FactView]) -> TractResult<TVec<(DatumType, TVec<TDim>)>>;

    fn eval(&self, inputs: TVec<TValue>) -> TractResult<TVec<TValue>>;
}

/// The tract operator wrapping a kernel.
#[derive(Debug, Clone)]
pub(crate) struct MlOp(Arc<dyn Kernel>);

impl PartialEq for MlOp {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for MlOp {}

impl Op for MlOp {
    fn name(&self) -> StaticName {
        self.0.name().into()
    }

    fn as_typed(&self) -> Option<&dyn TypedOp> {
        Some(self)
    }
}

impl EvalOp for MlOp {
    fn eval_out_of_plan(&self, inputs: TVec<TValue>) -> TractResult<Option<TVec<TValue>>> {
        Ok(Some(self.0.eval(inputs)?))
    }

    fn eval(&self, _context: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        self.0.eval(inputs)
    }
}

impl TypedOp for MlOp {
    fn as_op(&self) -> &dyn Op {
        self
    }

    fn as_op_mut(&mut self) -> &mut dyn Op {
        self
    }

    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let views: Vec<FactView> = inputs
            .iter()
            .map(|fact| (fact.datum_type, fact.shape.dims()))
            .collect();
        Ok(self
            .0
            .output_facts(&views)?
            .into_iter()
            .map(|(datum_type, shape)| TypedFact::dt_shape(datum_type, shape))
            .collect())
    }
}

impl Expansion for MlOp {
    fn name(&self) -> StaticName {
        self.0.name().into()
    }

    fn nboutputs(&self) -> TractResult<usize> {
        Ok(self.0.n_outputs())
    }

    fn rules<'r, 'p: 'r, 's: 'r>(
        &'s self,
        s: &mut Solver<'r>,
        inputs: &'p [TensorProxy],
        outputs: &'p [TensorProxy],
    ) -> InferenceResult {
        check_output_arity(outputs, self.0.n_outputs())?;
        let kernel = self.0.clone();
        s.given_all(
            inputs.iter().map(|input| &input.datum_type),
            move |s, types| {
                let kernel = kernel.clone();
                s.given_all(inputs.iter().map(|input| &input.shape), move |s, shapes| {
                    let views: Vec<FactView> = types
                        .iter()
                        .copied()
                        .zip(shapes.iter().map(|shape| shape.as_slice()))
                        .collect();
                    for (output, (datum_type, shape)) in
                        outputs.iter().zip(kernel.output_facts(&views)?)
                    {
                        s.equals(&output.datum_type, datum_type)?;
                        s.equals(&output.shape, ShapeFactoid::from(shape))?;
                    }
                    Ok(())
                })
            },
        )
    }

    fn wire(
        &self,
        prefix: &str,
        model: &mut TypedModel,
        inputs: &[OutletId],
    ) -> TractResult<TVec<OutletId>> {
        model.wire_node(prefix, self.clone(), inputs)
    }
}

/// The number of rows of a `[N, ...]` input (`[C]` is one row).
pub(crate) fn rows_and_width(shape: &[usize]) -> (usize, usize) {
    match shape {
        [] => (1, 1),
        [width] => (1, *width),
        [rows, rest @ ..] => (*rows, rest.iter().product()),
    }
}

/// The first dimension of a declared shape (the batch), or 1 for a vector.
pub(crate) fn batch_dim(shape: &[TDim]) -> TDim {
    if shape.len() >= 2 {
        shape[0].clone()
    } else {
        TDim::Val(1)
    }
}

/// A tensor's elements as a slice (its element type must be `T`).
pub(crate) fn slice_of<T: Datum>(tensor: &Tensor) -> TractResult<&[T]> {
    tensor.try_as_plain_ram()?.as_slice::<T>()
}

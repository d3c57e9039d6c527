//! `TractModel`: a model tract has optimised once, run batch after batch from any thread.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, PoisonError};

use bascule_core::{EngineError, LoadedModel, Signature, Tensor, TensorData, TensorSpec};
use tract_onnx::prelude::{
    DatumType, IntoTValue, TValue, TVec, Tensor as TractTensor, TractResult, TypedSimplePlan,
    TypedSimpleState, tract_ndarray,
};

/// Run states kept for reuse per model: enough for every core to run the model at once.
const MAX_IDLE_STATES: usize = 16;

use crate::onnx_proto::{DeclaredInput, Dim};

/// What `run` checks an input against, and how it hands it to tract.
#[derive(Debug, Clone)]
pub(crate) struct InputPlan {
    declared: DeclaredInput,
}

impl InputPlan {
    pub(crate) fn new(declared: DeclaredInput) -> Self {
        InputPlan { declared }
    }

    pub(crate) fn spec(&self) -> TensorSpec {
        TensorSpec {
            name: self.declared.name.clone(),
            datatype: self.declared.datatype,
            shape: self
                .declared
                .dims
                .iter()
                .map(|dim| match dim {
                    Dim::Fixed(size) => *size as i64,
                    Dim::Any(_) => -1,
                })
                .collect(),
        }
    }

    /// The batch size this tensor feeds, when its first dimension is the batch.
    fn check(&self, tensor: &Tensor) -> Result<Option<usize>, EngineError> {
        let name = &self.declared.name;
        if tensor.data.datatype() != self.declared.datatype {
            return Err(EngineError::BadInput(format!(
                "input '{name}' must be {}, got {}",
                self.declared.datatype,
                tensor.data.datatype()
            )));
        }
        let fits = tensor.shape.len() == self.declared.dims.len()
            && tensor
                .shape
                .iter()
                .zip(&self.declared.dims)
                .all(|(size, dim)| match dim {
                    Dim::Fixed(expected) => size == expected,
                    Dim::Any(_) => true,
                });
        if !fits {
            return Err(EngineError::BadInput(format!(
                "input '{name}' must have shape {:?} (-1: any size), got {:?}",
                self.spec().shape,
                tensor.shape
            )));
        }
        let elements = tensor
            .shape
            .iter()
            .try_fold(1usize, |product, size| product.checked_mul(*size));
        if elements != Some(tensor.data.len()) {
            return Err(EngineError::BadInput(format!(
                "input '{name}' has shape {:?} but {} elements of data",
                tensor.shape,
                tensor.data.len()
            )));
        }
        let batched = matches!(self.declared.dims.first(), Some(Dim::Any(_)));
        Ok(batched.then(|| tensor.shape.first().copied().unwrap_or(0)))
    }
}

/// A model loaded into tract. Cheap to share: runs take `&self` and each takes a run
/// state of its own, so batches run concurrently. States are reused: a fresh tract state
/// per run allocates its buffers and matmul scratch space again, which costs more than
/// the run itself on small models.
///
/// A model with a batch dimension also gets a plan optimised for one row: online serving
/// mostly sends single rows, and with every shape known tract skips the symbolic shape
/// work each operator otherwise does per run (docs/benchmarks.md).
pub struct TractModel {
    plan: Plan,
    single_row: Option<Plan>,
    signature: Signature,
    inputs: Vec<InputPlan>,
}

/// An optimised plan and its idle run states.
pub(crate) struct Plan {
    plan: Arc<TypedSimplePlan>,
    idle: Mutex<Vec<TypedSimpleState>>,
}

impl Plan {
    pub(crate) fn new(plan: Arc<TypedSimplePlan>) -> Self {
        Plan {
            plan,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Runs on an idle state, or a new one; the state goes back for reuse only after a
    /// run that succeeded (a failed or panicked run may leave it mid-turn).
    fn run(&self, values: TVec<TValue>) -> Result<TVec<TValue>, EngineError> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let mut state = match idle {
            Some(state) => state,
            None => self
                .plan
                .spawn()
                .map_err(|error| EngineError::Failed(format!("{error:#}")))?,
        };
        let outputs = catch_unwind(AssertUnwindSafe(|| state.run(values)))
            .map_err(|_| EngineError::Failed("tract panicked running the model".into()))?
            .map_err(|error| EngineError::Failed(format!("{error:#}")))?;
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < MAX_IDLE_STATES {
            idle.push(state);
        }
        Ok(outputs)
    }
}

impl TractModel {
    pub(crate) fn new(
        plan: Plan,
        single_row: Option<Plan>,
        signature: Signature,
        inputs: Vec<InputPlan>,
    ) -> Self {
        TractModel {
            plan,
            single_row,
            signature,
            inputs,
        }
    }

    /// Puts the tensors in signature order and checks each against its spec; with the
    /// batch size when the inputs have a batch dimension.
    fn ordered_inputs<'a>(
        &self,
        mut given: Vec<&'a Tensor>,
    ) -> Result<(Vec<&'a Tensor>, Option<usize>), EngineError> {
        let names = || {
            self.inputs
                .iter()
                .map(|plan| plan.declared.name.as_str())
                .collect::<Vec<_>>()
        };
        if given.len() != self.inputs.len() {
            return Err(EngineError::BadInput(format!(
                "the model takes {} input(s) {:?}, got {}",
                self.inputs.len(),
                names(),
                given.len()
            )));
        }
        let mut ordered = Vec::with_capacity(self.inputs.len());
        let mut batch: Option<usize> = None;
        for plan in &self.inputs {
            let position = given
                .iter()
                .position(|tensor| tensor.name == plan.declared.name);
            let Some(position) = position else {
                let got: Vec<&str> = given.iter().map(|tensor| tensor.name.as_str()).collect();
                return Err(EngineError::BadInput(format!(
                    "missing input '{}': the model takes {:?}, got {got:?}",
                    plan.declared.name,
                    names()
                )));
            };
            let tensor = given.swap_remove(position);
            if let Some(rows) = plan.check(tensor)? {
                match batch {
                    Some(first) if first != rows => {
                        return Err(EngineError::BadInput(format!(
                            "inputs disagree on the batch size: {first} and {rows} rows"
                        )));
                    }
                    _ => batch = Some(rows),
                }
            }
            ordered.push(tensor);
        }
        Ok((ordered, batch))
    }
}

impl std::fmt::Debug for TractModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TractModel")
            .field("signature", &self.signature)
            .field("nodes", &self.plan.plan.model().nodes().len())
            .field("single_row_plan", &self.single_row.is_some())
            .finish()
    }
}

impl LoadedModel for TractModel {
    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn run(&self, inputs: Vec<Tensor>) -> Result<Vec<Tensor>, EngineError> {
        self.run_borrowed(&inputs)
    }

    /// tract copies the inputs into tensors of its own, so it needs no ownership of them.
    fn run_borrowed(&self, inputs: &[Tensor]) -> Result<Vec<Tensor>, EngineError> {
        let (inputs, batch) = self.ordered_inputs(inputs.iter().collect())?;
        let plan = match (batch, &self.single_row) {
            (Some(1), Some(single_row)) => single_row,
            _ => &self.plan,
        };
        let values: TVec<TValue> = inputs
            .into_iter()
            .map(|tensor| to_tract(tensor).map(IntoTValue::into_tvalue))
            .collect::<TractResult<_>>()
            .map_err(|error| EngineError::BadInput(format!("{error:#}")))?;
        let outputs = plan.run(values)?;
        if outputs.len() != self.signature.outputs.len() {
            return Err(EngineError::Failed(format!(
                "tract returned {} outputs, the signature has {}",
                outputs.len(),
                self.signature.outputs.len()
            )));
        }
        outputs
            .iter()
            .zip(&self.signature.outputs)
            .map(|(value, spec)| from_tract(&spec.name, value))
            .collect()
    }
}

fn to_tract(tensor: &Tensor) -> TractResult<TractTensor> {
    let shape = &tensor.shape;
    Ok(match &tensor.data {
        TensorData::Fp32(data) => TractTensor::from_shape(shape, data)?,
        TensorData::Fp64(data) => TractTensor::from_shape(shape, data)?,
        TensorData::Int64(data) => TractTensor::from_shape(shape, data)?,
        TensorData::Int32(data) => TractTensor::from_shape(shape, data)?,
        TensorData::Bool(data) => TractTensor::from_shape(shape, data)?,
        TensorData::Bytes(data) => {
            tract_ndarray::ArrayD::from_shape_vec(tract_ndarray::IxDyn(shape), data.clone())?.into()
        }
    })
}

fn from_tract(name: &str, value: &TractTensor) -> Result<Tensor, EngineError> {
    let failed = |error: tract_onnx::prelude::TractError| {
        EngineError::Failed(format!("output '{name}': {error:#}"))
    };
    // The elements straight from tract's buffer: an ndarray view would build a dynamic
    // dimension and strides per output, which cost more than the copy on small models.
    fn elements<T: tract_onnx::prelude::Datum + Clone>(value: &TractTensor) -> TractResult<Vec<T>> {
        Ok(value.try_as_plain_ram()?.as_slice::<T>()?.to_vec())
    }
    let data = match value.datum_type() {
        DatumType::F32 => TensorData::Fp32(elements(value).map_err(failed)?),
        DatumType::F64 => TensorData::Fp64(elements(value).map_err(failed)?),
        DatumType::I64 => TensorData::Int64(elements(value).map_err(failed)?),
        DatumType::I32 => TensorData::Int32(elements(value).map_err(failed)?),
        DatumType::Bool => TensorData::Bool(elements(value).map_err(failed)?),
        DatumType::String => TensorData::Bytes(elements(value).map_err(failed)?),
        DatumType::TDim => {
            let cast = value.cast_to::<i64>().map_err(failed)?;
            TensorData::Int64(elements(&cast).map_err(failed)?)
        }
        other => {
            return Err(EngineError::Failed(format!(
                "output '{name}' has element type {other:?}, which Bascule's tensors cannot carry"
            )));
        }
    };
    Tensor::new(name, value.shape().to_vec(), data).map_err(EngineError::Failed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bascule_core::DataType;

    fn plan(dims: Vec<Dim>) -> InputPlan {
        InputPlan::new(DeclaredInput {
            name: "input".into(),
            datatype: DataType::Fp32,
            datum_type: DatumType::F32,
            dims,
        })
    }

    fn tensor(shape: Vec<usize>, data: TensorData) -> Tensor {
        Tensor {
            name: "input".into(),
            shape,
            data,
        }
    }

    #[test]
    fn checks_datatype_rank_fixed_dims_and_length() {
        let plan = plan(vec![Dim::Any(None), Dim::Fixed(3)]);
        assert_eq!(plan.spec().shape, vec![-1, 3]);
        assert_eq!(
            plan.check(&tensor(vec![2, 3], TensorData::Fp32(vec![0.0; 6]))),
            Ok(Some(2))
        );
        let bad = [
            tensor(vec![2, 3], TensorData::Fp64(vec![0.0; 6])),
            tensor(vec![2, 4], TensorData::Fp32(vec![0.0; 8])),
            tensor(vec![6], TensorData::Fp32(vec![0.0; 6])),
            tensor(vec![2, 3], TensorData::Fp32(vec![0.0; 5])),
            tensor(vec![usize::MAX, 3], TensorData::Fp32(vec![0.0; 5])),
        ];
        for input in bad {
            let error = plan.check(&input).expect_err("refused");
            assert!(matches!(error, EngineError::BadInput(_)), "{error:?}");
        }
    }

    #[test]
    fn converts_strings_and_numbers_both_ways() {
        let strings = tensor(vec![2, 1], TensorData::Bytes(vec!["a".into(), "b".into()]));
        let tract = to_tract(&strings).expect("converts");
        assert_eq!(from_tract("input", &tract), Ok(strings));
        let numbers = tensor(vec![1, 2], TensorData::Int64(vec![7, -7]));
        let tract = to_tract(&numbers).expect("converts");
        assert_eq!(from_tract("input", &tract), Ok(numbers));
    }
}

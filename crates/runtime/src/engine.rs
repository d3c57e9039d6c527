//! `TractEngine`: the pure-Rust ONNX engine behind the `InferenceEngine` port.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use bascule_core::{EngineError, InferenceEngine, LoadedModel, Signature, TensorSpec};
use tract_onnx::pb::ModelProto;
use tract_onnx::prelude::{
    Framework, InferenceFact, InferenceModelExt, IntoRunnable, Symbol, TDim, TypedModel,
};

use crate::model::{InputPlan, Plan, TractModel};
use crate::onnx_proto::{self, DeclaredInput, Dim};

/// Models up to this size also get a plan optimised for one row. What it saves is the
/// per-operator overhead that dominates small models; a large model's run dwarfs that, and a
/// second optimised copy of its weights would double its memory.
const SINGLE_ROW_PLAN_MAX_BYTES: usize = 16 << 20;

/// The name tract gives the batch dimension of every input whose first dimension is free.
const BATCH_SYMBOL: &str = "N";

/// Runs ONNX models with tract, in process. Refuses, before building anything, a model
/// holding an operator tract cannot build, naming the first such node.
pub struct TractEngine {
    framework: tract_onnx::Onnx,
}

impl TractEngine {
    pub fn new() -> Self {
        let mut framework = tract_onnx::onnx();
        crate::ml::register(&mut framework.op_register);
        TractEngine { framework }
    }
}

impl Default for TractEngine {
    fn default() -> Self {
        TractEngine::new()
    }
}

impl fmt::Debug for TractEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TractEngine")
            .field("operators", &self.framework.op_register.0.len())
            .finish()
    }
}

impl InferenceEngine for TractEngine {
    fn name(&self) -> &'static str {
        "tract"
    }

    fn load(&self, onnx: &[u8]) -> Result<Arc<dyn LoadedModel>, EngineError> {
        let model = self.load_model(onnx)?;
        Ok(Arc::new(model))
    }
}

impl TractEngine {
    /// Loads a model as its concrete type (the port's `load` wraps this).
    pub fn load_model(&self, onnx: &[u8]) -> Result<TractModel, EngineError> {
        let proto = onnx_proto::decode(&self.framework, onnx)?;
        let graph = proto
            .graph
            .as_ref()
            .ok_or_else(|| EngineError::InvalidModel("the model has no graph".into()))?;
        if let Some(unsupported) = onnx_proto::first_unsupported_node(&self.framework, graph) {
            return Err(unsupported);
        }
        let inputs = onnx_proto::declared_inputs(graph)?;
        let output_names: Vec<String> = graph
            .output
            .iter()
            .map(|output| output.name.clone())
            .collect();
        // tract is a large third-party optimiser: a panic inside it must not take the
        // server down, so it becomes an error like any other.
        let single_row_plan = onnx.len() <= SINGLE_ROW_PLAN_MAX_BYTES;
        catch_unwind(AssertUnwindSafe(|| {
            self.build(&proto, inputs, output_names, single_row_plan)
        }))
        .unwrap_or_else(|_| {
            Err(EngineError::InvalidModel(
                "tract panicked loading the model".into(),
            ))
        })
    }

    fn build(
        &self,
        proto: &ModelProto,
        declared: Vec<DeclaredInput>,
        output_names: Vec<String>,
        single_row_plan: bool,
    ) -> Result<TractModel, EngineError> {
        let rejected = |error: tract_onnx::prelude::TractError| {
            EngineError::InvalidModel(format!("tract cannot load the model: {error:#}"))
        };
        let mut model = self
            .framework
            .model_for_proto_model(proto)
            .map_err(rejected)?;
        if model.input_outlets().map_err(rejected)?.len() != declared.len() {
            return Err(EngineError::InvalidModel(
                "the graph's inputs do not match its declared inputs".into(),
            ));
        }
        let batch = model.symbols.sym(BATCH_SYMBOL);
        let batched = single_row_plan
            && declared
                .iter()
                .any(|input| matches!(input.dims.first(), Some(Dim::Any(_))));
        // The same graph with every batch dimension set to one row, optimised on its own.
        let mut single_row = batched.then(|| model.clone());
        let mut plans = Vec::with_capacity(declared.len());
        for (index, input) in declared.into_iter().enumerate() {
            let dims = input_dims(&model.symbols, &batch, &input);
            if let Some(single_row) = &mut single_row {
                let one_row = dims
                    .iter()
                    .map(|dim| match dim {
                        TDim::Sym(symbol) if *symbol == batch => TDim::Val(1),
                        other => other.clone(),
                    })
                    .collect::<Vec<_>>();
                single_row
                    .set_input_fact(index, InferenceFact::dt_shape(input.datum_type, one_row))
                    .map_err(rejected)?;
            }
            model
                .set_input_fact(index, InferenceFact::dt_shape(input.datum_type, dims))
                .map_err(rejected)?;
            plans.push(InputPlan::new(input));
        }
        let typed = model.into_optimized().map_err(rejected)?;
        let outputs = output_specs(&typed, output_names)?;
        let signature = Signature {
            inputs: plans.iter().map(InputPlan::spec).collect(),
            outputs,
        };
        let plan = Plan::new(typed.into_runnable().map_err(rejected)?);
        // A graph tract optimises with symbols but not with one row keeps the general plan.
        let single_row = single_row
            .and_then(|single_row| single_row.into_optimized().ok())
            .and_then(|typed| typed.into_runnable().ok())
            .map(Plan::new);
        Ok(TractModel::new(plan, single_row, signature, plans))
    }
}

/// The first free dimension of every input is the shared batch symbol `N`; any other free
/// dimension gets a symbol of its own (its `dim_param` name, or one made from its place).
fn input_dims(
    symbols: &tract_onnx::prelude::SymbolScope,
    batch: &Symbol,
    input: &DeclaredInput,
) -> Vec<TDim> {
    input
        .dims
        .iter()
        .enumerate()
        .map(|(axis, dim)| match dim {
            Dim::Fixed(size) => TDim::Val(*size as i64),
            Dim::Any(_) if axis == 0 => TDim::Sym(batch.clone()),
            Dim::Any(Some(name)) if name != BATCH_SYMBOL => TDim::Sym(symbols.sym(name)),
            Dim::Any(_) => TDim::Sym(symbols.sym(&format!("{}_{axis}", input.name))),
        })
        .collect()
}

/// The outputs' specs from tract's optimised model: what `run` actually returns.
fn output_specs(typed: &TypedModel, names: Vec<String>) -> Result<Vec<TensorSpec>, EngineError> {
    let count = typed.output_outlets().map(<[_]>::len).unwrap_or(0);
    if count != names.len() || count == 0 {
        return Err(EngineError::InvalidModel(format!(
            "tract found {count} outputs where the graph declares {}",
            names.len()
        )));
    }
    names
        .into_iter()
        .enumerate()
        .map(|(index, name)| {
            let fact = typed.output_fact(index).map_err(|error| {
                EngineError::InvalidModel(format!("output '{name}': {error:#}"))
            })?;
            let datatype = onnx_proto::output_datatype(fact.datum_type).ok_or_else(|| {
                EngineError::InvalidModel(format!(
                    "output '{name}' has element type {:?}, which Bascule's tensors cannot carry",
                    fact.datum_type
                ))
            })?;
            let shape = fact
                .shape
                .iter()
                .map(|dim| dim.to_i64().unwrap_or(-1))
                .collect();
            Ok(TensorSpec {
                name,
                datatype,
                shape,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bascule_core::DataType;

    fn declared(dims: Vec<Dim>) -> DeclaredInput {
        DeclaredInput {
            name: "input".into(),
            datatype: DataType::Fp32,
            datum_type: tract_onnx::prelude::DatumType::F32,
            dims,
        }
    }

    #[test]
    fn the_first_free_dimension_is_the_batch() {
        let symbols = tract_onnx::prelude::SymbolScope::default();
        let batch = symbols.sym(BATCH_SYMBOL);
        let dims = input_dims(
            &symbols,
            &batch,
            &declared(vec![
                Dim::Any(None),
                Dim::Fixed(30),
                Dim::Any(Some("seq".into())),
                Dim::Any(None),
            ]),
        );
        let rendered: Vec<String> = dims.iter().map(ToString::to_string).collect();
        assert_eq!(rendered, ["N", "30", "seq", "input_3"]);
    }

    #[test]
    fn a_fixed_leading_dimension_stays_fixed() {
        let symbols = tract_onnx::prelude::SymbolScope::default();
        let batch = symbols.sym(BATCH_SYMBOL);
        let dims = input_dims(
            &symbols,
            &batch,
            &declared(vec![Dim::Fixed(1), Dim::Fixed(4)]),
        );
        assert_eq!(dims, vec![TDim::Val(1), TDim::Val(4)]);
    }

    #[test]
    fn the_engine_is_named_tract() {
        assert_eq!(TractEngine::new().name(), "tract");
    }
}

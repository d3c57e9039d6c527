//! Reading an ONNX protobuf before tract builds anything from it: decoding, the structural
//! checks, the operators tract cannot build, and the model's declared inputs and outputs.

use std::collections::HashSet;

use bascule_core::{DataType, EngineError};
use tract_onnx::pb::tensor_proto::DataType as OnnxType;
use tract_onnx::pb::tensor_shape_proto::dimension::Value as OnnxDim;
use tract_onnx::pb::type_proto::Value as OnnxTypeValue;
use tract_onnx::pb::{GraphProto, ModelProto, NodeProto, ValueInfoProto};
use tract_onnx::prelude::{DatumType, Framework};

/// The operator domains tract implements operators of. Its registry is keyed by operator
/// name alone, so a node of any other domain would be silently built as the standard
/// operator of the same name: such nodes are refused instead.
const TRACT_DOMAINS: [&str; 4] = ["", "ai.onnx", "ai.onnx.ml", "com.microsoft"];

/// One dimension of a declared input shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Dim {
    Fixed(usize),
    /// A dimension of any size; `Some` carries the model's name for it (`dim_param`).
    Any(Option<String>),
}

/// A graph input as the model declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DeclaredInput {
    pub name: String,
    pub datatype: DataType,
    pub datum_type: DatumType,
    pub dims: Vec<Dim>,
}

/// Decodes ONNX protobuf bytes and checks the model has the parts every model needs.
pub(crate) fn decode(framework: &tract_onnx::Onnx, onnx: &[u8]) -> Result<ModelProto, EngineError> {
    if onnx.is_empty() {
        return Err(EngineError::InvalidModel(
            "the model is empty (0 bytes)".into(),
        ));
    }
    let mut reader = onnx;
    let model = framework
        .proto_model_for_read(&mut reader)
        .map_err(|error| {
            EngineError::InvalidModel(format!("cannot decode the protobuf: {error:#}"))
        })?;
    let graph = model
        .graph
        .as_ref()
        .ok_or_else(|| EngineError::InvalidModel("the model has no graph".into()))?;
    if model.ir_version <= 0 {
        return Err(EngineError::InvalidModel(
            "the model declares no IR version".into(),
        ));
    }
    if graph.node.is_empty() {
        return Err(EngineError::InvalidModel("the graph has no nodes".into()));
    }
    if graph.output.is_empty() {
        return Err(EngineError::InvalidModel("the graph has no outputs".into()));
    }
    Ok(model)
}

/// The first node, in graph order and depth first through subgraphs, whose operator tract
/// cannot build.
pub(crate) fn first_unsupported_node(
    framework: &tract_onnx::Onnx,
    graph: &GraphProto,
) -> Option<EngineError> {
    graph.node.iter().find_map(|node| {
        let known = framework.op_register.0.contains_key(&node.op_type)
            && TRACT_DOMAINS.contains(&node.domain.as_str());
        if !known {
            return Some(unsupported(node));
        }
        subgraphs(node).find_map(|subgraph| first_unsupported_node(framework, subgraph))
    })
}

fn unsupported(node: &NodeProto) -> EngineError {
    let domain = if node.domain.is_empty() {
        "ai.onnx"
    } else {
        node.domain.as_str()
    };
    let name = if node.name.is_empty() {
        node.output.first().cloned().unwrap_or_default()
    } else {
        node.name.clone()
    };
    EngineError::UnsupportedOperator {
        engine: "tract",
        op: node.op_type.clone(),
        domain: domain.to_owned(),
        node: name,
    }
}

fn subgraphs(node: &NodeProto) -> impl Iterator<Item = &GraphProto> {
    node.attribute
        .iter()
        .flat_map(|attribute| attribute.g.iter().chain(attribute.graphs.iter()))
}

/// The graph inputs a caller feeds: every declared input that no initializer provides.
pub(crate) fn declared_inputs(graph: &GraphProto) -> Result<Vec<DeclaredInput>, EngineError> {
    let initialized: HashSet<&str> = graph
        .initializer
        .iter()
        .map(|tensor| tensor.name.as_str())
        .collect();
    let inputs: Vec<DeclaredInput> = graph
        .input
        .iter()
        .filter(|input| !initialized.contains(input.name.as_str()))
        .map(declared_input)
        .collect::<Result<_, _>>()?;
    if inputs.is_empty() {
        return Err(EngineError::InvalidModel(
            "the graph has no inputs to feed".into(),
        ));
    }
    Ok(inputs)
}

fn declared_input(input: &ValueInfoProto) -> Result<DeclaredInput, EngineError> {
    let name = &input.name;
    let Some(OnnxTypeValue::TensorType(tensor)) = input
        .r#type
        .as_ref()
        .and_then(|declared| declared.value.as_ref())
    else {
        return Err(EngineError::InvalidModel(format!(
            "input '{name}' is not a tensor"
        )));
    };
    let (datatype, datum_type) = element_type(tensor.elem_type)
        .map_err(|reason| EngineError::InvalidModel(format!("input '{name}': {reason}")))?;
    let shape = tensor.shape.as_ref().ok_or_else(|| {
        EngineError::InvalidModel(format!(
            "input '{name}' declares no shape, not even its rank"
        ))
    })?;
    let dims = shape
        .dim
        .iter()
        .map(|dim| match &dim.value {
            Some(OnnxDim::DimValue(size)) if *size >= 0 => usize::try_from(*size)
                .map(Dim::Fixed)
                .map_err(|_| EngineError::InvalidModel(format!("input '{name}' is too large"))),
            Some(OnnxDim::DimParam(param)) if !param.is_empty() => {
                Ok(Dim::Any(Some(param.clone())))
            }
            _ => Ok(Dim::Any(None)),
        })
        .collect::<Result<_, _>>()?;
    Ok(DeclaredInput {
        name: name.clone(),
        datatype,
        datum_type,
        dims,
    })
}

/// Maps an ONNX element type to the protocol's datatype and tract's, for the element types
/// Bascule's tensors can carry.
pub(crate) fn element_type(elem_type: i32) -> Result<(DataType, DatumType), String> {
    let onnx_type = OnnxType::try_from(elem_type)
        .map_err(|_| format!("unknown ONNX element type {elem_type}"))?;
    match onnx_type {
        OnnxType::Float => Ok((DataType::Fp32, DatumType::F32)),
        OnnxType::Double => Ok((DataType::Fp64, DatumType::F64)),
        OnnxType::Int64 => Ok((DataType::Int64, DatumType::I64)),
        OnnxType::Int32 => Ok((DataType::Int32, DatumType::I32)),
        OnnxType::Bool => Ok((DataType::Bool, DatumType::Bool)),
        OnnxType::String => Ok((DataType::Bytes, DatumType::String)),
        other => Err(format!(
            "element type {} is not supported (Bascule's tensors carry float, double, \
             int64, int32, bool and string)",
            other.as_str_name()
        )),
    }
}

/// The datatype a tract output of this element type is returned as.
pub(crate) fn output_datatype(datum_type: DatumType) -> Option<DataType> {
    match datum_type {
        DatumType::F32 => Some(DataType::Fp32),
        DatumType::F64 => Some(DataType::Fp64),
        DatumType::I64 | DatumType::TDim => Some(DataType::Int64),
        DatumType::I32 => Some(DataType::Int32),
        DatumType::Bool => Some(DataType::Bool),
        DatumType::String => Some(DataType::Bytes),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tract_onnx::pb::{AttributeProto, NodeProto};

    fn node(op_type: &str, domain: &str, name: &str) -> NodeProto {
        NodeProto {
            op_type: op_type.into(),
            domain: domain.into(),
            name: name.into(),
            output: vec![format!("{name}_out")],
            ..NodeProto::default()
        }
    }

    fn graph(nodes: Vec<NodeProto>) -> GraphProto {
        GraphProto {
            node: nodes,
            ..GraphProto::default()
        }
    }

    #[test]
    fn reports_the_first_unknown_operator_with_its_domain() {
        let framework = tract_onnx::onnx();
        let nodes = vec![
            node("Add", "", "add"),
            node("TreeEnsembleRegressor", "ai.onnx.ml", "trees"),
            node("Scaler", "ai.onnx.ml", "scaler"),
        ];
        let error = first_unsupported_node(&framework, &graph(nodes)).expect("refused");
        assert_eq!(
            error,
            EngineError::UnsupportedOperator {
                engine: "tract",
                op: "TreeEnsembleRegressor".into(),
                domain: "ai.onnx.ml".into(),
                node: "trees".into(),
            }
        );
    }

    #[test]
    fn a_known_name_in_a_foreign_domain_is_refused() {
        let framework = tract_onnx::onnx();
        let error = first_unsupported_node(&framework, &graph(vec![node("Add", "com.acme", "")]))
            .expect("refused");
        let EngineError::UnsupportedOperator {
            op, domain, node, ..
        } = error
        else {
            panic!("wrong error {error:?}")
        };
        assert_eq!(
            (op.as_str(), domain.as_str(), node.as_str()),
            ("Add", "com.acme", "_out")
        );
    }

    #[test]
    fn looks_inside_subgraphs_and_accepts_known_operators() {
        let framework = tract_onnx::onnx();
        let known = graph(vec![
            node("Add", "", "a"),
            node("LinearClassifier", "ai.onnx.ml", "b"),
        ]);
        assert_eq!(first_unsupported_node(&framework, &known), None);
        let mut branch = node("If", "", "if");
        branch.attribute.push(AttributeProto {
            name: "then_branch".into(),
            g: Some(graph(vec![node("NoSuchOp", "", "inner")])),
            ..AttributeProto::default()
        });
        let error = first_unsupported_node(&framework, &graph(vec![branch])).expect("refused");
        assert!(
            matches!(error, EngineError::UnsupportedOperator { ref op, .. } if op == "NoSuchOp")
        );
    }

    #[test]
    fn maps_element_types() {
        assert_eq!(element_type(1), Ok((DataType::Fp32, DatumType::F32)));
        assert_eq!(element_type(8), Ok((DataType::Bytes, DatumType::String)));
        assert!(
            element_type(10)
                .expect_err("half floats are refused")
                .contains("FLOAT16")
        );
        assert!(element_type(999).expect_err("unknown").contains("999"));
    }
}

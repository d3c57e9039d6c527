//! Writing the ONNX models Bascule builds itself: a standardised binary logistic
//! regression, as `bascule train` fits it.
//!
//! The graph has the interface skl2onnx gives a scikit-learn binary classifier with
//! ZipMap off — one input `input` (float32 `[N, F]`), outputs `label` (int64 `[N]`) and
//! `probabilities` (float32 `[N, 2]`: `P(0)`, `P(1)`) — so the gate, serving and
//! monitoring treat it like any registered classifier. It uses standard `ai.onnx`
//! operators only (opset 13), so every engine runs it:
//!
//! ```text
//! input ─Sub(means)─Div(scales)─MatMul(coefficients)─Add(intercept)─▶ logit
//! logit ─Sigmoid─▶ p1;  1 − p1 ─▶ p0;  Concat(p0, p1) ─▶ probabilities ─ArgMax─▶ label
//! ```
//!
//! The protobuf is encoded with the prost types tract-onnx carries (`tract_onnx::pb`).

use prost::Message;
use tract_onnx::pb::attribute_proto::AttributeType;
use tract_onnx::pb::tensor_proto::DataType as OnnxType;
use tract_onnx::pb::tensor_shape_proto::Dimension;
use tract_onnx::pb::tensor_shape_proto::dimension::Value as DimensionValue;
use tract_onnx::pb::type_proto::{Tensor as TensorType, Value as TypeValue};
use tract_onnx::pb::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, StringStringEntryProto,
    TensorProto, TensorShapeProto, TypeProto, ValueInfoProto,
};

use crate::Error;

/// The `ai.onnx` operator set the written models import.
pub const OPSET: i64 = 13;
/// The IR version that goes with [`OPSET`] (ONNX 1.8).
const IR_VERSION: i64 = 7;
/// The metadata key under which the feature names are recorded, as a JSON list.
pub const FEATURE_NAMES_KEY: &str = "bascule.feature_names";

/// A fitted binary logistic regression:
/// `P(1 | x) = σ(Σⱼ coefficientsⱼ · (xⱼ − meansⱼ) / scalesⱼ + intercept)`.
#[derive(Debug, Clone, PartialEq)]
pub struct LogisticModel {
    pub means: Vec<f64>,
    pub scales: Vec<f64>,
    pub coefficients: Vec<f64>,
    pub intercept: f64,
    /// The input's columns, in order; recorded in the model's metadata.
    pub feature_names: Vec<String>,
}

/// The ONNX protobuf of `model`. Refuses parameters that do not describe one model
/// (lengths that differ, no features, non-finite values, a zero scale).
pub fn logistic_regression_model(model: &LogisticModel) -> Result<Vec<u8>, Error> {
    check(model)?;
    let n_features = model.coefficients.len();
    let as_f32 = |values: &[f64]| values.iter().map(|&v| v as f32).collect::<Vec<_>>();
    let initializers = vec![
        constant("means", vec![n_features as i64], as_f32(&model.means)),
        constant("scales", vec![n_features as i64], as_f32(&model.scales)),
        constant(
            "coefficients",
            vec![n_features as i64, 1],
            as_f32(&model.coefficients),
        ),
        constant("intercept", vec![1], vec![model.intercept as f32]),
        constant("one", vec![1], vec![1.0]),
    ];
    let nodes = vec![
        node("Sub", &["input", "means"], "centred", vec![]),
        node("Div", &["centred", "scales"], "standardised", vec![]),
        node(
            "MatMul",
            &["standardised", "coefficients"],
            "product",
            vec![],
        ),
        node("Add", &["product", "intercept"], "logit", vec![]),
        node("Sigmoid", &["logit"], "p1", vec![]),
        node("Sub", &["one", "p1"], "p0", vec![]),
        node(
            "Concat",
            &["p0", "p1"],
            "probabilities",
            vec![int("axis", 1)],
        ),
        node(
            "ArgMax",
            &["probabilities"],
            "label",
            vec![int("axis", 1), int("keepdims", 0)],
        ),
    ];
    let graph = GraphProto {
        name: "bascule_logistic_regression".into(),
        node: nodes,
        initializer: initializers,
        input: vec![value_info(
            "input",
            OnnxType::Float,
            &[None, Some(n_features as i64)],
        )],
        output: vec![
            value_info("label", OnnxType::Int64, &[None]),
            value_info("probabilities", OnnxType::Float, &[None, Some(2)]),
        ],
        ..GraphProto::default()
    };
    let feature_names = serde_json::to_string(&model.feature_names)
        .map_err(|error| Error::InvalidLogisticModel(error.to_string()))?;
    let proto = ModelProto {
        ir_version: IR_VERSION,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: OPSET,
        }],
        producer_name: "bascule".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        doc_string: "binary logistic regression (L2), fitted by bascule train".into(),
        graph: Some(graph),
        metadata_props: vec![StringStringEntryProto {
            key: FEATURE_NAMES_KEY.into(),
            value: feature_names,
        }],
        ..ModelProto::default()
    };
    Ok(proto.encode_to_vec())
}

fn check(model: &LogisticModel) -> Result<(), Error> {
    let n_features = model.coefficients.len();
    let refuse = |reason: String| Err(Error::InvalidLogisticModel(reason));
    if n_features == 0 {
        return refuse("the model has no coefficients".into());
    }
    let lengths = [
        ("means", model.means.len()),
        ("scales", model.scales.len()),
        ("feature_names", model.feature_names.len()),
    ];
    for (what, len) in lengths {
        if len != n_features {
            return refuse(format!(
                "{what} has {len} entries but there are {n_features} coefficients"
            ));
        }
    }
    let values = [
        ("means", &model.means),
        ("scales", &model.scales),
        ("coefficients", &model.coefficients),
    ];
    for (what, values) in values {
        if let Some(index) = values
            .iter()
            .position(|v| !(v.is_finite() && (*v as f32).is_finite()))
        {
            return refuse(format!(
                "{what}[{index}] = {} is not a finite float32",
                values[index]
            ));
        }
    }
    if !model.intercept.is_finite() {
        return refuse(format!("the intercept {} is not finite", model.intercept));
    }
    if let Some(index) = model.scales.iter().position(|&scale| scale as f32 == 0.0) {
        return refuse(format!("scales[{index}] is zero"));
    }
    Ok(())
}

fn constant(name: &str, dims: Vec<i64>, values: Vec<f32>) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims,
        data_type: OnnxType::Float as i32,
        float_data: values,
        ..TensorProto::default()
    }
}

fn node(op_type: &str, inputs: &[&str], output: &str, attribute: Vec<AttributeProto>) -> NodeProto {
    NodeProto {
        name: output.into(),
        op_type: op_type.into(),
        input: inputs.iter().map(|&input| input.into()).collect(),
        output: vec![output.into()],
        attribute,
        ..NodeProto::default()
    }
}

fn int(name: &str, value: i64) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::Int as i32,
        i: value,
        ..AttributeProto::default()
    }
}

/// A tensor's declared type; `None` is a dimension of any size (skl2onnx's batch).
fn value_info(name: &str, datatype: OnnxType, dims: &[Option<i64>]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|size| Dimension {
            value: size.map(DimensionValue::DimValue),
            ..Dimension::default()
        })
        .collect();
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            value: Some(TypeValue::TensorType(TensorType {
                elem_type: datatype as i32,
                shape: Some(TensorShapeProto { dim }),
            })),
            ..TypeProto::default()
        }),
        ..ValueInfoProto::default()
    }
}

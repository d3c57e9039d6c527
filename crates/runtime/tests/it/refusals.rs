//! What the engine refuses, and how it says so: models it cannot run, bytes that are not a
//! model, and inputs that do not fit the signature.

use bascule_core::{EngineError, InferenceEngine, LoadedModel, Tensor, TensorData};
use bascule_runtime::TractEngine;

use crate::fixtures;

fn refusal(onnx: &[u8]) -> EngineError {
    match TractEngine::new().load(onnx) {
        Ok(model) => panic!(
            "loaded a model that should be refused: {:?}",
            model.signature()
        ),
        Err(error) => error,
    }
}

fn assert_invalid(onnx: &[u8], what: &str) -> String {
    match refusal(onnx) {
        EngineError::InvalidModel(reason) => reason,
        other => panic!("{what}: expected InvalidModel, got {other:?}"),
    }
}

#[test]
fn an_svm_is_refused_naming_the_operator() {
    let error = refusal(&fixtures::onnx("unsupported"));
    let EngineError::UnsupportedOperator {
        engine,
        op,
        domain,
        node,
    } = &error
    else {
        panic!("expected UnsupportedOperator, got {error:?}")
    };
    assert_eq!(
        (*engine, op.as_str(), domain.as_str()),
        ("tract", "SVMRegressor", "ai.onnx.ml")
    );
    assert!(!node.is_empty(), "the node is named");
    assert!(error.to_string().contains("SVMRegressor"), "{error}");
}

#[test]
fn bytes_that_are_not_a_model_are_invalid() {
    let onnx = fixtures::onnx("logistic");
    let reason = assert_invalid(&onnx[..onnx.len() / 2], "the first half of a model");
    assert!(reason.contains("decode"), "{reason}");
    assert_invalid(&[], "an empty slice");
    // Pseudo-random bytes from a fixed xorshift seed.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let random: Vec<u8> = (0..4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    assert_invalid(&random, "random bytes");
    assert_invalid(b"ir_version: 8\ngraph { }", "ONNX text format");
}

/// A protobuf field: its key, then the length-delimited payload.
fn field(number: u8, payload: &[u8]) -> Vec<u8> {
    let mut bytes = vec![
        (number << 3) | 2,
        u8::try_from(payload.len()).expect("short payload"),
    ];
    bytes.extend_from_slice(payload);
    bytes
}

/// A model of one `Identity` node from `x` to `y`, with graph inputs and outputs as given.
fn identity_model(declare_input: bool, declare_output: bool) -> Vec<u8> {
    // TypeProto { tensor_type { elem_type: FLOAT, shape { dim { } dim { dim_value: 2 } } } }
    let shape = [field(1, &[]), field(1, &[0x08, 0x02])].concat();
    let tensor_type = [vec![0x08, 0x01], field(2, &shape)].concat();
    let value_info =
        |name: &str| [field(1, name.as_bytes()), field(2, &field(1, &tensor_type))].concat();
    let node = [
        field(1, b"x"),
        field(2, b"y"),
        field(3, b"identity"),
        field(4, b"Identity"),
    ]
    .concat();
    let mut graph = field(1, &node);
    graph.extend(field(2, b"g"));
    if declare_input {
        graph.extend(field(11, &value_info("x")));
    }
    if declare_output {
        graph.extend(field(12, &value_info("y")));
    }
    let opset = vec![0x10, 18];
    [vec![0x08, 0x08], field(7, &graph), field(8, &opset)].concat()
}

#[test]
fn a_model_needs_inputs_and_outputs() {
    let model = TractEngine::new()
        .load(&identity_model(true, true))
        .expect("the complete model loads");
    let row =
        Tensor::new("x", vec![1, 2], TensorData::Fp32(vec![1.5, -2.0])).expect("shape covers data");
    let outputs = model.run(vec![row]).expect("runs");
    assert_eq!(outputs[0].data, TensorData::Fp32(vec![1.5, -2.0]));
    let reason = assert_invalid(&identity_model(false, true), "no inputs");
    assert!(reason.contains("no inputs"), "{reason}");
    let reason = assert_invalid(&identity_model(true, false), "no outputs");
    assert!(reason.contains("no outputs"), "{reason}");
}

fn bad_input(model: &dyn LoadedModel, inputs: Vec<Tensor>) -> String {
    match model.run(inputs) {
        Err(EngineError::BadInput(reason)) => reason,
        other => panic!("expected BadInput, got {other:?}"),
    }
}

#[test]
fn inputs_that_do_not_fit_the_signature_are_bad_input() {
    let fixture = fixtures::load("logistic");
    let model = TractEngine::new().load(&fixture.onnx).expect("loads");
    let good = fixture.batch(0..2);
    let tensor = |name: &str, shape: Vec<usize>, data: TensorData| Tensor {
        name: name.into(),
        shape,
        data,
    };

    let reason = bad_input(
        model.as_ref(),
        vec![tensor(
            "input",
            vec![2, 29],
            TensorData::Fp32(vec![0.0; 58]),
        )],
    );
    assert!(
        reason.contains("[-1, 30]") && reason.contains("[2, 29]"),
        "{reason}"
    );
    let reason = bad_input(
        model.as_ref(),
        vec![tensor("input", vec![60], TensorData::Fp32(vec![0.0; 60]))],
    );
    assert!(reason.contains("shape"), "{reason}");
    let reason = bad_input(
        model.as_ref(),
        vec![tensor(
            "input",
            vec![2, 30],
            TensorData::Fp64(vec![0.0; 60]),
        )],
    );
    assert!(
        reason.contains("FP32") && reason.contains("FP64"),
        "{reason}"
    );
    let reason = bad_input(
        model.as_ref(),
        vec![tensor(
            "features",
            vec![2, 30],
            TensorData::Fp32(vec![0.0; 60]),
        )],
    );
    assert!(
        reason.contains("'input'") && reason.contains("features"),
        "{reason}"
    );
    let reason = bad_input(model.as_ref(), vec![good.clone(), good.clone()]);
    assert!(reason.contains("1 input"), "{reason}");
    let reason = bad_input(model.as_ref(), vec![]);
    assert!(reason.contains("got 0"), "{reason}");
    let reason = bad_input(
        model.as_ref(),
        vec![tensor(
            "input",
            vec![2, 30],
            TensorData::Fp32(vec![0.0; 59]),
        )],
    );
    assert!(reason.contains("59"), "{reason}");

    // The model still serves well-formed batches afterwards.
    assert!(model.run(vec![good]).is_ok());
}

#[test]
fn an_empty_batch_gets_empty_outputs() {
    for name in ["logistic", "mlp"] {
        let fixture = fixtures::load(name);
        let model = TractEngine::new().load(&fixture.onnx).expect("loads");
        let outputs = model
            .run(vec![fixture.batch(0..0)])
            .expect("an empty batch runs");
        let shapes: Vec<&[usize]> = outputs
            .iter()
            .map(|output| output.shape.as_slice())
            .collect();
        assert_eq!(shapes, [&[0][..], &[0, 2][..]], "{name}");
        assert!(
            outputs.iter().all(|output| output.data.is_empty()),
            "{name}"
        );
    }
}

//! The MLflow model directory written for a real fixture, read back, and its example run.

use bascule_core::{InferenceEngine, ModelFormat, Tensor, TensorData};
use bascule_runtime::TractEngine;
use bascule_runtime::package::{
    self, MlflowSignature, ModelDirOptions, read_model_dir, write_model_dir, write_model_dir_with,
};

use crate::fixtures;

fn options() -> ModelDirOptions {
    ModelDirOptions {
        artifact_path: Some("mlflow-artifacts:/1/models/m-0f1e2d3c/artifacts".into()),
        run_id: Some("5b6d1c0e8f9a4b2c9d7e6f5a4b3c2d1e".into()),
        model_id: Some("m-0f1e2d3c".into()),
        model_uuid: "8a6c458d1b6f4e6b9d60654699ccf626".into(),
        utc_time_created: "2025-06-01 12:00:00.000000".into(),
        python_version: "3.11".into(),
    }
}

fn file<'a>(files: &'a [(String, Vec<u8>)], path: &str) -> &'a [u8] {
    files
        .iter()
        .find(|(name, _)| name == path)
        .map(|(_, bytes)| bytes.as_slice())
        .unwrap_or_else(|| panic!("no {path}"))
}

#[test]
fn the_logistic_model_directory_is_what_mlflow_writes() {
    let fixture = fixtures::load("logistic");
    let model = TractEngine::new().load(&fixture.onnx).expect("loads");
    let first_row = fixture.batch(0..1);
    let files = write_model_dir_with(
        &options(),
        &fixture.onnx,
        model.signature(),
        Some(&[first_row]),
    )
    .expect("writes");

    let paths: Vec<&str> = files.iter().map(|(path, _)| path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "MLmodel",
            "model.onnx",
            "input_example.json",
            "serving_input_example.json",
            "conda.yaml",
            "python_env.yaml",
            "requirements.txt"
        ]
    );
    assert_eq!(file(&files, "model.onnx"), fixture.onnx.as_slice());
    let example_json = file(&files, "input_example.json");
    let serving_json = file(&files, "serving_input_example.json");
    let size = fixture.onnx.len() + example_json.len() + serving_json.len();
    let mlmodel = String::from_utf8(file(&files, "MLmodel").to_vec()).expect("UTF-8");
    let expected = format!(
        r#"artifact_path: mlflow-artifacts:/1/models/m-0f1e2d3c/artifacts
flavors:
  onnx:
    code: null
    data: model.onnx
    onnx_session_options: null
    onnx_version: 1.13.0
    providers:
    - CPUExecutionProvider
  python_function:
    data: model.onnx
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.onnx
    python_version: '3.11'
is_signature_from_type_hint: false
mlflow_version: 3.17.2
model_id: m-0f1e2d3c
model_size_bytes: {size}
model_uuid: 8a6c458d1b6f4e6b9d60654699ccf626
prompts: null
run_id: 5b6d1c0e8f9a4b2c9d7e6f5a4b3c2d1e
saved_input_example_info:
  artifact_path: input_example.json
  serving_input_path: serving_input_example.json
  type: ndarray
signature:
  inputs: '[{{"name": "input", "type": "tensor", "tensor-spec": {{"dtype": "float32", "shape": [-1, 30]}}}}]'
  outputs: '[{{"name": "label", "type": "tensor", "tensor-spec": {{"dtype": "int64", "shape": [-1]}}}}, {{"name": "probabilities", "type": "tensor", "tensor-spec": {{"dtype": "float32", "shape": [-1, 2]}}}}]'
  params: null
type_hint_from_example: false
utc_time_created: '2025-06-01 12:00:00.000000'
"#
    );
    assert_eq!(mlmodel, expected);
    assert_eq!(
        String::from_utf8_lossy(file(&files, "requirements.txt")),
        "mlflow==3.17.2\nonnx>=1.13.0\nonnxruntime"
    );

    let example: Vec<Vec<f32>> = serde_json::from_slice(example_json).expect("a nested list");
    assert_eq!(example, vec![fixture.rows[0].clone()]);
}

#[test]
fn a_written_directory_reads_back_and_its_example_runs() {
    let fixture = fixtures::load("mlp");
    let model = TractEngine::new().load(&fixture.onnx).expect("loads");
    let files = write_model_dir(&fixture.onnx, model.signature(), None).expect("writes");

    let model_dir = read_model_dir(&files).expect("reads back");
    assert_eq!(model_dir.flavors, ["onnx", "python_function"]);
    assert_eq!(model_dir.onnx_data.as_deref(), Some(package::ONNX_DATA));
    assert_eq!(model_dir.format(), ModelFormat::Onnx);
    assert_eq!(
        model_dir.input_example.as_deref(),
        Some(package::INPUT_EXAMPLE)
    );
    assert_eq!(
        model_dir.mlflow_version.as_deref(),
        Some(package::MLFLOW_VERSION)
    );
    let signature = model_dir.signature.as_ref().expect("a signature");
    assert_eq!(
        signature,
        &MlflowSignature::from_signature(model.signature())
    );
    assert_eq!(signature.to_signature().as_ref(), Some(model.signature()));
    let onnx = file(&files, model_dir.onnx_data.as_deref().unwrap_or_default());
    assert_eq!(onnx, fixture.onnx.as_slice());

    // Without an example, one row of zeros stands in; as a scoring request it runs.
    #[derive(serde::Deserialize)]
    struct ServingInput {
        inputs: Vec<Vec<f32>>,
    }
    let serving: ServingInput =
        serde_json::from_slice(file(&files, package::SERVING_INPUT_EXAMPLE)).expect("parses");
    assert_eq!(serving.inputs, vec![vec![0.0; fixture.n_features()]]);
    let row = Tensor::new(
        "input",
        vec![1, fixture.n_features()],
        TensorData::Fp32(serving.inputs.concat()),
    )
    .expect("a row");
    let outputs = model.run(vec![row]).expect("the example runs");
    assert_eq!(outputs[0].shape, [1]);
}

#[test]
fn every_write_is_a_new_logging() {
    let fixture = fixtures::load("linear");
    let model = TractEngine::new().load(&fixture.onnx).expect("loads");
    let uuid = |files: Vec<(String, Vec<u8>)>| read_model_dir(&files).expect("reads").model_uuid;
    let first = uuid(write_model_dir(&fixture.onnx, model.signature(), None).expect("writes"));
    let second = uuid(write_model_dir(&fixture.onnx, model.signature(), None).expect("writes"));
    assert!(first.is_some() && first != second, "{first:?} {second:?}");
}

#[test]
fn an_example_that_does_not_fit_is_refused() {
    let fixture = fixtures::load("linear");
    let model = TractEngine::new().load(&fixture.onnx).expect("loads");
    let wrong = Tensor::new("input", vec![1, 3], TensorData::Fp32(vec![0.0; 3])).expect("a row");
    let error =
        write_model_dir(&fixture.onnx, model.signature(), Some(&[wrong])).expect_err("refused");
    assert!(
        matches!(error, bascule_runtime::Error::InvalidInputExample(_)),
        "{error:?}"
    );
}

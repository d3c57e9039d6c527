//! Reading an MLflow model directory: what `MLmodel` says about the model (its flavors,
//! where the ONNX file is, its signature, its input example), whoever wrote it.

use bascule_core::ModelFormat;
use serde_yaml::Value;

use super::MLMODEL;
use super::schema::{MlflowSignature, Schema};
use crate::Error;

/// What an `MLmodel` file says about its model directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelDir {
    /// The flavor names, sorted (`onnx`, `python_function`, `sklearn`, …).
    pub flavors: Vec<String>,
    /// The ONNX file, relative to the directory, when there is an `onnx` flavor.
    pub onnx_data: Option<String>,
    pub signature: Option<MlflowSignature>,
    /// The input example file, relative to the directory.
    pub input_example: Option<String>,
    pub mlflow_version: Option<String>,
    pub model_uuid: Option<String>,
    pub run_id: Option<String>,
    pub utc_time_created: Option<String>,
}

impl ModelDir {
    /// `Onnx` when Bascule can serve the directory, `Other` (stored, never served) otherwise.
    pub fn format(&self) -> ModelFormat {
        if self.onnx_data.is_some() {
            ModelFormat::Onnx
        } else {
            ModelFormat::Other
        }
    }
}

/// Reads a model directory given as `(path, content)` pairs, paths relative to its root:
/// parses `MLmodel` and checks the files it names are there.
pub fn read_model_dir<P: AsRef<str>, B: AsRef<[u8]>>(files: &[(P, B)]) -> Result<ModelDir, Error> {
    let content = |wanted: &str| {
        files
            .iter()
            .find(|(path, _)| path.as_ref().trim_start_matches("./") == wanted)
            .map(|(_, bytes)| bytes.as_ref())
    };
    let mlmodel = content(MLMODEL).ok_or(Error::MissingMlmodel)?;
    let text = std::str::from_utf8(mlmodel)
        .map_err(|_| Error::InvalidMlmodel("the file is not UTF-8 text".into()))?;
    let model_dir = parse_mlmodel(text)?;
    let referenced = [
        (&model_dir.onnx_data, "the onnx flavor's data"),
        (&model_dir.input_example, "the input example"),
    ];
    for (path, what) in referenced {
        if let Some(path) = path
            && content(path).is_none()
        {
            return Err(Error::MissingFile {
                path: path.clone(),
                what,
            });
        }
    }
    Ok(model_dir)
}

/// Parses the text of an `MLmodel` file.
pub fn parse_mlmodel(text: &str) -> Result<ModelDir, Error> {
    let invalid = |reason: String| Error::InvalidMlmodel(reason);
    let root: Value =
        serde_yaml::from_str(text).map_err(|error| invalid(format!("not YAML: {error}")))?;
    let flavors = root
        .get("flavors")
        .and_then(Value::as_mapping)
        .ok_or_else(|| invalid("there is no `flavors` mapping".into()))?;
    let mut flavor_names: Vec<String> = flavors
        .keys()
        .filter_map(|key| key.as_str().map(str::to_owned))
        .collect();
    flavor_names.sort();
    let onnx_data = match flavors.get("onnx") {
        None => None,
        Some(onnx) => Some(
            onnx.get("data")
                .and_then(Value::as_str)
                .filter(|data| !data.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| invalid("the onnx flavor names no `data` file".into()))?,
        ),
    };
    if let Some(path) = &onnx_data {
        check_relative(path)?;
    }
    let signature = match root.get("signature") {
        None | Some(Value::Null) => None,
        Some(signature) => {
            let side = |key: &str| match signature.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(json)) => Schema::from_json(json).map(Some),
                Some(_) => Err(invalid(format!("signature `{key}` is not a JSON string"))),
            };
            Some(MlflowSignature {
                inputs: side("inputs")?,
                outputs: side("outputs")?,
            })
        }
    };
    let input_example = root
        .get("saved_input_example_info")
        .and_then(|info| info.get("artifact_path"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    if let Some(path) = &input_example {
        check_relative(path)?;
    }
    let text_field = |key: &str| root.get(key).and_then(scalar_text);
    Ok(ModelDir {
        flavors: flavor_names,
        onnx_data,
        signature,
        input_example,
        mlflow_version: text_field("mlflow_version"),
        model_uuid: text_field("model_uuid"),
        run_id: text_field("run_id"),
        utc_time_created: text_field("utc_time_created"),
    })
}

/// A scalar as text: YAML may read an unquoted version or time as a number.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// A path `MLmodel` names must stay inside the directory.
fn check_relative(path: &str) -> Result<(), Error> {
    let escapes =
        path.starts_with('/') || path.contains('\\') || path.split('/').any(|part| part == "..");
    if escapes {
        return Err(Error::InvalidMlmodel(format!(
            "'{path}' is not a path inside the model directory"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `MLmodel` MLflow 3.17.2's `mlflow.onnx.save_model` wrote for the logistic fixture
    /// (PyYAML folds the long signature strings over two lines).
    const MLFLOW_ONNX_MLMODEL: &str = r#"flavors:
  onnx:
    code: null
    data: model.onnx
    onnx_session_options: null
    onnx_version: 1.23.2
    providers:
    - CUDAExecutionProvider
    - CPUExecutionProvider
  python_function:
    data: model.onnx
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.onnx
    python_version: 3.11.7
is_signature_from_type_hint: false
mlflow_version: 3.17.2
model_id: null
model_size_bytes: 2833
model_uuid: bf551bbdb62f40d8824d5f963c14d0ac
prompts: null
saved_input_example_info:
  artifact_path: input_example.json
  serving_input_path: serving_input_example.json
  type: ndarray
signature:
  inputs: '[{"name": "input", "type": "tensor", "tensor-spec": {"dtype": "float32",
    "shape": [-1, 30]}}]'
  outputs: '[{"name": "label", "type": "tensor", "tensor-spec": {"dtype": "int64",
    "shape": [-1]}}, {"name": "probabilities", "type": "tensor", "tensor-spec": {"dtype":
    "float32", "shape": [-1, 2]}}]'
  params: null
type_hint_from_example: false
utc_time_created: '2026-11-26 18:00:41.742512'
"#;

    #[test]
    fn reads_what_mlflow_onnx_writes() {
        let model_dir = parse_mlmodel(MLFLOW_ONNX_MLMODEL).expect("parses");
        assert_eq!(model_dir.flavors, ["onnx", "python_function"]);
        assert_eq!(model_dir.onnx_data.as_deref(), Some("model.onnx"));
        assert_eq!(
            model_dir.input_example.as_deref(),
            Some("input_example.json")
        );
        assert_eq!(
            model_dir.utc_time_created.as_deref(),
            Some("2026-11-26 18:00:41.742512")
        );
        let signature = model_dir
            .signature
            .and_then(|signature| signature.to_signature())
            .expect("tensors");
        let shapes: Vec<(&str, &str, &[i64])> = signature
            .inputs
            .iter()
            .chain(&signature.outputs)
            .map(|spec| {
                (
                    spec.name.as_str(),
                    spec.datatype.numpy_name(),
                    spec.shape.as_slice(),
                )
            })
            .collect();
        assert_eq!(
            shapes,
            [
                ("input", "float32", &[-1, 30][..]),
                ("label", "int64", &[-1][..]),
                ("probabilities", "float32", &[-1, 2][..])
            ]
        );
    }

    /// An `MLmodel` as `mlflow.sklearn.log_model` writes it (MLflow 2.x, column signature).
    const SKLEARN_MLMODEL: &str = r#"artifact_path: model
flavors:
  python_function:
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.sklearn
    model_path: model.pkl
    predict_fn: predict
    python_version: 3.10.12
  sklearn:
    code: null
    pickled_model: model.pkl
    serialization_format: cloudpickle
    sklearn_version: 1.3.2
mlflow_version: 2.9.2
model_uuid: 1b2c3d
run_id: 0a9f
signature:
  inputs: '[{"type": "double", "name": "mean radius", "required": true}]'
  outputs: '[{"type": "long", "required": true}]'
  params: null
utc_time_created: '2024-01-12 05:17:31.634689'
"#;

    #[test]
    fn a_pickled_sklearn_model_has_no_onnx_flavor() {
        let model_dir = parse_mlmodel(SKLEARN_MLMODEL).expect("parses");
        assert_eq!(model_dir.flavors, ["python_function", "sklearn"]);
        assert_eq!(model_dir.onnx_data, None);
        assert_eq!(model_dir.format(), ModelFormat::Other);
        assert_eq!(model_dir.mlflow_version.as_deref(), Some("2.9.2"));
        let signature = model_dir.signature.expect("has a signature");
        assert!(
            matches!(signature.inputs, Some(Schema::Columns(ref columns)) if columns[0].name.as_deref() == Some("mean radius"))
        );
        assert_eq!(signature.to_signature(), None);
    }

    #[test]
    fn finds_the_onnx_file_and_checks_it_is_there() {
        let mlmodel = "flavors:\n  onnx:\n    data: nested/model.onnx\n  python_function:\n    loader_module: mlflow.onnx\n";
        let without: Vec<(&str, &[u8])> = vec![("MLmodel", mlmodel.as_bytes())];
        assert_eq!(
            read_model_dir(&without),
            Err(Error::MissingFile {
                path: "nested/model.onnx".into(),
                what: "the onnx flavor's data"
            })
        );
        let with: Vec<(&str, &[u8])> = vec![
            ("MLmodel", mlmodel.as_bytes()),
            ("nested/model.onnx", b"onnx"),
        ];
        let model_dir = read_model_dir(&with).expect("reads");
        assert_eq!(model_dir.onnx_data.as_deref(), Some("nested/model.onnx"));
        assert_eq!(
            (model_dir.format(), model_dir.signature),
            (ModelFormat::Onnx, None)
        );
    }

    #[test]
    fn refuses_what_is_not_an_mlmodel() {
        let no_files: Vec<(&str, &[u8])> = vec![("model.onnx", b"x")];
        assert_eq!(read_model_dir(&no_files), Err(Error::MissingMlmodel));
        for text in [
            "[not, a, mapping",
            "just: text",
            "flavors:\n  onnx:\n    providers: []\n",
            "flavors:\n  onnx:\n    data: ../../etc/passwd\n",
            "flavors:\n  onnx:\n    data: /abs/model.onnx\n",
            "flavors: {}\nsignature:\n  inputs: 42\n",
            "flavors: {}\nsignature:\n  inputs: 'not json'\n",
        ] {
            let error = parse_mlmodel(text).expect_err(text);
            assert!(
                matches!(error, Error::InvalidMlmodel(_)),
                "{text}: {error:?}"
            );
        }
    }
}

//! Writing an MLflow model directory as `mlflow.onnx.save_model` / `log_model` (MLflow
//! 3.17.2) lays it out: `MLmodel` (keys sorted, as PyYAML dumps them), `model.onnx`, the input
//! example twice, and the Python environment files the `python_function` flavor points at.

use std::time::{SystemTime, UNIX_EPOCH};

use bascule_core::{Signature, Tensor};
use serde::Serialize;

use super::environment;
use super::example::InputExample;
use super::schema::{MlflowSignature, Schema};
use super::{
    CONDA_ENV, INPUT_EXAMPLE, MLFLOW_VERSION, MLMODEL, ONNX_DATA, PYTHON_ENV, REQUIREMENTS,
    SERVING_INPUT_EXAMPLE,
};
use crate::Error;

/// The parts of `MLmodel` that are facts about this particular logging: where, when, which
/// run, which Python. `new()` fills a fresh uuid and the current time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelDirOptions {
    /// MLflow 3 writes the logged model's artifact location; omitted when `None`, as
    /// `save_model` does.
    pub artifact_path: Option<String>,
    /// The run that logged the model; omitted when `None`.
    pub run_id: Option<String>,
    /// MLflow 3's logged-model id (`m-…`); written as `null` when `None`.
    pub model_id: Option<String>,
    /// 32 lower-case hex digits, as `uuid.uuid4().hex`.
    pub model_uuid: String,
    /// UTC, `YYYY-MM-DD HH:MM:SS.ffffff`, as `str(datetime)`.
    pub utc_time_created: String,
    /// The Python the `python_function` flavor asks for (there is none here to ask).
    pub python_version: String,
}

/// The Python version written when the caller names none.
pub const DEFAULT_PYTHON_VERSION: &str = "3.11";

impl ModelDirOptions {
    pub fn new() -> Self {
        ModelDirOptions {
            artifact_path: None,
            run_id: None,
            model_id: None,
            model_uuid: uuid::Uuid::new_v4().simple().to_string(),
            utc_time_created: utc_timestamp(SystemTime::now()),
            python_version: DEFAULT_PYTHON_VERSION.to_owned(),
        }
    }
}

impl Default for ModelDirOptions {
    fn default() -> Self {
        ModelDirOptions::new()
    }
}

/// The files of an MLflow model directory holding `onnx`, as `(path, content)` pairs with
/// `MLmodel` first. Without an input example, one row of zeros stands in. Does no I/O.
pub fn write_model_dir(
    onnx: &[u8],
    signature: &Signature,
    input_example: Option<&[Tensor]>,
) -> Result<Vec<(String, Vec<u8>)>, Error> {
    write_model_dir_with(&ModelDirOptions::new(), onnx, signature, input_example)
}

/// `write_model_dir` with every logging fact given, for reproducible output.
pub fn write_model_dir_with(
    options: &ModelDirOptions,
    onnx: &[u8],
    signature: &Signature,
    input_example: Option<&[Tensor]>,
) -> Result<Vec<(String, Vec<u8>)>, Error> {
    if signature.inputs.is_empty() {
        return Err(Error::InvalidInputExample(
            "the signature has no inputs".into(),
        ));
    }
    let example = match input_example {
        Some(tensors) => InputExample::checked(signature, tensors)?,
        None => InputExample::zeros(signature)?,
    };
    let input_example_json = example.input_example_json();
    let serving_input_json = example.serving_input_json();
    let onnx_version = environment::minimum_onnx_release(onnx)?;
    // MLflow measures the directory after writing the model and the examples, before
    // `MLmodel` and the environment files.
    let model_size_bytes = [
        onnx.len(),
        input_example_json.len(),
        serving_input_json.len(),
    ]
    .iter()
    .map(|len| *len as u64)
    .sum();
    let mlflow_signature = MlflowSignature::from_signature(signature);
    let mlmodel = Mlmodel {
        artifact_path: options.artifact_path.as_deref(),
        flavors: Flavors {
            onnx: OnnxFlavor {
                code: None,
                data: ONNX_DATA,
                onnx_session_options: None,
                onnx_version,
                providers: ["CPUExecutionProvider"],
            },
            python_function: PythonFunctionFlavor {
                data: ONNX_DATA,
                env: Env {
                    conda: CONDA_ENV,
                    virtualenv: PYTHON_ENV,
                },
                loader_module: "mlflow.onnx",
                python_version: &options.python_version,
            },
        },
        is_signature_from_type_hint: false,
        mlflow_version: MLFLOW_VERSION,
        model_id: options.model_id.as_deref(),
        model_size_bytes,
        model_uuid: &options.model_uuid,
        prompts: None,
        run_id: options.run_id.as_deref(),
        saved_input_example_info: InputExampleInfo {
            artifact_path: INPUT_EXAMPLE,
            serving_input_path: SERVING_INPUT_EXAMPLE,
            kind: "ndarray",
        },
        signature: SignatureStrings {
            inputs: mlflow_signature.inputs.as_ref().map(Schema::to_json),
            outputs: mlflow_signature.outputs.as_ref().map(Schema::to_json),
            params: None,
        },
        type_hint_from_example: false,
        utc_time_created: &options.utc_time_created,
    };
    let mlmodel_yaml = quote_timestamp(
        serde_yaml::to_string(&mlmodel)
            .map_err(|error| Error::InvalidMlmodel(format!("cannot write YAML: {error}")))?,
        &options.utc_time_created,
    );
    let requirements = environment::requirements(onnx_version);
    Ok(vec![
        (MLMODEL.to_owned(), mlmodel_yaml.into_bytes()),
        (ONNX_DATA.to_owned(), onnx.to_vec()),
        (INPUT_EXAMPLE.to_owned(), input_example_json),
        (SERVING_INPUT_EXAMPLE.to_owned(), serving_input_json),
        (
            CONDA_ENV.to_owned(),
            environment::conda_yaml(&options.python_version, &requirements)?,
        ),
        (
            PYTHON_ENV.to_owned(),
            environment::python_env_yaml(&options.python_version)?,
        ),
        (
            REQUIREMENTS.to_owned(),
            requirements.join("\n").into_bytes(),
        ),
    ])
}

// Field order is PyYAML's `sort_keys` order; `None` fields MLflow writes as `null`.
#[derive(Serialize)]
struct Mlmodel<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    artifact_path: Option<&'a str>,
    flavors: Flavors<'a>,
    is_signature_from_type_hint: bool,
    mlflow_version: &'a str,
    model_id: Option<&'a str>,
    model_size_bytes: u64,
    model_uuid: &'a str,
    prompts: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    run_id: Option<&'a str>,
    saved_input_example_info: InputExampleInfo,
    signature: SignatureStrings,
    type_hint_from_example: bool,
    utc_time_created: &'a str,
}

#[derive(Serialize)]
struct Flavors<'a> {
    onnx: OnnxFlavor,
    python_function: PythonFunctionFlavor<'a>,
}

#[derive(Serialize)]
struct OnnxFlavor {
    code: Option<String>,
    data: &'static str,
    onnx_session_options: Option<String>,
    onnx_version: Option<&'static str>,
    providers: [&'static str; 1],
}

#[derive(Serialize)]
struct PythonFunctionFlavor<'a> {
    data: &'static str,
    env: Env,
    loader_module: &'static str,
    python_version: &'a str,
}

#[derive(Serialize)]
struct Env {
    conda: &'static str,
    virtualenv: &'static str,
}

#[derive(Serialize)]
struct InputExampleInfo {
    artifact_path: &'static str,
    serving_input_path: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct SignatureStrings {
    inputs: Option<String>,
    outputs: Option<String>,
    params: Option<String>,
}

/// PyYAML (YAML 1.1) reads a plain `2025-06-01 12:00:00.000000` as a datetime, so MLflow
/// quotes it; serde_yaml (YAML 1.2, no timestamps) leaves it plain. Quote it as MLflow does.
fn quote_timestamp(yaml: String, utc_time_created: &str) -> String {
    let plain = format!("\nutc_time_created: {utc_time_created}\n");
    let quoted = format!(
        "\nutc_time_created: '{}'\n",
        utc_time_created.replace('\'', "''")
    );
    yaml.replacen(&plain, &quoted, 1)
}

/// `str(datetime)` of a UTC instant: `YYYY-MM-DD HH:MM:SS.ffffff`.
fn utc_timestamp(instant: SystemTime) -> String {
    let since_epoch = instant.duration_since(UNIX_EPOCH).unwrap_or_default();
    let seconds = since_epoch.as_secs();
    let (days, second_of_day) = (seconds / 86_400, seconds % 86_400);
    let (year, month, day) = bascule_core::civil_from_days(i64::try_from(days).unwrap_or(i64::MAX));
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{:06}",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60,
        since_epoch.subsec_micros()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_utc_time_as_python_prints_a_datetime() {
        let at = |seconds: u64, micros: u64| {
            UNIX_EPOCH + Duration::from_secs(seconds) + Duration::from_micros(micros)
        };
        assert_eq!(utc_timestamp(at(0, 0)), "1970-01-01 00:00:00.000000");
        // 2024-02-29 23:59:59.123456 UTC (a leap day) and 2000-03-01 (after a 400-year leap).
        assert_eq!(
            utc_timestamp(at(1_709_251_199, 123_456)),
            "2024-02-29 23:59:59.123456"
        );
        assert_eq!(
            utc_timestamp(at(951_868_800, 7)),
            "2000-03-01 00:00:00.000007"
        );
    }

    #[test]
    fn the_creation_time_is_quoted_for_yaml_1_1_readers() {
        let yaml = "prompts: null\nutc_time_created: 2025-06-01 12:00:00.000000\n".to_owned();
        assert_eq!(
            quote_timestamp(yaml, "2025-06-01 12:00:00.000000"),
            "prompts: null\nutc_time_created: '2025-06-01 12:00:00.000000'\n"
        );
        let already = "x: 1\nutc_time_created: 'it''s'\n".to_owned();
        assert_eq!(quote_timestamp(already.clone(), "it's"), already);
    }

    #[test]
    fn options_have_a_fresh_uuid_each_time() {
        let (first, second) = (ModelDirOptions::new(), ModelDirOptions::new());
        assert_eq!(first.model_uuid.len(), 32);
        assert!(
            first
                .model_uuid
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(first.model_uuid, second.model_uuid);
    }
}

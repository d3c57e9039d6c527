//! The MLflow model directory: the artifact of every model version, whether the official
//! `mlflow` client logged it (`mlflow.onnx.log_model`) or `bascule models register` wrote it.
//!
//! ```text
//! MLmodel                     YAML: flavors (onnx, python_function), signature, example info
//! model.onnx                  the model
//! input_example.json          one example batch, the bare nested list (tensor inputs)
//! serving_input_example.json  the same as a scoring request: {"inputs": ...}
//! conda.yaml, python_env.yaml, requirements.txt   what the python_function flavor runs in
//! ```
//!
//! Everything here is pure: files go in and out as `(path, bytes)` pairs.

mod environment;
mod example;
mod read;
mod schema;
mod write;

pub use read::{ModelDir, parse_mlmodel, read_model_dir};
pub use schema::{MlflowSignature, Schema, SchemaColumn, SchemaTensor};
pub use write::{DEFAULT_PYTHON_VERSION, ModelDirOptions, write_model_dir, write_model_dir_with};

/// The MLflow release whose layout this module writes, recorded as `mlflow_version`.
pub const MLFLOW_VERSION: &str = "3.17.2";
pub const MLMODEL: &str = "MLmodel";
pub const ONNX_DATA: &str = "model.onnx";
pub const INPUT_EXAMPLE: &str = "input_example.json";
pub const SERVING_INPUT_EXAMPLE: &str = "serving_input_example.json";
pub const CONDA_ENV: &str = "conda.yaml";
pub const PYTHON_ENV: &str = "python_env.yaml";
pub const REQUIREMENTS: &str = "requirements.txt";

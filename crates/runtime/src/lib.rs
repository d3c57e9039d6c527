//! Bascule's ONNX runtime: two inference engines behind `bascule_core`'s
//! `InferenceEngine` port — `TractEngine` (tract plus Bascule's own ai.onnx.ml operators:
//! tree ensembles, scalers, encoders; the default) and `OrtEngine` (onnxruntime loaded from
//! a configured shared library) — loading, refusing models an engine cannot run with the
//! operator's name, running batches, and checking that engines agree on a model
//! (`check_agreement`); and the MLflow model directory format (`MLmodel`, `model.onnx`,
//! input example) that both `mlflow.onnx.log_model` and `bascule models register` produce;
//! and [`onnx`], the writer of the models Bascule fits itself (`bascule train`'s logistic
//! regression).
//!
//! This is the only crate that names tract and ort. It does no I/O of its own beyond
//! loading the onnxruntime library it is given: it takes bytes and returns bytes, leaving
//! storage to the artifact store and HTTP to the server. It knows nothing of the model
//! lifecycle, validation policies or which version serves traffic.

mod agreement;
mod engine;
mod error;
mod ml;
mod model;
pub mod onnx;
mod onnx_proto;
mod onnxruntime;
pub mod package;

pub use agreement::{
    AgreementReport, DEFAULT_TOLERANCE, EngineRun, OutputComparison, check_agreement, compare_runs,
};
pub use engine::TractEngine;
pub use error::Error;
pub use ml::OPERATORS as BASCULE_ML_OPERATORS;
pub use model::TractModel;
pub use onnxruntime::{OrtConfig, OrtEngine, OrtModel, onnxruntime_library_from_env};

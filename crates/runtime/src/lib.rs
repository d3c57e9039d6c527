//! Bascule's ONNX runtime: the `tract` inference engine behind `bascule_core`'s
//! `InferenceEngine` port (loading, refusing models tract cannot run with the operator's
//! name, running batches), and the MLflow model directory format (`MLmodel`, `model.onnx`,
//! input example) that both `mlflow.onnx.log_model` and `bascule models register` produce.
//!
//! This is the only crate that names tract. It does no I/O of its own: it takes bytes and
//! returns bytes, leaving storage to the artifact store and HTTP to the server. It knows
//! nothing of the model lifecycle, validation policies or which version serves traffic.

mod engine;
mod error;
mod model;
mod onnx_proto;
pub mod package;

pub use engine::TractEngine;
pub use error::Error;
pub use model::TractModel;

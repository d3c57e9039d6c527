//! What reading or writing an MLflow model directory can report. The engine itself reports
//! `bascule_core::EngineError`, the port's error.

use bascule_core::{Coded, ErrorCode};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The directory has no `MLmodel` file at its root.
    #[error("not an MLflow model directory: there is no MLmodel file at its root")]
    MissingMlmodel,
    /// `MLmodel` names a file the directory does not hold.
    #[error("MLmodel refers to '{path}' ({what}), which the model directory does not contain")]
    MissingFile { path: String, what: &'static str },
    /// `MLmodel` is not the YAML MLflow writes.
    #[error("invalid MLmodel: {0}")]
    InvalidMlmodel(String),
    /// The bytes given as the model are not ONNX.
    #[error("not an ONNX model: {0}")]
    InvalidOnnx(String),
    /// The input example does not fit the signature.
    #[error("the input example does not fit the signature: {0}")]
    InvalidInputExample(String),
    /// The parameters given to an ONNX writer do not describe one model.
    #[error("cannot write the logistic regression: {0}")]
    InvalidLogisticModel(String),
    /// The configured onnxruntime library cannot be used.
    #[error("cannot use the onnxruntime library {library}: {reason}")]
    OnnxRuntime { library: String, reason: String },
}

impl Coded for Error {
    fn code(&self) -> ErrorCode {
        match self {
            Error::MissingMlmodel
            | Error::MissingFile { .. }
            | Error::InvalidMlmodel(_)
            | Error::InvalidOnnx(_)
            | Error::InvalidInputExample(_)
            | Error::InvalidLogisticModel(_) => ErrorCode::InvalidArgument,
            Error::OnnxRuntime { .. } => ErrorCode::FailedPrecondition,
        }
    }
}

use bascule_core::{Coded, EngineError, ErrorCode};

use crate::LifecycleError;

/// What serving and deployment changes report.
#[derive(Debug, thiserror::Error)]
pub enum ServingError {
    #[error(transparent)]
    Lifecycle(#[from] LifecycleError),
    #[error(
        "model '{name}' is not deployed; deploy a version with `bascule deploy {name} VERSION`"
    )]
    NotDeployed { name: String },
    #[error("{name} version {version} is not serving (serving: {serving})")]
    VersionNotServing {
        name: String,
        version: i64,
        serving: String,
    },
    #[error("{0}")]
    BadInput(String),
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("background task failed: {0}")]
    Task(String),
}

impl From<bascule_core::Error> for ServingError {
    fn from(error: bascule_core::Error) -> Self {
        ServingError::Lifecycle(error.into())
    }
}

impl Coded for ServingError {
    fn code(&self) -> ErrorCode {
        match self {
            ServingError::Lifecycle(error) => error.code(),
            ServingError::NotDeployed { .. } | ServingError::VersionNotServing { .. } => {
                ErrorCode::NotFound
            }
            ServingError::BadInput(_) => ErrorCode::InvalidArgument,
            ServingError::Refused(_) => ErrorCode::FailedPrecondition,
            ServingError::Engine(error) => error.code(),
            ServingError::Task(_) => ErrorCode::Internal,
        }
    }
}

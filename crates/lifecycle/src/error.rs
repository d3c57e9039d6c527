use bascule_core::{Coded, EngineError, ErrorCode};

/// What the lifecycle services report.
#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    #[error(transparent)]
    Store(#[from] bascule_core::Error),
    #[error("the model cannot be loaded: {0}")]
    Engine(#[from] EngineError),
    #[error("cannot package the model: {0}")]
    Package(#[from] bascule_runtime::Error),
    #[error("invalid upload: {0}")]
    InvalidUpload(String),
    #[error("{name} version {version} is {stage}, not deployable: {why}")]
    NotDeployable {
        name: String,
        version: i64,
        stage: bascule_core::Stage,
        why: String,
    },
    #[error("{name} version {version} holds no ONNX model and cannot be served: {hint}")]
    NotOnnx {
        name: String,
        version: i64,
        hint: &'static str,
    },
    #[error(transparent)]
    Gate(#[from] crate::gate::GateError),
    #[error("background task failed: {0}")]
    Task(String),
    /// A deployment change made by the lifecycle itself (the promotion policy) failed.
    #[error(transparent)]
    Serving(Box<crate::serving::ServingError>),
}

impl From<crate::serving::ServingError> for LifecycleError {
    fn from(error: crate::serving::ServingError) -> Self {
        match error {
            crate::serving::ServingError::Lifecycle(error) => error,
            other => LifecycleError::Serving(Box::new(other)),
        }
    }
}

impl Coded for LifecycleError {
    fn code(&self) -> ErrorCode {
        match self {
            LifecycleError::Store(e) => e.code(),
            LifecycleError::Engine(e) => e.code(),
            LifecycleError::Package(e) => e.code(),
            LifecycleError::InvalidUpload(_) => ErrorCode::InvalidArgument,
            LifecycleError::NotDeployable { .. } | LifecycleError::NotOnnx { .. } => {
                ErrorCode::FailedPrecondition
            }
            LifecycleError::Gate(e) => e.code(),
            LifecycleError::Task(_) => ErrorCode::Internal,
            LifecycleError::Serving(e) => e.code(),
        }
    }
}

/// How to get a model Bascule can serve; shown whenever a non-ONNX version is refused.
pub const EXPORT_HINT: &str = "Bascule serves ONNX models; export yours with skl2onnx \
    (scikit-learn), torch.onnx.export (PyTorch) or tf2onnx (TensorFlow) and log it with \
    mlflow.onnx.log_model or `bascule models register`";

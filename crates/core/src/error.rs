use crate::stage::IllegalTransition;

/// A stable, coarse classification of every error Bascule reports. The HTTP layer maps a
/// code to a status and to each protocol's error body in exactly one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// The request named something that does not exist.
    NotFound,
    /// The request would create something that already exists.
    AlreadyExists,
    /// The request itself is malformed or out of range.
    InvalidArgument,
    /// The request is well formed but the target is in the wrong state for it.
    FailedPrecondition,
    /// A dependency (database, object store) cannot be reached.
    Unavailable,
    /// Stored data failed an integrity check.
    DataLoss,
    /// A bug or an unexpected failure; details are logged, never returned.
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::AlreadyExists => "ALREADY_EXISTS",
            ErrorCode::InvalidArgument => "INVALID_ARGUMENT",
            ErrorCode::FailedPrecondition => "FAILED_PRECONDITION",
            ErrorCode::Unavailable => "UNAVAILABLE",
            ErrorCode::DataLoss => "DATA_LOSS",
            ErrorCode::Internal => "INTERNAL",
        }
    }
}

/// Every library error enum implements this, so the HTTP layer and the CLI can classify
/// errors without knowing their crate.
pub trait Coded: std::error::Error {
    fn code(&self) -> ErrorCode;
}

/// The error of the port traits: what a metadata or artifact store can report.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{kind} '{id}' does not exist")]
    NotFound { kind: &'static str, id: String },
    #[error("{kind} '{id}' already exists")]
    AlreadyExists { kind: &'static str, id: String },
    #[error("{0}")]
    InvalidArgument(String),
    #[error(transparent)]
    IllegalTransition(#[from] IllegalTransition),
    #[error("{0}")]
    FailedPrecondition(String),
    #[error("{what} is unavailable")]
    Unavailable {
        what: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("integrity check failed: {0}")]
    DataLoss(String),
    #[error("{what}")]
    Internal {
        what: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

impl Error {
    pub fn not_found(kind: &'static str, id: impl std::fmt::Display) -> Self {
        Error::NotFound {
            kind,
            id: id.to_string(),
        }
    }
    pub fn already_exists(kind: &'static str, id: impl std::fmt::Display) -> Self {
        Error::AlreadyExists {
            kind,
            id: id.to_string(),
        }
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::InvalidArgument(message.into())
    }
    pub fn internal(
        what: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error::Internal {
            what: what.into(),
            source: Some(Box::new(source)),
        }
    }
}

impl Coded for Error {
    fn code(&self) -> ErrorCode {
        match self {
            Error::NotFound { .. } => ErrorCode::NotFound,
            Error::AlreadyExists { .. } => ErrorCode::AlreadyExists,
            Error::InvalidArgument(_) => ErrorCode::InvalidArgument,
            Error::IllegalTransition(_) | Error::FailedPrecondition(_) => {
                ErrorCode::FailedPrecondition
            }
            Error::Unavailable { .. } => ErrorCode::Unavailable,
            Error::DataLoss(_) => ErrorCode::DataLoss,
            Error::Internal { .. } => ErrorCode::Internal,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

//! The crate's one error type. Per-feature problems are never errors — they are
//! verdicts ([`crate::Verdict::InsufficientData`]); only a configuration that would make
//! every verdict meaningless is refused.

use bascule_core::{Coded, ErrorCode};
use thiserror::Error;

/// Why a drift report could not be made.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum MonitorError {
    /// A setting of [`crate::DriftConfig`] is out of range.
    #[error("drift configuration `{field}` {reason}")]
    InvalidConfig { field: String, reason: &'static str },
}

impl Coded for MonitorError {
    fn code(&self) -> ErrorCode {
        match self {
            MonitorError::InvalidConfig { .. } => ErrorCode::InvalidArgument,
        }
    }
}

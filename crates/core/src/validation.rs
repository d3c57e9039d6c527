//! What the metadata store keeps about the validation gate: the versioned validation
//! policy of each registered model, and the record of every validation run (its report
//! and reference profile live in the artifact store, by digest).

use crate::Millis;

/// The text format a validation policy was written in; the body is kept as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyFormat {
    Toml,
    Json,
}

impl PolicyFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyFormat::Toml => "toml",
            PolicyFormat::Json => "json",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "toml" => Some(PolicyFormat::Toml),
            "json" => Some(PolicyFormat::Json),
            _ => None,
        }
    }
}

/// One version of a model's validation policy. Setting a policy appends a version; the
/// newest one applies.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredPolicy {
    pub name: String,
    /// 1 for the first policy of a model, then 2, 3, …
    pub policy_version: i64,
    pub body: String,
    pub format: PolicyFormat,
    pub created_by: String,
    pub time: Millis,
}

/// A finished validation run, as it is recorded together with its transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewValidationRecord {
    pub name: String,
    pub version: i64,
    /// sha256 of the report (JSON) in the artifact store.
    pub report_digest: String,
    /// sha256 of the reference profile (JSON) in the artifact store.
    pub profile_digest: String,
    pub passed: bool,
    /// The policy version applied; `None` when the defaults applied.
    pub policy_version: Option<i64>,
}

/// A recorded validation run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ValidationRecord {
    pub id: i64,
    pub name: String,
    pub version: i64,
    pub report_digest: String,
    pub profile_digest: String,
    pub passed: bool,
    pub policy_version: Option<i64>,
    pub time: Millis,
}

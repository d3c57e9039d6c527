//! The model registry: registered models, their versions, lineage and lifecycle events.

use crate::{Millis, Signature, Stage, Tag};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RegisteredModel {
    pub name: String,
    pub description: String,
    pub creation_time: Millis,
    pub last_updated_time: Millis,
    pub tags: Vec<Tag>,
    /// `(alias, version)` pairs, sorted by alias.
    pub aliases: Vec<(String, i64)>,
    /// The newest version number, if any version exists.
    pub latest_version: Option<i64>,
}

/// MLflow's registration status of a version. Bascule registers atomically, so every
/// version it lists is `Ready`; the other values exist for the MLflow API's sake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ModelVersionStatus {
    PendingRegistration,
    FailedRegistration,
    Ready,
}

impl ModelVersionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ModelVersionStatus::PendingRegistration => "PENDING_REGISTRATION",
            ModelVersionStatus::FailedRegistration => "FAILED_REGISTRATION",
            ModelVersionStatus::Ready => "READY",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            ModelVersionStatus::PendingRegistration,
            ModelVersionStatus::FailedRegistration,
            ModelVersionStatus::Ready,
        ]
        .into_iter()
        .find(|status| status.as_str() == s)
    }
}

/// Where a version came from: the version it was retrained from, the digest of the data
/// set it was trained on, and the code that trained it.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Lineage {
    pub parent_version: Option<i64>,
    pub data_digest: Option<String>,
    pub code_ref: Option<String>,
}

/// What a version's artifact holds: an ONNX model Bascule can serve, or anything else
/// (stored and listed, never served).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelFormat {
    Onnx,
    Other,
}

impl ModelFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            ModelFormat::Onnx => "onnx",
            ModelFormat::Other => "other",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "onnx" => Some(ModelFormat::Onnx),
            "other" => Some(ModelFormat::Other),
            _ => None,
        }
    }
}

/// One file of a model version's artifact directory, by content digest.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ArtifactFile {
    /// Path inside the model directory, `/`-separated (`MLmodel`, `model.onnx`).
    pub path: String,
    /// Lower-case hex sha256 of the content.
    pub digest: String,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ModelVersion {
    pub name: String,
    pub version: i64,
    pub creation_time: Millis,
    pub last_updated_time: Millis,
    pub description: String,
    /// Where the version's files came from (a path, a run artifact URI, `models:/…`).
    pub source: String,
    pub run_id: Option<String>,
    pub status: ModelVersionStatus,
    pub stage: Stage,
    pub format: ModelFormat,
    pub lineage: Lineage,
    pub signature: Option<Signature>,
    pub files: Vec<ArtifactFile>,
    pub tags: Vec<Tag>,
    pub aliases: Vec<String>,
    pub created_by: String,
}

/// What registering a version needs; the store assigns the number and records the
/// `Prototype` event in the same transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct NewModelVersion {
    pub name: String,
    pub description: String,
    pub source: String,
    pub run_id: Option<String>,
    pub format: ModelFormat,
    pub lineage: Lineage,
    pub signature: Option<Signature>,
    pub files: Vec<ArtifactFile>,
    pub tags: Vec<Tag>,
    pub actor: String,
    pub reason: String,
    /// Create the registered model if it does not exist yet.
    pub create_model: bool,
}

/// A link to the evidence behind a transition: a validation report, a drift report, a
/// feedback item, a deployment.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Evidence {
    /// What the evidence is (`validation_report`, `drift_report`, `feedback`, …).
    pub kind: String,
    /// Where to find it: an artifact digest, a report id, a URL path.
    pub reference: String,
}

/// A requested stage change, as the lifecycle layer hands it to the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub name: String,
    pub version: i64,
    pub to: Stage,
    pub actor: String,
    pub reason: String,
    pub evidence: Option<Evidence>,
}

/// One entry of the append-only event log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LifecycleEvent {
    pub id: i64,
    pub name: String,
    pub version: i64,
    /// `None` for the registration event.
    pub from: Option<Stage>,
    pub to: Stage,
    pub actor: String,
    pub time: Millis,
    pub reason: String,
    pub evidence: Option<Evidence>,
}

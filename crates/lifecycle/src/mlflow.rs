//! Registration through the MLflow API: a version's source (`models:/<model id>`,
//! `runs:/<run id>/<path>`, `mlflow-artifacts:/<path>`) names files the client wrote
//! through the artifact proxy; they become a Bascule version like any upload — an ONNX
//! model directory is loaded and checked and enters the loop as Prototype, anything else
//! is stored and listed but never served.

use bascule_core::{ArtifactEntry, ModelFormat, ModelVersion, NewModelVersion, Tag};

use crate::error::LifecycleError;
use crate::registry::{RegisterRequest, Registry, Upload, UploadedFile};

type Result<T, E = LifecycleError> = std::result::Result<T, E>;

/// The scheme of the artifact proxy's URIs.
const ARTIFACTS_SCHEME: &str = "mlflow-artifacts:";

/// A version registered through MLflow's `model-versions/create`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MlflowVersionRequest {
    pub name: String,
    pub source: String,
    pub run_id: Option<String>,
    pub description: String,
    pub tags: Vec<Tag>,
    pub actor: String,
}

/// The path in the artifact tree an artifact URI names (`mlflow-artifacts:/1/x` and
/// `mlflow-artifacts://host:port/1/x` → `1/x`); `None` for any other scheme.
pub fn artifact_tree_path(uri: &str) -> Option<String> {
    let rest = uri.strip_prefix(ARTIFACTS_SCHEME)?;
    let rest = match rest.strip_prefix("//") {
        Some(with_authority) => with_authority.split_once('/').map_or("", |(_, path)| path),
        None => rest,
    };
    Some(rest.trim_matches('/').to_owned())
}

impl Registry {
    /// Where in the artifact tree a version's source keeps its files, if Bascule holds them.
    pub async fn resolve_mlflow_source(&self, source: &str) -> Result<Option<String>> {
        if let Some(model_id) = source.strip_prefix("models:/") {
            let model_id = model_id.trim_matches('/');
            // `models:/<name>/<version>` names a registered version, not a logged model.
            if model_id.contains('/') {
                return Ok(None);
            }
            let model = self.store().get_logged_model(model_id).await?;
            return Ok(artifact_tree_path(&model.artifact_location));
        }
        if let Some(rest) = source.strip_prefix("runs:/") {
            let (run_id, path) = rest.split_once('/').unwrap_or((rest, ""));
            let run = self.store().get_run(run_id).await?;
            return Ok(artifact_tree_path(&run.artifact_uri).map(|root| {
                let path = path.trim_matches('/');
                if path.is_empty() {
                    root
                } else {
                    format!("{root}/{path}")
                }
            }));
        }
        Ok(artifact_tree_path(source))
    }

    /// Registers a version from its MLflow source. Files Bascule holds are registered as
    /// a model directory (an ONNX flavor is loaded by an engine first); a source outside
    /// Bascule is recorded as a non-servable version without files.
    pub async fn register_mlflow_version(
        &self,
        request: MlflowVersionRequest,
    ) -> Result<ModelVersion> {
        let directory = self.resolve_mlflow_source(&request.source).await?;
        let run_id = match request.run_id {
            Some(run_id) => Some(run_id),
            None => self.source_run_id(&request.source).await?,
        };
        let entries = match &directory {
            Some(directory) => self.store().list_artifact_entries(directory).await?,
            None => Vec::new(),
        };
        let version = match directory {
            Some(directory) if !entries.is_empty() => {
                let files = relative_files(&directory, entries);
                self.register(RegisterRequest {
                    name: request.name.clone(),
                    upload: Upload::ModelDir(files),
                    description: request.description,
                    source: request.source,
                    run_id,
                    lineage: Default::default(),
                    actor: request.actor,
                    engine: None,
                })
                .await?
            }
            _ => {
                self.create_model_if_missing(&request.name).await?;
                self.store()
                    .create_model_version(NewModelVersion {
                        name: request.name.clone(),
                        description: request.description,
                        source: request.source,
                        run_id,
                        format: ModelFormat::Other,
                        lineage: Default::default(),
                        signature: None,
                        files: Vec::new(),
                        tags: Vec::new(),
                        actor: request.actor,
                        reason: "registered through the MLflow API (files held elsewhere)"
                            .to_owned(),
                        create_model: true,
                    })
                    .await?
            }
        };
        for tag in &request.tags {
            self.store()
                .set_model_version_tag(&version.name, version.version, tag)
                .await?;
        }
        Ok(self
            .store()
            .get_model_version(&version.name, version.version)
            .await?)
    }

    /// The run a source came from, when the client did not say: a logged model's source
    /// run (MLflow 3 registers with `models:/<model id>` alone), or the run of `runs:/`.
    async fn source_run_id(&self, source: &str) -> Result<Option<String>> {
        if let Some(model_id) = source.strip_prefix("models:/")
            && model_id.starts_with("m-")
            && !model_id.contains('/')
        {
            return Ok(self.store().get_logged_model(model_id).await?.source_run_id);
        }
        Ok(source
            .strip_prefix("runs:/")
            .and_then(|rest| rest.split('/').next())
            .filter(|run_id| !run_id.is_empty())
            .map(str::to_owned))
    }

    async fn create_model_if_missing(&self, name: &str) -> Result<()> {
        match self.create_model(name, "").await {
            Ok(_) => Ok(()),
            Err(LifecycleError::Store(bascule_core::Error::AlreadyExists { .. })) => Ok(()),
            Err(error) => Err(error),
        }
    }
}

/// The entries under `directory`, as files of a model directory (paths relative to it).
fn relative_files(directory: &str, entries: Vec<ArtifactEntry>) -> Vec<UploadedFile> {
    let prefix = format!("{}/", directory.trim_end_matches('/'));
    entries
        .into_iter()
        .filter_map(|entry| {
            let path = entry.path.strip_prefix(&prefix)?.to_owned();
            Some(UploadedFile {
                path,
                digest: entry.digest,
                size: entry.size,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifact_uris_name_tree_paths() {
        assert_eq!(
            artifact_tree_path("mlflow-artifacts:/1/models/m-1/artifacts").as_deref(),
            Some("1/models/m-1/artifacts")
        );
        assert_eq!(
            artifact_tree_path("mlflow-artifacts://127.0.0.1:5000/1/abc/artifacts/").as_deref(),
            Some("1/abc/artifacts")
        );
        assert_eq!(artifact_tree_path("s3://bucket/x"), None);
    }
}

use std::sync::Arc;

use bascule_core::{
    ArtifactFile, ArtifactStore, ByteStream, LifecycleEvent, Lineage, LoadedModel, MetadataStore,
    ModelFormat, ModelVersion, NewModelVersion, RegisteredModel, Signature, Tag, Transition,
};
use bascule_runtime::package;
use bytes::Bytes;

use crate::engines::{ENGINE_TAG, Engines};
use crate::error::{EXPORT_HINT, LifecycleError};
use crate::feedback::FeedbackConfig;
use crate::jobs::Jobs;
use crate::monitoring::MonitorState;
use crate::plans::PlanCache;

type Result<T, E = LifecycleError> = std::result::Result<T, E>;

use bascule_runtime::package::{MLMODEL, ONNX_DATA};

/// One file of an upload, already streamed into the artifact store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedFile {
    /// Path inside the model directory as the client sent it (`model.onnx`, `MLmodel`).
    pub path: String,
    pub digest: String,
    pub size: u64,
}

/// What a registration uploads: a bare ONNX file, or the files of an MLflow model
/// directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upload {
    Onnx(UploadedFile),
    ModelDir(Vec<UploadedFile>),
}

/// A request to register a new version of a model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterRequest {
    pub name: String,
    pub upload: Upload,
    pub description: String,
    /// Where the files came from, for people (a path, a run artifact URI).
    pub source: String,
    pub run_id: Option<String>,
    pub lineage: Lineage,
    pub actor: String,
    /// The engine to serve the version (`tract`, `onnxruntime`); `None`: the first engine,
    /// in preference order, that can run it.
    pub engine: Option<String>,
}

/// The model registry and the lifecycle rules.
#[derive(Debug, Clone)]
pub struct Registry {
    store: Arc<dyn MetadataStore>,
    artifacts: Arc<dyn ArtifactStore>,
    engines: Engines,
    plans: Arc<PlanCache>,
    jobs: Arc<Jobs>,
    monitoring: Arc<MonitorState>,
    feedback: Arc<FeedbackConfig>,
}

impl Registry {
    pub fn new(
        store: Arc<dyn MetadataStore>,
        artifacts: Arc<dyn ArtifactStore>,
        engines: Engines,
    ) -> Self {
        Registry {
            store,
            artifacts,
            engines,
            plans: Arc::new(PlanCache::default()),
            jobs: Arc::new(Jobs::default()),
            monitoring: Arc::new(MonitorState::default()),
            feedback: Arc::new(FeedbackConfig::default()),
        }
    }

    /// The feedback loop's configuration (webhooks, the retraining command).
    pub fn with_feedback_config(mut self, config: FeedbackConfig) -> Self {
        self.feedback = Arc::new(config);
        self
    }

    pub fn feedback_config(&self) -> &FeedbackConfig {
        &self.feedback
    }

    pub fn store(&self) -> &Arc<dyn MetadataStore> {
        &self.store
    }

    pub fn artifacts(&self) -> &Arc<dyn ArtifactStore> {
        &self.artifacts
    }

    pub(crate) fn jobs(&self) -> &Jobs {
        &self.jobs
    }

    pub(crate) fn monitoring_state(&self) -> &MonitorState {
        &self.monitoring
    }

    /// The inference engines of this process, in order of preference.
    pub fn engines(&self) -> &Engines {
        &self.engines
    }

    pub async fn create_model(&self, name: &str, description: &str) -> Result<RegisteredModel> {
        check_model_name(name)?;
        Ok(self
            .store
            .create_registered_model(name, description, &[])
            .await?)
    }

    pub async fn list_models(&self) -> Result<Vec<RegisteredModel>> {
        Ok(self.store.list_registered_models().await?)
    }

    pub async fn get_model(&self, name: &str) -> Result<RegisteredModel> {
        Ok(self.store.get_registered_model(name).await?)
    }

    pub async fn list_versions(&self, name: &str) -> Result<Vec<ModelVersion>> {
        // Distinguish "no such model" from "a model with no versions".
        self.store.get_registered_model(name).await?;
        Ok(self.store.list_model_versions(name).await?)
    }

    pub async fn get_version(&self, name: &str, version: i64) -> Result<ModelVersion> {
        Ok(self.store.get_model_version(name, version).await?)
    }

    pub async fn events(&self, name: &str, version: Option<i64>) -> Result<Vec<LifecycleEvent>> {
        match version {
            Some(version) => self
                .store
                .get_model_version(name, version)
                .await
                .map(drop)?,
            None => self.store.get_registered_model(name).await.map(drop)?,
        }
        Ok(self.store.list_events(name, version).await?)
    }

    pub async fn set_alias(&self, name: &str, alias: &str, version: i64) -> Result<()> {
        check_alias(alias)?;
        Ok(self.store.set_alias(name, alias, version).await?)
    }

    pub async fn delete_alias(&self, name: &str, alias: &str) -> Result<()> {
        Ok(self.store.delete_alias(name, alias).await?)
    }

    pub async fn version_by_alias(&self, name: &str, alias: &str) -> Result<ModelVersion> {
        Ok(self.store.get_version_by_alias(name, alias).await?)
    }

    /// Streams one uploaded file into the artifact store.
    pub async fn upload_file(&self, path: &str, content: ByteStream<'_>) -> Result<UploadedFile> {
        check_file_path(path)?;
        let blob = self.artifacts.put_stream(content).await?;
        Ok(UploadedFile {
            path: path.to_owned(),
            digest: blob.digest,
            size: blob.size,
        })
    }

    /// Registers a version as `Prototype`. An ONNX model is loaded first, so a model the
    /// engine cannot run is refused here, naming the operator; the version row, its files
    /// and its registration event are then written in one transaction.
    pub async fn register(&self, request: RegisterRequest) -> Result<ModelVersion> {
        check_model_name(&request.name)?;
        if let Some(engine) = &request.engine
            && self.engines.get(engine).is_none()
        {
            return Err(self.engines.unavailable(engine).into());
        }
        let engine = request.engine.as_deref();
        let (files, format, signature, engine) = match request.upload {
            Upload::Onnx(file) => self.package_onnx(file, engine).await?,
            Upload::ModelDir(files) => self.inspect_model_dir(files, engine).await?,
        };
        let tags = engine
            .map(|engine| Tag {
                key: ENGINE_TAG.to_owned(),
                value: engine.to_owned(),
            })
            .into_iter()
            .collect();
        let version = self
            .store
            .create_model_version(NewModelVersion {
                name: request.name,
                description: request.description,
                source: request.source,
                run_id: request.run_id,
                format,
                lineage: request.lineage,
                signature,
                files,
                tags,
                reason: "registered".to_owned(),
                actor: request.actor,
                create_model: true,
            })
            .await?;
        tracing::info!(model = %version.name, version = version.version, "registered");
        Ok(version)
    }

    /// A bare ONNX file: load it, then write the MLflow model directory around it.
    async fn package_onnx(&self, file: UploadedFile, engine: Option<&str>) -> Result<Packaged> {
        let onnx = self.artifacts.get(&file.digest).await?;
        let (engine, plan, onnx) = self.load_blocking(onnx, engine).await?;
        let signature = plan.signature().clone();
        let mut files = Vec::new();
        for (path, content) in package::write_model_dir(&onnx, &signature, None)? {
            let blob = if path == ONNX_DATA {
                bascule_core::BlobRef {
                    digest: file.digest.clone(),
                    size: file.size,
                }
            } else {
                self.artifacts.put_bytes(Bytes::from(content)).await?
            };
            files.push(ArtifactFile {
                path,
                digest: blob.digest,
                size: blob.size,
            });
        }
        Ok((files, ModelFormat::Onnx, Some(signature), Some(engine)))
    }

    /// An MLflow model directory: if its MLmodel has an ONNX flavor, load that file;
    /// otherwise keep the directory as a non-servable version.
    async fn inspect_model_dir(
        &self,
        uploaded: Vec<UploadedFile>,
        engine: Option<&str>,
    ) -> Result<Packaged> {
        let files: Vec<ArtifactFile> = uploaded
            .into_iter()
            .map(|f| ArtifactFile {
                path: f.path,
                digest: f.digest,
                size: f.size,
            })
            .collect();
        let mlmodel = files.iter().find(|f| f.path == MLMODEL).ok_or_else(|| {
            LifecycleError::InvalidUpload(
                "a model directory must contain an MLmodel file at its top level".to_owned(),
            )
        })?;
        let text = self.artifacts.get(&mlmodel.digest).await?;
        let text = std::str::from_utf8(&text)
            .map_err(|_| LifecycleError::InvalidUpload("MLmodel is not UTF-8 text".to_owned()))?;
        let description = package::parse_mlmodel(text)
            .map_err(|e| LifecycleError::InvalidUpload(format!("MLmodel: {e}")))?;
        let Some(onnx_path) = description.onnx_data else {
            return Ok((files, ModelFormat::Other, None, None));
        };
        let onnx_file = files.iter().find(|f| f.path == onnx_path).ok_or_else(|| {
            LifecycleError::InvalidUpload(format!(
                "MLmodel names '{onnx_path}' as the ONNX model but the upload has no such file"
            ))
        })?;
        let onnx = self.artifacts.get(&onnx_file.digest).await?;
        let (engine, plan, _) = self.load_blocking(onnx, engine).await?;
        let signature = plan.signature().clone();
        Ok((files, ModelFormat::Onnx, Some(signature), Some(engine)))
    }

    /// Loads a model on the blocking pool (parsing and optimising is CPU work): on the
    /// engine named, else on the first engine that can run it.
    async fn load_blocking(
        &self,
        onnx: Bytes,
        engine: Option<&str>,
    ) -> Result<(&'static str, Arc<dyn LoadedModel>, Bytes)> {
        let engines = self.engines.clone();
        let engine = engine.map(str::to_owned);
        tokio::task::spawn_blocking(move || {
            let loaded = match engine {
                Some(name) => engines.load_on(&name, &onnx),
                None => engines.load_first(&onnx),
            };
            loaded.map(|(name, plan)| (name, plan, onnx))
        })
        .await
        .map_err(|e| LifecycleError::Task(e.to_string()))?
        .map_err(LifecycleError::from)
    }

    /// Moves a version through the lifecycle; the store refuses illegal transitions.
    pub async fn transition(&self, transition: Transition) -> Result<LifecycleEvent> {
        Ok(self.store.transition(transition).await?)
    }

    /// The deployment guard: only a version that passed the validation gate, and holds an
    /// ONNX model, may serve. Returns the version when it may.
    pub async fn ensure_deployable(&self, name: &str, version: i64) -> Result<ModelVersion> {
        let model_version = self.store.get_model_version(name, version).await?;
        if model_version.format != ModelFormat::Onnx {
            return Err(LifecycleError::NotOnnx {
                name: name.to_owned(),
                version,
                hint: EXPORT_HINT,
            });
        }
        if !model_version.stage.is_deployable() {
            return Err(LifecycleError::NotDeployable {
                name: name.to_owned(),
                version,
                stage: model_version.stage,
                why: "only Validated or Improved versions may be deployed; run `bascule validate` first"
                    .to_owned(),
            });
        }
        Ok(model_version)
    }

    /// The loaded model of a version, from the cache or loaded once.
    pub async fn load(&self, name: &str, version: i64) -> Result<Arc<dyn LoadedModel>> {
        if let Some(plan) = self.plans.get(name, version) {
            return Ok(plan);
        }
        let model_version = self.store.get_model_version(name, version).await?;
        let onnx = self.onnx_bytes(&model_version).await?;
        let (_, plan, _) = self.load_blocking(onnx, engine_of(&model_version)).await?;
        self.plans.insert(name, version, plan.clone());
        Ok(plan)
    }

    /// The version's model loaded on every engine of this process other than the one that
    /// serves it, each with its engine's name or why it could not load. The validation gate
    /// checks these agree with the serving engine.
    pub async fn load_on_other_engines(
        &self,
        name: &str,
        version: i64,
    ) -> Result<
        Vec<(
            &'static str,
            std::result::Result<Arc<dyn LoadedModel>, String>,
        )>,
    > {
        let model_version = self.store.get_model_version(name, version).await?;
        let serving = self.serving_engine(&model_version);
        let others: Vec<_> = self
            .engines
            .names()
            .into_iter()
            .filter(|engine| *engine != serving)
            .collect();
        if others.is_empty() {
            return Ok(Vec::new());
        }
        let onnx = self.onnx_bytes(&model_version).await?;
        let engines = self.engines.clone();
        tokio::task::spawn_blocking(move || {
            others
                .into_iter()
                .map(|engine| {
                    let loaded = engines
                        .load_on(engine, &onnx)
                        .map(|(_, plan)| plan)
                        .map_err(|e| e.to_string());
                    (engine, loaded)
                })
                .collect()
        })
        .await
        .map_err(|e| LifecycleError::Task(e.to_string()))
    }

    /// The engine that serves a version: its recorded one, else (versions registered before
    /// engines were recorded) the preferred engine.
    pub fn serving_engine(&self, model_version: &ModelVersion) -> &'static str {
        match engine_of(model_version).and_then(|name| self.engines.get(name)) {
            Some(engine) => engine.name(),
            None => match engine_of(model_version) {
                // Recorded but not configured here: loading will say so.
                Some(_) => "unavailable",
                None => self.engines.default_engine().name(),
            },
        }
    }

    async fn onnx_bytes(&self, model_version: &ModelVersion) -> Result<Bytes> {
        let onnx_path = self.onnx_path(model_version).await?;
        let file = model_version
            .files
            .iter()
            .find(|f| f.path == onnx_path)
            .ok_or_else(|| {
                bascule_core::Error::DataLoss(format!(
                    "{} version {} lists no file '{onnx_path}'",
                    model_version.name, model_version.version
                ))
            })?;
        Ok(self.artifacts.get(&file.digest).await?)
    }

    async fn onnx_path(&self, model_version: &ModelVersion) -> Result<String> {
        let not_onnx = || LifecycleError::NotOnnx {
            name: model_version.name.clone(),
            version: model_version.version,
            hint: EXPORT_HINT,
        };
        if model_version.format != ModelFormat::Onnx {
            return Err(not_onnx());
        }
        let Some(mlmodel) = model_version.files.iter().find(|f| f.path == MLMODEL) else {
            return Ok(ONNX_DATA.to_owned());
        };
        let text = self.artifacts.get(&mlmodel.digest).await?;
        let text = String::from_utf8_lossy(&text);
        package::parse_mlmodel(&text)
            .ok()
            .and_then(|description| description.onnx_data)
            .ok_or_else(not_onnx)
    }
}

/// What packaging an upload produced: its files, format, signature and serving engine.
type Packaged = (
    Vec<ArtifactFile>,
    ModelFormat,
    Option<Signature>,
    Option<&'static str>,
);

/// The engine recorded on a version, if any.
fn engine_of(model_version: &ModelVersion) -> Option<&str> {
    model_version
        .tags
        .iter()
        .find(|tag| tag.key == ENGINE_TAG)
        .map(|tag| tag.value.as_str())
}

fn check_model_name(name: &str) -> Result<()> {
    let valid = !name.is_empty()
        && name.len() <= 256
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if valid {
        Ok(())
    } else {
        Err(bascule_core::Error::invalid(format!(
            "invalid model name '{name}': use 1 to 256 letters, digits, '-', '_' or '.'"
        ))
        .into())
    }
}

fn check_alias(alias: &str) -> Result<()> {
    let valid = !alias.is_empty()
        && alias.len() <= 256
        && alias
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
        && !(alias.starts_with('v')
            && alias[1..].chars().all(|c| c.is_ascii_digit())
            && alias.len() > 1);
    if valid {
        Ok(())
    } else {
        Err(bascule_core::Error::invalid(format!(
            "invalid alias '{alias}': use letters, digits, '-' or '_', and not the form v<number> (reserved for versions)"
        ))
        .into())
    }
}

/// A file path inside a model directory: relative, `/`-separated, no `..`.
fn check_file_path(path: &str) -> Result<()> {
    let valid = !path.is_empty()
        && !path.starts_with('/')
        && !path.contains('\\')
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..");
    if valid {
        Ok(())
    } else {
        Err(LifecycleError::InvalidUpload(format!(
            "'{path}' is not a relative path inside the model directory"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_aliases_and_paths() {
        assert!(check_model_name("breast-cancer_v2.onnx").is_ok());
        assert!(check_model_name("").is_err());
        assert!(check_model_name("a/b").is_err());
        assert!(check_alias("champion").is_ok());
        assert!(check_alias("v3").is_err());
        assert!(check_alias("v").is_ok());
        assert!(check_file_path("model.onnx").is_ok());
        assert!(check_file_path("data/model.onnx").is_ok());
        for bad in ["", "/etc/passwd", "../x", "a/../b", "a//b", "a\\b"] {
            assert!(check_file_path(bad).is_err(), "{bad}");
        }
    }
}

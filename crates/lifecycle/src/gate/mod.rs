//! The validation gate: nothing reaches production unvalidated.
//!
//! A Prototype version is run over a holdout data set; the gate computes the metrics of
//! its task, runs the sanity checks and whatever its model's validation policy asks for
//! (thresholds, comparison with the champion, slices, latency), stores the report and a
//! reference profile of the data in the artifact store, and moves the version to
//! Validated or Rejected with the report as the transition's evidence — the record and
//! the transition in one transaction. Bad input is refused before anything is written.

pub mod checks;
mod evaluate;
pub mod features;
pub mod inference;
pub mod metrics;
pub mod policy;
pub mod profile;
pub mod report;

use bascule_core::{
    Coded, EngineError, ErrorCode, Evidence, LifecycleEvent, ModelFormat, NewValidationRecord,
    PolicyFormat, Stage, StoredPolicy, Transition, ValidationRecord,
};
use bascule_datasets::{DatasetError, Format};
use bytes::Bytes;

pub use bascule_datasets::Format as DataFormat;
pub use policy::{Policy, Task};
pub use profile::ReferenceProfile;
pub use report::{CheckResult, CheckStatus, ValidationReport};

use std::sync::Arc;

use crate::error::{EXPORT_HINT, LifecycleError};
use crate::jobs::Progress;
use crate::registry::Registry;

/// Why a validation could not run; nothing is recorded when one of these is returned.
#[derive(Debug, thiserror::Error)]
pub enum GateError {
    #[error("bad data set: {0}")]
    Data(String),
    #[error("bad data set: {0}")]
    Dataset(#[from] DatasetError),
    #[error("{0}")]
    Policy(String),
    #[error("the model failed on the data set: {0}")]
    Inference(EngineError),
    #[error("cannot read the model's outputs: {0}")]
    Output(String),
    #[error(
        "{name} version {version} is {stage}; only a Prototype version can be validated \
         (register a new version to validate it again)"
    )]
    NotPrototype {
        name: String,
        version: i64,
        stage: Stage,
    },
}

impl Coded for GateError {
    fn code(&self) -> ErrorCode {
        match self {
            GateError::Data(_) | GateError::Policy(_) | GateError::Output(_) => {
                ErrorCode::InvalidArgument
            }
            GateError::Dataset(error) => error.code(),
            GateError::Inference(error) => error.code(),
            GateError::NotPrototype { .. } => ErrorCode::FailedPrecondition,
        }
    }
}

/// A request to validate one version on one data set.
#[derive(Debug, Clone)]
pub struct ValidateRequest {
    pub name: String,
    pub version: i64,
    /// The data file as uploaded.
    pub data: Bytes,
    pub format: Format,
    /// The label column; else the policy's, else `label`.
    pub label: Option<String>,
    pub actor: String,
    /// Compare with this version instead of the champion (the parent a retrained version
    /// answers); with no `[champion]` in the policy, its primary metric gets a margin of
    /// [`DEFAULT_MARGIN`].
    pub compare_with: Option<i64>,
    /// Data sets the version is also run on and whose metrics are reported, not judged
    /// (the original holdout of a retrained version): name, bytes, format.
    pub also_report: Vec<(String, Bytes, Format)>,
}

/// The non-inferiority margin of an explicit comparison when the policy sets none.
pub const DEFAULT_MARGIN: f64 = 0.05;

/// What a validation produced.
#[derive(Debug, Clone)]
pub struct ValidationOutcome {
    pub report: ValidationReport,
    pub record: ValidationRecord,
    pub event: LifecycleEvent,
}

/// The label column when neither the request nor the policy names one.
pub const DEFAULT_LABEL: &str = "label";

impl Registry {
    /// Parses, checks and stores a new version of a model's validation policy.
    pub async fn set_policy(
        &self,
        name: &str,
        body: &str,
        format: PolicyFormat,
        actor: &str,
    ) -> Result<StoredPolicy, LifecycleError> {
        Policy::parse(body, format).map_err(GateError::Policy)?;
        Ok(self
            .store()
            .put_validation_policy(name, body, format, actor)
            .await?)
    }

    /// The newest policy of a model, `None` if it has none.
    pub async fn policy(&self, name: &str) -> Result<Option<StoredPolicy>, LifecycleError> {
        Ok(self.store().get_validation_policy(name).await?)
    }

    /// The version, if it may be validated: an ONNX model in Prototype.
    pub async fn check_validatable(
        &self,
        name: &str,
        version: i64,
    ) -> Result<bascule_core::ModelVersion, LifecycleError> {
        let model_version = self.store().get_model_version(name, version).await?;
        if model_version.format != ModelFormat::Onnx {
            return Err(LifecycleError::NotOnnx {
                name: name.to_owned(),
                version,
                hint: EXPORT_HINT,
            });
        }
        if model_version.stage != Stage::Prototype {
            return Err(GateError::NotPrototype {
                name: name.to_owned(),
                version,
                stage: model_version.stage,
            }
            .into());
        }
        Ok(model_version)
    }

    /// Validates a Prototype version and moves it to Validated or Rejected.
    pub async fn validate(
        &self,
        request: ValidateRequest,
    ) -> Result<ValidationOutcome, LifecycleError> {
        self.validate_with_progress(request, Arc::new(Progress::default()))
            .await
    }

    /// [`Registry::validate`], reporting its phase and rows done to `progress`.
    #[tracing::instrument(skip_all, fields(name = %request.name, version = request.version))]
    pub async fn validate_with_progress(
        &self,
        request: ValidateRequest,
        progress: Arc<Progress>,
    ) -> Result<ValidationOutcome, LifecycleError> {
        progress.phase("loading the model", 0);
        let started = std::time::Instant::now();
        let started_at = bascule_core::now_millis();
        let model_version = self
            .check_validatable(&request.name, request.version)
            .await?;
        let stored_policy = self.policy(&request.name).await?;
        let policy = match &stored_policy {
            Some(stored) => {
                Policy::parse(&stored.body, stored.format).map_err(GateError::Policy)?
            }
            None => Policy::default(),
        };
        let label = request
            .label
            .clone()
            .or_else(|| policy.label.clone())
            .unwrap_or_else(|| DEFAULT_LABEL.to_owned());
        let model = self.load(&request.name, request.version).await?;
        let engine = self.serving_engine(&model_version);
        let other_engines = self
            .load_on_other_engines(&request.name, request.version)
            .await?;

        let mut policy = policy;
        let champion = match (request.compare_with, &policy.champion) {
            (Some(version), _) => {
                if policy.champion.is_none() {
                    policy.champion = Some(policy::ChampionPolicy::with_margin(
                        policy.primary_metric(),
                        DEFAULT_MARGIN,
                    ));
                }
                Some(
                    self.store()
                        .get_model_version(&request.name, version)
                        .await?,
                )
            }
            (None, Some(_)) => self.champion_of(&request.name, request.version).await?,
            (None, None) => None,
        };
        let champion = match champion {
            Some(version) => {
                let plan = self.load(&version.name, version.version).await?;
                Some((version.version, version.stage, plan))
            }
            None => None,
        };

        // The data set is kept (under its sha256, the report's `data.digest`) so a later
        // version can be measured on the same rows — a retrained one on its parent's holdout.
        let data = request.data.clone();
        let input = evaluate::Input {
            name: request.name.clone(),
            version: request.version,
            data: request.data,
            format: request.format,
            label,
            policy,
            policy_version: stored_policy.as_ref().map(|p| p.policy_version),
            model,
            champion,
            engine: engine.to_owned(),
            other_engines,
            also_report: request.also_report,
            progress: progress.clone(),
        };
        let evaluated = tokio::task::spawn_blocking(move || evaluate::run(input))
            .await
            .map_err(|e| LifecycleError::Task(e.to_string()))??;

        progress.phase("recording the report", 0);
        self.artifacts().put_bytes(data).await?;
        let profile_json = serde_json::to_vec(&evaluated.profile)
            .map_err(|e| bascule_core::Error::internal("cannot encode the profile", e))?;
        let profile_blob = self
            .artifacts()
            .put_bytes(Bytes::from(profile_json))
            .await?;
        let mut report = evaluated.report;
        report.profile_digest = profile_blob.digest.clone();
        report.started = started_at;
        report.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let report_json = serde_json::to_vec_pretty(&report)
            .map_err(|e| bascule_core::Error::internal("cannot encode the report", e))?;
        let report_blob = self.artifacts().put_bytes(Bytes::from(report_json)).await?;

        let reason = if report.passed {
            format!("validation passed: {} checks", report.checks.len())
        } else {
            let failed: Vec<String> = report
                .failed_checks()
                .take(3)
                .map(|c| {
                    format!(
                        "{} (expected {}, measured {})",
                        c.check,
                        c.expected.as_deref().unwrap_or("-"),
                        c.measured
                    )
                })
                .collect();
            format!(
                "validation failed {} check(s): {}",
                report.failed_checks().count(),
                failed.join("; ")
            )
        };
        let (record, event) = self
            .store()
            .record_validation(
                NewValidationRecord {
                    name: report.model.clone(),
                    version: report.version,
                    report_digest: report_blob.digest.clone(),
                    profile_digest: profile_blob.digest,
                    passed: report.passed,
                    policy_version: report.policy_version,
                },
                Transition {
                    name: report.model.clone(),
                    version: report.version,
                    to: report.decision,
                    actor: request.actor,
                    reason,
                    evidence: Some(Evidence {
                        kind: "validation_report".to_owned(),
                        reference: report_blob.digest,
                    }),
                },
            )
            .await?;
        tracing::info!(passed = report.passed, "validated");
        Ok(ValidationOutcome {
            report,
            record,
            event,
        })
    }

    /// The newest report of a version and its record; `None` if never validated.
    pub async fn validation_report(
        &self,
        name: &str,
        version: i64,
    ) -> Result<Option<(ValidationRecord, ValidationReport)>, LifecycleError> {
        let Some(record) = self.store().latest_validation(name, version).await? else {
            return Ok(None);
        };
        let bytes = self.artifacts().get(&record.report_digest).await?;
        let report = serde_json::from_slice(&bytes).map_err(|e| {
            bascule_core::Error::DataLoss(format!(
                "validation report {}: {e}",
                record.report_digest
            ))
        })?;
        Ok(Some((record, report)))
    }

    /// The reference profile stored with a version's newest validation.
    pub async fn reference_profile(
        &self,
        name: &str,
        version: i64,
    ) -> Result<Option<ReferenceProfile>, LifecycleError> {
        let Some(record) = self.store().latest_validation(name, version).await? else {
            return Ok(None);
        };
        let bytes = self.artifacts().get(&record.profile_digest).await?;
        let profile = serde_json::from_slice(&bytes).map_err(|e| {
            bascule_core::Error::DataLoss(format!(
                "reference profile {}: {e}",
                record.profile_digest
            ))
        })?;
        Ok(Some(profile))
    }

    /// The champion: the live version of the model's deployment (not a canary or a
    /// shadow), other than `except`; without a deployment, the newest version in Deployed
    /// or Monitored (a version moved there by hand).
    async fn champion_of(
        &self,
        name: &str,
        except: i64,
    ) -> Result<Option<bascule_core::ModelVersion>, LifecycleError> {
        if let Some(live) = self
            .store()
            .get_deployment(name)
            .await?
            .and_then(|deployment| deployment.live)
        {
            if live == except {
                return Ok(None);
            }
            return Ok(Some(self.store().get_model_version(name, live).await?));
        }
        let versions = self.store().list_model_versions(name).await?;
        Ok(versions
            .into_iter()
            .filter(|v| v.version != except && v.stage.is_serving())
            .max_by_key(|v| v.version))
    }
}

//! Bascule's lifecycle services: the model registry (registering ONNX models and MLflow
//! model directories atomically, with lineage), the lifecycle rules applied through the
//! metadata store's event log, the deployment guard, the cache of loaded models, and the
//! validation gate (`gate`): policies, checks, reports and reference profiles, and serving
//! (`serving`): deployments, the routing table, running requests and the prediction log.
//!
//! This crate knows no HTTP and no storage technology: it works through the port traits
//! of `bascule-core` and the engines of `bascule-runtime`.

mod background;
mod engines;
mod error;
pub mod feedback;
pub mod gate;
pub mod jobs;
mod mlflow;
pub mod monitoring;
mod plans;
mod registry;
pub mod serving;

pub use background::keep_background_at_normal_priority;
pub use engines::{ENGINE_TAG, Engines};
pub use error::{EXPORT_HINT, LifecycleError};
pub use mlflow::{MlflowVersionRequest, artifact_tree_path};
pub use plans::PlanCache;
pub use registry::{RegisterRequest, Registry, Upload, UploadedFile};

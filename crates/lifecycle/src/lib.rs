//! Bascule's lifecycle services: the model registry (registering ONNX models and MLflow
//! model directories atomically, with lineage), the lifecycle rules applied through the
//! metadata store's event log, the deployment guard, and the cache of loaded models.
//!
//! This crate knows no HTTP and no storage technology: it works through the port traits
//! of `bascule-core` and the engines of `bascule-runtime`.

mod error;
mod plans;
mod registry;

pub use error::LifecycleError;
pub use plans::PlanCache;
pub use registry::{RegisterRequest, Registry, Upload, UploadedFile};

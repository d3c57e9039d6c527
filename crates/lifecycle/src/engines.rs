//! The inference engines a process has, in order of preference, and which one serves a
//! version.
//!
//! Every version records the engine chosen for it at registration in the version tag
//! [`ENGINE_TAG`]: the first engine, in preference order, that loads it (or the one the
//! registration asked for). The validation gate runs the version on every other engine and
//! checks they agree; serving always loads it on its recorded engine.

use std::sync::Arc;

use bascule_core::{EngineError, InferenceEngine, LoadedModel};

/// The version tag naming the engine that serves a version (`tract`, `onnxruntime`).
pub const ENGINE_TAG: &str = "bascule.engine";

/// The engines of this process, in order of preference; never empty.
#[derive(Debug, Clone)]
pub struct Engines {
    list: Vec<Arc<dyn InferenceEngine>>,
}

impl Engines {
    /// One engine, the default.
    pub fn new(default: Arc<dyn InferenceEngine>) -> Self {
        Engines {
            list: vec![default],
        }
    }

    /// Adds an engine after the ones already there.
    #[must_use]
    pub fn with(mut self, engine: Arc<dyn InferenceEngine>) -> Self {
        self.list.retain(|e| e.name() != engine.name());
        self.list.push(engine);
        self
    }

    /// Moves the engine called `name` to the front, if present.
    #[must_use]
    pub fn preferring(mut self, name: &str) -> Self {
        if let Some(index) = self.list.iter().position(|e| e.name() == name) {
            let engine = self.list.remove(index);
            self.list.insert(0, engine);
        }
        self
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.list.iter().map(|e| e.name()).collect()
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn InferenceEngine>> {
        self.list.iter().find(|e| e.name() == name)
    }

    /// The preferred engine.
    pub fn default_engine(&self) -> &Arc<dyn InferenceEngine> {
        &self.list[0]
    }

    /// Loads `onnx` on the first engine that can run it. When none can, the error is the
    /// preferred engine's (which names the operator), followed by the others' reasons.
    pub fn load_first(
        &self,
        onnx: &[u8],
    ) -> Result<(&'static str, Arc<dyn LoadedModel>), EngineError> {
        let mut refusals: Vec<(&'static str, EngineError)> = Vec::new();
        for engine in &self.list {
            match engine.load(onnx) {
                Ok(model) => {
                    if !refusals.is_empty() {
                        tracing::info!(
                            engine = engine.name(),
                            refused_by = ?refusals.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
                            "model loaded on a fallback engine"
                        );
                    }
                    return Ok((engine.name(), model));
                }
                Err(error) => refusals.push((engine.name(), error)),
            }
        }
        let mut refusals = refusals.into_iter();
        let Some((_, first)) = refusals.next() else {
            return Err(EngineError::InvalidModel(
                "no inference engine is configured".into(),
            ));
        };
        let others: Vec<String> = refusals
            .map(|(name, error)| format!("{name}: {error}"))
            .collect();
        if others.is_empty() {
            return Err(first);
        }
        Err(with_context(first, &others.join("; ")))
    }

    /// Loads `onnx` on the engine called `name`, returning the engine's own name with it.
    pub fn load_on(
        &self,
        name: &str,
        onnx: &[u8],
    ) -> Result<(&'static str, Arc<dyn LoadedModel>), EngineError> {
        let engine = self.get(name).ok_or_else(|| self.unavailable(name))?;
        Ok((engine.name(), engine.load(onnx)?))
    }

    /// The error for a version recorded on an engine this process does not have.
    pub fn unavailable(&self, name: &str) -> EngineError {
        let hint = if name == "onnxruntime" {
            " (set BASCULE_ONNXRUNTIME_LIB to a libonnxruntime.so; scripts/fetch_onnxruntime.sh fetches one)"
        } else {
            ""
        };
        EngineError::Unavailable(format!(
            "the {name} engine is not configured in this process; it has {}{hint}",
            self.names().join(", ")
        ))
    }
}

/// The same error with other engines' refusals appended.
fn with_context(error: EngineError, others: &str) -> EngineError {
    match error {
        EngineError::UnsupportedOperator {
            engine,
            op,
            domain,
            node,
        } => EngineError::UnsupportedOperator {
            engine,
            op,
            domain,
            node: format!("{node}; no other engine runs it either ({others})"),
        },
        EngineError::InvalidModel(message) => {
            EngineError::InvalidModel(format!("{message}; other engines: {others}"))
        }
        other => other,
    }
}

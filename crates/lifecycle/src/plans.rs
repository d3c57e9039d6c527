use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bascule_core::LoadedModel;

/// Loaded, optimised models keyed by `(model name, version)`: each version is loaded
/// once and shared by every request and every validation run.
#[derive(Debug, Default)]
pub struct PlanCache {
    plans: Mutex<HashMap<(String, i64), Arc<dyn LoadedModel>>>,
}

impl PlanCache {
    pub fn get(&self, name: &str, version: i64) -> Option<Arc<dyn LoadedModel>> {
        let plans = self
            .plans
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        plans.get(&(name.to_owned(), version)).cloned()
    }

    pub fn insert(&self, name: &str, version: i64, plan: Arc<dyn LoadedModel>) {
        let mut plans = self
            .plans
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        plans.insert((name.to_owned(), version), plan);
    }

    pub fn len(&self) -> usize {
        self.plans
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

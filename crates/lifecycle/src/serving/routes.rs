//! The routing table: for each deployed model, the loaded versions and their roles.
//! A change builds a new `Route` and swaps it in under a short write lock; requests in
//! flight keep the `Arc` of the route they started with, so a swap never fails or drops
//! one.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bascule_core::{Deployment, LoadedModel, Role};

use super::stats::ServedStats;

/// A version loaded and ready to serve in one role.
#[derive(Debug)]
pub struct Served {
    pub version: i64,
    pub role: Role,
    pub plan: Arc<dyn LoadedModel>,
    /// The requests this version answered in this role (shared across route changes).
    pub stats: Arc<ServedStats>,
    /// A running average of the model's cost, in nanoseconds per input element
    /// (0: never measured); it decides whether a run may stay on the async reactor.
    nanos_per_element: AtomicU64,
    /// The batching queue, when the model is configured for adaptive batching.
    pub batcher: Option<super::batch::Batcher>,
}

impl Served {
    pub(crate) fn new(
        version: i64,
        role: Role,
        plan: Arc<dyn LoadedModel>,
        stats: Arc<ServedStats>,
        batching: Option<(super::batch::BatchingConfig, Arc<super::batch::OnTheirWay>)>,
    ) -> Self {
        let batcher =
            batching.map(|(config, way)| super::batch::Batcher::start(plan.clone(), config, way));
        Served {
            version,
            role,
            plan,
            stats,
            nanos_per_element: AtomicU64::new(0),
            batcher,
        }
    }

    /// Whether a run over `n_elements` input elements is expected to take at most
    /// `budget`. Unmeasured models are not.
    pub(crate) fn fits_inline(&self, n_elements: usize, budget: Duration) -> bool {
        let cost = self.nanos_per_element.load(Ordering::Relaxed);
        cost != 0 && u128::from(cost).saturating_mul(n_elements.max(1) as u128) <= budget.as_nanos()
    }

    /// Folds one measured run into the average (weight 1/8, outliers clipped).
    pub(crate) fn record_cost(&self, n_elements: usize, elapsed: Duration) {
        let sample =
            (elapsed.as_nanos() / n_elements.max(1) as u128).clamp(1, u128::from(u32::MAX));
        let sample = u64::try_from(sample).unwrap_or(u64::from(u32::MAX));
        let previous = self.nanos_per_element.load(Ordering::Relaxed);
        // A run the OS preempted measures far above the model's cost; one such sample may
        // move the average at most 4× the current estimate, so a busy machine does not
        // push every following small request onto the blocking pool.
        let next = if previous == 0 {
            sample
        } else {
            (previous * 7 + sample.min(previous.saturating_mul(4))) / 8
        };
        self.nanos_per_element.store(next.max(1), Ordering::Relaxed);
    }
}

/// What serves one model, loaded.
#[derive(Debug)]
pub struct Route {
    pub deployment: Deployment,
    pub live: Option<Arc<Served>>,
    pub canary: Option<(Arc<Served>, u8)>,
    pub shadow: Option<Arc<Served>>,
}

impl Route {
    /// The version that answers a request whose routing key is `key`: the canary for its
    /// share of the key space, else the live version. The same key always lands on the
    /// same version while the weights stay the same.
    pub fn choose(&self, key: &str) -> Option<&Arc<Served>> {
        if let Some((canary, percent)) = &self.canary
            && bucket(key) < u64::from(*percent)
        {
            return Some(canary);
        }
        self.live.as_ref()
    }

    /// The serving version `version`, in whichever role.
    pub fn version(&self, version: i64) -> Option<&Arc<Served>> {
        self.live
            .iter()
            .chain(self.canary.iter().map(|(served, _)| served))
            .chain(self.shadow.iter())
            .find(|served| served.version == version)
    }

    /// The versions as text, for messages (`live v1, canary v2 (10%)`).
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        parts.extend(self.live.iter().map(|s| format!("live v{}", s.version)));
        parts.extend(
            self.canary
                .iter()
                .map(|(s, percent)| format!("canary v{} ({percent}%)", s.version)),
        );
        parts.extend(self.shadow.iter().map(|s| format!("shadow v{}", s.version)));
        if parts.is_empty() {
            "nothing".to_owned()
        } else {
            parts.join(", ")
        }
    }
}

/// Every deployed model's route, by name.
#[derive(Debug, Default)]
pub struct RoutingTable {
    routes: RwLock<HashMap<String, Arc<Route>>>,
}

impl RoutingTable {
    pub fn get(&self, name: &str) -> Option<Arc<Route>> {
        self.read().get(name).cloned()
    }

    pub fn all(&self) -> Vec<Arc<Route>> {
        let mut routes: Vec<_> = self.read().values().cloned().collect();
        routes.sort_by(|a, b| a.deployment.name.cmp(&b.deployment.name));
        routes
    }

    pub(crate) fn swap(&self, name: &str, route: Option<Arc<Route>>) {
        let mut routes = self
            .routes
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match route {
            Some(route) => routes.insert(name.to_owned(), route),
            None => routes.remove(name),
        };
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Arc<Route>>> {
        self.routes
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A key's place in 0..100: FNV-1a, then a splitmix64 finaliser so that keys differing
/// in one character spread evenly.
pub(crate) fn bucket(key: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash = (hash ^ (hash >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    hash = (hash ^ (hash >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    hash ^= hash >> 31;
    hash % 100
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_stable_and_even() {
        assert_eq!(bucket("user-42"), bucket("user-42"));
        let mut counts = [0usize; 10];
        for i in 0..10_000 {
            counts[(bucket(&format!("k{i}")) / 10) as usize] += 1;
        }
        for count in counts {
            assert!((850..=1150).contains(&count), "{counts:?}");
        }
    }
}

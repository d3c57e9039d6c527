//! Counters of the requests each served version answered: how many, how many failed (by
//! error code) and how long they took. A version's counters are made once per model,
//! version and role and shared by every route that serves it, so a deployment change does
//! not reset them; recording is a few relaxed atomic additions, with no lock.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bascule_core::{ErrorCode, Role};

/// Upper bounds of the latency buckets, in microseconds (100 µs to 5 s).
pub const LATENCY_BUCKETS_MICROS: [u64; 15] = [
    100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
    1_000_000, 2_500_000, 5_000_000,
];

/// A latency histogram on atomics.
#[derive(Debug)]
pub struct Histogram {
    /// Per bucket (not cumulative); the last one counts what exceeds every bound.
    buckets: [AtomicU64; LATENCY_BUCKETS_MICROS.len() + 1],
    sum_nanos: AtomicU64,
}

/// A histogram's counts at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistogramSnapshot {
    /// Cumulative counts, one per bound of `LATENCY_BUCKETS_MICROS`.
    pub cumulative: Vec<u64>,
    pub count: u64,
    pub sum_nanos: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            sum_nanos: AtomicU64::new(0),
        }
    }
}

impl Histogram {
    pub fn observe(&self, elapsed: Duration) {
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        let index = LATENCY_BUCKETS_MICROS.partition_point(|&bound| bound < micros);
        self.buckets[index].fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> HistogramSnapshot {
        let mut running = 0;
        let mut cumulative = Vec::with_capacity(LATENCY_BUCKETS_MICROS.len());
        for bucket in &self.buckets[..LATENCY_BUCKETS_MICROS.len()] {
            running += bucket.load(Ordering::Relaxed);
            cumulative.push(running);
        }
        let overflow = self.buckets[LATENCY_BUCKETS_MICROS.len()].load(Ordering::Relaxed);
        HistogramSnapshot {
            cumulative,
            count: running + overflow,
            sum_nanos: self.sum_nanos.load(Ordering::Relaxed),
        }
    }
}

/// The error codes counted separately; any other counts as `Internal`.
const CODES: [ErrorCode; 7] = [
    ErrorCode::NotFound,
    ErrorCode::AlreadyExists,
    ErrorCode::InvalidArgument,
    ErrorCode::FailedPrecondition,
    ErrorCode::Unavailable,
    ErrorCode::DataLoss,
    ErrorCode::Internal,
];

/// One served version's counters.
#[derive(Debug, Default)]
pub struct ServedStats {
    requests: AtomicU64,
    errors: [AtomicU64; CODES.len()],
    latency: Histogram,
}

impl ServedStats {
    /// Counts one request that took `elapsed`, failed with `error` if any.
    pub fn record(&self, elapsed: Duration, error: Option<ErrorCode>) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if let Some(code) = error {
            let index = CODES
                .iter()
                .position(|known| *known == code)
                .unwrap_or(CODES.len() - 1);
            self.errors[index].fetch_add(1, Ordering::Relaxed);
        }
        self.latency.observe(elapsed);
    }
}

/// A served version's counters at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedStatsSnapshot {
    pub name: String,
    pub version: i64,
    pub role: Role,
    pub requests: u64,
    /// Failed requests per error code (codes that never failed are left out).
    pub errors: Vec<(ErrorCode, u64)>,
    pub latency: HistogramSnapshot,
}

type Key = (String, i64, Role);

/// Every version's counters since start-up, by model, version and role.
#[derive(Debug, Default)]
pub(crate) struct StatsTable {
    table: Mutex<HashMap<Key, Arc<ServedStats>>>,
}

impl StatsTable {
    /// The counters of `name` `version` in `role`, made on first use (when a route is built).
    pub(crate) fn get(&self, name: &str, version: i64, role: Role) -> Arc<ServedStats> {
        let mut table = self.table.lock().unwrap_or_else(|p| p.into_inner());
        table
            .entry((name.to_owned(), version, role))
            .or_default()
            .clone()
    }

    pub(crate) fn snapshot(&self) -> Vec<ServedStatsSnapshot> {
        let table = self.table.lock().unwrap_or_else(|p| p.into_inner());
        let mut all: Vec<ServedStatsSnapshot> = table
            .iter()
            .map(|((name, version, role), stats)| ServedStatsSnapshot {
                name: name.clone(),
                version: *version,
                role: *role,
                requests: stats.requests.load(Ordering::Relaxed),
                errors: CODES
                    .iter()
                    .zip(&stats.errors)
                    .map(|(code, count)| (*code, count.load(Ordering::Relaxed)))
                    .filter(|(_, count)| *count > 0)
                    .collect(),
                latency: stats.latency.snapshot(),
            })
            .collect();
        all.sort_by(|a, b| {
            (&a.name, a.version, a.role.as_str()).cmp(&(&b.name, b.version, b.role.as_str()))
        });
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_bounds_inclusive() {
        let histogram = Histogram::default();
        histogram.observe(Duration::from_micros(100));
        histogram.observe(Duration::from_micros(101));
        histogram.observe(Duration::from_secs(9));
        let snapshot = histogram.snapshot();
        assert_eq!(snapshot.cumulative[0], 1);
        assert_eq!(snapshot.cumulative[1], 2);
        assert_eq!(snapshot.cumulative[14], 2);
        assert_eq!(snapshot.count, 3);
        assert_eq!(snapshot.sum_nanos, 9_000_201_000);
    }

    #[test]
    fn counters_survive_a_new_route_and_errors_are_by_code() {
        let table = StatsTable::default();
        table
            .get("bc", 1, Role::Live)
            .record(Duration::from_millis(1), None);
        table
            .get("bc", 1, Role::Live)
            .record(Duration::from_millis(1), Some(ErrorCode::InvalidArgument));
        let snapshot = table.snapshot();
        assert_eq!(snapshot.len(), 1);
        assert_eq!(snapshot[0].requests, 2);
        assert_eq!(snapshot[0].errors, vec![(ErrorCode::InvalidArgument, 1)]);
    }
}

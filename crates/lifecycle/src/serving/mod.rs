//! Serving: deployments (deploy, canary, shadow, promote, rollback, undeploy) checked by
//! the deployment guard and saved with their stage transitions in one transaction; the
//! in-memory routing table rebuilt from the store at start-up and swapped on every
//! change; running requests on the routed version, copying them to the shadow; and the
//! prediction log. No HTTP here: the server translates protocols to these calls.

mod batch;
mod error;
mod infer;
mod inputs;
mod log;
mod plan;
mod routes;
mod stats;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bascule_core::{
    Deployment, DeploymentChange, Evidence, LifecycleEvent, MetadataStore, Role, Stage, Transition,
};

pub use batch::{Arriving, BatchingConfig};
pub use error::ServingError;
pub use infer::{Prediction, Target};
pub use inputs::check_inputs;
pub use log::{LogStats, PredictionLog};
pub use plan::DeployCommand;
pub use routes::{Route, RoutingTable, Served};
pub use stats::{
    Histogram, HistogramSnapshot, LATENCY_BUCKETS_MICROS, ServedStats, ServedStatsSnapshot,
};

use crate::Registry;

/// Limits and settings of serving.
#[derive(Debug, Clone)]
pub struct ServingConfig {
    /// Prediction records the log queue holds before it sheds.
    pub log_capacity: usize,
    /// Records stored per transaction.
    pub log_batch: usize,
    /// How long a batch of the log gathers after its first record before it is stored.
    pub log_gather: Duration,
    /// Whether requests are recorded at all (on by default; monitoring needs it).
    pub log_predictions: bool,
    /// Models whose concurrent requests are run as batches, by model name.
    pub batching: std::collections::HashMap<String, BatchingConfig>,
    /// Rows one request may carry.
    pub max_batch_rows: usize,
    /// A run expected to take at most this long stays on the async reactor; longer ones
    /// (and models never measured) go to the blocking pool. Handing a 4 µs run to the
    /// blocking pool costs more than the run itself.
    pub inline_budget: Duration,
}

impl Default for ServingConfig {
    fn default() -> Self {
        ServingConfig {
            log_capacity: 65_536,
            log_batch: 1_000,
            log_gather: log::DEFAULT_GATHER,
            log_predictions: true,
            batching: std::collections::HashMap::new(),
            max_batch_rows: 10_000,
            inline_budget: Duration::from_micros(50),
        }
    }
}

/// The serving service. Cheap to clone; clones share the routing table and the log.
#[derive(Debug, Clone)]
pub struct Serving {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    registry: Registry,
    routes: RoutingTable,
    log: PredictionLog,
    config: ServingConfig,
    /// Per model, version and role: requests, errors and latency.
    stats: stats::StatsTable,
    /// Serialises changes made through this process, so routes swap in commit order.
    changes: tokio::sync::Mutex<()>,
    /// Per batched model: its requests on their way to the batcher (all its versions').
    on_their_way: HashMap<String, Arc<batch::OnTheirWay>>,
}

/// A change to make, and who makes it why.
#[derive(Debug, Clone)]
pub struct ChangeRequest {
    pub name: String,
    pub command: DeployCommand,
    pub actor: String,
    /// `None`: the command's own description.
    pub reason: Option<String>,
}

impl Serving {
    /// Loads every stored deployment's versions into the routing table and starts the
    /// prediction log. A deployment whose model cannot be loaded is logged and skipped.
    pub async fn start(registry: Registry, config: ServingConfig) -> Result<Self, ServingError> {
        let log = if config.log_predictions {
            PredictionLog::start(
                registry.store().clone(),
                config.log_capacity,
                config.log_batch,
                config.log_gather,
            )
        } else {
            tracing::warn!("the prediction log is off: requests are served but not recorded");
            PredictionLog::disabled(registry.store().clone())
        };
        let on_their_way = config
            .batching
            .keys()
            .map(|name| (name.clone(), Arc::default()))
            .collect();
        let serving = Serving {
            inner: Arc::new(Inner {
                registry,
                routes: RoutingTable::default(),
                log,
                config,
                stats: stats::StatsTable::default(),
                changes: tokio::sync::Mutex::new(()),
                on_their_way,
            }),
        };
        for deployment in serving.store().list_deployments().await? {
            let name = deployment.name.clone();
            match serving.build_route(deployment).await {
                Ok(route) => serving.inner.routes.swap(&name, Some(Arc::new(route))),
                Err(error) => {
                    tracing::error!(model = %name, %error, "cannot load a deployed model; it is not served");
                }
            }
        }
        Ok(serving)
    }

    fn store(&self) -> &Arc<dyn MetadataStore> {
        self.inner.registry.store()
    }

    pub fn routes(&self) -> &RoutingTable {
        &self.inner.routes
    }

    pub fn config(&self) -> &ServingConfig {
        &self.inner.config
    }

    pub fn log_stats(&self) -> LogStats {
        self.inner.log.stats()
    }

    /// The counters of every version served since start-up.
    pub fn served_stats(&self) -> Vec<ServedStatsSnapshot> {
        self.inner.stats.snapshot()
    }

    /// Stops the prediction log after storing everything queued (graceful shutdown).
    /// Waits (at most `timeout`) until the log has stored every record accepted so far.
    pub async fn flush_log(&self, timeout: std::time::Duration) -> bool {
        self.inner.log.flush(timeout).await
    }

    pub async fn shutdown(&self) -> LogStats {
        self.inner.log.close().await
    }

    /// Every stored deployment.
    pub async fn list(&self) -> Result<Vec<Deployment>, ServingError> {
        Ok(self.store().list_deployments().await?)
    }

    /// A model's deployment (empty if nothing is deployed).
    pub async fn get(&self, name: &str) -> Result<Deployment, ServingError> {
        Ok(self
            .store()
            .get_deployment(name)
            .await?
            .unwrap_or_else(|| Deployment::empty(name)))
    }

    /// Applies a change: versions entering service must pass the deployment guard and
    /// become Deployed, versions leaving become Retired; the state and the transitions
    /// are saved together; then the new route is swapped in. The new versions are loaded
    /// before anything is saved, so a swap is instant and never half-done.
    #[tracing::instrument(skip_all, fields(model = %request.name, command = ?request.command))]
    pub async fn change(
        &self,
        request: ChangeRequest,
    ) -> Result<(Deployment, Vec<LifecycleEvent>), ServingError> {
        let ChangeRequest {
            name,
            command,
            actor,
            reason,
        } = request;
        let _serialised = self.inner.changes.lock().await;
        let current = self.get(&name).await?;
        let planned = plan::plan(&current, command)?;
        let reason = reason.unwrap_or_else(|| command.describe());
        let evidence = Evidence {
            kind: "deployment".to_owned(),
            reference: format!("{name}@{}", current.revision + 1),
        };
        let transition = |version: i64, to: Stage| Transition {
            name: name.clone(),
            version,
            to,
            actor: actor.clone(),
            reason: reason.clone(),
            evidence: Some(evidence.clone()),
        };
        let registry = &self.inner.registry;
        let mut transitions = Vec::new();
        for &version in &planned.entering {
            let model_version = registry.get_version(&name, version).await?;
            if !model_version.stage.is_serving() {
                registry.ensure_deployable(&name, version).await?;
                transitions.push(transition(version, Stage::Deployed));
            }
        }
        for &version in &planned.leaving {
            if registry
                .get_version(&name, version)
                .await?
                .stage
                .is_serving()
            {
                transitions.push(transition(version, Stage::Retired));
            }
        }
        let mut deployment = planned.deployment;
        deployment.updated_by = actor.clone();
        let route = match deployment.is_empty() {
            true => None,
            false => Some(self.build_route(deployment.clone()).await?),
        };
        let (saved, events) = self
            .store()
            .save_deployment(DeploymentChange {
                deployment,
                expected_revision: current.revision,
                transitions,
            })
            .await?;
        let route = route.map(|route| {
            Arc::new(Route {
                deployment: saved.clone(),
                ..route
            })
        });
        self.inner.routes.swap(&name, route);
        tracing::info!(model = %name, %actor, revision = saved.revision, "deployment changed");
        Ok((saved, events))
    }

    /// Brings the routing table in line with the stored deployments, which another
    /// replica sharing the store may have changed: routes whose revision differs are
    /// rebuilt and swapped (their versions loaded first), routes no longer stored are
    /// dropped. Returns how many routes changed.
    pub async fn refresh(&self) -> Result<usize, ServingError> {
        let _serialised = self.inner.changes.lock().await;
        let stored = self.store().list_deployments().await?;
        let names: std::collections::HashSet<String> =
            stored.iter().map(|d| d.name.clone()).collect();
        let mut changed = 0;
        for deployment in stored {
            let current = self.inner.routes.get(&deployment.name);
            if current.is_some_and(|route| route.deployment.revision == deployment.revision) {
                continue;
            }
            let name = deployment.name.clone();
            let revision = deployment.revision;
            match self.build_route(deployment).await {
                Ok(route) => {
                    self.inner.routes.swap(&name, Some(Arc::new(route)));
                    tracing::info!(model = %name, revision, "route follows a change made elsewhere");
                    changed += 1;
                }
                Err(error) => {
                    tracing::error!(model = %name, %error, "cannot load a deployed model; it is not served");
                }
            }
        }
        for route in self.inner.routes.all() {
            if !names.contains(&route.deployment.name) {
                self.inner.routes.swap(&route.deployment.name, None);
                changed += 1;
            }
        }
        Ok(changed)
    }

    /// Refreshes the routing table every `interval` until the process ends, so replicas
    /// sharing a store follow each other's deployment changes.
    pub fn follow_store(&self, interval: Duration) -> tokio::task::JoinHandle<()> {
        let serving = self.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                if let Err(error) = serving.refresh().await {
                    tracing::warn!(%error, "cannot refresh the routing table from the store");
                }
            }
        })
    }

    /// A request to `name` has arrived: when the model is batched, it is counted as on its
    /// way until the returned guard is dropped (just before `predict`), so that a batch
    /// waits for it. `None` for models served without batching.
    pub fn arriving(&self, name: &str) -> Option<Arriving> {
        self.inner.on_their_way.get(name).map(Arriving::new)
    }

    async fn build_route(&self, deployment: Deployment) -> Result<Route, ServingError> {
        let mut route = Route {
            live: None,
            canary: None,
            shadow: None,
            deployment,
        };
        let name = route.deployment.name.clone();
        for (version, role) in route.deployment.serving() {
            let plan = self.inner.registry.load(&name, version).await?;
            let stats = self.inner.stats.get(&name, version, role);
            let batching = self
                .inner
                .config
                .batching
                .get(&name)
                .copied()
                .zip(self.inner.on_their_way.get(&name).cloned());
            let served = Arc::new(Served::new(version, role, plan, stats, batching));
            match role {
                Role::Live => route.live = Some(served),
                Role::Canary => {
                    let percent = route.deployment.canary.map_or(0, |c| c.percent);
                    route.canary = Some((served, percent));
                }
                Role::Shadow => route.shadow = Some(served),
            }
        }
        Ok(route)
    }
}

//! Wires the adapters into the services and runs the HTTP server.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use bascule_artifacts::ObjectArtifactStore;
use bascule_core::ArtifactStore;
use bascule_lifecycle::feedback::FeedbackLoop;
use bascule_lifecycle::serving::{BatchingConfig, Serving, ServingConfig};
use bascule_lifecycle::{Engines, Registry};
use bascule_runtime::{OrtConfig, OrtEngine, TractEngine};
use bascule_server::{AppState, ServerConfig};
use bascule_store::SqlMetadataStore;

use crate::config::Config;
use crate::webhook::ReqwestTransport;

pub async fn run(config: Config) -> anyhow::Result<()> {
    run_with(config, shutdown_signal(), |_| {}).await
}

/// Runs the server until `shutdown` completes; `ready` is told the address once it
/// listens (`bascule demo` drives its own server through it).
pub async fn run_with(
    config: Config,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ready: impl FnOnce(std::net::SocketAddr),
) -> anyhow::Result<()> {
    let started = Instant::now();
    std::fs::create_dir_all(&config.data_dir).with_context(|| {
        format!(
            "cannot create the data directory {}",
            config.data_dir.display()
        )
    })?;
    let store = SqlMetadataStore::connect(&config.database_url)
        .await
        .context("cannot open the metadata store")?;
    let artifacts: Arc<dyn ArtifactStore> = Arc::new(
        match &config.artifact_url {
            Some(url) => ObjectArtifactStore::from_url(url),
            None => ObjectArtifactStore::local(&config.data_dir.join("artifacts")),
        }
        .context("cannot open the artifact store")?,
    );
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let address = listener
        .local_addr()
        .context("cannot read the listening address")?;
    let mut feedback = config.feedback.clone();
    feedback.server_url = Some(format!("http://{address}"));
    let registry =
        Registry::new(Arc::new(store), artifacts, engines(&config)?).with_feedback_config(feedback);
    let serving_config = ServingConfig {
        log_predictions: config.prediction_log,
        batching: config
            .batching
            .iter()
            .map(|(name, max_rows, max_wait)| {
                let batching = BatchingConfig {
                    max_rows: *max_rows,
                    max_wait: *max_wait,
                };
                (name.clone(), batching)
            })
            .collect(),
        inline_budget: config.inline_budget,
        log_gather: config.log_gather,
        ..ServingConfig::default()
    };
    let serving = Serving::start(registry.clone(), serving_config)
        .await
        .context("cannot load the deployed models")?;
    if config.route_refresh_ms > 0 {
        serving.follow_store(std::time::Duration::from_millis(config.route_refresh_ms));
    }
    let monitor = (config.monitor_interval_ms > 0)
        .then(|| registry.watch(std::time::Duration::from_millis(config.monitor_interval_ms)));
    let feedback_loop = if config.feedback_interval_ms > 0 {
        let transport =
            Arc::new(ReqwestTransport::new().context("cannot build the webhook client")?);
        let feedback_loop = FeedbackLoop::new(registry.clone(), serving.clone(), transport);
        let handle = feedback_loop.run(std::time::Duration::from_millis(
            config.feedback_interval_ms,
        ));
        Some((feedback_loop, handle))
    } else {
        None
    };
    let state = AppState::new(
        registry,
        ServerConfig {
            max_upload_bytes: config.max_upload_bytes,
            max_request_bytes: config.max_request_bytes,
        },
        serving.clone(),
    );
    tracing::info!(
        listen = %address,
        data_dir = %config.data_dir.display(),
        startup_ms = started.elapsed().as_millis() as u64,
        "bascule server ready"
    );
    println!("bascule server listening on http://{address}");
    ready(address);
    bascule_server::serve(listener, bascule_server::app(state), shutdown)
        .await
        .context("server failed")?;
    // In-flight requests have drained: store what the prediction log still holds.
    if let Some(monitor) = monitor {
        monitor.abort();
    }
    if let Some((feedback_loop, handle)) = feedback_loop {
        handle.abort();
        // What it held (a delivery, a retraining run) is due again for the next start.
        feedback_loop.release().await;
    }
    let log = serving.shutdown().await;
    tracing::info!(
        written = log.written,
        shed = log.shed,
        failed = log.failed,
        "bascule server stopped"
    );
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// tract always; onnxruntime when a library is configured. A configured library that does
/// not load stops the start-up, unless the configuration allows serving with tract alone.
fn engines(config: &Config) -> anyhow::Result<Engines> {
    let engines = Engines::new(Arc::new(TractEngine::new()));
    let Some(library) = &config.onnxruntime_lib else {
        return Ok(engines);
    };
    match OrtEngine::new(OrtConfig::new(library)) {
        Ok(ort) => {
            tracing::info!(library = %library.display(), "onnxruntime engine loaded");
            Ok(engines.with(Arc::new(ort)).preferring(&config.engine))
        }
        Err(error) if config.onnxruntime_fallback => {
            tracing::warn!(
                %error,
                "onnxruntime is configured but did not load; serving with tract only \
                 (BASCULE_ONNXRUNTIME_FALLBACK=true)"
            );
            if config.engine == "onnxruntime" {
                anyhow::bail!(
                    "{error}; the preferred engine is onnxruntime, so there is nothing to fall back to"
                );
            }
            Ok(engines)
        }
        Err(error) => Err(anyhow::anyhow!(
            "{error}\nset BASCULE_ONNXRUNTIME_FALLBACK=true to start with the tract engine alone"
        )),
    }
}

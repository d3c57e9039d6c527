//! The one place that reads the environment: configuration file < `BASCULE_*` variables
//! < command-line flags, merged into a typed `Config`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use bascule_lifecycle::feedback::{FeedbackConfig, RetrainConfig, WebhookConfig};
use serde::Deserialize;

/// The server's configuration file (TOML). Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    artifact_url: Option<String>,
    max_upload_bytes: Option<u64>,
    max_request_bytes: Option<usize>,
    onnxruntime_lib: Option<PathBuf>,
    onnxruntime_fallback: Option<bool>,
    engine: Option<String>,
    prediction_log: Option<bool>,
    route_refresh_ms: Option<u64>,
    monitor_interval_ms: Option<u64>,
    batching: Option<String>,
    inline_budget_us: Option<u64>,
    log_gather_ms: Option<u64>,
    /// Webhooks and the retraining command: from this file only, never from the
    /// environment or an API call.
    #[serde(default)]
    feedback: FeedbackFile,
}

/// `[feedback]` in the configuration file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedbackFile {
    /// How often the feedback loop runs, in milliseconds (default 1000; 0: off).
    interval_ms: Option<u64>,
    export_rows: Option<usize>,
    export_min_labels: Option<usize>,
    min_fresh_labels: Option<usize>,
    #[serde(default)]
    webhooks: Vec<WebhookFile>,
    retrain: Option<RetrainFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookFile {
    name: String,
    url: String,
    secret: Option<String>,
    #[serde(default)]
    events: Vec<String>,
    max_attempts: Option<u32>,
    timeout_seconds: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RetrainFile {
    command: Vec<String>,
    timeout_seconds: Option<f64>,
    max_attempts: Option<u32>,
    working_dir: Option<PathBuf>,
}

/// The events a webhook may subscribe to.
pub const WEBHOOK_EVENTS: [&str; 7] = [
    "feedback.opened",
    "feedback.updated",
    "feedback.resolved",
    "retraining.finished",
    "version.improved",
    "candidate.rejected",
    "deployment.rolled_back",
];

/// Flags given on the command line; they win over everything.
#[derive(Debug, Default)]
pub struct ServerFlags {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub config: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; defaults to `<data_dir>/bascule.db`.
    pub database_url: String,
    /// An object-store URL, or `None` for `<data_dir>/artifacts`.
    pub artifact_url: Option<String>,
    pub max_upload_bytes: u64,
    /// The largest inference request body.
    pub max_request_bytes: usize,
    /// The onnxruntime shared library for the second engine, if configured.
    pub onnxruntime_lib: Option<PathBuf>,
    /// When the configured onnxruntime cannot be loaded: `true` serves with tract alone
    /// (and says so); `false` (the default) refuses to start.
    pub onnxruntime_fallback: bool,
    /// The engine tried first for new versions: `tract` (default) or `onnxruntime`.
    pub engine: String,
    /// Whether served requests are recorded (default on; monitoring needs them).
    pub prediction_log: bool,
    /// How often the routing table is reread from the store, so replicas sharing it follow
    /// each other's deployment changes; 0 turns it off.
    pub route_refresh_ms: u64,
    /// How often monitoring closes windows, recomputes labelled ones and applies the alert
    /// rules; 0 turns monitoring off on this replica.
    pub monitor_interval_ms: u64,
    /// Models served with adaptive batching: name → (max rows, max wait).
    pub batching: Vec<(String, usize, std::time::Duration)>,
    /// A model run expected to take at most this long runs on the async worker that took
    /// the request; longer ones go to the blocking pool.
    pub inline_budget: std::time::Duration,
    /// How long a batch of the prediction log gathers before it is stored.
    pub log_gather: std::time::Duration,
    /// How often the feedback loop runs; 0 turns it off on this replica.
    pub feedback_interval_ms: u64,
    pub feedback: FeedbackConfig,
}

/// The engines a configuration may name.
pub const ENGINES: [&str; 2] = ["tract", "onnxruntime"];

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "bascule-data";

impl Config {
    pub fn load(flags: ServerFlags) -> anyhow::Result<Config> {
        let config_path = flags
            .config
            .clone()
            .or_else(|| env("BASCULE_CONFIG").map(PathBuf::from));
        let file = match &config_path {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let listen = match flags.listen {
            Some(listen) => listen,
            None => match env("BASCULE_LISTEN") {
                Some(text) => text.parse().with_context(|| {
                    format!("BASCULE_LISTEN='{text}' is not an address like 127.0.0.1:8080")
                })?,
                None => file.listen.unwrap_or_else(default_listen),
            },
        };
        let data_dir = flags
            .data_dir
            .or_else(|| env("BASCULE_DATA_DIR").map(PathBuf::from))
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let database_url = env("BASCULE_DATABASE_URL")
            .or(file.database_url)
            .unwrap_or_else(|| sqlite_url(&data_dir.join("bascule.db")));
        let artifact_url = env("BASCULE_ARTIFACT_URL").or(file.artifact_url);
        let server_defaults = bascule_server::ServerConfig::default();
        let max_upload_bytes = number(
            "BASCULE_MAX_UPLOAD_BYTES",
            "bytes",
            file.max_upload_bytes,
            server_defaults.max_upload_bytes,
        )?;
        let max_request_bytes = number(
            "BASCULE_MAX_REQUEST_BYTES",
            "bytes",
            file.max_request_bytes,
            server_defaults.max_request_bytes,
        )?;
        let onnxruntime_lib = env("BASCULE_ONNXRUNTIME_LIB")
            .or_else(|| env("ORT_DYLIB_PATH"))
            .map(PathBuf::from)
            .or(file.onnxruntime_lib);
        let onnxruntime_fallback = match env("BASCULE_ONNXRUNTIME_FALLBACK") {
            Some(text) => parse_bool(&text).with_context(|| {
                format!("BASCULE_ONNXRUNTIME_FALLBACK='{text}' is not true or false")
            })?,
            None => file.onnxruntime_fallback.unwrap_or(false),
        };
        let prediction_log = match env("BASCULE_PREDICTION_LOG") {
            Some(text) => parse_bool(&text)
                .with_context(|| format!("BASCULE_PREDICTION_LOG='{text}' is not on or off"))?,
            None => file.prediction_log.unwrap_or(true),
        };
        let route_refresh_ms = number(
            "BASCULE_ROUTE_REFRESH_MS",
            "milliseconds",
            file.route_refresh_ms,
            1_000,
        )?;
        let monitor_interval_ms = number(
            "BASCULE_MONITOR_INTERVAL_MS",
            "milliseconds",
            file.monitor_interval_ms,
            1_000,
        )?;
        let batching = match env("BASCULE_BATCHING").or(file.batching) {
            Some(text) => parse_batching(&text)?,
            None => Vec::new(),
        };
        let serving_defaults = bascule_lifecycle::serving::ServingConfig::default();
        let inline_budget = std::time::Duration::from_micros(number(
            "BASCULE_INLINE_BUDGET_US",
            "microseconds",
            file.inline_budget_us,
            serving_defaults.inline_budget.as_micros() as u64,
        )?);
        let log_gather = std::time::Duration::from_millis(number(
            "BASCULE_LOG_GATHER_MS",
            "milliseconds",
            file.log_gather_ms,
            serving_defaults.log_gather.as_millis() as u64,
        )?);
        let engine = env("BASCULE_ENGINE")
            .or(file.engine)
            .unwrap_or_else(|| ENGINES[0].to_owned());
        if !ENGINES.contains(&engine.as_str()) {
            bail!(
                "unknown engine '{engine}' (BASCULE_ENGINE or `engine` in the configuration file): use {}",
                ENGINES.join(" or ")
            );
        }
        if engine == "onnxruntime" && onnxruntime_lib.is_none() {
            bail!(
                "the preferred engine is onnxruntime but no library is configured: set \
                 BASCULE_ONNXRUNTIME_LIB to a libonnxruntime.so (scripts/fetch_onnxruntime.sh fetches one)"
            );
        }
        if !listen.ip().is_loopback() {
            bail!(
                "refusing to listen on {listen}: Bascule has no API tokens yet, so it serves loopback \
                 addresses only (127.0.0.1, ::1); put an authenticating proxy in front for remote access"
            );
        }
        let feedback_interval_ms = file.feedback.interval_ms.unwrap_or(1_000);
        let feedback = feedback_config(file.feedback, listen)?;
        Ok(Config {
            feedback_interval_ms,
            feedback,
            listen,
            data_dir,
            database_url,
            artifact_url,
            max_upload_bytes,
            max_request_bytes,
            onnxruntime_lib,
            onnxruntime_fallback,
            engine,
            prediction_log,
            route_refresh_ms,
            monitor_interval_ms,
            batching,
            inline_budget,
            log_gather,
        })
    }
}

fn feedback_config(file: FeedbackFile, listen: SocketAddr) -> anyhow::Result<FeedbackConfig> {
    let defaults = FeedbackConfig::default();
    let seconds = |value: Option<f64>, default: f64, what: &str| {
        let value = value.unwrap_or(default);
        if !(value.is_finite() && value > 0.0) {
            bail!("[feedback] {what}: give a positive number of seconds");
        }
        Ok(std::time::Duration::from_secs_f64(value))
    };
    let mut webhooks = Vec::new();
    for hook in file.webhooks {
        if !(hook.url.starts_with("http://") || hook.url.starts_with("https://")) {
            bail!(
                "[[feedback.webhooks]] '{}': url '{}' must start with http:// or https://",
                hook.name,
                hook.url
            );
        }
        if let Some(unknown) = hook
            .events
            .iter()
            .find(|e| !WEBHOOK_EVENTS.contains(&e.as_str()))
        {
            bail!(
                "[[feedback.webhooks]] '{}': unknown event '{unknown}' (known: {})",
                hook.name,
                WEBHOOK_EVENTS.join(", ")
            );
        }
        if webhooks.iter().any(|h: &WebhookConfig| h.name == hook.name) {
            bail!(
                "[[feedback.webhooks]]: two webhooks are named '{}'",
                hook.name
            );
        }
        webhooks.push(WebhookConfig {
            timeout: seconds(hook.timeout_seconds, 5.0, "timeout_seconds")?,
            max_attempts: hook.max_attempts.unwrap_or(8).max(1),
            name: hook.name,
            url: hook.url,
            secret: hook.secret,
            events: hook.events,
        });
    }
    let retrain = match file.retrain {
        Some(retrain) => {
            if retrain
                .command
                .first()
                .is_none_or(|program| program.is_empty())
            {
                bail!(
                    "[feedback.retrain] command: give the program and its arguments, e.g. [\"python\", \"train.py\"]"
                );
            }
            Some(RetrainConfig {
                timeout: seconds(retrain.timeout_seconds, 600.0, "retrain.timeout_seconds")?,
                max_attempts: retrain.max_attempts.unwrap_or(2).max(1),
                command: retrain.command,
                working_dir: retrain.working_dir,
            })
        }
        None => None,
    };
    Ok(FeedbackConfig {
        webhooks,
        retrain,
        export_rows: file.export_rows.unwrap_or(defaults.export_rows).max(1),
        export_min_labels: file.export_min_labels.unwrap_or(defaults.export_min_labels),
        min_fresh_labels: file.min_fresh_labels.unwrap_or(defaults.min_fresh_labels),
        server_url: Some(format!("http://{listen}")),
    })
}

/// `NAME=ROWS:WAIT_US[,NAME=ROWS:WAIT_US…]`, e.g. `mlp=32:0` (batches of what queues while
/// the model is busy) or `mlp=32:500` (a batch also waits up to 500 µs for requests on
/// their way).
fn parse_batching(text: &str) -> anyhow::Result<Vec<(String, usize, std::time::Duration)>> {
    text.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            let bad = || {
                anyhow::anyhow!(
                    "BASCULE_BATCHING: '{part}' is not MODEL=MAX_ROWS:MAX_WAIT_MICROSECONDS (e.g. mlp=32:500)"
                )
            };
            let (name, limits) = part.split_once('=').ok_or_else(bad)?;
            let (rows, wait) = limits.split_once(':').ok_or_else(bad)?;
            let rows: usize = rows.trim().parse().map_err(|_| bad())?;
            let wait: u64 = wait.trim().parse().map_err(|_| bad())?;
            if name.trim().is_empty() || rows < 2 {
                return Err(bad());
            }
            Ok((
                name.trim().to_owned(),
                rows,
                std::time::Duration::from_micros(wait),
            ))
        })
        .collect()
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

fn default_listen() -> SocketAddr {
    DEFAULT_LISTEN
        .parse()
        .expect("the default listen address is valid")
}

fn read_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read configuration file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("invalid configuration file {}", path.display()))
}

fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

/// A numeric setting: the environment variable `name` when set (a value that does not
/// parse is refused, naming the variable, the value and the `unit`), else the configuration
/// file's value, else `default`.
fn number<T>(name: &str, unit: &str, file: Option<T>, default: T) -> anyhow::Result<T>
where
    T: std::str::FromStr,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    match env(name) {
        Some(text) => text
            .parse()
            .with_context(|| format!("{name}='{text}' is not a number of {unit}")),
        None => Ok(file.unwrap_or(default)),
    }
}

/// Who runs the CLI, recorded as the actor of what it does.
pub fn cli_actor() -> String {
    env("BASCULE_ACTOR")
        .or_else(|| env("USER"))
        .or_else(|| env("USERNAME"))
        .unwrap_or_else(|| "cli".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without its environment variable a numeric setting takes the configuration file's
    /// value, else the default (the variable's own path is tested on the real binary:
    /// `deployments::bad_serving_settings_stop_the_server_with_the_reason`).
    #[test]
    fn numeric_settings_fall_back_to_the_file_then_the_default() {
        let unset = "BASCULE_TEST_SETTING_NEVER_SET";
        assert!(env(unset).is_none());
        assert_eq!(number(unset, "milliseconds", Some(50_u64), 20).unwrap(), 50);
        assert_eq!(number(unset, "milliseconds", None, 20_u64).unwrap(), 20);
        let file: FileConfig =
            toml::from_str("log_gather_ms = 50\ninline_budget_us = 80\n").unwrap();
        assert_eq!(
            (file.log_gather_ms, file.inline_budget_us),
            (Some(50), Some(80))
        );
    }

    #[test]
    fn batching_settings_parse_and_bad_ones_say_why() {
        let parsed = parse_batching("mlp=32:500, rf=8:0").unwrap();
        assert_eq!(
            parsed,
            vec![
                ("mlp".to_owned(), 32, std::time::Duration::from_micros(500)),
                ("rf".to_owned(), 8, std::time::Duration::ZERO),
            ]
        );
        for bad in ["mlp", "mlp=32", "mlp=x:5", "=4:5", "mlp=1:500", "mlp=8:-1"] {
            let error = parse_batching(bad).unwrap_err().to_string();
            assert!(
                error.contains("MODEL=MAX_ROWS:MAX_WAIT_MICROSECONDS"),
                "{bad}: {error}"
            );
        }
    }
}

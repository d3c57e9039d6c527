//! The one place that reads the environment: configuration file < `BASCULE_*` variables
//! < command-line flags, merged into a typed `Config`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
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
}

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
}

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
        let max_upload_bytes = match env("BASCULE_MAX_UPLOAD_BYTES") {
            Some(text) => text.parse().with_context(|| {
                format!("BASCULE_MAX_UPLOAD_BYTES='{text}' is not a number of bytes")
            })?,
            None => file
                .max_upload_bytes
                .unwrap_or(bascule_server::ServerConfig::default().max_upload_bytes),
        };
        if !listen.ip().is_loopback() {
            bail!(
                "refusing to listen on {listen}: Bascule has no API tokens yet, so it serves loopback \
                 addresses only (127.0.0.1, ::1); put an authenticating proxy in front for remote access"
            );
        }
        Ok(Config {
            listen,
            data_dir,
            database_url,
            artifact_url,
            max_upload_bytes,
        })
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

/// Who runs the CLI, recorded as the actor of what it does.
pub fn cli_actor() -> String {
    env("BASCULE_ACTOR")
        .or_else(|| env("USER"))
        .or_else(|| env("USERNAME"))
        .unwrap_or_else(|| "cli".to_owned())
}

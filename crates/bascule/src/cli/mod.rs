//! Command-line parsing and dispatch.

mod client;
mod demo;
mod deploy;
mod drift;
mod feedback;
mod models;
mod monitoring;
mod policy;
mod tracking;
mod train;
mod validate;

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::{self, Config, ServerFlags};

#[derive(Debug, Parser)]
#[command(
    name = "bascule",
    version,
    about = "The bridge from ML research to production and back"
)]
pub struct Args {
    /// The Bascule server the client commands talk to [default: http://127.0.0.1:8080].
    #[arg(long, global = true, env = "BASCULE_SERVER")]
    server: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the Bascule server (REST API; serving, monitoring and UI as they land).
    Server {
        /// Address to listen on (loopback only until API tokens exist).
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Where the embedded database and artifacts live.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// A TOML configuration file.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Run the whole loop on the NOAA rainfall data set, then serve the result.
    Demo(demo::DemoArgs),
    #[command(flatten)]
    Deployments(deploy::DeploymentCommand),
    /// Offline drift report of a current data set against a reference (CSV or Parquet).
    Drift(drift::DriftArgs),
    /// Registered models and their versions.
    #[command(subcommand)]
    Models(models::ModelsCommand),
    /// A model's validation policy (thresholds, champion comparison, slices, latency).
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// Fit a logistic regression on a CSV or Parquet data set, write it as ONNX, and
    /// optionally register it (the retraining command of the feedback loop).
    Train(train::TrainArgs),
    /// Run the validation gate on a Prototype version: it becomes Validated or Rejected.
    Validate(validate::ValidateArgs),
    /// Post ground-truth labels for answered requests, from a CSV (request_id, label).
    Labels(monitoring::LabelsArgs),
    /// A model's monitoring windows: drift, live performance, latency and errors.
    Windows(monitoring::WindowsArgs),
    /// Alerts raised by monitoring (open ones unless --all).
    Alerts(monitoring::AlertsArgs),
    /// Feedback items: what monitoring sent back to research, with its export.
    #[command(subcommand)]
    Feedback(feedback::FeedbackCommand),
}

/// The server the client commands talk to when neither --server nor BASCULE_SERVER says.
const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";

pub async fn run(args: Args) -> anyhow::Result<()> {
    let server = args.server.as_deref().unwrap_or(DEFAULT_SERVER);
    match args.command {
        Command::Server {
            listen,
            data_dir,
            config,
        } => {
            install_tracing();
            let config = Config::load(ServerFlags {
                listen,
                data_dir,
                config,
            })?;
            crate::server::run(config).await
        }
        Command::Demo(demo_args) => {
            install_tracing_quiet();
            demo::run(demo_args).await
        }
        Command::Deployments(command) => {
            let client = client::Client::new(server, config::cli_actor())?;
            deploy::run(&client, command).await
        }
        Command::Drift(drift_args) => drift::run(drift_args).await,
        Command::Models(command) => {
            let client = client::Client::new(server, config::cli_actor())?;
            models::run(&client, command).await
        }
        Command::Policy(command) => {
            let client = client::Client::new(server, config::cli_actor())?;
            policy::run(&client, command).await
        }
        Command::Train(train_args) => {
            let server = args
                .server
                .as_deref()
                .or(train_args.trigger_server.as_deref())
                .unwrap_or(DEFAULT_SERVER);
            let client = client::Client::new(server, config::cli_actor())?;
            train::run(train_args, client).await
        }
        Command::Validate(validate_args) => {
            let client = client::Client::new(server, config::cli_actor())?;
            validate::run(&client, validate_args).await
        }
        Command::Labels(labels_args) => {
            let client = client::Client::new(server, config::cli_actor())?;
            monitoring::labels(&client, labels_args).await
        }
        Command::Windows(windows_args) => {
            let client = client::Client::new(server, config::cli_actor())?;
            monitoring::windows(&client, windows_args).await
        }
        Command::Alerts(alerts_args) => {
            let client = client::Client::new(server, config::cli_actor())?;
            monitoring::alerts(&client, alerts_args).await
        }
        Command::Feedback(command) => {
            let client = client::Client::new(server, config::cli_actor())?;
            feedback::run(&client, command).await
        }
    }
}

/// The demo prints its own story; the server it runs logs only errors.
fn install_tracing_quiet() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .init();
}

fn install_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .init();
}

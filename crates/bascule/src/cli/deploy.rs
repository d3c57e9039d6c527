//! `bascule deploy | promote | rollback | undeploy | deployments`: what serves each model.

use anyhow::bail;
use clap::Subcommand;
use reqwest::Method;
use serde::Deserialize;

use super::client::Client;

#[derive(Debug, Subcommand)]
pub enum DeploymentCommand {
    /// Serve a Validated (or Improved) version: live, as a canary taking a share of the
    /// traffic, or as a shadow that gets a copy of every request.
    Deploy {
        name: String,
        version: i64,
        /// Send this percentage (1–99) of the traffic to the version; the rest stays live.
        #[arg(long, value_name = "PCT", conflicts_with = "shadow")]
        canary: Option<u8>,
        /// Copy every request to the version; its answers are logged, never returned.
        #[arg(long)]
        shadow: bool,
        /// Why, for the event log.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Make the canary the live version.
    Promote {
        name: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Drop the canary, or return to the previous live version.
    Rollback {
        name: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Stop serving a model.
    Undeploy { name: String },
    /// List what serves each model, and the prediction log's counters.
    Deployments,
}

#[derive(Debug, Deserialize)]
struct Deployment {
    name: String,
    live: Option<i64>,
    canary: Option<Canary>,
    shadow: Option<i64>,
    previous_live: Option<i64>,
    updated_by: String,
}

#[derive(Debug, Deserialize)]
struct Canary {
    version: i64,
    percent: u8,
}

#[derive(Debug, Deserialize)]
struct Change {
    deployment: Deployment,
    events: Vec<Event>,
}

#[derive(Debug, Deserialize)]
struct Event {
    version: i64,
    from: Option<String>,
    to: String,
}

#[derive(Debug, Deserialize)]
struct Deployments {
    deployments: Vec<Deployment>,
    prediction_log: PredictionLog,
}

#[derive(Debug, Deserialize)]
struct PredictionLog {
    written: u64,
    shed: u64,
    failed: u64,
    queued: u64,
}

pub async fn run(client: &Client, command: DeploymentCommand) -> anyhow::Result<()> {
    let change = match command {
        DeploymentCommand::Deploy {
            name,
            version,
            canary,
            shadow,
            reason,
        } => {
            let (mode, percent) = match (canary, shadow) {
                (Some(percent), _) if !(1..=99).contains(&percent) => {
                    bail!("--canary takes a percentage from 1 to 99, not {percent}")
                }
                (Some(percent), _) => ("canary", Some(percent)),
                (None, true) => ("shadow", None),
                (None, false) => ("live", None),
            };
            let body = serde_json::json!({
                "name": name, "version": version, "mode": mode, "percent": percent, "reason": reason,
            });
            client.request(Method::POST, "/deployments").json(&body)
        }
        DeploymentCommand::Promote { name, reason } => client
            .request(Method::POST, &format!("/deployments/{name}/promote"))
            .json(&serde_json::json!({ "reason": reason })),
        DeploymentCommand::Rollback { name, reason } => client
            .request(Method::POST, &format!("/deployments/{name}/rollback"))
            .json(&serde_json::json!({ "reason": reason })),
        DeploymentCommand::Undeploy { name } => {
            client.request(Method::DELETE, &format!("/deployments/{name}"))
        }
        DeploymentCommand::Deployments => return list(client).await,
    };
    let change: Change = client.send(change).await?;
    let deployment = &change.deployment;
    if deployment.live.is_none() && deployment.canary.is_none() && deployment.shadow.is_none() {
        println!("{}: nothing deployed", deployment.name);
    } else {
        println!("{}: {}", deployment.name, describe(deployment));
    }
    for event in &change.events {
        println!(
            "  version {}: {} -> {}",
            event.version,
            event.from.as_deref().unwrap_or("(new)"),
            event.to
        );
    }
    Ok(())
}

async fn list(client: &Client) -> anyhow::Result<()> {
    let list: Deployments = client
        .send(client.request(Method::GET, "/deployments"))
        .await?;
    if list.deployments.is_empty() {
        println!("nothing deployed; deploy a Validated version with `bascule deploy NAME VERSION`");
    }
    for deployment in &list.deployments {
        println!(
            "{}: {} (by {})",
            deployment.name,
            describe(deployment),
            deployment.updated_by
        );
    }
    let log = &list.prediction_log;
    println!(
        "prediction log: {} written, {} queued, {} shed, {} failed",
        log.written, log.queued, log.shed, log.failed
    );
    Ok(())
}

fn describe(deployment: &Deployment) -> String {
    let mut parts = Vec::new();
    parts.extend(deployment.live.map(|v| format!("live v{v}")));
    parts.extend(
        deployment
            .canary
            .as_ref()
            .map(|c| format!("canary v{} ({}%)", c.version, c.percent)),
    );
    parts.extend(deployment.shadow.map(|v| format!("shadow v{v}")));
    parts.extend(
        deployment
            .previous_live
            .map(|v| format!("rollback to v{v}")),
    );
    parts.join(", ")
}

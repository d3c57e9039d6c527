//! `bascule policy …`: a model's validation policy.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Subcommand;
use reqwest::Method;
use serde::Deserialize;

use super::client::Client;

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Set a model's validation policy from a TOML or JSON file (a new policy version).
    Set { name: String, file: PathBuf },
    /// Show a model's current validation policy.
    Show { name: String },
}

#[derive(Debug, Deserialize)]
struct PolicyResponse {
    name: String,
    policy_version: i64,
    format: String,
    body: String,
    created_by: String,
}

pub async fn run(client: &Client, command: PolicyCommand) -> anyhow::Result<()> {
    match command {
        PolicyCommand::Set { name, file } => {
            let body = tokio::fs::read_to_string(&file)
                .await
                .with_context(|| format!("cannot read {}", file.display()))?;
            let extension = file
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase);
            let content_type = match extension.as_deref() {
                Some("toml") => "application/toml",
                Some("json") => "application/json",
                _ if body.trim_start().starts_with('{') => "application/json",
                _ => "application/toml",
            };
            if body.trim().is_empty() && content_type == "application/json" {
                bail!("{} is empty", file.display());
            }
            let request = client
                .request(Method::PUT, &format!("/models/{name}/policy"))
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(body);
            let policy: PolicyResponse = client.send(request).await?;
            println!(
                "{}: validation policy version {} set ({})",
                policy.name, policy.policy_version, policy.format
            );
        }
        PolicyCommand::Show { name } => {
            let policy: PolicyResponse = client
                .send(client.request(Method::GET, &format!("/models/{name}/policy")))
                .await?;
            println!(
                "# {} validation policy version {} ({}, by {})",
                policy.name, policy.policy_version, policy.format, policy.created_by
            );
            print!("{}", policy.body);
            if !policy.body.ends_with('\n') {
                println!();
            }
        }
    }
    Ok(())
}

//! `bascule feedback list|show|ack|resolve|export`: what monitoring sent back to research,
//! and how it was answered.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use reqwest::Method;
use serde_json::{Value, json};

use super::client::Client;

#[derive(Debug, Subcommand)]
pub enum FeedbackCommand {
    /// Feedback items, newest first (active ones unless --all).
    List {
        /// Only this model's items.
        name: Option<String>,
        #[arg(long)]
        all: bool,
        #[arg(long)]
        json: bool,
    },
    /// One item: its alerts, export, history, webhook deliveries and retraining runs.
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Take an item on.
    Ack {
        id: i64,
        #[arg(long)]
        message: Option<String>,
    },
    /// Close an item, naming the version that answers it.
    Resolve {
        id: i64,
        #[arg(long)]
        version: Option<i64>,
        #[arg(long)]
        message: Option<String>,
    },
    /// Download an item's export of production traffic.
    Export {
        id: i64,
        /// Where to write it; the format follows the extension (.csv or .parquet).
        #[arg(long)]
        out: PathBuf,
    },
}

pub async fn run(client: &Client, command: FeedbackCommand) -> anyhow::Result<()> {
    match command {
        FeedbackCommand::List { name, all, json } => {
            let mut path = "/feedback?limit=100".to_owned();
            if let Some(name) = &name {
                path.push_str(&format!("&model={name}"));
            }
            let answer: Value = client.send(client.request(Method::GET, &path)).await?;
            let items: Vec<Value> = answer["feedback"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter(|item| all || item["state"] != "resolved")
                .collect();
            if json {
                println!("{}", serde_json::to_string_pretty(&items)?);
            } else if items.is_empty() {
                println!("no {}feedback items", if all { "" } else { "active " });
            } else {
                println!(
                    "{:>4}  {:<16} {:>7}  {:<12}  {:>6}  {:>8}  summary",
                    "id", "model", "version", "state", "alerts", "answer"
                );
                for item in items {
                    println!(
                        "{:>4}  {:<16} {:>7}  {:<12}  {:>6}  {:>8}  {}",
                        item["id"],
                        item["name"].as_str().unwrap_or("-"),
                        item["version"],
                        item["state"].as_str().unwrap_or("-"),
                        item["alert_ids"].as_array().map_or(0, Vec::len),
                        item["answered_by"]
                            .as_i64()
                            .map_or("-".to_owned(), |v| format!("v{v}")),
                        item["summary"].as_str().unwrap_or("")
                    );
                }
            }
        }
        FeedbackCommand::Show { id, json } => {
            let detail: Value = client
                .send(client.request(Method::GET, &format!("/feedback/{id}")))
                .await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&detail)?);
            } else {
                print_detail(&detail);
            }
        }
        FeedbackCommand::Ack { id, message } => {
            let item: Value = client
                .send(
                    client
                        .request(Method::POST, &format!("/feedback/{id}/ack"))
                        .json(&json!({ "message": message })),
                )
                .await?;
            println!(
                "feedback item {id} is {}",
                item["state"].as_str().unwrap_or("?")
            );
        }
        FeedbackCommand::Resolve {
            id,
            version,
            message,
        } => {
            let item: Value = client
                .send(
                    client
                        .request(Method::POST, &format!("/feedback/{id}/resolve"))
                        .json(&json!({ "version": version, "message": message })),
                )
                .await?;
            println!(
                "feedback item {id} is {}",
                item["state"].as_str().unwrap_or("?")
            );
        }
        FeedbackCommand::Export { id, out } => {
            let file = match out.extension().and_then(|e| e.to_str()) {
                Some("parquet") => "export.parquet",
                _ => "export.csv",
            };
            let response = client
                .send_raw(client.request(Method::GET, &format!("/feedback/{id}/{file}")))
                .await?;
            let bytes = response.bytes().await.context("cannot read the export")?;
            std::fs::write(&out, &bytes)
                .with_context(|| format!("cannot write {}", out.display()))?;
            println!("wrote {} ({} bytes)", out.display(), bytes.len());
        }
    }
    Ok(())
}

fn print_detail(detail: &Value) {
    let item = &detail["item"];
    println!(
        "feedback {} — {} version {} — {}",
        item["id"],
        item["name"].as_str().unwrap_or("-"),
        item["version"],
        item["state"].as_str().unwrap_or("-")
    );
    println!("  {}", item["summary"].as_str().unwrap_or(""));
    if let Some(answer) = item["answered_by"].as_i64() {
        println!("  answered by version {answer}");
    }
    let export = &item["export"];
    if export.is_object() {
        println!(
            "  export: {} rows ({} labelled), predictions {}..{} — /api/v1/feedback/{}/export.csv, …/export.parquet",
            export["rows"],
            export["labelled"],
            export["first_prediction"],
            export["last_prediction"],
            item["id"]
        );
    }
    println!("  alerts:");
    for alert in detail["alerts"].as_array().into_iter().flatten() {
        println!(
            "    #{} {} [{}] {}",
            alert["id"],
            alert["rule"].as_str().unwrap_or("-"),
            alert["state"].as_str().unwrap_or("-"),
            alert["message"].as_str().unwrap_or("")
        );
    }
    println!("  tasks:");
    for task in detail["tasks"].as_array().into_iter().flatten() {
        println!(
            "    #{} {} {} → {} (attempts {}){}",
            task["id"],
            task["kind"].as_str().unwrap_or("-"),
            task["target"].as_str().unwrap_or("-"),
            task["state"].as_str().unwrap_or("-"),
            task["attempts"],
            task["last_error"]
                .as_str()
                .map(|e| format!(": {e}"))
                .unwrap_or_default()
        );
    }
    println!("  history:");
    for note in detail["notes"].as_array().into_iter().flatten() {
        println!(
            "    [{}] {} ({}): {}",
            note["kind"].as_str().unwrap_or("-"),
            note["time"],
            note["actor"].as_str().unwrap_or("-"),
            note["message"].as_str().unwrap_or("")
        );
    }
}

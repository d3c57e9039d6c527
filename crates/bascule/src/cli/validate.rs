//! `bascule validate NAME VERSION --data FILE`: runs the validation gate on the server
//! and prints the report. The request is synchronous; a spinner shows it is running.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use bascule_lifecycle::gate::ValidationReport;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use reqwest::Method;
use serde::Deserialize;
use tokio_util::io::ReaderStream;

use super::client::Client;

#[derive(Debug, Args)]
pub struct ValidateArgs {
    name: String,
    version: i64,
    /// The holdout data set: a .csv or .parquet file.
    #[arg(long)]
    data: PathBuf,
    /// The label column (default: the policy's, else `label`).
    #[arg(long)]
    label: Option<String>,
    /// Print the report as JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Deserialize)]
struct ValidationResponse {
    name: String,
    version: i64,
    passed: bool,
    stage: String,
    report_digest: String,
    report: serde_json::Value,
}

pub async fn run(client: &Client, args: ValidateArgs) -> anyhow::Result<()> {
    let extension = args
        .data
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let content_type = match extension.as_deref() {
        Some("csv") => "text/csv",
        Some("parquet" | "pq") => "application/vnd.apache.parquet",
        _ => "application/octet-stream",
    };
    let file = tokio::fs::File::open(&args.data)
        .await
        .with_context(|| format!("cannot open {}", args.data.display()))?;
    let length = file.metadata().await?.len();
    let mut request = client
        .request(
            Method::POST,
            &format!("/models/{}/versions/{}/validate", args.name, args.version),
        )
        .header(reqwest::header::CONTENT_TYPE, content_type)
        .header(reqwest::header::CONTENT_LENGTH, length)
        .body(reqwest::Body::wrap_stream(ReaderStream::new(file)));
    if let Some(label) = &args.label {
        request = request.query(&[("label", label)]);
    }

    let spinner = ProgressBar::new_spinner();
    spinner.set_style(
        ProgressStyle::with_template("{spinner} {msg} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    spinner.set_message(format!(
        "validating {} version {} on {} ({length} bytes)",
        args.name,
        args.version,
        args.data.display()
    ));
    spinner.enable_steady_tick(Duration::from_millis(120));
    let answer: anyhow::Result<ValidationResponse> = client.send(request).await;
    spinner.finish_and_clear();
    let answer = answer?;

    if args.json {
        println!("{}", serde_json::to_string_pretty(&answer.report)?);
    } else {
        let report: ValidationReport = serde_json::from_value(answer.report)
            .context("the server's report is not in the expected format")?;
        print!("{}", report.render_text());
        println!("\nreport sha256:{}", answer.report_digest);
    }
    if !answer.passed {
        bail!(
            "{} version {} is {}: it failed the validation gate",
            answer.name,
            answer.version,
            answer.stage
        );
    }
    println!(
        "{} version {} is {}",
        answer.name, answer.version, answer.stage
    );
    Ok(())
}

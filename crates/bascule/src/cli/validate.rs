//! `bascule validate NAME VERSION --data FILE`: runs the validation gate on the server
//! and prints the report. The data set is uploaded with a byte progress bar; the server
//! runs the validation as a job (`Prefer: respond-async`) whose phase and rows done are
//! polled into a second progress bar.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use bascule_lifecycle::gate::ValidationReport;
use clap::Args;
use futures::StreamExt;
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

/// The validation job the server runs.
#[derive(Debug, Deserialize)]
struct Job {
    id: String,
    state: String,
    progress: JobProgress,
    result: Option<ValidationResponse>,
    error: Option<JobError>,
}

#[derive(Debug, Deserialize)]
struct JobProgress {
    phase: String,
    done: u64,
    total: u64,
}

#[derive(Debug, Deserialize)]
struct JobError {
    code: String,
    message: String,
}

/// One progress bar: bytes while uploading, then rows per phase of the job.
struct Progress {
    bar: ProgressBar,
}

impl Progress {
    fn new(bytes: u64) -> Self {
        let bar = ProgressBar::new(bytes);
        bar.set_style(
            ProgressStyle::with_template("{msg:<28} [{bar:30}] {bytes}/{total_bytes} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_message("uploading the data set");
        Progress { bar }
    }

    fn show(&self, progress: &JobProgress) {
        if progress.total > 0 {
            self.bar.set_style(
                ProgressStyle::with_template("{msg:<28} [{bar:30}] {pos}/{len} rows {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            self.bar.set_length(progress.total);
            self.bar.set_position(progress.done);
        } else {
            self.bar.set_style(
                ProgressStyle::with_template("{spinner} {msg:<26} {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            self.bar.tick();
        }
        self.bar.set_message(progress.phase.clone());
    }
}

/// Polls the job until it finishes, showing its progress.
async fn poll(
    client: &Client,
    mut job: Job,
    progress: &Progress,
) -> anyhow::Result<ValidationResponse> {
    loop {
        progress.show(&job.progress);
        match job.state.as_str() {
            "succeeded" => {
                return job
                    .result
                    .context("the server reported success without a result");
            }
            "failed" => {
                let error = job.error.unwrap_or(JobError {
                    code: "UNKNOWN".into(),
                    message: "the server gave no reason".into(),
                });
                bail!("{} ({})", error.message, error.code);
            }
            _ => {}
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
        job = client
            .send(client.request(Method::GET, &format!("/jobs/{}", job.id)))
            .await?;
    }
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
    let progress = Progress::new(length);
    let upload = {
        let bar = progress.bar.clone();
        ReaderStream::new(file).inspect(move |chunk| {
            if let Ok(chunk) = chunk {
                bar.inc(chunk.len() as u64);
            }
        })
    };
    let mut request = client
        .request(
            Method::POST,
            &format!("/models/{}/versions/{}/validate", args.name, args.version),
        )
        .header(reqwest::header::CONTENT_TYPE, content_type)
        .header(reqwest::header::CONTENT_LENGTH, length)
        .header("prefer", "respond-async")
        .body(reqwest::Body::wrap_stream(upload));
    if let Some(label) = &args.label {
        request = request.query(&[("label", label)]);
    }
    let job: anyhow::Result<Job> = client.send(request).await;
    let answer = match job {
        Ok(job) => poll(client, job, &progress).await,
        Err(error) => Err(error),
    };
    progress.bar.finish_and_clear();
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

//! `bascule demo`: the whole loop on the NOAA rainfall data set (vendored in
//! `datasets/rainfall`), with every piece real — a server on 127.0.0.1, the trainer
//! (`bascule train`, run as a process, as a team's own retraining script would be), the
//! gate, serving over OIP v2, the prediction log, monitoring with delayed labels, the
//! feedback loop and its retraining command, and the promotion policy.
//!
//! v1 is trained on days 0..6000 and validated on days 6000..12000; days 12000.. are
//! replayed as live traffic (their labels arrive a few hundred requests late). Dew point
//! drifts and the relation between the features and rain turns, so monitoring alerts,
//! feedback opens with the production export, the retraining command trains v2 on it, the
//! gate finds that v2 beats v1 on the newer labelled traffic (Improved), and the promotion
//! policy canaries and promotes it. The data directory is an ordinary one: `bascule server
//! --data-dir DIR --config DIR/bascule.toml` shows the same state afterwards.

mod replay;
mod tracker;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use reqwest::Method;
use serde_json::{Value, json};

use super::client::Client;
use crate::config::{Config, ServerFlags};

/// The vendored data set (see `datasets/rainfall/README.md` for its provenance and licence).
const RAINFALL: &str = include_str!("../../../../../datasets/rainfall/rainfall.csv");
pub const MODEL: &str = "rainfall";
pub const LABEL: &str = "rain";
/// Days the first version trains on, and validates on.
const TRAIN_DAYS: std::ops::Range<usize> = 0..6000;
const HOLDOUT_DAYS: std::ops::Range<usize> = 6000..12000;
/// The first replayed day: where dew point starts to drift.
pub const LIVE_FROM: usize = 12000;
/// The longest the loop may take before the demo gives up.
const DEADLINE: Duration = Duration::from_secs(240);

const POLICY: &str = r#"# The rainfall model's validation, monitoring and promotion policy (bascule demo).
task = "binary"
label = "rain"

[thresholds]
roc_auc = 0.75

[champion]
margins = { roc_auc = 0.02 }

[monitoring]
window = 250
# The replay sends days of traffic a second: every prediction in a window, none skipped.
window_interval_seconds = 0

[monitoring.alerts]
drift_share = 0.3
metric_drop = { roc_auc = 0.1 }
min_labels = 100

[promotion]
mode = "auto"
canary_percent = 30
windows = 2
min_labels = 100
"#;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where the demo keeps its state (it must not hold Bascule data yet).
    #[arg(long, default_value = "bascule-demo")]
    data_dir: PathBuf,
    /// Exit once the loop has run instead of serving the result.
    #[arg(long)]
    no_serve: bool,
    /// The address to serve on (default 127.0.0.1:8080; a free port with --no-serve).
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Start over: remove the data directory of an earlier demo first (only one that
    /// `bascule demo` wrote).
    #[arg(long)]
    fresh: bool,
    /// Requests per second of the replayed traffic.
    #[arg(long, default_value_t = 500)]
    rate: u32,
}

/// The data set as rows: the eight features, then the label.
pub struct Days {
    pub features: Vec<String>,
    pub rows: Vec<(Vec<f64>, f64)>,
}

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    prepare_directory(&args.data_dir, args.fresh)?;
    let days = parse_days()?;
    let data_file = args.data_dir.join("rainfall.csv");
    write_csv(&data_file, &days, 0..days.rows.len())?;
    let holdout = csv_text(&days, HOLDOUT_DAYS);
    let config_file = write_config(&args.data_dir, &days.features)?;

    let listen = args.listen.unwrap_or_else(|| {
        let default = if args.no_serve {
            "127.0.0.1:0"
        } else {
            "127.0.0.1:8080"
        };
        default.parse().expect("a valid address")
    });
    let config = Config::load(ServerFlags {
        listen: Some(listen),
        data_dir: Some(args.data_dir.clone()),
        config: Some(config_file.clone()),
    })?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (ready, address) = tokio::sync::oneshot::channel::<SocketAddr>();
    let serve_forever = !args.no_serve;
    let shutdown = async move {
        // A stop the story asks for; the story ending without asking (serving) is none.
        let asked = async {
            if stopped.await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        if serve_forever {
            tokio::select! {
                () = asked => {},
                _ = tokio::signal::ctrl_c() => {},
            }
        } else {
            asked.await;
        }
    };
    // The replay waits on monitoring's reports: they run at normal priority here, not
    // below everything else as a server under full load runs them.
    bascule_lifecycle::keep_background_at_normal_priority();
    // The server and the story run side by side on this task; the story stops the
    // server (with --no-serve) or leaves it serving until Ctrl-C.
    let server = crate::server::run_with(config, shutdown, move |address| {
        let _ = ready.send(address);
    });
    let story = async {
        let Ok(address) = address.await else {
            // The server did not start; its own error says why.
            return Ok(());
        };
        let outcome = tell(
            address,
            &args,
            &days,
            &data_file,
            &holdout,
            &config_file,
            started,
        )
        .await;
        if args.no_serve || outcome.is_err() {
            let _ = stop.send(());
        } else {
            println!(
                "serving at http://{address} (UI at http://{address}/ui); press Ctrl-C to stop"
            );
        }
        outcome
    };
    let (served, told) = tokio::join!(server, story);
    told?;
    served
}

async fn tell(
    address: SocketAddr,
    args: &DemoArgs,
    days: &Days,
    data_file: &Path,
    holdout: &str,
    config_file: &Path,
    started: Instant,
) -> anyhow::Result<()> {
    let url = format!("http://{address}");
    let client = Client::new(&url, "bascule-demo".to_owned())?;
    let mut tracker = tracker::Tracker::new(started);
    println!(
        "bascule demo: the whole loop on NOAA rainfall ({} days), server {url}, data in {}\n",
        days.rows.len(),
        args.data_dir.display()
    );
    let outcome = drive(&client, &url, args, days, data_file, holdout, &mut tracker).await;
    if let Err(error) = &outcome {
        eprintln!("\nthe demo stopped: {error:#}");
    }
    tracker.print_model_state(&client).await?;
    outcome?;
    println!(
        "\nthe loop ran in {:.1} s. The data directory is ordinary: `bascule server --data-dir {} --config {}` serves it again.",
        started.elapsed().as_secs_f64(),
        args.data_dir.display(),
        config_file.display()
    );
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn drive(
    client: &Client,
    url: &str,
    args: &DemoArgs,
    days: &Days,
    data_file: &Path,
    holdout: &str,
    tracker: &mut tracker::Tracker,
) -> anyhow::Result<()> {
    let _: Value = client
        .send(
            client
                .request(Method::POST, "/models")
                .json(&json!({ "name": MODEL, "description": "Will it rain tomorrow? NOAA daily weather, one station" })),
        )
        .await?;
    let _: Value = client
        .send(
            client
                .request(Method::PUT, &format!("/models/{MODEL}/policy"))
                .header("content-type", "application/toml")
                .body(POLICY),
        )
        .await?;

    tracker.step("training v1 with `bascule train` on days 0..6000");
    train_v1(url, data_file, &days.features).await?;
    tracker.catch_up(client).await?;

    tracker.step("validating v1 on days 6000..12000");
    let validation: Value = client
        .send(
            client
                .request(
                    Method::POST,
                    &format!("/models/{MODEL}/versions/1/validate"),
                )
                .header("content-type", "text/csv")
                .body(holdout.to_owned()),
        )
        .await?;
    if validation["passed"] != true {
        bail!(
            "v1 did not pass the gate: {}",
            validation["report"]["checks"]
        );
    }
    tracker.catch_up(client).await?;

    tracker.step("deploying v1 live");
    let _: Value = client
        .send(client.request(Method::POST, "/deployments").json(
            &json!({ "name": MODEL, "version": 1, "reason": "bascule demo: v1 passed the gate" }),
        ))
        .await?;
    tracker.catch_up(client).await?;

    tracker.step(&format!(
        "replaying days {LIVE_FROM}.. as live traffic at {} requests/s (labels arrive {} requests late)",
        args.rate,
        replay::LABEL_DELAY
    ));
    let mut traffic = replay::Replay::new(url, &days.rows[LIVE_FROM..], LIVE_FROM, args.rate)?;
    let deadline = Instant::now() + DEADLINE;
    let mut held: Option<&str> = None;
    loop {
        // The days are finite: hold the traffic while a retraining runs (it needs none,
        // and on a slow machine it would use up the days the candidate is judged on), and
        // while monitoring lags it (on a busy machine the windows' reports fall behind).
        let hold = if retraining(client).await? {
            Some("holding the traffic while the retraining runs")
        } else if monitoring_behind(client).await? {
            Some("holding the traffic while monitoring catches up")
        } else {
            None
        };
        if hold != held {
            held = hold;
            tracker.step(held.unwrap_or("resuming the traffic"));
        }
        let sent = match held {
            Some(_) => {
                tokio::time::sleep(Duration::from_millis(250)).await;
                None
            }
            None => Some(traffic.send_for(Duration::from_millis(250)).await?),
        };
        tracker.catch_up(client).await?;
        if tracker.done() {
            break;
        }
        if sent == Some(0) {
            bail!(
                "the replay ran out of days before v2 went live; the tracker shows how far the loop got"
            );
        }
        if Instant::now() > deadline {
            bail!("the loop did not close within {} s", DEADLINE.as_secs());
        }
    }
    traffic.finish().await?;
    tracker.catch_up(client).await?;
    tracker.step(&format!(
        "replayed {} days as live traffic and posted {} labels",
        traffic.sent(),
        traffic.labelled()
    ));
    Ok(())
}

/// Predictions logged past the newest window's end before the replay waits for
/// monitoring: four windows (a live window closes every ~360 predictions while 30% go to
/// a canary, so a watcher keeping up stays well within this).
const MONITORING_SLACK: u64 = 1000;

/// Whether the prediction log is more than `MONITORING_SLACK` predictions past the end of
/// the newest window (the demo's log holds only its own model's predictions, numbered
/// from 1).
async fn monitoring_behind(client: &Client) -> anyhow::Result<bool> {
    let deployments: Value = client
        .send(client.request(Method::GET, "/deployments"))
        .await?;
    let written = deployments["prediction_log"]["written"]
        .as_u64()
        .unwrap_or(0);
    let windows: Value = client
        .send(client.request(Method::GET, &format!("/models/{MODEL}/windows?limit=10")))
        .await?;
    let covered = windows["windows"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|window| window["last_prediction"].as_u64())
        .max()
        .unwrap_or(0);
    Ok(written > covered + MONITORING_SLACK)
}

/// Whether a retraining run is waiting for its turn or running.
async fn retraining(client: &Client) -> anyhow::Result<bool> {
    let tasks: Value = client
        .send(client.request(Method::GET, "/tasks?limit=100"))
        .await?;
    Ok(tasks["tasks"].as_array().into_iter().flatten().any(|task| {
        task["kind"] == "retrain" && matches!(task["state"].as_str(), Some("pending" | "running"))
    }))
}

async fn train_v1(url: &str, data_file: &Path, features: &[String]) -> anyhow::Result<()> {
    let exe = std::env::current_exe().context("cannot find the bascule executable")?;
    let output = tokio::process::Command::new(exe)
        .arg("train")
        .arg("--data")
        .arg(data_file)
        .args([
            "--rows",
            &format!("{}..{}", TRAIN_DAYS.start, TRAIN_DAYS.end),
        ])
        .args(["--label", LABEL, "--features", &features.join(",")])
        .args(["--register", MODEL, "--server", url])
        .env("BASCULE_ACTOR", "bascule-demo")
        .output()
        .await
        .context("cannot run `bascule train`")?;
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        println!("        | {line}");
    }
    if !output.status.success() {
        bail!(
            "`bascule train` failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

/// The first line of the configuration the demo writes: what `--fresh` may remove.
const MARKER: &str = "# Written by `bascule demo`.";

fn prepare_directory(directory: &Path, fresh: bool) -> anyhow::Result<()> {
    let written_by_demo = std::fs::read_to_string(directory.join("bascule.toml"))
        .is_ok_and(|text| text.starts_with(MARKER));
    if fresh && written_by_demo {
        std::fs::remove_dir_all(directory)
            .with_context(|| format!("cannot remove {}", directory.display()))?;
    }
    if directory.join("bascule.db").exists() {
        let remedy = if written_by_demo {
            "pass --fresh to start over, or --data-dir for another directory"
        } else {
            "pass --data-dir for another directory"
        };
        bail!(
            "{} already holds Bascule data; the demo starts from an empty directory: {remedy}",
            directory.display()
        );
    }
    std::fs::create_dir_all(directory)
        .with_context(|| format!("cannot create {}", directory.display()))
}

/// The configuration the demo's server runs with, kept in the data directory: fast
/// monitoring and feedback passes, and the retraining command — `bascule train` on the
/// export, registering the result as the answer to the feedback item.
fn write_config(directory: &Path, features: &[String]) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("cannot find the bascule executable")?;
    let command = [
        exe.display().to_string(),
        "train".to_owned(),
        "--label".to_owned(),
        LABEL.to_owned(),
        "--features".to_owned(),
        features.join(","),
        "--register".to_owned(),
        MODEL.to_owned(),
    ];
    let quoted: Vec<String> = command
        .iter()
        .map(|part| toml::Value::String(part.clone()).to_string())
        .collect();
    let text = format!(
        "{MARKER}\nmonitor_interval_ms = 200\n\n[feedback]\ninterval_ms = 200\n\
         export_min_labels = 600\nmin_fresh_labels = 300\n\n[feedback.retrain]\n# Runs with BASCULE_EXPORT_PARQUET, \
         BASCULE_PARENT_VERSION, BASCULE_FEEDBACK_ID and BASCULE_URL set.\ncommand = [{}]\n\
         timeout_seconds = 120\n",
        quoted.join(", ")
    );
    let path = directory.join("bascule.toml");
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

fn parse_days() -> anyhow::Result<Days> {
    let mut lines = RAINFALL.lines();
    let header = lines.next().context("the rainfall data set is empty")?;
    let names: Vec<&str> = header.split(',').collect();
    // The first column is pandas' unnamed index, the last the label.
    let features: Vec<String> = names[1..names.len() - 1]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let mut rows = Vec::new();
    for (index, line) in lines.enumerate() {
        let values: Vec<f64> = line
            .split(',')
            .skip(1)
            .map(|v| v.parse::<f64>())
            .collect::<Result<_, _>>()
            .with_context(|| format!("rainfall.csv line {}", index + 2))?;
        let (label, features) = values.split_last().context("an empty row")?;
        rows.push((features.to_vec(), *label));
    }
    Ok(Days { features, rows })
}

fn csv_text(days: &Days, range: std::ops::Range<usize>) -> String {
    let mut text = days
        .features
        .iter()
        .map(|f| f.as_str())
        .chain([LABEL])
        .collect::<Vec<_>>()
        .join(",");
    text.push('\n');
    for (features, label) in &days.rows[range] {
        let cells: Vec<String> = features.iter().map(|v| v.to_string()).collect();
        text.push_str(&cells.join(","));
        text.push_str(&format!(",{label}\n"));
    }
    text
}

fn write_csv(path: &Path, days: &Days, range: std::ops::Range<usize>) -> anyhow::Result<()> {
    std::fs::write(path, csv_text(days, range))
        .with_context(|| format!("cannot write {}", path.display()))
}

//! The web UI in a real browser: Debian's `chromium`, headless, against a real server on
//! the data directory `bascule demo --no-serve` left (the rainfall model's whole journey:
//! v1 validated, deployed, drifting on dew point, alerts, feedback with its export and
//! retraining, v2 Improved, canaried and promoted; each training logged as a run). Every page's DOM is checked and a screenshot is saved under
//! `target/ui-screenshots/`. Chromium is installed from Debian's packages when missing; if
//! that cannot be done the test fails and says how.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::{Server, ok};

const CHROMIUM: &str = "/usr/bin/chromium";

fn screenshots() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/ui-screenshots")
}

/// One HTTP/1.1 request over a fresh connection: the status code and body.
fn http(url: &str, method: &str, target: &str, body: &str) -> (u16, String) {
    let host = url.strip_prefix("http://").expect("http url");
    let mut stream = TcpStream::connect(host).expect("connect");
    write!(
        stream,
        "{method} {target} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("status");
    let body = response
        .split_once("\r\n\r\n")
        .map_or("", |(_, body)| body)
        .to_owned();
    (status, body)
}

/// Runs the demo into `data`, then starts a server on it.
fn demo_server(data: &Path) -> Server {
    let demo = super::bascule()
        .args(["demo", "--no-serve", "--data-dir"])
        .arg(data)
        .output()
        .expect("run the demo");
    ok(demo);
    let mut child = super::bascule()
        .args(["server", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start the server");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)
        .expect("ready line");
    let url = line.trim().rsplit(' ').next().expect("url").to_owned();
    Server {
        child,
        url,
        _dir: tempfile::tempdir().unwrap(),
    }
}

/// Installs Debian's chromium (and a font) when it is missing, so the README's test
/// command needs no set-up of its own; fails with what to do when it cannot.
fn ensure_chromium() {
    if Path::new(CHROMIUM).exists() {
        return;
    }
    let apt = |args: &[&str]| {
        Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .is_ok_and(|status| status.success())
    };
    let installed = apt(&["update", "-qq"])
        && apt(&[
            "install",
            "-y",
            "-qq",
            "--no-install-recommends",
            "chromium",
            "fonts-dejavu-core",
        ]);
    assert!(
        installed && Path::new(CHROMIUM).exists(),
        "the UI's browser test needs Debian's chromium at {CHROMIUM} and could not install it: \
         run `apt-get install -y chromium fonts-dejavu-core` as root"
    );
}

/// Chromium's flags for this machine: headless, no sandbox, nothing fetched on its own,
/// a fresh profile.
fn chromium(profile: &Path) -> Command {
    let mut command = Command::new(CHROMIUM);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()));
    command
}

fn dump_dom(profile: &Path, url: &str) -> String {
    let output = chromium(profile)
        .args(["--dump-dom", url])
        .output()
        .expect("run chromium");
    assert!(
        output.status.success(),
        "chromium --dump-dom {url}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn screenshot(profile: &Path, url: &str, name: &str, height: u32) {
    let file = screenshots().join(format!("{name}.png"));
    let output = chromium(profile)
        .arg(format!("--screenshot={}", file.display()))
        .arg(format!("--window-size=1400,{height}"))
        .arg(url)
        .output()
        .expect("run chromium");
    assert!(
        output.status.success() && file.exists(),
        "chromium --screenshot {url}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The median time of a few GETs of a page (loopback HTTP, debug build).
fn page_time(server: &Server, target: &str) -> Duration {
    let mut times: Vec<Duration> = (0..5)
        .map(|_| {
            let start = Instant::now();
            let (status, _) = http(&server.url, "GET", target, "");
            assert_eq!(status, 200, "{target}");
            start.elapsed()
        })
        .collect();
    times.sort();
    times[2]
}

#[test]
fn every_page_in_a_real_browser() {
    ensure_chromium();
    let work = tempfile::tempdir().unwrap();
    let server = demo_server(&work.path().join("demo"));
    std::fs::create_dir_all(screenshots()).unwrap();
    let profile = tempfile::tempdir().unwrap();

    let (_, experiments) = http(
        &server.url,
        "GET",
        "/api/2.0/mlflow/experiments/get-by-name?experiment_name=rainfall",
        "",
    );
    let experiments: serde_json::Value = serde_json::from_str(&experiments).unwrap();
    let experiment_id = experiments["experiment"]["experiment_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, runs) = http(
        &server.url,
        "POST",
        "/api/2.0/mlflow/runs/search",
        &format!(r#"{{"experiment_ids":["{experiment_id}"]}}"#),
    );
    let runs: serde_json::Value = serde_json::from_str(&runs).unwrap();
    // The run the retraining command logged for v2.
    let run_id = runs["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|run| run["info"]["run_name"] == "rainfall retrained from v1")
        .unwrap_or_else(|| panic!("no retraining run: {runs}"))["info"]["run_id"]
        .as_str()
        .unwrap()
        .to_owned();

    // (name, path, window height, what the page must say)
    let pages: Vec<(&str, String, u32, Vec<&str>)> = vec![
        (
            "1-models",
            "/ui".into(),
            700,
            vec!["rainfall", "v2 live 100%", "open feedback", "last alert"],
        ),
        (
            "2-model",
            "/ui/models/rainfall".into(),
            2600,
            vec![
                "Status tracker",
                "✓ Improved",
                "✓ Monitored",
                "feedback #1",
                "validation report",
                "Event log",
            ],
        ),
        (
            "3-version-1",
            "/ui/models/rainfall/versions/1".into(),
            1800,
            vec!["PASSED", "threshold: roc_auc", "Signature"],
        ),
        (
            "3-version-2",
            "/ui/models/rainfall/versions/2".into(),
            2000,
            vec![
                "Champion comparison",
                "confidence interval",
                "original holdout of version 1",
                "threshold: roc_auc",
            ],
        ),
        (
            "4-monitoring",
            "/ui/models/rainfall/monitoring?version=1".into(),
            4200,
            vec![
                "dew point",
                "Share of drifted features per window",
                "dew point — drifted",
                "Prediction distribution",
                "roc_auc at validation",
                "Model latency per window",
            ],
        ),
        (
            "5-feedback",
            "/ui/feedback".into(),
            700,
            vec!["#1", "resolved", "600 labelled"],
        ),
        (
            "5-feedback-1",
            "/ui/feedback/1".into(),
            2200,
            vec![
                "export.csv",
                "export.parquet",
                "retraining",
                "version 2 is Improved",
                "promoted version 2",
            ],
        ),
        (
            "6-experiments",
            "/ui/experiments".into(),
            600,
            vec!["rainfall"],
        ),
        (
            "6-experiment",
            format!("/ui/experiments/{experiment_id}"),
            700,
            vec![
                "rainfall logistic regression",
                "rainfall retrained from v1",
                "training_roc_auc",
            ],
        ),
        (
            "6-run",
            format!("/ui/runs/{run_id}"),
            1300,
            vec![
                "objective_per_row over steps",
                "features",
                "model.onnx",
                "FINISHED",
            ],
        ),
        (
            "404",
            "/ui/models/no-such-model".into(),
            500,
            vec!["Not found", "no-such-model"],
        ),
    ];
    let mut timings = Vec::new();
    for (name, target, height, needles) in &pages {
        let url = format!("{}{target}", server.url);
        let dom = dump_dom(profile.path(), &url);
        for needle in needles {
            assert!(
                dom.contains(needle),
                "{target} lacks {needle:?} in the browser:\n{dom}"
            );
        }
        screenshot(profile.path(), &url, name, *height);
        if *name != "404" {
            timings.push((target.clone(), page_time(&server, target)));
        }
    }
    for (target, time) in &timings {
        eprintln!("ui page {target}: median {time:?} of 5 (debug build, loopback HTTP)");
    }
}

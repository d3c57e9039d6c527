//! The web UI in a real browser: Debian's `chromium`, headless, against a real server
//! populated through the CLI and REST as a user would (the rainfall model validated,
//! deployed, drifting on dew point, labelled; a retrained v2 validated against it and
//! deployed as a canary; a tracking run). Every page's DOM is checked and a screenshot is
//! saved under `target/ui-screenshots/`. Without chromium the test fails and says how to
//! install it (`.ci/run` installs it).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::{Server, cli, fixture, ok, path, start_server_with};

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

fn post(server: &Server, target: &str, body: &str) -> String {
    let (status, answer) = http(&server.url, "POST", target, body);
    assert_eq!(status, 200, "{target}: {answer}");
    answer
}

/// The rainfall days as `(features, label)`.
fn rainfall() -> Vec<(Vec<String>, String)> {
    let text = std::fs::read_to_string(fixture("../datasets/rainfall/rainfall.csv"))
        .expect("the vendored rainfall data set");
    text.lines()
        .skip(1)
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            (
                fields[1..9].iter().map(|v| (*v).to_owned()).collect(),
                fields[9].to_owned(),
            )
        })
        .collect()
}

fn replay(server: &Server, days: &[(Vec<String>, String)], which: impl Iterator<Item = usize>) {
    for day in which {
        let body = format!(
            r#"{{"id":"day-{day}","inputs":[{{"name":"input","shape":[1,8],"datatype":"FP32","data":[{}]}}]}}"#,
            days[day].0.join(",")
        );
        post(server, "/v2/models/rain/infer", &body);
    }
}

/// Polls the windows until `done` holds for their JSON.
fn wait_for_windows(server: &Server, done: impl Fn(&serde_json::Value) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, body) = http(&server.url, "GET", "/api/v1/models/rain/windows", "");
        let windows: serde_json::Value = serde_json::from_str(&body).expect("windows JSON");
        if done(&windows["windows"]) {
            return;
        }
        assert!(Instant::now() < deadline, "windows never got there: {body}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn populate(server: &Server, work: &Path) {
    let model = fixture("rainfall/model.onnx");
    let holdout = fixture("rainfall/holdout.csv");
    let policy = fixture("rainfall/policy.toml");
    ok(cli(server, &["models", "register", "rain", path(&model)]));
    ok(cli(server, &["policy", "set", "rain", path(&policy)]));
    ok(cli(
        server,
        &["validate", "rain", "1", "--data", path(&holdout)],
    ));
    ok(cli(server, &["deploy", "rain", "1"]));
    let days = rainfall();
    // 1000 days spread over the whole validation period in a scrambled order (3541 is
    // prime to 6000, so no day repeats), then the drifting days from 12000.
    replay(server, &days, (0..1000).map(|i| 6000 + i * 3541 % 6000));
    replay(server, &days, 12000..13000);
    wait_for_windows(server, |w| w.as_array().is_some_and(|w| w.len() >= 4));
    let labels = work.join("labels.csv");
    let mut csv = String::from("request_id,label\n");
    for (day, (_, label)) in days.iter().enumerate().take(13000).skip(12000) {
        csv.push_str(&format!("day-{day},{label}\n"));
    }
    std::fs::write(&labels, csv).unwrap();
    ok(cli(server, &["labels", "rain", path(&labels)]));
    wait_for_windows(server, |w| {
        w.as_array()
            .is_some_and(|w| w.iter().filter(|w| w["n_labelled"] == 500).count() >= 2)
    });
    ok(cli(
        server,
        &[
            "models",
            "register",
            "rain",
            path(&model),
            "--parent",
            "1",
            "--data-digest",
            "sha256:5eed",
        ],
    ));
    ok(cli(
        server,
        &["validate", "rain", "2", "--data", path(&holdout)],
    ));
    ok(cli(server, &["deploy", "rain", "2", "--canary", "20"]));

    let api = "/api/2.0/mlflow";
    let experiment = post(
        server,
        &format!("{api}/experiments/create"),
        r#"{"name":"rainfall-retraining"}"#,
    );
    let experiment: serde_json::Value = serde_json::from_str(&experiment).unwrap();
    let run = post(
        server,
        &format!("{api}/runs/create"),
        &format!(
            r#"{{"experiment_id":"{}","run_name":"gbdt-200-trees","start_time":1767225600000}}"#,
            experiment["experiment_id"].as_str().unwrap()
        ),
    );
    let run: serde_json::Value = serde_json::from_str(&run).unwrap();
    let run_id = run["run"]["info"]["run_id"].as_str().unwrap();
    let metrics: Vec<String> = (0..30)
        .map(|step| {
            format!(
                r#"{{"key":"val_auc","value":{},"timestamp":{},"step":{step}}}"#,
                0.70 + 0.15 * (1.0 - (-f64::from(step) / 8.0).exp()),
                1_767_225_600_000_i64 + i64::from(step) * 1000
            )
        })
        .collect();
    let (status, answer) = http(
        &server.url,
        "PUT",
        &format!(
            "/api/2.0/mlflow-artifacts/artifacts/{}/{run_id}/artifacts/feature_importance.csv",
            experiment["experiment_id"].as_str().unwrap()
        ),
        "feature,importance\ndew point,0.41\nvisibility,0.22\n",
    );
    assert_eq!(status, 200, "{answer}");
    post(
        server,
        &format!("{api}/runs/log-batch"),
        &format!(
            r#"{{"run_id":"{run_id}","metrics":[{}],"params":[{{"key":"n_estimators","value":"200"}},{{"key":"learning_rate","value":"0.05"}}]}}"#,
            metrics.join(",")
        ),
    );
    post(
        server,
        &format!("{api}/runs/update"),
        &format!(r#"{{"run_id":"{run_id}","status":"FINISHED","end_time":1767225642000}}"#),
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
    assert!(
        Path::new(CHROMIUM).exists(),
        "the UI's browser test needs Debian's chromium at {CHROMIUM}: run `apt-get install -y chromium` (.ci/run does)"
    );
    let server = start_server_with(&[("BASCULE_MONITOR_INTERVAL_MS", "200")]);
    let work = tempfile::tempdir().unwrap();
    populate(&server, work.path());
    std::fs::create_dir_all(screenshots()).unwrap();
    let profile = tempfile::tempdir().unwrap();

    let (_, experiments) = http(
        &server.url,
        "GET",
        "/api/2.0/mlflow/experiments/get-by-name?experiment_name=rainfall-retraining",
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
    let run_id = runs["runs"][0]["info"]["run_id"]
        .as_str()
        .unwrap()
        .to_owned();

    // (name, path, window height, what the page must say)
    let pages: Vec<(&str, String, u32, Vec<&str>)> = vec![
        (
            "1-models",
            "/ui".into(),
            700,
            vec![
                "rain",
                "v1 live 80%",
                "v2 canary 20%",
                "metric_drop:roc_auc",
            ],
        ),
        (
            "2-model",
            "/ui/models/rain".into(),
            2400,
            vec![
                "Status tracker",
                "✓ Monitored",
                "retrained from v1",
                "validation report",
                "Event log",
            ],
        ),
        (
            "3-version-1",
            "/ui/models/rain/versions/1".into(),
            2000,
            vec!["PASSED", "threshold: roc_auc", "Slices", "Signature"],
        ),
        (
            "3-version-2",
            "/ui/models/rain/versions/2".into(),
            1600,
            vec!["Champion comparison", "confidence interval", "at 95%"],
        ),
        (
            "4-monitoring",
            "/ui/models/rain/monitoring".into(),
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
            "6-experiments",
            "/ui/experiments".into(),
            600,
            vec!["rainfall-retraining"],
        ),
        (
            "6-experiment",
            format!("/ui/experiments/{experiment_id}"),
            600,
            vec!["gbdt-200-trees", "n_estimators", "val_auc"],
        ),
        (
            "6-run",
            format!("/ui/runs/{run_id}"),
            1100,
            vec![
                "val_auc over steps",
                "learning_rate",
                "feature_importance.csv",
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

//! The feedback loop through the real binary: drifted traffic raises an alert, the alert
//! opens a feedback item with its export; the research webhook is down, the server is
//! stopped and started again, and the event still arrives, signed, once the webhook is up;
//! a retraining command that cannot start is recorded as such.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{bascule, fixture, ok, path};

/// A server on a data directory the test owns, so it can be started again on it.
struct Running {
    child: Child,
    url: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(dir: &Path, config: &Path) -> Running {
    let mut child = bascule()
        .args(["server", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .arg("--config")
        .arg(config)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the server");
    let stdout = child.stdout.take().expect("stdout");
    let mut running = Running {
        child,
        url: String::new(),
    };
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("ready line");
    running.url = line.trim().rsplit(' ').next().expect("url").to_owned();
    assert!(running.url.starts_with("http://127.0.0.1:"), "{line}");
    running
}

fn stop(mut running: Running) {
    let pid = running.child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = running.child.wait().expect("wait");
    assert!(
        status.success(),
        "the server exits cleanly on SIGTERM: {status}"
    );
}

fn run(running: &Running, args: &[&str]) -> String {
    ok(bascule()
        .arg("--server")
        .arg(&running.url)
        .args(args)
        .output()
        .expect("cli"))
}

fn json(running: &Running, args: &[&str]) -> Value {
    serde_json::from_str(&run(running, args)).expect("JSON from the CLI")
}

/// POSTs a JSON body over a fresh connection; the status code.
fn post(url: &str, path: &str, body: &str) -> u16 {
    let host = url.strip_prefix("http://").expect("http url");
    let mut stream = std::net::TcpStream::connect(host).expect("connect");
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("a status line")
}

/// One delivery as the receiver saw it: lower-cased headers and the body.
type Delivery = (Vec<(String, String)>, String);

/// A webhook endpoint answering 200 to every POST.
fn receiver(listener: TcpListener) -> mpsc::Receiver<Delivery> {
    let (sender, deliveries) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut headers = Vec::new();
            let mut line = String::new();
            reader.read_line(&mut line).expect("request line");
            loop {
                line.clear();
                reader.read_line(&mut line).expect("header");
                let trimmed = line.trim_end();
                if trimmed.is_empty() {
                    break;
                }
                if let Some((name, value)) = trimmed.split_once(':') {
                    headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
                }
            }
            let length: usize = headers
                .iter()
                .find(|(name, _)| name == "content-length")
                .and_then(|(_, value)| value.parse().ok())
                .unwrap_or(0);
            let mut body = vec![0; length];
            reader.read_exact(&mut body).expect("body");
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            let _ = sender.send((headers, String::from_utf8_lossy(&body).into_owned()));
        }
    });
    deliveries
}

fn wait_for<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `n` days from day 12000 + `skip` of the vendored rainfall data, as OIP requests.
fn drifted_requests(skip: usize, n: usize) -> Vec<String> {
    let text = std::fs::read_to_string(fixture("../datasets/rainfall/rainfall.csv"))
        .expect("the vendored data set");
    text.lines()
        .skip(1 + 12_000 + skip)
        .take(n)
        .enumerate()
        .map(|(index, line)| {
            let cells: Vec<&str> = line.split(',').collect();
            let features = cells[1..cells.len() - 1].join(",");
            format!(
                r#"{{"id":"day-{}","inputs":[{{"name":"input","shape":[1,8],"datatype":"FP32","data":[{features}]}}]}}"#,
                12_000 + skip + index
            )
        })
        .collect()
}

/// A server whose `rain` model (the rainfall fixture, v1) is live and has drifted: 100
/// requests from day 12000 closed a window, raised alerts and opened feedback item `id`
/// with its export. `feedback` holds extra lines of the `[feedback]` section.
struct Drifted {
    dir: tempfile::TempDir,
    data: std::path::PathBuf,
    config: std::path::PathBuf,
    server: Running,
    id: i64,
}

fn drifted(feedback: &str) -> Drifted {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bascule.toml");
    std::fs::write(
        &config,
        format!(
            "monitor_interval_ms = 100\n[feedback]\ninterval_ms = 100\nexport_min_labels = 0\n{feedback}"
        ),
    )
    .unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        "task = \"binary\"\n[monitoring]\nwindow = 100\n[monitoring.alerts]\nmin_labels = 1000\n",
    )
    .unwrap();
    let data = dir.path().join("data");
    let server = start(&data, &config);
    let model = fixture("rainfall/model.onnx");
    run(&server, &["models", "register", "rain", path(&model)]);
    run(&server, &["policy", "set", "rain", path(&policy)]);
    let holdout = fixture("rainfall/holdout.csv");
    run(
        &server,
        &["validate", "rain", "1", "--data", path(&holdout)],
    );
    run(&server, &["deploy", "rain", "1"]);
    for body in drifted_requests(0, 100) {
        assert_eq!(post(&server.url, "/v2/models/rain/infer", &body), 200);
    }
    let id = wait_for(
        "a feedback item with its export",
        Duration::from_secs(30),
        || {
            let items = json(&server, &["feedback", "list", "--json"]);
            let item = items.as_array()?.first()?.clone();
            item["export"]
                .is_object()
                .then(|| item["id"].as_i64().unwrap())
        },
    );
    Drifted {
        dir,
        data,
        config,
        server,
        id,
    }
}

/// The item's task of one kind, once `check` holds for it.
fn task_when(
    running: &Running,
    id: i64,
    kind: &str,
    what: &str,
    check: impl Fn(&Value) -> bool,
) -> Value {
    wait_for(what, Duration::from_secs(30), || {
        let detail = json(running, &["feedback", "show", &id.to_string(), "--json"]);
        let task = detail["tasks"]
            .as_array()?
            .iter()
            .find(|t| t["kind"] == kind)?
            .clone();
        check(&task).then_some(task)
    })
}

fn history(running: &Running, id: i64) -> String {
    run(running, &["feedback", "show", &id.to_string()])
}

/// A TOML literal string (no escapes) for a shell script.
fn toml_literal(text: &str) -> String {
    let quotes = "'".repeat(3);
    format!("{quotes}{text}{quotes}")
}

#[test]
fn feedback_opens_on_drift_and_its_webhook_survives_a_restart() {
    // A port for the webhook, closed for now: the endpoint is down.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let Drifted {
        dir,
        data,
        config,
        server,
        id,
    } = drifted(&format!(
        r#"[[feedback.webhooks]]
name = "research"
url = "http://127.0.0.1:{port}/hook"
secret = "s3cret"
events = ["feedback.opened"]
timeout_seconds = 1
max_attempts = 50
[feedback.retrain]
command = ["/nonexistent/retrain-rainfall"]
timeout_seconds = 5
"#
    ));
    let detail = json(&server, &["feedback", "show", &id.to_string(), "--json"]);
    let item = &detail["item"];
    assert_eq!(item["name"], "rain");
    assert!(
        item["summary"].as_str().unwrap().contains("dew point"),
        "{item}"
    );
    assert_eq!(item["export"]["rows"], 100);
    let columns = item["export"]["columns"].to_string();
    assert!(
        columns.contains("dew point") && columns.contains("probability_1"),
        "{columns}"
    );
    // The export downloads as CSV with a row per request.
    let csv = dir.path().join("export.csv");
    run(
        &server,
        &["feedback", "export", &id.to_string(), "--out", path(&csv)],
    );
    let exported = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(exported.lines().count(), 101, "{exported}");
    assert!(exported.lines().nth(1).unwrap().starts_with("day-12000,"));

    // The webhook is down: the delivery waits, retrying; the missing retraining command
    // is recorded as what it is, not retried.
    let webhook = task_when(&server, id, "webhook", "a failed delivery attempt", |t| {
        t["attempts"].as_i64().unwrap_or(0) >= 1 && t["state"] == "pending"
    });
    assert!(
        webhook["last_error"].as_str().unwrap().contains("connect"),
        "{webhook}"
    );
    let retrain = task_when(&server, id, "retrain", "the retraining run", |t| {
        t["state"] == "failed"
    });
    assert_eq!(
        retrain["attempts"], 1,
        "a command that cannot start is not retried"
    );
    assert!(
        retrain["last_error"]
            .as_str()
            .unwrap()
            .contains("/nonexistent/retrain-rainfall` cannot be started"),
        "{retrain}"
    );

    // Restart the server; bring the endpoint up: the event arrives, once, signed.
    stop(server);
    let deliveries = receiver(TcpListener::bind(("127.0.0.1", port)).unwrap());
    let server = start(&data, &config);
    let (headers, body) = deliveries
        .recv_timeout(Duration::from_secs(30))
        .expect("the delivery after the restart");
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert_eq!(header("x-bascule-event"), "feedback.opened");
    assert_eq!(
        header("x-bascule-signature"),
        bascule_lifecycle::feedback::signature(b"s3cret", body.as_bytes())
    );
    let event: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(event["data"]["feedback"]["id"], id);
    task_when(
        &server,
        id,
        "webhook",
        "the delivery recorded as done",
        |t| t["state"] == "done" && t["last_status"] == 200,
    );
    assert!(
        deliveries.recv_timeout(Duration::from_secs(1)).is_err(),
        "delivered once"
    );
    assert!(history(&server, id).contains("delivered to webhook 'research'"));
}

#[test]
fn retraining_cut_by_a_restart_runs_again_and_failing_or_hanging_runs_are_recorded() {
    // Attempt 1 hangs until the server stops; attempt 2 succeeds and its output is kept.
    let script = r#"if [ "$BASCULE_ATTEMPT" = 1 ]; then sleep 60; fi; echo "trained on $(wc -l < "$BASCULE_EXPORT_CSV") lines for item $BASCULE_FEEDBACK_ID, parent $BASCULE_PARENT_VERSION, label $BASCULE_LABEL""#;
    let Drifted {
        dir: _dir,
        data,
        config,
        server,
        id,
    } = drifted(&format!(
        "[feedback.retrain]\ncommand = [\"sh\", \"-c\", {}]\ntimeout_seconds = 120\nmax_attempts = 3\n",
        toml_literal(script)
    ));
    task_when(&server, id, "retrain", "the first run", |t| {
        t["state"] == "running"
    });
    stop(server);
    let server = start(&data, &config);
    let retrain = task_when(&server, id, "retrain", "the second run", |t| {
        t["state"] == "done"
    });
    assert_eq!(retrain["attempts"], 2, "{retrain}");
    assert_eq!(retrain["last_status"], 0);
    assert_eq!(
        retrain["output"].as_str().unwrap().trim(),
        format!("trained on 101 lines for item {id}, parent 1, label label")
    );
    let shown = history(&server, id);
    assert!(shown.contains("retraining attempt 2"), "{shown}");
    assert!(
        shown.contains("the retraining command finished (exit 0)"),
        "{shown}"
    );
    drop(server);

    // A command that fails is retried up to max_attempts, then given up with its status.
    let failing = drifted(
        "[feedback.retrain]\ncommand = [\"sh\", \"-c\", \"echo no GPU >&2; exit 3\"]\nmax_attempts = 2\n",
    );
    let retrain = task_when(
        &failing.server,
        failing.id,
        "retrain",
        "the failed runs",
        |t| t["state"] == "failed",
    );
    assert_eq!(retrain["attempts"], 2, "{retrain}");
    assert_eq!(retrain["last_status"], 3, "{retrain}");
    assert!(
        retrain["last_error"]
            .as_str()
            .unwrap()
            .contains("exited with status 3"),
        "{retrain}"
    );
    assert!(
        retrain["output"].as_str().unwrap().contains("no GPU"),
        "{retrain}"
    );

    // A command that hangs is killed at its timeout.
    let hanging = drifted(
        "[feedback.retrain]\ncommand = [\"sleep\", \"60\"]\ntimeout_seconds = 1\nmax_attempts = 1\n",
    );
    let retrain = task_when(
        &hanging.server,
        hanging.id,
        "retrain",
        "the timed-out run",
        |t| t["state"] == "failed",
    );
    assert!(
        retrain["last_error"]
            .as_str()
            .unwrap()
            .contains("timed out after 1 s"),
        "{retrain}"
    );
}

#[test]
fn candidates_naming_a_missing_parent_or_another_model_are_refused_on_the_item() {
    let drifted = drifted("min_fresh_labels = 10\n");
    let (server, id) = (&drifted.server, drifted.id.to_string());
    let model = fixture("rainfall/model.onnx");
    let register = |args: &[&str]| {
        bascule()
            .arg("--server")
            .arg(&server.url)
            .args(["models", "register"])
            .args(args)
            .output()
            .unwrap()
    };
    let refused = crate::fails(register(&[
        "rain",
        path(&model),
        "--feedback",
        &id,
        "--parent",
        "99",
    ]));
    assert!(
        refused.contains("parent version 99, which does not exist"),
        "{refused}"
    );
    let refused = crate::fails(register(&["other", path(&model), "--feedback", &id]));
    assert!(
        refused.contains("is about model 'rain', not 'other'"),
        "{refused}"
    );

    // A breast-cancer model (30 inputs) answering the rainfall item registers, waits for
    // labelled traffic newer than the export, then cannot be validated on it: the item
    // says why, and nothing is Improved.
    let other = fixture("logistic/model.onnx");
    run(
        server,
        &[
            "models",
            "register",
            "rain",
            path(&other),
            "--feedback",
            &id,
        ],
    );
    let validate = task_when(
        server,
        drifted.id,
        "validate",
        "the candidate waiting",
        |t| t["state"] == "pending" && t["attempts"].as_i64().unwrap_or(0) >= 1,
    );
    assert!(
        validate["last_error"]
            .as_str()
            .unwrap()
            .contains("waiting for labelled production data"),
        "{validate}"
    );
    for body in drifted_requests(100, 20) {
        assert_eq!(post(&server.url, "/v2/models/rain/infer", &body), 200);
    }
    let labels: Vec<String> = (0..20)
        .map(|i| format!(r#"{{"request_id":"day-{}","label":1}}"#, 12_100 + i))
        .collect();
    let labels = format!("[{}]", labels.join(","));
    assert_eq!(
        post(&server.url, "/api/v1/models/rain/labels", &labels),
        200
    );
    let validate = task_when(
        server,
        drifted.id,
        "validate",
        "the candidate's validation",
        |t| t["state"] == "failed" || t["state"] == "done",
    );
    let shown = history(server, drifted.id);
    assert!(
        shown.contains("parent version 99, which does not exist"),
        "{shown}"
    );
    assert!(
        shown.contains("validating version 2 failed"),
        "{validate}\n{shown}"
    );
    let versions = run(server, &["models", "versions", "rain"]);
    assert!(!versions.contains("Improved"), "{versions}");
}

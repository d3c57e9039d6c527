//! Deployments from the command line against a real server.

use crate::{cli, fails, fixture, ok, path, start_server};

#[test]
fn a_prototype_is_refused_with_its_stage() {
    let server = start_server();
    let listed = ok(cli(&server, &["deployments"]));
    assert!(listed.contains("nothing deployed"), "{listed}");
    assert!(listed.contains("0 shed"), "{listed}");
    ok(cli(
        &server,
        &[
            "models",
            "register",
            "bc",
            path(&fixture("logistic/model.onnx")),
        ],
    ));
    let err = fails(cli(&server, &["deploy", "bc", "1"]));
    assert!(
        err.contains("Prototype") && err.contains("409") && err.contains("bascule validate"),
        "{err}"
    );
    let err = fails(cli(&server, &["deploy", "bc", "1", "--canary", "120"]));
    assert!(err.contains("1 to 99"), "{err}");
    let err = fails(cli(&server, &["rollback", "bc"]));
    assert!(
        err.contains("no canary and no previous live version"),
        "{err}"
    );
    let err = fails(cli(&server, &["undeploy", "bc"]));
    assert!(err.contains("not deployed") && err.contains("404"), "{err}");
    let events = ok(cli(&server, &["models", "events", "bc"]));
    assert!(!events.contains("Deployed"), "{events}");
}

/// POSTs one OIP request over a fresh connection; the status line, or `None` once the
/// server no longer accepts connections.
fn post_infer(url: &str, body: &str) -> Option<String> {
    use std::io::{Read, Write};
    let host = url.strip_prefix("http://").expect("http url");
    let mut stream = std::net::TcpStream::connect(host).ok()?;
    write!(
        stream,
        "POST /v2/models/bc/infer HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.lines().next().map(str::to_owned)
}

#[test]
fn sigterm_drains_requests_and_stores_every_answered_prediction() {
    let mut server = start_server();
    let model = fixture("logistic/model.onnx");
    let holdout = fixture("logistic/holdout.csv");
    ok(cli(&server, &["models", "register", "bc", path(&model)]));
    ok(cli(
        &server,
        &["validate", "bc", "1", "--data", path(&holdout)],
    ));
    ok(cli(&server, &["deploy", "bc", "1"]));

    let row: Vec<String> = std::fs::read_to_string(&holdout)
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .take(30)
        .map(str::to_owned)
        .collect();
    let body = format!(
        r#"{{"inputs":[{{"name":"input","shape":[1,30],"datatype":"FP32","data":[{}]}}]}}"#,
        row.join(",")
    );
    // Clients send until the server stops accepting; each counts the requests answered.
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (url, body) = (server.url.clone(), body.clone());
            std::thread::spawn(move || {
                let mut answered = 0usize;
                let mut other = Vec::new();
                while let Some(status) = post_infer(&url, &body) {
                    if status.contains(" 200 ") {
                        answered += 1;
                    } else {
                        other.push(status);
                    }
                }
                (answered, other)
            })
        })
        .collect();

    // Stop while requests are in flight and records are queued.
    std::thread::sleep(std::time::Duration::from_millis(400));
    let pid = server.child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = server.child.wait().unwrap();
    assert!(status.success(), "the server exited with {status}");
    let mut answered = 0;
    for thread in threads {
        let (count, other) = thread.join().unwrap();
        assert!(
            other.is_empty(),
            "requests that were not answered 200: {other:?}"
        );
        answered += count;
    }
    assert!(
        answered > 50,
        "only {answered} requests answered before the stop"
    );

    let database = format!(
        "sqlite://{}",
        server._dir.path().join("bascule.db").display()
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let stored = runtime.block_on(async {
        use bascule_core::MetadataStore;
        let store = bascule_store::SqlMetadataStore::connect(&database)
            .await
            .unwrap();
        store
            .list_predictions("bc", None, 1_000_000)
            .await
            .unwrap()
            .len()
    });
    assert_eq!(stored, answered, "every answered request is stored");
}

/// Serving settings that do not parse stop `bascule server` before it listens, naming the
/// setting and the value.
#[test]
fn bad_serving_settings_stop_the_server_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "BASCULE_INLINE_BUDGET_US",
            "soon",
            "BASCULE_INLINE_BUDGET_US='soon' is not a number of microseconds",
        ),
        (
            "BASCULE_LOG_GATHER_MS",
            "-1",
            "BASCULE_LOG_GATHER_MS='-1' is not a number of milliseconds",
        ),
        (
            "BASCULE_BATCHING",
            "bc=4",
            "MODEL=MAX_ROWS:MAX_WAIT_MICROSECONDS",
        ),
    ];
    for (variable, value, expected) in cases {
        let mut child = crate::bascule()
            .env(variable, value)
            .args(["server", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                panic!("{variable}={value}: the server started instead of refusing");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        assert!(!status.success(), "{variable}={value}");
        assert!(stderr.contains(expected), "{variable}={value}: {stderr}");
    }
}

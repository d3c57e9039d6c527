//! The binary as a user runs it: a real server on 127.0.0.1 driven by the real CLI.

#![allow(clippy::unwrap_used)]

mod demo;
mod deployments;
mod drift;
mod feedback;
mod mlflow_client;
mod train;
mod ui_browser;
mod validate;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

struct Server {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn bascule() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_bascule"));
    command
        .env_remove("BASCULE_SERVER")
        .env_remove("BASCULE_DATABASE_URL")
        .env_remove("BASCULE_URL")
        .env_remove("BASCULE_EXPORT_PARQUET")
        .env_remove("BASCULE_PARENT_VERSION")
        .env_remove("BASCULE_FEEDBACK_ID")
        .env("BASCULE_ACTOR", "carol");
    command
}

fn start_server() -> Server {
    start_server_with(&[])
}

/// A server with extra environment variables (e.g. another metadata store).
fn start_server_with(environment: &[(&str, &str)]) -> Server {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = bascule()
        .args(["server", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .envs(environment.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the server");
    let stdout = child.stdout.take().expect("stdout");
    // The guard owns the child from here on, so a failed assertion still kills it.
    let mut server = Server {
        child,
        url: String::new(),
        _dir: dir,
    };
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read the ready line");
    let url = line.trim().rsplit(' ').next().expect("url").to_owned();
    assert!(
        url.starts_with("http://127.0.0.1:"),
        "unexpected ready line: {line}"
    );
    server.url = url;
    server
}

fn fixture(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(path)
}

fn cli(server: &Server, args: &[&str]) -> Output {
    bascule()
        .arg("--server")
        .arg(&server.url)
        .args(args)
        .output()
        .expect("run the CLI")
}

fn ok(output: Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

fn fails(output: Output) -> String {
    assert!(
        !output.status.success(),
        "expected failure, got: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn register_every_fixture_and_read_the_event_log() {
    let server = start_server();
    assert!(ok(cli(&server, &["models", "list"])).contains("no models yet"));
    ok(cli(
        &server,
        &[
            "models",
            "create",
            "diabetes",
            "--description",
            "linear regression",
        ],
    ));
    for (name, file) in [
        ("breast-cancer", "logistic"),
        ("breast-cancer", "mlp"),
        ("diabetes", "linear"),
        ("weak", "weak"),
    ] {
        let model = fixture(&format!("{file}/model.onnx"));
        let out = ok(cli(
            &server,
            &[
                "models",
                "register",
                name,
                path(&model),
                "--data-digest",
                "sha256:feed",
            ],
        ));
        assert!(out.contains("Prototype"), "{out}");
    }
    let versions = ok(cli(&server, &["models", "versions", "breast-cancer"]));
    let rows: Vec<&str> = versions.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{versions}");
    assert!(
        rows.iter()
            .all(|row| row.contains("Prototype") && row.contains("carol")),
        "{versions}"
    );

    ok(cli(
        &server,
        &["models", "alias", "breast-cancer", "champion", "1"],
    ));
    let list = ok(cli(&server, &["models", "list"]));
    assert!(
        list.contains("champion=v1") && list.contains("diabetes") && list.contains("weak"),
        "{list}"
    );
    let events = ok(cli(&server, &["models", "events", "breast-cancer"]));
    assert_eq!(
        events
            .lines()
            .filter(|l| l.contains("(new) -> Prototype"))
            .count(),
        2,
        "{events}"
    );
    assert!(events.contains("carol"), "{events}");
}

#[test]
fn register_an_mlflow_model_directory_from_disk() {
    let server = start_server();
    let dir = tempfile::tempdir().unwrap();
    // Register once, then fetch the MLmodel Bascule wrote and register the directory.
    ok(cli(
        &server,
        &[
            "models",
            "register",
            "diabetes",
            path(&fixture("linear/model.onnx")),
        ],
    ));
    let mlmodel = reqwest_get(&format!(
        "{}/api/v1/models/diabetes/versions/1/files/MLmodel",
        server.url
    ));
    std::fs::write(dir.path().join("MLmodel"), mlmodel).unwrap();
    std::fs::copy(fixture("linear/model.onnx"), dir.path().join("model.onnx")).unwrap();
    let out = ok(cli(
        &server,
        &[
            "models",
            "register",
            "diabetes",
            path(dir.path()),
            "--parent",
            "1",
        ],
    ));
    assert!(
        out.contains("version 2") && out.contains("Prototype"),
        "{out}"
    );
}

#[test]
fn bad_input_fails_with_a_message() {
    let server = start_server();
    let err = fails(cli(
        &server,
        &[
            "models",
            "register",
            "gbr",
            path(&fixture("custom_op/model.onnx")),
        ],
    ));
    assert!(
        err.contains("Frobnicate (domain com.example.custom)") && err.contains("not supported"),
        "{err}"
    );
    let err = fails(cli(&server, &["models", "versions", "nope"]));
    assert!(err.contains("nope") && err.contains("404"), "{err}");
    let err = fails(cli(
        &server,
        &["models", "register", "m", "/no/such/file.onnx"],
    ));
    assert!(err.contains("/no/such/file.onnx"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let err = fails(cli(&server, &["models", "register", "m", path(dir.path())]));
    assert!(err.contains("MLmodel"), "{err}");
    ok(cli(&server, &["models", "create", "dup"]));
    let err = fails(cli(&server, &["models", "create", "dup"]));
    assert!(err.contains("already exists"), "{err}");
    let err = fails(cli(&server, &["models", "alias", "dup", "champion", "3"]));
    assert!(err.contains("404"), "{err}");
}

#[test]
fn cli_without_a_server_says_so() {
    let err = fails(
        bascule()
            .args(["--server", "http://127.0.0.1:9", "models", "list"])
            .output()
            .unwrap(),
    );
    assert!(err.contains("cannot reach the Bascule server"), "{err}");
}

#[test]
fn the_server_refuses_to_listen_off_loopback_and_to_open_a_bad_database() {
    let dir = tempfile::tempdir().unwrap();
    let err = fails(
        bascule()
            .args(["server", "--listen", "0.0.0.0:0", "--data-dir"])
            .arg(dir.path())
            .output()
            .unwrap(),
    );
    assert!(err.contains("loopback"), "{err}");
    let err = fails(
        bascule()
            .args(["server", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .env(
                "BASCULE_DATABASE_URL",
                "postgres://postgres@127.0.0.1:1/none",
            )
            .output()
            .unwrap(),
    );
    assert!(err.contains("metadata store"), "{err}");
}

#[test]
fn a_configured_onnxruntime_that_does_not_load_stops_the_start_unless_fallback_is_set() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_library = dir.path().join("libonnxruntime.so");
    std::fs::write(&not_a_library, b"not a shared library").unwrap();
    for library in [dir.path().join("missing.so"), not_a_library] {
        let err = fails(
            bascule()
                .args(["server", "--listen", "127.0.0.1:0", "--data-dir"])
                .arg(dir.path())
                .env("BASCULE_ONNXRUNTIME_LIB", &library)
                .env_remove("BASCULE_ONNXRUNTIME_FALLBACK")
                .output()
                .unwrap(),
        );
        assert!(
            err.contains(&library.display().to_string())
                && err.contains("BASCULE_ONNXRUNTIME_FALLBACK=true"),
            "{err}"
        );
    }
    let err = fails(
        bascule()
            .args(["server", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .env("BASCULE_ENGINE", "cuda")
            .output()
            .unwrap(),
    );
    assert!(err.contains("unknown engine 'cuda'"), "{err}");

    // With the fallback allowed, the server starts on tract alone and says so.
    let mut child = bascule()
        .args(["server", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("BASCULE_ONNXRUNTIME_LIB", dir.path().join("missing.so"))
        .env("BASCULE_ONNXRUNTIME_FALLBACK", "true")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    let read = BufReader::new(child.stdout.take().unwrap()).read_line(&mut line);
    let _ = child.kill();
    let _ = child.wait();
    read.unwrap();
    assert!(line.contains("listening on http://127.0.0.1:"), "{line}");
}

/// A minimal HTTP GET over std, to keep the test free of an HTTP client dependency.
fn reqwest_get(url: &str) -> Vec<u8> {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").expect("http url");
    let (host, path) = rest.split_once('/').expect("path");
    let mut stream = std::net::TcpStream::connect(host).expect("connect");
    write!(
        stream,
        "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("headers end")
        + 4;
    let head = String::from_utf8_lossy(&response[..split]).to_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(!head.contains("transfer-encoding: chunked"), "{head}");
    response[split..].to_vec()
}

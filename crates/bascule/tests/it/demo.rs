//! `bascule demo --no-serve` runs the whole loop on the rainfall data and exits 0.

use crate::{bascule, ok};

#[test]
fn the_demo_runs_the_whole_loop() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let output = bascule()
        .args(["demo", "--no-serve", "--data-dir"])
        .arg(&data)
        .output()
        .expect("run the demo");
    let stdout = ok(output);
    let v2 = stdout
        .lines()
        .rev()
        .find(|line| line.starts_with("v2 "))
        .unwrap_or_else(|| panic!("no v2 row in the tracker:\n{stdout}"));
    assert_eq!(
        v2.matches('✓').count(),
        5,
        "v2 went through every state: {v2}"
    );
    assert!(v2.contains("(live)"), "{v2}");
    assert!(stdout.contains("beats version 1"), "{stdout}");
    assert!(stdout.contains("promoted version 2"), "{stdout}");
    // The directory is ordinary: a second demo refuses to overwrite it unless --fresh.
    let again = bascule()
        .args(["demo", "--no-serve", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(!again.status.success());
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(
        stderr.contains("already holds Bascule data") && stderr.contains("--fresh"),
        "{stderr}"
    );
}

/// Without `--no-serve` the demo keeps serving what it did until Ctrl-C (SIGINT).
#[test]
fn the_demo_then_serves_until_interrupted() {
    use std::io::{BufRead, BufReader, Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = bascule()
        .args(["demo", "--data-dir"])
        .arg(dir.path().join("demo"))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let serving = lines
        .by_ref()
        .map_while(Result::ok)
        .find(|line| line.starts_with("serving at"));
    assert!(serving.is_some(), "the demo never said it was serving");
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "GET /ui/models/rainfall HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut page = String::new();
    stream.read_to_string(&mut page).unwrap();
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("Improved"), "{page}");
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "the demo stops cleanly on Ctrl-C: {status}"
    );
}

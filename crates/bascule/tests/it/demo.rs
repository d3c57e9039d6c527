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

//! The official `mlflow` Python client against the real binary: `scripts/mlflow_client_test.py`
//! in the virtual environment `scripts/mlflow_venv.sh` creates (pinned client, cached
//! outside the clone), on SQLite and, when `BASCULE_TEST_DATABASE_URL` is set, on a fresh
//! PostgreSQL database. Without the environment (no network the first time) the test fails
//! under CI (`CI` set) and is skipped with a loud message elsewhere.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use super::{Server, start_server_with};

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The venv's python, or `None` (after saying why) when it cannot be made outside CI.
fn mlflow_python() -> Option<String> {
    let output = Command::new("bash")
        .arg(repository().join("scripts/mlflow_venv.sh"))
        .stderr(Stdio::inherit())
        .output()
        .expect("run scripts/mlflow_venv.sh");
    let python = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if output.status.success() && !python.is_empty() {
        return Some(python);
    }
    let message = "the MLflow client's virtual environment could not be created \
                   (scripts/mlflow_venv.sh: is PyPI reachable?)";
    if std::env::var_os("CI").is_some() {
        panic!("{message}");
    }
    eprintln!("\n!!!!!!!! SKIPPED the real-client MLflow test: {message} !!!!!!!!\n");
    None
}

fn run_client(python: &str, server: &Server, work: &std::path::Path) {
    let status = Command::new(python)
        .arg(repository().join("scripts/mlflow_client_test.py"))
        .arg("--tracking-uri")
        .arg(&server.url)
        .arg("--bascule")
        .arg(env!("CARGO_BIN_EXE_bascule"))
        .arg("--work-dir")
        .arg(work)
        .env("BASCULE_ACTOR", "carol")
        .env_remove("MLFLOW_TRACKING_URI")
        .status()
        .expect("run the MLflow client script");
    assert!(
        status.success(),
        "the MLflow client script failed: {status}"
    );
}

#[test]
fn the_official_mlflow_client_on_sqlite() {
    let Some(python) = mlflow_python() else {
        return;
    };
    let server = start_server_with(&[]);
    let work = tempfile::tempdir().expect("temp dir");
    run_client(&python, &server, work.path());
}

/// A database created on the configured PostgreSQL server for one test, dropped after.
struct PostgresDatabase {
    admin_url: String,
    name: String,
}

impl PostgresDatabase {
    fn create(admin_url: &str) -> Self {
        let name = format!("bascule_mlflow_{}", std::process::id());
        let database = PostgresDatabase {
            admin_url: admin_url.to_owned(),
            name,
        };
        database.psql(&format!("DROP DATABASE IF EXISTS \"{}\"", database.name));
        database.psql(&format!("CREATE DATABASE \"{}\"", database.name));
        database
    }

    fn url(&self) -> String {
        let (server, _) = self
            .admin_url
            .rsplit_once('/')
            .expect("a URL naming a database");
        format!("{server}/{}", self.name)
    }

    fn psql(&self, sql: &str) {
        let status = Command::new("psql")
            .arg(&self.admin_url)
            .args(["-v", "ON_ERROR_STOP=1", "-q", "-c", sql])
            .status()
            .expect("run psql");
        assert!(status.success(), "psql failed: {sql}");
    }
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .arg(&self.admin_url)
            .args(["-q", "-c"])
            .arg(format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ))
            .status();
    }
}

#[test]
fn the_official_mlflow_client_on_postgres() {
    let Ok(admin_url) = std::env::var("BASCULE_TEST_DATABASE_URL") else {
        return;
    };
    let Some(python) = mlflow_python() else {
        return;
    };
    let database = PostgresDatabase::create(&admin_url);
    let server = start_server_with(&[("BASCULE_DATABASE_URL", &database.url())]);
    let work = tempfile::tempdir().expect("temp dir");
    run_client(&python, &server, work.path());
    drop(server);
}

//! Opening stores; not run per backend, as each test names its own database.

use std::time::{Duration, Instant};

use bascule_core::{Error, ErrorCode, MetadataStore};
use bascule_store::SqlMetadataStore;
use sqlx::{Connection, SqliteConnection};

use crate::fixtures::{assert_error, chain, new_version};

#[tokio::test]
async fn a_database_that_is_down_is_unavailable_and_named_without_its_password() {
    let started = Instant::now();
    let result = SqlMetadataStore::connect("postgres://bascule:hunter2@127.0.0.1:1/metadata").await;
    let error = assert_error(result, ErrorCode::Unavailable, &["metadata store"]);
    assert!(matches!(
        error,
        Error::Unavailable {
            what: "metadata store",
            ..
        }
    ));
    let chain = chain(&error);
    assert!(
        chain.contains("127.0.0.1:1/metadata"),
        "the host is named: {chain}"
    );
    assert!(!chain.contains("hunter2"), "the password is not: {chain}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "fails fast: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_sqlite_store_is_created_with_its_directory_and_reopened() {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let data = directory.path().join("nested").join("data dir");
    let store = SqlMetadataStore::sqlite_in(&data).await.expect("created");
    store.ping().await.expect("reachable");
    store
        .create_model_version(new_version("churn"))
        .await
        .expect("registered");
    assert!(format!("{store:?}").contains("bascule.db"));
    store.close().await;

    let reopened = SqlMetadataStore::sqlite_in(&data)
        .await
        .expect("reopened, migrations idempotent");
    assert_eq!(
        reopened
            .list_model_versions("churn")
            .await
            .expect("kept")
            .len(),
        1
    );
    reopened.close().await;

    let url = format!("sqlite://{}?mode=ro", data.join("bascule.db").display());
    let mut connection = SqliteConnection::connect(&url).await.expect("opens");
    let journal_mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut connection)
        .await
        .expect("reads");
    assert_eq!(journal_mode, "wal");
    connection.close().await.expect("closes");
}

#[tokio::test]
async fn sqlite_urls_create_missing_files_and_read_only_ones_do_not() {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let path = directory.path().join("deep").join("meta.db");
    let store = SqlMetadataStore::connect(&format!("sqlite://{}", path.display()))
        .await
        .expect("created");
    assert!(path.exists());
    store.close().await;

    let missing = directory.path().join("missing.db");
    let read_only =
        SqlMetadataStore::connect(&format!("sqlite://{}?mode=ro", missing.display())).await;
    assert_error(read_only, ErrorCode::Unavailable, &[]);
    assert!(!missing.exists());
}

#[tokio::test]
async fn unsupported_urls_are_invalid_arguments() {
    let mysql = SqlMetadataStore::connect("mysql://root:pw@localhost/db").await;
    let error = assert_error(mysql, ErrorCode::InvalidArgument, &["'mysql'"]);
    assert!(!error.to_string().contains("pw"));
    let memory = SqlMetadataStore::connect("sqlite::memory:").await;
    assert_error(memory, ErrorCode::InvalidArgument, &["in-memory"]);
}

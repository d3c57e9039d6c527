//! Runs one test body against each backend.

use std::future::Future;

use bascule_store::SqlMetadataStore;
use sqlx::{Connection, Executor, PgConnection};

/// The PostgreSQL server to test against, as an admin URL
/// (`postgres://postgres@127.0.0.1:5432/test`); unset, only SQLite is tested.
const DATABASE_URL_VARIABLE: &str = "BASCULE_TEST_DATABASE_URL";

/// Runs `test` on a fresh SQLite store, then on a fresh PostgreSQL database if one is
/// configured. The PostgreSQL database is dropped afterwards, pass or fail.
pub async fn each_backend<F, Fut>(test: F)
where
    F: Fn(SqlMetadataStore) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let directory = tempfile::tempdir().expect("a temporary directory");
    let store = SqlMetadataStore::sqlite_in(directory.path())
        .await
        .expect("SQLite store opens");
    eprintln!("--- on SQLite");
    test(store.clone()).await;
    store.close().await;

    let Ok(admin_url) = std::env::var(DATABASE_URL_VARIABLE) else {
        return;
    };
    eprintln!("--- on PostgreSQL");
    let database = PostgresDatabase::create(&admin_url).await;
    let store = SqlMetadataStore::connect(&database.url)
        .await
        .expect("PostgreSQL store opens");
    let outcome = tokio::spawn(test(store.clone())).await;
    store.close().await;
    database.drop().await;
    if let Err(error) = outcome {
        match error.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(error) => panic!("the PostgreSQL run did not finish: {error}"),
        }
    }
}

/// A database created for one test on the configured server.
struct PostgresDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl PostgresDatabase {
    async fn create(admin_url: &str) -> Self {
        let name = format!("bascule_t_{}", uuid::Uuid::new_v4().simple());
        let mut admin = admin_connection(admin_url).await;
        admin
            .execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
            .await
            .expect("a test database can be created");
        admin.close().await.expect("closes");
        let url = with_database(admin_url, &name);
        PostgresDatabase {
            admin_url: admin_url.to_owned(),
            name,
            url,
        }
    }

    async fn drop(self) {
        let mut admin = admin_connection(&self.admin_url).await;
        admin
            .execute(format!(r#"DROP DATABASE IF EXISTS "{}" WITH (FORCE)"#, self.name).as_str())
            .await
            .expect("the test database can be dropped");
        admin.close().await.expect("closes");
    }
}

async fn admin_connection(admin_url: &str) -> PgConnection {
    PgConnection::connect(admin_url)
        .await
        .unwrap_or_else(|error| {
            panic!("{DATABASE_URL_VARIABLE} is set but PostgreSQL cannot be reached: {error}")
        })
}

/// `url` with its database replaced by `database`, query kept.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, ""), |(base, query)| (base, query));
    let authority_start = base.find("://").map_or(0, |position| position + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    format!("{base}/{database}{query}")
}

#[test]
fn database_names_are_swapped_in_urls() {
    assert_eq!(
        with_database("postgres://u@h:5432/test", "x"),
        "postgres://u@h:5432/x"
    );
    assert_eq!(
        with_database("postgres://u@h/test?sslmode=disable", "x"),
        "postgres://u@h/x?sslmode=disable"
    );
    assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
}

/// Runs `test` with the URL of a fresh, empty SQLite database, then of a fresh PostgreSQL
/// database if one is configured: for tests that build a schema by hand (an older one,
/// say) before the store opens it.
pub async fn each_empty_database<F, Fut>(test: F)
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let directory = tempfile::tempdir().expect("a temporary directory");
    let path = directory.path().join("bascule.db");
    eprintln!("--- on SQLite");
    test(format!("sqlite:{}?mode=rwc", path.display())).await;

    let Ok(admin_url) = std::env::var(DATABASE_URL_VARIABLE) else {
        return;
    };
    eprintln!("--- on PostgreSQL");
    let database = PostgresDatabase::create(&admin_url).await;
    let outcome = tokio::spawn(test(database.url.clone())).await;
    database.drop().await;
    if let Err(error) = outcome {
        match error.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(error) => panic!("the PostgreSQL run did not finish: {error}"),
        }
    }
}

//! Opening the metadata database: choosing the backend by URL scheme, creating a SQLite
//! file and its directory, tuning every connection, and bringing the schema up to date.

use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use bascule_core::Error;
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Any, AnyConnection, AnyPool, Connection, Executor, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::error::{Result, StoreError};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// How long a query waits for a pooled connection before the store reports itself
/// unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Run on every SQLite connection. Foreign keys and the busy timeout are per connection;
/// WAL (set once per file, in `open`) lets readers proceed while one writer writes, and
/// makes `synchronous = NORMAL` safe. `temp_store = MEMORY` keeps a statement's undo
/// journal in memory: a multi-row insert inside a transaction writes one, and past 64 KiB
/// SQLite moved it to a temporary file it created, wrote and deleted per statement (7% of
/// the time spent logging metrics). It holds nothing that must survive a crash.
const SQLITE_CONNECTION_PRAGMAS: &str = "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
     PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY;";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

/// The metadata store on SQLite (one file, the default) or PostgreSQL (for teams and
/// replicas): one schema, one set of SQL statements, the backend chosen by URL scheme.
/// Cloning is cheap and shares the connection pool.
#[derive(Clone)]
pub struct SqlMetadataStore {
    pub(crate) pool: AnyPool,
    backend: Backend,
    /// The database named without credentials, for messages and `Debug`.
    target: String,
    /// SQLite: this process's writers take turns here, first come first served, before
    /// they ask SQLite for its write lock (see `begin_write`). `None` on PostgreSQL.
    write_turns: Option<Arc<Mutex<()>>>,
}

impl std::fmt::Debug for SqlMetadataStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlMetadataStore")
            .field("backend", &self.backend)
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl SqlMetadataStore {
    /// Opens the store at `url` and brings its schema up to date.
    ///
    /// `sqlite://path/to/file.db` (or `sqlite:path`) creates the file and its directory if
    /// they are missing, unless the URL asks for another `mode`; `postgres://…` connects to
    /// an existing database. A database that cannot be reached is `Error::Unavailable`,
    /// whose source names the host (never the password).
    pub async fn connect(url: &str) -> bascule_core::Result<Self> {
        Ok(open(url).await?)
    }

    /// Opens (creating if needed) the SQLite database `dir/bascule.db`.
    pub async fn sqlite_in(dir: &Path) -> bascule_core::Result<Self> {
        let path = dir.join("bascule.db");
        let path = path.to_str().ok_or_else(|| {
            Error::invalid(format!(
                "the data directory {} is not valid UTF-8",
                dir.display()
            ))
        })?;
        Self::connect(&format!("sqlite:{}?mode=rwc", escape_sqlite_path(path))).await
    }

    /// Closes every pooled connection, waiting for queries in flight.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Starts a transaction that will write.
    ///
    /// On SQLite a writer first waits for its turn among this process's writers, in
    /// arrival order, and only then takes a connection and SQLite's write lock. Left to
    /// SQLite alone, a waiting writer sleeps in its busy handler and retries, while one
    /// that writes back to back (the prediction log under load) takes the lock again at
    /// each commit: a rollback waited 1.5 s that way. Other processes on the same file
    /// still meet the busy timeout.
    pub(crate) async fn begin_write(&self) -> Result<WriteTransaction> {
        let turn = match &self.write_turns {
            Some(turns) => Some(turns.clone().lock_owned().await),
            None => None,
        };
        let transaction = match self.backend {
            // Take SQLite's write lock up front: a deferred transaction that reads and then
            // writes fails at once with SQLITE_BUSY if another writer committed meanwhile,
            // whereas BEGIN IMMEDIATE waits for the busy timeout.
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            // PostgreSQL serialises conflicting writers with row locks; the statements that
            // need one take it first (see `versions::create` and `lifecycle::transition`).
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(WriteTransaction {
            transaction,
            _turn: turn,
        })
    }

    /// Whether the database is SQLite (for the few statements the dialects spell apart).
    pub(crate) fn is_sqlite(&self) -> bool {
        self.backend == Backend::Sqlite
    }

    pub(crate) async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

async fn open(url: &str) -> Result<SqlMetadataStore> {
    sqlx::any::install_default_drivers();
    let target = Target::parse(url)?;
    if let Some(directory) = &target.directory_to_create {
        std::fs::create_dir_all(directory).map_err(|source| StoreError::CreateDirectory {
            path: directory.display().to_string(),
            source,
        })?;
    }
    let unreachable = |source| StoreError::Connect {
        target: target.display.clone(),
        source,
    };

    // One connection first: it fails fast with the real cause (the pool would retry a
    // refused connection until its timeout and then report only the timeout).
    let mut connection = AnyConnection::connect(&target.url)
        .await
        .map_err(unreachable)?;
    let migrations = match target.backend {
        Backend::Sqlite => {
            connection.execute("PRAGMA journal_mode = WAL").await?;
            connection.execute(SQLITE_CONNECTION_PRAGMAS).await?;
            &SQLITE_MIGRATIONS
        }
        Backend::Postgres => &POSTGRES_MIGRATIONS,
    };
    migrations.run(&mut connection).await?;
    connection.close().await?;

    let options = AnyPoolOptions::new().acquire_timeout(ACQUIRE_TIMEOUT);
    let options = match target.backend {
        Backend::Sqlite => options.max_connections(8).after_connect(|connection, _| {
            Box::pin(async move {
                connection.execute(SQLITE_CONNECTION_PRAGMAS).await?;
                Ok(())
            })
        }),
        Backend::Postgres => options.max_connections(16),
    };
    let pool = options.connect(&target.url).await.map_err(unreachable)?;
    let store = SqlMetadataStore {
        pool,
        backend: target.backend,
        target: target.display,
        write_turns: (target.backend == Backend::Sqlite).then(|| Arc::new(Mutex::new(()))),
    };
    crate::predictions::move_legacy_rows(&store).await?;
    tracing::info!(target = %store.target, "metadata store opened");
    Ok(store)
}

/// A transaction that writes, holding its writer's turn (SQLite) until it ends. It reads
/// and writes as the connection it runs on.
pub(crate) struct WriteTransaction {
    // Declared first, so it is dropped (and an uncommitted transaction rolled back) before
    // the next writer's turn begins.
    transaction: Transaction<'static, Any>,
    _turn: Option<OwnedMutexGuard<()>>,
}

impl WriteTransaction {
    pub(crate) async fn commit(self) -> Result<()> {
        self.transaction.commit().await?;
        Ok(())
    }
}

impl Deref for WriteTransaction {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        &self.transaction
    }
}

impl DerefMut for WriteTransaction {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.transaction
    }
}

/// A database URL, understood.
#[derive(Debug)]
struct Target {
    backend: Backend,
    /// What the driver connects to.
    url: String,
    /// The database named without credentials.
    display: String,
    /// The directory a new SQLite file will be created in.
    directory_to_create: Option<PathBuf>,
}

impl Target {
    fn parse(url: &str) -> Result<Self> {
        // Only the scheme is ever echoed back: the rest may hold a password.
        let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
        match scheme {
            "sqlite" => Self::sqlite(url),
            "postgres" | "postgresql" => Self::postgres(url),
            _ => Err(Error::invalid(format!(
                "unsupported metadata store URL scheme '{scheme}': expected sqlite:path or \
                 postgres://host/database"
            ))
            .into()),
        }
    }

    fn sqlite(url: &str) -> Result<Self> {
        let rest = url.trim_start_matches("sqlite:");
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut params: Vec<&str> = query.split('&').filter(|param| !param.is_empty()).collect();
        if path.trim_start_matches("//") == ":memory:" || params.contains(&"mode=memory") {
            return Err(Error::invalid(
                "an in-memory SQLite metadata store is not supported (each pooled connection \
                 would see its own empty database); use a file",
            )
            .into());
        }
        if path.trim_start_matches("//").is_empty() {
            return Err(Error::invalid("the SQLite URL names no database file").into());
        }
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|error| Error::invalid(format!("invalid SQLite URL: {error}")))?;
        let file = options.get_filename().to_path_buf();
        if !params.iter().any(|param| param.starts_with("mode=")) {
            params.push("mode=rwc");
        }
        let directory_to_create = params
            .contains(&"mode=rwc")
            .then(|| file.parent().map(Path::to_path_buf))
            .flatten()
            .filter(|directory| !directory.as_os_str().is_empty());
        let file_name = file.to_str().ok_or_else(|| {
            Error::invalid(format!(
                "the SQLite path {} is not valid UTF-8",
                file.display()
            ))
        })?;
        Ok(Target {
            backend: Backend::Sqlite,
            // `sqlite:path`, never `sqlite://path`: a URL parser would read a relative
            // path's first segment as a host name and lower-case it.
            url: format!(
                "sqlite:{}?{}",
                escape_sqlite_path(file_name),
                params.join("&")
            ),
            display: format!("sqlite:{}", file.display()),
            directory_to_create,
        })
    }

    fn postgres(url: &str) -> Result<Self> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|error| Error::invalid(format!("invalid PostgreSQL URL: {error}")))?;
        let display = format!(
            "postgres://{}:{}/{}",
            options.get_host(),
            options.get_port(),
            options.get_database().unwrap_or_default()
        );
        Ok(Target {
            backend: Backend::Postgres,
            url: url.to_owned(),
            display,
            directory_to_create: None,
        })
    }
}

/// Escapes what the SQLite URL parser would read as syntax (it percent-decodes the path
/// and splits it from the query at `?`).
fn escape_sqlite_path(path: &str) -> String {
    path.replace('%', "%25")
        .replace('?', "%3F")
        .replace('#', "%23")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> Target {
        Target::parse(url).expect("a valid URL")
    }

    #[test]
    fn sqlite_urls_create_the_file_unless_told_otherwise() {
        let target = parse("sqlite:///var/lib/bascule/meta.db");
        assert_eq!(target.url, "sqlite:/var/lib/bascule/meta.db?mode=rwc");
        assert_eq!(
            target.directory_to_create,
            Some(PathBuf::from("/var/lib/bascule"))
        );
        let target = parse("sqlite://Data/meta.db?mode=ro");
        assert_eq!(target.url, "sqlite:Data/meta.db?mode=ro");
        assert_eq!(target.directory_to_create, None);
        assert_eq!(parse("sqlite:meta.db").directory_to_create, None);
    }

    #[test]
    fn awkward_sqlite_paths_survive_the_round_trip() {
        let target = parse(&format!("sqlite:{}", escape_sqlite_path("/tmp/a?b#c%d.db")));
        let options = SqliteConnectOptions::from_str(&target.url).expect("parses");
        assert_eq!(options.get_filename(), Path::new("/tmp/a?b#c%d.db"));
    }

    #[test]
    fn postgres_targets_never_show_the_password() {
        let target = parse("postgres://alice:s3cret@db.example:6432/bascule?sslmode=disable");
        assert_eq!(target.display, "postgres://db.example:6432/bascule");
        assert!(
            !format!("{target:?}")
                .replace(&target.url, "")
                .contains("s3cret")
        );
    }

    #[test]
    fn other_schemes_and_memory_are_refused() {
        let error = Error::from(Target::parse("mysql://root:pw@host/db").expect_err("mysql"));
        assert!(error.to_string().contains("'mysql'") && !error.to_string().contains("pw"));
        assert!(Target::parse("sqlite::memory:").is_err());
        assert!(Target::parse("sqlite://?mode=memory").is_err());
        assert!(Target::parse("sqlite://").is_err());
    }

    /// A writer that waits gets the next turn, even against one that commits and at once
    /// begins again (the prediction log under load): left to SQLite's busy handler, the
    /// waiter slept while the other writer took the lock back, and a rollback waited 1.5 s.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_writers_take_turns_in_arrival_order() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqlMetadataStore::sqlite_in(dir.path())
            .await
            .expect("store");
        sqlx::query("CREATE TABLE turns (who TEXT NOT NULL)")
            .execute(&store.pool)
            .await
            .expect("table");
        let write = |who: &'static str| {
            let store = store.clone();
            async move {
                let mut tx = store.begin_write().await.expect("begin");
                sqlx::query("INSERT INTO turns (who) VALUES ($1)")
                    .bind(who)
                    .execute(&mut *tx)
                    .await
                    .expect("insert");
                tx
            }
        };
        let first = write("first").await;
        let waiting = tokio::spawn({
            let waiter = write("waiter");
            async move { waiter.await.commit().await.expect("commit") }
        });
        // Long enough for the waiter to be waiting for its turn.
        tokio::time::sleep(Duration::from_millis(250)).await;
        first.commit().await.expect("commit");
        write("again").await.commit().await.expect("commit");
        waiting.await.expect("waiter");
        let order: Vec<String> = sqlx::query_scalar("SELECT who FROM turns ORDER BY rowid")
            .fetch_all(&store.pool)
            .await
            .expect("order");
        assert_eq!(order, ["first", "waiter", "again"]);
    }
}

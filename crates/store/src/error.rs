//! The store's error type, and the one place where a database failure becomes a
//! `bascule_core::Error`: unreachable database → `Unavailable`, unique violation →
//! `AlreadyExists`, anything else → `Internal` with the cause kept as its source.

use std::fmt::Display;

use bascule_core::Error;
use sqlx::error::DatabaseError;
use sqlx::postgres::PgDatabaseError;
use sqlx::sqlite::SqliteError;

/// What the store reports while it works; converted to `bascule_core::Error` at the port.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError {
    /// A decision in domain words (not found, already exists, illegal transition, …).
    #[error(transparent)]
    Domain(#[from] Error),
    #[error("cannot connect to the metadata database at {target}")]
    Connect {
        /// The database, named without credentials.
        target: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot create the directory of the SQLite database {path}")]
    CreateDirectory {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot bring the metadata schema up to date")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("metadata database query failed")]
    Database(#[from] sqlx::Error),
    #[error("the metadata database holds a value Bascule cannot read: {what}")]
    Corrupt { what: String },
}

pub(crate) type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The `what` of every `Error::Unavailable` this crate reports.
const METADATA_STORE: &str = "metadata store";

impl From<StoreError> for Error {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Domain(error) => error,
            StoreError::Database(source) => from_sqlx(source),
            StoreError::Connect { .. } => Error::Unavailable {
                what: METADATA_STORE,
                source: Box::new(error),
            },
            StoreError::CreateDirectory { .. }
            | StoreError::Migrate(_)
            | StoreError::Corrupt { .. } => Error::Internal {
                what: "the metadata store failed".to_owned(),
                source: Some(Box::new(error)),
            },
        }
    }
}

fn from_sqlx(error: sqlx::Error) -> Error {
    if is_unavailable(&error) {
        return Error::Unavailable {
            what: METADATA_STORE,
            source: Box::new(error),
        };
    }
    if let Some(database_error) = error.as_database_error()
        && database_error.is_unique_violation()
    {
        // Call sites that expect a duplicate name say which one (`or_already_exists`);
        // this is the fallback for any other constraint.
        let constraint = database_error
            .constraint()
            .unwrap_or("unique constraint")
            .to_owned();
        return Error::AlreadyExists {
            kind: "record",
            id: constraint,
        };
    }
    Error::Internal {
        what: "metadata database query failed".to_owned(),
        source: Some(Box::new(error)),
    }
}

/// Whether the failure is the database being out of reach (worth retrying later) rather
/// than something wrong with the request or the data.
fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(database_error) => is_unavailable_database_error(&**database_error),
        _ => false,
    }
}

fn is_unavailable_database_error(error: &dyn DatabaseError) -> bool {
    if let Some(error) = error.try_downcast_ref::<PgDatabaseError>() {
        // SQLSTATE classes: 08 connection exception, 53 insufficient resources, 57P
        // operator intervention (shutdown, restart); 3D000: the database does not exist.
        let code = error.code();
        return code.starts_with("08")
            || code.starts_with("53")
            || code.starts_with("57P")
            || code == "3D000";
    }
    if let Some(error) = error.try_downcast_ref::<SqliteError>() {
        // Extended result codes keep the primary code in the low byte:
        // SQLITE_BUSY (5), SQLITE_LOCKED (6), SQLITE_CANTOPEN (14).
        let code = error
            .code()
            .and_then(|code| code.parse::<i32>().ok())
            .unwrap_or(0);
        return matches!(code & 0xff, 5 | 6 | 14);
    }
    false
}

/// Turns a unique violation into `AlreadyExists { kind, id }`; other errors pass through.
pub(crate) trait OrAlreadyExists<T> {
    fn or_already_exists(self, kind: &'static str, id: impl Display) -> Result<T>;
}

impl<T> OrAlreadyExists<T> for Result<T, sqlx::Error> {
    fn or_already_exists(self, kind: &'static str, id: impl Display) -> Result<T> {
        self.map_err(|error| match error.as_database_error() {
            Some(database_error) if database_error.is_unique_violation() => {
                StoreError::Domain(Error::already_exists(kind, id))
            }
            _ => StoreError::Database(error),
        })
    }
}

/// Reads a stored enum value (a stage, a status, …), refusing values this build of
/// Bascule does not know (a newer build may have written them).
pub(crate) fn parse_stored<T>(
    column: &str,
    value: &str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<T> {
    parse(value).ok_or_else(|| StoreError::Corrupt {
        what: format!("{column} = '{value}'"),
    })
}

/// Reads a stored number that must fit another integer type (a file size, …).
pub(crate) fn convert_stored<T: TryFrom<i64>>(column: &str, value: i64) -> Result<T> {
    T::try_from(value).map_err(|_| StoreError::Corrupt {
        what: format!("{column} = {value}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bascule_core::{Coded, ErrorCode};

    #[test]
    fn lost_connections_are_unavailable() {
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        for error in [
            sqlx::Error::Io(refused),
            sqlx::Error::PoolTimedOut,
            sqlx::Error::PoolClosed,
        ] {
            let error = Error::from(StoreError::Database(error));
            assert_eq!(error.code(), ErrorCode::Unavailable, "{error}");
            assert_eq!(error.to_string(), "metadata store is unavailable");
        }
    }

    #[test]
    fn other_failures_are_internal_with_their_cause() {
        let error = Error::from(StoreError::Database(sqlx::Error::RowNotFound));
        assert_eq!(error.code(), ErrorCode::Internal);
        let source = std::error::Error::source(&error).map(ToString::to_string);
        assert!(
            source.is_some_and(|source| source.contains("no rows")),
            "{error:?}"
        );
    }

    #[test]
    fn unknown_stored_values_are_reported_with_their_column() {
        let error = parse_stored("stage", "Production", |s| {
            s.parse::<bascule_core::Stage>().ok()
        })
        .expect_err("not a stage");
        assert!(
            error.to_string().contains("stage = 'Production'"),
            "{error}"
        );
        assert!(convert_stored::<u64>("size", -1).is_err());
    }
}

//! Multi-row statements: a batch of a thousand metrics costs a couple of round trips, not
//! a thousand. Placeholders are `$N`, which both PostgreSQL and SQLite accept.

use std::collections::BTreeMap;
use std::fmt::Write;

use bascule_core::Tag;
use sqlx::any::AnyArguments;
use sqlx::error::BoxDynError;
use sqlx::{AnyConnection, Arguments};

use crate::error::Result;

/// Bound parameters per statement. sqlx asks SQLite for every parameter's name when it
/// binds, and SQLite finds a *numbered* parameter's name (`$7`) by walking the list of the
/// statement's names, so binding `$N` placeholders costs the square of their number: 5,000
/// of them (500 rows of 10 columns) spent a third of a loaded server's CPU in
/// `sqlite3_bind_parameter_name`. Multi-row inserts therefore use anonymous `?`
/// placeholders on SQLite (no names, no walk: see [`Placeholders`]); the other statements
/// keep `$N` and a few hundred parameters keep their cost negligible.
const PARAMETERS_PER_STATEMENT: usize = 240;

/// Bound parameters per multi-row insert on SQLite, where its placeholders are anonymous:
/// more rows per statement, fewer statements per batch. (SQLite allows 32,766.)
const SQLITE_INSERT_PARAMETERS: usize = 960;

/// How a multi-row statement spells its placeholders: `$N` (PostgreSQL, and SQLite
/// statements that refer to a parameter twice) or `?`, bound in order (SQLite only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Placeholders {
    Numbered,
    Anonymous,
}

impl Placeholders {
    /// What `insert_rows` uses on `connection`: `?` on SQLite, `$N` elsewhere.
    fn for_inserts(connection: &AnyConnection) -> Self {
        if connection.backend_name() == SQLITE {
            Placeholders::Anonymous
        } else {
            Placeholders::Numbered
        }
    }

    fn per_statement(self) -> usize {
        match self {
            Placeholders::Numbered => PARAMETERS_PER_STATEMENT,
            Placeholders::Anonymous => SQLITE_INSERT_PARAMETERS,
        }
    }
}

/// sqlx's name for the SQLite backend of an `AnyConnection`.
const SQLITE: &str = "SQLite";

/// Rows per statement of `n_columns` parameters each (at least one).
fn rows_per_statement(placeholders: Placeholders, n_columns: usize) -> usize {
    (placeholders.per_statement() / n_columns.max(1)).max(1)
}

/// Values in one `IN (…)` list.
pub(crate) const ROWS_PER_STATEMENT: usize = PARAMETERS_PER_STATEMENT;

/// `($1, $2), ($3, $4), …`: `n_rows` groups of `n_columns` placeholders, numbered after
/// the `n_bound` arguments the statement already has; or `(?, ?), (?, ?), …` for
/// [`Placeholders::Anonymous`] (which must then be the statement's only placeholders).
fn placeholder_rows(
    placeholders: Placeholders,
    n_rows: usize,
    n_columns: usize,
    n_bound: usize,
) -> String {
    let mut sql = String::with_capacity(n_rows * n_columns * 5);
    for row in 0..n_rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..n_columns {
            let separator = if column == 0 { "" } else { ", " };
            match placeholders {
                Placeholders::Anonymous => {
                    sql.push_str(separator);
                    sql.push('?');
                }
                Placeholders::Numbered => {
                    let number = n_bound + row * n_columns + column + 1;
                    // Writing to a String cannot fail.
                    let _ = write!(sql, "{separator}${number}");
                }
            }
        }
        sql.push(')');
    }
    sql
}

/// `$2, $3, …`: `n` placeholders for an `IN (…)` list, numbered after `n_bound`.
pub(crate) fn placeholder_list(n: usize, n_bound: usize) -> String {
    (n_bound + 1..=n_bound + n)
        .map(|number| format!("${number}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs `{insert} VALUES (…), (…) {on_conflict}` over `rows`, a few hundred parameters
/// per statement; `bind` adds one row's `n_columns` arguments. `insert` and `on_conflict`
/// must have no placeholders of their own: on SQLite the rows' are anonymous `?`. Returns
/// the rows affected.
pub(crate) async fn insert_rows<'a, T>(
    connection: &mut AnyConnection,
    insert: &str,
    on_conflict: &str,
    n_columns: usize,
    rows: &'a [T],
    mut bind: impl FnMut(&mut AnyArguments<'a>, &'a T) -> Result<(), BoxDynError>,
) -> Result<u64> {
    let placeholders = Placeholders::for_inserts(connection);
    let mut n_affected = 0;
    for chunk in rows.chunks(rows_per_statement(placeholders, n_columns)) {
        let sql = format!(
            "{insert} VALUES {} {on_conflict}",
            placeholder_rows(placeholders, chunk.len(), n_columns, 0)
        );
        let mut arguments = AnyArguments::default();
        for row in chunk {
            bind(&mut arguments, row).map_err(sqlx::Error::Encode)?;
        }
        let result = sqlx::query_with(&sql, arguments)
            .execute(&mut *connection)
            .await?;
        n_affected += result.rows_affected();
    }
    Ok(n_affected)
}

/// Upserts `(owner…, key, value)` tag rows: `insert` names the table and columns, the
/// owner's columns first; `bind_owner` adds the owner's arguments for each row.
pub(crate) async fn upsert_tags<'a>(
    connection: &mut AnyConnection,
    insert: &str,
    conflict_columns: &str,
    n_owner_columns: usize,
    tags: &'a [&'a Tag],
    mut bind_owner: impl FnMut(&mut AnyArguments<'a>) -> Result<(), BoxDynError>,
) -> Result<()> {
    let on_conflict =
        format!("ON CONFLICT ({conflict_columns}) DO UPDATE SET value = excluded.value");
    insert_rows(
        connection,
        insert,
        &on_conflict,
        n_owner_columns + 2,
        tags,
        |arguments, tag| {
            bind_owner(arguments)?;
            arguments.add(tag.key.as_str())?;
            arguments.add(tag.value.as_str())
        },
    )
    .await?;
    Ok(())
}

/// The tags of a request with one value per key, the last given winning (a single
/// PostgreSQL upsert may not touch a row twice), sorted by key.
pub(crate) fn last_value_per_key(tags: &[Tag]) -> Vec<&Tag> {
    let by_key: BTreeMap<&str, &Tag> = tags.iter().map(|tag| (tag.key.as_str(), tag)).collect();
    by_key.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_rows_then_columns() {
        let numbered = Placeholders::Numbered;
        assert_eq!(
            placeholder_rows(numbered, 2, 3, 0),
            "($1, $2, $3), ($4, $5, $6)"
        );
        assert_eq!(placeholder_rows(numbered, 1, 2, 3), "($4, $5)");
        assert_eq!(placeholder_list(3, 1), "$2, $3, $4");
        assert_eq!(
            placeholder_rows(Placeholders::Anonymous, 2, 2, 0),
            "(?, ?), (?, ?)"
        );
        assert_eq!(rows_per_statement(Placeholders::Anonymous, 10), 96);
        assert_eq!(rows_per_statement(numbered, 10), 24);
    }

    #[test]
    fn the_last_tag_of_a_key_wins() {
        let tag = |key: &str, value: &str| Tag {
            key: key.into(),
            value: value.into(),
        };
        let tags = [tag("b", "1"), tag("a", "2"), tag("b", "3")];
        let kept: Vec<_> = last_value_per_key(&tags).into_iter().cloned().collect();
        assert_eq!(kept, [tag("a", "2"), tag("b", "3")]);
    }
}

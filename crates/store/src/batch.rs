//! Multi-row statements: a batch of a thousand metrics costs a couple of round trips, not
//! a thousand. Placeholders are `$N`, which both PostgreSQL and SQLite accept.

use std::collections::BTreeMap;
use std::fmt::Write;

use bascule_core::Tag;
use sqlx::any::AnyArguments;
use sqlx::error::BoxDynError;
use sqlx::{AnyConnection, Arguments};

use crate::error::Result;

/// Bound parameters per multi-row `INSERT`. On SQLite the rows use anonymous `?`
/// placeholders: sqlx asks SQLite for every parameter's name when it binds, and SQLite
/// finds a name by walking the statement's list of named parameters, so `$N` made binding
/// quadratic (at 240 `$N` parameters, 15% of the server's time logging metrics was in
/// `sqlite3_bind_parameter_name`). Without names a statement can be larger, which saves a
/// round trip to the connection's thread per statement; PostgreSQL allows 65,535.
const INSERT_PARAMETERS_PER_STATEMENT: usize = 960;

/// Values in one `IN (…)` list (numbered `$N`, so kept to a few hundred on SQLite).
pub(crate) const ROWS_PER_STATEMENT: usize = 240;

/// Rows per `INSERT` of `n_columns` parameters each (at least one).
pub(crate) fn rows_per_statement(n_columns: usize) -> usize {
    (INSERT_PARAMETERS_PER_STATEMENT / n_columns.max(1)).max(1)
}

/// The sizes `n_rows` is written in: full statements, then the rest in powers of two
/// (1,000 rows of 160 at most: 160 × 6, 32, 8). Each connection keeps every statement
/// text it prepared (sqlx caches a hundred), and a 160-row insert holds about 120 KB
/// prepared, so a few sizes per table rather than one per possible remainder.
pub(crate) fn statement_sizes(n_rows: usize, n_columns: usize) -> Vec<usize> {
    let full = rows_per_statement(n_columns);
    let mut sizes = vec![full; n_rows / full];
    let rest = n_rows % full;
    let mut bit = full.next_power_of_two();
    while bit > 0 {
        if rest & bit != 0 {
            sizes.push(bit);
        }
        bit >>= 1;
    }
    sizes
}

/// `($1, $2), ($3, $4), …`: `n_rows` groups of `n_columns` placeholders, numbered after
/// the `n_bound` arguments the statement already has; with `anonymous`, `(?, ?), (?, ?)`
/// (SQLite binds those in order without looking up names).
pub(crate) fn placeholder_rows(
    n_rows: usize,
    n_columns: usize,
    n_bound: usize,
    anonymous: bool,
) -> String {
    let mut sql = String::with_capacity(n_rows * n_columns * 5);
    for row in 0..n_rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..n_columns {
            if column > 0 {
                sql.push_str(", ");
            }
            if anonymous {
                sql.push('?');
            } else {
                let number = n_bound + row * n_columns + column + 1;
                // Writing to a String cannot fail.
                let _ = write!(sql, "${number}");
            }
        }
        sql.push(')');
    }
    sql
}

/// Whether the connection is SQLite's (the dialects agree on everything `batch` writes
/// but the placeholders it prefers).
pub(crate) fn is_sqlite(connection: &AnyConnection) -> bool {
    connection.backend_name() == <sqlx::Sqlite as sqlx::Database>::NAME
}

/// `$2, $3, …`: `n` placeholders for an `IN (…)` list, numbered after `n_bound`.
pub(crate) fn placeholder_list(n: usize, n_bound: usize) -> String {
    (n_bound + 1..=n_bound + n)
        .map(|number| format!("${number}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs `{insert} VALUES (…), (…) {on_conflict}` over `rows` in [`statement_sizes`]; `bind` adds one row's `n_columns` arguments. Returns the rows affected.
pub(crate) async fn insert_rows<'a, T>(
    connection: &mut AnyConnection,
    insert: &str,
    on_conflict: &str,
    n_columns: usize,
    rows: &'a [T],
    mut bind: impl FnMut(&mut AnyArguments<'a>, &'a T) -> Result<(), BoxDynError>,
) -> Result<u64> {
    let anonymous = is_sqlite(connection);
    let mut n_affected = 0;
    let mut rest = rows;
    for size in statement_sizes(rows.len(), n_columns) {
        let (chunk, after) = rest.split_at(size);
        rest = after;
        let sql = format!(
            "{insert} VALUES {} {on_conflict}",
            placeholder_rows(chunk.len(), n_columns, 0, anonymous)
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
        assert_eq!(
            placeholder_rows(2, 3, 0, false),
            "($1, $2, $3), ($4, $5, $6)"
        );
        assert_eq!(placeholder_rows(1, 2, 3, false), "($4, $5)");
        assert_eq!(placeholder_rows(2, 2, 0, true), "(?, ?), (?, ?)");
        assert_eq!(placeholder_list(3, 1), "$2, $3, $4");
    }

    #[test]
    fn rows_go_in_full_statements_then_powers_of_two() {
        assert_eq!(rows_per_statement(6), 160);
        assert_eq!(
            statement_sizes(1000, 6),
            [160, 160, 160, 160, 160, 160, 32, 8]
        );
        assert_eq!(statement_sizes(2, 6), [2]);
        assert_eq!(statement_sizes(0, 6), Vec::<usize>::new());
        assert_eq!(statement_sizes(7, 2000), [1, 1, 1, 1, 1, 1, 1]);
        for n_rows in 0..1000 {
            let sizes = statement_sizes(n_rows, 7);
            assert_eq!(sizes.iter().sum::<usize>(), n_rows);
            assert!(sizes.iter().all(|&size| size <= rows_per_statement(7)));
        }
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

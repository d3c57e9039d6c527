//! Multi-row statements: a batch of a thousand metrics costs a couple of round trips, not
//! a thousand. Placeholders are `$N`, which both PostgreSQL and SQLite accept.

use std::collections::BTreeMap;
use std::fmt::Write;

use bascule_core::Tag;
use sqlx::any::AnyArguments;
use sqlx::error::BoxDynError;
use sqlx::{AnyConnection, Arguments};

use crate::error::Result;

/// Bound parameters per statement. SQLite finds a parameter's name by walking the list of
/// the statement's parameters, and sqlx asks for every parameter's name when it binds, so
/// binding costs grow with the square of the parameters in one statement: 5,000 of them
/// (500 rows of 10 columns) spent a third of a loaded server's CPU in
/// `sqlite3_bind_parameter_name`. A few hundred keep that negligible while still writing
/// dozens of rows per statement.
const PARAMETERS_PER_STATEMENT: usize = 240;

/// Rows per statement of `n_columns` parameters each (at least one).
pub(crate) fn rows_per_statement(n_columns: usize) -> usize {
    (PARAMETERS_PER_STATEMENT / n_columns.max(1)).max(1)
}

/// Values in one `IN (…)` list.
pub(crate) const ROWS_PER_STATEMENT: usize = PARAMETERS_PER_STATEMENT;

/// `($1, $2), ($3, $4), …`: `n_rows` groups of `n_columns` placeholders, numbered after
/// the `n_bound` arguments the statement already has.
pub(crate) fn placeholder_rows(n_rows: usize, n_columns: usize, n_bound: usize) -> String {
    let mut sql = String::with_capacity(n_rows * n_columns * 5);
    for row in 0..n_rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..n_columns {
            let separator = if column == 0 { "" } else { ", " };
            let number = n_bound + row * n_columns + column + 1;
            // Writing to a String cannot fail.
            let _ = write!(sql, "{separator}${number}");
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

/// Runs `{insert} VALUES (…), (…) {on_conflict}` over `rows`, [`rows_per_statement`] at
/// a time; `bind` adds one row's `n_columns` arguments. Returns the rows affected.
pub(crate) async fn insert_rows<'a, T>(
    connection: &mut AnyConnection,
    insert: &str,
    on_conflict: &str,
    n_columns: usize,
    rows: &'a [T],
    mut bind: impl FnMut(&mut AnyArguments<'a>, &'a T) -> Result<(), BoxDynError>,
) -> Result<u64> {
    let mut n_affected = 0;
    for chunk in rows.chunks(rows_per_statement(n_columns)) {
        let sql = format!(
            "{insert} VALUES {} {on_conflict}",
            placeholder_rows(chunk.len(), n_columns, 0)
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
        assert_eq!(placeholder_rows(2, 3, 0), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(placeholder_rows(1, 2, 3), "($4, $5)");
        assert_eq!(placeholder_list(3, 1), "$2, $3, $4");
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

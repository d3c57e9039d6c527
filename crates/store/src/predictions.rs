//! The prediction log: every answered request of every serving version, appended in
//! batches by the serving layer's writer task.
//!
//! A batch is stored as segments: one row per (model, version, role) it holds, its records
//! in one binary body (`segment`), plus the segment's request index for labels to find:
//! request ids of the form Bascule generates as runs of consecutive counters
//! (`prediction_request_runs`, a row per run), any other id as a row of its own
//! (`prediction_requests`); migration 0009 explains the layout. Readers select the segments
//! overlapping the ids they want and decode them here.

mod encoding;
mod segment;

use std::collections::HashMap;

use bascule_core::{LoggedPrediction, PredictionRecord, Role, parse_generated_request_id};
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{AnyConnection, Arguments, Row};

use crate::SqlMetadataStore;
use crate::batch::{ROWS_PER_STATEMENT, is_sqlite, placeholder_list};
use crate::error::{Result, StoreError, parse_stored};
use segment::{Parsed, parsed};

/// The most records one segment holds: a reader wanting one record decodes at most this
/// many.
const SEGMENT_RECORDS: usize = 1024;

/// The most a run's last counter exceeds its first: a run lies in one segment. Migration
/// 0009's `labelled_predictions` has it as a literal.
const MAX_RUN_SPAN: i64 = SEGMENT_RECORDS as i64 - 1;

/// Segments a reader fetches by its first query while it walks a range; each further query
/// fetches twice as many, up to [`MAX_SEGMENTS_PER_QUERY`]. A window of a thousand records
/// usually spans two or three segments: fetching sixteen bodies to use three cost the
/// SQLite thread as much as the writer.
const FIRST_SEGMENTS_PER_QUERY: i64 = 2;
const MAX_SEGMENTS_PER_QUERY: i64 = 64;

const SEGMENT_COLUMNS: &str = "first_id, last_id, version, role, first_time, body";

/// A logged record and its id.
pub(crate) type Numbered = (i64, PredictionRecord);

/// Appends the records in one transaction: a segment per (model, version, role) and
/// [`SEGMENT_RECORDS`], and the segment's request index. Ids are taken in the transaction,
/// so they follow commit order; within a segment, records with generated request ids come
/// first in the order of their counters (the order their requests arrived in), then the
/// others in the order they came.
#[tracing::instrument(level = "debug", skip_all, fields(n_records = records.len()))]
pub(crate) async fn insert(store: &SqlMetadataStore, records: &[PredictionRecord]) -> Result<u64> {
    if records.is_empty() {
        return Ok(0);
    }
    let mut segments = segments_of(records);
    for segment in &mut segments {
        order_by_counter(segment);
    }
    // Encoded before the writer's turn is taken: other writers need not wait for it.
    let bodies: Vec<Vec<u8>> = segments
        .iter()
        .map(|segment| segment::encode_parsed(segment.iter().copied()))
        .collect();
    let mut tx = store.begin_write().await?;
    let mut next = take_ids(&mut tx, records.len()).await?;
    for (segment, body) in segments.iter().zip(&bodies) {
        insert_segment(&mut tx, next, segment, body).await?;
        next += segment.len() as i64;
    }
    tx.commit().await?;
    Ok(records.len() as u64)
}

/// Stores one segment: `records` (all of one model, version and role) with ids from
/// `first_id` on, their encoded `body`, and their request index.
async fn insert_segment(
    connection: &mut AnyConnection,
    first_id: i64,
    records: &[Parsed<'_>],
    body: &[u8],
) -> Result<()> {
    let Some(&(first, _)) = records.first() else {
        return Ok(());
    };
    // The segment's time is its earliest record's, whatever their order.
    let first_time = records.iter().map(|(record, _)| record.time).min();
    sqlx::query(
        "INSERT INTO prediction_segments (first_id, last_id, name, version, role, first_time, \
         body) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(first_id)
    .bind(first_id + records.len() as i64 - 1)
    .bind(first.name.as_str())
    .bind(first.version)
    .bind(first.role.as_str())
    .bind(first_time.unwrap_or(first.time))
    .bind(body)
    .execute(&mut *connection)
    .await?;
    insert_index(connection, first_id, records).await
}

/// The records grouped by (model, version, role) in order of first appearance, each group
/// in the records' order and cut at [`SEGMENT_RECORDS`].
fn segments_of(records: &[PredictionRecord]) -> Vec<Vec<Parsed<'_>>> {
    let mut streams: Vec<Vec<Parsed<'_>>> = Vec::new();
    for record in records {
        let same = |(other, _): &Parsed<'_>| {
            other.version == record.version
                && other.role == record.role
                && other.name == record.name
        };
        match streams
            .iter_mut()
            .find(|stream| stream.first().is_some_and(same))
        {
            Some(stream) => stream.push(parsed(record)),
            None => streams.push(vec![parsed(record)]),
        }
    }
    streams
        .into_iter()
        .flat_map(|stream| {
            stream
                .chunks(SEGMENT_RECORDS)
                .map(<[_]>::to_vec)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Puts the records with generated request ids first, by prefix and counter, the others
/// after them in their order (the sort is stable). Requests finish out of the order they
/// arrived in, so by the order they came a segment's counters would break into many runs.
fn order_by_counter(records: &mut [Parsed<'_>]) {
    records.sort_by_key(|&(_, id)| match id {
        Some((prefix, counter)) => (false, prefix, counter),
        None => (true, "", 0),
    });
}

/// Reserves `n` ids; returns the first. The counter's row stays locked until the
/// transaction ends (on SQLite the writer's turn already serialises writers).
async fn take_ids(connection: &mut AnyConnection, n: usize) -> Result<i64> {
    let last: i64 = sqlx::query_scalar(
        "UPDATE prediction_log_ids SET last_id = last_id + $1 WHERE id = 1 RETURNING last_id",
    )
    .bind(n as i64)
    .fetch_one(&mut *connection)
    .await?;
    Ok(last - n as i64 + 1)
}

/// A segment's request index, as the JSON arrays its two statements expand: the runs of
/// generated ids (`[prefix, low, high, offset]`, the record at `offset` having counter
/// `low`) and the other ids (`[offset, id]`).
#[derive(Debug, Default, PartialEq)]
struct RequestIndex<'a> {
    runs: Vec<(&'a str, i64, i64, usize)>,
    others: Vec<(usize, &'a str)>,
}

impl<'a> RequestIndex<'a> {
    fn of(records: &[Parsed<'a>]) -> Self {
        let mut index = Self::default();
        for (offset, &(record, id)) in records.iter().enumerate() {
            let Some((prefix, counter)) = id else {
                index.others.push((offset, &record.request_id));
                continue;
            };
            match index.runs.last_mut() {
                // A run is consecutive counters at consecutive offsets.
                Some((run_prefix, low, high, start))
                    if *run_prefix == prefix
                        && high.checked_add(1) == Some(counter)
                        && *start + (counter - *low) as usize == offset =>
                {
                    *high = counter;
                }
                _ => index.runs.push((prefix, counter, counter, offset)),
            }
        }
        index
    }
}

/// The request index of one segment's records (the first id and the records), in at most
/// two statements whatever the segment's size: each takes its rows as one JSON array the
/// database expands, so its text is always the same and stays in the connection's
/// statement cache (at batches of hundreds, ~2k instructions a record less than multi-row
/// `VALUES` on SQLite: docs/benchmarks.md, tenth session).
async fn insert_index(
    connection: &mut AnyConnection,
    first_id: i64,
    records: &[Parsed<'_>],
) -> Result<()> {
    let Some(&(first, _)) = records.first() else {
        return Ok(());
    };
    let index = RequestIndex::of(records);
    let sqlite = is_sqlite(connection);
    let runs = if sqlite {
        "INSERT INTO prediction_request_runs (name, prefix, low, high, first_id, version, \
         role) SELECT $2, value ->> 0, value ->> 1, value ->> 2, $1 + (value ->> 3), $3, \
         $4 FROM json_each($5)"
    } else {
        "INSERT INTO prediction_request_runs (name, prefix, low, high, first_id, version, \
         role) SELECT $2, e ->> 0, (e ->> 1)::bigint, (e ->> 2)::bigint, \
         $1 + (e ->> 3)::bigint, $3, $4 FROM json_array_elements($5::json) AS e"
    };
    insert_expanded(connection, runs, first_id, first, &index.runs).await?;
    let others = if sqlite {
        "INSERT INTO prediction_requests (request_id, prediction_id, name, version, role) \
         SELECT value ->> 1, $1 + (value ->> 0), $2, $3, $4 FROM json_each($5)"
    } else {
        "INSERT INTO prediction_requests (request_id, prediction_id, name, version, role) \
         SELECT e ->> 1, $1 + (e ->> 0)::bigint, $2, $3, $4 \
         FROM json_array_elements($5::json) AS e"
    };
    insert_expanded(connection, others, first_id, first, &index.others).await
}

/// Runs one of a segment's index inserts: `sql` takes the segment's first id, model,
/// version and role as `$1`–`$4` and `rows` as the JSON array `$5`. No rows, no statement.
async fn insert_expanded(
    connection: &mut AnyConnection,
    sql: &str,
    first_id: i64,
    first: &PredictionRecord,
    rows: &[impl serde::Serialize],
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    sqlx::query(sql)
        .bind(first_id)
        .bind(first.name.as_str())
        .bind(first.version)
        .bind(first.role.as_str())
        .bind(to_json(&rows)?)
        .execute(&mut *connection)
        .await?;
    Ok(())
}

fn to_json(value: &impl serde::Serialize) -> std::result::Result<String, sqlx::Error> {
    serde_json::to_string(value).map_err(|error| sqlx::Error::Encode(error.into()))
}

/// The newest records of a model, or of one request, newest first.
pub(crate) async fn list(
    store: &SqlMetadataStore,
    name: &str,
    request_id: Option<&str>,
    limit: i64,
) -> Result<Vec<PredictionRecord>> {
    let limit = limit.max(0) as usize;
    let mut newest_first = match request_id {
        Some(request_id) => {
            let mut ids: Vec<i64> = sqlx::query_scalar(
                "SELECT prediction_id FROM prediction_requests WHERE name = $1 \
                 AND request_id = $2 ORDER BY prediction_id DESC LIMIT $3",
            )
            .bind(name)
            .bind(request_id)
            .bind(limit as i64)
            .fetch_all(&store.pool)
            .await?;
            if let Some((prefix, counter)) = parse_generated_request_id(request_id) {
                let in_runs: Vec<i64> = sqlx::query_scalar(
                    "SELECT first_id + ($3 - low) FROM prediction_request_runs \
                     WHERE name = $1 AND prefix = $2 AND low BETWEEN $3 - $4 AND $3 \
                     AND high >= $3",
                )
                .bind(name)
                .bind(prefix)
                .bind(counter)
                .bind(MAX_RUN_SPAN)
                .fetch_all(&store.pool)
                .await?;
                ids.extend(in_runs);
            }
            ids.sort_unstable_by(|a, b| b.cmp(a));
            ids.truncate(limit);
            let mut found = holding(store, name, ids).await?;
            found.reverse();
            found
        }
        None => {
            walk(
                store,
                name,
                Filter::default(),
                (0, None),
                limit,
                Order::Newest,
            )
            .await?
        }
    };
    newest_first.truncate(limit);
    Ok(newest_first.into_iter().map(|(_, record)| record).collect())
}

/// Which of a model's segments a reader walks.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Filter {
    /// One version only.
    pub version: Option<i64>,
    /// One role only.
    pub role: Option<Role>,
    /// Live and canary only: the answers callers received.
    pub answered_only: bool,
}

impl Filter {
    fn condition(&self, arguments: &mut AnyArguments<'_>) -> Result<String> {
        let mut condition = String::new();
        if let Some(version) = self.version {
            arguments.add(version).map_err(sqlx::Error::Encode)?;
            condition.push_str(&format!(" AND version = ${}", arguments.len()));
        }
        if let Some(role) = self.role {
            arguments.add(role.as_str()).map_err(sqlx::Error::Encode)?;
            condition.push_str(&format!(" AND role = ${}", arguments.len()));
        }
        if self.answered_only {
            condition.push_str(" AND role IN ('live', 'canary')");
        }
        Ok(condition)
    }
}

/// Up to `page` of a model's segments that `filter` keeps, selected by `bounds` (SQL over
/// the ids `$2` and `$3`), in order of their ids.
async fn segment_page(
    store: &SqlMetadataStore,
    name: &str,
    filter: Filter,
    (low, high): (i64, i64),
    bounds: &str,
    order: Order,
    page: i64,
) -> Result<Vec<AnyRow>> {
    let mut arguments = AnyArguments::default();
    arguments.add(name).map_err(sqlx::Error::Encode)?;
    arguments.add(low).map_err(sqlx::Error::Encode)?;
    arguments.add(high).map_err(sqlx::Error::Encode)?;
    arguments.add(page).map_err(sqlx::Error::Encode)?;
    let condition = filter.condition(&mut arguments)?;
    let direction = match order {
        Order::Oldest => "ASC",
        Order::Newest => "DESC",
    };
    let sql = format!(
        "SELECT {SEGMENT_COLUMNS} FROM prediction_segments WHERE name = $1 \
         AND {bounds}{condition} ORDER BY last_id {direction} LIMIT $4"
    );
    Ok(sqlx::query_with(&sql, arguments)
        .fetch_all(&store.pool)
        .await?)
}

/// Which end of an id range a reader starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Order {
    Oldest,
    Newest,
}

/// A model's records with ids in `(after, through]` (`through` unbounded when `None`),
/// at most `limit`, the oldest or the newest first.
pub(crate) async fn walk(
    store: &SqlMetadataStore,
    name: &str,
    filter: Filter,
    (after, through): (i64, Option<i64>),
    limit: usize,
    order: Order,
) -> Result<Vec<Numbered>> {
    let through = through.unwrap_or(i64::MAX);
    // The ids still to visit, `(low, high]`; each segment read moves one end past it.
    let (mut low, mut high) = (after, through);
    // Newest first seeks on `last_id` from the top: the segment holding `through` has a
    // larger last id, so it is found by its first id instead when `through` is bounded.
    let bounds = match order {
        Order::Oldest => "last_id > $2 AND first_id <= $3",
        Order::Newest if through == i64::MAX => "last_id > $2 AND last_id <= $3",
        Order::Newest => "last_id > $2 AND first_id <= $3",
    };
    let mut found = Vec::new();
    let mut page = FIRST_SEGMENTS_PER_QUERY;
    while found.len() < limit && low < high {
        let rows = segment_page(store, name, filter, (low, high), bounds, order, page).await?;
        for row in &rows {
            if found.len() >= limit {
                break;
            }
            let (first_id, last_id, records) = decode_row(name, row)?;
            let wanted = |(id, _): &Numbered| *id > after && *id <= through;
            let left = limit - found.len();
            match order {
                Order::Oldest => {
                    low = last_id;
                    found.extend(records.into_iter().filter(wanted).take(left));
                }
                Order::Newest => {
                    high = first_id - 1;
                    found.extend(records.into_iter().rev().filter(wanted).take(left));
                }
            }
        }
        if (rows.len() as i64) < page {
            break;
        }
        page = (page * 2).min(MAX_SEGMENTS_PER_QUERY);
    }
    Ok(found)
}

/// The records of a model with these ids, oldest first (ids that no segment holds are
/// skipped).
pub(crate) async fn holding(
    store: &SqlMetadataStore,
    name: &str,
    mut ids: Vec<i64>,
) -> Result<Vec<Numbered>> {
    ids.sort_unstable();
    ids.dedup();
    let mut found = Vec::with_capacity(ids.len());
    let mut wanted = ids.into_iter().peekable();
    while let Some(&id) = wanted.peek() {
        let sql = format!(
            "SELECT {SEGMENT_COLUMNS} FROM prediction_segments WHERE name = $1 \
             AND last_id >= $2 ORDER BY last_id LIMIT 1"
        );
        let row = sqlx::query(&sql)
            .bind(name)
            .bind(id)
            .fetch_optional(&store.pool)
            .await?;
        let Some(row) = row else { break };
        let (first_id, last_id, records) = decode_row(name, &row)?;
        let mut in_segment = Vec::new();
        while let Some(&id) = wanted.peek() {
            if id > last_id {
                break;
            }
            if id >= first_id {
                in_segment.push(id);
            }
            wanted.next();
        }
        found.extend(
            records
                .into_iter()
                .filter(|(id, _)| in_segment.binary_search(id).is_ok()),
        );
    }
    Ok(found)
}

/// Request ids per label query on SQLite (under its default limit of 32,766 parameters).
const LABELS_PER_QUERY: usize = 1000;

/// `records` with the label each one's request has, when one arrived.
pub(crate) async fn with_labels(
    store: &SqlMetadataStore,
    name: &str,
    records: Vec<Numbered>,
) -> Result<Vec<LoggedPrediction>> {
    let mut request_ids: Vec<&str> = records.iter().map(|(_, r)| r.request_id.as_str()).collect();
    request_ids.sort_unstable();
    request_ids.dedup();
    let mut labels: HashMap<String, f64> = HashMap::new();
    // Anonymous placeholders on SQLite: sqlx looks every numbered one up by name, which
    // made a window's label lookups quadratic in the list's length.
    let anonymous = store.is_sqlite();
    let per_query = if anonymous {
        LABELS_PER_QUERY
    } else {
        ROWS_PER_STATEMENT - 1
    };
    for chunk in request_ids.chunks(per_query) {
        let mut arguments = AnyArguments::default();
        arguments.add(name).map_err(sqlx::Error::Encode)?;
        for id in chunk {
            arguments.add(*id).map_err(sqlx::Error::Encode)?;
        }
        let sql = if anonymous {
            format!(
                "SELECT request_id, label FROM labels WHERE name = ? AND request_id IN ({})",
                vec!["?"; chunk.len()].join(", ")
            )
        } else {
            format!(
                "SELECT request_id, label FROM labels WHERE name = $1 AND request_id IN ({})",
                placeholder_list(chunk.len(), 1)
            )
        };
        let rows = sqlx::query_with(&sql, arguments)
            .fetch_all(&store.pool)
            .await?;
        for row in rows {
            labels.insert(row.try_get(0)?, row.try_get(1)?);
        }
    }
    Ok(records
        .into_iter()
        .map(|(id, record)| LoggedPrediction {
            id,
            label: labels.get(&record.request_id).copied(),
            record,
        })
        .collect())
}

/// The row of the first segment of a (model, version, role) holding an id above `after`.
pub(crate) async fn first_segment_after(
    store: &SqlMetadataStore,
    name: &str,
    stream: Filter,
    after: i64,
) -> Result<Option<AnyRow>> {
    let bounds = "last_id > $2 AND first_id <= $3";
    let rows = segment_page(
        store,
        name,
        stream,
        (after, i64::MAX),
        bounds,
        Order::Oldest,
        1,
    );
    Ok(rows.await?.into_iter().next())
}

/// A segment row's first and last ids and its records, numbered.
pub(crate) fn decode_row(name: &str, row: &AnyRow) -> Result<(i64, i64, Vec<Numbered>)> {
    let first_id: i64 = row.try_get(0)?;
    let last_id: i64 = row.try_get(1)?;
    let version: i64 = row.try_get(2)?;
    let role: String = row.try_get(3)?;
    let role = parse_stored("prediction_segments.role", &role, |role| {
        role.parse::<Role>().ok()
    })?;
    let body: Vec<u8> = row.try_get(5)?;
    let corrupt = || StoreError::Corrupt {
        what: format!("the body of prediction segment {first_id}..={last_id} of model '{name}'"),
    };
    let records = segment::decode(&body).ok_or_else(corrupt)?;
    if records.len() as i64 != last_id - first_id + 1 {
        return Err(corrupt());
    }
    Ok((
        first_id,
        last_id,
        (first_id..)
            .zip(records)
            .map(|(id, record)| (id, record.into_record(name, version, role)))
            .collect(),
    ))
}

/// Rows moved per transaction by [`move_legacy_rows`].
const LEGACY_ROWS_PER_TRANSACTION: i64 = 4096;

/// Moves the rows of the log's first layout (`predictions_v1`, one row per record with its
/// tensors as JSON) into segments, keeping their ids, a few thousand per transaction.
/// Returns how many rows moved. A row that cannot be read stays where it is, with a
/// warning, rather than keep the store from opening. Runs when the store opens: a store
/// that never had such rows finds the table empty at once.
pub(crate) async fn move_legacy_rows(store: &SqlMetadataStore) -> Result<u64> {
    let (mut moved, mut cursor) = (0, 0_i64);
    loop {
        let mut tx = store.begin_write().await?;
        // Locks the counter's row: on PostgreSQL, replicas opening together take turns.
        sqlx::query("UPDATE prediction_log_ids SET last_id = last_id WHERE id = 1")
            .execute(&mut *tx)
            .await?;
        let rows = sqlx::query(
            "SELECT id, request_id, name, version, role, prediction_time, latency_micros, \
             inputs, outputs, error, agrees_with_live FROM predictions_v1 WHERE id > $1 \
             ORDER BY id LIMIT $2",
        )
        .bind(cursor)
        .bind(LEGACY_ROWS_PER_TRANSACTION)
        .fetch_all(&mut *tx)
        .await?;
        let Some(last) = rows.last() else {
            return Ok(moved);
        };
        cursor = last.try_get(0)?;
        let mut records: Vec<Numbered> = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: i64 = row.try_get(0)?;
            match legacy_record(row) {
                Ok(record) => records.push((id, record)),
                Err(error) => tracing::warn!(
                    id,
                    %error,
                    "a prediction log row of the first layout cannot be read; it stays in \
                     predictions_v1"
                ),
            }
        }
        // A segment is a run of consecutive ids of one (model, version, role).
        let mut start = 0;
        for end in 1..=records.len() {
            let cut = end == records.len() || {
                let (previous_id, previous) = &records[end - 1];
                let (id, record) = &records[end];
                *id != previous_id + 1
                    || record.name != previous.name
                    || record.version != previous.version
                    || record.role != previous.role
                    || end - start == SEGMENT_RECORDS
            };
            if !cut {
                continue;
            }
            let (first_id, last_id) = (records[start].0, records[end - 1].0);
            let run: Vec<Parsed<'_>> = records[start..end]
                .iter()
                .map(|(_, record)| parsed(record))
                .collect();
            let body = segment::encode_parsed(run.iter().copied());
            insert_segment(&mut tx, first_id, &run, &body).await?;
            sqlx::query("DELETE FROM predictions_v1 WHERE id BETWEEN $1 AND $2")
                .bind(first_id)
                .bind(last_id)
                .execute(&mut *tx)
                .await?;
            start = end;
        }
        tx.commit().await?;
        moved += records.len() as u64;
        tracing::info!(moved, "moved prediction log rows into segments");
    }
}

fn legacy_record(row: &AnyRow) -> Result<PredictionRecord> {
    let role: String = row.try_get(4)?;
    let inputs: String = row.try_get(7)?;
    let outputs: String = row.try_get(8)?;
    let agrees: Option<i64> = row.try_get(10)?;
    Ok(PredictionRecord {
        request_id: row.try_get(1)?,
        name: row.try_get(2)?,
        version: row.try_get(3)?,
        role: parse_stored("predictions.role", &role, |role| role.parse::<Role>().ok())?,
        time: row.try_get(5)?,
        latency_micros: row.try_get(6)?,
        inputs: parse_stored("predictions.inputs", &inputs, encoding::decode)?,
        outputs: parse_stored("predictions.outputs", &outputs, encoding::decode)?,
        error: row.try_get(9)?,
        agrees_with_live: agrees.map(|agrees| agrees == 1),
    })
}

#[cfg(test)]
mod tests {
    use bascule_core::generated_request_id;

    use super::*;

    fn record(request_id: String) -> PredictionRecord {
        PredictionRecord {
            request_id,
            name: "bc".to_owned(),
            version: 1,
            role: Role::Live,
            time: 0,
            latency_micros: 1,
            inputs: vec![],
            outputs: vec![],
            error: None,
            agrees_with_live: None,
        }
    }

    #[test]
    fn a_segment_of_requests_in_arrival_order_is_one_run_whatever_order_they_finished_in() {
        let (p, q) = ("00000000000a", "00000000000b");
        let mut records: Vec<PredictionRecord> = [3, 1, 2, 0, 5, 4]
            .into_iter()
            .map(|counter| record(generated_request_id(p, counter)))
            .collect();
        records.insert(2, record("caller".to_owned()));
        let mut segment: Vec<Parsed<'_>> = records.iter().map(parsed).collect();
        order_by_counter(&mut segment);
        assert_eq!(
            RequestIndex::of(&segment),
            RequestIndex {
                runs: vec![(p, 0, 5, 0)],
                others: vec![(6, "caller")],
            }
        );

        // Gaps, a repeated id and another prefix start new runs.
        let records: Vec<PredictionRecord> = [(p, 0), (p, 1), (p, 3), (p, 3), (p, 4), (q, 5)]
            .into_iter()
            .map(|(prefix, counter)| record(generated_request_id(prefix, counter)))
            .collect();
        let segment: Vec<Parsed<'_>> = records.iter().map(parsed).collect();
        assert_eq!(
            RequestIndex::of(&segment).runs,
            [(p, 0, 1, 0), (p, 3, 3, 2), (p, 3, 4, 3), (q, 5, 5, 5)]
        );
    }

    #[test]
    fn a_run_fits_the_span_readers_search() {
        // Migration 0009's `labelled_predictions` searches runs starting 1023 below a
        // counter: a full segment's run must not span more.
        let records: Vec<PredictionRecord> = (0..SEGMENT_RECORDS as u64)
            .map(|counter| record(generated_request_id("00000000000a", counter)))
            .collect();
        let segment: Vec<Parsed<'_>> = records.iter().map(parsed).collect();
        let runs = RequestIndex::of(&segment).runs;
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].2 - runs[0].1, MAX_RUN_SPAN);
        let migration = include_str!("../migrations/sqlite/0009_request_runs.sql");
        assert!(migration.contains(&format!("l.id_counter - {MAX_RUN_SPAN} AND")));
        let migration = include_str!("../migrations/postgres/0009_request_runs.sql");
        assert!(migration.contains(&format!("l.id_counter - {MAX_RUN_SPAN} AND")));
    }
}

-- The prediction log in segments: each writer batch stores one row per (model, version,
-- role) it holds, with the records in one binary body (see `predictions/segment.rs`), and
-- a narrow row per record under its request id, which labels join. A row per record with
-- its tensors cost SQLite 7.8 µs per record to append; segments with the request rows
-- 2.5 µs (scripts/bench_log_layouts.py).
--
-- Prediction ids stay global and increasing: a segment holds ids first_id..=last_id, in
-- its body's order. The writer takes the next ids from `prediction_log_ids` inside its
-- transaction, so ids are handed out in commit order and a reader that has seen id N has
-- seen every id below it.
--
-- The rows of the old table are moved into segments, keeping their ids, by the store when
-- it opens (`predictions::move_legacy_rows`): its tensors are JSON text, which SQL cannot
-- turn into a segment body.
ALTER TABLE predictions RENAME TO predictions_v1;

CREATE TABLE prediction_log_ids (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    last_id INTEGER NOT NULL
);
INSERT INTO prediction_log_ids (id, last_id)
SELECT 1, COALESCE(MAX(id), 0) FROM predictions_v1;

CREATE TABLE prediction_segments (
    first_id   INTEGER PRIMARY KEY,
    last_id    INTEGER NOT NULL,
    name       TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    role       TEXT    NOT NULL CHECK (role IN ('live', 'canary', 'shadow')),
    first_time INTEGER NOT NULL,
    body       BLOB    NOT NULL,
    CHECK (last_id >= first_id)
);
CREATE INDEX prediction_segments_by_stream ON prediction_segments (name, version, role, last_id);
CREATE INDEX prediction_segments_by_model ON prediction_segments (name, last_id);

-- A request id can repeat (a shadow shares the live answer's; callers may reuse theirs).
CREATE TABLE prediction_requests (
    name          TEXT    NOT NULL,
    request_id    TEXT    NOT NULL,
    prediction_id INTEGER NOT NULL,
    version       INTEGER NOT NULL,
    role          TEXT    NOT NULL,
    PRIMARY KEY (name, request_id, prediction_id)
) WITHOUT ROWID;

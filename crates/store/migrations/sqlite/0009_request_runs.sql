-- Request ids of the form Bascule generates (a 12-hex-digit prefix, `-`, a 16-hex-digit
-- counter: `bascule_core::generated_request_id`) are indexed by runs: one row per stretch of
-- a segment whose records have consecutive counters under one prefix, the record of counter
-- c being prediction `first_id + (c - low)`. The writer orders a segment's records by their
-- counters, so a segment of one busy stream is one run or a few, where it was a row per
-- record in `prediction_requests` (which keeps the ids of any other form, and every id
-- logged before this migration). A run lies in one segment, so `high - low` is below the
-- 1,024 records a segment holds: a lookup of counter c reads the runs starting in
-- [c - 1023, c].
--
-- Labels keep their id's prefix and counter when it has that form, so that they join runs
-- by integer comparison; `labelled_predictions` is the one join of labels to predictions.
-- It starts from the labels (`CROSS JOIN` fixes SQLite's join order; PostgreSQL plans
-- by its statistics): there are far fewer of them than logged requests.

CREATE TABLE prediction_request_runs (
    name     TEXT    NOT NULL,
    prefix   TEXT    NOT NULL,
    low      INTEGER NOT NULL,
    high     INTEGER NOT NULL,
    first_id INTEGER NOT NULL,
    version  INTEGER NOT NULL,
    role     TEXT    NOT NULL,
    CHECK (high >= low AND high - low < 1024),
    PRIMARY KEY (name, prefix, low, first_id)
) WITHOUT ROWID;

ALTER TABLE labels ADD COLUMN id_prefix TEXT;
ALTER TABLE labels ADD COLUMN id_counter INTEGER;

-- Labels stored before: their ids parsed here (SQLite has no hex conversion, hence the
-- sum of digits; GLOB is case-sensitive, and a first counter digit above 7 would not fit).
UPDATE labels
SET id_prefix = substr(request_id, 1, 12),
    id_counter =
    ((instr('0123456789abcdef', substr(request_id, 14, 1)) - 1) << 60) +
    ((instr('0123456789abcdef', substr(request_id, 15, 1)) - 1) << 56) +
    ((instr('0123456789abcdef', substr(request_id, 16, 1)) - 1) << 52) +
    ((instr('0123456789abcdef', substr(request_id, 17, 1)) - 1) << 48) +
    ((instr('0123456789abcdef', substr(request_id, 18, 1)) - 1) << 44) +
    ((instr('0123456789abcdef', substr(request_id, 19, 1)) - 1) << 40) +
    ((instr('0123456789abcdef', substr(request_id, 20, 1)) - 1) << 36) +
    ((instr('0123456789abcdef', substr(request_id, 21, 1)) - 1) << 32) +
    ((instr('0123456789abcdef', substr(request_id, 22, 1)) - 1) << 28) +
    ((instr('0123456789abcdef', substr(request_id, 23, 1)) - 1) << 24) +
    ((instr('0123456789abcdef', substr(request_id, 24, 1)) - 1) << 20) +
    ((instr('0123456789abcdef', substr(request_id, 25, 1)) - 1) << 16) +
    ((instr('0123456789abcdef', substr(request_id, 26, 1)) - 1) << 12) +
    ((instr('0123456789abcdef', substr(request_id, 27, 1)) - 1) << 8) +
    ((instr('0123456789abcdef', substr(request_id, 28, 1)) - 1) << 4) +
    ((instr('0123456789abcdef', substr(request_id, 29, 1)) - 1) << 0)
WHERE request_id GLOB '[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-7][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]';

CREATE VIEW labelled_predictions AS
SELECT l.name, l.request_id, l.label, l.received_time, p.prediction_id, p.version, p.role
FROM labels l
CROSS JOIN prediction_requests p
WHERE p.name = l.name AND p.request_id = l.request_id
UNION ALL
SELECT l.name, l.request_id, l.label, l.received_time,
       r.first_id + (l.id_counter - r.low) AS prediction_id, r.version, r.role
FROM labels l
CROSS JOIN prediction_request_runs r
WHERE r.name = l.name AND r.prefix = l.id_prefix
  AND r.low BETWEEN l.id_counter - 1023 AND l.id_counter AND r.high >= l.id_counter;

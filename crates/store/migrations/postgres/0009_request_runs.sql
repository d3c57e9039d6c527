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
    name     TEXT   NOT NULL,
    prefix   TEXT   NOT NULL,
    low      BIGINT NOT NULL,
    high     BIGINT NOT NULL,
    first_id BIGINT NOT NULL,
    version  BIGINT NOT NULL,
    role     TEXT   NOT NULL,
    CHECK (high >= low AND high - low < 1024),
    PRIMARY KEY (name, prefix, low, first_id)
);

ALTER TABLE labels ADD COLUMN id_prefix TEXT;
ALTER TABLE labels ADD COLUMN id_counter BIGINT;

-- Labels stored before: their ids parsed here.
UPDATE labels
SET id_prefix = substr(request_id, 1, 12),
    id_counter = ('x' || substr(request_id, 14))::bit(64)::bigint
WHERE request_id ~ '^[0-9a-f]{12}-[0-7][0-9a-f]{15}$';

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

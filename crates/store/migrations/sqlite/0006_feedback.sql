-- The feedback loop: feedback items opened by alerts (with their production-data export),
-- their append-only history, and the outbox of durable tasks acting on them (webhook
-- deliveries, retraining runs, validations of the versions answering them).

-- At most one active (not resolved) item per model version: later alerts extend it.
CREATE TABLE feedback (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    name              TEXT    NOT NULL,
    version           INTEGER NOT NULL,
    state             TEXT    NOT NULL CHECK (state IN ('open', 'acknowledged', 'answered', 'resolved')),
    summary           TEXT    NOT NULL,
    alert_ids         TEXT    NOT NULL,
    window_id         INTEGER,
    export            TEXT,
    candidate_version INTEGER,
    answered_by       INTEGER,
    opened_time       INTEGER NOT NULL,
    updated_time      INTEGER NOT NULL,
    resolved_time     INTEGER
);
CREATE UNIQUE INDEX feedback_one_active ON feedback (name, version) WHERE state <> 'resolved';
CREATE INDEX feedback_by_model ON feedback (name, id);

CREATE TABLE feedback_notes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    feedback_id INTEGER NOT NULL REFERENCES feedback (id),
    time        INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    message     TEXT    NOT NULL
);
CREATE INDEX feedback_notes_by_item ON feedback_notes (feedback_id, id);

-- An alert belongs to the feedback item it opened or extended.
ALTER TABLE alerts ADD COLUMN feedback_id INTEGER REFERENCES feedback (id);

-- A task is claimed by setting it running with a lease; a worker that dies lets the lease
-- lapse and the task is claimed again, so a restart loses no delivery or run.
CREATE TABLE tasks (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    kind              TEXT    NOT NULL CHECK (kind IN ('webhook', 'retrain', 'validate')),
    target            TEXT    NOT NULL,
    feedback_id       INTEGER REFERENCES feedback (id),
    event             TEXT    NOT NULL,
    payload           TEXT    NOT NULL,
    state             TEXT    NOT NULL CHECK (state IN ('pending', 'running', 'done', 'failed')),
    attempts          INTEGER NOT NULL,
    next_attempt_time INTEGER NOT NULL,
    lease_until       INTEGER,
    last_error        TEXT,
    last_status       INTEGER,
    output            TEXT,
    created_time      INTEGER NOT NULL,
    updated_time      INTEGER NOT NULL,
    finished_time     INTEGER
);
CREATE INDEX tasks_due ON tasks (kind, state, next_attempt_time);
CREATE INDEX tasks_by_feedback ON tasks (feedback_id, id);

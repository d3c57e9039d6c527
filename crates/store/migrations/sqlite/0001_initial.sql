-- Bascule's metadata schema, SQLite edition; ../postgres holds the same schema for
-- PostgreSQL, and the two must stay table-for-table and column-for-column alike (the
-- store writes its SQL once for both). Shaped like MLflow's tracking and registry schema
-- so its REST API can sit on top. Times are milliseconds since the Unix epoch.

-- ---- experiment tracking -------------------------------------------------------------

CREATE TABLE experiments (
    experiment_id     INTEGER PRIMARY KEY AUTOINCREMENT,
    name              TEXT    NOT NULL UNIQUE,
    artifact_location TEXT    NOT NULL,
    lifecycle_stage   TEXT    NOT NULL CHECK (lifecycle_stage IN ('active', 'deleted')),
    creation_time     INTEGER NOT NULL,
    last_update_time  INTEGER NOT NULL
);

-- MLflow clients log to experiment 0 when none is named.
INSERT INTO experiments
    (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time)
VALUES (
    0, 'Default', 'mlflow-artifacts:/0', 'active',
    CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER),
    CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
);

CREATE TABLE experiment_tags (
    experiment_id INTEGER NOT NULL REFERENCES experiments (experiment_id),
    key           TEXT    NOT NULL,
    value         TEXT    NOT NULL,
    PRIMARY KEY (experiment_id, key)
) WITHOUT ROWID;

CREATE TABLE runs (
    run_uuid        TEXT    NOT NULL PRIMARY KEY,
    experiment_id   INTEGER NOT NULL REFERENCES experiments (experiment_id),
    name            TEXT    NOT NULL,
    user_id         TEXT    NOT NULL,
    status          TEXT    NOT NULL
        CHECK (status IN ('RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED')),
    start_time      INTEGER NOT NULL,
    end_time        INTEGER,
    artifact_uri    TEXT    NOT NULL,
    lifecycle_stage TEXT    NOT NULL CHECK (lifecycle_stage IN ('active', 'deleted'))
);
CREATE INDEX runs_by_experiment ON runs (experiment_id, start_time);

-- Params are immutable: a key is logged once per run.
CREATE TABLE params (
    run_uuid TEXT NOT NULL REFERENCES runs (run_uuid),
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (run_uuid, key)
) WITHOUT ROWID;

-- The full history of every metric. NaN is stored as value 0 with is_nan 1 (as MLflow
-- does: SQLite cannot store NaN). Logging the very same point twice keeps one row.
CREATE TABLE metrics (
    run_uuid  TEXT    NOT NULL REFERENCES runs (run_uuid),
    key       TEXT    NOT NULL,
    step      INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    value     REAL    NOT NULL,
    is_nan    INTEGER NOT NULL CHECK (is_nan IN (0, 1)),
    PRIMARY KEY (run_uuid, key, step, timestamp, value, is_nan)
) WITHOUT ROWID;

-- The latest point of each metric of each run: largest step, then largest timestamp,
-- then largest value (MLflow's rule), maintained by every batch that logs metrics.
CREATE TABLE latest_metrics (
    run_uuid  TEXT    NOT NULL REFERENCES runs (run_uuid),
    key       TEXT    NOT NULL,
    step      INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    value     REAL    NOT NULL,
    is_nan    INTEGER NOT NULL CHECK (is_nan IN (0, 1)),
    PRIMARY KEY (run_uuid, key)
) WITHOUT ROWID;

CREATE TABLE run_tags (
    run_uuid TEXT NOT NULL REFERENCES runs (run_uuid),
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (run_uuid, key)
) WITHOUT ROWID;

-- ---- model registry ------------------------------------------------------------------

CREATE TABLE registered_models (
    name              TEXT    NOT NULL PRIMARY KEY,
    description       TEXT    NOT NULL,
    creation_time     INTEGER NOT NULL,
    last_updated_time INTEGER NOT NULL
);

CREATE TABLE registered_model_tags (
    name  TEXT NOT NULL REFERENCES registered_models (name),
    key   TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (name, key)
) WITHOUT ROWID;

CREATE TABLE model_versions (
    name              TEXT    NOT NULL REFERENCES registered_models (name),
    version           INTEGER NOT NULL CHECK (version > 0),
    creation_time     INTEGER NOT NULL,
    last_updated_time INTEGER NOT NULL,
    description       TEXT    NOT NULL,
    source            TEXT    NOT NULL,
    run_id            TEXT,
    status            TEXT    NOT NULL
        CHECK (status IN ('PENDING_REGISTRATION', 'FAILED_REGISTRATION', 'READY')),
    stage             TEXT    NOT NULL CHECK (stage IN
        ('Prototype', 'Validated', 'Rejected', 'Improved', 'Deployed', 'Monitored', 'Retired')),
    format            TEXT    NOT NULL CHECK (format IN ('onnx', 'other')),
    created_by        TEXT    NOT NULL,
    -- bascule_core::Signature as JSON
    signature         TEXT,
    -- lineage: the version of the same model this one was retrained from
    parent_version    INTEGER,
    data_digest       TEXT,
    code_ref          TEXT,
    PRIMARY KEY (name, version),
    FOREIGN KEY (name, parent_version) REFERENCES model_versions (name, version)
);
CREATE INDEX model_versions_by_run ON model_versions (run_id);

CREATE TABLE model_version_tags (
    name    TEXT    NOT NULL,
    version INTEGER NOT NULL,
    key     TEXT    NOT NULL,
    value   TEXT    NOT NULL,
    PRIMARY KEY (name, version, key),
    FOREIGN KEY (name, version) REFERENCES model_versions (name, version)
) WITHOUT ROWID;

-- The files of a version's MLflow model directory, by content digest.
CREATE TABLE model_version_files (
    name    TEXT    NOT NULL,
    version INTEGER NOT NULL,
    path    TEXT    NOT NULL,
    digest  TEXT    NOT NULL,
    size    INTEGER NOT NULL CHECK (size >= 0),
    PRIMARY KEY (name, version, path),
    FOREIGN KEY (name, version) REFERENCES model_versions (name, version)
) WITHOUT ROWID;
CREATE INDEX model_version_files_by_digest ON model_version_files (digest);

CREATE TABLE registered_model_aliases (
    name    TEXT    NOT NULL,
    alias   TEXT    NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (name, alias),
    FOREIGN KEY (name, version) REFERENCES model_versions (name, version)
) WITHOUT ROWID;

-- ---- lifecycle -----------------------------------------------------------------------

-- Append-only: who moved which version from which stage to which, when, why, and the
-- evidence. Triggers refuse updates and deletes.
CREATE TABLE lifecycle_events (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    name               TEXT    NOT NULL,
    version            INTEGER NOT NULL,
    from_stage         TEXT,
    to_stage           TEXT    NOT NULL,
    actor              TEXT    NOT NULL,
    event_time         INTEGER NOT NULL,
    reason             TEXT    NOT NULL,
    evidence_kind      TEXT,
    evidence_reference TEXT,
    FOREIGN KEY (name, version) REFERENCES model_versions (name, version),
    CHECK ((evidence_kind IS NULL) = (evidence_reference IS NULL))
);
CREATE INDEX lifecycle_events_by_version ON lifecycle_events (name, version, id);

CREATE TRIGGER lifecycle_events_refuse_update BEFORE UPDATE ON lifecycle_events
BEGIN
    SELECT RAISE(ABORT, 'lifecycle_events is append-only');
END;

CREATE TRIGGER lifecycle_events_refuse_delete BEFORE DELETE ON lifecycle_events
BEGIN
    SELECT RAISE(ABORT, 'lifecycle_events is append-only');
END;

-- The MLflow-compatible API: the artifact tree the client writes through the artifact
-- proxy (paths mapped to content-addressed blobs), MLflow 3's logged models, what runs
-- take in (data sets, models) and give out (models), and the indexes that let run search
-- filter and order in SQL. ../sqlite holds the same schema.

-- One row per file the client PUT under /api/2.0/mlflow-artifacts/artifacts/<path>,
-- e.g. '1/<run id>/artifacts/notes.txt' or '1/models/<model id>/artifacts/MLmodel'.
-- A second PUT of a path points it at the new blob.
CREATE TABLE mlflow_artifacts (
    path         TEXT    NOT NULL PRIMARY KEY,
    digest       TEXT    NOT NULL,
    size         BIGINT  NOT NULL CHECK (size >= 0),
    updated_time BIGINT  NOT NULL
);

CREATE TABLE logged_models (
    model_id          TEXT    NOT NULL PRIMARY KEY,
    experiment_id     BIGINT  NOT NULL REFERENCES experiments (experiment_id),
    name              TEXT    NOT NULL,
    artifact_location TEXT    NOT NULL,
    status            TEXT    NOT NULL CHECK (status IN
        ('LOGGED_MODEL_PENDING', 'LOGGED_MODEL_READY', 'LOGGED_MODEL_UPLOAD_FAILED')),
    model_type        TEXT    NOT NULL,
    source_run_id     TEXT,
    lifecycle_stage   TEXT    NOT NULL CHECK (lifecycle_stage IN ('active', 'deleted')),
    creation_time     BIGINT  NOT NULL,
    last_updated_time BIGINT  NOT NULL
);
CREATE INDEX logged_models_by_experiment ON logged_models (experiment_id, creation_time);

CREATE TABLE logged_model_tags (
    model_id TEXT NOT NULL REFERENCES logged_models (model_id),
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (model_id, key)
);

CREATE TABLE logged_model_params (
    model_id TEXT NOT NULL REFERENCES logged_models (model_id),
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (model_id, key)
);

-- The data sets a run logged as inputs (`mlflow.log_input`); `tags` is a JSON array of
-- {key, value} (the context, e.g. training).
CREATE TABLE run_dataset_inputs (
    run_uuid    TEXT NOT NULL REFERENCES runs (run_uuid),
    name        TEXT NOT NULL,
    digest      TEXT NOT NULL,
    source_type TEXT NOT NULL,
    source      TEXT NOT NULL,
    schema      TEXT,
    profile     TEXT,
    tags        TEXT NOT NULL,
    PRIMARY KEY (run_uuid, name, digest)
);

-- Logged models a run took as input or produced as output.
CREATE TABLE run_model_links (
    run_uuid  TEXT    NOT NULL REFERENCES runs (run_uuid),
    direction TEXT    NOT NULL CHECK (direction IN ('input', 'output')),
    model_id  TEXT    NOT NULL,
    step      BIGINT  NOT NULL,
    PRIMARY KEY (run_uuid, direction, model_id)
);

-- Run search: a filter or an order on a metric, param or tag starts from its key.
CREATE INDEX latest_metrics_by_key_value ON latest_metrics (key, value);
CREATE INDEX params_by_key_value ON params (key, value);
CREATE INDEX run_tags_by_key_value ON run_tags (key, value);

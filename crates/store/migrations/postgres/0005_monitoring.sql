-- Monitoring: ground-truth labels that arrive after the prediction (joined by request
-- id), the closed windows of each serving version with their report, and the alerts the
-- model's rules raise from them.

-- One label per request of a model; a later label for the same request replaces it.
-- Labels are kept whether or not a logged prediction has their request id (it may not be
-- flushed yet, or the id may be wrong); reports count the ones that match nothing.
CREATE TABLE labels (
    name          TEXT    NOT NULL,
    request_id    TEXT    NOT NULL,
    label         DOUBLE PRECISION NOT NULL,
    received_time BIGINT  NOT NULL,
    PRIMARY KEY (name, request_id)
);
CREATE INDEX labels_by_time ON labels (name, received_time);

-- A window covers the predictions of one version and role with ids in
-- [first_prediction, last_prediction]. Its report (JSON) holds drift, live performance,
-- latency and errors; performance is recomputed when labels for the window arrive.
CREATE TABLE monitor_windows (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name             TEXT    NOT NULL,
    version          BIGINT  NOT NULL,
    role             TEXT    NOT NULL CHECK (role IN ('live', 'canary', 'shadow')),
    first_prediction BIGINT  NOT NULL,
    last_prediction  BIGINT  NOT NULL CHECK (last_prediction >= first_prediction),
    start_time       BIGINT  NOT NULL,
    end_time         BIGINT  NOT NULL,
    n_predictions    BIGINT  NOT NULL,
    n_labelled       BIGINT  NOT NULL,
    drift_share      DOUBLE PRECISION,
    report           TEXT    NOT NULL,
    computed_time    BIGINT  NOT NULL,
    UNIQUE (name, version, role, first_prediction)
);
CREATE INDEX monitor_windows_by_model ON monitor_windows (name, id);

-- An alert is open while its rule's condition holds for a model version; it is resolved
-- when a later window clears it. At most one open alert per model, version and rule.
CREATE TABLE alerts (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name           TEXT    NOT NULL,
    version        BIGINT  NOT NULL,
    rule           TEXT    NOT NULL,
    severity       TEXT    NOT NULL CHECK (severity IN ('warning', 'critical')),
    state          TEXT    NOT NULL CHECK (state IN ('open', 'resolved')),
    message        TEXT    NOT NULL,
    value          DOUBLE PRECISION,
    threshold      DOUBLE PRECISION,
    window_id      BIGINT  NOT NULL REFERENCES monitor_windows (id),
    last_window_id BIGINT  NOT NULL REFERENCES monitor_windows (id),
    opened_time    BIGINT  NOT NULL,
    updated_time   BIGINT  NOT NULL,
    resolved_time  BIGINT
);
CREATE UNIQUE INDEX alerts_one_open ON alerts (name, version, rule) WHERE state = 'open';
CREATE INDEX alerts_by_model ON alerts (name, id);

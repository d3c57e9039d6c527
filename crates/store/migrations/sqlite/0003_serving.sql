-- Serving: which versions of each model serve, in which role, and the prediction log.
-- A deployment row exists only while something is deployed; `revision` makes every change
-- a compare-and-set. Predictions are append-only and high-volume: no foreign keys (the
-- writer batches them off the serving path), tensors as JSON text.

CREATE TABLE deployments (
    name                  TEXT    NOT NULL PRIMARY KEY REFERENCES registered_models (name),
    live_version          INTEGER,
    canary_version        INTEGER,
    canary_percent        INTEGER CHECK (canary_percent BETWEEN 1 AND 99),
    shadow_version        INTEGER,
    previous_live_version INTEGER,
    revision              INTEGER NOT NULL CHECK (revision > 0),
    updated_by            TEXT    NOT NULL,
    updated_time          INTEGER NOT NULL,
    CHECK ((canary_version IS NULL) = (canary_percent IS NULL)),
    FOREIGN KEY (name, live_version) REFERENCES model_versions (name, version),
    FOREIGN KEY (name, canary_version) REFERENCES model_versions (name, version),
    FOREIGN KEY (name, shadow_version) REFERENCES model_versions (name, version),
    FOREIGN KEY (name, previous_live_version) REFERENCES model_versions (name, version)
) WITHOUT ROWID;

CREATE TABLE predictions (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id       TEXT    NOT NULL,
    name             TEXT    NOT NULL,
    version          INTEGER NOT NULL,
    role             TEXT    NOT NULL CHECK (role IN ('live', 'canary', 'shadow')),
    prediction_time  INTEGER NOT NULL,
    latency_micros   INTEGER NOT NULL,
    inputs           TEXT    NOT NULL,
    outputs          TEXT    NOT NULL,
    error            TEXT,
    agrees_with_live INTEGER CHECK (agrees_with_live IN (0, 1))
);
CREATE INDEX predictions_by_model ON predictions (name, id);
CREATE INDEX predictions_by_request ON predictions (request_id);

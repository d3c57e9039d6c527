-- The validation gate: each model's validation policy, versioned (the body kept as
-- written), and a record of every validation run. The report and the reference profile
-- are blobs in the artifact store, named here by their sha256. Booleans are 0/1 integers
-- so both backends read them alike.

CREATE TABLE validation_policies (
    name           TEXT    NOT NULL REFERENCES registered_models (name),
    policy_version INTEGER NOT NULL CHECK (policy_version > 0),
    body           TEXT    NOT NULL,
    format         TEXT    NOT NULL CHECK (format IN ('toml', 'json')),
    created_by     TEXT    NOT NULL,
    created_time   INTEGER NOT NULL,
    PRIMARY KEY (name, policy_version)
) WITHOUT ROWID;

CREATE TABLE validation_reports (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    name            TEXT    NOT NULL,
    version         INTEGER NOT NULL,
    report_digest   TEXT    NOT NULL,
    profile_digest  TEXT    NOT NULL,
    passed          INTEGER NOT NULL CHECK (passed IN (0, 1)),
    policy_version  INTEGER,
    validation_time INTEGER NOT NULL,
    FOREIGN KEY (name, version) REFERENCES model_versions (name, version),
    FOREIGN KEY (name, policy_version) REFERENCES validation_policies (name, policy_version)
);
CREATE INDEX validation_reports_by_version ON validation_reports (name, version, id);

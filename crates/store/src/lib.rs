//! Bascule's metadata store: `SqlMetadataStore`, the adapter of the `MetadataStore` port
//! on sqlx, for SQLite (one file under the data directory, the default) and PostgreSQL
//! (for teams and replicas). It owns the schema (MLflow-shaped experiments, runs, params,
//! metrics and tags; registered models, versions, their files, lineage, tags and aliases;
//! the append-only lifecycle event log), its migrations for both backends, and the SQL,
//! written once with `$N` placeholders over sqlx's `Any` driver. It enforces what needs a
//! transaction: version numbering, param immutability, and lifecycle transitions checked
//! against `Stage::check_transition` at commit time.
//!
//! It does not own the rules themselves (the state machine is in `bascule-core`, policies
//! in `bascule-lifecycle`), the bytes of artifacts (`bascule-artifacts`), input validation
//! beyond what integrity needs, or any wire format.

mod artifact_tree;
mod batch;
mod connect;
mod deployments;
mod error;
mod experiments;
mod feedback;
mod lifecycle;
mod logged_models;
mod monitoring;
mod port;
mod predictions;
mod registry;
mod run_data;
mod run_io;
mod run_load;
mod run_search;
mod runs;
mod validation;
mod versions;

pub use connect::SqlMetadataStore;

use bascule_core::now_millis;

#[cfg(test)]
mod schema_tests {
    use bascule_core::{ModelVersionStatus, RunStatus, Stage};

    const MIGRATIONS: [&str; 2] = [
        include_str!("../migrations/sqlite/0001_initial.sql"),
        include_str!("../migrations/postgres/0001_initial.sql"),
    ];

    /// The schemas' CHECK constraints list every value the domain types can take.
    #[test]
    fn both_schemas_accept_every_stage_and_status() {
        let stages = Stage::ALL.map(Stage::as_str);
        let run_statuses = RunStatus::ALL.map(RunStatus::as_str);
        let version_statuses = [
            ModelVersionStatus::PendingRegistration,
            ModelVersionStatus::FailedRegistration,
            ModelVersionStatus::Ready,
        ]
        .map(ModelVersionStatus::as_str);
        for schema in MIGRATIONS {
            for value in stages.iter().chain(&run_statuses).chain(&version_statuses) {
                assert!(
                    schema.contains(&format!("'{value}'")),
                    "{value} missing from a schema"
                );
            }
        }
    }
}

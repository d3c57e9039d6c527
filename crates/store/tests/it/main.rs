//! The store test-suite. Every test runs on SQLite (a fresh file) and, when
//! `BASCULE_TEST_DATABASE_URL` names a PostgreSQL server, on PostgreSQL too, in a fresh
//! database of its own. Set but unreachable, it fails the tests rather than skip them.

#![allow(clippy::unwrap_used)]

mod backends;
mod connect;
mod deployments;
mod experiments;
mod feedback;
mod fixtures;
mod lifecycle;
mod monitoring;
mod prediction_log;
mod registry;
mod run_data;
mod run_search;
mod runs;
mod validation;
mod versions;

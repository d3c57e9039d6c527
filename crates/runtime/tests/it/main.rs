//! The one integration-test binary of `bascule-runtime`: the tract engine and the MLflow
//! model directory, on the real fixtures under `fixtures/`.

#![allow(clippy::unwrap_used)]

mod coverage;
mod engine;
mod fixtures;
mod package;
mod refusals;
mod writer;

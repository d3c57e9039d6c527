//! The `bascule` binary: the CLI, configuration, and start-up of the server.

mod cli;
mod config;
mod server;
mod webhook;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc rather than glibc's malloc: serving allocates and frees a few dozen small
/// buffers per request (JSON, tensors, the log's record, freed on the log's writer), and
/// with glibc's allocator that was a quarter of the server's instructions per request
/// (docs/benchmarks.md, "The allocator").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let args = cli::Args::parse();
    match cli::run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

//! Reads a data set and prints its shape, its column types and how long the read took:
//! a quick check of the readers on a real file.
//!
//! ```text
//! cargo run --release -p bascule-datasets --example load -- reference.parquet
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use bascule_datasets::{ColumnValues, read_path};

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: load <data set: .csv, .parquet or .pq>");
        return ExitCode::FAILURE;
    };
    let started = Instant::now();
    let frame = match read_path(&path) {
        Ok(frame) => frame,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    let (mut numeric, mut text) = (0, 0);
    for column in frame.columns() {
        match &column.values {
            ColumnValues::Numeric(_) => numeric += 1,
            ColumnValues::Text(values) => {
                text += 1;
                println!("{}: {} levels", column.name, values.levels().len());
            }
        }
    }
    println!(
        "{} rows × {} columns ({numeric} numeric, {text} text) in {seconds:.3} s",
        frame.n_rows(),
        frame.n_columns(),
    );
    ExitCode::SUCCESS
}

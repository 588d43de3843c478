//! tessera's benchmark harness: tessera against a raw memory-mapped file and against the `zarrs` crate,
//! tensorstore and zarr-python, on the same data, in one run.
//!
//! [`run`] generates a smooth 3-D field plus noise in a temporary directory, writes it as a raw file and
//! as Zarr v2 arrays (uncompressed, zstd, blosc-lz4 with shuffle; cube and slab chunks), runs every
//! workload (`whole`, `slab-axis0..2`, `crops`, `chunks`, `write`, `copy`) cold and warm on every
//! backend, checks that all backends delivered the same bytes (CRC-32), and prints a table; `--json` and
//! `--chart` write the measurements and an SVG chart. The `tessera bench` command is this function:
//!
//! ```no_run
//! use clap::Parser;
//!
//! #[derive(Parser)]
//! enum Cli {
//!     /// Benchmark tessera against raw mmap and other Zarr libraries.
//!     Bench(tessera_bench::BenchArgs),
//! }
//!
//! match Cli::parse() {
//!     Cli::Bench(args) => tessera_bench::run(&args)?,
//! }
//! # Ok::<(), tessera_bench::BenchError>(())
//! ```
//!
//! Each Rust measurement runs in a child process: the current executable started again with the same
//! arguments and [`CHILD_ENV`] set, which [`run`] recognises first thing. So a binary calling [`run`]
//! needs no other wiring, as long as it calls `run` with the same command line.
//!
//! Modules: [`args`] (the command line), [`dataset`] (the field and its arrays), [`workload`] (what is
//! run and how it is checksummed), [`backend`] (tessera, mmap, zarrs and the Python peers), [`cache`]
//! (eviction, warming, residency), [`floor`] (memcpy, decode and device floors: each result's
//! efficiency), [`scenario`] (local, and the block-I/O-throttled disk), [`measure`] (timing, peak
//! memory, child processes), [`report`] (table, JSON, targets), [`chart`].

pub mod args;
pub mod backend;
pub mod cache;
pub mod chart;
pub mod dataset;
pub mod error;
pub mod floor;
pub mod measure;
pub mod report;
mod runner;
pub mod s3;
pub mod scenario;
pub mod workload;

pub use args::{BenchArgs, parse_size};
pub use backend::{Backend, Outcome, RunSpec};
pub use error::{BenchError, BenchResult};
pub use measure::CHILD_ENV;
pub use report::{Record, Report};
pub use runner::PEERS_SETUP;

/// Runs the benchmark `args` describe, or — when [`CHILD_ENV`] is set — the single measurement of a child
/// process the benchmark started.
///
/// # Errors
/// [`BenchError::InvalidArgument`] for arguments that make no sense; I/O, store and array errors while
/// generating the dataset; [`BenchError::ChecksumMismatch`] when backends disagree on the data (the table
/// and JSON are still written first); [`BenchError::RunsFailed`] when some measurements failed.
pub fn run(args: &BenchArgs) -> Result<(), BenchError> {
    if let Some(spec) = std::env::var_os(CHILD_ENV) {
        return measure::child_main(std::path::Path::new(&spec));
    }
    runner::bench(args)
}

//! `tessera-bench`: the benchmark harness on its own (the same as `tessera bench`).

use std::process::ExitCode;

use clap::Parser;

/// Benchmark tessera against raw mmap, zarrs, tensorstore and zarr-python on the same data.
#[derive(Parser)]
#[command(name = "tessera-bench", version)]
struct Cli {
    #[command(flatten)]
    args: tessera_bench::BenchArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match tessera_bench::run(&cli.args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tessera-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

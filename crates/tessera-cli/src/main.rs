//! The `tessera` command: inspect, export, import and copy (rechunk) Zarr v2 arrays in local and cloud
//! stores.
//!
//! Parsing (clap, [`cli`]) only splits the command line into strings and flags; each command then
//! validates its options ([`options`]) before touching any store, so a bad flag fails fast with
//! exit code 2 and a message naming it. Work failures exit with 1, internal errors (panics) with 101;
//! every error is one line on stderr, `tessera: error: ...`, with its causes. A closed stdout (`| head`)
//! ends the command quietly with success.

mod bounded_store;
mod cli;
mod copy;
mod error;
mod export;
mod export_json;
mod hierarchy;
mod import;
mod info;
mod input;
mod memory;
mod objects;
mod options;
mod progress;
mod rechunk;
mod selection_files;
mod slabs;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::error::{CliError, CliResult};

fn main() -> ExitCode {
    install_panic_hook();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // --help and --version are "errors" that print to stdout and succeed.
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() { 2 } else { 0 });
        }
    };
    memory::release_large_buffers();
    match run(&cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if err.is_broken_pipe() => ExitCode::SUCCESS,
        Err(err) => {
            let _ = writeln!(std::io::stderr(), "tessera: error: {}", err.one_line());
            ExitCode::from(err.exit_code())
        }
    }
}

fn run(command: &Command) -> CliResult<()> {
    match command {
        Command::Info(args) => info::run(args),
        Command::Export(args) => export::run(args),
        Command::Import(args) => import::run(args),
        Command::Copy(args) => copy::run(args),
        Command::Bench(args) => tessera_bench::run(args)
            .map_err(|e| CliError::new("the benchmark failed").with_source(e)),
    }
}

/// A panic is a bug: say so in one line, without a backtrace dump, and exit with 101.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string());
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let _ = writeln!(
            std::io::stderr(),
            "tessera: internal error: {message}{place} (this is a bug; please report it)"
        );
    }));
}

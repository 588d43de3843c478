//! Measuring one run: wall time with pauses, peak memory, and the child process each Rust run lives in.
//!
//! Peak memory is the process's high-water mark of resident memory (`VmHWM` in `/proc/self/status`),
//! reset just before the workload starts by writing `5` to `/proc/self/clear_refs`, so it covers the
//! workload alone (plus the process's small baseline). Each Rust run happens in a fresh child process —
//! the current executable re-run with the same arguments and [`CHILD_ENV`] naming a spec file — so no run
//! inherits another's heap, mappings or thread pools.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::backend::{Outcome, RunSpec};
use crate::error::{BenchError, BenchResult};

/// The environment variable that makes [`run`](crate::run) act as a workload child: it names the file
/// holding the [`RunSpec`] as JSON.
pub const CHILD_ENV: &str = "TESSERA_BENCH_CHILD";

/// Overrides the executable started for child runs (default: the current executable).
pub const CHILD_EXE_ENV: &str = "TESSERA_BENCH_EXE";

/// The marker in front of the child's result line on standard output.
const RESULT_MARK: &str = "TESSERA_BENCH_RESULT ";

/// A stopwatch that can pause, so checksumming between the pieces of a workload is not timed.
#[derive(Debug)]
pub struct Stopwatch {
    total: Duration,
    running: Option<Instant>,
}

impl Stopwatch {
    /// A stopwatch that is running.
    pub fn started() -> Stopwatch {
        Stopwatch {
            total: Duration::ZERO,
            running: Some(Instant::now()),
        }
    }

    /// Resumes timing (no effect when running).
    pub fn start(&mut self) {
        if self.running.is_none() {
            self.running = Some(Instant::now());
        }
    }

    /// Pauses timing (no effect when paused).
    pub fn stop(&mut self) {
        if let Some(t) = self.running.take() {
            self.total += t.elapsed();
        }
    }

    /// Seconds timed so far (stops the watch).
    pub fn seconds(&mut self) -> f64 {
        self.stop();
        self.total.as_secs_f64()
    }
}

/// Resets this process's resident-memory high-water mark to its current resident memory. Returns false
/// when the kernel does not allow it (the peak then covers the whole process's life).
pub fn reset_peak_rss() -> bool {
    std::fs::OpenOptions::new()
        .write(true)
        .open("/proc/self/clear_refs")
        .and_then(|mut f| f.write_all(b"5"))
        .is_ok()
}

/// This process's resident-memory high-water mark in bytes (`VmHWM`), if the system reports it.
pub fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|line| {
        let rest = line.strip_prefix("VmHWM:")?;
        let kib: u64 = rest.trim().trim_end_matches("kB").trim().parse().ok()?;
        Some(kib * 1024)
    })
}

/// Runs `spec` in a child process and returns what it measured.
///
/// # Errors
/// [`BenchError::Child`] when the child fails or prints no result; I/O errors writing the spec file.
pub fn run_child(spec: &RunSpec, spec_dir: &Path) -> BenchResult<Outcome> {
    std::fs::create_dir_all(spec_dir).map_err(|e| BenchError::io("creating", spec_dir, e))?;
    let spec_path = spec_dir.join("spec.json");
    std::fs::write(&spec_path, serde_json::to_vec(spec)?)
        .map_err(|e| BenchError::io("writing", &spec_path, e))?;
    let exe = match std::env::var_os(CHILD_EXE_ENV) {
        Some(p) => PathBuf::from(p),
        None => std::env::current_exe()
            .map_err(|e| BenchError::io("locating", "the current executable", e))?,
    };
    let output = Command::new(&exe)
        .args(std::env::args_os().skip(1))
        .env(CHILD_ENV, &spec_path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| BenchError::io("starting", &exe, e))?;
    let what = spec.describe();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix(RESULT_MARK));
    match (output.status.success(), line) {
        (true, Some(line)) => Ok(serde_json::from_str(line)?),
        _ => Err(BenchError::Child {
            what,
            message: format!(
                "{}; stderr: {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ),
        }),
    }
}

/// The child's side: reads the spec named by [`CHILD_ENV`], runs it, prints the result line.
///
/// # Errors
/// Whatever the run returns; the parent reports it with the child's standard error.
pub(crate) fn child_main(spec_path: &Path) -> BenchResult<()> {
    let text = std::fs::read(spec_path).map_err(|e| BenchError::io("reading", spec_path, e))?;
    let spec: RunSpec = serde_json::from_slice(&text)?;
    if let Some(procs) = &spec.cgroup_procs {
        crate::scenario::join(procs, std::process::id())?;
    }
    let outcome = crate::backend::run_in_process(&spec)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{RESULT_MARK}{}", serde_json::to_string(&outcome)?)
        .map_err(|e| BenchError::io("writing", "standard output", e))?;
    Ok(())
}

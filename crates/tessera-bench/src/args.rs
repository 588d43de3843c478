//! [`BenchArgs`]: the command line of `tessera bench` (and of the `tessera-bench` binary).

use std::path::PathBuf;
use std::str::FromStr;

use crate::backend::Backend;
use crate::dataset::ElementType;
use crate::error::{BenchError, BenchResult};
use crate::scenario::{Rate, ScenarioKind, parse_rate};
use crate::workload::{Cache, WorkloadKind};

/// Options of a benchmark run. Every field has a default: with no arguments the harness generates a
/// 256 MiB `u16` field, runs every workload on every backend it finds, cold and warm, and prints a table.
#[derive(Clone, Debug, clap::Args)]
pub struct BenchArgs {
    /// Size of the generated array (decoded), e.g. `256MiB`, `64MiB`, `1GiB`, `500MB`.
    #[arg(long, value_name = "SIZE", default_value = "256MiB", value_parser = parse_size)]
    pub size: u64,

    /// Element type of the generated field.
    #[arg(long, value_name = "TYPE", default_value = "u16")]
    pub dtype: ElementType,

    /// A tiny run for CI and smoke tests: 8 MiB, fewer crops (overrides `--size` and `--crops`).
    #[arg(long)]
    pub quick: bool,

    /// Write every measurement as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Draw a chart of the measurements (SVG) to this file.
    #[arg(long, value_name = "FILE")]
    pub chart: Option<PathBuf>,

    /// Backends to run, comma-separated: tessera, mmap, zarrs, tensorstore, zarr-python, tessera-python
    /// (the Python package, when the peers' Python can import it), h5py (not by default: it writes ten
    /// HDF5 copies of the field first), tessera-cache (not by default: tessera with a decoded-chunk
    /// cache, reads only).
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "tessera,mmap,zarrs,tensorstore,zarr-python,tessera-python"
    )]
    pub backends: Vec<Backend>,

    /// Workloads to run, comma-separated: whole, whole-reused, slabs, crops, chunks, write, copy,
    /// points (opt-in: 100,000 random elements in one coordinate selection; every backend but zarrs and h5py),
    /// rows (opt-in: 1% of the rows, random, as one integer list), epochs (opt-in: the crops read
    /// three times over; with the tessera-cache backend, tessera with a decoded-chunk cache).
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "whole,whole-reused,slabs,crops,chunks,write,copy"
    )]
    pub workloads: Vec<WorkloadKind>,

    /// Cache states to measure, comma-separated: cold, warm.
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "cold,warm"
    )]
    pub cache: Vec<Cache>,

    /// Scenarios, comma-separated: local (this machine's disk and page cache), disk (the cold workloads
    /// again on a block-I/O throttled device: see --disk-bandwidth; needs root), s3 (whole, slab and
    /// crop reads over S3 on loopback through a link: see --s3-latency-ms, --s3-bandwidth), all.
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "local"
    )]
    pub scenario: Vec<ScenarioKind>,

    /// Read bandwidth of the `disk` scenario's throttled device, e.g. `200M` (200 MiB/s) or `50MB`.
    #[arg(long, value_name = "RATE", default_value = "200M", value_parser = parse_rate)]
    pub disk_bandwidth: Rate,

    /// Latency the `s3` scenario's link adds to every request, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 20)]
    pub s3_latency_ms: u64,

    /// Bandwidth of the `s3` scenario's link (all connections together), e.g. `200M` (200 MiB/s).
    #[arg(long, value_name = "RATE", default_value = "200M", value_parser = parse_rate)]
    pub s3_bandwidth: Rate,

    /// Also write two Zarr v3 arrays (zstd 64³ cube chunks, plain and in 256³ shards) and run the read
    /// workloads (whole, slabs, crops) on them with tessera, zarrs, tensorstore (zarr3 driver) and
    /// zarr-python 3. Off by default, to keep the default run's time.
    #[arg(long)]
    pub zarr_v3: bool,

    /// Number of random crops in the `crops` workload (fixed seed).
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub crops: usize,

    /// Seed of the noise and of the crop positions.
    #[arg(long, value_name = "N", default_value_t = 7)]
    pub seed: u64,

    /// Python interpreter with zarr and tensorstore for the peers (default: `$TESSERA_BENCH_PYTHON`, else
    /// `.venv-zarr3/bin/python` in the current directory or a parent).
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,

    /// Create the dataset's temporary directory under DIR (default: the system's temporary directory).
    /// The page-cache eviction needs a real file system there (not tmpfs).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Keep the dataset directory instead of removing it at the end (its path is printed).
    #[arg(long)]
    pub keep: bool,
}

impl BenchArgs {
    /// The arguments of a run with every default (what `tessera bench` does with no arguments).
    pub fn defaults() -> BenchArgs {
        use clap::{Args, FromArgMatches};
        let cmd = BenchArgs::augment_args(clap::Command::new("tessera-bench"));
        let matches = cmd
            .try_get_matches_from(["tessera-bench"])
            .expect("the defaults parse");
        BenchArgs::from_arg_matches(&matches).expect("the defaults parse")
    }

    /// The size in bytes this run generates, after `--quick`.
    pub fn effective_size(&self) -> u64 {
        if self.quick { 8 << 20 } else { self.size }
    }

    /// The number of crops this run reads, after `--quick`.
    pub fn effective_crops(&self) -> usize {
        if self.quick {
            self.crops.min(20)
        } else {
            self.crops
        }
    }

    pub(crate) fn validate(&self) -> BenchResult<()> {
        let size = self.effective_size();
        if size < 64 * 1024 {
            return Err(BenchError::InvalidArgument(format!(
                "--size {size} bytes is too small (at least 64KiB)"
            )));
        }
        if self.backends.is_empty()
            || self.workloads.is_empty()
            || self.cache.is_empty()
            || self.scenario.is_empty()
        {
            return Err(BenchError::InvalidArgument(
                "--backends, --workloads, --cache and --scenario need at least one entry each"
                    .into(),
            ));
        }
        Ok(())
    }
}

/// Parses a byte size: a number with an optional unit (`B`, `KiB`, `MiB`, `GiB`, `KB`, `MB`, `GB`, `k`,
/// `M`, `G`; binary for the one-letter forms).
///
/// ```
/// use tessera_bench::parse_size;
/// assert_eq!(parse_size("64MiB"), Ok(64 << 20));
/// assert_eq!(parse_size("1.5GB"), Ok(1_500_000_000));
/// assert_eq!(parse_size("4096"), Ok(4096));
/// assert!(parse_size("lots").is_err());
/// ```
///
/// # Errors
/// A message naming the input when it is not a number with a known unit.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value = f64::from_str(num).map_err(|_| format!("{text:?} is not a size like 256MiB"))?;
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kib" => 1024.0,
        "m" | "mib" => 1024.0 * 1024.0,
        "g" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        _ => {
            return Err(format!(
                "{text:?}: unknown unit (use B, KiB, MiB, GiB, KB, MB or GB)"
            ));
        }
    };
    let bytes = value * scale;
    if !bytes.is_finite() || bytes < 0.0 || bytes > u64::MAX as f64 {
        return Err(format!("{text:?} is out of range"));
    }
    Ok(bytes.round() as u64)
}

/// The Python interpreter to use for the peers, if any: the argument, `$TESSERA_BENCH_PYTHON`, or
/// `.venv-zarr3/bin/python` in the current directory or one of its parents.
pub(crate) fn find_python(explicit: Option<&PathBuf>) -> Option<PathBuf> {
    if let Some(p) = explicit {
        return Some(p.clone());
    }
    if let Some(p) = std::env::var_os("TESSERA_BENCH_PYTHON") {
        return Some(PathBuf::from(p));
    }
    let mut dir = std::env::current_dir().ok()?;
    loop {
        let candidate = dir.join(".venv-zarr3/bin/python");
        if candidate.exists() {
            return Some(candidate);
        }
        if !dir.pop() {
            return None;
        }
    }
}

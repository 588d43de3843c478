//! Backends: the libraries a workload runs on, and the [`RunSpec`] every one of them receives.
//!
//! The Rust backends ([`tessera`], [`mmap`], [`zarrs`]) run inside a child process
//! ([`run_in_process`]); the Python peers (tensorstore and zarr-python) run in one long-lived
//! `benches/peers.py` process ([`python`]) that receives the same specs as JSON lines.

pub mod mmap;
pub mod python;
pub mod tessera;
pub mod zarrs;

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::dataset::{ElementType, Sample};
use crate::error::{BenchError, BenchResult};
use crate::workload::{Checksum, Region, Workload};
use crate::{floor, measure};

/// A library the harness measures.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
pub enum Backend {
    /// tessera's Zarr arrays.
    #[serde(rename = "tessera")]
    Tessera,
    /// A raw file mapped with tessera-mmap (what `numpy.memmap` does).
    #[serde(rename = "mmap")]
    Mmap,
    /// The `zarrs` crate, in-process.
    #[serde(rename = "zarrs")]
    Zarrs,
    /// tensorstore's `zarr` driver, through `benches/peers.py`.
    #[serde(rename = "tensorstore")]
    Tensorstore,
    /// zarr-python 3 (`zarr_format=2`), through `benches/peers.py`.
    #[serde(rename = "zarr-python")]
    #[value(name = "zarr-python")]
    ZarrPython,
    /// h5py on HDF5 copies of the arrays (same chunks; blosc and zstd through hdf5plugin, and HDF5's own
    /// gzip and lzf), through `benches/peers.py`.
    #[serde(rename = "h5py")]
    #[value(name = "h5py")]
    H5py,
    /// tessera's Zarr arrays with a decoded-chunk cache (`Array::set_chunk_cache`, 4 GiB): reads
    /// only, for repeated reads of the same chunks (`epochs`).
    #[serde(rename = "tessera-cache")]
    #[value(name = "tessera-cache")]
    TesseraCache,
    /// tessera's own Python package (`crates/tessera-python`), through `benches/peers.py`.
    #[serde(rename = "tessera-python")]
    #[value(name = "tessera-python")]
    TesseraPython,
}

impl Backend {
    /// The name in the JSON and the table.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Tessera => "tessera",
            Backend::TesseraCache => "tessera-cache",
            Backend::Mmap => "mmap",
            Backend::Zarrs => "zarrs",
            Backend::Tensorstore => "tensorstore",
            Backend::ZarrPython => "zarr-python",
            Backend::H5py => "h5py",
            Backend::TesseraPython => "tessera-python",
        }
    }

    /// Whether the backend runs `workload`: `whole-reused` needs a read into a caller's buffer, which
    /// tessera (`read_into`), raw mmap and h5py (`read_direct`) have, and the others are not asked for.
    /// `points` is one coordinate selection (zarr's `vindex`) in tessera, zarr-python, tensorstore and
    /// tessera's Python package; raw mmap reads the same elements one by one (its floor); zarrs has no
    /// coordinate selection and h5py's fancy indexing needs sorted single-axis lists: neither is asked.
    /// `rows` (a sorted list of rows) is one selection wherever the library has lists (zarr's
    /// `oindex`, h5py's list index); zarrs and raw mmap read the rows one by one.
    pub fn supports(self, workload: Workload) -> bool {
        match workload {
            Workload::WholeReused => {
                matches!(self, Backend::Tessera | Backend::Mmap | Backend::H5py)
            }
            Workload::Points => !matches!(self, Backend::Zarrs | Backend::H5py),
            Workload::Write | Workload::Copy => self != Backend::TesseraCache,
            _ => true,
        }
    }

    /// Whether the backend reads Zarr arrays of `format` (2 or 3): tessera's Python package does not
    /// read v3 yet.
    pub fn reads_format(self, format: u8) -> bool {
        format == 2 || !matches!(self, Backend::TesseraPython | Backend::H5py)
    }

    /// True for the backends `benches/peers.py` runs.
    pub fn is_python(self) -> bool {
        matches!(
            self,
            Backend::Tensorstore | Backend::ZarrPython | Backend::H5py | Backend::TesseraPython
        )
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Everything a backend needs to run one workload, as JSON for child processes and `peers.py`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunSpec {
    /// Who runs it.
    pub backend: Backend,
    /// The element type.
    pub dtype: ElementType,
    /// The numpy type string of the elements (for the Python side).
    pub typestr: String,
    /// The array shape.
    pub shape: Vec<u64>,
    /// What to do.
    pub workload: Workload,
    /// The array read: a Zarr array's directory, or the raw file for `mmap`.
    pub source: PathBuf,
    /// The chunk shape of `source` (for `mmap`, the block shape that `chunks` and `copy` use).
    pub chunks: Vec<u64>,
    /// The regions read, in order: the slab for `slab-axisK`, the crops, the chunk grid's blocks for
    /// `chunks`, the slabs that `copy` moves; empty for `whole` and `write`.
    pub regions: Vec<Region>,
    /// The array written by `write` and `copy`: a directory holding a `.zarray` (and, for a warm run,
    /// the chunks of the previous run), or the raw file for `mmap` (absent for a cold run).
    pub dest: Option<PathBuf>,
    /// The raw file holding the data `write` writes (loaded into memory before the timing starts).
    pub raw: PathBuf,
    /// How many times to run the workload in the same process; the median time is reported. Warm reads
    /// run three times, so a one-off stall (a page the kernel reclaimed, a thread pool starting) does not
    /// decide the figure; cold runs and writes once.
    #[serde(default = "one")]
    pub repeat: u32,
    /// A cgroup's `cgroup.procs` the child joins before it runs (the `disk` scenario's throttle).
    #[serde(default)]
    pub cgroup_procs: Option<PathBuf>,
    /// The `s3` scenario's server (`http://127.0.0.1:PORT`): the array is then read over S3, from the
    /// bucket's prefix named as `source`'s directory.
    #[serde(default)]
    pub s3_endpoint: Option<String>,
}

fn one() -> u32 {
    1
}

impl RunSpec {
    /// `tessera zstd-cubes whole (cold)`-style description for messages.
    pub fn describe(&self) -> String {
        format!(
            "{} {} {}",
            self.backend,
            self.source
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            self.workload
        )
    }
}

/// What a run measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// Wall time of the workload, including opening the array, excluding checksumming.
    pub seconds: f64,
    /// Decoded bytes delivered (read) or accepted (written).
    pub bytes: u64,
    /// CRC-32 of the delivered bytes in order (`None` for `write` and `copy`, checked by reading the
    /// destination back).
    pub checksum: Option<u32>,
    /// Peak resident memory of the process during the workload.
    pub peak_rss_bytes: Option<u64>,
}

/// Runs a spec of a Rust backend in this process: loads the input of a `write`, resets the peak-memory
/// mark, runs, and reads the peak.
///
/// # Errors
/// [`BenchError::InvalidArgument`] for a Python backend; the backend's own errors.
pub fn run_in_process(spec: &RunSpec) -> BenchResult<Outcome> {
    match spec.dtype {
        ElementType::U16 => run_typed::<u16>(spec),
        ElementType::F32 => run_typed::<f32>(spec),
    }
}

fn run_typed<T: Sample>(spec: &RunSpec) -> BenchResult<Outcome> {
    let input: Option<Vec<T>> = if spec.workload == Workload::Write {
        Some(load_raw::<T>(&spec.raw)?)
    } else {
        None
    };
    // The same allocation conditions for every backend and the floors: memory the workload allocates
    // was touched once before (see `floor::pre_touch`), and `whole-reused` reads into a touched buffer.
    let output_bytes = usize::try_from(whole_bytes(spec)).unwrap_or(usize::MAX);
    let mut output = Vec::new();
    if spec.workload == Workload::WholeReused {
        output = vec![0u8; output_bytes];
        floor::touch(&mut output);
    } else {
        floor::pre_touch(largest_piece_bytes(spec).saturating_mul(2));
    }
    measure::reset_peak_rss();
    let mut outcomes = Vec::new();
    for _ in 0..spec.repeat.max(1) {
        outcomes.push(match spec.backend {
            Backend::Tessera | Backend::TesseraCache => {
                tessera::run::<T>(spec, input.as_deref(), &mut output)?
            }
            Backend::Mmap => mmap::run::<T>(spec, input.as_deref(), &mut output)?,
            Backend::Zarrs => zarrs::run::<T>(spec, input.as_deref())?,
            other => {
                return Err(BenchError::InvalidArgument(format!(
                    "{other} runs in benches/peers.py, not in a Rust child"
                )));
            }
        });
    }
    let mut outcome = median(outcomes, &spec.describe())?;
    outcome.peak_rss_bytes = measure::peak_rss();
    Ok(outcome)
}

/// Bytes of the largest piece a workload delivers at once (the whole array for `whole`, `write`).
fn largest_piece_bytes(spec: &RunSpec) -> usize {
    let elements = if spec.regions.is_empty() {
        spec.shape.iter().product::<u64>()
    } else {
        spec.regions.iter().map(Region::elements).max().unwrap_or(0)
    };
    usize::try_from(elements * spec.dtype.itemsize() as u64).unwrap_or(usize::MAX)
}

/// The outcome with the median time; every repetition must have delivered the same data.
pub(crate) fn median(mut outcomes: Vec<Outcome>, what: &str) -> BenchResult<Outcome> {
    if let Some(first) = outcomes.first()
        && let Some(other) = outcomes
            .iter()
            .find(|o| o.checksum != first.checksum || o.bytes != first.bytes)
    {
        return Err(BenchError::InvalidArgument(format!(
            "{what}: repetitions delivered different data ({:?} and {:?})",
            first.checksum, other.checksum
        )));
    }
    outcomes.sort_by(|a, b| a.seconds.total_cmp(&b.seconds));
    let mid = outcomes.len() / 2;
    outcomes
        .into_iter()
        .nth(mid)
        .ok_or_else(|| BenchError::InvalidArgument(format!("{what}: no repetition ran")))
}

/// Reads the raw file into memory (native byte order: the dataset is little-endian, as the host).
fn load_raw<T: Sample>(path: &std::path::Path) -> BenchResult<Vec<T>> {
    let bytes = std::fs::read(path).map_err(|e| BenchError::io("reading", path, e))?;
    let size = std::mem::size_of::<T>();
    Ok(bytes.chunks_exact(size).map(T::from_le).collect())
}

/// Adds a delivered piece to a checksum; returns its size in bytes.
pub(crate) fn absorb<T: Sample>(sum: &mut Checksum, data: &[T]) -> u64 {
    let bytes = T::as_bytes(data);
    sum.update(bytes);
    bytes.len() as u64
}

/// The contiguous slice of an owned ndarray result (tessera and mmap reads are standard layout).
pub(crate) fn slice_of<T: Sample>(a: &ndarray::ArrayD<T>) -> &[T] {
    a.as_slice()
        .expect("reads return C-order, contiguous arrays")
}

/// Decoded bytes of the whole array.
pub(crate) fn whole_bytes(spec: &RunSpec) -> u64 {
    spec.shape.iter().product::<u64>() * spec.dtype.itemsize() as u64
}

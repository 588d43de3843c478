//! What a run sets up around its measurements: the machine's rates for the floors, the Python peers and
//! the HDF5 copies, the scenario being run, the destinations' clean-up, the read-back checksums and the
//! JSON's description of the machine.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::json;

use super::{PEERS_SETUP, array_name};
use crate::args::{BenchArgs, find_python};
use crate::backend::Backend;
use crate::backend::python::{PeerProcess, PeerVersions};
use crate::dataset::{
    Dataset, ElementType, Hdf5Array, Sample, chunk_label, hdf5_arrays, open_array,
};
use crate::error::{BenchError, BenchResult};
use crate::floor::{self, ChunkCosts};
use crate::s3::LinkShape;
use crate::workload::Checksum;

/// This machine's limits, measured once per run for the floors (see [`crate::floor`]).
pub(super) struct Rates {
    /// Parallel memcpy between pre-touched buffers, bytes per second.
    pub(super) memcpy: f64,
    /// Cold parallel read of the raw file, bytes per second.
    pub(super) device: f64,
    /// Fraction of the raw file resident when the device rate was measured (eviction did not take above
    /// a few percent).
    pub(super) device_resident: f64,
    /// What reading each chunk of each array costs, by array name.
    pub(super) costs: HashMap<String, ChunkCosts>,
}

/// The scenario being run.
pub(super) struct ScenarioRun {
    /// `local`, `disk-200M`, ...
    pub(super) name: String,
    /// The device's read rate for the device floor, bytes per second.
    pub(super) device_rate: f64,
    /// The cgroup every Rust workload child joins (`disk`).
    pub(super) cgroup_procs: Option<PathBuf>,
    /// The S3 server the arrays are read from, and its link (`s3`).
    pub(super) s3: Option<(String, LinkShape)>,
}

impl ScenarioRun {
    pub(super) fn local() -> ScenarioRun {
        ScenarioRun {
            name: "local".into(),
            device_rate: f64::NAN,
            cgroup_procs: None,
            s3: None,
        }
    }
}

/// Measures memcpy, the device and every array's chunk decoding, and prints them.
pub(super) fn measure_rates(dataset: &Dataset, args: &BenchArgs) -> BenchResult<Rates> {
    let started = Instant::now();
    let memcpy =
        floor::memcpy_rate(usize::try_from(dataset.nbytes().min(256 << 20)).unwrap_or(256 << 20));
    let (device, device_resident) = floor::device_rate(&dataset.raw_path)?;
    let mut costs = HashMap::new();
    let mut decode = Vec::new();
    // v3 arrays have no decode floor: measuring one would decode each shard's inner chunks.
    for c in dataset.configs.iter().filter(|c| c.zarr_format == 2) {
        let cost = ChunkCosts::measure(c, &dataset.shape, args.dtype)?;
        decode.push(format!(
            "{} {:.1}",
            array_name(c),
            dataset.nbytes() as f64 / cost.wall_seconds.max(1e-9) / 1e9
        ));
        costs.insert(array_name(c), cost);
    }
    println!(
        "floors (measured in {:.1} s): memcpy {:.1} GB/s, device {:.2} GB/s{}, decode GB/s: {}",
        started.elapsed().as_secs_f64(),
        memcpy / 1e9,
        device / 1e9,
        if device_resident > 0.05 {
            format!(
                " (eviction did not take, {:.0}% was resident: that is the page cache's rate)",
                device_resident * 100.0
            )
        } else {
            String::new()
        },
        decode.join(", ")
    );
    Ok(Rates {
        memcpy,
        device,
        device_resident,
        costs,
    })
}

/// Writes the HDF5 copies h5py reads (with the peers process) and prints their sizes.
pub(super) fn prepare_hdf5(
    peers: &mut PeerProcess,
    dataset: &Dataset,
    args: &BenchArgs,
    plugins: bool,
) -> BenchResult<Vec<Hdf5Array>> {
    let started = Instant::now();
    let mut arrays = hdf5_arrays(&dataset.root, &dataset.shape, args.dtype, plugins);
    let dir = dataset.root.join("hdf5");
    std::fs::create_dir_all(&dir).map_err(|e| BenchError::io("creating", &dir, e))?;
    let sizes = peers.prepare_hdf5(
        &dataset.raw_path,
        args.dtype.typestr(),
        &dataset.shape,
        &arrays,
    )?;
    for (a, size) in arrays.iter_mut().zip(sizes) {
        a.stored_bytes = size;
    }
    println!(
        "HDF5 copies for h5py, written in {:.1} s{}:",
        started.elapsed().as_secs_f64(),
        if plugins {
            ""
        } else {
            " (no hdf5plugin: without zstd and blosc-lz4)"
        }
    );
    for a in &arrays {
        println!(
            "  {:<16} chunks {:<12} stored {:>8.1} MiB (ratio {:.2})",
            a.name,
            chunk_label(&a.chunks),
            a.stored_bytes as f64 / (1u64 << 20) as f64,
            dataset.nbytes() as f64 / a.stored_bytes.max(1) as f64
        );
    }
    Ok(arrays)
}

pub(super) fn start_peers(args: &BenchArgs, dir: &Path) -> Option<PeerProcess> {
    let wanted: Vec<Backend> = args
        .backends
        .iter()
        .copied()
        .filter(|b| b.is_python())
        .collect();
    if wanted.is_empty() {
        return None;
    }
    let Some(python) = find_python(args.python.as_ref()) else {
        println!(
            "skipping tensorstore and zarr-python: no Python with them found (set it up with: {PEERS_SETUP}, \
             or pass --python)"
        );
        return None;
    };
    match PeerProcess::start(&python, dir) {
        Ok(p) => {
            for b in &wanted {
                if !p.versions.has(*b) {
                    println!(
                        "skipping {b}: not importable by {} (set it up with: {PEERS_SETUP})",
                        python.display()
                    );
                }
            }
            Some(p)
        }
        Err(e) => {
            println!("skipping tensorstore and zarr-python: {e}");
            None
        }
    }
}

/// Moves a written destination out of the way, into `root/retired`, to be deleted with the dataset at
/// the end of the run. Deleting a chunked array costs little CPU but, on a file system mounted with
/// `discard`, a TRIM per file that the next `sync` (every cold run's eviction starts with one) waits for:
/// ~18 s for the 4096 files of one cube-chunked array here. Renaming costs nothing; the deletions at the
/// end are not followed by a sync. The price is disk space: every destination of the run stays until
/// its end (a few GiB at the default size).
pub(super) fn retire(root: &Path, path: &Path) -> BenchResult<()> {
    static RETIRED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    if std::fs::symlink_metadata(path).is_err() {
        return Ok(());
    }
    let dir = root.join("retired");
    std::fs::create_dir_all(&dir).map_err(|e| BenchError::io("creating", &dir, e))?;
    let n = RETIRED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let to = dir.join(n.to_string());
    std::fs::rename(path, &to).map_err(|e| BenchError::io("moving aside", path, e))
}

pub(super) fn remove_path(path: &Path) -> BenchResult<()> {
    let result = if path.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    };
    match result {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(BenchError::io("removing", path, e)),
    }
}

/// Reads a written destination back with tessera (or tessera-mmap for a raw file) and checksums it.
pub(super) fn readback_checksum(dtype: ElementType, path: &Path, raw: bool) -> BenchResult<u32> {
    fn typed<T: Sample>(path: &Path, raw: bool) -> BenchResult<u32> {
        let data = if raw {
            crate::backend::mmap::open(path)?.read::<T>(())?
        } else {
            open_array(path)?.read::<T>(())?
        };
        let mut sum = Checksum::new();
        sum.update(T::as_bytes(data.as_slice().expect("reads are contiguous")));
        Ok(sum.value())
    }
    match dtype {
        ElementType::U16 => typed::<u16>(path, raw),
        ElementType::F32 => typed::<f32>(path, raw),
    }
}

/// What the JSON says about the machine and the software.
pub(super) fn machine(
    versions: &PeerVersions,
    args: &BenchArgs,
) -> BTreeMap<String, serde_json::Value> {
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let cpuinfo = read("/proc/cpuinfo");
    let cpu = cpuinfo.lines().find_map(|l| {
        l.strip_prefix("model name")
            .map(|r| r.trim_start_matches([' ', '\t', ':']).to_string())
    });
    let mem = read("/proc/meminfo").lines().find_map(|l| {
        let kib: u64 = l
            .strip_prefix("MemTotal:")?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kib * 1024)
    });
    let mut m = BTreeMap::new();
    m.insert("cpu".into(), json!(cpu));
    m.insert(
        "cpus".into(),
        json!(std::thread::available_parallelism().map(|n| n.get()).ok()),
    );
    m.insert("memory_bytes".into(), json!(mem));
    m.insert("os".into(), json!(std::env::consts::OS));
    m.insert(
        "kernel".into(),
        json!(read("/proc/sys/kernel/osrelease").trim()),
    );
    m.insert("date".into(), json!(utc_now()));
    m.insert("tessera".into(), json!(env!("CARGO_PKG_VERSION")));
    m.insert("zarrs".into(), json!("0.23"));
    m.insert("python".into(), json!(versions.python));
    m.insert("numpy".into(), json!(versions.numpy));
    m.insert("zarr_python".into(), json!(versions.zarr));
    m.insert("tensorstore".into(), json!(versions.tensorstore));
    m.insert("h5py".into(), json!(versions.h5py));
    m.insert("hdf5plugin".into(), json!(versions.hdf5plugin));
    m.insert("tessera_python".into(), json!(versions.tessera_python));
    m.insert(
        "command".into(),
        json!(std::env::args().collect::<Vec<_>>().join(" ")),
    );
    m.insert("quick".into(), json!(args.quick));
    m
}

/// The current UTC time as `YYYY-MM-DDTHH:MM:SSZ`.
pub(super) fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86400, secs % 86400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

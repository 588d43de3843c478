//! The run: generate the dataset, run every backend × array × workload × cache state with the page cache
//! prepared, check every checksum, then print and write the results.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::json;

use crate::args::{BenchArgs, find_python};
use crate::backend::python::{PeerProcess, PeerVersions};
use crate::backend::{Backend, Outcome, RunSpec, run_in_process};
use crate::cache;
use crate::dataset::{
    Codec, Dataset, ElementType, Sample, StoreConfig, chunk_label, open_array, prepare_destination,
    shape_for, write_dataset,
};
use crate::error::{BenchError, BenchResult};
use crate::measure;
use crate::report::{self, Record, Report};
use crate::workload::{self, Cache, Checksum, Region, Workload, checksum_hex};

/// The command to set up the Python peers, printed when they are missing.
pub const PEERS_SETUP: &str = "python3 -m venv .venv-zarr3 && .venv-zarr3/bin/pip install \
     -r fixtures/zarr/requirements-zarr3.txt -r .ci/readback/requirements-tensorstore.txt";

/// One planned measurement: backend, array (`None`: the raw file), workload, cache, chunk/block shape.
type Planned<'a> = (Backend, Option<&'a StoreConfig>, Workload, Cache, Vec<u64>);

struct Run<'a> {
    args: &'a BenchArgs,
    dataset: &'a Dataset,
    crops: Vec<Region>,
    peers: Option<PeerProcess>,
    expected: HashMap<(Workload, Vec<u64>), u32>,
    records: Vec<Record>,
    mismatches: Vec<String>,
    failures: Vec<String>,
    done: usize,
    total: usize,
}

/// Runs the whole benchmark as `args` says (see [`crate::run`]).
pub(crate) fn bench(args: &BenchArgs) -> BenchResult<()> {
    args.validate()?;
    let shape = shape_for(args.effective_size(), args.dtype);
    let parent = args.dir.clone().unwrap_or_else(std::env::temp_dir);
    let tmp = tempfile::Builder::new()
        .prefix("tessera-bench-")
        .tempdir_in(&parent)
        .map_err(|e| BenchError::io("creating a directory in", &parent, e))?;
    let started = Instant::now();
    let dataset = write_dataset(tmp.path(), &shape, args.dtype, args.seed, &Codec::ALL)?;
    let nbytes = dataset.nbytes();
    println!(
        "tessera bench: {} field {} ({:.0} MiB), generated and written as raw + {} Zarr arrays in {:.1} s ({})",
        args.dtype.typestr(),
        chunk_label(&shape),
        nbytes as f64 / (1u64 << 20) as f64,
        dataset.configs.len(),
        started.elapsed().as_secs_f64(),
        tmp.path().display()
    );
    for c in &dataset.configs {
        println!(
            "  {:<16} chunks {:<12} stored {:>8.1} MiB (ratio {:.2})",
            array_name(c),
            chunk_label(&c.chunks),
            c.stored_bytes as f64 / (1u64 << 20) as f64,
            nbytes as f64 / c.stored_bytes.max(1) as f64
        );
    }

    let peers = start_peers(args, tmp.path());
    let versions = peers
        .as_ref()
        .map(|p| p.versions.clone())
        .unwrap_or_default();
    let backends: Vec<Backend> = [
        Backend::Tessera,
        Backend::Zarrs,
        Backend::Tensorstore,
        Backend::ZarrPython,
        Backend::TesseraPython,
    ]
    .into_iter()
    .filter(|b| args.backends.contains(b) && (!b.is_python() || versions.has(*b)))
    .collect();
    let workloads = Workload::expand(&args.workloads, shape.len());
    let mut caches = args.cache.clone();
    caches.sort();
    caches.dedup();

    let mut run = Run {
        args,
        dataset: &dataset,
        crops: workload::crops(&shape, args.effective_crops(), args.seed),
        peers,
        expected: HashMap::new(),
        records: Vec::new(),
        mismatches: Vec::new(),
        failures: Vec::new(),
        done: 0,
        total: 0,
    };
    run.compute_expected(&workloads)?;

    let chunk_shapes: Vec<Vec<u64>> = {
        let mut v: Vec<Vec<u64>> = dataset.configs.iter().map(|c| c.chunks.clone()).collect();
        v.dedup();
        v
    };
    let mut plan: Vec<Planned<'_>> = Vec::new();
    if args.backends.contains(&Backend::Mmap) {
        for &w in &workloads {
            let blocks: Vec<Vec<u64>> = if matches!(w, Workload::Chunks | Workload::Copy) {
                chunk_shapes.clone()
            } else {
                vec![shape.clone()]
            };
            for b in blocks {
                for &cache in &caches {
                    plan.push((Backend::Mmap, None, w, cache, b.clone()));
                }
            }
        }
    }
    for config in &dataset.configs {
        for &w in &workloads {
            for &cache in &caches {
                for &b in &backends {
                    plan.push((b, Some(config), w, cache, config.chunks.clone()));
                }
            }
        }
    }
    run.total = plan.len();
    let bench_started = Instant::now();
    for (backend, config, w, cache, chunks) in plan {
        if let Err(e) = run.one(backend, config, w, cache, &chunks) {
            eprintln!("  FAILED: {e}");
            run.failures.push(e.to_string());
        }
    }
    drop(run.peers.take());
    println!(
        "\n{} runs in {:.0} s. Times in seconds; /mmap, /zarrs, /ts (tensorstore), /zpy (zarr-python) are \
         tessera's time divided by theirs (below 1: tessera is faster). GB/s: decoded bytes.\n",
        run.records.len(),
        bench_started.elapsed().as_secs_f64()
    );
    print!("{}", report::table(&run.records));
    let checks = report::targets(&run.records);
    println!("\nTargets (issue #7):");
    print!("{}", report::targets_text(&checks));

    let report = Report {
        machine: machine(&versions, args),
        dataset: json!({
            "shape": shape, "dtype": args.dtype.typestr(), "bytes": nbytes, "seed": args.seed,
            "crops": run.crops.len(),
            "crop_shape": run.crops.first().map(|c| c.shape.clone()),
        }),
        arrays: dataset
            .configs
            .iter()
            .map(|c| {
                json!({"array": array_name(c), "codec": c.codec.name(), "chunks": c.chunks,
                       "compressor": c.codec.compressor(), "stored_bytes": c.stored_bytes})
            })
            .collect(),
        results: run.records.clone(),
    };
    if let Some(path) = &args.json {
        let mut doc = serde_json::to_value(&report)?;
        doc["targets"] = serde_json::to_value(&checks)?;
        std::fs::write(path, serde_json::to_vec_pretty(&doc)?)
            .map_err(|e| BenchError::io("writing", path, e))?;
        println!("wrote {}", path.display());
    }
    if let Some(path) = &args.chart {
        let title = format!(
            "tessera bench: {} {} ({} MiB), decoded GB/s, log scale",
            args.dtype.typestr(),
            chunk_label(&shape),
            nbytes >> 20
        );
        crate::chart::draw(&report.results, &title, path)?;
        println!("wrote {}", path.display());
    }
    if args.keep {
        let kept = tmp.keep();
        println!("kept the dataset in {}", kept.display());
    }
    if !run.mismatches.is_empty() {
        Err(BenchError::ChecksumMismatch(run.mismatches))
    } else if !run.failures.is_empty() {
        Err(BenchError::RunsFailed(run.failures))
    } else {
        Ok(())
    }
}

fn start_peers(args: &BenchArgs, dir: &Path) -> Option<PeerProcess> {
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

/// `zstd-cubes`: the array's directory name.
/// Runs of a warm read in one process; the median is reported (see [`RunSpec::repeat`]).
const WARM_REPEAT: u32 = 3;

fn array_name(c: &StoreConfig) -> String {
    c.path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn remove_path(path: &Path) -> BenchResult<()> {
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

impl Run<'_> {
    fn regions(&self, w: Workload, chunks: &[u64]) -> Vec<Region> {
        let shape = &self.dataset.shape;
        match w {
            Workload::Whole | Workload::Write => Vec::new(),
            Workload::Slab(axis) => vec![workload::slab(shape, axis)],
            Workload::Crops => self.crops.clone(),
            Workload::Chunks => workload::blocks(shape, chunks),
            Workload::Copy => workload::copy_blocks(shape, chunks),
        }
    }

    fn spec(&self, backend: Backend, source: &Path, w: Workload, chunks: &[u64]) -> RunSpec {
        RunSpec {
            backend,
            dtype: self.dataset.dtype,
            typestr: self.dataset.dtype.typestr().into(),
            shape: self.dataset.shape.clone(),
            workload: w,
            source: source.to_path_buf(),
            chunks: chunks.to_vec(),
            regions: self.regions(w, chunks),
            dest: None,
            raw: self.dataset.raw_path.clone(),
            repeat: 1,
        }
    }

    fn expected_key(w: Workload, chunks: &[u64]) -> (Workload, Vec<u64>) {
        if w.depends_on_chunks() {
            (w, chunks.to_vec())
        } else if w.writes() {
            (Workload::Whole, Vec::new())
        } else {
            (w, Vec::new())
        }
    }

    /// The reference checksums, read in this process from the raw file.
    fn compute_expected(&mut self, workloads: &[Workload]) -> BenchResult<()> {
        let mut needed: Vec<(Workload, Vec<u64>)> = vec![(Workload::Whole, Vec::new())];
        for &w in workloads {
            if w.depends_on_chunks() {
                for c in &self.dataset.configs {
                    needed.push((w, c.chunks.clone()));
                }
            } else if !w.writes() {
                needed.push((w, Vec::new()));
            }
        }
        needed.sort();
        needed.dedup();
        for (w, chunks) in needed {
            let spec = self.spec(Backend::Mmap, &self.dataset.raw_path, w, &chunks);
            let outcome = run_in_process(&spec)?;
            let sum = outcome.checksum.expect("reads have checksums");
            self.expected.insert((w, chunks), sum);
        }
        Ok(())
    }

    fn one(
        &mut self,
        backend: Backend,
        config: Option<&StoreConfig>,
        w: Workload,
        cache: Cache,
        chunks: &[u64],
    ) -> BenchResult<()> {
        self.done += 1;
        let dataset = self.dataset;
        let (source, array, codec) = match config {
            Some(c) => (c.path.clone(), array_name(c), c.codec.name().to_string()),
            None => (
                dataset.raw_path.clone(),
                "raw".to_string(),
                "none".to_string(),
            ),
        };
        let mut spec = self.spec(backend, &source, w, chunks);
        let out_dir = dataset.root.join("out");
        let dest: Option<PathBuf> = w.writes().then(|| match config {
            Some(_) => out_dir.join(format!("{backend}-{array}-{w}")),
            None => out_dir.join(format!("mmap-{w}-{}.raw", chunk_label(chunks))),
        });
        let inputs: Vec<&Path> = if w == Workload::Write {
            Vec::new()
        } else {
            vec![source.as_path()]
        };
        // Prepare the destination and the page cache.
        if let Some(dest) = &dest {
            std::fs::create_dir_all(&out_dir)
                .map_err(|e| BenchError::io("creating", &out_dir, e))?;
            let exists = dest.exists();
            if cache == Cache::Cold || !exists {
                remove_path(dest)?;
                remove_path(&tessera_mmap::default_sidecar_path(dest))?;
                if config.is_some() {
                    prepare_destination(&source, dest)?;
                }
            }
            if cache == Cache::Warm && exists {
                cache::warm(&[dest.as_path()])?;
            }
        }
        let resident = match cache {
            Cache::Cold => {
                cache::evict(&inputs)?;
                if inputs.is_empty() {
                    None
                } else {
                    Some(cache::resident_fraction(&inputs)?)
                }
            }
            Cache::Warm => {
                cache::warm(&inputs)?;
                // Write back what earlier runs left dirty, so this run does not pay for it.
                cache::sync_all();
                match (&dest, w) {
                    (Some(d), Workload::Write) => Some(cache::resident_fraction(&[d.as_path()])?),
                    _ => Some(cache::resident_fraction(&inputs)?),
                }
            }
        };
        spec.dest = dest.clone();
        if cache == Cache::Warm && !w.writes() {
            spec.repeat = WARM_REPEAT;
        }
        let outcome: Outcome = if backend.is_python() {
            let peers = self.peers.as_mut().ok_or_else(|| BenchError::Peer {
                backend: backend.name().into(),
                message: "the peers process is not running".into(),
            })?;
            peers.run(&spec)?
        } else {
            measure::run_child(&spec, &dataset.root.join("specs"))?
        };
        // Check what was delivered (or written) against the reference.
        let checksum = match &dest {
            Some(d) => Some(readback_checksum(dataset.dtype, d, config.is_none())?),
            None => outcome.checksum,
        };
        let key = Self::expected_key(w, chunks);
        if let (Some(&want), Some(got)) = (self.expected.get(&key), checksum)
            && want != got
        {
            self.mismatches.push(format!(
                "{backend} {array} {w} {}: checksum {} != expected {}",
                cache.name(),
                checksum_hex(got),
                checksum_hex(want)
            ));
        }
        eprintln!(
            "[{:>3}/{}] {:<11} {:<16} {:<11} {:<4} {:>9.4} s {:>7.2} GB/s",
            self.done,
            self.total,
            backend.name(),
            array,
            w.name(),
            cache.name(),
            outcome.seconds,
            outcome.bytes as f64 / outcome.seconds.max(1e-12) / 1e9
        );
        self.records.push(Record {
            backend,
            codec,
            chunks: if config.is_some() || w.depends_on_chunks() || w == Workload::Copy {
                chunks.to_vec()
            } else {
                dataset.shape.clone()
            },
            workload: w,
            cache,
            seconds: outcome.seconds,
            bytes: outcome.bytes,
            peak_rss_bytes: outcome.peak_rss_bytes,
            array,
            checksum: checksum.map(checksum_hex),
            resident_fraction: resident,
        });
        // The warm run is the last user of a destination: free the disk.
        if let (Some(d), Some(last)) = (&dest, self.args.cache.iter().max())
            && cache == *last
        {
            remove_path(d)?;
            remove_path(&tessera_mmap::default_sidecar_path(d))?;
        }
        Ok(())
    }
}

/// Reads a written destination back with tessera (or tessera-mmap for a raw file) and checksums it.
fn readback_checksum(dtype: ElementType, path: &Path, raw: bool) -> BenchResult<u32> {
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
fn machine(versions: &PeerVersions, args: &BenchArgs) -> BTreeMap<String, serde_json::Value> {
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
    m.insert("tessera_python".into(), json!(versions.tessera_python));
    m.insert(
        "command".into(),
        json!(std::env::args().collect::<Vec<_>>().join(" ")),
    );
    m.insert("quick".into(), json!(args.quick));
    m
}

/// The current UTC time as `YYYY-MM-DDTHH:MM:SSZ`.
fn utc_now() -> String {
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

//! The run: generate the dataset, run every backend × array × workload × cache state with the page cache
//! prepared, check every checksum, then print and write the results.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::args::BenchArgs;
use crate::backend::python::PeerProcess;
use crate::backend::{Backend, Outcome, RunSpec, run_in_process};
use crate::cache;
use crate::dataset::{
    Codec, Dataset, Hdf5Array, StoreConfig, chunk_label, prepare_destination, shape_for,
    write_dataset, write_v3_arrays,
};
use crate::error::{BenchError, BenchResult};
use crate::floor::{self, Floors};
use crate::measure;
use crate::report::{self, Record, Report};
use crate::s3::{LinkShape, S3Server};
use crate::scenario::{ScenarioKind, Throttle};
use crate::workload::{self, Cache, Region, Workload, checksum_hex};

mod setup;

use setup::{
    Rates, ScenarioRun, machine, measure_rates, prepare_hdf5, readback_checksum, remove_path,
    retire, start_peers,
};

/// The command to set up the Python peers, printed when they are missing.
pub const PEERS_SETUP: &str = "python3 -m venv .venv-zarr3 && .venv-zarr3/bin/pip install \
     -r fixtures/zarr/requirements-zarr3.txt -r .ci/readback/requirements-tensorstore.txt";

/// What a measurement reads: the raw file, a Zarr array, or an HDF5 copy (h5py).
#[derive(Clone, Copy, Debug)]
enum Source<'a> {
    Raw,
    Zarr(&'a StoreConfig),
    Hdf5(&'a Hdf5Array),
}

/// One planned measurement: backend, source, workload, cache, chunk/block shape.
type Planned<'a> = (Backend, Source<'a>, Workload, Cache, Vec<u64>);

struct Run<'a> {
    args: &'a BenchArgs,
    dataset: &'a Dataset,
    hdf5: &'a [Hdf5Array],
    crops: Vec<Region>,
    peers: Option<PeerProcess>,
    expected: HashMap<(Workload, Vec<u64>), u32>,
    records: Vec<Record>,
    mismatches: Vec<String>,
    failures: Vec<String>,
    done: usize,
    total: usize,
    rates: Rates,
    scenario: ScenarioRun,
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
    let mut dataset = write_dataset(tmp.path(), &shape, args.dtype, args.seed, &Codec::ALL)?;
    if args.zarr_v3 {
        write_v3_arrays(&mut dataset)?;
    }
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
            "  {:<16} chunks {:<12} stored {:>8.1} MiB (ratio {:.2}){}",
            array_name(c),
            chunk_label(&c.chunks),
            c.stored_bytes as f64 / (1u64 << 20) as f64,
            nbytes as f64 / c.stored_bytes.max(1) as f64,
            c.shards
                .as_ref()
                .map(|s| format!(" in shards {}", chunk_label(s)))
                .unwrap_or_default()
        );
    }

    let peers = start_peers(args, tmp.path());
    let versions = peers
        .as_ref()
        .map(|p| p.versions.clone())
        .unwrap_or_default();
    let backends: Vec<Backend> = [
        Backend::Tessera,
        Backend::TesseraCache,
        Backend::Zarrs,
        Backend::Tensorstore,
        Backend::ZarrPython,
        Backend::H5py,
        Backend::TesseraPython,
    ]
    .into_iter()
    .filter(|b| args.backends.contains(b) && (!b.is_python() || versions.has(*b)))
    .collect();
    let workloads = Workload::expand(&args.workloads, shape.len());
    let mut caches = args.cache.clone();
    caches.sort();
    caches.dedup();

    let rates = measure_rates(&dataset, args)?;
    let mut peers = peers;
    let hdf5 = match peers.as_mut() {
        Some(p) if backends.contains(&Backend::H5py) => {
            prepare_hdf5(p, &dataset, args, versions.hdf5plugin.is_some())?
        }
        _ => Vec::new(),
    };
    let mut run = Run {
        args,
        dataset: &dataset,
        hdf5: &hdf5,
        crops: workload::crops(&shape, args.effective_crops(), args.seed),
        peers,
        expected: HashMap::new(),
        records: Vec::new(),
        mismatches: Vec::new(),
        failures: Vec::new(),
        done: 0,
        total: 0,
        rates,
        scenario: ScenarioRun::local(),
    };
    run.compute_expected(&workloads)?;

    let bench_started = Instant::now();
    let mut skipped: Vec<String> = Vec::new();
    for kind in ScenarioKind::expand(&args.scenario) {
        match kind {
            ScenarioKind::Local => {
                run.scenario = ScenarioRun::local();
                let plan = run.plan(&backends, &workloads, &caches, true);
                run.run_plan(plan);
            }
            ScenarioKind::Disk => {
                if !caches.contains(&Cache::Cold) {
                    skipped
                        .push("disk: it runs the cold workloads, and --cache has no cold".into());
                    continue;
                }
                let throttle = match Throttle::create(tmp.path(), &args.disk_bandwidth) {
                    Ok(t) => t,
                    Err(e) => {
                        skipped.push(format!("disk: {e}"));
                        continue;
                    }
                };
                println!(
                    "\nscenario disk-{}: reads of device {} throttled to {:.0} MB/s (cgroup {})",
                    throttle.rate,
                    throttle.device,
                    throttle.rate.bytes_per_second as f64 / 1e6,
                    throttle.procs_file().display()
                );
                // The peers process moves into the cgroup before it reads anything.
                let mut peers = start_peers(args, tmp.path());
                if let Some(p) = &peers
                    && let Err(e) = throttle.add(p.pid())
                {
                    println!("running the disk scenario without the Python peers: {e}");
                    peers = None;
                }
                let local_peers = std::mem::replace(&mut run.peers, peers);
                run.scenario = ScenarioRun {
                    name: format!("disk-{}", throttle.rate),
                    device_rate: (throttle.rate.bytes_per_second as f64).min(run.rates.device),
                    cgroup_procs: Some(throttle.procs_file().to_path_buf()),
                    s3: None,
                };
                let plan = run.plan(&backends, &workloads, &[Cache::Cold], true);
                run.run_plan(plan);
                drop(std::mem::replace(&mut run.peers, local_peers));
                drop(throttle);
            }
            ScenarioKind::S3 => {
                let shape = LinkShape {
                    latency: Duration::from_millis(args.s3_latency_ms),
                    bytes_per_second: args.s3_bandwidth.bytes_per_second as f64,
                };
                let server = match S3Server::start(&dataset.root.join("zarr"), shape) {
                    Ok(s) => s,
                    Err(e) => {
                        skipped.push(format!("s3: {e}"));
                        continue;
                    }
                };
                println!(
                    "\nscenario s3: the arrays in bucket {} at {}, {} ms per request, {:.0} MB/s shared \
                     (tessera and zarrs over object_store; whole, slab and crop reads, files in the server's page cache)",
                    crate::s3::BUCKET,
                    server.endpoint,
                    args.s3_latency_ms,
                    shape.bytes_per_second / 1e6
                );
                run.scenario = ScenarioRun {
                    name: "s3".into(),
                    device_rate: f64::NAN,
                    cgroup_procs: None,
                    s3: Some((server.endpoint.clone(), shape)),
                };
                let s3_workloads: Vec<Workload> = workloads
                    .iter()
                    .copied()
                    .filter(|w| {
                        matches!(
                            w,
                            Workload::Whole
                                | Workload::WholeReused
                                | Workload::Slab(_)
                                | Workload::Crops
                                | Workload::Epochs
                        )
                    })
                    .collect();
                let s3_backends: Vec<Backend> = backends
                    .iter()
                    .copied()
                    .filter(|b| {
                        matches!(b, Backend::Tessera | Backend::TesseraCache | Backend::Zarrs)
                    })
                    .collect();
                let plan = run.plan(&s3_backends, &s3_workloads, &[Cache::Warm], false);
                run.run_plan(plan);
                drop(server);
            }
            // `expand` has replaced it by the scenarios it stands for.
            ScenarioKind::All => {}
        }
    }
    drop(run.peers.take());
    for s in &skipped {
        println!("skipped scenario {s}");
    }
    println!(
        "\n{} runs in {:.0} s. Times in seconds; eff: the binding floor's time ÷ the run's (1 at the limit), \
         with the floor: mem(cpy), dec(ode), dev(ice). /mmap, /zarrs, /ts (tensorstore), /zpy \
         (zarr-python), /h5 (h5py), /tpy (tessera-python), /tc (tessera with its decoded-chunk cache) are tessera's time divided by theirs (below 1: tessera is faster). GB/s: decoded \
         bytes.",
        run.records.len(),
        bench_started.elapsed().as_secs_f64()
    );
    let mut scenarios: Vec<String> = run.records.iter().map(|r| r.scenario.clone()).collect();
    scenarios.dedup();
    for scenario in &scenarios {
        let records: Vec<Record> = run
            .records
            .iter()
            .filter(|r| &r.scenario == scenario)
            .cloned()
            .collect();
        println!("\nscenario {scenario}:\n");
        print!("{}", report::table(&records));
    }

    let checks = report::targets(&run.records);
    println!("\nTargets (issues #7 and #17):");
    print!("{}", report::targets_text(&checks));

    let report = Report {
        machine: {
            let mut m = machine(&versions, args);
            m.insert("memcpy_bytes_per_second".into(), json!(run.rates.memcpy));
            m.insert("device_read_bytes_per_second".into(), json!(run.rates.device));
            m.insert(
                "device_resident_fraction".into(),
                json!(run.rates.device_resident),
            );
            m
        },
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
                       "zarr_format": c.zarr_format, "shards": c.shards,
                       "compressor": c.codec.compressor(), "stored_bytes": c.stored_bytes,
                       "decode_seconds": run.rates.costs.get(&array_name(c)).map(|k| k.wall_seconds)})
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
        let local: Vec<Record> = report
            .results
            .iter()
            .filter(|r| scenarios.first() == Some(&r.scenario))
            .cloned()
            .collect();
        crate::chart::draw(&local, &title, path)?;
        println!("wrote {}", path.display());
    }
    if args.keep {
        remove_path(&tmp.path().join("retired"))?;
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

/// Runs of a warm read in one process; the median is reported (see [`RunSpec::repeat`]).
const WARM_REPEAT: u32 = 3;

/// Cold runs of a read in the `disk` scenario (each after its own eviction); the median is reported.
const DISK_COLD_REPEAT: usize = 3;

/// `zstd-cubes`: the array's directory name.
fn array_name(c: &StoreConfig) -> String {
    c.path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

impl<'a> Run<'a> {
    /// Every measurement of one scenario: raw mmap's (when `with_raw`), then each array's on each
    /// backend.
    fn plan(
        &self,
        backends: &[Backend],
        workloads: &[Workload],
        caches: &[Cache],
        with_raw: bool,
    ) -> Vec<Planned<'a>> {
        let dataset = self.dataset;
        let mut chunk_shapes: Vec<Vec<u64>> =
            dataset.configs.iter().map(|c| c.chunks.clone()).collect();
        chunk_shapes.dedup();
        let mut plan: Vec<Planned<'a>> = Vec::new();
        if with_raw && self.args.backends.contains(&Backend::Mmap) {
            for &w in workloads {
                let blocks: Vec<Vec<u64>> = if matches!(w, Workload::Chunks | Workload::Copy) {
                    chunk_shapes.clone()
                } else {
                    vec![dataset.shape.clone()]
                };
                for b in blocks {
                    for &cache in caches {
                        plan.push((Backend::Mmap, Source::Raw, w, cache, b.clone()));
                    }
                }
            }
        }
        for config in &dataset.configs {
            for &w in workloads.iter().filter(|&&w| config.runs(w)) {
                for &cache in caches {
                    for &b in backends.iter().filter(|&&b| {
                        b != Backend::H5py && b.supports(w) && b.reads_format(config.zarr_format)
                    }) {
                        plan.push((b, Source::Zarr(config), w, cache, config.chunks.clone()));
                    }
                }
            }
        }
        if backends.contains(&Backend::H5py) {
            for h in self.hdf5 {
                for &w in workloads.iter().filter(|&&w| Backend::H5py.supports(w)) {
                    for &cache in caches {
                        plan.push((Backend::H5py, Source::Hdf5(h), w, cache, h.chunks.clone()));
                    }
                }
            }
        }
        plan
    }

    fn run_plan(&mut self, plan: Vec<Planned<'_>>) {
        self.done = 0;
        self.total = plan.len();
        for (backend, source, w, cache, chunks) in plan {
            if let Err(e) = self.one(backend, source, w, cache, &chunks) {
                eprintln!("  FAILED: {e}");
                self.failures.push(format!("[{}] {e}", self.scenario.name));
            }
        }
    }

    /// The floors of a measurement that delivered `bytes`.
    fn floors(
        &self,
        source: Source<'_>,
        w: Workload,
        cache: Cache,
        chunks: &[u64],
        bytes: u64,
    ) -> Floors {
        let shape = &self.dataset.shape;
        let pieces = floor::pieces(w, shape, chunks, &self.regions(w, chunks));
        let reads = w != Workload::Write;
        let costs = |name: &str| self.rates.costs.get(name);
        let decode = match source {
            Source::Raw => None,
            Source::Zarr(c) => costs(&array_name(c)).and_then(|k| k.decode_floor(&pieces, w)),
            // An HDF5 copy with the codec and chunks of a Zarr array decodes as much.
            Source::Hdf5(h) => costs(&h.name).and_then(|k| k.decode_floor(&pieces, w)),
        };
        // The stored bytes some pieces need from the store.
        let stored = |pieces: &[Region]| -> u64 {
            match source {
                Source::Raw => {
                    floor::raw_bytes_touched(shape, self.dataset.dtype.itemsize() as u64, pieces)
                }
                Source::Zarr(c) => {
                    costs(&array_name(c)).map_or(c.stored_bytes, |k| k.stored_bytes_touched(pieces))
                }
                // An HDF5 file's stored bytes in the share of chunks the pieces touch.
                Source::Hdf5(h) => match costs(&h.name) {
                    Some(k) => {
                        (k.stored_bytes_touched(pieces) as f64 * h.stored_bytes as f64
                            / k.stored_bytes().max(1) as f64) as u64
                    }
                    None => {
                        (h.stored_bytes as f64
                            * floor::touched_chunk_fraction(shape, chunks, pieces))
                            as u64
                    }
                },
            }
        };
        let stored_touched = stored(&pieces);
        // Over the link each piece waits at least one request's latency, then its bytes.
        let network = self.scenario.s3.as_ref().map(|(_, link)| {
            if w.is_one_batch() {
                // One selection: its requests are in flight together.
                return stored_touched as f64 / link.bytes_per_second + link.latency.as_secs_f64();
            }
            if w == Workload::Epochs {
                // At the limit a chunk crosses the link the first time a crop needs it only.
                let mut before = 0;
                return (1..=pieces.len())
                    .map(|n| {
                        let upto = stored(&pieces[..n]);
                        let new = upto - before;
                        before = upto;
                        if new == 0 {
                            0.0
                        } else {
                            new as f64 / link.bytes_per_second + link.latency.as_secs_f64()
                        }
                    })
                    .sum();
            }
            pieces
                .iter()
                .map(|p| {
                    stored(std::slice::from_ref(p)) as f64 / link.bytes_per_second
                        + link.latency.as_secs_f64()
                })
                .sum()
        });
        let decode = if reads { decode } else { None };
        let device_rate = if self.scenario.device_rate.is_nan() {
            self.rates.device
        } else {
            self.scenario.device_rate
        };
        Floors {
            memcpy: Some(bytes as f64 / self.rates.memcpy),
            decode,
            device: (reads && cache == Cache::Cold).then(|| stored_touched as f64 / device_rate),
            network: if reads { network } else { None },
        }
    }

    fn regions(&self, w: Workload, chunks: &[u64]) -> Vec<Region> {
        let shape = &self.dataset.shape;
        match w {
            Workload::Whole | Workload::WholeReused | Workload::Write => Vec::new(),
            Workload::Slab(axis) => vec![workload::slab(shape, axis)],
            Workload::Crops => self.crops.clone(),
            Workload::Epochs => (0..workload::EPOCHS)
                .flat_map(|_| self.crops.iter().cloned())
                .collect(),
            Workload::Chunks => workload::blocks(shape, chunks),
            Workload::Copy => workload::copy_blocks(shape, chunks),
            Workload::Points => workload::points(shape, workload::POINTS, self.args.seed),
            Workload::Rows => workload::rows(shape, self.args.seed),
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
            cgroup_procs: None,
            s3_endpoint: None,
        }
    }

    fn expected_key(w: Workload, chunks: &[u64]) -> (Workload, Vec<u64>) {
        if w.depends_on_chunks() {
            (w, chunks.to_vec())
        } else if w.writes() || w == Workload::WholeReused {
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
            } else if !w.writes() && w != Workload::WholeReused {
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
        from: Source<'_>,
        w: Workload,
        cache: Cache,
        chunks: &[u64],
    ) -> BenchResult<()> {
        self.done += 1;
        let dataset = self.dataset;
        let (source, array, codec, stored_bytes) = match from {
            Source::Zarr(c) => (
                c.path.clone(),
                array_name(c),
                c.codec.name().to_string(),
                c.stored_bytes,
            ),
            Source::Hdf5(h) => (
                h.path.clone(),
                h.name.clone(),
                h.filter.clone(),
                h.stored_bytes,
            ),
            Source::Raw => (
                dataset.raw_path.clone(),
                "raw".to_string(),
                "none".to_string(),
                dataset.nbytes(),
            ),
        };
        let mut spec = self.spec(backend, &source, w, chunks);
        let out_dir = dataset.root.join("out");
        let dest: Option<PathBuf> = w.writes().then(|| match from {
            Source::Zarr(_) => out_dir.join(format!("{backend}-{array}-{w}")),
            Source::Hdf5(_) => out_dir.join(format!("{backend}-{array}-{w}.h5")),
            Source::Raw => out_dir.join(format!("mmap-{w}-{}.raw", chunk_label(chunks))),
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
                retire(&dataset.root, dest)?;
                retire(&dataset.root, &tessera_mmap::default_sidecar_path(dest))?;
                if let Source::Zarr(_) = from {
                    prepare_destination(&source, dest)?;
                }
            }
            if cache == Cache::Warm && exists {
                cache::warm(&[dest.as_path()])?;
            }
        }
        let evict = || -> BenchResult<Option<f64>> {
            cache::evict(&inputs)?;
            if inputs.is_empty() {
                Ok(None)
            } else {
                Ok(Some(cache::resident_fraction(&inputs)?))
            }
        };
        let resident = match cache {
            Cache::Cold => evict()?,
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
        spec.cgroup_procs = self.scenario.cgroup_procs.clone();
        spec.s3_endpoint = self.scenario.s3.as_ref().map(|(e, _)| e.clone());
        if cache == Cache::Warm && !w.writes() {
            spec.repeat = WARM_REPEAT;
        }
        // On the throttled disk a cold read of a few tens of MiB takes one or two of the kernel's
        // 100 ms throttle slices, by chance (2.5x apart): such reads run several times, each cold.
        let runs = if cache == Cache::Cold && !w.writes() && self.scenario.cgroup_procs.is_some() {
            DISK_COLD_REPEAT
        } else {
            1
        };
        let mut outcomes = Vec::with_capacity(runs);
        for run in 0..runs {
            if run > 0 {
                evict()?;
            }
            outcomes.push(if backend.is_python() {
                let peers = self.peers.as_mut().ok_or_else(|| BenchError::Peer {
                    backend: backend.name().into(),
                    message: "the peers process is not running".into(),
                })?;
                peers.run(&spec)?
            } else {
                measure::run_child(&spec, &dataset.root.join("specs"))?
            });
        }
        let outcome: Outcome = crate::backend::median(outcomes, &spec.describe())?;
        // Check what was delivered (or written) against the reference.
        let checksum = match (&dest, from) {
            // peers.py reads HDF5 destinations back itself.
            (Some(_), Source::Hdf5(_)) | (None, _) => outcome.checksum,
            (Some(d), _) => Some(readback_checksum(
                dataset.dtype,
                d,
                matches!(from, Source::Raw),
            )?),
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
        let floors = self.floors(from, w, cache, chunks, outcome.bytes);
        let binding = floors.binding();
        let efficiency = binding.map(|(_, f)| f / outcome.seconds.max(1e-12));
        eprintln!(
            "[{}] [{:>3}/{}] {:<11} {:<16} {:<12} {:<4} {:>9.4} s {:>7.2} GB/s  eff {:.2}",
            self.scenario.name,
            self.done,
            self.total,
            backend.name(),
            array,
            w.name(),
            cache.name(),
            outcome.seconds,
            outcome.bytes as f64 / outcome.seconds.max(1e-12) / 1e9,
            efficiency.unwrap_or(f64::NAN)
        );
        self.records.push(Record {
            backend,
            codec,
            chunks: if !matches!(from, Source::Raw) || w.depends_on_chunks() || w == Workload::Copy
            {
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
            scenario: self.scenario.name.clone(),
            floor: binding.map(|(name, _)| name.to_string()),
            floor_seconds: binding.map(|(_, f)| f),
            efficiency,
            stored_bytes: Some(stored_bytes),
            floors: floors.to_map(),
        });
        // The warm run is the last user of a destination.
        if let (Some(d), Some(last)) = (&dest, self.args.cache.iter().max())
            && cache == *last
        {
            retire(&dataset.root, d)?;
            retire(&dataset.root, &tessera_mmap::default_sidecar_path(d))?;
        }
        Ok(())
    }
}

//! The results of a run: the JSON document, the table, and the targets checked against them.
//!
//! JSON shape (scripts consume it; extra keys may be added, these stay):
//! `{"machine": {...}, "dataset": {...}, "arrays": [...], "results": [{"backend", "codec", "chunks",
//! "workload", "cache", "seconds", "bytes", "peak_rss_bytes", "scenario", "floor", "floor_seconds",
//! "efficiency", "stored_bytes", "floors", ...}]}`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::backend::Backend;
use crate::workload::{Cache, Workload};

/// One measurement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Who ran it.
    pub backend: Backend,
    /// `none`, `zstd` or `blosc-lz4` (`none` for raw mmap).
    pub codec: String,
    /// The chunk shape (raw mmap: the array's shape, or the block shape for `chunks` and `copy`).
    pub chunks: Vec<u64>,
    /// `whole`, `slab-axis0`, ..., `crops`, `chunks`, `write`, `copy`.
    pub workload: Workload,
    /// `cold` or `warm`.
    pub cache: Cache,
    /// Wall time.
    pub seconds: f64,
    /// Decoded bytes delivered or written.
    pub bytes: u64,
    /// Peak resident memory of the process during the workload.
    pub peak_rss_bytes: Option<u64>,
    /// Which array: `zstd-cubes`, ..., or `raw` for the mmap file.
    pub array: String,
    /// CRC-32 of what was delivered (for `write` and `copy`: of the destination read back), hex.
    pub checksum: Option<String>,
    /// Fraction of the input files resident in the page cache when the workload started (for `write`, of
    /// the destination); shows whether a cold eviction took.
    pub resident_fraction: Option<f64>,
    /// Where the array lived: `local`, `disk-200M` (`--disk-bandwidth 200M`) or `s3`.
    #[serde(default = "local")]
    pub scenario: String,
    /// The binding floor (see [`crate::floor`]): `memcpy`, `decode`, `device` or `network`.
    pub floor: Option<String>,
    /// The binding floor's seconds: the least this workload could take here.
    pub floor_seconds: Option<f64>,
    /// `floor_seconds` ÷ `seconds`: 1 at the limit, lower the further from it.
    pub efficiency: Option<f64>,
    /// The array's encoded size in the store (the raw file's size for mmap).
    pub stored_bytes: Option<u64>,
    /// Every floor that applies to this result, seconds by name.
    #[serde(default)]
    pub floors: BTreeMap<String, f64>,
}

fn local() -> String {
    "local".into()
}

impl Record {
    /// Decimal gigabytes per second of decoded data.
    pub fn gbps(&self) -> f64 {
        if self.seconds > 0.0 {
            self.bytes as f64 / self.seconds / 1e9
        } else {
            f64::INFINITY
        }
    }
}

/// A whole report, as written with `--json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Report {
    /// The machine and the software measured.
    pub machine: BTreeMap<String, serde_json::Value>,
    /// Shape, dtype, size and seed of the generated field.
    pub dataset: serde_json::Value,
    /// The Zarr arrays: codec, chunks, stored bytes.
    pub arrays: Vec<serde_json::Value>,
    /// Every measurement.
    pub results: Vec<Record>,
}

/// The measurement of `backend` comparable to `r`: the same scenario, array, workload and cache.
fn find<'a>(records: &'a [Record], backend: Backend, r: &Record) -> Option<&'a Record> {
    records.iter().find(|o| {
        o.backend == backend
            && o.scenario == r.scenario
            && o.array == r.array
            && o.workload == r.workload
            && o.cache == r.cache
    })
}

/// The raw-mmap measurement comparable to `r`: same workload and cache, and for the workloads whose
/// pieces follow the chunk shape, the same block shape.
pub fn mmap_peer<'a>(records: &'a [Record], r: &Record) -> Option<&'a Record> {
    records.iter().find(|m| {
        m.backend == Backend::Mmap
            && m.scenario == r.scenario
            && m.workload == r.workload
            && m.cache == r.cache
            && (!matches!(r.workload, Workload::Chunks | Workload::Copy) || m.chunks == r.chunks)
    })
}

fn ratio(num: &Record, den: Option<&Record>) -> Option<f64> {
    den.map(|d| num.seconds / d.seconds)
}

fn fmt_ratio(r: Option<f64>) -> String {
    r.map_or("-".into(), |r| format!("{r:.2}"))
}

fn fmt_secs(r: Option<&Record>) -> String {
    r.map_or("-".into(), |r| format!("{:.4}", r.seconds))
}

fn mib(bytes: Option<u64>) -> String {
    bytes.map_or("-".into(), |b| {
        format!("{:.0}", b as f64 / (1u64 << 20) as f64)
    })
}

/// A note on the page-cache state when it is not what the cache column says.
pub fn cache_note(r: &Record) -> Option<String> {
    let f = r.resident_fraction?;
    match r.cache {
        Cache::Cold if f > 0.05 && !matches!(r.workload, Workload::Write) => {
            Some(format!("eviction did not take: {:.0}% resident", f * 100.0))
        }
        Cache::Warm if f < 0.95 && !matches!(r.workload, Workload::Write | Workload::Copy) => {
            Some(format!("only {:.0}% resident", f * 100.0))
        }
        _ => None,
    }
}

fn fmt_eff(r: &Record) -> String {
    match (r.efficiency, &r.floor) {
        (Some(e), Some(f)) => format!("{e:.2} {}", &f[..f.len().min(3)]),
        _ => "-".into(),
    }
}

/// The table of one scenario's records: one row per tessera measurement with its efficiency (the binding
/// floor ÷ its time, and which floor: `mem`cpy, `dec`ode, `dev`ice, `net`work), the times of the other
/// backends on the same array, workload and cache, and tessera's time divided by theirs (below 1: tessera
/// is faster); then the raw mmap measurements and h5py's on the HDF5-only arrays (gzip, lzf).
pub fn table(records: &[Record]) -> String {
    let mut out = String::new();
    let peers = [
        Backend::Zarrs,
        Backend::Tensorstore,
        Backend::ZarrPython,
        Backend::H5py,
        Backend::TesseraPython,
        Backend::TesseraCache,
    ];
    let _ = writeln!(
        out,
        "{:<22} {:<12} {:<5} {:>9} {:>7} {:>8} {:>7} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} | {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}  note",
        "array",
        "workload",
        "cache",
        "tessera s",
        "GB/s",
        "eff",
        "peakMiB",
        "/mmap",
        "/zarrs",
        "/ts",
        "/zpy",
        "/h5",
        "/tpy",
        "/tc",
        "mmap s",
        "zarrs s",
        "ts s",
        "zpy s",
        "h5 s",
        "tpy s",
        "tc s"
    );
    for r in records.iter().filter(|r| r.backend == Backend::Tessera) {
        let m = mmap_peer(records, r);
        let p: Vec<Option<&Record>> = peers.iter().map(|&b| find(records, b, r)).collect();
        let mut notes: Vec<String> = Vec::new();
        notes.extend(cache_note(r));
        notes.extend(m.and_then(cache_note).map(|n| format!("mmap: {n}")));
        let _ = writeln!(
            out,
            "{:<22} {:<12} {:<5} {:>9.4} {:>7.2} {:>8} {:>7} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} | {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}  {}",
            r.array,
            r.workload.name(),
            r.cache.name(),
            r.seconds,
            r.gbps(),
            fmt_eff(r),
            mib(r.peak_rss_bytes),
            fmt_ratio(ratio(r, m)),
            fmt_ratio(ratio(r, p[0])),
            fmt_ratio(ratio(r, p[1])),
            fmt_ratio(ratio(r, p[2])),
            fmt_ratio(ratio(r, p[3])),
            fmt_ratio(ratio(r, p[4])),
            fmt_ratio(ratio(r, p[5])),
            fmt_secs(m),
            fmt_secs(p[0]),
            fmt_secs(p[1]),
            fmt_secs(p[2]),
            fmt_secs(p[3]),
            fmt_secs(p[4]),
            fmt_secs(p[5]),
            notes.join("; ")
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<8} {:<16} {:<14} {:<12} {:<5} {:>9} {:>7} {:>8} {:>7}  note",
        "backend", "array", "blocks", "workload", "cache", "seconds", "GB/s", "eff", "peakMiB"
    );
    let has_tessera = |array: &str| {
        records
            .iter()
            .any(|t| t.backend == Backend::Tessera && t.array == array)
    };
    for r in records.iter().filter(|r| {
        r.backend == Backend::Mmap || (r.backend == Backend::H5py && !has_tessera(&r.array))
    }) {
        let blocks = if r.backend != Backend::Mmap
            || matches!(r.workload, Workload::Chunks | Workload::Copy)
        {
            crate::dataset::chunk_label(&r.chunks)
        } else {
            "-".into()
        };
        let _ = writeln!(
            out,
            "{:<8} {:<16} {:<14} {:<12} {:<5} {:>9.4} {:>7.2} {:>8} {:>7}  {}",
            r.backend.name(),
            r.array,
            blocks,
            r.workload.name(),
            r.cache.name(),
            r.seconds,
            r.gbps(),
            fmt_eff(r),
            mib(r.peak_rss_bytes),
            cache_note(r).unwrap_or_default()
        );
    }
    out
}

/// One of the targets, checked against the measurements.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TargetCheck {
    /// What the target says.
    pub target: String,
    /// How many comparisons met it.
    pub met: usize,
    /// How many comparisons there were.
    pub of: usize,
    /// The comparisons that missed, worst first, with their numbers.
    pub misses: Vec<String>,
}

/// Checks the targets (`slab` targets on cold reads; the peer targets on every workload).
pub fn targets(records: &[Record]) -> Vec<TargetCheck> {
    let tessera: Vec<&Record> = records
        .iter()
        .filter(|r| r.backend == Backend::Tessera)
        .collect();
    let mut checks = Vec::new();
    let mut check = |target: &str, items: Vec<(String, f64, bool)>| {
        let of = items.len();
        let mut misses: Vec<(String, f64)> = items
            .iter()
            .filter(|(_, _, ok)| !ok)
            .map(|(s, v, _)| (s.clone(), *v))
            .collect();
        misses.sort_by(|a, b| b.1.total_cmp(&a.1));
        checks.push(TargetCheck {
            target: target.into(),
            met: of - misses.len(),
            of,
            misses: misses.into_iter().map(|(s, _)| s).collect(),
        });
    };
    let label = |r: &Record| {
        let scenario = if r.scenario == "local" {
            String::new()
        } else {
            format!(" [{}]", r.scenario)
        };
        format!(
            "{} {} {}{scenario}",
            r.array,
            r.workload.name(),
            r.cache.name()
        )
    };

    let off_axis: Vec<(String, f64, bool)> = tessera
        .iter()
        .filter(|r| matches!(r.workload, Workload::Slab(a) if a > 0) && r.cache == Cache::Cold)
        .filter_map(|r| {
            let x = ratio(r, mmap_peer(records, r))?;
            Some((format!("{}: {:.3}x mmap's time", label(r), x), x, x <= 0.1))
        })
        .collect();
    check("off-axis slab, cold: tessera <= 0.1x mmap's time", off_axis);

    let on_axis: Vec<(String, f64, bool)> = tessera
        .iter()
        .filter(|r| r.workload == Workload::Slab(0))
        .filter_map(|r| {
            let x = ratio(r, mmap_peer(records, r))?;
            Some((format!("{}: {:.2}x mmap's time", label(r), x), x, x <= 1.5))
        })
        .collect();
    check("on-axis slab: tessera <= 1.5x mmap's time", on_axis);

    for (peer, limit) in [(Backend::Zarrs, 0.8), (Backend::Tensorstore, 0.5)] {
        let items: Vec<(String, f64, bool)> = tessera
            .iter()
            .filter_map(|r| {
                let x = ratio(r, find(records, peer, r))?;
                Some((
                    format!("{}: {:.2}x {}'s time", label(r), x, peer.name()),
                    x,
                    x <= limit,
                ))
            })
            .collect();
        check(
            &format!("every workload: tessera <= {limit}x {}'s time", peer.name()),
            items,
        );
    }

    let points: Vec<(String, f64, bool)> = tessera
        .iter()
        .filter(|r| r.workload == Workload::Points)
        .filter_map(|r| {
            let x = ratio(r, find(records, Backend::ZarrPython, r))?;
            Some((
                format!("{}: {:.2}x zarr-python's time", label(r), x),
                x,
                x <= 0.3,
            ))
        })
        .collect();
    check("points: tessera <= 0.3x zarr-python's vindex time", points);

    // The Python package: close to the Rust library on whole reads, well ahead of zarr-python on reads.
    let python: Vec<&Record> = records
        .iter()
        .filter(|r| r.backend == Backend::TesseraPython)
        .collect();
    let whole: Vec<(String, f64, bool)> = python
        .iter()
        .filter(|r| r.workload == Workload::Whole)
        .filter_map(|r| {
            let x = ratio(r, find(records, Backend::Tessera, r))?;
            Some((
                format!("{}: {:.2}x tessera's time", label(r), x),
                x,
                x <= 1.2,
            ))
        })
        .collect();
    check("whole read: tessera-python <= 1.2x tessera's time", whole);
    let reads: Vec<(String, f64, bool)> = python
        .iter()
        .filter(|r| !matches!(r.workload, Workload::Write | Workload::Copy))
        .filter_map(|r| {
            let x = ratio(r, find(records, Backend::ZarrPython, r))?;
            Some((
                format!("{}: {:.2}x zarr-python's time", label(r), x),
                x,
                x <= 0.5,
            ))
        })
        .collect();
    check(
        "every read: tessera-python <= 0.5x zarr-python's time",
        reads,
    );

    let gib = (1u64 << 30) as f64;
    let warm_whole: Vec<(String, f64, bool)> = tessera
        .iter()
        .filter(|r| r.workload == Workload::Whole && r.cache == Cache::Warm && r.codec == "none")
        .map(|r| {
            let g = r.bytes as f64 / r.seconds / gib;
            (format!("{}: {:.1} GiB/s", label(r), g), -g, g >= 10.0)
        })
        .collect();
    check("warm uncompressed whole read >= 10 GiB/s", warm_whole);

    let efficient = |r: &Record| -> Option<(String, f64, bool)> {
        let e = r.efficiency?;
        let floor = r.floor.as_deref().unwrap_or("-");
        Some((
            format!("{}: efficiency {e:.2} ({floor})", label(r)),
            -e,
            e >= 0.8,
        ))
    };
    let warm_eff: Vec<(String, f64, bool)> = tessera
        .iter()
        .filter(|r| {
            matches!(r.workload, Workload::Whole | Workload::WholeReused) && r.cache == Cache::Warm
        })
        .filter_map(|r| efficient(r))
        .collect();
    check("warm whole reads: efficiency >= 0.8", warm_eff);
    let disk_eff: Vec<(String, f64, bool)> = tessera
        .iter()
        .filter(|r| r.scenario.starts_with("disk") && r.workload == Workload::Whole)
        .filter_map(|r| efficient(r))
        .collect();
    check(
        "cold whole reads on the throttled disk: efficiency >= 0.8",
        disk_eff,
    );

    let memory: Vec<(String, f64, bool)> = tessera
        .iter()
        .filter(|r| r.workload == Workload::Whole)
        .filter_map(|r| {
            let peak = r.peak_rss_bytes?;
            let over = peak as f64 - r.bytes as f64;
            let mib = over / (1u64 << 20) as f64;
            Some((
                format!("{}: output + {:.0} MiB", label(r), mib),
                mib,
                mib <= 64.0,
            ))
        })
        .collect();
    check("whole read peak memory <= output + 64 MiB", memory);
    checks
}

/// The target checks as text.
pub fn targets_text(checks: &[TargetCheck]) -> String {
    let mut out = String::new();
    for c in checks {
        let verdict = if c.of == 0 {
            "not measured"
        } else if c.met == c.of {
            "met"
        } else {
            "MISSED"
        };
        let _ = writeln!(out, "{verdict:>12}  {} ({}/{})", c.target, c.met, c.of);
        for m in c.misses.iter().take(6) {
            let _ = writeln!(out, "              {m}");
        }
        if c.misses.len() > 6 {
            let _ = writeln!(out, "              ... and {} more", c.misses.len() - 6);
        }
    }
    out
}

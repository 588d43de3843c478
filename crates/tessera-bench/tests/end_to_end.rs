//! The harness end to end on a tiny dataset: it runs every workload cold and warm, exits 0, and writes
//! JSON in the shape scripts consume and an SVG chart.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

const WORKLOADS: [&str; 9] = [
    "whole",
    "whole-reused",
    "slab-axis0",
    "slab-axis1",
    "slab-axis2",
    "crops",
    "chunks",
    "write",
    "copy",
];

fn bench(dir: &Path, extra: &[&str]) -> (std::process::Output, Value) {
    let json = dir.join("bench.json");
    let out = Command::new(env!("CARGO_BIN_EXE_tessera-bench"))
        .args(["--size", "1MiB", "--crops", "4", "--dir"])
        .arg(dir)
        .arg("--json")
        .arg(&json)
        .args(extra)
        .output()
        .expect("the harness starts");
    assert!(
        out.status.success(),
        "exit {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    (out, doc)
}

fn check_result(r: &Value) {
    let obj = r.as_object().expect("a result is an object");
    let backend = obj["backend"].as_str().unwrap();
    assert!(
        [
            "tessera",
            "mmap",
            "zarrs",
            "tensorstore",
            "zarr-python",
            "h5py",
            "tessera-python"
        ]
        .contains(&backend),
        "{backend}"
    );
    let codec = obj["codec"].as_str().unwrap();
    assert!(
        ["none", "zstd", "blosc-lz4", "gzip", "lzf"].contains(&codec),
        "{codec}"
    );
    let chunks = obj["chunks"].as_array().unwrap();
    assert_eq!(chunks.len(), 3);
    assert!(chunks.iter().all(|c| c.as_u64().is_some_and(|c| c > 0)));
    let workload = obj["workload"].as_str().unwrap();
    assert!(
        WORKLOADS.contains(&workload) || ["points", "rows"].contains(&workload),
        "{r}"
    );
    assert!(["cold", "warm"].contains(&obj["cache"].as_str().unwrap()));
    assert!(obj["seconds"].as_f64().is_some_and(|s| s > 0.0), "{r}");
    assert!(obj["bytes"].as_u64().is_some_and(|b| b > 0), "{r}");
    let peak = &obj["peak_rss_bytes"];
    assert!(
        peak.is_null() || peak.as_u64().is_some_and(|p| p > 0),
        "{r}"
    );
    check_floors(r);
}

/// The floors: every applicable one is positive, the binding one is the largest, and the efficiency is
/// its time over the run's.
fn check_floors(r: &Value) {
    let scenario = r["scenario"].as_str().unwrap();
    assert!(
        scenario == "local" || scenario == "s3" || scenario.starts_with("disk-"),
        "{r}"
    );
    assert!(r["stored_bytes"].as_u64().is_some_and(|b| b > 0), "{r}");
    let floors = r["floors"].as_object().expect("floors by name");
    for (name, secs) in floors {
        assert!(
            ["memcpy", "decode", "device", "network"].contains(&name.as_str()),
            "{r}"
        );
        assert!(secs.as_f64().is_some_and(|s| s > 0.0), "{r}");
    }
    let workload = r["workload"].as_str().unwrap();
    let cold = r["cache"] == "cold";
    // memcpy applies everywhere; the device to cold reads; decode to reads of arrays compressed with a
    // codec tessera has (HDF5's gzip and lzf have none).
    assert!(floors.contains_key("memcpy"), "{r}");
    assert_eq!(
        floors.contains_key("device"),
        cold && workload != "write",
        "{r}"
    );
    assert_eq!(
        floors.contains_key("decode"),
        (r["codec"] == "zstd" || r["codec"] == "blosc-lz4") && workload != "write",
        "{r}"
    );
    let binding = r["floor"].as_str().unwrap();
    let floor = r["floor_seconds"].as_f64().unwrap();
    assert_eq!(floors[binding].as_f64(), Some(floor), "{r}");
    assert!(floors.values().all(|v| v.as_f64().unwrap() <= floor), "{r}");
    let eff = r["efficiency"].as_f64().unwrap();
    let seconds = r["seconds"].as_f64().unwrap();
    assert!((eff - floor / seconds).abs() <= 1e-9 * eff.max(1.0), "{r}");
}

#[test]
fn tiny_run_writes_json_and_chart() {
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("bench.svg");
    let (out, doc) = bench(
        dir.path(),
        &[
            "--backends",
            "tessera,mmap,zarrs",
            "--chart",
            chart.to_str().unwrap(),
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Targets"), "{stdout}");

    assert!(doc["machine"].is_object());
    let results = doc["results"].as_array().unwrap();
    for r in results {
        check_result(r);
    }
    // Every workload, cold and warm, on every requested backend; six arrays for the Zarr backends.
    for backend in ["tessera", "zarrs", "mmap"] {
        for workload in WORKLOADS {
            for cache in ["cold", "warm"] {
                let n = results
                    .iter()
                    .filter(|r| {
                        r["backend"] == backend && r["workload"] == workload && r["cache"] == cache
                    })
                    .count();
                let want = match (backend, workload) {
                    ("mmap", "chunks" | "copy") => 2,
                    ("mmap", _) => 1,
                    // zarrs is not asked to read into a caller's buffer.
                    ("zarrs", "whole-reused") => 0,
                    _ => 6,
                };
                assert_eq!(n, want, "{backend} {workload} {cache}");
            }
        }
    }
    // Backends agree (the run would have failed otherwise): the whole-array checksums are one value,
    // into a fresh buffer or a reused one.
    let sums: std::collections::BTreeSet<&str> = results
        .iter()
        .filter(|r| r["workload"] == "whole" || r["workload"] == "whole-reused")
        .map(|r| r["checksum"].as_str().unwrap())
        .collect();
    assert_eq!(sums.len(), 1, "{sums:?}");
    // The table shows each result's efficiency; the JSON says what the floors were measured from.
    assert!(stdout.contains("eff"), "{stdout}");
    for key in ["memcpy_bytes_per_second", "device_read_bytes_per_second"] {
        assert!(
            doc["machine"][key].as_f64().is_some_and(|v| v > 0.0),
            "{key}"
        );
    }
    let svg = std::fs::read_to_string(&chart).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("tessera"),
        "not an SVG chart"
    );
    // The dataset directory is cleaned up; only our outputs remain.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 2, "{left:?}");
}

/// The fancy workloads: `points` (one coordinate selection) and `rows` (one integer list on axis 0),
/// checksummed against raw mmap's element-by-element and row-by-row reads.
#[test]
fn fancy_workloads_agree_with_mmap() {
    let dir = tempfile::tempdir().unwrap();
    let (_, doc) = bench(
        dir.path(),
        &[
            "--backends",
            "tessera,mmap,zarrs",
            "--workloads",
            "points,rows",
            "--cache",
            "warm",
        ],
    );
    let results = doc["results"].as_array().unwrap();
    for r in results {
        check_result(r);
    }
    let count = |backend: &str, workload: &str| {
        results
            .iter()
            .filter(|r| r["backend"] == backend && r["workload"] == workload)
            .count()
    };
    assert_eq!(
        (count("tessera", "points"), count("tessera", "rows")),
        (6, 6)
    );
    assert_eq!((count("mmap", "points"), count("mmap", "rows")), (1, 1));
    // zarrs has no coordinate selection; it reads the rows one by one.
    assert_eq!((count("zarrs", "points"), count("zarrs", "rows")), (0, 6));
    // One batch: the decode floor of the compressed arrays' rows counts each chunk once.
    for r in results
        .iter()
        .filter(|r| r["workload"] == "rows" && r["codec"] != "none")
    {
        assert!(r["floor_seconds"].as_f64().is_some_and(|s| s > 0.0), "{r}");
    }
}

#[test]
fn python_peers_agree_when_installed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = root.join(".venv-zarr3/bin/python");
    let ok = Command::new(&python)
        .args(["-c", "import zarr, tensorstore"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("skipped: no {} with zarr and tensorstore", python.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (_, doc) = bench(
        dir.path(),
        &[
            "--backends",
            "tessera,tensorstore,zarr-python",
            "--workloads",
            "whole,slabs,crops,write,points,rows",
            "--cache",
            "warm",
            "--python",
            python.to_str().unwrap(),
        ],
    );
    let results = doc["results"].as_array().unwrap();
    // Six arrays, eight workloads (whole, three slabs, crops, write, points as vindex, rows as
    // oindex); every checksum agreed with tessera's, or the run would have failed.
    for backend in ["tensorstore", "zarr-python"] {
        let n = results.iter().filter(|r| r["backend"] == backend).count();
        assert_eq!(n, 6 * 8, "{backend}");
    }
    for r in results {
        check_result(r);
    }
}

/// A Python for the peers that imports `modules`: `$TESSERA_BENCH_PYTHON`, else `.venv-zarr3`.
fn python_with(modules: &str) -> Option<std::path::PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = std::env::var_os("TESSERA_BENCH_PYTHON")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join(".venv-zarr3/bin/python"));
    let ok = Command::new(&python)
        .args(["-c", &format!("import {modules}")])
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        Some(python)
    } else {
        eprintln!("skipped: no {} with {modules}", python.display());
        None
    }
}

#[test]
fn hdf5_peer_agrees_when_installed() {
    let Some(python) = python_with("h5py, hdf5plugin") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (out, doc) = bench(
        dir.path(),
        &[
            "--backends",
            "tessera,h5py",
            "--workloads",
            "whole,whole-reused,slabs,write,copy,rows",
            "--python",
            python.to_str().unwrap(),
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("HDF5 copies for h5py"), "{stdout}");
    let results = doc["results"].as_array().unwrap();
    for r in results {
        check_result(r);
    }
    // Ten HDF5 files (none, zstd, blosc-lz4, gzip, lzf; cubes and slabs), eight workloads, cold and
    // warm; every checksum agreed with the raw file, or the run would have failed.
    let h5: Vec<&Value> = results.iter().filter(|r| r["backend"] == "h5py").collect();
    assert_eq!(h5.len(), 10 * 8 * 2);
    for codec in ["gzip", "lzf", "zstd", "blosc-lz4", "none"] {
        assert!(h5.iter().any(|r| r["codec"] == codec), "{codec}");
    }
    // The HDF5 files hold what the Zarr arrays hold: the same whole-array checksum.
    let sums: std::collections::BTreeSet<&str> = results
        .iter()
        .filter(|r| r["workload"] == "whole")
        .map(|r| r["checksum"].as_str().unwrap())
        .collect();
    assert_eq!(sums.len(), 1, "{sums:?}");
    // gzip and lzf have no tessera twin: their rows are listed under the table.
    assert!(stdout.contains("h5py     gzip-cubes"), "{stdout}");
}

#[test]
fn tessera_python_peer_agrees_when_installed() {
    // Skips unless the peers' Python imports the tessera package (crates/tessera-python) and zarr.
    let Some(python) = python_with("tessera, zarr") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (out, doc) = bench(
        dir.path(),
        &[
            "--backends",
            "tessera,zarr-python,tessera-python",
            "--workloads",
            "whole,slabs,crops,write",
            "--cache",
            "warm",
            "--python",
            python.to_str().unwrap(),
        ],
    );
    let results = doc["results"].as_array().unwrap();
    // Six arrays, six workloads (whole, three slabs, crops, write); every checksum agreed, or the run
    // would have failed.
    let n = results
        .iter()
        .filter(|r| r["backend"] == "tessera-python")
        .count();
    assert_eq!(n, 6 * 6);
    for r in results {
        check_result(r);
    }
    assert!(
        doc["machine"]["tessera_python"].is_string(),
        "{}",
        doc["machine"]
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("/tpy"), "{stdout}");
    assert!(
        stdout.contains("whole read: tessera-python <= 1.2x tessera's time"),
        "{stdout}"
    );
    assert!(
        stdout.contains("every read: tessera-python <= 0.5x zarr-python's time"),
        "{stdout}"
    );
}

/// Whether this process may create block-I/O cgroups (root, with cgroup v1 blkio or v2 io).
fn can_throttle() -> bool {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let v1 = Path::new("/sys/fs/cgroup/blkio/blkio.throttle.read_bps_device").exists();
    let v2 = std::fs::read_to_string("/sys/fs/cgroup/cgroup.controllers")
        .is_ok_and(|c| c.split_whitespace().any(|w| w == "io"));
    root && (v1 || v2)
}

#[test]
fn disk_scenario_throttles_cold_reads() {
    // The dataset must sit on a block device for the throttle: the target directory, not /tmp (which may
    // be tmpfs).
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target");
    std::fs::create_dir_all(&target).unwrap();
    let dir = tempfile::tempdir_in(&target).unwrap();
    let (out, doc) = bench(
        dir.path(),
        &[
            "--backends",
            "tessera,mmap",
            "--workloads",
            "whole,slabs",
            "--scenario",
            "local,disk",
            "--disk-bandwidth",
            "2M",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let results = doc["results"].as_array().unwrap();
    for r in results {
        check_result(r);
    }
    let disk: Vec<&Value> = results
        .iter()
        .filter(|r| r["scenario"] == "disk-2M")
        .collect();
    if !can_throttle() {
        assert!(disk.is_empty());
        assert!(stdout.contains("skipped scenario disk"), "{stdout}");
        eprintln!("skipped: cannot create block-I/O cgroups here");
        return;
    }
    assert!(stdout.contains("scenario disk-2M"), "{stdout}");
    // Cold runs only, every backend and array as in the local scenario.
    assert!(disk.iter().all(|r| r["cache"] == "cold"));
    let local_cold = results
        .iter()
        .filter(|r| r["scenario"] == "local" && r["cache"] == "cold")
        .count();
    assert_eq!(disk.len(), local_cold);
    // The kernel really limits the reads: mmap's cold whole read of the 1 MiB raw file at 2 MiB/s takes
    // about half a second, less the throttle's first slice (100 ms at full rate), and cannot beat its
    // device floor by much.
    let mmap_whole = disk
        .iter()
        .find(|r| r["backend"] == "mmap" && r["workload"] == "whole")
        .unwrap();
    let seconds = mmap_whole["seconds"].as_f64().unwrap();
    assert!(seconds > 0.3, "{mmap_whole}");
    assert_eq!(mmap_whole["floor"], "device", "{mmap_whole}");
    assert!(
        mmap_whole["efficiency"].as_f64().unwrap() < 1.5,
        "{mmap_whole}"
    );
}

#[test]
fn s3_scenario_reads_through_the_link() {
    let dir = tempfile::tempdir().unwrap();
    let (out, doc) = bench(
        dir.path(),
        &[
            "--backends",
            "tessera,zarrs,mmap",
            "--workloads",
            "whole,whole-reused,slabs,crops,write",
            "--scenario",
            "s3",
            "--s3-latency-ms",
            "5",
            "--s3-bandwidth",
            "8M",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("scenario s3"), "{stdout}");
    let results = doc["results"].as_array().unwrap();
    // tessera and zarrs on the six arrays, read workloads only (whole, whole-reused for tessera, three
    // slabs, crops), warm; no raw mmap (its file is not in the bucket).
    assert_eq!(results.len(), 6 * 6 + 6 * 5, "{results:?}");
    for r in results {
        check_result(r);
        assert_eq!(r["scenario"], "s3", "{r}");
        assert!(r["backend"] == "tessera" || r["backend"] == "zarrs", "{r}");
        assert_eq!(r["cache"], "warm", "{r}");
        let floors = r["floors"].as_object().unwrap();
        let network = floors["network"].as_f64().unwrap();
        // At least one request's latency, and the link's cap holds: no read beats its network floor
        // (a little timing slack).
        assert!(network >= 0.005, "{r}");
        assert!(r["efficiency"].as_f64().unwrap() <= 1.05, "{r}");
    }
    // A whole read of the 1 MiB uncompressed array carries its ~1.2 MB through the 8 MiB/s link.
    let whole = results
        .iter()
        .find(|r| {
            r["backend"] == "tessera" && r["array"] == "none-cubes" && r["workload"] == "whole"
        })
        .unwrap();
    assert!(whole["seconds"].as_f64().unwrap() > 0.12, "{whole}");
    assert_eq!(whole["floor"], "network", "{whole}");
    // Same bytes as from the file system (the run fails on a checksum mismatch; and one value).
    let sums: std::collections::BTreeSet<&str> = results
        .iter()
        .filter(|r| r["workload"] == "whole" || r["workload"] == "whole-reused")
        .map(|r| r["checksum"].as_str().unwrap())
        .collect();
    assert_eq!(sums.len(), 1, "{sums:?}");
}

#[test]
fn nonsense_arguments_fail() {
    let out = Command::new(env!("CARGO_BIN_EXE_tessera-bench"))
        .args(["--size", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("too small"));
    let out = Command::new(env!("CARGO_BIN_EXE_tessera-bench"))
        .args(["--disk-bandwidth", "slow"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("slow"));
}

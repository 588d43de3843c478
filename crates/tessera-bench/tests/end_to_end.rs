//! The harness end to end on a tiny dataset: it runs every workload cold and warm, exits 0, and writes
//! JSON in the shape scripts consume and an SVG chart.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

const WORKLOADS: [&str; 8] = [
    "whole",
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
        ["tessera", "mmap", "zarrs", "tensorstore", "zarr-python"].contains(&backend),
        "{backend}"
    );
    let codec = obj["codec"].as_str().unwrap();
    assert!(["none", "zstd", "blosc-lz4"].contains(&codec), "{codec}");
    let chunks = obj["chunks"].as_array().unwrap();
    assert_eq!(chunks.len(), 3);
    assert!(chunks.iter().all(|c| c.as_u64().is_some_and(|c| c > 0)));
    assert!(WORKLOADS.contains(&obj["workload"].as_str().unwrap()));
    assert!(["cold", "warm"].contains(&obj["cache"].as_str().unwrap()));
    assert!(obj["seconds"].as_f64().is_some_and(|s| s > 0.0), "{r}");
    assert!(obj["bytes"].as_u64().is_some_and(|b| b > 0), "{r}");
    let peak = &obj["peak_rss_bytes"];
    assert!(
        peak.is_null() || peak.as_u64().is_some_and(|p| p > 0),
        "{r}"
    );
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
                    _ => 6,
                };
                assert_eq!(n, want, "{backend} {workload} {cache}");
            }
        }
    }
    // Backends agree (the run would have failed otherwise): the whole-array checksums are one value.
    let sums: std::collections::BTreeSet<&str> = results
        .iter()
        .filter(|r| r["workload"] == "whole")
        .map(|r| r["checksum"].as_str().unwrap())
        .collect();
    assert_eq!(sums.len(), 1, "{sums:?}");
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
            "whole,slabs,crops,write",
            "--cache",
            "warm",
            "--python",
            python.to_str().unwrap(),
        ],
    );
    let results = doc["results"].as_array().unwrap();
    for backend in ["tensorstore", "zarr-python"] {
        let n = results.iter().filter(|r| r["backend"] == backend).count();
        assert_eq!(n, 6 * 6, "{backend}");
    }
    for r in results {
        check_result(r);
    }
}

#[test]
fn nonsense_arguments_fail() {
    let out = Command::new(env!("CARGO_BIN_EXE_tessera-bench"))
        .args(["--size", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("too small"));
}

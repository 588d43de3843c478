//! Rechunking `(1, N)` chunks into `(N, 1)` chunks of an array four times larger than the memory limit
//! stays within the limit: the child's peak resident size is measured with `wait4`.

use std::process::{Command, Stdio};

use tessera_array::DataType;

use super::common::*;

const MIB: u64 = 1 << 20;

/// Runs `cmd` to completion and returns its peak resident set size in bytes, polling `VmHWM` (the
/// kernel's high-water mark of the child's own address space) in `/proc/<pid>/status`.
///
/// `wait4`'s `ru_maxrss` would be wrong here: Linux carries the pre-`exec` RSS into it, and before
/// `exec` the child shares the address space of this (large, multi-threaded) test process.
fn peak_rss(cmd: &mut Command) -> u64 {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Ok(text) = std::fs::read_to_string(&status_file)
            && let Some(line) = text.lines().find(|l| l.starts_with("VmHWM:"))
        {
            let kib: u64 = line["VmHWM:".len()..]
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .unwrap();
            peak = peak.max(kib * 1024);
        }
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{cmd:?} failed: {status}");
            return peak;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

fn import(dir: &std::path::Path, name: &str, rows: u64, cols: u64) -> std::path::PathBuf {
    let input = dir.join(format!("{name}.npy"));
    let data: Vec<u8> = (0..rows * cols)
        .flat_map(|i| (i as f64).to_le_bytes())
        .collect();
    write_npy(
        &input,
        &DataType::parse_typestr("<f8").unwrap(),
        &[rows, cols],
        false,
        &data,
    );
    let store = dir.join(format!("{name}.zarr"));
    ok(&[
        "import",
        s(&input),
        s(&store),
        "--chunks",
        &format!("1,{cols}"),
        "--compressor",
        "none",
    ]);
    std::fs::remove_file(&input).unwrap();
    store
}

#[test]
fn transposing_rechunk_stays_within_the_memory_limit() {
    let dir = tempfile::tempdir().unwrap();
    let limit = 16 * MIB;
    // 1024 x 8192 f8 = 64 MiB, four times the limit; source chunks are rows, destination chunks columns.
    let (rows, cols) = (1024u64, 8192u64);
    let big = import(dir.path(), "big", rows, cols);
    let small = import(dir.path(), "small", 8, 64);
    let rechunk = |src: &std::path::Path, name: &str, chunks: &str| {
        let mut cmd = tessera();
        cmd.args([
            "copy",
            s(src),
            s(&dir.path().join(name)),
            "--chunks",
            chunks,
            "--memory-limit",
            "16M",
        ]);
        peak_rss(&mut cmd)
    };
    // The fixed cost of the process (binary, libraries, thread stacks, allocator) measured on a tiny
    // array with the same command and limit.
    let baseline = rechunk(&small, "small_t.zarr", "8,1");
    let peak = rechunk(&big, "big_t.zarr", &format!("{rows},1"));
    eprintln!(
        "rechunk of a {} MiB array with --memory-limit {} MiB: peak RSS {:.1} MiB (baseline {:.1} MiB)",
        rows * cols * 8 / MIB,
        limit / MIB,
        peak as f64 / MIB as f64,
        baseline as f64 / MIB as f64
    );
    // The limit covers the data; the baseline covers the process itself; 4 MiB of slack covers
    // allocator rounding and page-granular accounting.
    assert!(
        peak <= limit + baseline + 4 * MIB,
        "peak {peak} > limit {limit} + baseline {baseline} + 4 MiB"
    );

    // The rechunked array holds the same values: check a few columns.
    let out = dir.path().join("col.npy");
    for col in ["0", "4097", "-1"] {
        ok(&[
            "export",
            s(&dir.path().join("big_t.zarr")),
            "--select",
            &format!(":, {col}"),
            "-o",
            s(&out),
        ]);
        let (_, shape, _, data) = read_npy(&out);
        assert_eq!(shape, vec![rows]);
        let c: u64 = if col == "-1" {
            cols - 1
        } else {
            col.parse().unwrap()
        };
        for (r, v) in data.chunks(8).enumerate() {
            assert_eq!(
                f64::from_le_bytes(v.try_into().unwrap()),
                (r as u64 * cols + c) as f64
            );
        }
    }
    let zarray = std::fs::read_to_string(dir.path().join("big_t.zarr/.zarray")).unwrap();
    assert!(zarray.contains("1024,\n        1\n"), "{zarray}");
}

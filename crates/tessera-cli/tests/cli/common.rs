//! Running the binary and reading and writing `.npy` files.

use std::path::Path;
use std::process::{Command, Output};

use tessera_array::{DataType, Selection};
use tessera_mmap::npy::{NpyHeader, parse_header};

/// A command running the `tessera` binary with no cloud credentials from the environment.
pub fn tessera() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tessera"));
    for var in [
        "AWS_ENDPOINT",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_REGION",
        "AWS_ALLOW_HTTP",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

fn show(out: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs the command and asserts success; returns stdout.
pub fn run_ok(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().expect("the binary runs");
    assert!(out.status.success(), "{cmd:?} failed:\n{}", show(&out));
    out.stdout
}

/// Runs `tessera ARGS` and asserts success; returns stdout.
pub fn ok(args: &[&str]) -> String {
    String::from_utf8(run_ok(tessera().args(args))).unwrap()
}

/// Runs `tessera ARGS`, asserts a clean failure with exit code `code` (one `tessera: error:` line, no
/// panic text) and returns stderr.
pub fn fails(args: &[&str], code: i32) -> String {
    let out = tessera().args(args).output().expect("the binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(code), "{args:?}:\n{}", show(&out));
    assert!(stderr.starts_with("tessera: error: "), "{args:?}: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
    for bad in [
        "panicked",
        "RUST_BACKTRACE",
        "internal error",
        "stack backtrace",
    ] {
        assert!(!stderr.contains(bad), "{args:?}: {stderr}");
    }
    stderr
}

/// A path as `&str`.
pub fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The dtype, shape and C-order data of a `.npy` file.
pub fn read_npy(path: &Path) -> (DataType, Vec<u64>, bool, Vec<u8>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let h = parse_header(&bytes).unwrap();
    (
        h.dtype,
        h.shape,
        h.fortran_order,
        bytes[h.data_offset..].to_vec(),
    )
}

/// Writes a `.npy` file.
pub fn write_npy(path: &Path, dtype: &DataType, shape: &[u64], fortran: bool, data: &[u8]) {
    let mut bytes = NpyHeader::new(dtype.clone(), shape.to_vec(), fortran).to_bytes();
    bytes.extend_from_slice(data);
    std::fs::write(path, bytes).unwrap();
}

/// Deterministic pseudo-random bytes.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// The C-order bytes of `spec` applied to an array of `shape` holding `data` (C order), computed
/// element by element.
pub fn select(data: &[u8], shape: &[u64], itemsize: usize, spec: &str) -> (Vec<u64>, Vec<u8>) {
    let sel: Selection = spec.parse().unwrap();
    let r = sel.resolve(shape).unwrap();
    let axes = r.axes();
    let mut strides = vec![itemsize as u64; shape.len()];
    for a in (0..shape.len().saturating_sub(1)).rev() {
        strides[a] = strides[a + 1] * shape[a + 1];
    }
    let mut out = Vec::new();
    if axes.iter().any(|a| a.count == 0) {
        return (r.shape(), out);
    }
    let mut idx = vec![0u64; axes.len()];
    loop {
        let off: u64 = axes
            .iter()
            .zip(&idx)
            .zip(&strides)
            .map(|((a, &i), &st)| (a.start + i * a.step) * st)
            .sum();
        out.extend_from_slice(&data[off as usize..off as usize + itemsize]);
        let mut k = axes.len();
        loop {
            if k == 0 {
                return (r.shape(), out);
            }
            k -= 1;
            idx[k] += 1;
            if idx[k] < axes[k].count {
                break;
            }
            idx[k] = 0;
        }
    }
}

/// Transposes C-order data of `shape` into F order.
pub fn c_to_f(data: &[u8], shape: &[u64], itemsize: usize) -> Vec<u8> {
    let n: u64 = shape.iter().product();
    let mut out = vec![0u8; data.len()];
    for lin in 0..n {
        // Index of element `lin` in C order.
        let mut rem = lin;
        let mut idx = vec![0u64; shape.len()];
        for a in (0..shape.len()).rev() {
            idx[a] = rem % shape[a];
            rem /= shape[a];
        }
        let mut f = 0u64;
        for a in (0..shape.len()).rev() {
            f = f * shape[a] + idx[a];
        }
        let (src, dst) = (lin as usize * itemsize, f as usize * itemsize);
        out[dst..dst + itemsize].copy_from_slice(&data[src..src + itemsize]);
    }
    out
}

/// The fixtures written by zarr-python.
pub fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/zarr")
}

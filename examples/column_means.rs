//! Column means of an array larger than the memory it is allowed: the out-of-core pattern.
//!
//! Writes a `rows x cols` float32 array (zstd-compressed) block by block, then computes the mean of every
//! column by iterating over row blocks whose size fits the memory budget, and prints the peak resident
//! memory next to the array's size.
//!
//! ```sh
//! cargo run --release --example column_means -- [DIR] [ROWS] [COLS] [BUDGET_MIB]
//! # defaults: a temporary directory, 40000 x 4000 (640 MB of f32), a 64 MiB budget
//! ```

use std::sync::Arc;

use ndarray::{Array2, Axis};
use serde_json::json;
use tessera::array::{Array, ArrayBuilder, DataType, Selection};
use tessera::store::FilesystemStore;

fn value(i: usize, j: usize) -> f32 {
    (j % 97) as f32 + ((i * 31 + j * 7) % 11) as f32 * 0.01
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let tmp = tempfile::tempdir()?;
    let dir = args
        .get(1)
        .map_or_else(|| tmp.path().to_path_buf(), Into::into);
    let rows: usize = args.get(2).map_or(Ok(40_000), |a| a.parse())?;
    let cols: usize = args.get(3).map_or(Ok(4_000), |a| a.parse())?;
    let budget: usize = args.get(4).map_or(Ok(64), |a| a.parse::<usize>())? << 20;
    std::fs::create_dir_all(&dir)?;

    let chunk_rows = 256;
    let store = Arc::new(FilesystemStore::open(&dir)?);
    let arr = ArrayBuilder::new(
        vec![rows as u64, cols as u64],
        vec![chunk_rows, 1000],
        DataType::parse_typestr("<f4")?,
    )
    .compressor(Some(json!({"id": "zstd", "level": 1})))
    .overwrite(true)
    .create(store.clone(), "field")?;

    // Row blocks: a whole number of chunk rows, within the budget (the block plus one chunk per thread).
    let row_bytes = cols * 4;
    let block_rows = ((budget / 2 / row_bytes) / chunk_rows as usize).max(1) * chunk_rows as usize;
    for start in (0..rows).step_by(block_rows) {
        let n = block_rows.min(rows - start);
        let block = Array2::from_shape_fn((n, cols), |(i, j)| value(start + i, j));
        arr.write(
            Selection::from_ranges(&[start as u64..(start + n) as u64, 0..cols as u64]),
            &block,
        )?;
    }

    let arr = Array::open(store, "field")?;
    let mut sums = vec![0f64; cols];
    for block in arr.blocks::<f32>(Some(&[block_rows as u64, cols as u64]))? {
        let (_, data) = block?;
        for (s, col) in sums.iter_mut().zip(data.axis_iter(Axis(1))) {
            *s += col.iter().map(|&v| f64::from(v)).sum::<f64>();
        }
    }
    let means: Vec<f64> = sums.iter().map(|s| s / rows as f64).collect();

    let expected0: f64 = (0..rows).map(|i| f64::from(value(i, 0))).sum::<f64>() / rows as f64;
    assert!(
        (means[0] - expected0).abs() < 1e-6,
        "column 0: {} vs {expected0}",
        means[0]
    );
    let size_mib = (rows * cols * 4) as f64 / (1 << 20) as f64;
    println!(
        "array: {rows} x {cols} float32 = {size_mib:.0} MiB; budget {} MiB; blocks of {block_rows} rows",
        budget >> 20
    );
    println!("means of columns 0..5: {:?}", &means[..5.min(cols)]);
    if let Some(peak) = peak_rss_mib() {
        println!(
            "peak resident memory: {peak:.0} MiB ({:.0}% of the array)",
            100.0 * peak / size_mib
        );
    }
    Ok(())
}

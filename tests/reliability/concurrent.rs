//! Concurrent writers: eight processes writing disjoint chunk-aligned regions of one array, on the
//! filesystem and on an S3 server; threads of one process writing random overlapping partial boxes,
//! checked against a model.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ndarray::{Array2, ArrayD, IxDyn};
use serde_json::json;
use tessera_array::{Array, ArrayBuilder, AxisSelector, DataType, Selection, Separator};
use tessera_store::object_store::path::Path as ObjectPath;
use tessera_store::{
    FilesystemStore, MemoryStore, ObjectStoreBackend, Store, StorePrefix, open_store,
};

use super::Rng;
use super::process::{CHILD_TIMEOUT, Running, arg, child, is_child};
use super::s3_server::{ACCESS_KEY, BUCKET, S3Server, SECRET_KEY};

const LOCATION: &str = "TESSERA_RELIABILITY_LOCATION";
const INDEX: &str = "TESSERA_RELIABILITY_INDEX";
const GO: &str = "TESSERA_RELIABILITY_GO";
const PROCS: u64 = 8;
const ROUNDS: u64 = 3;

/// What process `p` writes to `(i, j)` in round `round`.
fn region_value(round: u64, p: u64, i: u64, j: u64, cols: u64) -> u64 {
    (round << 56) | (p << 48) | (i * cols + j)
}

/// Child role: process `INDEX` of [`PROCS`] owns the chunk columns `INDEX, INDEX + 8, ...` of `data`
/// in the store at `LOCATION`; once the file `GO` exists it writes them [`ROUNDS`] times, as whole
/// column strips (even rounds) or chunk by chunk (odd rounds).
pub fn write_regions() {
    let store = open_store(&arg(LOCATION)).unwrap();
    let arr = Array::open(store, "data").unwrap();
    let p: u64 = arg(INDEX).parse().unwrap();
    let (rows, cols) = (arr.shape()[0], arr.shape()[1]);
    let (cr, cc) = (arr.chunks()[0], arr.chunks()[1]);
    println!("ready");
    let go = arg(GO);
    let deadline = Instant::now() + CHILD_TIMEOUT;
    while !Path::new(&go).exists() {
        assert!(Instant::now() < deadline, "no go signal");
        std::thread::sleep(Duration::from_millis(1));
    }
    for round in 0..ROUNDS {
        for strip in (p..cols / cc).step_by(PROCS as usize) {
            let js = strip * cc..(strip + 1) * cc;
            // Whole strips in even rounds, chunk by chunk in odd ones.
            let block_rows = if round % 2 == 0 { rows } else { cr };
            let row_blocks = (0..rows / block_rows).map(|b| b * block_rows..(b + 1) * block_rows);
            for is in row_blocks {
                let block =
                    Array2::from_shape_fn(((is.end - is.start) as usize, cc as usize), |(a, b)| {
                        region_value(round, p, is.start + a as u64, js.start + b as u64, cols)
                    });
                arr.write(Selection::from_ranges(&[is, js.clone()]), &block)
                    .unwrap();
            }
        }
    }
}

/// Creates `data` in `store`, runs the eight writers against `location` (with `env` added), and checks
/// every element and that the store holds exactly the array's keys.
fn eight_writers(
    store: Arc<dyn Store>,
    location: &str,
    env: &[(&str, &str)],
    separator: Separator,
) {
    let (rows, cols, cr, cc) = (32u64, 256u64, 8u64, 8u64);
    let arr = ArrayBuilder::new(
        vec![rows, cols],
        vec![cr, cc],
        DataType::parse_typestr("<u8").unwrap(),
    )
    .compressor(Some(json!({"id": "zstd", "level": 1})))
    .fill_value(json!(0))
    .separator(separator)
    .create(store.clone(), "data")
    .unwrap();
    let go_dir = tempfile::tempdir().unwrap();
    let go = go_dir.path().join("go");
    let started = Instant::now();
    let mut writers: Vec<Running> = (0..PROCS)
        .map(|p| {
            let mut cmd = child("write-regions");
            cmd.env(LOCATION, location)
                .env(INDEX, p.to_string())
                .env(GO, &go);
            for (k, v) in env {
                cmd.env(k, v);
            }
            Running::start(cmd, format!("writer {p}"))
        })
        .collect();
    for w in &mut writers {
        w.wait_for("ready");
    }
    std::fs::write(&go, b"go").unwrap();
    for w in writers {
        w.finish();
    }
    let elapsed = started.elapsed();
    let got = arr
        .read::<u64>(())
        .unwrap()
        .into_dimensionality::<ndarray::Ix2>()
        .unwrap();
    for ((i, j), &v) in got.indexed_iter() {
        let (i, j) = (i as u64, j as u64);
        let owner = (j / cc) % PROCS;
        assert_eq!(
            v,
            region_value(ROUNDS - 1, owner, i, j, cols),
            "element ({i}, {j}) of writer {owner}"
        );
    }
    let keys = store.list_prefix(&StorePrefix::root()).unwrap();
    let sep = separator.as_char();
    let mut expected: Vec<String> = (0..rows / cr)
        .flat_map(|a| (0..cols / cc).map(move |b| format!("data/{a}{sep}{b}")))
        .chain(["data/.zarray".to_string(), ".zgroup".to_string()])
        .collect();
    expected.sort();
    let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    assert_eq!(keys, expected);
    println!("{location}: {PROCS} writer processes, {ROUNDS} rounds each, in {elapsed:?}");
}

#[test]
fn eight_processes_write_disjoint_regions_on_the_filesystem() {
    if is_child() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(FilesystemStore::open(dir.path()).unwrap());
    // Nested chunk keys: the writers also race to create the same directories.
    eight_writers(store, dir.path().to_str().unwrap(), &[], Separator::Slash);
}

#[test]
fn eight_processes_write_disjoint_regions_on_s3() {
    if is_child() {
        return;
    }
    let server = S3Server::start();
    let store: Arc<dyn Store> = Arc::new(ObjectStoreBackend::new(
        server.client(),
        ObjectPath::from("conc"),
    ));
    let env = [
        ("AWS_ENDPOINT", server.endpoint.as_str()),
        ("AWS_ALLOW_HTTP", "true"),
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
        ("AWS_REGION", "us-east-1"),
    ];
    eight_writers(store, &format!("s3://{BUCKET}/conc"), &env, Separator::Dot);
}

/// One write of the model: the elements it covers (per axis, start/count/step) and the moments
/// (ticks of a shared counter, or of the system's monotonic clock) it began and ended.
pub struct Write {
    pub value: u32,
    pub axes: [(u64, u64, u64); 2],
    pub began: u64,
    pub ended: u64,
}

/// A random box of a `rows` x `cols` array: per axis a start, a count (at most half the axis) and a
/// step of 1 (mostly), 2 or 3; and the selection of it.
pub fn random_box(rng: &mut Rng, rows: u64, cols: u64) -> ([(u64, u64, u64); 2], Selection) {
    let mut axes = [(0, 0, 0); 2];
    for (a, &n) in [rows, cols].iter().enumerate() {
        let step = [1, 1, 1, 2, 3][rng.below(5) as usize];
        let start = rng.below(n);
        let max_count = (n - start).div_ceil(step);
        let count = 1 + rng.below(max_count.min(n / 2).max(1));
        axes[a] = (start, count.min(max_count), step);
    }
    let sel = Selection::new(
        axes.iter()
            .map(|&(start, count, step)| AxisSelector::Slice {
                start: Some(start as i64),
                stop: Some((start + (count - 1) * step + 1) as i64),
                step: Some(step as i64),
            })
            .collect(),
    );
    (axes, sel)
}

impl Write {
    fn covers(&self, i: u64, j: u64) -> bool {
        self.axes
            .iter()
            .zip([i, j])
            .all(|(&(start, count, step), x)| {
                x >= start && (x - start) % step == 0 && (x - start) / step < count
            })
    }
}

/// Eight threads write random, overlapping, partial (often strided) boxes into one array, each
/// thread through its own handle; some writes reset a box to the fill value. Every write takes a
/// unique value. Afterwards each element must hold the value of a write that covered it and that no
/// other covering write began after it ended (each element behaves as a linearizable register):
/// a read-modify-write that lost another thread's data shows as an element holding a value that was
/// overwritten by a later write, or the fill value where something was written.
fn overlapping_boxes_lose_nothing(store: Arc<dyn Store>, rng: &mut Rng) {
    let (rows, cols) = (40u64, 56u64);
    ArrayBuilder::new(
        vec![rows, cols],
        vec![8, 16],
        DataType::parse_typestr("<u4").unwrap(),
    )
    .compressor(Some(json!({"id": "zlib", "level": 1})))
    .fill_value(json!(0))
    .create(store.clone(), "boxes")
    .unwrap();
    let clock = AtomicU64::new(1);
    let next_value = AtomicU64::new(1);
    let seeds: Vec<u64> = (0..8).map(|_| rng.next_u64()).collect();
    let writes: Vec<Write> = std::thread::scope(|scope| {
        let handles: Vec<_> = seeds
            .iter()
            .map(|&seed| {
                let (store, clock, next_value) = (store.clone(), &clock, &next_value);
                scope.spawn(move || {
                    let arr = Array::open(store, "boxes").unwrap();
                    let mut rng = Rng::new(seed);
                    let mut done = Vec::new();
                    for _ in 0..40 {
                        let (axes, sel) = random_box(&mut rng, rows, cols);
                        let fill = rng.below(8) == 0;
                        let value = if fill {
                            0
                        } else {
                            next_value.fetch_add(1, Ordering::SeqCst) as u32
                        };
                        let began = clock.fetch_add(1, Ordering::SeqCst);
                        if fill {
                            arr.fill(&sel).unwrap();
                        } else {
                            let shape = IxDyn(&[axes[0].1 as usize, axes[1].1 as usize]);
                            arr.write(&sel, &ArrayD::from_elem(shape, value)).unwrap();
                        }
                        let ended = clock.fetch_add(1, Ordering::SeqCst);
                        done.push(Write {
                            value,
                            axes,
                            began,
                            ended,
                        });
                    }
                    done
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    check_boxes(&store, &writes, "8 threads");
}

/// Checks that every element of `boxes` holds the value of a write that covered it and that no other
/// covering write began after it ended (each element behaves as a linearizable register).
pub fn check_boxes(store: &Arc<dyn Store>, writes: &[Write], writers: &str) {
    let got = Array::open(store.clone(), "boxes")
        .unwrap()
        .read::<u32>(())
        .unwrap()
        .into_dimensionality::<ndarray::Ix2>()
        .unwrap();
    let mut contested = 0;
    for ((i, j), &v) in got.indexed_iter() {
        let (i, j) = (i as u64, j as u64);
        let covering: Vec<&Write> = writes.iter().filter(|w| w.covers(i, j)).collect();
        let latest_start = covering.iter().map(|w| w.began).max();
        let Some(latest_start) = latest_start else {
            assert_eq!(v, 0, "({i}, {j}) was never written");
            continue;
        };
        if covering.iter().filter(|w| w.ended > latest_start).count() > 1 {
            contested += 1;
        }
        let ok = covering
            .iter()
            .any(|w| w.value == v && w.ended > latest_start);
        assert!(
            ok,
            "({i}, {j}) holds {v}, not the value of a write still current at the end: {:?}",
            covering
                .iter()
                .map(|w| (w.value, w.began, w.ended))
                .collect::<Vec<_>>()
        );
    }
    println!(
        "{} writes by {writers}; {} elements checked, {contested} of them written concurrently by \
         more than one writer",
        writes.len(),
        got.len()
    );
}

#[test]
fn threads_writing_random_overlapping_boxes_lose_nothing() {
    if is_child() {
        return;
    }
    let mut rng = Rng::from_env("threads_writing_random_overlapping_boxes_lose_nothing");
    overlapping_boxes_lose_nothing(Arc::new(MemoryStore::new()), &mut rng);
    let dir = tempfile::tempdir().unwrap();
    overlapping_boxes_lose_nothing(
        Arc::new(FilesystemStore::open(dir.path()).unwrap()),
        &mut rng,
    );
}

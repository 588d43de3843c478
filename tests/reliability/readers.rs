//! Readers during writes: while a writer rewrites chunks generation after generation, reader
//! processes and threads read the whole array and random strided selections; every read succeeds,
//! every chunk they see is one whole generation, and no chunk ever goes back to an older one.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tessera_array::Array;
use tessera_store::object_store::path::Path as ObjectPath;
use tessera_store::{FilesystemStore, MemoryStore, ObjectStoreBackend, Store};

use super::Rng;
use super::crash::LAYOUT;
use super::generations::Layout;
use super::process::{Running, arg, child, is_child};
use super::s3_server::S3Server;

const DIR: &str = "TESSERA_RELIABILITY_DIR";
const START_GEN: &str = "TESSERA_RELIABILITY_START_GEN";
const READ_MILLIS: &str = "TESSERA_RELIABILITY_READ_MILLIS";
const SEED: &str = "TESSERA_RELIABILITY_READER_SEED";

/// Reads `arr` for `duration`; returns (reads, distinct generations seen) or what went wrong.
fn read_for(
    arr: &Array,
    layout: &Layout,
    duration: Duration,
    seed: u64,
) -> Result<(usize, usize), String> {
    let mut rng = Rng::new(seed);
    let mut latest = vec![0u32; layout.chunk_count()];
    let mut seen = std::collections::BTreeSet::new();
    let started = Instant::now();
    let mut reads = 0;
    while started.elapsed() < duration {
        let gens: Vec<Option<u32>> = if reads % 2 == 0 {
            layout.generations(arr)?.into_iter().map(Some).collect()
        } else {
            let [rows, cols] = layout.shape;
            let (r0, c0) = (rng.below(rows), rng.below(cols));
            let (r1, c1) = (r0 + 1 + rng.below(rows - r0), c0 + 1 + rng.below(cols - c0));
            layout.check_strided(arr, r0..r1, 1 + rng.below(3), c0..c1, 1 + rng.below(5))?
        };
        for (c, g) in gens.into_iter().enumerate() {
            let Some(g) = g else { continue };
            if g < latest[c] {
                return Err(format!(
                    "chunk {c} went back from generation {} to {g}",
                    latest[c]
                ));
            }
            latest[c] = g;
            seen.insert(g);
        }
        reads += 1;
    }
    Ok((reads, seen.len()))
}

/// Child role: reads `data` in the store at `DIR` for `READ_MILLIS` and prints `reads N gens M`.
pub fn read_generations() {
    let store: Arc<dyn Store> = Arc::new(FilesystemStore::open(Path::new(&arg(DIR))).unwrap());
    let arr = Array::open(store, "data").unwrap();
    let millis: u64 = arg(READ_MILLIS).parse().unwrap();
    let seed: u64 = arg(SEED).parse().unwrap();
    match read_for(&arr, &LAYOUT, Duration::from_millis(millis), seed) {
        Ok((reads, gens)) => println!("reads {reads} gens {gens}"),
        Err(e) => panic!("reader: {e}"),
    }
}

#[test]
fn readers_in_other_processes_and_threads_never_see_a_torn_chunk() {
    if is_child() {
        return;
    }
    let mut rng = Rng::from_env("readers_in_other_processes_and_threads_never_see_a_torn_chunk");
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(FilesystemStore::open(dir.path()).unwrap());
    LAYOUT.create(store.clone(), "data", 1);
    let mut cmd = child("rewrite-chunks");
    cmd.env(DIR, dir.path()).env(START_GEN, "2");
    let mut writer = Running::start(cmd, "writer");
    writer.wait_for("ready");
    let millis = 1500;
    let readers: Vec<Running> = (0..2)
        .map(|r| {
            let mut cmd = child("read-generations");
            cmd.env(DIR, dir.path())
                .env(READ_MILLIS, millis.to_string())
                .env(SEED, rng.next_u64().to_string());
            Running::start(cmd, format!("reader process {r}"))
        })
        .collect();
    let seeds: Vec<u64> = (0..2).map(|_| rng.next_u64()).collect();
    let in_threads: Vec<(usize, usize)> = std::thread::scope(|scope| {
        let handles: Vec<_> = seeds
            .iter()
            .map(|&seed| {
                let store = store.clone();
                scope.spawn(move || {
                    let arr = Array::open(store, "data").unwrap();
                    read_for(&arr, &LAYOUT, Duration::from_millis(millis), seed)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap()
                    .unwrap_or_else(|e| panic!("reader thread: {e}"))
            })
            .collect()
    });
    let mut report = Vec::new();
    for r in readers {
        let lines = r.finish();
        let line = lines.iter().find(|l| l.starts_with("reads ")).unwrap();
        report.push(line.clone());
        let gens: usize = line.rsplit(' ').next().unwrap().parse().unwrap();
        assert!(gens >= 2, "a reader process saw no rewrite: {line}");
    }
    // The writer was rewriting all along: it is still alive.
    let _ = writer.drain();
    writer.kill();
    for (reads, gens) in &in_threads {
        assert!(*gens >= 2, "a reader thread saw no rewrite ({reads} reads)");
        report.push(format!("reads {reads} gens {gens}"));
    }
    println!("filesystem readers (2 processes, 2 threads): {report:?}");
}

/// A writer thread rewrites chunks while reader threads read, on any store.
fn threads_read_while_one_writes(store: Arc<dyn Store>, what: &str, rng: &mut Rng) {
    let layout = Layout {
        shape: [8, 32],
        chunks: [4, 8],
    };
    layout.create(store.clone(), "data", 1);
    let stop = AtomicBool::new(false);
    let seeds: Vec<u64> = (0..2).map(|_| rng.next_u64()).collect();
    let mut writer_rng = Rng::new(rng.next_u64());
    let (gens_written, results) = std::thread::scope(|scope| {
        let writer = {
            let (store, stop) = (store.clone(), &stop);
            scope.spawn(move || {
                let arr = Array::open(store, "data").unwrap();
                let mut generation = 2;
                while !stop.load(Ordering::Relaxed) {
                    let mut order: Vec<usize> = (0..layout.chunk_count()).collect();
                    writer_rng.shuffle(&mut order);
                    for c in order {
                        layout.write_chunk(&arr, generation, c);
                    }
                    generation += 1;
                }
                generation
            })
        };
        let readers: Vec<_> = seeds
            .iter()
            .map(|&seed| {
                let store = store.clone();
                scope.spawn(move || {
                    let arr = Array::open(store, "data").unwrap();
                    read_for(&arr, &layout, Duration::from_millis(800), seed)
                })
            })
            .collect();
        let results: Vec<_> = readers.into_iter().map(|h| h.join().unwrap()).collect();
        stop.store(true, Ordering::Relaxed);
        (writer.join().unwrap(), results)
    });
    for r in &results {
        let (reads, gens) = r.as_ref().unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(
            *gens >= 2,
            "{what}: a reader saw no rewrite ({reads} reads)"
        );
    }
    println!(
        "{what}: {} generations written; readers {results:?}",
        gens_written - 2
    );
}

#[test]
fn reader_threads_never_see_a_torn_chunk_in_memory_and_on_s3() {
    if is_child() {
        return;
    }
    let mut rng = Rng::from_env("reader_threads_never_see_a_torn_chunk_in_memory_and_on_s3");
    threads_read_while_one_writes(Arc::new(MemoryStore::new()), "memory", &mut rng);
    let server = S3Server::start();
    let store = ObjectStoreBackend::new(server.client(), ObjectPath::from("readers"));
    threads_read_while_one_writes(Arc::new(store), "s3", &mut rng);
}

/// An uncompressed chunk read in part is fetched as byte ranges, by several requests when they lie far
/// apart. While a writer keeps replacing the chunk with one of another content, a read of rows at its
/// start, middle and end (three requests) sees them all from one version, never a mixture.
#[test]
fn partial_reads_of_an_uncompressed_chunk_on_s3_never_mix_versions() {
    if is_child() {
        return;
    }
    use ndarray::{Array2, s};
    use tessera_array::{ArrayBuilder, DataType};
    let server = S3Server::start();
    let store: Arc<dyn Store> = Arc::new(ObjectStoreBackend::new(
        server.client(),
        ObjectPath::from("mixed"),
    ));
    let (rows, cols) = (3072usize, 1024usize); // one 3 MiB chunk
    let arr = ArrayBuilder::new(
        vec![rows as u64, cols as u64],
        vec![rows as u64, cols as u64],
        DataType::parse_typestr("|u1").unwrap(),
    )
    .compressor(None)
    .fill_value(serde_json::json!(0))
    .create(store, "a")
    .unwrap();
    arr.write((), &Array2::<u8>::from_elem((rows, cols), 1))
        .unwrap();
    let stop = AtomicBool::new(false);
    let (reads, writes) = std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            let mut writes = 0u32;
            while !stop.load(Ordering::Relaxed) && writes < 300 {
                writes += 1;
                let value = 1 + (writes % 2) as u8;
                arr.write((), &Array2::<u8>::from_elem((rows, cols), value))
                    .unwrap();
            }
            writes
        });
        let started = Instant::now();
        let mut reads = 0;
        while started.elapsed() < Duration::from_secs(3) {
            let got = arr.read::<u8>(s![0..rows;rows / 2 - 1, ..]).unwrap();
            assert_eq!(got.shape(), &[3, cols]);
            let first = got[[0, 0]];
            assert!(
                got.iter().all(|&v| v == first),
                "a partial read mixed two versions of the chunk"
            );
            reads += 1;
        }
        stop.store(true, Ordering::Relaxed);
        (reads, writer.join().unwrap())
    });
    println!("{reads} partial reads while {writes} writes replaced the chunk: none mixed");
    assert!(reads > 1 && writes > 1);
}

/// Rows and columns of the sharded array the shard-rewrite test uses: 2×2 shards of 8×32, each
/// holding 2×4 inner chunks of 4×8.
const SHARDED: [u64; 2] = [16, 64];

/// Whether inner chunk `inner` (row-major in its shard) of generation `generation` holds only the
/// fill value: every generation leaves out a different third of the inner chunks, so each rewrite
/// moves the others within the shard and changes its index.
fn left_out(generation: u64, inner: u64) -> bool {
    (inner + generation).is_multiple_of(3)
}

/// The whole array at `generation`: element `(i, j)` is `generation << 32 | i * 64 + j`, or 0 in
/// the inner chunks the generation leaves out.
fn sharded_generation(generation: u64) -> ndarray::Array2<u64> {
    ndarray::Array2::from_shape_fn((16, 64), |(i, j)| {
        let (i, j) = (i as u64, j as u64);
        let inner = (i % 8 / 4) * 4 + (j % 32 / 8);
        if left_out(generation, inner) {
            0
        } else {
            (generation << 32) | (i * SHARDED[1] + j)
        }
    })
}

/// Checks a whole read: each shard is one generation throughout, with exactly that generation's
/// inner chunks left out. Returns the generations seen.
fn check_sharded_read(got: &ndarray::ArrayD<u64>) -> Result<Vec<u64>, String> {
    let mut seen = Vec::new();
    for (si, sj) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
        let shard = got.slice(ndarray::s![si * 8..si * 8 + 8, sj * 32..sj * 32 + 32]);
        let generation = shard.iter().map(|v| v >> 32).max().unwrap_or(0);
        for ((i, j), &v) in shard
            .indexed_iter()
            .map(|((i, j), v)| ((i as u64, j as u64), v))
        {
            let inner = (i / 4) * 4 + j / 8;
            let (row, col) = (si as u64 * 8 + i, sj as u64 * 32 + j);
            let want = if left_out(generation, inner) {
                0
            } else {
                (generation << 32) | (row * SHARDED[1] + col)
            };
            if v != want {
                return Err(format!(
                    "shard ({si}, {sj}) of generation {generation}: element ({row}, {col}) is \
                     {v:#x}, want {want:#x}"
                ));
            }
        }
        seen.push(generation);
    }
    Ok(seen)
}

/// Sharded arrays: a reader fetches a shard's index, then the inner chunks it locates. While a
/// writer keeps rewriting whole shards (each generation moves the inner chunks and changes the
/// index), every read succeeds and sees each shard as one whole generation, never one version's
/// index applied to another's bytes. Memory, the filesystem and S3.
#[test]
fn sharded_reads_never_mix_an_index_with_another_version() {
    if is_child() {
        return;
    }
    use tessera_array::{ArrayBuilder, DataType};
    let dir = tempfile::tempdir().unwrap();
    let server = S3Server::start();
    let stores: Vec<(&str, Arc<dyn Store>)> = vec![
        ("memory", Arc::new(MemoryStore::new())),
        (
            "filesystem",
            Arc::new(FilesystemStore::open(dir.path()).unwrap()),
        ),
        (
            "s3",
            Arc::new(ObjectStoreBackend::new(
                server.client(),
                ObjectPath::from("sharded"),
            )),
        ),
    ];
    for (what, store) in stores {
        let arr = ArrayBuilder::new(
            SHARDED.to_vec(),
            vec![4, 8],
            DataType::parse_typestr("<u8").unwrap(),
        )
        .zarr_format(3)
        .shards(vec![8, 32])
        .fill_value(serde_json::json!(0))
        .create(store, "a")
        .unwrap();
        arr.write((), &sharded_generation(1)).unwrap();
        let stop = AtomicBool::new(false);
        let (writes, reads) = std::thread::scope(|scope| {
            let writer = scope.spawn(|| {
                let mut generation = 1;
                while !stop.load(Ordering::Relaxed) && generation < 400 {
                    generation += 1;
                    arr.write((), &sharded_generation(generation)).unwrap();
                }
                generation - 1
            });
            let readers: Vec<_> = (0..2)
                .map(|_| {
                    scope.spawn(|| {
                        let started = Instant::now();
                        let mut reads = 0;
                        let mut generations = std::collections::BTreeSet::new();
                        while started.elapsed() < Duration::from_millis(600) {
                            let got = arr.read::<u64>(()).map_err(|e| e.to_string())?;
                            generations.extend(check_sharded_read(&got)?);
                            reads += 1;
                        }
                        Ok::<_, String>((reads, generations.len()))
                    })
                })
                .collect();
            let reads: Vec<_> = readers.into_iter().map(|r| r.join().unwrap()).collect();
            stop.store(true, Ordering::Relaxed);
            (writer.join().unwrap(), reads)
        });
        for r in &reads {
            let (n, gens) = r.as_ref().unwrap_or_else(|e| panic!("{what}: {e}"));
            assert!(*gens >= 2, "{what}: a reader saw no rewrite ({n} reads)");
        }
        println!("{what}: {writes} shard rewrites; readers (reads, generations) {reads:?}");
    }
}

//! Eight processes writing random, overlapping, partial boxes into the few chunks of one array, on the
//! filesystem and on an S3 server: every element is checked against a model of the writes (each
//! element a linearizable register), so a read-modify-write that lost another process's data fails.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ndarray::{ArrayD, IxDyn};
use serde_json::json;
use tessera_array::{Array, ArrayBuilder, DataType};
use tessera_store::object_store::path::Path as ObjectPath;
use tessera_store::{FilesystemStore, ObjectStoreBackend, Store, open_store};

use super::Rng;
use super::concurrent::{Write, check_boxes, random_box};
use super::process::{CHILD_TIMEOUT, Running, arg, child, is_child};
use super::s3_server::{ACCESS_KEY, BUCKET, S3Server, SECRET_KEY};

const LOCATION: &str = "TESSERA_RELIABILITY_LOCATION";
const INDEX: &str = "TESSERA_RELIABILITY_INDEX";
const SEED: &str = "TESSERA_RELIABILITY_BOX_SEED";
const GO: &str = "TESSERA_RELIABILITY_GO";
const PROCS: u32 = 8;
const WRITES: u32 = 25;
/// 24 x 48 elements in chunks of 8 x 16: nine chunks, each written by every process many times.
const SHAPE: (u64, u64) = (24, 48);

/// The system's monotonic clock in nanoseconds: one time line for every process on this machine.
fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: writes the current time into `ts`, which we own.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Child role: process `INDEX` writes [`WRITES`] random boxes (one in eight resets its box to the fill
/// value) into `boxes` at `LOCATION` once the file `GO` exists, each with a value no other write
/// uses, and prints one `write VALUE START COUNT STEP START COUNT STEP BEGAN ENDED` line per write.
pub fn update_boxes() {
    let store = open_store(&arg(LOCATION)).unwrap();
    let arr = Array::open(store, "boxes").unwrap();
    let p: u32 = arg(INDEX).parse().unwrap();
    let mut rng = Rng::new(arg(SEED).parse().unwrap());
    println!("ready");
    let go = arg(GO);
    let deadline = Instant::now() + CHILD_TIMEOUT;
    while !Path::new(&go).exists() {
        assert!(Instant::now() < deadline, "no go signal");
        std::thread::sleep(Duration::from_millis(1));
    }
    for n in 0..WRITES {
        let (axes, sel) = random_box(&mut rng, SHAPE.0, SHAPE.1);
        let fill = rng.below(8) == 0;
        let value = if fill { 0 } else { ((p + 1) << 16) | (n + 1) };
        let began = now_ns();
        if fill {
            arr.fill(&sel).unwrap();
        } else {
            let shape = IxDyn(&[axes[0].1 as usize, axes[1].1 as usize]);
            arr.write(&sel, &ArrayD::from_elem(shape, value)).unwrap();
        }
        let ended = now_ns();
        let [(s0, c0, t0), (s1, c1, t1)] = axes;
        println!("write {value} {s0} {c0} {t0} {s1} {c1} {t1} {began} {ended}");
    }
}

fn parse_write(line: &str) -> Write {
    let n: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|x| x.parse().unwrap())
        .collect();
    Write {
        value: n[0] as u32,
        axes: [(n[1], n[2], n[3]), (n[4], n[5], n[6])],
        began: n[7],
        ended: n[8],
    }
}

/// Creates `boxes` in `store`, runs the eight writers against `location` (with `env` added) and checks
/// every element against their writes.
fn eight_processes_update_boxes(
    store: Arc<dyn Store>,
    location: &str,
    env: &[(&str, &str)],
    rng: &mut Rng,
) {
    ArrayBuilder::new(
        vec![SHAPE.0, SHAPE.1],
        vec![8, 16],
        DataType::parse_typestr("<u4").unwrap(),
    )
    .compressor(Some(json!({"id": "zlib", "level": 1})))
    .fill_value(json!(0))
    .create(store.clone(), "boxes")
    .unwrap();
    let go_dir = tempfile::tempdir().unwrap();
    let go = go_dir.path().join("go");
    let started = Instant::now();
    let mut writers: Vec<Running> = (0..PROCS)
        .map(|p| {
            let mut cmd = child("update-boxes");
            cmd.env(LOCATION, location)
                .env(INDEX, p.to_string())
                .env(SEED, rng.next_u64().to_string())
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
    let writes: Vec<Write> = writers
        .into_iter()
        .flat_map(|w| w.finish())
        .filter(|line| line.starts_with("write "))
        .map(|line| parse_write(&line))
        .collect();
    assert_eq!(writes.len(), (PROCS * WRITES) as usize);
    check_boxes(&store, &writes, &format!("{PROCS} processes"));
    println!(
        "{location}: {PROCS} processes x {WRITES} partial writes in {:?}",
        started.elapsed()
    );
}

#[test]
fn eight_processes_updating_shared_chunks_lose_nothing_on_the_filesystem() {
    if is_child() {
        return;
    }
    let mut rng =
        Rng::from_env("eight_processes_updating_shared_chunks_lose_nothing_on_the_filesystem");
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(FilesystemStore::open(dir.path()).unwrap());
    eight_processes_update_boxes(store, dir.path().to_str().unwrap(), &[], &mut rng);
}

#[test]
fn eight_processes_updating_shared_chunks_lose_nothing_on_s3() {
    if is_child() {
        return;
    }
    let mut rng = Rng::from_env("eight_processes_updating_shared_chunks_lose_nothing_on_s3");
    let server = S3Server::start();
    let store: Arc<dyn Store> = Arc::new(ObjectStoreBackend::new(
        server.client(),
        ObjectPath::from("shared"),
    ));
    let env = [
        ("AWS_ENDPOINT", server.endpoint.as_str()),
        ("AWS_ALLOW_HTTP", "true"),
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
        ("AWS_REGION", "us-east-1"),
    ];
    eight_processes_update_boxes(store, &format!("s3://{BUCKET}/shared"), &env, &mut rng);
}

//! Malformed stores through the library: every case is a typed error, never a panic, a hang, a huge
//! allocation or a file touched outside the store.

use std::collections::BTreeMap;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tessera_array::{Array, ArrayBuilder, ArrayError, DataType, Group};
use tessera_codec::CodecChain;
use tessera_store::{Bytes, FilesystemStore, MemoryStore, Store, StoreErrorKind, StoreKey};

use super::Rng;
use super::process::{Running, arg, child, is_child};

fn key(k: &str) -> StoreKey {
    StoreKey::new(k).unwrap()
}

fn mem() -> Arc<dyn Store> {
    Arc::new(MemoryStore::new())
}

/// A valid `.zarray` for `<f8` chunks of 32 elements of a 64-element array with `compressor`.
pub fn zarray(compressor: Value) -> Value {
    json!({
        "zarr_format": 2, "shape": [64], "chunks": [32], "dtype": "<f8", "compressor": compressor,
        "fill_value": 0.0, "order": "C", "filters": null
    })
}

/// Whether an error is one a malformed metadata document may give.
fn is_metadata_error(e: &ArrayError) -> bool {
    matches!(
        e,
        ArrayError::Metadata { .. } | ArrayError::CodecConfig(_) | ArrayError::NotFound { .. }
    )
}

#[test]
fn truncated_and_damaged_metadata_documents_are_metadata_errors() {
    let mut rng = Rng::from_env("truncated_and_damaged_metadata_documents_are_metadata_errors");
    let store = mem();
    let root = Group::create(store.clone(), "").unwrap();
    let arr = ArrayBuilder::new(vec![64], vec![32], DataType::parse_typestr("<f8").unwrap())
        .compressor(Some(json!({"id": "zstd", "level": 1})))
        .create(store.clone(), "a")
        .unwrap();
    arr.set_attributes(&serde_json::Map::from_iter([("k".into(), json!([1, 2]))]))
        .unwrap();
    root.consolidate().unwrap();
    for name in ["a/.zarray", ".zgroup", "a/.zattrs", ".zmetadata"] {
        let good = store.get(&key(name)).unwrap().unwrap().to_vec();
        let probe = |bytes: Vec<u8>| -> Result<(), ArrayError> {
            store.set(&key(name), Bytes::from(bytes)).unwrap();
            match name {
                "a/.zarray" => Array::open(store.clone(), "a").map(drop),
                ".zgroup" => Group::open(store.clone(), "").map(drop),
                "a/.zattrs" => Array::open(store.clone(), "a")?.attributes().map(drop),
                _ => Group::open_consolidated(store.clone(), "")
                    .and_then(|g| g.open_array("a"))
                    .map(drop),
            }
        };
        // Every truncation: not JSON, or JSON of the wrong shape.
        for len in 0..good.len() {
            if let Err(e) = probe(good[..len].to_vec()) {
                assert!(is_metadata_error(&e), "{name} cut at {len}: {e:?}");
            }
        }
        // Random byte damage: whatever still parses is fine, the rest is a metadata error.
        for _ in 0..300 {
            let mut bad = good.clone();
            for _ in 0..=rng.below(3) {
                let i = rng.below(bad.len() as u64) as usize;
                bad[i] = rng.next_u64() as u8;
            }
            if let Err(e) = probe(bad) {
                assert!(is_metadata_error(&e), "{name} damaged: {e:?}");
            }
        }
        // Not UTF-8, empty, deeply nested (serde_json's recursion limit, not a stack overflow),
        // a huge number.
        for bad in [
            vec![0xff, 0xfe, 0x00, 0x7b],
            vec![],
            "[".repeat(100_000).into_bytes(),
            format!("{{\"zarr_format\": 2, \"shape\": [1{}]}}", "0".repeat(5000)).into_bytes(),
        ] {
            let e = probe(bad).unwrap_err();
            assert!(is_metadata_error(&e), "{name}: {e:?}");
        }
        store.set(&key(name), Bytes::from(good)).unwrap();
    }
}

#[test]
fn wrong_types_in_zarray_name_the_field() {
    let store = mem();
    let base = zarray(json!({"id": "zstd", "level": 1}));
    let cases: Vec<(&str, Value, &str)> = vec![
        ("zarr_format", json!("2"), "zarr_format"),
        ("zarr_format", json!(3), "zarr_format"),
        ("shape", json!("64"), "shape"),
        ("shape", json!([-1]), "shape"),
        ("shape", json!([1.5]), "shape"),
        ("shape", json!([18446744073709551616u128 as f64]), "shape"),
        ("shape", json!(vec![1; 65]), "shape"),
        ("chunks", json!([0]), "chunks"),
        ("chunks", json!([32, 1]), "chunks"),
        ("chunks", json!(null), "chunks"),
        ("chunks", json!([1u64 << 40]), "chunks"),
        ("dtype", json!(8), "dtype"),
        ("dtype", json!("<f9"), "dtype"),
        ("dtype", json!("|S99999999999999999999"), "dtype"),
        ("dtype", json!([["a", "<i4"], ["a", "<i4"]]), "dtype"),
        ("dtype", json!([]), "dtype"),
        ("fill_value", json!({"x": 1}), "fill_value"),
        ("fill_value", json!("NaN!"), "fill_value"),
        ("order", json!("X"), "order"),
        ("order", json!(0), "order"),
        ("dimension_separator", json!("-"), "dimension_separator"),
        ("compressor", json!("zstd"), "compressor"),
        ("compressor", json!({"level": 1}), "compressor"),
        ("filters", json!({"id": "delta"}), "filters"),
        ("filters", json!([1]), "filters"),
    ];
    for (field, value, named) in cases {
        let mut doc = base.clone();
        doc[field] = value.clone();
        store
            .set(&key("a/.zarray"), Bytes::from(doc.to_string()))
            .unwrap();
        match Array::open(store.clone(), "a") {
            Err(ArrayError::Metadata { field: f, message }) => {
                assert_eq!(f, named, "{field} = {value}: {message}")
            }
            other => panic!("{field} = {value}: {other:?}"),
        }
    }
    // Codec configs that are well-formed JSON but unusable.
    for compressor in [
        json!({"id": "nope"}),
        json!({"id": "zstd", "level": "high"}),
        json!({"id": "blosc", "cname": "snappy"}),
        json!({"id": "blosc", "shuffle": 9}),
        json!({"id": "lzma", "format": 7}),
    ] {
        store
            .set(
                &key("a/.zarray"),
                Bytes::from(zarray(compressor.clone()).to_string()),
            )
            .unwrap();
        assert!(
            matches!(
                Array::open(store.clone(), "a"),
                Err(ArrayError::CodecConfig(_))
            ),
            "{compressor}"
        );
    }
    // `.zattrs` and `.zgroup` of the wrong type.
    for (name, doc) in [
        ("a/.zattrs", "[1, 2]"),
        ("a/.zattrs", "\"x\""),
        (".zgroup", "{\"zarr_format\": 3}"),
        (".zgroup", "[]"),
    ] {
        store
            .set(
                &key("a/.zarray"),
                Bytes::from(zarray(Value::Null).to_string()),
            )
            .unwrap();
        store.set(&key(name), Bytes::from(doc)).unwrap();
        let e = if name == ".zgroup" {
            Group::open(store.clone(), "").map(drop).unwrap_err()
        } else {
            Array::open(store.clone(), "a")
                .unwrap()
                .attributes()
                .unwrap_err()
        };
        assert!(matches!(e, ArrayError::Metadata { .. }), "{name}: {e:?}");
        store.erase(&key(name)).unwrap();
    }
}

/// The compressors of the chunk tests.
pub fn compressors() -> Vec<Value> {
    vec![
        Value::Null,
        json!({"id": "zlib", "level": 1}),
        json!({"id": "gzip", "level": 1}),
        json!({"id": "zstd", "level": 1}),
        json!({"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0}),
        json!({"id": "blosc", "cname": "zstd", "clevel": 3, "shuffle": 2, "blocksize": 0}),
        json!({"id": "lz4", "acceleration": 1}),
        json!({"id": "bz2", "level": 1}),
        json!({"id": "lzma", "preset": 1}),
    ]
}

/// Reads chunk `0` of `arr` after storing `bytes` there: the data (when it decodes) or the error, which
/// must be a chunk error naming the key.
fn read_with_chunk(store: &Arc<dyn Store>, arr: &Array, bytes: &[u8]) -> Option<Vec<f64>> {
    let k = arr.chunk_key(&[0]).unwrap();
    store.set(&k, Bytes::from(bytes.to_vec())).unwrap();
    match arr.read::<f64>("0:32") {
        Ok(v) => Some(v.into_raw_vec_and_offset().0),
        Err(ArrayError::Codec { key, .. } | ArrayError::ChunkSize { key, .. }) => {
            assert_eq!(key, k.as_str());
            None
        }
        Err(e) => panic!("{}: unexpected error kind {e:?}", arr.metadata().to_json()),
    }
}

#[test]
fn truncated_garbage_and_oversized_chunks_are_chunk_errors_for_every_compressor() {
    let mut rng = Rng::from_env("truncated_garbage_and_oversized_chunks_are_chunk_errors");
    let store = mem();
    let data: Vec<f64> = (0..64).map(|i| (i as f64 * 0.37).sin()).collect();
    for (n, compressor) in compressors().into_iter().enumerate() {
        let path = format!("c{n}");
        let arr = ArrayBuilder::new(vec![64], vec![32], DataType::parse_typestr("<f8").unwrap())
            .compressor(Some(compressor.clone()).filter(|c| !c.is_null()))
            .create(store.clone(), &path)
            .unwrap();
        arr.write((), &ndarray::Array1::from(data.clone())).unwrap();
        let k = arr.chunk_key(&[0]).unwrap();
        let good = store.get(&k).unwrap().unwrap().to_vec();
        let original = data[..32].to_vec();
        let what = compressor.to_string();
        // Truncated anywhere: an error, or (for a codec that ignores a damaged tail) the original.
        for len in 0..good.len() {
            if let Some(v) = read_with_chunk(&store, &arr, &good[..len]) {
                assert_eq!(v, original, "{what} cut at {len} read as other data");
            }
        }
        // Oversized: junk after the stream, or a raw chunk too long.
        let mut long = good.clone();
        long.extend((0..1000).map(|_| rng.next_u64() as u8));
        if let Some(v) = read_with_chunk(&store, &arr, &long) {
            assert_eq!(v, original, "{what} with trailing junk read as other data");
        }
        // Garbage of many lengths, and damaged bytes: no panic, any error a chunk error.
        for len in [1, 2, 3, 4, 8, 15, 16, 17, 31, 255, 256, 257, 4096, 100_000] {
            let garbage: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
            read_with_chunk(&store, &arr, &garbage);
        }
        for _ in 0..200 {
            let mut bad = good.clone();
            let i = rng.below(bad.len() as u64) as usize;
            bad[i] ^= 1 << rng.below(8);
            read_with_chunk(&store, &arr, &bad);
        }
        // A chunk from an array of another shape.
        let other = CodecChain::from_json(Some(&compressor).filter(|c| !c.is_null()), None)
            .unwrap()
            .encode(&[7u8; 8 * 48], 8)
            .unwrap();
        assert_eq!(read_with_chunk(&store, &arr, &other), None, "{what}");
    }
}

/// A zstd frame of 8192 RLE blocks of 128 KiB: 32 KiB that inflate to 1 GiB, with no content size
/// in the header.
pub fn zstd_rle_bomb() -> Vec<u8> {
    let mut f = vec![0x28, 0xB5, 0x2F, 0xFD, 0x00, 7 << 3];
    let blocks = 8192u32;
    for b in 0..blocks {
        let last = u32::from(b + 1 == blocks);
        let header = ((128 * 1024) << 3) | (1 << 1) | last;
        f.extend_from_slice(&header.to_le_bytes()[..3]);
        f.push(0);
    }
    f
}

/// A zstd frame whose header claims 2^60 bytes of content.
pub fn zstd_huge_content_size() -> Vec<u8> {
    let mut f = vec![0x28, 0xB5, 0x2F, 0xFD, 0xE0];
    f.extend_from_slice(&(1u64 << 60).to_le_bytes());
    f.extend_from_slice(&(((16u32) << 3) | (1 << 1) | 1).to_le_bytes()[..3]);
    f.push(0);
    f
}

/// A blosc header (16 bytes) with the given sizes, followed by `payload` bytes of zeros.
pub fn blosc_header(
    flags: u8,
    typesize: u8,
    nbytes: u32,
    blocksize: u32,
    cbytes: u32,
    payload: usize,
) -> Vec<u8> {
    let mut h = vec![2, 1, flags, typesize];
    h.extend_from_slice(&nbytes.to_le_bytes());
    h.extend_from_slice(&blocksize.to_le_bytes());
    h.extend_from_slice(&cbytes.to_le_bytes());
    h.resize(16 + payload, 0);
    h
}

/// The hostile chunks of the memory-bounded tests: (name, compressor, chunk bytes). Each belongs in
/// an array of `<u8` with 512-element (4 KiB) chunks.
pub fn hostile_chunks() -> Vec<(String, Value, Vec<u8>)> {
    let mut cases = Vec::new();
    let zeros = vec![0u8; 32 << 20];
    for compressor in [
        json!({"id": "zlib", "level": 1}),
        json!({"id": "gzip", "level": 1}),
        json!({"id": "zstd", "level": 1}),
        json!({"id": "lz4", "acceleration": 1}),
        json!({"id": "bz2", "level": 1}),
        json!({"id": "lzma", "preset": 0}),
        json!({"id": "blosc", "cname": "lz4", "clevel": 9, "shuffle": 0, "blocksize": 0}),
    ] {
        // 32 MiB of zeros where 4 KiB are expected.
        let bomb = CodecChain::from_json(Some(&compressor), None)
            .unwrap()
            .encode(&zeros, 8)
            .unwrap();
        cases.push((
            format!("{}-32MiB", compressor["id"].as_str().unwrap()),
            compressor,
            bomb,
        ));
    }
    let zstd = json!({"id": "zstd", "level": 1});
    cases.push(("zstd-rle-1GiB".into(), zstd.clone(), zstd_rle_bomb()));
    cases.push((
        "zstd-content-size-2^60".into(),
        zstd,
        zstd_huge_content_size(),
    ));
    let blosc = json!({"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0});
    let len = |p: usize| (16 + p) as u32;
    for (name, header) in [
        (
            "blosc-nbytes-2GiB",
            blosc_header(1, 8, 0x7FFF_FFF0, 1 << 16, len(64), 64),
        ),
        (
            "blosc-nbytes-4GiB",
            blosc_header(1, 8, u32::MAX, u32::MAX, len(64), 64),
        ),
        (
            "blosc-memcpy-2GiB",
            blosc_header(2, 8, 0x7FFF_FFF0, 1 << 16, len(64), 64),
        ),
        (
            "blosc-blocksize-2GiB",
            blosc_header(1, 8, 4096, 0x7FFF_FFF0, len(64), 64),
        ),
        (
            "blosc-blocksize-0",
            blosc_header(1, 8, 4096, 0, len(64), 64),
        ),
        (
            "blosc-cbytes-beyond",
            blosc_header(1, 8, 4096, 4096, u32::MAX, 64),
        ),
        ("blosc-cbytes-short", blosc_header(1, 8, 4096, 4096, 8, 64)),
        (
            "blosc-typesize-0",
            blosc_header(1, 0, 4096, 4096, len(64), 64),
        ),
        ("blosc-offsets-beyond", {
            let mut h = blosc_header(1, 8, 4096, 1024, len(64), 64);
            h[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
            h
        }),
    ] {
        cases.push((name.into(), blosc.clone(), header));
    }
    // The numcodecs lz4 framing: a little-endian u32 decoded size, then the block.
    let mut lz4 = (u32::MAX).to_le_bytes().to_vec();
    lz4.extend_from_slice(&[0xF0; 64]);
    cases.push((
        "lz4-size-4GiB".into(),
        json!({"id": "lz4", "acceleration": 1}),
        lz4,
    ));
    cases
}

/// Peak resident memory of this process in KiB (Linux `VmHWM`).
pub fn vm_hwm_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status")
}

/// Caps this process's address space, so a runaway allocation fails instead of eating the machine.
pub fn limit_address_space(bytes: u64) {
    let limit = libc::rlimit {
        rlim_cur: bytes,
        rlim_max: bytes,
    };
    // SAFETY: setrlimit reads the struct we pass and changes only this process's limit.
    let rc = unsafe { libc::setrlimit(libc::RLIMIT_AS, &limit) };
    assert_eq!(rc, 0, "setrlimit");
}

const DIR: &str = "TESSERA_RELIABILITY_DIR";

/// Child role: under a 2 GiB address-space limit, reads every array listed in `DIR/cases.txt`;
/// each must fail with a chunk error within two seconds. Prints `case NAME MS` per case and
/// `vmhwm KIB` at the end.
pub fn read_bad_chunk() {
    limit_address_space(2 << 30);
    let dir = PathBuf::from(arg(DIR));
    let store: Arc<dyn Store> = Arc::new(FilesystemStore::open(&dir).unwrap());
    let cases = std::fs::read_to_string(dir.join("cases.txt")).unwrap();
    for name in cases.lines() {
        let started = Instant::now();
        let arr = Array::open(store.clone(), name).unwrap();
        match arr.read_raw(()) {
            Err(ArrayError::Codec { .. } | ArrayError::ChunkSize { .. }) => {}
            other => panic!("{name}: {:?}", other.map(|r| r.bytes.len())),
        }
        let ms = started.elapsed().as_millis();
        assert!(ms < 2000, "{name}: {ms} ms");
        println!("case {name} {ms}");
    }
    println!("vmhwm {}", vm_hwm_kib());
}

/// Writes each hostile chunk as chunk 0 of its own `<u8` array (4 KiB chunks) under `dir`; returns
/// the array names.
pub fn hostile_store(dir: &Path) -> Vec<String> {
    let store: Arc<dyn Store> = Arc::new(FilesystemStore::open(dir).unwrap());
    let mut names = Vec::new();
    for (name, compressor, chunk) in hostile_chunks() {
        let arr = ArrayBuilder::new(
            vec![1024],
            vec![512],
            DataType::parse_typestr("<u8").unwrap(),
        )
        .compressor(Some(compressor))
        .create(store.clone(), &name)
        .unwrap();
        store
            .set(&arr.chunk_key(&[0]).unwrap(), Bytes::from(chunk))
            .unwrap();
        names.push(name);
    }
    std::fs::write(dir.join("cases.txt"), names.join("\n")).unwrap();
    names
}

#[test]
fn decompression_bombs_and_lying_headers_stay_within_memory_and_time() {
    if is_child() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let names = hostile_store(dir.path());
    let mut cmd = child("read-bad-chunk");
    cmd.env(DIR, dir.path());
    let lines = Running::start(cmd, "bomb reader").finish();
    let cases = lines.iter().filter(|l| l.starts_with("case ")).count();
    assert_eq!(cases, names.len(), "{lines:?}");
    let hwm: u64 = lines
        .iter()
        .find_map(|l| l.strip_prefix("vmhwm "))
        .unwrap()
        .parse()
        .unwrap();
    // The test binary alone takes some tens of MiB; a bomb inflating even once would add 32 MiB to
    // 4 GiB.
    assert!(
        hwm < 96 * 1024,
        "peak RSS {hwm} KiB reading {} bombs",
        names.len()
    );
    println!(
        "{} hostile chunks refused; child peak RSS {hwm} KiB",
        names.len()
    );
}

/// Every file under `dir` (not following symlinks) with its content, or the link's target.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_symlink() {
                let target = std::fs::read_link(&path).unwrap();
                out.insert(path, target.to_string_lossy().as_bytes().to_vec());
            } else if meta.is_dir() {
                out.insert(path.clone(), b"<dir>".to_vec());
                stack.push(path);
            } else {
                out.insert(path.clone(), std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

/// A store whose contents lead outside its root through symlinks, beside an `outside` directory
/// holding a valid array, a secret file and a directory. Returns (store root, outside).
pub fn symlinked_store(base: &Path) -> (PathBuf, PathBuf) {
    let outside = base.join("outside");
    let root = base.join("store");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::create_dir_all(&root).unwrap();
    let outside_store: Arc<dyn Store> = Arc::new(FilesystemStore::open(&outside).unwrap());
    let arr = ArrayBuilder::new(vec![8], vec![4], DataType::parse_typestr("<i4").unwrap())
        .create(outside_store, "arr")
        .unwrap();
    arr.write((), &ndarray::Array1::from_elem(8, 7i32)).unwrap();
    std::fs::write(outside.join("secret"), b"not yours").unwrap();
    std::fs::create_dir(outside.join("empty")).unwrap();

    let store: Arc<dyn Store> = Arc::new(FilesystemStore::open(&root).unwrap());
    Group::create(store.clone(), "").unwrap();
    // A whole array directory that is a link to outside.
    symlink(outside.join("arr"), root.join("linked_dir")).unwrap();
    // An array whose .zarray is a link to outside.
    std::fs::create_dir(root.join("linked_meta")).unwrap();
    symlink(
        outside.join("arr/.zarray"),
        root.join("linked_meta/.zarray"),
    )
    .unwrap();
    // An array whose chunk is a link to a file outside.
    let local = ArrayBuilder::new(vec![8], vec![4], DataType::parse_typestr("<i4").unwrap())
        .create(store.clone(), "linked_chunk")
        .unwrap();
    local
        .write((), &ndarray::Array1::from_elem(8, 1i32))
        .unwrap();
    std::fs::remove_file(root.join("linked_chunk/0")).unwrap();
    symlink(outside.join("secret"), root.join("linked_chunk/0")).unwrap();
    // A group directory that is a link to an empty directory outside.
    symlink(outside.join("empty"), root.join("linked_group")).unwrap();
    // A link to itself, and one to nowhere.
    symlink(root.join("loop"), root.join("loop")).unwrap();
    symlink(base.join("nowhere"), root.join("dangling")).unwrap();
    (root, outside)
}

fn is_outside_refusal(e: &ArrayError) -> bool {
    matches!(e, ArrayError::Store(s) if s.kind() == StoreErrorKind::PermissionDenied)
}

#[test]
fn symlinks_leading_out_of_the_root_are_refused_and_nothing_outside_changes() {
    let base = tempfile::tempdir().unwrap();
    let (root, outside) = symlinked_store(base.path());
    let before = snapshot(&outside);
    let store: Arc<dyn Store> = Arc::new(FilesystemStore::open(&root).unwrap());

    for path in ["linked_dir", "linked_meta"] {
        let e = Array::open(store.clone(), path).unwrap_err();
        assert!(is_outside_refusal(&e), "{path}: {e:?}");
    }
    let arr = Array::open(store.clone(), "linked_chunk").unwrap();
    let e = arr.read::<i32>(()).unwrap_err();
    assert!(is_outside_refusal(&e), "{e:?}");
    // Writing through the link (whole chunk and read-modify-write) is refused too.
    for sel in ["0:4", "1:2"] {
        let n = if sel == "0:4" { 4 } else { 1 };
        let e = arr
            .write(sel, &ndarray::Array1::from_elem(n, 9i32))
            .unwrap_err();
        assert!(is_outside_refusal(&e), "{sel}: {e:?}");
    }
    // Creating below a linked directory would write outside.
    for path in ["linked_group/new", "linked_dir/new"] {
        let e = ArrayBuilder::new(vec![4], vec![4], DataType::parse_typestr("<i4").unwrap())
            .create(store.clone(), path)
            .unwrap_err();
        assert!(is_outside_refusal(&e), "{path}: {e:?}");
    }
    let e = Group::create(store.clone(), "linked_group/g").unwrap_err();
    assert!(is_outside_refusal(&e), "{e:?}");
    // A link loop is an error, a dangling link is nothing stored.
    assert!(matches!(
        Array::open(store.clone(), "loop"),
        Err(ArrayError::Store(_) | ArrayError::NotFound { .. })
    ));
    assert!(matches!(
        Array::open(store.clone(), "dangling"),
        Err(ArrayError::NotFound { .. })
    ));
    // Walking and consolidating the hierarchy skip what leads outside.
    let root_group = Group::open(store.clone(), "").unwrap();
    let nodes: Vec<String> = root_group
        .walk()
        .unwrap()
        .into_iter()
        .map(|(p, _)| p.as_str().to_string())
        .collect();
    assert_eq!(nodes, vec!["linked_chunk".to_string()]);
    root_group.consolidate().unwrap();
    let consolidated = store.get(&key(".zmetadata")).unwrap().unwrap();
    assert!(
        !String::from_utf8_lossy(&consolidated).contains("linked_dir"),
        "consolidated metadata took a document from outside"
    );
    assert_eq!(
        snapshot(&outside),
        before,
        "something outside the store changed"
    );
}

#[test]
fn dot_dot_in_paths_and_consolidated_keys_is_refused() {
    let store = mem();
    let root = Group::create(store.clone(), "").unwrap();
    ArrayBuilder::new(vec![4], vec![4], DataType::parse_typestr("<i4").unwrap())
        .create(store.clone(), "g/a")
        .unwrap();
    for path in [
        "..",
        "../x",
        "g/../../x",
        "g/..",
        "./g",
        "g/./a",
        "g//a/..",
        "g\\..\\x",
        "g/\0",
    ] {
        for e in [
            Array::open(store.clone(), path).map(drop).unwrap_err(),
            Group::open(store.clone(), path).map(drop).unwrap_err(),
            ArrayBuilder::new(vec![4], vec![4], DataType::parse_typestr("<i4").unwrap())
                .create(store.clone(), path)
                .map(drop)
                .unwrap_err(),
            root.open_array(path).map(drop).unwrap_err(),
            Group::create(store.clone(), path).map(drop).unwrap_err(),
        ] {
            assert!(
                matches!(e, ArrayError::InvalidPath { .. }),
                "{path:?}: {e:?}"
            );
        }
    }
    let zarray = zarray(Value::Null);
    for bad_key in [
        "../evil/.zarray",
        "g/../../evil/.zarray",
        "g/../.zarray",
        "./.zarray",
        "g/./a/.zarray",
        "g//a/.zarray",
        "/abs/.zarray",
        "g\\..\\x/.zarray",
        "g/\u{0}/.zarray",
        "",
    ] {
        let doc = json!({
            "zarr_consolidated_format": 1,
            "metadata": {".zgroup": {"zarr_format": 2}, "g/.zgroup": {"zarr_format": 2}, bad_key: zarray.clone()}
        });
        store
            .set(&key(".zmetadata"), Bytes::from(doc.to_string()))
            .unwrap();
        match Group::open_consolidated(store.clone(), "") {
            Err(ArrayError::Metadata { field, .. }) => {
                assert_eq!(field, ".zmetadata", "{bad_key:?}")
            }
            other => panic!("{bad_key:?}: {:?}", other.map(|g| g.walk())),
        }
    }
    // Well-formed `.zmetadata` of the wrong shape.
    for doc in [
        json!([]),
        json!({"metadata": []}),
        json!({"metadata": {".zgroup": 1}, "zarr_consolidated_format": 1}),
        json!({"metadata": {}, "zarr_consolidated_format": 1}),
        json!({"metadata": {".zgroup": {"zarr_format": 2}}, "zarr_consolidated_format": 2}),
        json!({"metadata": {".zgroup": {"zarr_format": 2}, "a/.zarray": {"zarr_format": 2}}, "zarr_consolidated_format": 1}),
    ] {
        store
            .set(&key(".zmetadata"), Bytes::from(doc.to_string()))
            .unwrap();
        let result = Group::open_consolidated(store.clone(), "").and_then(|g| {
            g.walk()?;
            g.open_array("a").map(drop)
        });
        let e = result.unwrap_err();
        assert!(is_metadata_error(&e), "{doc}: {e:?}");
    }
}

#[test]
fn huge_shapes_are_bounded_in_memory_and_time() {
    let started = Instant::now();
    let store = mem();
    let u1 = DataType::parse_typestr("|u1").unwrap();
    // 2^62 elements in 1000-element chunks: about 4.6e15 chunks, none stored.
    ArrayBuilder::new(vec![1 << 62], vec![1000], u1.clone())
        .compressor(Some(json!({"id": "zstd", "level": 1})))
        .fill_value(json!(3))
        .create(store.clone(), "huge")
        .unwrap();
    let arr = Array::open(store.clone(), "huge").unwrap();
    assert_eq!(arr.read::<u8>("0:10").unwrap().len(), 10);
    arr.write("-5:", &ndarray::Array1::from_elem(5, 9u8))
        .unwrap();
    assert_eq!(
        arr.read::<u8>("-7:").unwrap().into_raw_vec_and_offset().0,
        vec![3, 3, 9, 9, 9, 9, 9]
    );
    assert_eq!(arr.stored_chunks().unwrap().0, 1);
    let e = arr.read_raw(()).unwrap_err();
    assert!(matches!(e, ArrayError::TooLarge(_)), "{e:?}");
    let e = arr.read_raw("::1000000").unwrap_err();
    assert!(matches!(e, ArrayError::TooLarge(_)), "{e:?}");
    assert_eq!(arr.read::<u8>("::1152921504606846976").unwrap().len(), 4);
    // 2^120 elements across three axes (more than a u64 counts), one-element chunks.
    let wide = ArrayBuilder::new(vec![1 << 40; 3], vec![1; 3], u1.clone())
        .create(store.clone(), "wide")
        .unwrap();
    for sel in ["", ":, 0, 0", "0, :, :", ":2, :2, :2:0"] {
        match wide.read_raw(sel) {
            Err(ArrayError::TooLarge(_) | ArrayError::Selection(_)) => {}
            other => panic!("{sel:?}: {:?}", other.map(|r| r.shape)),
        }
    }
    wide.write("-1:, -1:, -1:", &ndarray::Array3::from_elem((1, 1, 1), 1u8))
        .unwrap();
    assert_eq!(wide.read::<u8>("-2:, -1, -1").unwrap().len(), 2);
    assert_eq!(wide.stored_chunks().unwrap().0, 1);
    // The largest shape a .zarray can state, and resizing to it.
    let mut max = ArrayBuilder::new(vec![u64::MAX], vec![1 << 20], u1.clone())
        .create(store.clone(), "max")
        .unwrap();
    assert_eq!(max.read::<u8>("-3:").unwrap().len(), 3);
    max.write("-2:", &ndarray::Array1::from_elem(2, 5u8))
        .unwrap();
    assert_eq!(
        max.read::<u8>("-3:").unwrap().into_raw_vec_and_offset().0,
        vec![0, 5, 5]
    );
    // Shrinking inside the last chunk of a 2^64 - 1 axis clears the cut part.
    max.resize(&[u64::MAX - 1]).unwrap();
    max.resize(&[u64::MAX]).unwrap();
    assert_eq!(
        max.read::<u8>("-3:").unwrap().into_raw_vec_and_offset().0,
        vec![0, 5, 0]
    );
    max.resize(&[u64::MAX / 2]).unwrap();
    assert!(matches!(max.read_raw(()), Err(ArrayError::TooLarge(_))));
    // Iterating blocks over a huge grid is lazy; a grid of more than 2^64 blocks is refused.
    let huge = Array::open(store.clone(), "huge").unwrap();
    assert_eq!(huge.blocks::<u8>(None).unwrap().take(3).count(), 3);
    assert!(matches!(
        wide.blocks::<u8>(None).map(|_| ()),
        Err(ArrayError::TooLarge(_))
    ));
    let mut huge = huge;
    huge.resize(&[10]).unwrap();
    assert_eq!(
        huge.stored_chunks().unwrap().0,
        0,
        "the far chunk is dropped"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

//! Array behaviour a user would notice: values, shapes, what is stored, which error comes back.

use std::sync::Arc;

use ndarray::{Array1, Array2, ArrayD, IxDyn, s};
use serde_json::json;
use tessera_array::{
    Array, ArrayBuilder, ArrayError, DataType, Group, NodeKind, Order, Separator, open_node,
};
use tessera_store::{Bytes, FilesystemStore, MemoryStore, Store, StoreKey, StorePrefix};

fn mem() -> Arc<dyn Store> {
    Arc::new(MemoryStore::new())
}

fn dt(s: &str) -> DataType {
    DataType::parse_typestr(s).unwrap()
}

fn stored_keys(store: &Arc<dyn Store>, prefix: &str) -> Vec<String> {
    store
        .list_prefix(&StorePrefix::new(prefix).unwrap())
        .unwrap()
        .into_iter()
        .map(|k| k.as_str().to_string())
        .filter(|k| !k.rsplit('/').next().unwrap().starts_with(".z"))
        .collect()
}

#[test]
fn missing_chunks_read_as_fill_and_empty_chunks_are_not_stored() {
    let store = mem();
    let arr = ArrayBuilder::new(vec![10, 10], vec![5, 5], dt("<i4"))
        .fill_value(json!(-1))
        .create(store.clone(), "a")
        .unwrap();
    assert!(arr.read::<i32>(()).unwrap().iter().all(|&v| v == -1));
    arr.write(s![0..5, 5..10], &Array2::from_elem((5, 5), 3))
        .unwrap();
    assert_eq!(stored_keys(&store, "a/"), vec!["a/0.1"]);
    // Writing the fill value over a whole chunk removes it.
    arr.write(s![0..5, 5..10], &Array2::from_elem((5, 5), -1))
        .unwrap();
    assert!(stored_keys(&store, "a/").is_empty());
    let mut keep = arr.clone();
    keep.set_write_empty_chunks(true);
    keep.write(s![0..5, 0..5], &Array2::from_elem((5, 5), -1))
        .unwrap();
    assert_eq!(stored_keys(&store, "a/"), vec!["a/0.0"]);
}

#[test]
fn f_order_nested_keys_and_edge_chunks_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(FilesystemStore::open(dir.path()).unwrap());
    let data = ArrayD::from_shape_fn(IxDyn(&[7, 6, 5]), |i| {
        (i[0] * 100 + i[1] * 10 + i[2]) as f32
    });
    let arr = ArrayBuilder::new(vec![7, 6, 5], vec![3, 4, 2], dt(">f4"))
        .order(Order::F)
        .separator(Separator::Slash)
        .compressor(Some(json!({"id": "zstd", "level": 1})))
        .create(store.clone(), "g/f")
        .unwrap();
    arr.write((), &data).unwrap();
    assert!(
        dir.path().join("g/f/2/1/2").is_file(),
        "nested chunk keys on disk"
    );
    let back = Array::open(store, "g/f").unwrap();
    assert_eq!(back.read::<f32>(()).unwrap(), data);
    assert_eq!(
        back.read::<f32>("1:7:2, -1, ::2").unwrap(),
        data.slice(s![1..7;2, -1, ..;2]).into_dyn()
    );
}

/// pcodec stores the element type: the write path hands the codecs the array's dtype and the
/// chunk's shape. A misspelled codec field is refused before anything is written.
#[test]
fn pcodec_arrays_round_trip_and_unknown_codec_fields_are_refused() {
    let store = mem();
    let data = ArrayD::from_shape_fn(IxDyn(&[9, 7]), |i| (i[0] * 1000 + i[1] * 3) as i64);
    let arr = ArrayBuilder::new(vec![9, 7], vec![4, 4], dt("<i8"))
        .compressor(Some(json!({"id": "pcodec", "level": 8})))
        .create(store.clone(), "p")
        .unwrap();
    arr.write((), &data).unwrap();
    assert_eq!(
        Array::open(store.clone(), "p")
            .unwrap()
            .read::<i64>(())
            .unwrap(),
        data
    );

    let err = ArrayBuilder::new(vec![4], vec![2], dt("<f4"))
        .compressor(Some(json!({"id": "zstd", "lvl": 3})))
        .create(store.clone(), "z")
        .unwrap_err();
    assert!(err.to_string().contains("\"lvl\""), "{err}");
    assert!(stored_keys(&store, "z").is_empty(), "nothing written");
}

#[test]
fn zero_d_and_zero_length_arrays() {
    let store = mem();
    let scalar = ArrayBuilder::new(vec![], vec![], dt("<f8"))
        .fill_value(json!(2.5))
        .create(store.clone(), "s")
        .unwrap();
    assert_eq!(
        scalar.read::<f64>(()).unwrap().into_raw_vec_and_offset().0,
        vec![2.5]
    );
    scalar.write((), &ndarray::arr0(7.0)).unwrap();
    assert_eq!(stored_keys(&store, "s/"), vec!["s/0"]);
    assert_eq!(scalar.read::<f64>(()).unwrap()[IxDyn(&[])], 7.0);

    let empty = ArrayBuilder::new(vec![0, 4], vec![2, 2], dt("<u2"))
        .create(store.clone(), "e")
        .unwrap();
    assert_eq!(empty.read::<u16>(()).unwrap().shape(), &[0, 4]);
    empty
        .write((), &ArrayD::<u16>::zeros(IxDyn(&[0, 4])))
        .unwrap();
}

#[test]
fn resize_drops_chunks_and_clears_cut_parts() {
    let store = mem();
    let mut arr = ArrayBuilder::new(vec![10], vec![4], dt("<i2"))
        .fill_value(json!(0))
        .create(store.clone(), "r")
        .unwrap();
    arr.write((), &Array1::from_iter(1..=10i16)).unwrap();
    arr.resize(&[6]).unwrap();
    assert_eq!(stored_keys(&store, "r/"), vec!["r/0", "r/1"]);
    arr.resize(&[12]).unwrap();
    let v = arr.read::<i16>(()).unwrap().into_raw_vec_and_offset().0;
    assert_eq!(v, vec![1, 2, 3, 4, 5, 6, 0, 0, 0, 0, 0, 0]);
    // The new shape is on disk.
    assert_eq!(Array::open(store.clone(), "r").unwrap().shape(), &[12]);
    assert!(matches!(
        arr.resize(&[3, 3]),
        Err(ArrayError::ShapeMismatch { .. })
    ));
}

#[test]
fn append_grows_along_any_axis() {
    let store = mem();
    let mut arr = ArrayBuilder::new(vec![2, 3], vec![2, 2], dt("<u8"))
        .create(store, "ap")
        .unwrap();
    arr.write((), &Array2::from_elem((2, 3), 1u64)).unwrap();
    arr.append(&Array2::from_elem((1, 3), 2u64), 0).unwrap();
    arr.append(&Array2::from_elem((3, 2), 3u64), 1).unwrap();
    assert_eq!(arr.shape(), &[3, 5]);
    let v = arr
        .read::<u64>(())
        .unwrap()
        .into_dimensionality::<ndarray::Ix2>()
        .unwrap();
    assert_eq!(v.row(2).to_vec(), vec![2, 2, 2, 3, 3]);
    assert_eq!(v.column(4).to_vec(), vec![3, 3, 3]);
    assert!(matches!(
        arr.append(&Array2::from_elem((1, 4), 0u64), 0),
        Err(ArrayError::ShapeMismatch { .. })
    ));
}

#[test]
fn threads_writing_overlapping_partial_chunks_lose_nothing() {
    let store = mem();
    let arr = ArrayBuilder::new(vec![64, 64], vec![16, 16], dt("<u4"))
        .compressor(Some(json!({"id": "zlib", "level": 1})))
        .fill_value(json!(0))
        .create(store, "t")
        .unwrap();
    // Eight threads each write every 8th column: every chunk is written partially by all of them.
    std::thread::scope(|scope| {
        for t in 0..8u32 {
            let arr = arr.clone();
            scope.spawn(move || {
                for _round in 0..4 {
                    let col = Array2::from_elem((64, 1), t + 1);
                    for c in (t as usize..64).step_by(8) {
                        arr.write(s![.., c..c + 1], &col).unwrap();
                    }
                }
            });
        }
    });
    let v = arr
        .read::<u32>(())
        .unwrap()
        .into_dimensionality::<ndarray::Ix2>()
        .unwrap();
    for ((_, c), &x) in v.indexed_iter() {
        assert_eq!(x, (c % 8) as u32 + 1, "column {c}");
    }
}

/// A partial write of a shard decodes and encodes its inner chunks under the chunk's lock. Were that
/// work parallel, a pool thread waiting for it could steal another write of the same shard and block
/// on the lock it holds itself: threads writing the same shards of a sharded array hung. Each write
/// here spans two shards, so rayon's pool runs the two halves.
#[test]
fn threads_writing_the_same_shards_never_deadlock() {
    let arr = ArrayBuilder::new(vec![64, 64], vec![4, 4], dt("<u4"))
        .zarr_format(3)
        .shards(vec![32, 64])
        .create(mem(), "t")
        .unwrap();
    let (done, finished) = std::sync::mpsc::channel();
    let writers = arr.clone();
    std::thread::spawn(move || {
        std::thread::scope(|scope| {
            for t in 0..4u32 {
                let arr = writers.clone();
                scope.spawn(move || {
                    for round in 0..25u32 {
                        // Column `t`'s rows 16..48: half in each of the two shards.
                        let col = Array2::from_elem((32, 1), t * 100 + round);
                        let c = t as usize;
                        arr.write(s![16..48, c..c + 1], &col).unwrap();
                    }
                });
            }
        });
        done.send(()).unwrap();
    });
    finished
        .recv_timeout(std::time::Duration::from_secs(120))
        .expect("the writers finished within two minutes (no deadlock)");
    let v = arr.read::<u32>(s![16..48, 0..4]).unwrap();
    for ((_, c), &x) in v.indexed_iter().map(|(i, x)| ((i[0], i[1]), x)) {
        assert_eq!(x, c as u32 * 100 + 24, "column {c}");
    }
}

#[test]
fn typed_access_refuses_other_types() {
    let store = mem();
    let arr = ArrayBuilder::new(vec![4], vec![4], dt("<M8[s]"))
        .create(store, "d")
        .unwrap();
    let err = arr.read::<i64>(()).unwrap_err();
    assert!(matches!(err, ArrayError::DataTypeMismatch { .. }), "{err}");
    assert!(err.to_string().contains("<M8[s]") && err.to_string().contains("int64"));
    arr.write((), &Array1::from_elem(4, tessera_array::DateTime64(5)))
        .unwrap();
    assert_eq!(
        arr.read::<tessera_array::DateTime64>("2").unwrap()[IxDyn(&[])].0,
        5
    );
    let raw = arr.read_raw(()).unwrap();
    assert_eq!(raw.bytes.len(), 32);
}

#[test]
fn corrupt_metadata_and_chunks_are_typed_errors() {
    let store = mem();
    let key = |k: &str| StoreKey::new(k).unwrap();
    for (doc, field) in [
        ("{", ".zarray"),
        (
            r#"{"zarr_format": 2, "shape": [4], "chunks": [2], "dtype": "<i4", "compressor": {"id": "nope"}, "fill_value": 0, "order": "C", "filters": null}"#,
            "codec",
        ),
        (
            r#"{"zarr_format": 2, "shape": [4], "chunks": [2, 2], "dtype": "<i4", "compressor": null, "fill_value": 0, "order": "C", "filters": null}"#,
            "chunks",
        ),
        (
            r#"{"zarr_format": 2, "shape": [4], "chunks": [2], "dtype": "<i4", "compressor": null, "fill_value": "x", "order": "C", "filters": null}"#,
            "fill_value",
        ),
    ] {
        store
            .set(&key("bad/.zarray"), Bytes::from(doc.to_string()))
            .unwrap();
        match Array::open(store.clone(), "bad") {
            Err(ArrayError::Metadata { field: f, .. }) => assert_eq!(f, field, "{doc}"),
            Err(ArrayError::CodecConfig(_)) => assert_eq!(field, "codec"),
            other => panic!("{doc}: {other:?}"),
        }
    }
    let arr = ArrayBuilder::new(vec![8], vec![4], dt("<f8"))
        .compressor(Some(json!({"id": "zstd", "level": 1})))
        .create(store.clone(), "c")
        .unwrap();
    arr.write((), &Array1::from_elem(8, 1.0)).unwrap();
    store
        .set(&key("c/1"), Bytes::from_static(b"\x28\xb5\x2f\xfd garbage"))
        .unwrap();
    let err = arr.read::<f64>(()).unwrap_err();
    assert!(
        matches!(err, ArrayError::Codec { ref key, .. } if key == "c/1"),
        "{err}"
    );
    // An uncompressed chunk of the wrong size.
    let raw = ArrayBuilder::new(vec![8], vec![4], dt("<f8"))
        .compressor(None)
        .create(store.clone(), "u")
        .unwrap();
    store.set(&key("u/0"), Bytes::from(vec![0u8; 31])).unwrap();
    assert!(matches!(
        raw.read::<f64>(()),
        Err(ArrayError::ChunkSize {
            expected: 32,
            found: 31,
            ..
        })
    ));
    // Paths never escape the store.
    assert!(matches!(
        Array::open(store.clone(), "../x"),
        Err(ArrayError::InvalidPath { .. })
    ));
    assert!(matches!(
        arr.read::<f64>("9"),
        Err(ArrayError::IndexOutOfBounds {
            axis: 0,
            index: 9,
            ..
        })
    ));
    assert!(matches!(
        arr.read::<f64>("1, 2"),
        Err(ArrayError::Selection(_))
    ));
}

#[test]
fn groups_hierarchy_and_consolidation() {
    let store = mem();
    let root = Group::create(store.clone(), "").unwrap();
    let mut attrs = serde_json::Map::new();
    attrs.insert("title".into(), json!("test"));
    root.set_attributes(&attrs).unwrap();
    root.create_array("x/y/z", ArrayBuilder::new(vec![2], vec![2], dt("|u1")))
        .unwrap();
    root.create_group("w").unwrap();
    assert_eq!(
        root.children().unwrap(),
        vec![("w".into(), NodeKind::Group), ("x".into(), NodeKind::Group)]
    );
    assert!(matches!(
        Group::create(store.clone(), "x/y/z"),
        Err(ArrayError::AlreadyExists { .. })
    ));
    assert!(matches!(
        open_node(store.clone(), "x/y").unwrap(),
        tessera_array::Node::Group(_)
    ));
    root.consolidate().unwrap();
    // A later change by tessera updates the consolidated metadata; one made behind its back (a raw
    // store write) is not seen through the consolidated snapshot, but is without it.
    root.create_array("late", ArrayBuilder::new(vec![1], vec![1], dt("|u1")))
        .unwrap();
    let late = store
        .get(&StoreKey::new("late/.zarray").unwrap())
        .unwrap()
        .unwrap();
    store
        .set(&StoreKey::new("raw/.zarray").unwrap(), late)
        .unwrap();
    let cons = Group::open_consolidated(store.clone(), "").unwrap();
    assert!(cons.is_consolidated());
    assert_eq!(cons.attributes().unwrap(), attrs);
    assert_eq!(cons.walk().unwrap().len(), 5);
    assert_eq!(
        Group::open(store.clone(), "")
            .unwrap()
            .walk()
            .unwrap()
            .len(),
        6
    );
    // `..` inside consolidated metadata is refused.
    let evil = json!({"zarr_consolidated_format": 1, "metadata": {".zgroup": {"zarr_format": 2}, "../a/.zarray": {}}});
    store
        .set(
            &StoreKey::new(".zmetadata").unwrap(),
            Bytes::from(evil.to_string()),
        )
        .unwrap();
    assert!(matches!(
        Group::open_consolidated(store, ""),
        Err(ArrayError::Metadata { .. })
    ));
}

#[test]
fn blocks_iterate_with_one_block_in_memory() {
    let store = mem();
    let arr = ArrayBuilder::new(vec![9, 4], vec![2, 4], dt("<i8"))
        .create(store, "b")
        .unwrap();
    let data = Array2::from_shape_fn((9, 4), |(i, j)| (i * 4 + j) as i64);
    arr.write((), &data).unwrap();
    let blocks: Vec<_> = arr
        .blocks::<i64>(Some(&[4, 4]))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(blocks.len(), 3);
    assert_eq!(blocks[2].0, vec![8..9, 0..4]);
    let total: i64 = blocks.iter().map(|(_, b)| b.sum()).sum();
    assert_eq!(total, data.sum());
    assert!(arr.blocks::<f32>(None).is_err());
}

/// Slabs across large uncompressed chunks read only the bytes they need (byte ranges); the result equals
/// the same slab cut from a whole read, on the filesystem and in memory, in C and F order, and a chunk
/// file too short for the ranges is a typed error.
#[test]
fn partial_reads_of_uncompressed_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let stores: Vec<Arc<dyn Store>> = vec![
        Arc::new(FilesystemStore::open(dir.path()).unwrap()),
        Arc::new(MemoryStore::new()),
    ];
    for store in stores {
        for order in [Order::C, Order::F] {
            let name = format!("p{order:?}");
            let arr = ArrayBuilder::new(vec![8, 64, 96], vec![4, 64, 64], dt("<u4"))
                .compressor(None)
                .order(order)
                .create(store.clone(), &name)
                .unwrap();
            let data = ArrayD::from_shape_fn(IxDyn(&[8, 64, 96]), |ix| {
                (ix[0] * 10_000 + ix[1] * 100 + ix[2]) as u32
            });
            arr.write((), &data).unwrap();
            let cases: Vec<(&str, ArrayD<u32>)> = vec![
                ("3, :, :", data.slice(s![3, .., ..]).to_owned().into_dyn()),
                (":, 17, :", data.slice(s![.., 17, ..]).to_owned().into_dyn()),
                (":, :, 70", data.slice(s![.., .., 70]).to_owned().into_dyn()),
                (
                    "1:7, 5:9, 60:68",
                    data.slice(s![1..7, 5..9, 60..68]).to_owned().into_dyn(),
                ),
                (
                    "::3, 40, ::7",
                    data.slice(s![..;3, 40, ..;7]).to_owned().into_dyn(),
                ),
                ("5, 63, 95", data.slice(s![5, 63, 95]).to_owned().into_dyn()),
            ];
            for (sel, want) in cases {
                assert_eq!(arr.read::<u32>(sel).unwrap(), want, "{name} {sel}");
            }
        }
        // A chunk file cut short: the slab needs bytes it no longer has.
        let arr = ArrayBuilder::new(vec![4, 64, 64], vec![4, 64, 64], dt("<u4"))
            .compressor(None)
            .create(store.clone(), "short")
            .unwrap();
        arr.write((), &ArrayD::from_elem(IxDyn(&[4, 64, 64]), 7u32))
            .unwrap();
        store
            .set(
                &StoreKey::new("short/0.0.0").unwrap(),
                Bytes::from(vec![0u8; 4 * 64 * 64 * 3]),
            )
            .unwrap();
        assert_eq!(arr.read::<u32>("0, :, :").unwrap().len(), 64 * 64);
        let err = arr.read::<u32>("3, :, :").unwrap_err();
        assert!(
            matches!(err, ArrayError::Store(ref e) if e.kind() == tessera_store::StoreErrorKind::InvalidRange),
            "{err}"
        );
        assert!(err.to_string().contains("short/0.0.0"), "{err}");
    }
}

/// `Array::blocks` reads ahead in the background: the blocks, their order and errors are those of reading
/// each block in turn, the read-ahead stays bounded, and it neither hangs nor deadlocks.
mod blocks {
    use std::ops::Range;
    use std::panic::{self, AssertUnwindSafe};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, mpsc};
    use std::thread;
    use std::time::{Duration, Instant};

    use ndarray::{ArrayD, IxDyn, Slice};
    use serde_json::json;
    use tessera_array::{Array, ArrayBuilder, ArrayError, Order};
    use tessera_store::{
        Bytes, ListableStore, MemoryStore, ReadableStore, Store, StoreKey, StorePrefix,
        StoreResult, Update, WritableStore,
    };

    use super::dt;

    /// A memory store whose reads of chunks take `delay`, are counted, and panic for one key.
    #[derive(Debug, Default)]
    struct SlowStore {
        inner: MemoryStore,
        delay: Duration,
        chunk_gets: AtomicUsize,
        panic_on: Option<String>,
    }

    impl ReadableStore for SlowStore {
        fn get(&self, key: &StoreKey) -> StoreResult<Option<Bytes>> {
            if !key.as_str().rsplit('/').next().unwrap().starts_with(".z") {
                if self.panic_on.as_deref() == Some(key.as_str()) {
                    panic!("test store: reading {key} panics");
                }
                self.chunk_gets.fetch_add(1, Ordering::SeqCst);
                thread::sleep(self.delay);
            }
            self.inner.get(key)
        }
    }

    impl WritableStore for SlowStore {
        fn set(&self, key: &StoreKey, value: Bytes) -> StoreResult<()> {
            self.inner.set(key, value)
        }

        fn erase(&self, key: &StoreKey) -> StoreResult<()> {
            self.inner.erase(key)
        }

        fn erase_prefix(&self, prefix: &StorePrefix) -> StoreResult<()> {
            self.inner.erase_prefix(prefix)
        }

        fn update(
            &self,
            key: &StoreKey,
            modify: &mut dyn FnMut(Option<Bytes>) -> Update,
        ) -> StoreResult<()> {
            self.inner.update(key, modify)
        }
    }

    impl ListableStore for SlowStore {
        fn list_prefix(&self, prefix: &StorePrefix) -> StoreResult<Vec<StoreKey>> {
            self.inner.list_prefix(prefix)
        }

        fn list_prefix_sizes(&self, prefix: &StorePrefix) -> StoreResult<Vec<(StoreKey, u64)>> {
            self.inner.list_prefix_sizes(prefix)
        }
    }

    /// Runs `f` on another thread and fails if it takes longer than `limit` (a deadlock fails the test
    /// instead of hanging it; the stuck thread is left behind).
    fn within<R: Send + 'static>(limit: Duration, f: impl FnOnce() -> R + Send + 'static) -> R {
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let _ = tx.send(panic::catch_unwind(AssertUnwindSafe(f)));
        });
        match rx.recv_timeout(limit) {
            Ok(Ok(r)) => r,
            Ok(Err(payload)) => panic::resume_unwind(payload),
            Err(_) => panic!("did not finish within {limit:?}: deadlock?"),
        }
    }

    /// The blocks of `shape` cut by `block`, in C order of the block grid, clipped to the array.
    fn grid(shape: &[u64], block: &[u64]) -> Vec<Vec<Range<u64>>> {
        let mut out = vec![vec![]];
        for (&n, &b) in shape.iter().zip(block) {
            let starts: Vec<u64> = (0..n).step_by(b as usize).collect();
            out = out
                .into_iter()
                .flat_map(|prefix| {
                    starts.iter().map(move |&s| {
                        let mut r = prefix.clone();
                        r.push(s..(s + b).min(n));
                        r
                    })
                })
                .collect();
        }
        out
    }

    fn cut<T: Clone>(whole: &ArrayD<T>, ranges: &[Range<u64>]) -> ArrayD<T> {
        whole
            .slice_each_axis(|ax| {
                let r = &ranges[ax.axis.index()];
                Slice::from(r.start as usize..r.end as usize)
            })
            .to_owned()
    }

    /// Checks every block against the same piece of a whole read, the grid order and the exact
    /// `size_hint` at each step.
    fn check_blocks(arr: &Array, block: &[u64]) {
        let whole = arr.read::<f32>(()).unwrap();
        let want = grid(arr.shape(), block);
        let mut it = arr.blocks::<f32>(Some(block)).unwrap();
        for (i, ranges) in want.iter().enumerate() {
            let left = want.len() - i;
            assert_eq!(it.size_hint(), (left, Some(left)), "block {block:?}");
            let (got_ranges, data) = it.next().unwrap().unwrap();
            assert_eq!(&got_ranges, ranges, "block {block:?}, item {i}");
            assert_eq!(data, cut(&whole, ranges), "block {block:?}, item {i}");
        }
        assert_eq!(it.size_hint(), (0, Some(0)));
        assert!(it.next().is_none());
        assert!(it.next().is_none());
    }

    fn sample(store: Arc<dyn Store>, name: &str) -> Array {
        let shape = [11u64, 7, 5];
        let arr = ArrayBuilder::new(shape.to_vec(), vec![3, 4, 2], dt("<f4"))
            .compressor(Some(json!({"id": "zstd", "level": 1})))
            .order(Order::F)
            .fill_value(json!(-1.0))
            .create(store, name)
            .unwrap();
        let data = ArrayD::from_shape_fn(IxDyn(&[11, 7, 5]), |i| {
            (i[0] * 100 + i[1] * 10 + i[2]) as f32
        });
        arr.write((), &data).unwrap();
        // A missing chunk reads as the fill value.
        arr.write(
            "3:6, 4:7, 2:4",
            &ArrayD::from_elem(IxDyn(&[3, 3, 2]), -1.0f32),
        )
        .unwrap();
        arr
    }

    const SHAPES: [[u64; 3]; 8] = [
        [3, 4, 2],   // the chunks
        [1, 1, 1],   // many tiny blocks: the deepest read-ahead
        [2, 3, 5],   // across chunk boundaries
        [4, 7, 3],   // edge blocks on every axis
        [6, 8, 4],   // several chunks each
        [11, 7, 5],  // the whole array
        [20, 9, 64], // larger than the array
        [11, 1, 1],  // columns
    ];

    /// The iterator can still move to and be shared with other threads.
    const _: fn() = || {
        fn send_sync<X: Send + Sync>() {}
        send_sync::<tessera_array::Blocks<'static, f32>>();
    };

    #[test]
    fn blocks_equal_a_whole_read_cut_into_pieces() {
        let arr = sample(Arc::new(MemoryStore::new()), "s");
        for block in SHAPES {
            check_blocks(&arr, &block);
        }
        // Rank 0: one block.
        let scalar = ArrayBuilder::new(vec![], vec![], dt("<f4"))
            .fill_value(json!(2.5))
            .create(Arc::new(MemoryStore::new()), "z")
            .unwrap();
        let blocks: Vec<_> = scalar.blocks::<f32>(None).unwrap().collect();
        assert_eq!(blocks.len(), 1);
        let (ranges, data) = blocks.into_iter().next().unwrap().unwrap();
        assert!(ranges.is_empty());
        assert_eq!(data.into_raw_vec_and_offset().0, vec![2.5]);
        // An empty array has no blocks.
        let empty = ArrayBuilder::new(vec![0, 4], vec![2, 2], dt("<f4"))
            .create(Arc::new(MemoryStore::new()), "e")
            .unwrap();
        let mut it = empty.blocks::<f32>(None).unwrap();
        assert_eq!(it.size_hint(), (0, Some(0)));
        assert!(it.next().is_none());
    }

    /// With one slow chunk per block, the blocks after the current one are read while the caller holds
    /// it, never more than the stated depth (4 blocks this small), and dropping the iterator neither
    /// waits for the reads under way nor starts the ones queued.
    #[test]
    fn read_ahead_is_bounded_and_dropping_returns_promptly() {
        let store = Arc::new(SlowStore {
            delay: Duration::from_millis(30),
            ..SlowStore::default()
        });
        let arr = ArrayBuilder::new(vec![64], vec![1], dt("<f4"))
            .create(store.clone(), "a")
            .unwrap();
        arr.write((), &ArrayD::from_elem(IxDyn(&[64]), 1.0f32))
            .unwrap();
        store.chunk_gets.store(0, Ordering::SeqCst);
        let mut it = arr.blocks::<f32>(None).unwrap();
        let (ranges, data) = it.next().unwrap().unwrap();
        assert_eq!((ranges[0].clone(), ranges.len(), data.len()), (0..1, 1, 1));
        // The next block is read in the background while the caller holds this one.
        let started = Instant::now();
        while store.chunk_gets.load(Ordering::SeqCst) < 2 {
            assert!(started.elapsed() < Duration::from_secs(20), "no read ahead");
            thread::sleep(Duration::from_millis(5));
        }
        thread::sleep(Duration::from_millis(200));
        let read = store.chunk_gets.load(Ordering::SeqCst);
        assert!(read <= 4, "{read} chunks read for one block yielded");
        // Dropping skips the reads not started yet.
        drop(it);
        thread::sleep(Duration::from_millis(200));
        let read = store.chunk_gets.load(Ordering::SeqCst);
        assert!(read <= 4, "{read} chunks read after dropping");

        // Dropped after one item with reads of half a second under way: returns at once.
        let slow = Arc::new(SlowStore {
            delay: Duration::from_millis(500),
            ..SlowStore::default()
        });
        let arr = ArrayBuilder::new(vec![8], vec![1], dt("<f4"))
            .create(slow.clone(), "b")
            .unwrap();
        arr.write((), &ArrayD::from_elem(IxDyn(&[8]), 1.0f32))
            .unwrap();
        let took = within(Duration::from_secs(20), move || {
            let mut it = arr.blocks::<f32>(None).unwrap();
            it.next().unwrap().unwrap();
            let dropping = Instant::now();
            drop(it);
            dropping.elapsed()
        });
        assert!(took < Duration::from_millis(100), "{took:?}");
    }

    /// Iterating inside a one-thread pool (where the read-ahead can only run when the caller's thread
    /// lets it) and inside a two-thread pool with slow reads (where the caller waits for a read running
    /// on the other thread) completes with the right blocks.
    #[test]
    fn blocks_inside_small_rayon_pools_complete() {
        let arr = sample(Arc::new(MemoryStore::new()), "p");
        let one = arr.clone();
        within(Duration::from_secs(60), move || {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .build()
                .unwrap();
            pool.install(|| {
                for block in SHAPES {
                    check_blocks(&one, &block);
                }
                // The caller's own parallel work runs the read-ahead on this thread meanwhile.
                let whole = one.read::<f32>(()).unwrap();
                let mut sum = 0.0f64;
                for item in one.blocks::<f32>(Some(&[1, 7, 5])).unwrap() {
                    let (ranges, data) = item.unwrap();
                    assert_eq!(data, cut(&whole, &ranges));
                    let (a, b) = rayon::join(
                        || data.iter().map(|&v| f64::from(v)).sum::<f64>(),
                        || data.len(),
                    );
                    assert_eq!(b, 35);
                    sum += a;
                }
                assert_eq!(sum, whole.iter().map(|&v| f64::from(v)).sum::<f64>());
                // Two iterators interleaved on the one thread.
                let mut x = one.blocks::<f32>(Some(&[1, 1, 5])).unwrap();
                let mut y = one.blocks::<f32>(Some(&[2, 2, 2])).unwrap();
                let (mut nx, mut ny) = (0, 0);
                loop {
                    let (a, b) = (x.next(), y.next());
                    nx += usize::from(a.is_some());
                    ny += usize::from(b.is_some());
                    if a.is_none() && b.is_none() {
                        break;
                    }
                }
                assert_eq!((nx, ny), (77, 6 * 4 * 3));
            });
        });

        let store = Arc::new(SlowStore {
            delay: Duration::from_millis(5),
            ..SlowStore::default()
        });
        let slow = sample(store, "q");
        within(Duration::from_secs(60), move || {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(2)
                .build()
                .unwrap();
            pool.install(|| {
                check_blocks(&slow, &[3, 4, 2]);
                // Two iterations at once, each on a worker, each waiting on reads of the other's pool.
                rayon::join(
                    || check_blocks(&slow, &[1, 7, 5]),
                    || check_blocks(&slow, &[11, 1, 1]),
                );
            });
        });
    }

    /// A corrupt chunk fails the blocks that hold it, at their position; the blocks after it still come.
    /// A panic inside a block's read reaches the caller's `next`, and the iteration can go on.
    #[test]
    fn errors_and_panics_arrive_at_their_block() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let arr = ArrayBuilder::new(vec![10], vec![2], dt("<f8"))
            .compressor(Some(json!({"id": "zstd", "level": 1})))
            .create(store.clone(), "c")
            .unwrap();
        arr.write((), &ArrayD::from_elem(IxDyn(&[10]), 1.0f64))
            .unwrap();
        for key in ["c/1", "c/4"] {
            store
                .set(
                    &StoreKey::new(key).unwrap(),
                    Bytes::from_static(b"\x28\xb5\x2f\xfd garbage"),
                )
                .unwrap();
        }
        for (block, bad) in [(2u64, vec![1, 4]), (4, vec![0, 2]), (1, vec![2, 3, 8, 9])] {
            let items: Vec<_> = arr.blocks::<f64>(Some(&[block])).unwrap().collect();
            assert_eq!(items.len(), 10usize.div_ceil(block as usize));
            for (i, item) in items.iter().enumerate() {
                match item {
                    Ok((ranges, data)) => {
                        assert!(!bad.contains(&i), "block {block}: item {i} should fail");
                        assert_eq!(ranges[0].start, i as u64 * block);
                        assert!(data.iter().all(|&v| v == 1.0));
                    }
                    Err(ArrayError::Codec { key, .. }) => {
                        assert!(bad.contains(&i), "block {block}: item {i} failed: {key}");
                    }
                    Err(e) => panic!("block {block}: item {i}: {e}"),
                }
            }
        }

        // A read that panics (in the background or inline) panics in `next`, at its block.
        let store = Arc::new(SlowStore {
            delay: Duration::from_millis(2),
            panic_on: Some("p/2".into()),
            ..SlowStore::default()
        });
        let arr = ArrayBuilder::new(vec![6], vec![1], dt("<f8"))
            .create(store, "p")
            .unwrap();
        arr.write((), &ArrayD::from_elem(IxDyn(&[6]), 3.0f64))
            .unwrap();
        within(Duration::from_secs(30), move || {
            let mut it = arr.blocks::<f64>(None).unwrap();
            let mut outcomes = vec![];
            while it.size_hint().0 > 0 {
                thread::sleep(Duration::from_millis(20));
                let item = panic::catch_unwind(AssertUnwindSafe(|| it.next()));
                outcomes.push(match item {
                    Ok(Some(Ok((ranges, _)))) => Some(ranges[0].start),
                    Ok(other) => panic!("{other:?}"),
                    Err(_) => None,
                });
            }
            assert_eq!(
                outcomes,
                vec![Some(0), Some(1), None, Some(3), Some(4), Some(5)]
            );
        });
    }
}

#[test]
fn structured_fields_read_and_write_alone() {
    use tessera_array::{DataType, Selection};
    let dtype = DataType::from_json(&serde_json::json!([
        ["id", "<u2"],
        ["pos", [["x", ">f4"], ["y", "<f4"]]],
        ["v", "<i2", [2]]
    ]))
    .unwrap();
    assert_eq!(dtype.itemsize(), 14);
    // Record (i, j): id = 10 i + j, pos = (i + 0.5, j - 0.5), v = (i, -j).
    let record = |i: usize, j: usize| -> Vec<u8> {
        let mut r = Vec::new();
        r.extend(((10 * i + j) as u16).to_le_bytes());
        r.extend((i as f32 + 0.5).to_be_bytes());
        r.extend((j as f32 - 0.5).to_le_bytes());
        r.extend((i as i16).to_le_bytes());
        r.extend((-(j as i16)).to_le_bytes());
        r
    };
    // Zarr v3 cannot describe sub-array fields: v2, C and F order.
    for fortran in [false, true] {
        let store = Arc::new(MemoryStore::new());
        let mut b = ArrayBuilder::new(vec![5, 3], vec![2, 2], dtype.clone());
        if fortran {
            b = b.order(tessera_array::Order::F);
        }
        let a = b.create(store, "rec").unwrap();
        let all: Vec<u8> = (0..5)
            .flat_map(|i| (0..3).flat_map(move |j| record(i, j)))
            .collect();
        a.write_raw((), &all).unwrap();

        let ids = a.read_field::<u16>("id", "[4,0,4], ::-1").unwrap();
        let want: Vec<u16> = [4u16, 0, 4]
            .iter()
            .flat_map(|&i| [2u16, 1, 0].map(|j| 10 * i + j))
            .collect();
        assert_eq!(ids.shape(), &[3, 3]);
        assert_eq!(
            ids.iter().copied().collect::<Vec<_>>(),
            want,
            "fortran: {fortran}"
        );
        let x = a.read_field::<f32>("pos.x", "1:3, 2").unwrap();
        assert_eq!(x.iter().copied().collect::<Vec<_>>(), vec![1.5, 2.5]);
        let v = a
            .read_field::<i16>("v", Selection::points(vec![vec![3, 0], vec![1, 2]]))
            .unwrap();
        assert_eq!(v.shape(), &[2, 2]);
        assert_eq!(v.iter().copied().collect::<Vec<_>>(), vec![3, -1, 0, -2]);

        // Several fields, untyped: just those bytes, in the order asked.
        let raw = a.read_fields(&["v", "id"], "2, 1").unwrap();
        let mut want = record(2, 1)[10..14].to_vec();
        want.extend(&record(2, 1)[..2]);
        assert_eq!((raw.shape.clone(), raw.bytes.clone()), (vec![], want));
        assert_eq!(raw.dtype.itemsize(), 6);

        // Writing a nested field keeps every other byte of the records.
        a.write_field("pos.y", "[0, 4], 1", &ndarray::array![7.0f32, 8.0])
            .unwrap();
        let back = a.read_raw(()).unwrap().bytes;
        let mut model = all.clone();
        for (i, y) in [(0usize, 7.0f32), (4, 8.0)] {
            let at = (i * 3 + 1) * 14 + 6;
            model[at..at + 4].copy_from_slice(&y.to_le_bytes());
        }
        assert_eq!(back, model);

        // Several fields at once, untyped, over a coordinate selection: v then id, packed.
        let packed: Vec<u8> = [(3usize, 2usize, [5i16, 6], 77u16), (1, 0, [-5, -6], 78)]
            .iter()
            .flat_map(|&(_, _, v, id)| {
                let mut r: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                r.extend(id.to_le_bytes());
                r
            })
            .collect();
        a.write_fields(
            &["v", "id"],
            Selection::points(vec![vec![3, 1], vec![2, 0]]),
            &packed,
        )
        .unwrap();
        for (k, (i, j)) in [(3usize, 2usize), (1, 0)].into_iter().enumerate() {
            let at = (i * 3 + j) * 14;
            model[at + 10..at + 14].copy_from_slice(&packed[k * 6..k * 6 + 4]);
            model[at..at + 2].copy_from_slice(&packed[k * 6 + 4..k * 6 + 6]);
        }
        assert_eq!(a.read_raw(()).unwrap().bytes, model);
        // A buffer of the wrong size is refused and writes nothing.
        assert!(matches!(
            a.write_fields(&["id"], "0:2, 0", &[0u8; 3]),
            Err(ArrayError::ShapeMismatch { .. })
        ));
        assert_eq!(a.read_raw(()).unwrap().bytes, model);

        assert!(
            matches!(a.read_field::<u16>("mass", ()), Err(ArrayError::Selection(m)) if m.contains("id, pos, v"))
        );
        assert!(matches!(
            a.read_field::<f64>("id", ()),
            Err(ArrayError::DataTypeMismatch { .. })
        ));
        assert!(matches!(
            a.write_field("id", "0", &ndarray::array![1u16, 2]),
            Err(ArrayError::ShapeMismatch { .. })
        ));
    }
}

//! Zarr v3 arrays written and read by tessera: `zarr.json`, chunk keys, sharding (reads that fetch only
//! what they need, read-modify-write of shards, fill chunks left out), groups, resize, bad metadata.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use ndarray::{ArrayD, Dimension, IxDyn, s};
use proptest::prelude::*;
use serde_json::{Value, json};
use tessera_array::{
    Array, ArrayBuilder, ArrayError, DataType, Group, NodeKind, Order, Selection, ZarrFormat,
};
use tessera_store::{
    ByteRange, Bytes, DependentParts, ListableStore, MemoryStore, ReadableStore, Store, StoreKey,
    StorePrefix, StoreResult, WritableStore,
};

fn dt(s: &str) -> DataType {
    DataType::parse_typestr(s).unwrap()
}

fn doc(store: &dyn Store, key: &str) -> Value {
    serde_json::from_slice(&store.get(&StoreKey::new(key).unwrap()).unwrap().unwrap()).unwrap()
}

fn keys(store: &dyn Store, prefix: &str) -> Vec<String> {
    store
        .list_prefix(&StorePrefix::new(prefix).unwrap())
        .unwrap()
        .into_iter()
        .map(|k| k.as_str().to_string())
        .collect()
}

/// A memory store counting the bytes its reads return (whole values and ranges alike).
#[derive(Debug, Default)]
struct CountingStore {
    inner: MemoryStore,
    bytes_read: AtomicU64,
    requests: AtomicU64,
}

impl CountingStore {
    fn reset(&self) -> (u64, u64) {
        (
            self.bytes_read.swap(0, Ordering::SeqCst),
            self.requests.swap(0, Ordering::SeqCst),
        )
    }

    fn count(&self, n: usize) {
        self.bytes_read.fetch_add(n as u64, Ordering::SeqCst);
        self.requests.fetch_add(1, Ordering::SeqCst);
    }
}

impl ReadableStore for CountingStore {
    fn get(&self, key: &StoreKey) -> StoreResult<Option<Bytes>> {
        let v = self.inner.get(key)?;
        self.count(v.as_ref().map_or(0, Bytes::len));
        Ok(v)
    }

    fn get_range(&self, key: &StoreKey, range: ByteRange) -> StoreResult<Option<Bytes>> {
        let v = self.inner.get_range(key, range)?;
        self.count(v.as_ref().map_or(0, Bytes::len));
        Ok(v)
    }

    fn get_ranges(
        &self,
        key: &StoreKey,
        ranges: &[std::ops::Range<u64>],
    ) -> StoreResult<Option<Vec<Bytes>>> {
        let v = self.inner.get_ranges(key, ranges)?;
        self.count(v.iter().flatten().map(Bytes::len).sum());
        Ok(v)
    }

    // The memory store's own (one snapshot), counted as the two reads a remote store makes.
    fn get_many_dependent_ranges(
        &self,
        requests: &[(StoreKey, ByteRange)],
        then: &(dyn Fn(usize, &Bytes) -> Vec<std::ops::Range<u64>> + Sync),
        on_result: &(dyn Fn(usize, StoreResult<Option<DependentParts>>) + Sync),
    ) {
        self.inner
            .get_many_dependent_ranges(requests, then, &|i, result| {
                match &result {
                    Ok(Some((head, parts))) => {
                        self.count(head.len());
                        if !parts.is_empty() {
                            self.count(parts.iter().map(Bytes::len).sum());
                        }
                    }
                    _ => self.count(0),
                }
                on_result(i, result);
            });
    }
}

impl WritableStore for CountingStore {
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
        modify: &mut dyn FnMut(Option<Bytes>) -> tessera_store::Update,
    ) -> StoreResult<()> {
        self.inner.update(key, modify)
    }
}

impl ListableStore for CountingStore {
    fn list_prefix(&self, prefix: &StorePrefix) -> StoreResult<Vec<StoreKey>> {
        self.inner.list_prefix(prefix)
    }

    fn list_prefix_sizes(&self, prefix: &StorePrefix) -> StoreResult<Vec<(StoreKey, u64)>> {
        self.inner.list_prefix_sizes(prefix)
    }
}

fn ramp(shape: &[usize]) -> ArrayD<i32> {
    ArrayD::from_shape_fn(IxDyn(shape), |ix| {
        ix.slice()
            .iter()
            .fold(0i32, |a, &i| a * 1000 + i as i32 + 1)
    })
}

#[test]
fn v3_array_writes_zarr_json_and_default_keys() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let a = ArrayBuilder::new(vec![10, 7], vec![4, 4], dt(">i4"))
        .zarr_format(3)
        .fill_value(json!(-1))
        .dimension_names(vec![Some("y".into()), None])
        .create(store.clone(), "g/a")
        .unwrap();
    a.write((), &ramp(&[10, 7])).unwrap();
    let meta = doc(store.as_ref(), "g/a/zarr.json");
    assert_eq!(meta["zarr_format"], 3);
    assert_eq!(meta["node_type"], "array");
    assert_eq!(meta["data_type"], "int32");
    assert_eq!(meta["fill_value"], -1);
    assert_eq!(meta["dimension_names"], json!(["y", null]));
    assert_eq!(
        meta["codecs"],
        json!([{"name": "bytes", "configuration": {"endian": "big"}},
               {"name": "zstd", "configuration": {"level": 0, "checksum": false}}])
    );
    assert_eq!(doc(store.as_ref(), "g/zarr.json")["node_type"], "group");
    assert!(keys(store.as_ref(), "g/a/").contains(&"g/a/c/2/1".to_string()));
    let b = Array::open(store.clone(), "g/a").unwrap();
    assert_eq!(b.zarr_format(), ZarrFormat::V3);
    assert_eq!(
        b.metadata().dimension_names,
        Some(vec![Some("y".into()), None])
    );
    assert_eq!(b.read::<i32>(()).unwrap(), ramp(&[10, 7]));
    assert_eq!(
        b.read::<i32>(s![9, 6]).unwrap().into_raw_vec_and_offset().0,
        vec![10007]
    );
}

#[test]
fn v3_attributes_resize_and_append_keep_zarr_json_true() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let mut a = ArrayBuilder::new(vec![4, 3], vec![2, 2], dt("<u2"))
        .zarr_format(3)
        .order(Order::F)
        .create(store.clone(), "a")
        .unwrap();
    let mut attrs = serde_json::Map::new();
    attrs.insert("units".into(), json!("m"));
    a.set_attributes(&attrs).unwrap();
    let data = ArrayD::from_shape_fn(IxDyn(&[4, 3]), |ix| (ix[0] * 10 + ix[1]) as u16);
    a.write((), &data).unwrap();
    a.append(&data, 0).unwrap();
    a.resize(&[7, 3]).unwrap();
    let meta = doc(store.as_ref(), "a/zarr.json");
    assert_eq!(meta["shape"], json!([7, 3]));
    assert_eq!(meta["attributes"]["units"], "m");
    assert_eq!(meta["codecs"][0]["name"], "transpose");
    let b = Array::open(store.clone(), "a").unwrap();
    assert_eq!(
        Value::Object(b.attributes().unwrap()),
        json!({"units": "m"})
    );
    let got = b.read::<u16>(()).unwrap();
    assert_eq!(got.slice(s![..4, ..]).into_dyn(), data);
    assert_eq!(got.slice(s![4..7, ..]), data.slice(s![..3, ..]));
    // The chunk row cut by the resize was reset: growing again shows the fill value.
    let mut b = b;
    b.resize(&[8, 3]).unwrap();
    assert_eq!(
        b.read::<u16>(s![7, ..])
            .unwrap()
            .into_raw_vec_and_offset()
            .0,
        vec![0, 0, 0]
    );
}

#[test]
fn sharded_array_round_trips_and_leaves_out_fill() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let a = ArrayBuilder::new(vec![9, 10], vec![2, 3], dt("<i4"))
        .zarr_format(3)
        .shards(vec![4, 6])
        .fill_value(json!(0))
        .create(store.clone(), "s")
        .unwrap();
    assert_eq!(a.metadata().shard_shape(), Some(&[4u64, 6][..]));
    assert_eq!(a.metadata().inner_chunk_shape(), &[2, 3]);
    // Only the first inner chunk of shard (0, 0) and the last array element are non-fill.
    let mut data = ArrayD::<i32>::zeros(IxDyn(&[9, 10]));
    data[[0, 0]] = 5;
    data[[8, 9]] = 7;
    a.write((), &data).unwrap();
    assert_eq!(keys(store.as_ref(), "s/c/"), vec!["s/c/0/0", "s/c/2/1"]);
    let shard = store
        .get(&StoreKey::new("s/c/0/0").unwrap())
        .unwrap()
        .unwrap();
    // One stored inner chunk (zstd of 24 bytes) plus an index of 2x2 inner chunks with its crc32c.
    assert!(shard.len() < 4 * 16 + 4 + 64, "{}", shard.len());
    let b = Array::open(store.clone(), "s").unwrap();
    assert_eq!(b.read::<i32>(()).unwrap(), data);
    // A partial write reads, modifies and writes back its shard; the rest of the shard is kept.
    b.write(s![1..2, 4..5], &ndarray::arr2(&[[9]])).unwrap();
    data[[1, 4]] = 9;
    assert_eq!(b.read::<i32>(()).unwrap(), data);
    // Writing the fill over everything removes every shard.
    b.fill(()).unwrap();
    assert!(keys(store.as_ref(), "s/c/").is_empty());
    assert!(b.read::<i32>(()).unwrap().iter().all(|&v| v == 0));
}

#[test]
fn reading_one_inner_chunk_reads_only_its_index_and_that_chunk() {
    let counting = Arc::new(CountingStore::default());
    let store: Arc<dyn Store> = counting.clone();
    for at_start in [false, true] {
        let path = if at_start { "start" } else { "end" };
        let a = ArrayBuilder::new(vec![64, 64], vec![8, 8], dt("<f8"))
            .zarr_format(3)
            .shards(vec![32, 64])
            .compressor(None)
            .create(store.clone(), path)
            .unwrap();
        if at_start {
            // Rewrite the metadata with the index before the chunks.
            let mut meta = doc(store.as_ref(), "start/zarr.json");
            meta["codecs"][0]["configuration"]["index_location"] = json!("start");
            store
                .set(
                    &StoreKey::new("start/zarr.json").unwrap(),
                    Bytes::from(meta.to_string()),
                )
                .unwrap();
        }
        let a = if at_start {
            Array::open(store.clone(), path).unwrap()
        } else {
            a
        };
        let data = ArrayD::from_shape_fn(IxDyn(&[64, 64]), |ix| (ix[0] * 64 + ix[1]) as f64);
        a.write((), &data).unwrap();
        let a = Array::open(store.clone(), path).unwrap();
        counting.reset();
        let got = a.read::<f64>(s![40..48, 16..24]).unwrap();
        assert_eq!(got, data.slice(s![40..48, 16..24]).into_dyn());
        let (bytes, requests) = counting.reset();
        let index = 4 * 8 * 16 + 4; // 4x8 inner chunks per shard, 16 bytes each, crc32c
        assert_eq!(
            bytes,
            index + 8 * 8 * 8,
            "{path}: index plus one inner chunk"
        );
        assert_eq!(
            requests, 2,
            "{path}: one range for the index, one for the chunk"
        );
        // A row across a shard: one index, the eight inner chunks it crosses, coalesced into one range.
        a.read::<f64>(s![3, ..]).unwrap();
        let (bytes, requests) = counting.reset();
        assert_eq!(bytes, index + 8 * 8 * 8 * 8);
        assert_eq!(requests, 2);
        // A missing shard reads as the fill value after one failed index read.
        a.fill(s![32.., ..]).unwrap();
        counting.reset();
        assert!(a.read::<f64>(s![40, 3]).unwrap().iter().all(|&v| v == 0.0));
        assert_eq!(counting.reset(), (0, 1));
    }
}

#[test]
fn lying_shard_index_is_a_typed_error() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let a = ArrayBuilder::new(vec![4, 4], vec![2, 2], dt("<u1"))
        .zarr_format(3)
        .shards(vec![4, 4])
        .compressor(None)
        .create(store.clone(), "x")
        .unwrap();
    a.write((), &ArrayD::from_elem(IxDyn(&[4, 4]), 3u8))
        .unwrap();
    let key = StoreKey::new("x/c/0/0").unwrap();
    let good = store.get(&key).unwrap().unwrap().to_vec();
    let index_at = good.len() - (4 * 16 + 4);
    let with_index = |entries: &[(u64, u64)]| {
        let mut index = Vec::new();
        for &(o, n) in entries {
            index.extend(o.to_le_bytes());
            index.extend(n.to_le_bytes());
        }
        let crc = crc32c(&index);
        let mut shard = good[..index_at].to_vec();
        shard.extend(index);
        shard.extend(crc.to_le_bytes());
        Bytes::from(shard)
    };
    for (entries, what) in [
        (vec![(0, 4), (4, 4), (8, 4), (1 << 40, 4)], "past the end"),
        (vec![(0, 4), (4, 4), (8, 4), (u64::MAX - 1, 4)], "overflows"),
        (vec![(0, 4), (4, 4), (8, 4), (12, 1 << 60)], "huge"),
        (vec![(0, 4), (4, 4), (8, 4), (12, 3)], "wrong size"),
    ] {
        store.set(&key, with_index(&entries)).unwrap();
        let err = a.read::<u8>(()).unwrap_err();
        assert!(
            matches!(
                err,
                ArrayError::ShardIndex { .. } | ArrayError::ChunkSize { .. }
            ),
            "{what}: {err:?}"
        );
        // The whole-shard path (a partial write reads the shard) fails the same way, writing nothing.
        let err = a
            .write(s![0..1, 0..1], &ndarray::arr2(&[[1u8]]))
            .unwrap_err();
        assert!(
            matches!(
                err,
                ArrayError::ShardIndex { .. } | ArrayError::ChunkSize { .. }
            ),
            "{what}: {err:?}"
        );
    }
    // A corrupted index fails its checksum.
    let mut bad = good.clone();
    let n = bad.len();
    bad[n - 10] ^= 0xff;
    store.set(&key, Bytes::from(bad)).unwrap();
    assert!(matches!(
        a.read::<u8>(()).unwrap_err(),
        ArrayError::Codec { .. }
    ));
    // Overlapping inner chunks are allowed by the format (both decode the same bytes).
    store
        .set(&key, with_index(&[(0, 4), (0, 4), (0, 4), (0, 4)]))
        .unwrap();
    assert!(a.read::<u8>(()).unwrap().iter().all(|&v| v == 3));
}

/// CRC-32C (Castagnoli), bitwise: the reference the index checksum is compared with.
fn crc32c(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x82F6_3B78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn bad_v3_metadata_is_named() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let base = json!({"zarr_format": 3, "node_type": "array", "shape": [4], "data_type": "int16",
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [2]}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": 0, "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}],
        "attributes": {}});
    let open = |doc: &Value| {
        store
            .set(
                &StoreKey::new("a/zarr.json").unwrap(),
                Bytes::from(doc.to_string()),
            )
            .unwrap();
        Array::open(store.clone(), "a")
    };
    assert!(open(&base).is_ok());
    let with = |k: &str, v: Value| {
        let mut d = base.clone();
        d[k] = v;
        d
    };
    for (doc, field) in [
        (with("shape", json!([-1])), "shape"),
        (with("data_type", json!("int17")), "data_type int17"),
        // `string` needs the vlen-utf8 codec, not bytes.
        (with("data_type", json!("string")), "codecs"),
        (with("fill_value", json!("x")), "fill_value"),
        (with("fill_value", Value::Null), "fill_value"),
        (with("codecs", json!([])), "codecs"),
        (
            with("codecs", json!([{"name": "bytes"}, {"name": "lz5"}])),
            "codec lz5",
        ),
        (with("codecs", json!([{"name": "vlen-utf8"}])), "codecs"),
        (
            with("chunk_grid", json!({"name": "rectilinear"})),
            "chunk_grid rectilinear",
        ),
        (
            with("chunk_key_encoding", json!({"name": "v9"})),
            "chunk_key_encoding v9",
        ),
        (
            with("storage_transformers", json!([{"name": "x"}])),
            "storage_transformers",
        ),
        (
            with("future_thing", json!({"must_understand": true})),
            "future_thing",
        ),
        (with("future_thing", json!(1)), "future_thing"),
        (
            with("dimension_names", json!(["a", "b"])),
            "dimension_names",
        ),
        (with("zarr_format", json!(4)), "zarr_format"),
    ] {
        match open(&doc) {
            Err(ArrayError::Metadata { field: f, .. }) => {
                assert!(
                    field.starts_with(&f) || f.starts_with(field),
                    "{field}: {f}"
                );
            }
            Err(ArrayError::Unsupported { feature, .. }) => assert_eq!(feature, field),
            other => panic!("{field}: expected an error, got {other:?}"),
        }
    }
    // must_understand: false extensions are kept on rewrite.
    let kept = with("future_thing", json!({"must_understand": false, "x": 1}));
    let mut a = open(&kept).unwrap();
    a.resize(&[6]).unwrap();
    assert_eq!(doc(store.as_ref(), "a/zarr.json")["future_thing"]["x"], 1);
    // A group's zarr.json is not an array; nothing at all says neither document was found.
    store
        .set(
            &StoreKey::new("g/zarr.json").unwrap(),
            Bytes::from(r#"{"zarr_format":3,"node_type":"group"}"#),
        )
        .unwrap();
    assert!(matches!(
        Array::open(store.clone(), "g"),
        Err(ArrayError::NotFound { .. })
    ));
    let err = Array::open(store.clone(), "nothing")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("zarr.json") && err.contains(".zarray"),
        "{err}"
    );
}

#[test]
fn v3_groups_and_consolidated_metadata() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let root = Group::create_v3(store.clone(), "").unwrap();
    let mut attrs = serde_json::Map::new();
    attrs.insert("title".into(), json!("t"));
    root.set_attributes(&attrs).unwrap();
    root.create_group("a/b").unwrap();
    root.create_array(
        "a/b/x",
        ArrayBuilder::new(vec![3], vec![3], dt("<i8")).zarr_format(3),
    )
    .unwrap()
    .write((), &ndarray::arr1(&[1i64, 2, 3]))
    .unwrap();
    root.consolidate().unwrap();
    let meta = doc(store.as_ref(), "zarr.json");
    assert_eq!(meta["consolidated_metadata"]["kind"], "inline");
    assert_eq!(meta["consolidated_metadata"]["must_understand"], false);
    assert_eq!(
        meta["consolidated_metadata"]["metadata"]["a/b/x"]["node_type"],
        "array"
    );
    assert_eq!(meta["attributes"]["title"], "t");
    let root = Group::open_consolidated(store.clone(), "").unwrap();
    assert!(root.is_consolidated());
    assert_eq!(
        root.walk()
            .unwrap()
            .into_iter()
            .map(|(p, k)| (p.as_str().to_string(), k))
            .collect::<Vec<_>>(),
        vec![
            ("a".to_string(), NodeKind::Group),
            ("a/b".to_string(), NodeKind::Group),
            ("a/b/x".to_string(), NodeKind::Array)
        ]
    );
    let x = root.open_array("a/b/x").unwrap();
    assert_eq!(
        x.read::<i64>(()).unwrap().into_raw_vec_and_offset().0,
        vec![1, 2, 3]
    );
    assert_eq!(
        Value::Object(root.attributes().unwrap()),
        json!({"title": "t"})
    );
}

#[test]
fn nested_shards_round_trip() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let codecs = json!([{"name": "sharding_indexed", "configuration": {
        "chunk_shape": [4, 4],
        "codecs": [{"name": "sharding_indexed", "configuration": {
            "chunk_shape": [2, 2],
            "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "gzip", "configuration": {"level": 1}}],
            "index_codecs": [{"name": "bytes", "configuration": {"endian": "big"}}],
            "index_location": "start"}}],
        "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}]}}]);
    let meta = json!({"zarr_format": 3, "node_type": "array", "shape": [10, 9], "data_type": "uint16",
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [8, 8]}},
        "chunk_key_encoding": {"name": "default"}, "fill_value": 7, "codecs": codecs});
    store
        .set(
            &StoreKey::new("n/zarr.json").unwrap(),
            Bytes::from(meta.to_string()),
        )
        .unwrap();
    let a = Array::open(store.clone(), "n").unwrap();
    let data = ArrayD::from_shape_fn(IxDyn(&[10, 9]), |ix| (ix[0] * 9 + ix[1]) as u16);
    a.write((), &data).unwrap();
    assert_eq!(a.read::<u16>(()).unwrap(), data);
    a.write(
        s![2..6, 1..3],
        &ndarray::Array2::<u16>::from_elem((4, 2), 7),
    )
    .unwrap();
    let mut want = data.clone();
    want.slice_mut(s![2..6, 1..3]).fill(7);
    assert_eq!(
        Array::open(store, "n").unwrap().read::<u16>(()).unwrap(),
        want
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Sharded writes and reads of random regions agree with a plain in-memory array.
    #[test]
    fn sharded_reads_and_writes_match_a_reference(
        shape in prop::collection::vec(1u64..12, 1..4),
        inner in prop::collection::vec(1u64..4, 3),
        per_shard in prop::collection::vec(1u64..4, 3),
        writes in prop::collection::vec((prop::collection::vec((0u64..12, 0u64..12), 3), any::<u8>()), 1..5),
        reads in prop::collection::vec(prop::collection::vec((0u64..12, 0u64..12, 1u64..4), 3), 1..5),
        index_at_start in any::<bool>(),
    ) {
        let rank = shape.len();
        let inner: Vec<u64> = inner[..rank].to_vec();
        let shards: Vec<u64> = inner.iter().zip(&per_shard).map(|(i, n)| i * n).collect();
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let mut a = ArrayBuilder::new(shape.clone(), inner.clone(), dt("<u1"))
            .zarr_format(3)
            .shards(shards)
            .fill_value(json!(200))
            .create(store.clone(), "p")
            .unwrap();
        if index_at_start {
            let mut meta = doc(store.as_ref(), "p/zarr.json");
            meta["codecs"][0]["configuration"]["index_location"] = json!("start");
            store.set(&StoreKey::new("p/zarr.json").unwrap(), Bytes::from(meta.to_string())).unwrap();
            a = Array::open(store.clone(), "p").unwrap();
        }
        let dims: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
        let mut reference = ArrayD::<u8>::from_elem(IxDyn(&dims), 200);
        for (bounds, value) in &writes {
            let ranges: Vec<std::ops::Range<u64>> = (0..rank)
                .map(|ax| {
                    let (x, y) = (bounds[ax].0 % shape[ax], bounds[ax].1 % shape[ax]);
                    x.min(y)..x.max(y) + 1
                })
                .collect();
            let sel = Selection::from_ranges(&ranges);
            let region: Vec<usize> = ranges.iter().map(|r| (r.end - r.start) as usize).collect();
            a.write(sel, &ArrayD::from_elem(IxDyn(&region), *value)).unwrap();
            let mut view = reference.slice_each_axis_mut(|ax| {
                let r = &ranges[ax.axis.index()];
                ndarray::Slice::from(r.start as usize..r.end as usize)
            });
            view.fill(*value);
        }
        let a = Array::open(store.clone(), "p").unwrap();
        prop_assert_eq!(&a.read::<u8>(()).unwrap(), &reference);
        for spec in &reads {
            let text: Vec<String> = (0..rank)
                .map(|ax| {
                    let (x, y, step) = spec[ax];
                    let (x, y) = (x % shape[ax], y % shape[ax]);
                    format!("{}:{}:{step}", x.min(y), x.max(y) + 1)
                })
                .collect();
            let got = a.read::<u8>(text.join(",").as_str()).unwrap();
            let want = reference.slice_each_axis(|ax| {
                let (x, y, step) = spec[ax.axis.index()];
                let n = shape[ax.axis.index()];
                let (x, y) = (x % n, y % n);
                ndarray::Slice::new(x.min(y) as isize, Some(x.max(y) as isize + 1), step as isize)
            });
            prop_assert_eq!(got, want.to_owned());
        }
    }
}

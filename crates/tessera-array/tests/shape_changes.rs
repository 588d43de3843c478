//! Resize and append under failure, concurrency and consolidated metadata; every shape through every
//! library call.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ndarray::{Array2, ArrayD, IxDyn};
use serde_json::{Value, json};
use tessera_array::{Array, ArrayBuilder, ArrayError, DataType, Group, Selection};
use tessera_store::{
    ByteRange, Bytes, ListableStore, MemoryStore, ReadableStore, Store, StoreError, StoreErrorKind,
    StoreKey, StorePrefix, StoreResult, WritableStore,
};

fn dt(s: &str) -> DataType {
    DataType::parse_typestr(s).unwrap()
}

/// A store that fails its `fail_at`-th write (`set`, `erase`, `erase_prefix`; counting from 0) and
/// every write after it while `failing` is set, as a disk that fills up or a connection that drops.
#[derive(Debug)]
struct FailingStore {
    inner: Arc<dyn Store>,
    writes: AtomicUsize,
    fail_at: AtomicUsize,
}

impl FailingStore {
    fn new(inner: Arc<dyn Store>, fail_at: usize) -> Arc<FailingStore> {
        Arc::new(FailingStore {
            inner,
            writes: AtomicUsize::new(0),
            fail_at: AtomicUsize::new(fail_at),
        })
    }

    fn heal(&self) {
        self.fail_at.store(usize::MAX, Ordering::SeqCst);
    }

    fn write(&self) -> StoreResult<()> {
        let n = self.writes.fetch_add(1, Ordering::SeqCst);
        if n >= self.fail_at.load(Ordering::SeqCst) {
            return Err(StoreError::new(
                StoreErrorKind::Io,
                "injected write failure",
            ));
        }
        Ok(())
    }
}

impl ReadableStore for FailingStore {
    fn get(&self, key: &StoreKey) -> StoreResult<Option<Bytes>> {
        self.inner.get(key)
    }
    fn get_range(&self, key: &StoreKey, range: ByteRange) -> StoreResult<Option<Bytes>> {
        self.inner.get_range(key, range)
    }
    fn size(&self, key: &StoreKey) -> StoreResult<Option<u64>> {
        self.inner.size(key)
    }
}

impl WritableStore for FailingStore {
    fn set(&self, key: &StoreKey, value: Bytes) -> StoreResult<()> {
        self.write()?;
        self.inner.set(key, value)
    }
    fn erase(&self, key: &StoreKey) -> StoreResult<()> {
        self.write()?;
        self.inner.erase(key)
    }
    fn erase_prefix(&self, prefix: &StorePrefix) -> StoreResult<()> {
        self.write()?;
        self.inner.erase_prefix(prefix)
    }
    fn update(
        &self,
        key: &StoreKey,
        modify: &mut dyn FnMut(Option<Bytes>) -> tessera_store::Update,
    ) -> StoreResult<()> {
        self.write()?;
        self.inner.update(key, modify)
    }
}

impl ListableStore for FailingStore {
    fn list_prefix(&self, prefix: &StorePrefix) -> StoreResult<Vec<StoreKey>> {
        self.inner.list_prefix(prefix)
    }
    fn list_prefix_sizes(&self, prefix: &StorePrefix) -> StoreResult<Vec<(StoreKey, u64)>> {
        self.inner.list_prefix_sizes(prefix)
    }
}

/// A consolidated root holding `g/x`, 10 x 4 `<i4` in 3 x 3 chunks, values 0..40, fill -1.
fn consolidated_fixture(store: &Arc<dyn Store>) -> Array2<i32> {
    let root = Group::create(store.clone(), "").unwrap();
    let x = ArrayBuilder::new(vec![10, 4], vec![3, 3], dt("<i4"))
        .fill_value(json!(-1))
        .create(store.clone(), "g/x")
        .unwrap();
    let data = Array2::from_shape_fn((10, 4), |(i, j)| (i * 4 + j) as i32);
    x.write((), &data).unwrap();
    root.consolidate().unwrap();
    data
}

fn stored(store: &Arc<dyn Store>) -> Array2<i32> {
    let a = Array::open(store.clone(), "g/x").unwrap();
    let got = a.read::<i32>(()).unwrap();
    let shape = (got.shape()[0], got.shape()[1]);
    got.into_shape_with_order(shape).unwrap()
}

/// The `.zarray` shape that `.zmetadata` holds for `g/x`.
fn consolidated_shape(store: &Arc<dyn Store>) -> Value {
    let bytes = store
        .get(&StoreKey::new(".zmetadata").unwrap())
        .unwrap()
        .unwrap();
    let doc: Value = serde_json::from_slice(&bytes).unwrap();
    doc["metadata"]["g/x/.zarray"]["shape"].clone()
}

#[test]
fn append_survives_a_failure_at_every_write_and_retries() {
    let rows = Array2::from_shape_fn((5, 4), |(i, j)| 1000 + (i * 4 + j) as i32);
    let mut expected = Array2::zeros((15, 4));
    for n in 0.. {
        let inner: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let old = consolidated_fixture(&inner);
        expected.slice_mut(ndarray::s![..10, ..]).assign(&old);
        expected.slice_mut(ndarray::s![10.., ..]).assign(&rows);
        let failing = FailingStore::new(inner.clone(), n);
        let mut a = Array::open(failing.clone(), "g/x").unwrap();
        match a.append(&rows, 0) {
            Ok(()) => {
                assert_eq!(stored(&inner), expected, "fail at write {n}: never failed");
                assert_eq!(consolidated_shape(&inner), json!([15, 4]));
                break;
            }
            Err(_) => {
                // Old or new, never a mix: the old rows are intact whatever the shape.
                let now = stored(&inner);
                assert!(now == old || now == expected, "fail at write {n}: {now}");
            }
        }
        failing.heal();
        let mut retry = Array::open(failing.clone(), "g/x").unwrap();
        if retry.shape() == [10, 4] {
            retry.append(&rows, 0).unwrap();
        }
        assert_eq!(
            stored(&inner),
            expected,
            "fail at write {n}, after the retry"
        );
        assert_eq!(
            consolidated_shape(&inner),
            json!([15, 4]),
            "fail at write {n}"
        );
        assert!(n < 100, "the append never succeeded");
    }
}

#[test]
fn resize_survives_a_failure_at_every_write_and_retries() {
    for (new_shape, label) in [([4u64, 2u64], "shrink"), ([14, 6], "grow")] {
        for n in 0.. {
            let inner: Arc<dyn Store> = Arc::new(MemoryStore::new());
            let old = consolidated_fixture(&inner);
            // Leftovers beyond the shape, as a failed append leaves them: a grow must not expose
            // them. A handle that believes the array is 14 rows long writes rows 10..14.
            let current = Array::open(inner.clone(), "g/x").unwrap();
            let mut meta = current.metadata().clone();
            meta.shape = vec![14, 4];
            let phantom =
                Array::from_metadata(inner.clone(), current.path().clone(), meta).unwrap();
            phantom
                .write(ndarray::s![10..14, ..], &Array2::from_elem((4, 4), 7777))
                .unwrap();
            let expected = {
                let (r, c) = (new_shape[0] as usize, new_shape[1] as usize);
                Array2::from_shape_fn(
                    (r, c),
                    |(i, j)| {
                        if i < 10 && j < 4 { old[[i, j]] } else { -1 }
                    },
                )
            };
            let failing = FailingStore::new(inner.clone(), n);
            let mut a = Array::open(failing.clone(), "g/x").unwrap();
            let outcome = a.resize(&new_shape);
            let now = stored(&inner);
            let old_view = now.shape() == [10, 4] && now == old;
            assert!(
                old_view || now == expected,
                "{label}, fail at write {n}: {now}"
            );
            failing.heal();
            let mut retry = Array::open(failing.clone(), "g/x").unwrap();
            retry.resize(&new_shape).unwrap();
            assert_eq!(
                stored(&inner),
                expected,
                "{label}, fail at write {n}, retried"
            );
            assert_eq!(consolidated_shape(&inner), json!(new_shape), "{label}");
            if outcome.is_ok() {
                break;
            }
            assert!(n < 200, "{label}: the resize never succeeded");
        }
    }
}

#[test]
fn two_handles_appending_at_once_lose_no_rows() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    ArrayBuilder::new(vec![0, 3], vec![4, 3], dt("<i8"))
        .create(store.clone(), "log")
        .unwrap();
    const PER_THREAD: usize = 40;
    std::thread::scope(|scope| {
        for t in 0..2i64 {
            let store = store.clone();
            scope.spawn(move || {
                let mut handle = Array::open(store, "log").unwrap();
                for i in 0..PER_THREAD as i64 {
                    let row = Array2::from_elem((1, 3), t * 1000 + i);
                    handle.append(&row, 0).unwrap();
                }
            });
        }
    });
    let a = Array::open(store, "log").unwrap();
    assert_eq!(a.shape(), &[2 * PER_THREAD as u64, 3]);
    let all = a.read::<i64>(()).unwrap();
    let mut firsts: Vec<i64> = (0..2 * PER_THREAD).map(|r| all[[r, 0]]).collect();
    for r in 0..2 * PER_THREAD {
        assert!(all[[r, 1]] == all[[r, 0]] && all[[r, 2]] == all[[r, 0]]);
    }
    firsts.sort();
    let mut want: Vec<i64> = (0..2)
        .flat_map(|t| (0..PER_THREAD as i64).map(move |i| t * 1000 + i))
        .collect();
    want.sort();
    assert_eq!(firsts, want);
}

#[test]
fn consolidated_metadata_follows_creates_resizes_appends_and_attributes() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    consolidated_fixture(&store);
    let mut a = Array::open(store.clone(), "g/x").unwrap();
    a.resize(&[12, 4]).unwrap();
    assert_eq!(consolidated_shape(&store), json!([12, 4]));
    a.append(&Array2::<i32>::zeros((1, 4)), 0).unwrap();
    assert_eq!(consolidated_shape(&store), json!([13, 4]));
    let mut attrs = serde_json::Map::new();
    attrs.insert("units".into(), json!("m"));
    a.set_attributes(&attrs).unwrap();
    ArrayBuilder::new(vec![2], vec![2], dt("<f8"))
        .create(store.clone(), "h/k/y")
        .unwrap();
    Group::open(store.clone(), "g")
        .unwrap()
        .set_attributes(&attrs)
        .unwrap();
    let root = Group::open_consolidated(store.clone(), "").unwrap();
    assert_eq!(root.open_array("g/x").unwrap().shape(), &[13, 4]);
    assert_eq!(root.node_attributes("g/x").unwrap(), attrs);
    assert_eq!(root.node_attributes("g").unwrap(), attrs);
    assert_eq!(root.open_array("h/k/y").unwrap().shape(), &[2]);
    assert!(root.open_group("h/k").is_ok(), "the parents a create made");
    // Overwriting a group with an array drops the group's children from .zmetadata.
    ArrayBuilder::new(vec![1], vec![1], dt("<u1"))
        .overwrite(true)
        .create(store.clone(), "h")
        .unwrap();
    let root = Group::open_consolidated(store, "").unwrap();
    assert_eq!(
        root.walk()
            .unwrap()
            .iter()
            .map(|(p, _)| p.as_str().to_string())
            .collect::<Vec<_>>(),
        vec!["g", "g/x", "h"]
    );
}

#[test]
fn a_selection_resolved_for_another_shape_is_a_shape_mismatch() {
    use tessera_array::ArrayAccess;
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let a = ArrayBuilder::new(vec![4, 4], vec![2, 2], dt("<u1"))
        .create(store.clone(), "a")
        .unwrap();
    let sel = Selection::from_ranges(&[0..8, 0..8])
        .resolve(&[8, 8])
        .unwrap();
    let err = a.write_resolved(&sel, &[1u8; 64]).unwrap_err();
    assert!(
        matches!(&err, ArrayError::ShapeMismatch { expected, found } if expected == &[4, 4] && found == &[8, 8]),
        "{err:?}"
    );
    let mut out = [0u8; 64];
    assert!(matches!(
        a.read_into(&sel, &mut out),
        Err(ArrayError::ShapeMismatch { .. })
    ));
    assert_eq!(
        tessera_store::ListableStore::list_prefix(store.as_ref(), &StorePrefix::new("a/").unwrap())
            .unwrap()
            .len(),
        1,
        "nothing but .zarray written"
    );
}

/// Zero-length axes, 0-d arrays and chunks larger than the array through every library call.
#[test]
fn every_shape_through_every_call() {
    let cases: &[(&[u64], &[u64])] = &[
        (&[0], &[4]),
        (&[5, 0], &[2, 2]),
        (&[0, 5], &[2, 2]),
        (&[3, 0, 4], &[2, 1, 2]),
        (&[], &[]),
        (&[3], &[10]),
        (&[2, 3], &[5, 7]),
    ];
    for &(shape, chunks) in cases {
        let what = format!("shape {shape:?} chunks {chunks:?}");
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let mut a = ArrayBuilder::new(shape.to_vec(), chunks.to_vec(), dt("<i2"))
            .fill_value(json!(9))
            .create(store.clone(), "a")
            .unwrap();
        let dims: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
        let n: usize = dims.iter().product();
        let data = ArrayD::from_shape_vec(IxDyn(&dims), (0..n as i16).collect()).unwrap();
        a.write((), &data).unwrap();
        assert_eq!(a.read::<i16>(()).unwrap(), data, "{what}");
        assert_eq!(a.read_raw(()).unwrap().shape, shape, "{what}");
        let blocks: usize = a
            .blocks::<i16>(None)
            .unwrap()
            .map(|b| b.unwrap().1.len())
            .sum();
        assert_eq!(blocks, n, "{what}");
        a.fill(()).unwrap();
        assert!(a.read::<i16>(()).unwrap().iter().all(|&v| v == 9), "{what}");
        if shape.is_empty() {
            assert!(a.resize(&[]).is_ok(), "{what}");
            continue;
        }
        // Grow the first axis by appending, then shrink it back to zero and grow it again.
        let mut row_dims = dims.clone();
        row_dims[0] = 2;
        let rows = ArrayD::from_elem(IxDyn(&row_dims), 5i16);
        a.append(&rows, 0).unwrap();
        assert_eq!(a.shape()[0], shape[0] + 2, "{what}");
        let mut zero = shape.to_vec();
        zero[0] = 0;
        a.resize(&zero).unwrap();
        let mut back = shape.to_vec();
        back[0] = shape[0] + 2;
        a.resize(&back).unwrap();
        assert!(
            a.read::<i16>(()).unwrap().iter().all(|&v| v == 9),
            "{what}: stale rows"
        );
    }
}

/// What `ArrayBuilder::new`'s documentation promises is what it writes.
#[test]
fn builder_defaults_are_as_documented() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let a = ArrayBuilder::new(vec![4], vec![2], dt("<f8"))
        .create(store.clone(), "a")
        .unwrap();
    let doc: Value = serde_json::from_slice(
        &store
            .get(&StoreKey::new("a/.zarray").unwrap())
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(doc["compressor"], tessera_array::default_compressor());
    assert_eq!(
        doc["compressor"],
        json!({"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0})
    );
    assert_eq!(
        (&doc["filters"], &doc["fill_value"], &doc["order"]),
        (&Value::Null, &Value::Null, &json!("C"))
    );
    assert!(matches!(
        doc.get("dimension_separator"),
        None | Some(Value::String(_))
    ));
    assert_eq!(a.metadata().separator.as_char(), '.');
    assert!(a.attributes().unwrap().is_empty());
    // Null fill: an all-zero chunk is still stored.
    a.write(ndarray::s![0..2], &ndarray::Array1::<f64>::zeros(2))
        .unwrap();
    assert!(store.get(&StoreKey::new("a/0").unwrap()).unwrap().is_some());
    // No overwrite by default.
    assert!(matches!(
        ArrayBuilder::new(vec![4], vec![2], dt("<f8")).create(store, "a"),
        Err(ArrayError::AlreadyExists { .. })
    ));
}

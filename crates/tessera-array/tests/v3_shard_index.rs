//! A read of a sharded array fetches the indexes of every shard it touches, and then the inner
//! chunks they locate, in one batch (`get_many_dependent_ranges`, suffix ranges for indexes at the
//! end), never one request at a time.

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ndarray::Array2;
use tessera_array::{ArrayBuilder, DataType, Selection};
use tessera_store::{
    ByteRange, Bytes, DependentParts, ListableStore, MemoryStore, ReadableStore, StoreKey,
    StorePrefix, StoreResult, Update, WritableStore,
};

/// A memory store counting single ranged reads and batches of them.
#[derive(Debug, Default)]
struct Counting {
    inner: MemoryStore,
    single: AtomicUsize,
    batches: AtomicUsize,
    batched: AtomicUsize,
}

impl ReadableStore for Counting {
    fn get(&self, key: &StoreKey) -> StoreResult<Option<Bytes>> {
        self.inner.get(key)
    }
    fn get_range(&self, key: &StoreKey, range: ByteRange) -> StoreResult<Option<Bytes>> {
        self.single.fetch_add(1, Ordering::SeqCst);
        self.inner.get_range(key, range)
    }
    fn get_ranges(&self, key: &StoreKey, ranges: &[Range<u64>]) -> StoreResult<Option<Vec<Bytes>>> {
        self.inner.get_ranges(key, ranges)
    }
    fn get_many_dependent_ranges(
        &self,
        requests: &[(StoreKey, ByteRange)],
        then: &(dyn Fn(usize, &Bytes) -> Vec<Range<u64>> + Sync),
        on_result: &(dyn Fn(usize, StoreResult<Option<DependentParts>>) + Sync),
    ) {
        self.batches.fetch_add(1, Ordering::SeqCst);
        self.batched.fetch_add(requests.len(), Ordering::SeqCst);
        self.inner
            .get_many_dependent_ranges(requests, then, on_result);
    }
}
impl WritableStore for Counting {
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
impl ListableStore for Counting {
    fn list_prefix(&self, prefix: &StorePrefix) -> StoreResult<Vec<StoreKey>> {
        self.inner.list_prefix(prefix)
    }
    fn list_prefix_sizes(&self, prefix: &StorePrefix) -> StoreResult<Vec<(StoreKey, u64)>> {
        self.inner.list_prefix_sizes(prefix)
    }
}

#[test]
fn shard_indexes_and_inner_chunks_are_fetched_in_one_batch() {
    let store = Arc::new(Counting::default());
    let arr = ArrayBuilder::new(
        vec![8, 8],
        vec![2, 2],
        DataType::parse_typestr("<i4").unwrap(),
    )
    .zarr_format(3)
    .shards(vec![4, 4])
    .create(store.clone(), "a")
    .unwrap();
    let data = Array2::from_shape_fn((8, 8), |(i, j)| (i * 8 + j) as i32);
    arr.write((), &data).unwrap();
    let (single, batches) = (
        store.single.load(Ordering::SeqCst),
        store.batches.load(Ordering::SeqCst),
    );
    let got = arr.read::<i32>(()).unwrap();
    assert_eq!(got, data.into_dyn());
    assert_eq!(
        store.single.load(Ordering::SeqCst),
        single,
        "no one-by-one index reads"
    );
    assert_eq!(
        store.batches.load(Ordering::SeqCst),
        batches + 1,
        "one batch"
    );
    assert_eq!(
        store.batched.load(Ordering::SeqCst),
        4,
        "the four shards' indexes"
    );
}

#[test]
fn a_point_read_fetches_each_touched_shard_once() {
    let store = Arc::new(Counting::default());
    let arr = ArrayBuilder::new(
        vec![8, 8],
        vec![2, 2],
        DataType::parse_typestr("<i4").unwrap(),
    )
    .zarr_format(3)
    .shards(vec![4, 4])
    .create(store.clone(), "a")
    .unwrap();
    let data = Array2::from_shape_fn((8, 8), |(i, j)| (i * 8 + j) as i32);
    arr.write((), &data).unwrap();
    let (single, batches, batched) = (
        store.single.load(Ordering::SeqCst),
        store.batches.load(Ordering::SeqCst),
        store.batched.load(Ordering::SeqCst),
    );
    // Seven points in six inner chunks of three shards (top left, bottom right, bottom left).
    let rows = vec![0, 1, 3, 5, 7, 6, 4];
    let cols = vec![0, 3, 1, 6, 7, 2, 0];
    let got = arr
        .read::<i32>(Selection::points(vec![rows.clone(), cols.clone()]))
        .unwrap();
    let want: Vec<i32> = rows
        .iter()
        .zip(&cols)
        .map(|(r, c)| (r * 8 + c) as i32)
        .collect();
    assert_eq!(got.into_raw_vec_and_offset().0, want);
    assert_eq!(
        store.single.load(Ordering::SeqCst),
        single,
        "no one-by-one reads"
    );
    assert_eq!(
        store.batches.load(Ordering::SeqCst),
        batches + 1,
        "one batch"
    );
    assert_eq!(
        store.batched.load(Ordering::SeqCst),
        batched + 3,
        "each touched shard's index once"
    );
}

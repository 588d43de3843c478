//! Reads fetch in batches, never one request at a time: a read of a sharded array fetches the
//! indexes of every shard it touches, and then the inner chunks they locate, in one batch
//! (`get_many_dependent_ranges`, suffix ranges for indexes at the end); a row selection of
//! uncompressed chunks reads just the rows' byte ranges of every touched chunk in one batch
//! (`get_many_ranges`).

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ndarray::Array2;
use tessera_array::{ArrayBuilder, DataType, Selection};
use tessera_store::{
    ByteRange, Bytes, DependentParts, ListableStore, MemoryStore, RangeRequest, ReadableStore,
    StoreKey, StorePrefix, StoreResult, Update, WritableStore,
};

/// A memory store counting whole reads, single ranged reads and batches of them.
#[derive(Debug, Default)]
struct Counting {
    inner: MemoryStore,
    whole: AtomicUsize,
    single: AtomicUsize,
    batches: AtomicUsize,
    batched: AtomicUsize,
    ranged_batches: AtomicUsize,
    ranged_bytes: AtomicUsize,
    /// What it answers to `pipelined_request_bytes` (memory's `None` by default).
    pipelined: Option<u64>,
}

impl ReadableStore for Counting {
    fn get(&self, key: &StoreKey) -> StoreResult<Option<Bytes>> {
        self.whole.fetch_add(1, Ordering::SeqCst);
        self.inner.get(key)
    }
    fn get_range(&self, key: &StoreKey, range: ByteRange) -> StoreResult<Option<Bytes>> {
        self.single.fetch_add(1, Ordering::SeqCst);
        self.inner.get_range(key, range)
    }
    fn get_ranges(&self, key: &StoreKey, ranges: &[Range<u64>]) -> StoreResult<Option<Vec<Bytes>>> {
        self.inner.get_ranges(key, ranges)
    }
    fn get_many_ranges(
        &self,
        requests: &[RangeRequest],
        on_result: &(dyn Fn(usize, StoreResult<Option<Vec<Bytes>>>) + Sync),
    ) {
        self.ranged_batches.fetch_add(1, Ordering::SeqCst);
        let bytes = requests
            .iter()
            .flat_map(|(_, ranges)| ranges)
            .map(|r| (r.end - r.start) as usize)
            .sum::<usize>();
        self.ranged_bytes.fetch_add(bytes, Ordering::SeqCst);
        self.inner.get_many_ranges(requests, on_result);
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
    fn pipelined_request_bytes(&self) -> Option<u64> {
        self.pipelined
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

/// An 8x8 `<i4` array of 2x2 chunks in 4x4 shards, written whole with `i * 8 + j`, over `store`.
fn sharded_8x8(store: Counting) -> (Arc<Counting>, tessera_array::Array, Array2<i32>) {
    let store = Arc::new(store);
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
    (store, arr, data)
}

#[test]
fn shard_indexes_and_inner_chunks_are_fetched_in_one_batch() {
    let (store, arr, data) = sharded_8x8(Counting::default());
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
    let (store, arr, _) = sharded_8x8(Counting::default());
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

#[test]
fn a_row_list_of_uncompressed_chunks_reads_the_rows_in_one_batch() {
    let store = Arc::new(Counting::default());
    let arr = ArrayBuilder::new(
        vec![64, 64],
        vec![16, 16],
        DataType::parse_typestr("<u4").unwrap(),
    )
    .compressor(None)
    .create(store.clone(), "a")
    .unwrap();
    let data = Array2::from_shape_fn((64, 64), |(i, j)| (i * 64 + j) as u32);
    arr.write((), &data).unwrap();
    let whole = store.whole.load(Ordering::SeqCst);
    // Rows 3, 17, 40 and 41, in three chunk rows: 12 chunks, each read in one range.
    let rows = [41usize, 3, 17, 40];
    let got = arr.read::<u32>("[41, 3, 17, 40], :").unwrap();
    let want = Array2::from_shape_fn((4, 64), |(i, j)| (rows[i] * 64 + j) as u32);
    assert_eq!(got, want.into_dyn());
    assert_eq!(store.ranged_batches.load(Ordering::SeqCst), 1, "one batch");
    assert_eq!(
        store.ranged_bytes.load(Ordering::SeqCst),
        4 * 64 * 4,
        "only the rows' bytes"
    );
    assert_eq!(store.whole.load(Ordering::SeqCst), whole, "no whole chunk");
    // Missing chunks read as the fill value.
    arr.fill("16:32, :").unwrap();
    let got = arr.read::<u32>("[17, 3], ::-1").unwrap();
    let want = Array2::from_shape_fn(
        (2, 64),
        |(i, j)| if i == 0 { 0 } else { (3 * 64 + 63 - j) as u32 },
    );
    assert_eq!(got, want.into_dyn());
}

#[test]
fn a_store_that_pipelines_gets_each_shard_in_groups_of_chunks() {
    let (store, arr, data) = sharded_8x8(Counting {
        // Two 16-byte inner chunks per request.
        pipelined: Some(32),
        ..Counting::default()
    });
    // One inner chunk missing: it reads as the fill value within its group.
    arr.fill("0:2, 0:2").unwrap();
    let mut want = data.clone();
    want.slice_mut(ndarray::s![0..2, 0..2]).fill(0);
    let batches = store.batches.load(Ordering::SeqCst);
    let got = arr.read::<i32>(()).unwrap();
    assert_eq!(got, want.clone().into_dyn());
    assert_eq!(
        store.batches.load(Ordering::SeqCst),
        batches + 1,
        "one batch"
    );
    assert_eq!(
        store.batched.load(Ordering::SeqCst),
        8,
        "four shards of four inner chunks, in groups of two"
    );
    let got = arr
        .read::<i32>(Selection::points(vec![vec![7, 0, 5], vec![7, 1, 2]]))
        .unwrap();
    assert_eq!(got.into_raw_vec_and_offset().0, vec![63, 0, 42]);
}

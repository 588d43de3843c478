//! [`BoundedStore`]: a store wrapper that caps how many values a batch read holds at once.

use std::ops::Range;
use std::sync::Arc;

use tessera_store::{
    ByteRange, Bytes, DependentParts, ListableStore, RangeRequest, ReadableStore, Store, StoreKey,
    StorePrefix, StoreResult, Update, WritableStore,
};

/// Delegates to another store, but hands `get_many` at most `max_in_flight` keys at a time: a remote
/// store otherwise keeps dozens of fetched chunks in memory, which a small memory budget cannot
/// afford when chunks are large.
#[derive(Debug)]
pub struct BoundedStore {
    inner: Arc<dyn Store>,
    max_in_flight: usize,
}

impl BoundedStore {
    /// Wraps `inner`, holding at most `max_in_flight` (at least 1) values per batch.
    pub fn wrap(inner: Arc<dyn Store>, max_in_flight: usize) -> Arc<dyn Store> {
        Arc::new(BoundedStore {
            inner,
            max_in_flight: max_in_flight.max(1),
        })
    }
}

impl ReadableStore for BoundedStore {
    fn get(&self, key: &StoreKey) -> StoreResult<Option<Bytes>> {
        self.inner.get(key)
    }

    fn get_range(&self, key: &StoreKey, range: ByteRange) -> StoreResult<Option<Bytes>> {
        self.inner.get_range(key, range)
    }

    fn size(&self, key: &StoreKey) -> StoreResult<Option<u64>> {
        self.inner.size(key)
    }

    // Ranged reads go to the inner store as they are (the shared implementations would read whole
    // values); batches of them are capped like `get_many`.
    fn get_ranges(&self, key: &StoreKey, ranges: &[Range<u64>]) -> StoreResult<Option<Vec<Bytes>>> {
        self.inner.get_ranges(key, ranges)
    }

    fn get_many_ranges(
        &self,
        requests: &[RangeRequest],
        on_result: &(dyn Fn(usize, StoreResult<Option<Vec<Bytes>>>) + Sync),
    ) {
        for (batch, part) in requests.chunks(self.max_in_flight).enumerate() {
            let base = batch * self.max_in_flight;
            self.inner
                .get_many_ranges(part, &|i, result| on_result(base + i, result));
        }
    }

    fn get_many(
        &self,
        keys: &[StoreKey],
        on_result: &(dyn Fn(usize, StoreResult<Option<Bytes>>) + Sync),
    ) {
        for (batch, part) in keys.chunks(self.max_in_flight).enumerate() {
            let base = batch * self.max_in_flight;
            self.inner
                .get_many(part, &|i, result| on_result(base + i, result));
        }
    }

    fn get_many_dependent_ranges(
        &self,
        requests: &[(StoreKey, ByteRange)],
        then: &(dyn Fn(usize, &Bytes) -> Vec<Range<u64>> + Sync),
        on_result: &(dyn Fn(usize, StoreResult<Option<DependentParts>>) + Sync),
    ) {
        for (batch, part) in requests.chunks(self.max_in_flight).enumerate() {
            let base = batch * self.max_in_flight;
            self.inner.get_many_dependent_ranges(
                part,
                &|i, bytes| then(base + i, bytes),
                &|i, result| on_result(base + i, result),
            );
        }
    }

    fn get_many_byte_ranges(
        &self,
        requests: &[(StoreKey, ByteRange)],
        on_result: &(dyn Fn(usize, StoreResult<Option<Bytes>>) + Sync),
    ) {
        for (batch, part) in requests.chunks(self.max_in_flight).enumerate() {
            let base = batch * self.max_in_flight;
            self.inner
                .get_many_byte_ranges(part, &|i, result| on_result(base + i, result));
        }
    }

    fn concurrency(&self) -> usize {
        self.inner.concurrency().min(self.max_in_flight)
    }

    fn pipelined_request_bytes(&self) -> Option<u64> {
        self.inner.pipelined_request_bytes()
    }
}

impl WritableStore for BoundedStore {
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

    fn set_many(&self, items: Vec<(StoreKey, Bytes)>) -> StoreResult<()> {
        self.inner.set_many(items)
    }
}

impl ListableStore for BoundedStore {
    fn list_prefix(&self, prefix: &StorePrefix) -> StoreResult<Vec<StoreKey>> {
        self.inner.list_prefix(prefix)
    }

    fn list_dir(&self, prefix: &StorePrefix) -> StoreResult<(Vec<StoreKey>, Vec<StorePrefix>)> {
        self.inner.list_dir(prefix)
    }

    fn list_prefix_sizes(&self, prefix: &StorePrefix) -> StoreResult<Vec<(StoreKey, u64)>> {
        self.inner.list_prefix_sizes(prefix)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tessera_store::MemoryStore;

    use super::*;

    /// Counts whole-value reads and ranged reads reaching the inner store.
    #[derive(Debug, Default)]
    struct Counting {
        inner: MemoryStore,
        whole: AtomicUsize,
        ranged: AtomicUsize,
    }

    impl ReadableStore for Counting {
        fn get(&self, key: &StoreKey) -> StoreResult<Option<Bytes>> {
            self.whole.fetch_add(1, Ordering::SeqCst);
            self.inner.get(key)
        }
        fn get_ranges(
            &self,
            key: &StoreKey,
            ranges: &[Range<u64>],
        ) -> StoreResult<Option<Vec<Bytes>>> {
            self.ranged.fetch_add(1, Ordering::SeqCst);
            self.inner.get_ranges(key, ranges)
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
    fn ranged_reads_reach_the_inner_store_as_ranges() {
        let inner = Arc::new(Counting::default());
        let keys: Vec<StoreKey> = (0..5)
            .map(|i| StoreKey::new(format!("v{i}")).unwrap())
            .collect();
        for (i, k) in keys.iter().enumerate() {
            inner.set(k, Bytes::from(vec![i as u8; 100])).unwrap();
        }
        let bounded = BoundedStore::wrap(inner.clone(), 2);
        let got = bounded.get_ranges(&keys[1], &[3..5, 90..100]).unwrap();
        assert_eq!(
            got.unwrap().iter().map(Bytes::len).collect::<Vec<_>>(),
            [2, 10]
        );
        let requests: Vec<RangeRequest> = keys
            .iter()
            .map(|k| (k.clone(), vec![10..12, 20..21]))
            .collect();
        let seen = Mutex::new(vec![None; keys.len()]);
        bounded.get_many_ranges(&requests, &|i, r| {
            seen.lock().unwrap()[i] = Some(r.unwrap().unwrap().concat());
        });
        let seen = seen.into_inner().unwrap();
        for (i, v) in seen.iter().enumerate() {
            assert_eq!(v.as_deref(), Some(&[i as u8; 3][..]), "request {i}");
        }
        assert_eq!(
            inner.whole.load(Ordering::SeqCst),
            0,
            "no whole-value reads"
        );
        assert_eq!(inner.ranged.load(Ordering::SeqCst), 1 + keys.len());
    }
}

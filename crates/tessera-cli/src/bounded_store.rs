//! [`BoundedStore`]: a store wrapper that caps how many values a batch read holds at once.

use std::sync::Arc;

use tessera_store::{
    ByteRange, Bytes, ListableStore, ReadableStore, Store, StoreKey, StorePrefix, StoreResult,
    Update, WritableStore,
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

    fn concurrency(&self) -> usize {
        self.inner.concurrency().min(self.max_in_flight)
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

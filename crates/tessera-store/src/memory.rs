//! A store held in memory.

use std::collections::{BTreeMap, HashSet};
use std::ops::Bound;
use std::sync::{Condvar, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use bytes::Bytes;
use rayon::prelude::*;

use crate::error::StoreResult;
use crate::key::{StoreKey, StorePrefix};
use crate::range::ByteRange;
use crate::traits::{
    DependentParts, ListableStore, ReadableStore, Update, WritableStore, dependent_from_whole,
};

/// A store that keeps its values in memory, sorted by key; for tests and scratch arrays.
///
/// Every operation is atomic: readers see a value before or after a `set`, never during. Reads
/// share the values without copying them ([`Bytes`] is reference-counted).
/// [`update`](WritableStore::update), `set` and `erase` of one key hold a lock of that key alone, so
/// a read-modify-write loses no other thread's write, while readers and writers of other keys carry
/// on (an update's `modify` may itself write other keys).
///
/// ```
/// use tessera_store::{MemoryStore, ReadableStore, StoreKey, WritableStore};
/// let store = MemoryStore::new();
/// let key = StoreKey::new("a/0.0").unwrap();
/// store.set(&key, "chunk".into()).unwrap();
/// assert_eq!(store.get(&key).unwrap().unwrap(), "chunk");
/// ```
#[derive(Debug, Default)]
pub struct MemoryStore {
    values: RwLock<BTreeMap<StoreKey, Bytes>>,
    /// The keys whose lock is held, and a signal when one is released.
    locked: Mutex<HashSet<StoreKey>>,
    released: Condvar,
}

/// The lock of one key of a [`MemoryStore`], released on drop (also when unwinding).
struct KeyLock<'a> {
    store: &'a MemoryStore,
    key: StoreKey,
}

impl Drop for KeyLock<'_> {
    fn drop(&mut self) {
        let mut locked = self.store.locked.lock().unwrap_or_else(|p| p.into_inner());
        locked.remove(&self.key);
        self.store.released.notify_all();
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStore::default()
    }

    /// How many values the store holds.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// Whether the store holds no value.
    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    // A panic while holding the lock cannot leave the map half-updated (every update is a
    // single map operation), so a poisoned lock is still consistent.
    fn read(&self) -> RwLockReadGuard<'_, BTreeMap<StoreKey, Bytes>> {
        self.values.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, BTreeMap<StoreKey, Bytes>> {
        self.values.write().unwrap_or_else(|p| p.into_inner())
    }

    /// The lock serialising `update`, `set` and `erase` of `key` (of that key only: keys never
    /// share a lock, so an update's `modify` may write other keys). A panic in an update's `modify`
    /// releases it before anything was written: the value is still consistent.
    fn lock_key(&self, key: &StoreKey) -> KeyLock<'_> {
        let mut locked = self.locked.lock().unwrap_or_else(|p| p.into_inner());
        while locked.contains(key) {
            locked = self
                .released
                .wait(locked)
                .unwrap_or_else(|p| p.into_inner());
        }
        locked.insert(key.clone());
        KeyLock {
            store: self,
            key: key.clone(),
        }
    }

    fn under<'a>(
        map: &'a BTreeMap<StoreKey, Bytes>,
        prefix: &'a StorePrefix,
    ) -> impl Iterator<Item = (&'a StoreKey, &'a Bytes)> + 'a {
        // Keys sort as strings, so everything under a prefix is one contiguous run.
        map.range::<str, _>((Bound::Included(prefix.as_str()), Bound::Unbounded))
            .take_while(move |(k, _)| prefix.contains(k))
    }
}

impl ReadableStore for MemoryStore {
    fn get(&self, key: &StoreKey) -> StoreResult<Option<Bytes>> {
        Ok(self.read().get(key).cloned())
    }

    fn get_range(&self, key: &StoreKey, range: ByteRange) -> StoreResult<Option<Bytes>> {
        let Some(value) = self.get(key)? else {
            return Ok(None);
        };
        let r = range
            .resolve(value.len() as u64)
            .map_err(|e| e.with_key(key.as_str()))?;
        Ok(Some(value.slice(r.start as usize..r.end as usize)))
    }

    fn size(&self, key: &StoreKey) -> StoreResult<Option<u64>> {
        Ok(self.read().get(key).map(|v| v.len() as u64))
    }

    fn get_many_dependent_ranges(
        &self,
        requests: &[(StoreKey, ByteRange)],
        then: &(dyn Fn(usize, &Bytes) -> Vec<std::ops::Range<u64>> + Sync),
        on_result: &(dyn Fn(usize, StoreResult<Option<DependentParts>>) + Sync),
    ) {
        // One snapshot of each value (a reference-counted handle, no copy) serves both reads.
        requests
            .par_iter()
            .enumerate()
            .for_each(|(index, (key, first))| {
                let read = self.get(key).and_then(|value| {
                    dependent_from_whole(value, key, *first, &|head| then(index, head))
                });
                on_result(index, read);
            });
    }
}

impl WritableStore for MemoryStore {
    fn set(&self, key: &StoreKey, value: Bytes) -> StoreResult<()> {
        let _lock = self.lock_key(key);
        self.write().insert(key.clone(), value);
        Ok(())
    }

    fn erase(&self, key: &StoreKey) -> StoreResult<()> {
        let _lock = self.lock_key(key);
        self.write().remove(key);
        Ok(())
    }

    fn update(
        &self,
        key: &StoreKey,
        modify: &mut dyn FnMut(Option<Bytes>) -> Update,
    ) -> StoreResult<()> {
        let _lock = self.lock_key(key);
        let current = self.read().get(key).cloned();
        match modify(current) {
            Update::Keep => {}
            Update::Set(value) => {
                self.write().insert(key.clone(), value);
            }
            Update::Erase { .. } => {
                self.write().remove(key);
            }
        }
        Ok(())
    }

    fn erase_prefix(&self, prefix: &StorePrefix) -> StoreResult<()> {
        self.write().retain(|k, _| !prefix.contains(k));
        Ok(())
    }

    fn set_many(&self, items: Vec<(StoreKey, Bytes)>) -> StoreResult<()> {
        for (key, value) in items {
            self.set(&key, value)?;
        }
        Ok(())
    }
}

impl ListableStore for MemoryStore {
    fn list_prefix(&self, prefix: &StorePrefix) -> StoreResult<Vec<StoreKey>> {
        Ok(Self::under(&self.read(), prefix)
            .map(|(k, _)| k.clone())
            .collect())
    }

    fn list_prefix_sizes(&self, prefix: &StorePrefix) -> StoreResult<Vec<(StoreKey, u64)>> {
        Ok(Self::under(&self.read(), prefix)
            .map(|(k, v)| (k.clone(), v.len() as u64))
            .collect())
    }
}

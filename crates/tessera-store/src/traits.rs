//! The capability traits every backend implements: read, write, list.

use std::fmt;
use std::ops::Range;
use std::sync::Mutex;

use bytes::Bytes;
use rayon::prelude::*;

use crate::error::{StoreError, StoreErrorKind, StoreResult};
use crate::key::{StoreKey, StorePrefix};
use crate::range::{ByteRange, check_ranges};

/// One key of a ranged batch read ([`ReadableStore::get_many_ranges`]) and the byte ranges wanted from
/// its value.
pub type RangeRequest = (StoreKey, Vec<Range<u64>>);

/// What [`ReadableStore::get_many_dependent_ranges`] returns for one value: the first range's
/// bytes and the parts it named, in the order named.
pub type DependentParts = (Bytes, Vec<Bytes>);

/// How often [`ReadableStore::get_many_dependent_ranges`]' shared implementation reads again a
/// value that changed between its reads, before it reads the value whole.
const DEPENDENT_READ_ATTEMPTS: u32 = 3;

/// The first range of `value` (the whole value under `key`, if any) and the parts `then` names
/// from it, sliced out of it: one version by construction.
pub(crate) fn dependent_from_whole(
    value: Option<Bytes>,
    key: &StoreKey,
    first: ByteRange,
    then: &dyn Fn(&Bytes) -> Vec<Range<u64>>,
) -> StoreResult<Option<DependentParts>> {
    value
        .map(|value| slice_dependent(&value, first, then).map_err(|e| e.with_key(key.as_str())))
        .transpose()
}

fn slice_dependent(
    value: &Bytes,
    first: ByteRange,
    then: &dyn Fn(&Bytes) -> Vec<Range<u64>>,
) -> StoreResult<DependentParts> {
    let len = value.len() as u64;
    let r = first.resolve(len)?;
    let head = value.slice(r.start as usize..r.end as usize);
    let ranges = then(&head);
    check_ranges(&ranges, len)?;
    let parts = ranges
        .iter()
        .map(|r| value.slice(r.start as usize..r.end as usize))
        .collect();
    Ok((head, parts))
}

/// Reading values by key.
///
/// A backend must implement [`get`](Self::get); the other methods have shared implementations
/// that backends override when they can do better (a ranged read from disk, a remote batch with
/// many requests in flight).
pub trait ReadableStore: Send + Sync + fmt::Debug {
    /// The value stored under `key`, or `Ok(None)` when there is none.
    ///
    /// # Errors
    /// The value exists but cannot be read: [`PermissionDenied`](crate::StoreErrorKind::PermissionDenied),
    /// [`Io`](crate::StoreErrorKind::Io), [`Remote`](crate::StoreErrorKind::Remote).
    fn get(&self, key: &StoreKey) -> StoreResult<Option<Bytes>>;

    /// Part of the value under `key`, or `Ok(None)` when there is no value.
    ///
    /// # Errors
    /// [`InvalidRange`](crate::StoreErrorKind::InvalidRange) when `range` does not lie within the
    /// value (see [`ByteRange`]); otherwise as [`get`](Self::get).
    fn get_range(&self, key: &StoreKey, range: ByteRange) -> StoreResult<Option<Bytes>> {
        let Some(value) = self.get(key)? else {
            return Ok(None);
        };
        let r = range
            .resolve(value.len() as u64)
            .map_err(|e| e.with_key(key.as_str()))?;
        Ok(Some(value.slice(r.start as usize..r.end as usize)))
    }

    /// Several parts of the value under `key`, one `Bytes` per range in the order given, or
    /// `Ok(None)` when there is no value. Ranges may overlap and come in any order.
    ///
    /// This is how an uncompressed chunk is read in part: a slab across a large chunk needs a few
    /// kilobytes of it, not the whole file. Backends read the ranges with one open file (local)
    /// or with coalesced range requests (object stores).
    ///
    /// # Errors
    /// [`InvalidRange`](crate::StoreErrorKind::InvalidRange) when a range does not lie within the
    /// value; otherwise as [`get`](Self::get).
    fn get_ranges(&self, key: &StoreKey, ranges: &[Range<u64>]) -> StoreResult<Option<Vec<Bytes>>> {
        let Some(value) = self.get(key)? else {
            return Ok(None);
        };
        check_ranges(ranges, value.len() as u64).map_err(|e| e.with_key(key.as_str()))?;
        Ok(Some(
            ranges
                .iter()
                .map(|r| value.slice(r.start as usize..r.end as usize))
                .collect(),
        ))
    }

    /// The size in bytes of the value under `key`, or `Ok(None)` when there is none.
    ///
    /// # Errors
    /// As [`get`](Self::get).
    fn size(&self, key: &StoreKey) -> StoreResult<Option<u64>> {
        Ok(self.get(key)?.map(|v| v.len() as u64))
    }

    /// Reads every key in `keys`, calling `on_result(index_in_keys, result)` once per key as each
    /// result arrives, in no particular order.
    ///
    /// `on_result` is called from several threads at once (it is where the caller decodes, so
    /// running it in parallel is the point). Up to [`concurrency`](Self::concurrency) reads are
    /// in flight at a time. Returns once every callback has returned. A panic in `on_result` is
    /// propagated after the callbacks already running have finished.
    ///
    /// It may be called from inside a rayon worker, and `on_result` may itself use rayon.
    ///
    /// The shared implementation reads and calls back inside rayon's pool, in at most
    /// `concurrency()` parallel runs of keys: for local storage the read and the caller's
    /// decoding run together.
    fn get_many(
        &self,
        keys: &[StoreKey],
        on_result: &(dyn Fn(usize, StoreResult<Option<Bytes>>) + Sync),
    ) {
        let min_len = keys.len().div_ceil(self.concurrency().max(1)).max(1);
        keys.par_iter()
            .enumerate()
            .with_min_len(min_len)
            .for_each(|(index, key)| on_result(index, self.get(key)));
    }

    /// [`get_ranges`](Self::get_ranges) for many keys: reads `requests[i].1` of the value under
    /// `requests[i].0` and calls `on_result(i, result)` as each result arrives, with the same
    /// contract as [`get_many`](Self::get_many) (parallel callbacks, bounded reads in flight).
    fn get_many_ranges(
        &self,
        requests: &[RangeRequest],
        on_result: &(dyn Fn(usize, StoreResult<Option<Vec<Bytes>>>) + Sync),
    ) {
        let min_len = requests.len().div_ceil(self.concurrency().max(1)).max(1);
        requests
            .par_iter()
            .enumerate()
            .with_min_len(min_len)
            .for_each(|(index, (key, ranges))| on_result(index, self.get_ranges(key, ranges)));
    }

    /// [`get_range`](Self::get_range) for many keys (one [`ByteRange`] each, suffixes included:
    /// a shard index at the end of each of many shards), with the same contract as
    /// [`get_many`](Self::get_many). The shared implementation calls `get_range` from rayon's
    /// pool; remote stores keep the requests in flight together.
    fn get_many_byte_ranges(
        &self,
        requests: &[(StoreKey, ByteRange)],
        on_result: &(dyn Fn(usize, StoreResult<Option<Bytes>>) + Sync),
    ) {
        let min_len = requests.len().div_ceil(self.concurrency().max(1)).max(1);
        requests
            .par_iter()
            .enumerate()
            .with_min_len(min_len)
            .for_each(|(index, (key, range))| on_result(index, self.get_range(key, *range)));
    }

    /// Reads one range of each value and then, from the same version of that value, the ranges
    /// the first one names: how a shard's index and then the inner chunks it locates are read,
    /// so that a shard replaced between the two reads is never decoded with the other version's
    /// index.
    ///
    /// For `requests[i] = (key, first)`: reads `first`, calls `then(i, &first_bytes)` for the
    /// absolute ranges to read next (none is fine), reads them, and calls
    /// `on_result(i, Ok(Some((first_bytes, parts))))`, `Ok(None)` when there is no value. When
    /// the value is replaced between the reads, both are repeated (so `then` may run more than
    /// once for one request; `on_result` runs once). Same contract as [`get_many`](Self::get_many)
    /// otherwise: parallel callbacks, bounded reads in flight.
    ///
    /// The shared implementation reads the first range, the ranges it names, then the first range
    /// again, and repeats when that changed: a check by content, for wrappers and backends
    /// without versions (it misses a value replaced and changed back in between). Memory slices
    /// one snapshot of the value; the filesystem reads both through one open file (a replaced
    /// file keeps its old contents for readers that have it open); object stores compare the
    /// ETags of the two reads and repeat on a mismatch. A value that keeps changing between the
    /// reads is read whole after a few rounds (one read, one version), so a reader always gets
    /// through.
    ///
    /// # Errors (through `on_result`)
    /// [`InvalidRange`](crate::StoreErrorKind::InvalidRange) when a range does not lie within the
    /// value; otherwise as [`get`](Self::get).
    fn get_many_dependent_ranges(
        &self,
        requests: &[(StoreKey, ByteRange)],
        then: &(dyn Fn(usize, &Bytes) -> Vec<Range<u64>> + Sync),
        on_result: &(dyn Fn(usize, StoreResult<Option<DependentParts>>) + Sync),
    ) {
        let min_len = requests.len().div_ceil(self.concurrency().max(1)).max(1);
        requests
            .par_iter()
            .enumerate()
            .with_min_len(min_len)
            .for_each(|(index, (key, first))| {
                let read = || -> StoreResult<Option<DependentParts>> {
                    for _ in 0..DEPENDENT_READ_ATTEMPTS {
                        let Some(head) = self.get_range(key, *first)? else {
                            return Ok(None);
                        };
                        let ranges = then(index, &head);
                        let parts = match self.get_ranges(key, &ranges) {
                            Ok(Some(parts)) => parts,
                            // Removed, or shrunk under ranges the old version held (or the ranges
                            // are wrong, which the final whole read tells): look again.
                            Ok(None) => continue,
                            Err(e) if e.kind() == StoreErrorKind::InvalidRange => continue,
                            Err(e) => return Err(e),
                        };
                        if ranges.is_empty() || self.get_range(key, *first)?.as_ref() == Some(&head)
                        {
                            return Ok(Some((head, parts)));
                        }
                    }
                    // Changing faster than the reads: the whole value is one version.
                    dependent_from_whole(self.get(key)?, key, *first, &|head| then(index, head))
                };
                on_result(index, read());
            });
    }

    /// How many reads [`get_many`](Self::get_many) keeps in flight at most.
    fn concurrency(&self) -> usize {
        rayon::current_num_threads()
    }

    /// The request size, in bytes, that this store's batches pipeline best, when splitting a large
    /// read pays: a reader that can cut one (a shard's inner chunks) into requests of about this
    /// size lets the store fetch the next while the last one decodes. `None` (the default) when
    /// every request costs a round trip, so fewer, larger requests are better (object stores), or
    /// there is nothing to overlap (memory).
    fn pipelined_request_bytes(&self) -> Option<u64> {
        None
    }
}

/// What [`WritableStore::update`] does with a key, decided from the value it found there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update {
    /// Leave the value as it is; nothing is written.
    Keep,
    /// Store this value.
    Set(Bytes),
    /// Remove the value.
    ///
    /// Object stores have no conditional delete (in `object_store`): there, `fallback`, when given,
    /// is stored with a conditional put instead, so the update stays atomic; give a value that your
    /// readers treat as no value (an encoded chunk of fill values, for an array). Without a
    /// fallback an object store deletes unconditionally, and a concurrent update of the same key may
    /// be lost. The filesystem and memory stores always remove the value and ignore `fallback`.
    Erase {
        /// What an object store stores instead of deleting (see above).
        fallback: Option<Bytes>,
    },
}

/// Writing and erasing values.
///
/// Concurrency contract: writes to different keys may run in parallel from any number of threads.
/// Each [`set`](Self::set) replaces a value atomically where the backend allows it (the
/// filesystem store and the memory store always do; object stores do per request): a reader sees
/// the old value or the new one, never a mixture. Read-modify-write cycles of one key go through
/// [`update`](Self::update), which no other `update`, `set` or `erase` of that key can interleave
/// with (see there for what that costs on each backend).
pub trait WritableStore: ReadableStore {
    /// Stores `value` under `key`, replacing any value there.
    ///
    /// # Errors
    /// [`PermissionDenied`](crate::StoreErrorKind::PermissionDenied),
    /// [`Io`](crate::StoreErrorKind::Io), [`Remote`](crate::StoreErrorKind::Remote),
    /// [`NotSupported`](crate::StoreErrorKind::NotSupported) for read-only backends.
    fn set(&self, key: &StoreKey, value: Bytes) -> StoreResult<()>;

    /// Removes the value under `key`; a missing key is not an error.
    ///
    /// # Errors
    /// As [`set`](Self::set).
    fn erase(&self, key: &StoreKey) -> StoreResult<()>;

    /// Removes every value under `prefix` (at any depth); the root prefix empties the store.
    ///
    /// # Errors
    /// As [`set`](Self::set).
    fn erase_prefix(&self, prefix: &StorePrefix) -> StoreResult<()>;

    /// Reads the value under `key` (`None` when there is none), hands it to `modify`, and applies the
    /// [`Update`] it returns, so that no other `update`, [`set`](Self::set) or
    /// [`erase`](Self::erase) of the same key, from this process or another one (another machine,
    /// for object stores), lands between the read and the write: no update is ever lost.
    ///
    /// - [`FilesystemStore`](crate::FilesystemStore): under an advisory lock of the key (`flock` on
    ///   a hidden lock file next to the value, removed on release), which `set` and `erase` take
    ///   too. Programs that do not take it (zarr-python) are not excluded.
    /// - [`MemoryStore`](crate::MemoryStore): under a lock of the key.
    /// - [`ObjectStoreBackend`](crate::ObjectStoreBackend): optimistically, with a conditional put
    ///   (`If-Match` the version read, `If-None-Match: *` when there was none); when another writer
    ///   got in first, the read and `modify` are repeated after a pause, a bounded number of times.
    ///
    /// `modify` may therefore run more than once; only its last result is applied. It must not
    /// write to this store itself. A caller whose `modify` can fail keeps its error aside and
    /// returns [`Update::Keep`].
    ///
    /// Required, with no shared implementation: a store that wraps another must decide how to
    /// forward it, rather than silently degrading it to a read followed by a blind write.
    ///
    /// # Errors
    /// As [`get`](ReadableStore::get) and [`set`](Self::set);
    /// [`Timeout`](crate::StoreErrorKind::Timeout) when the key stayed locked, or kept changing,
    /// beyond the store's limits; [`NotSupported`](crate::StoreErrorKind::NotSupported) for stores
    /// without conditional writes (plain HTTP).
    fn update(
        &self,
        key: &StoreKey,
        modify: &mut dyn FnMut(Option<Bytes>) -> Update,
    ) -> StoreResult<()>;

    /// Stores many values, with several writes in flight at once.
    ///
    /// Every item is attempted; the first error met is returned. The shared implementation
    /// writes from rayon's pool.
    ///
    /// # Errors
    /// As [`set`](Self::set).
    fn set_many(&self, items: Vec<(StoreKey, Bytes)>) -> StoreResult<()> {
        let first_error = Mutex::new(None);
        items.into_par_iter().for_each(|(key, value)| {
            if let Err(err) = self.set(&key, value) {
                first_error
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .get_or_insert(err);
            }
        });
        match first_error
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
        {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }
}

/// Listing keys.
pub trait ListableStore: Send + Sync {
    /// Every key under `prefix`, at any depth, sorted.
    ///
    /// # Errors
    /// [`PermissionDenied`](crate::StoreErrorKind::PermissionDenied),
    /// [`Io`](crate::StoreErrorKind::Io), [`Remote`](crate::StoreErrorKind::Remote).
    fn list_prefix(&self, prefix: &StorePrefix) -> StoreResult<Vec<StoreKey>>;

    /// The direct children of `prefix`: the keys right under it and the prefixes one level
    /// down that hold keys, each sorted. The shared implementation derives them from
    /// [`list_prefix`](Self::list_prefix).
    ///
    /// # Errors
    /// As [`list_prefix`](Self::list_prefix).
    fn list_dir(&self, prefix: &StorePrefix) -> StoreResult<(Vec<StoreKey>, Vec<StorePrefix>)> {
        let mut keys = Vec::new();
        let mut prefixes: Vec<StorePrefix> = Vec::new();
        for key in self.list_prefix(prefix)? {
            let rest = &key.as_str()[prefix.as_str().len()..];
            match rest.find('/') {
                None => keys.push(key),
                Some(i) => {
                    let child = &key.as_str()[..=i + prefix.as_str().len()];
                    if prefixes.last().is_none_or(|p| p.as_str() != child) {
                        prefixes.push(StorePrefix::new(child)?);
                    }
                }
            }
        }
        prefixes.dedup();
        Ok((keys, prefixes))
    }

    /// Every key under `prefix` with the size of its stored value in bytes, sorted by key.
    ///
    /// # Errors
    /// As [`list_prefix`](Self::list_prefix).
    fn list_prefix_sizes(&self, prefix: &StorePrefix) -> StoreResult<Vec<(StoreKey, u64)>>;
}

/// A store that can read, write and list: what arrays and groups are opened on.
pub trait Store: WritableStore + ListableStore {}

impl<T: WritableStore + ListableStore + ?Sized> Store for T {}

/// Conveniences for every [`ReadableStore`], built on its required methods.
pub trait ReadableStoreExt: ReadableStore {
    /// Whether a value is stored under `key`.
    ///
    /// # Errors
    /// As [`ReadableStore::size`].
    fn exists(&self, key: &StoreKey) -> StoreResult<bool> {
        Ok(self.size(key)?.is_some())
    }

    /// [`get_many`](ReadableStore::get_many), collecting the results in the order of `keys`.
    fn get_many_vec(&self, keys: &[StoreKey]) -> Vec<StoreResult<Option<Bytes>>> {
        let slots: Vec<Mutex<Option<StoreResult<Option<Bytes>>>>> =
            keys.iter().map(|_| Mutex::new(None)).collect();
        self.get_many(keys, &|index, result| {
            *slots[index]
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(result);
        });
        slots
            .into_iter()
            .map(|slot| {
                slot.into_inner()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .unwrap_or_else(|| {
                        Err(StoreError::new(
                            StoreErrorKind::Io,
                            "the store delivered no result for this key",
                        ))
                    })
            })
            .collect()
    }
}

impl<T: ReadableStore + ?Sized> ReadableStoreExt for T {}

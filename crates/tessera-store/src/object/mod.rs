//! The adapter over `object_store`: S3, GCS, HTTP(S) and any other [`ObjectStore`].

mod batch;
mod credentials;
mod fetch;
mod options;
mod put;
mod runtime;
mod update;
mod url;

use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};

use self::fetch::{fetch, fetch_range, fetch_ranges, remote_error};
pub use self::options::RemoteOptions;
use self::runtime::block_on;
pub use self::runtime::install_crypto_provider;
pub(crate) use self::url::remote;
use crate::error::StoreResult;
use crate::key::{StoreKey, StorePrefix};
use crate::range::ByteRange;
use crate::traits::{ListableStore, ReadableStore, Update, WritableStore};

/// How many requests an [`ObjectStoreBackend`] keeps in flight by default.
pub const DEFAULT_REMOTE_CONCURRENCY: usize = 64;

/// Values larger than this (64 MiB) are uploaded by [`ObjectStoreBackend`] as multipart uploads, in
/// parts of 16 MiB with up to four in flight. ([`update`](WritableStore::update) writes in one
/// conditional PUT whatever the size: conditional multipart uploads are not portable.)
pub const MULTIPART_THRESHOLD: usize = 64 << 20;

/// How many times an [`ObjectStoreBackend`]'s [`update`](WritableStore::update) reads and writes
/// back a value other writers keep changing, by default, before it gives up. The pauses between
/// attempts start at 5 ms and double, with jitter, up to 0.5 s: about 20 s in all.
pub const DEFAULT_UPDATE_ATTEMPTS: u32 = 50;

/// A [`Store`](crate::Store) over any [`object_store::ObjectStore`]: S3, GCS, HTTP(S), or a
/// wrapper such as `object_store::throttle::ThrottledStore`, with every key under a prefix path.
///
/// Callers stay synchronous: requests run on an internal tokio runtime (one per process, shared
/// by every backend, two to four I/O threads) and each method blocks until its requests are done.
/// Do not call these methods from inside an async task; use `spawn_blocking` there.
///
/// [`get_many`](ReadableStore::get_many) keeps up to [`concurrency`](ReadableStore::concurrency)
/// GETs in flight (default [`DEFAULT_REMOTE_CONCURRENCY`]); each result is handed to rayon's pool
/// as it arrives, so decoding overlaps fetching. Memory stays bounded: a fetch starts only while
/// fewer than `concurrency` plus twice rayon's thread count values are fetched or awaiting
/// their callback.
///
/// Errors keep `object_store`'s error as their source and its kind: not found, permission
/// denied (including unauthenticated), precondition, already exists, not supported; everything
/// else is [`StoreErrorKind::Remote`](crate::StoreErrorKind::Remote).
///
/// Opening one from a URL: see [`open_store`](crate::open_store). Building the inner store
/// yourself: call [`install_crypto_provider`] first (the HTTP client needs a TLS provider).
#[derive(Debug, Clone)]
pub struct ObjectStoreBackend {
    store: Arc<dyn ObjectStore>,
    root: Path,
    concurrency: usize,
    update_attempts: u32,
}

impl ObjectStoreBackend {
    /// A backend storing every key under `root` in `store` (`Path::default()` for the top).
    pub fn new(store: Arc<dyn ObjectStore>, root: Path) -> Self {
        ObjectStoreBackend {
            store,
            root,
            concurrency: DEFAULT_REMOTE_CONCURRENCY,
            update_attempts: DEFAULT_UPDATE_ATTEMPTS,
        }
    }

    /// Sets how many times [`update`](WritableStore::update) tries before it gives up with
    /// [`Timeout`](crate::StoreErrorKind::Timeout) (at least 1; default
    /// [`DEFAULT_UPDATE_ATTEMPTS`]).
    pub fn with_update_attempts(mut self, attempts: u32) -> Self {
        self.update_attempts = attempts.max(1);
        self
    }

    /// Sets how many requests `get_many`, `set_many` and `erase_prefix` keep in flight.
    pub fn with_concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// The wrapped store.
    pub fn inner(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// The path in the wrapped store under which every key lies.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The object path of a key (or prefix) under the root, its characters as they are: a key
    /// `a~b` is the object `a~b`, as other tools name it, not a percent-encoded `a%7Eb`.
    fn path_of(&self, key: &str) -> Path {
        let key = key.trim_end_matches('/');
        let joined = match (self.root.as_ref(), key) {
            (root, "") => root.to_owned(),
            ("", key) => key.to_owned(),
            (root, key) => format!("{root}/{key}"),
        };
        // `StoreKey` refuses everything `Path::parse` refuses (empty, `.`, `..` segments and
        // control characters), so the fallback, which percent-encodes, is never taken.
        Path::parse(&joined).unwrap_or_else(|_| {
            key.split('/')
                .filter(|s| !s.is_empty())
                .fold(self.root.clone(), |path, segment| path.join(segment))
        })
    }

    fn prefix_path(&self, prefix: &StorePrefix) -> Path {
        self.path_of(prefix.as_str())
    }

    /// The key of a listed location, or `None` for one that is no valid key.
    fn key_of(&self, location: &Path) -> Option<StoreKey> {
        let parts: Vec<String> = location
            .prefix_match(&self.root)?
            .map(|part| part.as_ref().to_owned())
            .collect();
        StoreKey::new(parts.join("/")).ok()
    }

    /// Deletes the object of `key`; a missing one is not an error.
    fn delete(&self, key: &StoreKey) -> StoreResult<()> {
        let store = Arc::clone(&self.store);
        let path = self.path_of(key.as_str());
        match block_on(async move { store.delete(&path).await })? {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(remote_error(e, key.as_str(), "erasing the value")),
        }
    }

    fn list_meta(&self, prefix: &StorePrefix) -> StoreResult<Vec<object_store::ObjectMeta>> {
        let store = Arc::clone(&self.store);
        let path = self.prefix_path(prefix);
        let listed = block_on(async move {
            let prefix = (!path.as_ref().is_empty()).then_some(&path);
            store.list(prefix).try_collect::<Vec<_>>().await
        })?;
        listed.map_err(|e| remote_error(e, prefix.as_str(), "listing keys"))
    }
}

impl ReadableStore for ObjectStoreBackend {
    fn get(&self, key: &StoreKey) -> StoreResult<Option<Bytes>> {
        let store = Arc::clone(&self.store);
        let path = self.path_of(key.as_str());
        block_on(async move { fetch(&*store, &path).await })?
            .map_err(|e| remote_error(e, key.as_str(), "reading the value"))
    }

    fn get_range(&self, key: &StoreKey, range: ByteRange) -> StoreResult<Option<Bytes>> {
        let store = Arc::clone(&self.store);
        let path = self.path_of(key.as_str());
        block_on(fetch_range(store, path, range, key.as_str().to_owned()))?
    }

    fn size(&self, key: &StoreKey) -> StoreResult<Option<u64>> {
        let store = Arc::clone(&self.store);
        let path = self.path_of(key.as_str());
        match block_on(async move { store.head(&path).await })? {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(remote_error(e, key.as_str(), "reading the value's size")),
        }
    }

    fn get_many(
        &self,
        keys: &[StoreKey],
        on_result: &(dyn Fn(usize, StoreResult<Option<Bytes>>) + Sync),
    ) {
        batch::get_many(self, keys, on_result);
    }

    fn get_ranges(&self, key: &StoreKey, ranges: &[Range<u64>]) -> StoreResult<Option<Vec<Bytes>>> {
        let store = Arc::clone(&self.store);
        let path = self.path_of(key.as_str());
        block_on(fetch_ranges(
            store,
            path,
            ranges.to_vec(),
            key.as_str().to_owned(),
        ))?
    }

    fn get_many_ranges(
        &self,
        requests: &[crate::traits::RangeRequest],
        on_result: &(dyn Fn(usize, StoreResult<Option<Vec<Bytes>>>) + Sync),
    ) {
        batch::get_many_ranges(self, requests, on_result);
    }

    fn get_many_byte_ranges(
        &self,
        requests: &[(StoreKey, ByteRange)],
        on_result: &(dyn Fn(usize, StoreResult<Option<Bytes>>) + Sync),
    ) {
        batch::get_many_byte_ranges(self, requests, on_result);
    }

    fn get_many_dependent_ranges(
        &self,
        requests: &[(StoreKey, ByteRange)],
        then: &(dyn Fn(usize, &Bytes) -> Vec<Range<u64>> + Sync),
        on_result: &(dyn Fn(usize, StoreResult<Option<crate::DependentParts>>) + Sync),
    ) {
        batch::get_many_dependent_ranges(self, requests, then, on_result);
    }

    fn concurrency(&self) -> usize {
        self.concurrency
    }
}

impl WritableStore for ObjectStoreBackend {
    fn set(&self, key: &StoreKey, value: Bytes) -> StoreResult<()> {
        let store = Arc::clone(&self.store);
        let path = self.path_of(key.as_str());
        block_on(async move { put::put_value(&*store, &path, value).await })?
            .map_err(|e| remote_error(e, key.as_str(), "writing the value"))
    }

    fn erase(&self, key: &StoreKey) -> StoreResult<()> {
        self.delete(key)
    }

    fn update(
        &self,
        key: &StoreKey,
        modify: &mut dyn FnMut(Option<Bytes>) -> Update,
    ) -> StoreResult<()> {
        update::update(self, key, modify)
    }

    fn erase_prefix(&self, prefix: &StorePrefix) -> StoreResult<()> {
        let locations: Vec<object_store::Result<Path>> = self
            .list_meta(prefix)?
            .into_iter()
            .map(|meta| Ok(meta.location))
            .collect();
        let store = Arc::clone(&self.store);
        let results = block_on(async move {
            store
                .delete_stream(futures::stream::iter(locations).boxed())
                .collect::<Vec<_>>()
                .await
        })?;
        for result in results {
            match result {
                Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(remote_error(e, prefix.as_str(), "erasing keys")),
            }
        }
        Ok(())
    }

    fn set_many(&self, items: Vec<(StoreKey, Bytes)>) -> StoreResult<()> {
        let store = Arc::clone(&self.store);
        let concurrency = self.concurrency;
        let requests: Vec<(StoreKey, Path, Bytes)> = items
            .into_iter()
            .map(|(key, value)| {
                let path = self.path_of(key.as_str());
                (key, path, value)
            })
            .collect();
        let failures = block_on(async move {
            futures::stream::iter(requests)
                .map(|(key, path, value)| {
                    let store = Arc::clone(&store);
                    async move {
                        let result = put::put_value(&*store, &path, value).await;
                        result.err().map(|e| (key, e))
                    }
                })
                .buffer_unordered(concurrency)
                .filter_map(futures::future::ready)
                .collect::<Vec<_>>()
                .await
        })?;
        match failures.into_iter().next() {
            Some((key, e)) => Err(remote_error(e, key.as_str(), "writing the value")),
            None => Ok(()),
        }
    }
}

impl ListableStore for ObjectStoreBackend {
    fn list_prefix(&self, prefix: &StorePrefix) -> StoreResult<Vec<StoreKey>> {
        let mut keys: Vec<StoreKey> = self
            .list_meta(prefix)?
            .iter()
            .filter_map(|meta| self.key_of(&meta.location))
            .filter(|key| prefix.contains(key))
            .collect();
        keys.sort_unstable();
        Ok(keys)
    }

    fn list_dir(&self, prefix: &StorePrefix) -> StoreResult<(Vec<StoreKey>, Vec<StorePrefix>)> {
        let store = Arc::clone(&self.store);
        let path = self.prefix_path(prefix);
        let listed = block_on(async move {
            let prefix = (!path.as_ref().is_empty()).then_some(&path);
            store.list_with_delimiter(prefix).await
        })?
        .map_err(|e| remote_error(e, prefix.as_str(), "listing a directory"))?;
        let mut keys: Vec<StoreKey> = listed
            .objects
            .iter()
            .filter_map(|meta| self.key_of(&meta.location))
            .filter(|key| prefix.contains(key))
            .collect();
        let mut prefixes: Vec<StorePrefix> = listed
            .common_prefixes
            .iter()
            .filter_map(|p| self.key_of(p))
            .map(|key| StorePrefix::from_key(&key))
            .collect();
        keys.sort_unstable();
        prefixes.sort_unstable();
        Ok((keys, prefixes))
    }

    fn list_prefix_sizes(&self, prefix: &StorePrefix) -> StoreResult<Vec<(StoreKey, u64)>> {
        let mut sizes: Vec<(StoreKey, u64)> = self
            .list_meta(prefix)?
            .iter()
            .filter_map(|meta| Some((self.key_of(&meta.location)?, meta.size)))
            .filter(|(key, _)| prefix.contains(key))
            .collect();
        sizes.sort_unstable();
        Ok(sizes)
    }
}

//! The adapter over `object_store`: S3, GCS, HTTP(S) and any other [`ObjectStore`].

use std::future::Future;
use std::sync::mpsc::{self, RecvTimeoutError, TryRecvError};
use std::sync::{Arc, Once, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutPayload};
use tokio::runtime::Runtime;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{StoreError, StoreErrorKind, StoreResult};
use crate::key::{StoreKey, StorePrefix};
use crate::range::ByteRange;
use crate::traits::{ListableStore, ReadableStore, WritableStore};

/// How many requests an [`ObjectStoreBackend`] keeps in flight by default.
pub const DEFAULT_REMOTE_CONCURRENCY: usize = 64;

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
/// else is [`StoreErrorKind::Remote`].
///
/// Opening one from a URL: see [`open_store`](crate::open_store). Building the inner store
/// yourself: call [`install_crypto_provider`] first (the HTTP client needs a TLS provider).
#[derive(Debug, Clone)]
pub struct ObjectStoreBackend {
    store: Arc<dyn ObjectStore>,
    root: Path,
    concurrency: usize,
}

/// Installs `ring` as the process's default rustls crypto provider, unless one is installed
/// already; the HTTP client of every cloud store needs one when it is built.
///
/// [`open_store`](crate::open_store) and [`ObjectStoreBackend::from_url`] call this themselves;
/// call it before building an `object_store` client by hand.
pub fn install_crypto_provider() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // An error means another provider was installed first: that one is used.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// The runtime every backend's requests run on. It lives as long as the process, so connection
/// pools never outlive it and no runtime is ever dropped inside an async context.
fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4));
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("tessera-store-io")
            .enable_all()
            .build()
            // Creating threads and an epoll instance fails only when the process is out of
            // resources; nothing sensible can continue then.
            .expect("cannot start the I/O runtime of tessera-store")
    })
}

/// Runs `fut` on the I/O runtime and blocks the calling thread until it finishes.
fn block_on<F>(fut: F) -> StoreResult<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handle = runtime().spawn(fut);
    futures::executor::block_on(handle).map_err(|e| {
        StoreError::new(
            StoreErrorKind::Remote,
            "a request task of the I/O runtime failed",
        )
        .with_source(e)
    })
}

/// Maps an `object_store` error to a store error about `key`, keeping it as the source.
fn remote_error(err: object_store::Error, key: &str, doing: &str) -> StoreError {
    use object_store::Error as E;
    let kind = match &err {
        E::NotFound { .. } => StoreErrorKind::NotFound,
        E::PermissionDenied { .. } | E::Unauthenticated { .. } => StoreErrorKind::PermissionDenied,
        E::Precondition { .. } | E::NotModified { .. } => StoreErrorKind::Precondition,
        E::AlreadyExists { .. } => StoreErrorKind::AlreadyExists,
        E::NotSupported { .. } | E::NotImplemented { .. } => StoreErrorKind::NotSupported,
        E::InvalidPath { .. } => StoreErrorKind::InvalidKey,
        E::UnknownConfigurationKey { .. } => StoreErrorKind::InvalidConfig,
        _ => StoreErrorKind::Remote,
    };
    StoreError::new(kind, doing).with_key(key).with_source(err)
}

/// Cancels the request task when `get_many` returns or unwinds early.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

type Fetched = (
    usize,
    object_store::Result<Option<Bytes>>,
    OwnedSemaphorePermit,
);

async fn fetch(store: &dyn ObjectStore, path: &Path) -> object_store::Result<Option<Bytes>> {
    match store.get(path).await {
        Ok(result) => result.bytes().await.map(Some),
        Err(object_store::Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

async fn fetch_range(
    store: Arc<dyn ObjectStore>,
    path: Path,
    range: ByteRange,
    key: String,
) -> StoreResult<Option<Bytes>> {
    if range == ByteRange::ALL {
        return fetch(&*store, &path)
            .await
            .map_err(|e| remote_error(e, &key, "reading the value"));
    }
    let request = match range {
        ByteRange::FromStart {
            length: Some(0), ..
        }
        | ByteRange::Suffix(0) => None, // HTTP cannot ask for zero bytes.
        ByteRange::FromStart {
            offset,
            length: None,
        } => Some(GetRange::Offset(offset)),
        ByteRange::FromStart {
            offset,
            length: Some(length),
        } => match offset.checked_add(length) {
            Some(end) => Some(GetRange::Bounded(offset..end)),
            None => return Err(range.past_end(u64::MAX).with_key(key)),
        },
        ByteRange::Suffix(n) => Some(GetRange::Suffix(n)),
    };
    let mut failure = None;
    if let Some(request) = request {
        let options = GetOptions {
            range: Some(request),
            ..GetOptions::default()
        };
        match store.get_opts(&path, options).await {
            Ok(result) => {
                let want = range
                    .resolve(result.meta.size)
                    .map_err(|e| e.with_key(key.as_str()))?;
                if result.range != want {
                    return Err(StoreError::new(
                        StoreErrorKind::Remote,
                        format!(
                            "asked for bytes {want:?} and the server returned {:?}",
                            result.range
                        ),
                    )
                    .with_key(key));
                }
                return result
                    .bytes()
                    .await
                    .map(Some)
                    .map_err(|e| remote_error(e, &key, "reading a byte range"));
            }
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            // Servers answer a range outside the object in different ways (416, a truncated
            // body, ...): the object's size tells whether the range was the problem.
            Err(e) => failure = Some(e),
        }
    }
    match store.head(&path).await {
        Ok(meta) => {
            let want = range
                .resolve(meta.size)
                .map_err(|e| e.with_key(key.as_str()))?;
            if want.is_empty() {
                return Ok(Some(Bytes::new()));
            }
            // The range is valid, yet the server refused it: some servers (Python's
            // RangeHTTPServer, for one) support no suffix ranges. Ask for the same bytes by
            // their positions.
            store
                .get_range(&path, want)
                .await
                .map(Some)
                .map_err(|e| remote_error(e, &key, "reading a byte range"))
        }
        Err(object_store::Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(remote_error(
            failure.unwrap_or(e),
            &key,
            "reading a byte range",
        )),
    }
}

impl ObjectStoreBackend {
    /// A backend storing every key under `root` in `store` (`Path::default()` for the top).
    pub fn new(store: Arc<dyn ObjectStore>, root: Path) -> Self {
        ObjectStoreBackend {
            store,
            root,
            concurrency: DEFAULT_REMOTE_CONCURRENCY,
        }
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

    fn list_meta(&self, prefix: &StorePrefix) -> StoreResult<Vec<object_store::ObjectMeta>> {
        let store = Arc::clone(&self.store);
        let path = self.prefix_path(prefix);
        let listed = block_on(async move {
            let prefix = (!path.as_ref().is_empty()).then_some(&path);
            store.list(prefix).try_collect::<Vec<_>>().await
        })?;
        listed.map_err(|e| remote_error(e, prefix.as_str(), "listing keys"))
    }

    /// Waits for the next fetched value. Inside a rayon worker the thread runs pending callbacks
    /// while it waits, so a pool of one thread cannot deadlock on the permits those hold.
    fn next_fetched(rx: &mpsc::Receiver<Fetched>) -> Option<Fetched> {
        if rayon::current_thread_index().is_none() {
            return rx.recv().ok();
        }
        loop {
            match rx.try_recv() {
                Ok(item) => return Some(item),
                Err(TryRecvError::Disconnected) => return None,
                Err(TryRecvError::Empty) => {}
            }
            if let Some(rayon::Yield::Executed) = rayon::yield_now() {
                continue;
            }
            match rx.recv_timeout(Duration::from_millis(1)) {
                Ok(item) => return Some(item),
                Err(RecvTimeoutError::Disconnected) => return None,
                Err(RecvTimeoutError::Timeout) => {}
            }
        }
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
        if keys.is_empty() {
            return;
        }
        let paths: Vec<Path> = keys.iter().map(|k| self.path_of(k.as_str())).collect();
        let store = Arc::clone(&self.store);
        let concurrency = self.concurrency;
        let permits = Arc::new(Semaphore::new(
            concurrency + 2 * rayon::current_num_threads(),
        ));
        let (tx, rx) = mpsc::channel::<Fetched>();
        let task = runtime().spawn(async move {
            let mut fetched = futures::stream::iter(paths.into_iter().enumerate())
                .map(|(index, path)| {
                    let store = Arc::clone(&store);
                    let permits = Arc::clone(&permits);
                    async move {
                        // The semaphore is never closed.
                        let permit = permits.acquire_owned().await.ok()?;
                        Some((index, fetch(&*store, &path).await, permit))
                    }
                })
                .buffer_unordered(concurrency);
            while let Some(item) = fetched.next().await {
                let Some(item) = item else { break };
                if tx.send(item).is_err() {
                    break; // The caller is gone (a callback panicked).
                }
            }
        });
        let _cancel = AbortOnDrop(task.abort_handle());
        let mut delivered = vec![false; keys.len()];
        rayon::in_place_scope(|scope| {
            let mut remaining = keys.len();
            while remaining > 0 {
                let Some((index, result, permit)) = Self::next_fetched(&rx) else {
                    break;
                };
                remaining -= 1;
                delivered[index] = true;
                let key = keys[index].as_str();
                scope.spawn(move |_| {
                    let result = result.map_err(|e| remote_error(e, key, "reading the value"));
                    on_result(index, result);
                    drop(permit);
                });
            }
        });
        // Only when the request task died: every key still gets its call.
        for (index, _) in delivered.iter().enumerate().filter(|(_, done)| !**done) {
            on_result(
                index,
                Err(StoreError::new(
                    StoreErrorKind::Remote,
                    "the request task stopped before this value was read",
                )
                .with_key(keys[index].as_str())),
            );
        }
    }

    fn concurrency(&self) -> usize {
        self.concurrency
    }
}

impl WritableStore for ObjectStoreBackend {
    fn set(&self, key: &StoreKey, value: Bytes) -> StoreResult<()> {
        let store = Arc::clone(&self.store);
        let path = self.path_of(key.as_str());
        block_on(async move { store.put(&path, PutPayload::from(value)).await })?
            .map(|_| ())
            .map_err(|e| remote_error(e, key.as_str(), "writing the value"))
    }

    fn erase(&self, key: &StoreKey) -> StoreResult<()> {
        let store = Arc::clone(&self.store);
        let path = self.path_of(key.as_str());
        match block_on(async move { store.delete(&path).await })? {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(remote_error(e, key.as_str(), "erasing the value")),
        }
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
                        let result = store.put(&path, PutPayload::from(value)).await;
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

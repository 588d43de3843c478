//! The batch read pipeline: up to `concurrency` GETs in flight on the I/O runtime, each result
//! handed to rayon's pool as it arrives, so decoding overlaps fetching.

use std::future::Future;
use std::ops::Range;
use std::sync::mpsc::{self, RecvTimeoutError, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use object_store::ObjectStore;
use object_store::path::Path;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::ObjectStoreBackend;
use super::fetch::{
    Piece, fetch, fetch_range, fetch_ranges, fetch_tagged_range, fetch_tagged_ranges, remote_error,
};
use super::runtime::runtime;
use super::update::jittered;
use crate::error::{StoreError, StoreErrorKind, StoreResult};
use crate::key::StoreKey;
use crate::traits::{DependentParts, dependent_from_whole};

/// Cancels the request task when `get_many` returns or unwinds early.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

type Fetched<T> = (usize, StoreResult<Option<T>>, OwnedSemaphorePermit);

/// Waits for the next fetched value. Inside a rayon worker the thread runs pending callbacks
/// while it waits, so a pool of one thread cannot deadlock on the permits those hold.
fn next_fetched<T>(rx: &mpsc::Receiver<Fetched<T>>) -> Option<Fetched<T>> {
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

/// [`ReadableStore::get_many`](crate::ReadableStore::get_many) for `backend`.
pub(super) fn get_many(
    backend: &ObjectStoreBackend,
    keys: &[StoreKey],
    on_result: &(dyn Fn(usize, StoreResult<Option<Bytes>>) + Sync),
) {
    let paths: Vec<Path> = keys.iter().map(|k| backend.path_of(k.as_str())).collect();
    let names: Vec<String> = keys.iter().map(|k| k.as_str().to_owned()).collect();
    run(
        backend,
        keys,
        paths.into_iter().zip(names).collect(),
        |store, (path, key)| async move {
            fetch(&*store, &path)
                .await
                .map_err(|e| remote_error(e, &key, "reading the value"))
        },
        on_result,
    );
}

/// [`ReadableStore::get_many_ranges`](crate::ReadableStore::get_many_ranges) for `backend`.
pub(super) fn get_many_ranges(
    backend: &ObjectStoreBackend,
    requests: &[crate::traits::RangeRequest],
    on_result: &(dyn Fn(usize, StoreResult<Option<Vec<Bytes>>>) + Sync),
) {
    let keys: Vec<StoreKey> = requests.iter().map(|(k, _)| k.clone()).collect();
    let items = requests
        .iter()
        .map(|(k, ranges)| {
            (
                backend.path_of(k.as_str()),
                ranges.clone(),
                k.as_str().to_owned(),
            )
        })
        .collect();
    run(
        backend,
        &keys,
        items,
        |store, (path, ranges, key)| async move { fetch_ranges(store, path, ranges, key).await },
        on_result,
    );
}

/// [`ReadableStore::get_many_byte_ranges`](crate::ReadableStore::get_many_byte_ranges): one ranged
/// GET per request, up to the backend's concurrency in flight.
pub(super) fn get_many_byte_ranges(
    backend: &ObjectStoreBackend,
    requests: &[(StoreKey, crate::ByteRange)],
    on_result: &(dyn Fn(usize, StoreResult<Option<Bytes>>) + Sync),
) {
    let keys: Vec<StoreKey> = requests.iter().map(|(k, _)| k.clone()).collect();
    let items = requests
        .iter()
        .map(|(k, range)| (backend.path_of(k.as_str()), *range, k.as_str().to_owned()))
        .collect();
    run(
        backend,
        &keys,
        items,
        |store, (path, range, key)| async move { fetch_range(store, path, range, key).await },
        on_result,
    );
}

/// [`ReadableStore::get_many_dependent_ranges`](crate::ReadableStore::get_many_dependent_ranges):
/// every first range in one batch, then every dependent read in another, each compared by ETag with
/// its first read. Values replaced in between (different ETags, gone, or ranges that no longer
/// fit) go round again, up to [`DEPENDENT_ATTEMPTS`] times, and are then read whole (one GET, one
/// version). Servers that send no ETag cannot be checked; their reads are taken as they come.
pub(super) fn get_many_dependent_ranges(
    backend: &ObjectStoreBackend,
    requests: &[(StoreKey, crate::ByteRange)],
    then: &(dyn Fn(usize, &Bytes) -> Vec<Range<u64>> + Sync),
    on_result: &(dyn Fn(usize, StoreResult<Option<DependentParts>>) + Sync),
) {
    let mut pending: Vec<usize> = (0..requests.len()).collect();
    for attempt in 0..DEPENDENT_ATTEMPTS {
        if pending.is_empty() {
            return;
        }
        if attempt > 0 {
            // Give the writer a moment: 2, then 4 ms.
            std::thread::sleep(jittered(Duration::from_millis(1 << attempt)));
        }
        // The first ranges; each request with its ranges goes on, the others are answered.
        let firsts: Vec<Mutex<Option<FirstRead>>> =
            pending.iter().map(|_| Mutex::new(None)).collect();
        let keys: Vec<StoreKey> = pending.iter().map(|&i| requests[i].0.clone()).collect();
        let items = pending
            .iter()
            .map(|&i| {
                let (path, name) = located(backend, &requests[i].0);
                (path, requests[i].1, name)
            })
            .collect();
        run(
            backend,
            &keys,
            items,
            |store, (path, range, key)| async move { fetch_tagged_range(store, path, range, key).await },
            &|j, result: StoreResult<Option<Piece>>| {
                let i = pending[j];
                match result {
                    Ok(Some(piece)) => {
                        let ranges = then(i, &piece.bytes);
                        if ranges.is_empty() {
                            on_result(i, Ok(Some((piece.bytes, Vec::new()))));
                        } else {
                            *lock(&firsts[j]) = Some((piece, ranges));
                        }
                    }
                    Ok(None) => on_result(i, Ok(None)),
                    Err(e) => on_result(i, Err(e)),
                }
            },
        );
        // The dependent reads, each checked against its first read's version.
        let mut items = Vec::new();
        let firsts: Vec<(usize, Piece)> = firsts
            .into_iter()
            .zip(&pending)
            .filter_map(|(slot, &i)| {
                let (piece, ranges) = slot.into_inner().unwrap_or_else(|p| p.into_inner())?;
                let (path, name) = located(backend, &requests[i].0);
                items.push((path, ranges, name));
                Some((i, piece))
            })
            .collect();
        let again = Mutex::new(Vec::new());
        let keys: Vec<StoreKey> = firsts.iter().map(|(i, _)| requests[*i].0.clone()).collect();
        run(
            backend,
            &keys,
            items,
            |store, (path, ranges, key)| async move {
                fetch_tagged_ranges(store, path, ranges, key).await
            },
            &|j, result| {
                let (i, first) = &firsts[j];
                let same = |tag: &Option<String>| {
                    first.e_tag.is_none() || tag.is_none() || *tag == first.e_tag
                };
                match result {
                    Ok(Some((parts, tag))) if same(&tag) => {
                        on_result(*i, Ok(Some((first.bytes.clone(), parts))));
                    }
                    // Replaced, removed, or shrunk under ranges its old version held. Out of
                    // range may also mean wrong ranges: the ETags cannot tell (a writer may put
                    // back an equal value, with an equal ETag), the final whole read does.
                    Ok(_) => lock(&again).push(*i),
                    Err(e) if e.kind() == StoreErrorKind::InvalidRange => lock(&again).push(*i),
                    Err(e) => on_result(*i, Err(e)),
                }
            },
        );
        pending = again.into_inner().unwrap_or_else(|p| p.into_inner());
        pending.sort_unstable();
    }
    if pending.is_empty() {
        return;
    }
    // A value rewritten faster than two requests apart: one GET of the whole value is one version
    // by construction, and the ranges are sliced out of it.
    let keys: Vec<StoreKey> = pending.iter().map(|&i| requests[i].0.clone()).collect();
    let items = pending
        .iter()
        .map(|&i| located(backend, &requests[i].0))
        .collect();
    run(
        backend,
        &keys,
        items,
        |store, (path, key)| async move {
            fetch(&*store, &path)
                .await
                .map_err(|e| remote_error(e, &key, "reading the value"))
        },
        &|j, result| {
            let i = pending[j];
            let (key, first) = &requests[i];
            let sliced = result
                .and_then(|value| dependent_from_whole(value, key, *first, &|head| then(i, head)));
            on_result(i, sliced);
        },
    );
}

/// Rounds of two reads compared by ETag before [`get_many_dependent_ranges`] reads the values it
/// still lacks whole.
const DEPENDENT_ATTEMPTS: u32 = 3;

/// Where `key` lies in the backend's store, and its name for errors.
fn located(backend: &ObjectStoreBackend, key: &StoreKey) -> (Path, String) {
    (backend.path_of(key.as_str()), key.as_str().to_owned())
}

/// A first read and the ranges it named.
type FirstRead = (Piece, Vec<Range<u64>>);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The pipeline: `fetch(store, items[i])` for every item, up to the backend's concurrency in flight, each
/// result handed to `on_result` on rayon's pool as it arrives.
fn run<I, T, F, Fut>(
    backend: &ObjectStoreBackend,
    keys: &[StoreKey],
    items: Vec<I>,
    fetch: F,
    on_result: &(dyn Fn(usize, StoreResult<Option<T>>) + Sync),
) where
    I: Send + 'static,
    T: Send + 'static,
    F: Fn(Arc<dyn ObjectStore>, I) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = StoreResult<Option<T>>> + Send,
{
    if keys.is_empty() {
        return;
    }
    let store = Arc::clone(&backend.store);
    let concurrency = backend.concurrency;
    let permits = Arc::new(Semaphore::new(
        concurrency + 2 * rayon::current_num_threads(),
    ));
    let (tx, rx) = mpsc::channel::<Fetched<T>>();
    let task = runtime().spawn(async move {
        let fetch = &fetch;
        let mut fetched = futures::stream::iter(items.into_iter().enumerate())
            .map(|(index, item)| {
                let store = Arc::clone(&store);
                let permits = Arc::clone(&permits);
                async move {
                    // The semaphore is never closed.
                    let permit = permits.acquire_owned().await.ok()?;
                    Some((index, fetch(store, item).await, permit))
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
            let Some((index, result, permit)) = next_fetched(&rx) else {
                break;
            };
            remaining -= 1;
            delivered[index] = true;
            scope.spawn(move |_| {
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

//! The batch read pipeline: up to `concurrency` GETs in flight on the I/O runtime, each result
//! handed to rayon's pool as it arrives, so decoding overlaps fetching.

use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError, TryRecvError};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use object_store::path::Path;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::ObjectStoreBackend;
use super::fetch::{fetch, remote_error};
use super::runtime::runtime;
use crate::error::{StoreError, StoreErrorKind, StoreResult};
use crate::key::StoreKey;

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

/// [`ReadableStore::get_many`](crate::ReadableStore::get_many) for `backend`.
pub(super) fn get_many(
    backend: &ObjectStoreBackend,
    keys: &[StoreKey],
    on_result: &(dyn Fn(usize, StoreResult<Option<Bytes>>) + Sync),
) {
    if keys.is_empty() {
        return;
    }
    let paths: Vec<Path> = keys.iter().map(|k| backend.path_of(k.as_str())).collect();
    let store = Arc::clone(&backend.store);
    let concurrency = backend.concurrency;
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
            let Some((index, result, permit)) = next_fetched(&rx) else {
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

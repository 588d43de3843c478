//! Read-modify-write of one object by optimistic concurrency: read the value with its version, let
//! the caller decide, write back only if the version is still current (`If-Match`, or
//! `If-None-Match: *` when there was no value), and otherwise start over after a pause.

use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, UpdateVersion};

use super::ObjectStoreBackend;
use super::fetch::remote_error;
use super::runtime::block_on;
use crate::error::{StoreError, StoreErrorKind, StoreResult};
use crate::key::StoreKey;
use crate::traits::Update;

/// The first pause after a conflict; it doubles (with random jitter) up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(5);
const MAX_PAUSE: Duration = Duration::from_millis(500);

/// A value with the version it was read at, or `None` when there is no value.
type Versioned = Option<(Bytes, UpdateVersion)>;

async fn read_versioned(
    store: Arc<dyn ObjectStore>,
    path: Path,
) -> object_store::Result<Versioned> {
    match store.get(&path).await {
        Ok(result) => {
            let version = UpdateVersion {
                e_tag: result.meta.e_tag.clone(),
                version: result.meta.version.clone(),
            };
            Ok(Some((result.bytes().await?, version)))
        }
        Err(object_store::Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// `pause` scaled by a random factor in `[0.5, 1)`, so writers that collided do not collide again.
pub(super) fn jittered(pause: Duration) -> Duration {
    let random = RandomState::new().hash_one(std::thread::current().id());
    pause.mul_f64(0.5 + (random % 1000) as f64 / 2000.0)
}

/// [`WritableStore::update`](crate::WritableStore::update) for `backend`.
pub(super) fn update(
    backend: &ObjectStoreBackend,
    key: &StoreKey,
    modify: &mut dyn FnMut(Option<Bytes>) -> Update,
) -> StoreResult<()> {
    let path = backend.path_of(key.as_str());
    let mut pause = FIRST_PAUSE;
    for attempt in 1..=backend.update_attempts {
        let store = Arc::clone(&backend.store);
        let current = block_on(read_versioned(store, path.clone()))?
            .map_err(|e| remote_error(e, key.as_str(), "reading the value to update"))?;
        let (value, version) = match current {
            Some((value, version)) => (Some(value), Some(version)),
            None => (None, None),
        };
        let existed = value.is_some();
        let payload = match modify(value) {
            Update::Keep => return Ok(()),
            Update::Erase { .. } if !existed => return Ok(()),
            Update::Set(payload)
            | Update::Erase {
                fallback: Some(payload),
            } => payload,
            Update::Erase { fallback: None } => return backend.delete(key),
        };
        let mode = match version {
            Some(version) if version.e_tag.is_none() && version.version.is_none() => {
                return Err(StoreError::new(
                    StoreErrorKind::NotSupported,
                    "the server gave the value no ETag or version, so it cannot be updated \
                     conditionally",
                )
                .with_key(key.as_str()));
            }
            Some(version) => PutMode::Update(version),
            None => PutMode::Create,
        };
        let store = Arc::clone(&backend.store);
        let put_path = path.clone();
        let put = block_on(async move {
            let options = PutOptions {
                mode,
                ..PutOptions::default()
            };
            store
                .put_opts(&put_path, PutPayload::from(payload), options)
                .await
        })?;
        match put {
            Ok(_) => return Ok(()),
            // Another writer changed (or created, or removed) the value since it was read.
            Err(
                object_store::Error::Precondition { .. }
                | object_store::Error::AlreadyExists { .. }
                | object_store::Error::NotFound { .. },
            ) => {
                if attempt < backend.update_attempts {
                    std::thread::sleep(jittered(pause));
                    pause = (pause * 2).min(MAX_PAUSE);
                }
            }
            Err(
                e @ (object_store::Error::NotImplemented { .. }
                | object_store::Error::NotSupported { .. }),
            ) => {
                return Err(StoreError::new(
                    StoreErrorKind::NotSupported,
                    "the store has no conditional writes, so a read-modify-write could lose \
                     another writer's update",
                )
                .with_key(key.as_str())
                .with_source(e));
            }
            Err(e) => return Err(remote_error(e, key.as_str(), "writing the updated value")),
        }
    }
    Err(StoreError::new(
        StoreErrorKind::Timeout,
        format!(
            "other writers changed the value during each of {} attempts to update it; raise \
             the backend's update attempts if that many writers share one value",
            backend.update_attempts
        ),
    )
    .with_key(key.as_str()))
}

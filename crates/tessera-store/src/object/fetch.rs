//! Single requests: whole values, byte ranges, and the mapping of their errors.

use std::sync::Arc;

use bytes::Bytes;
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt};

use crate::error::{StoreError, StoreErrorKind, StoreResult};
use crate::range::ByteRange;

/// Maps an `object_store` error to a store error about `key`, keeping it as the source.
pub(super) fn remote_error(err: object_store::Error, key: &str, doing: &str) -> StoreError {
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

pub(super) async fn fetch(
    store: &dyn ObjectStore,
    path: &Path,
) -> object_store::Result<Option<Bytes>> {
    match store.get(path).await {
        Ok(result) => result.bytes().await.map(Some),
        Err(object_store::Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

pub(super) async fn fetch_range(
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

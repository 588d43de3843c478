//! Single requests: whole values, byte ranges, and the mapping of their errors.

use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt};

use crate::error::{StoreError, StoreErrorKind, StoreResult};
use crate::range::{ByteRange, check_ranges};

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

/// Ranges closer than this are fetched with one request (the bytes between are cheaper than
/// another round trip).
const COALESCE_GAP: u64 = 1 << 20;

/// Several ranges of one object: nearby ranges are merged into one request, the requests run
/// concurrently, and each is checked by [`fetch_range`] (so a range outside the object is an
/// `InvalidRange` error whatever the server answers).
pub(super) async fn fetch_ranges(
    store: Arc<dyn ObjectStore>,
    path: Path,
    ranges: Vec<Range<u64>>,
    key: String,
) -> StoreResult<Option<Vec<Bytes>>> {
    if let Some(r) = ranges.iter().find(|r| r.start > r.end) {
        return Err(StoreError::new(
            StoreErrorKind::InvalidRange,
            format!("byte range {}..{} ends before it starts", r.start, r.end),
        )
        .with_key(key));
    }
    // HTTP cannot ask for zero bytes: empty parts need no request.
    let mut order: Vec<usize> = (0..ranges.len())
        .filter(|&i| ranges[i].start < ranges[i].end)
        .collect();
    order.sort_by_key(|&i| ranges[i].start);
    let mut merged: Vec<Range<u64>> = Vec::new();
    for &i in &order {
        match merged.last_mut() {
            Some(last) if ranges[i].start <= last.end.saturating_add(COALESCE_GAP) => {
                last.end = last.end.max(ranges[i].end);
            }
            _ => merged.push(ranges[i].clone()),
        }
    }
    if merged.is_empty() {
        // Only empty parts: they exist when the object does.
        return match store.head(&path).await {
            Ok(meta) => {
                check_ranges(&ranges, meta.size).map_err(|e| e.with_key(key.as_str()))?;
                Ok(Some(vec![Bytes::new(); ranges.len()]))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(remote_error(e, &key, "reading byte ranges")),
        };
    }
    let fetched = futures::future::join_all(merged.iter().map(|m| {
        fetch_range(
            Arc::clone(&store),
            path.clone(),
            ByteRange::from_range(m.clone()),
            key.clone(),
        )
    }))
    .await;
    let mut pieces = Vec::with_capacity(merged.len());
    for piece in fetched {
        match piece? {
            Some(bytes) => pieces.push(bytes),
            None => return Ok(None),
        }
    }
    Ok(Some(
        ranges
            .iter()
            .map(|r| {
                if r.start >= r.end {
                    return Bytes::new();
                }
                // The merged range holding `r`: the last one starting at or before it.
                let m = merged.partition_point(|m| m.start <= r.start) - 1;
                let base = merged[m].start;
                pieces[m].slice((r.start - base) as usize..(r.end - base) as usize)
            })
            .collect(),
    ))
}

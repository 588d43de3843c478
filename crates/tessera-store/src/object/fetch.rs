//! Single requests: whole values, byte ranges, and the mapping of their errors.

use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt};

use super::credentials::{NO_CREDENTIALS, NoCredentials};
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
    if let E::Unauthenticated { source, .. } = &err
        && source.downcast_ref::<NoCredentials>().is_some()
    {
        // What the user must do, rather than what the metadata service answered (in the source).
        return StoreError::new(kind, format!("{doing}: {NO_CREDENTIALS}"))
            .with_key(key)
            .with_source(err);
    }
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
    Ok(fetch_tagged_range(store, path, range, key)
        .await?
        .map(|piece| piece.bytes))
}

/// Bytes of a value and the ETag of the version they came from (when the server names one).
pub(super) struct Piece {
    pub(super) bytes: Bytes,
    pub(super) e_tag: Option<String>,
}

async fn read_piece(result: object_store::GetResult, key: &str) -> StoreResult<Piece> {
    let e_tag = result.meta.e_tag.clone();
    let bytes = result
        .bytes()
        .await
        .map_err(|e| remote_error(e, key, "reading a byte range"))?;
    Ok(Piece { bytes, e_tag })
}

pub(super) async fn fetch_tagged_range(
    store: Arc<dyn ObjectStore>,
    path: Path,
    range: ByteRange,
    key: String,
) -> StoreResult<Option<Piece>> {
    let request = match range {
        ByteRange::FromStart {
            offset: 0,
            length: None,
        } => Some(None),
        ByteRange::FromStart {
            length: Some(0), ..
        }
        | ByteRange::Suffix(0) => None, // HTTP cannot ask for zero bytes.
        ByteRange::FromStart {
            offset,
            length: None,
        } => Some(Some(GetRange::Offset(offset))),
        ByteRange::FromStart {
            offset,
            length: Some(length),
        } => match offset.checked_add(length) {
            Some(end) => Some(Some(GetRange::Bounded(offset..end))),
            None => return Err(range.past_end(u64::MAX).with_key(key)),
        },
        ByteRange::Suffix(n) => Some(Some(GetRange::Suffix(n))),
    };
    let mut failure = None;
    if let Some(request) = request {
        let whole = request.is_none();
        let options = GetOptions {
            range: request,
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
                return read_piece(result, &key).await.map(Some);
            }
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) if whole => return Err(remote_error(e, &key, "reading the value")),
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
                return Ok(Some(Piece {
                    bytes: Bytes::new(),
                    e_tag: meta.e_tag,
                }));
            }
            // The range is valid, yet the server refused it: some servers (Python's
            // RangeHTTPServer, for one) support no suffix ranges. Ask for the same bytes by
            // their positions.
            let options = GetOptions {
                range: Some(GetRange::Bounded(want)),
                ..GetOptions::default()
            };
            match store.get_opts(&path, options).await {
                Ok(result) => read_piece(result, &key).await.map(Some),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(remote_error(e, &key, "reading a byte range")),
            }
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
    Ok(fetch_tagged_ranges(store, path, ranges, key)
        .await?
        .map(|(parts, _)| parts))
}

/// [`fetch_ranges`], with the ETag of the version the parts came from (when the server names one).
pub(super) async fn fetch_tagged_ranges(
    store: Arc<dyn ObjectStore>,
    path: Path,
    ranges: Vec<Range<u64>>,
    key: String,
) -> StoreResult<Option<(Vec<Bytes>, Option<String>)>> {
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
                Ok(Some((vec![Bytes::new(); ranges.len()], meta.e_tag)))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(remote_error(e, &key, "reading byte ranges")),
        };
    }
    let Some((pieces, e_tag)) = fetch_one_version(&store, &path, &merged, &key).await? else {
        return Ok(None);
    };
    let parts = ranges
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
        .collect();
    Ok(Some((parts, e_tag)))
}

/// How many times a read of several ranges of one value is repeated when the value changed between
/// its requests, before it fails with [`StoreErrorKind::Precondition`].
const PINNED_READ_ATTEMPTS: u32 = 8;

/// Fetches `merged` ranges of one value, concurrently, all from one version of it: when the
/// responses' ETags differ (the value was replaced between the requests), or the value vanished
/// after some were answered, the whole read is repeated. Servers that send no ETag cannot be
/// checked; their ranges are taken as they come. `None` when there is no value.
async fn fetch_one_version(
    store: &Arc<dyn ObjectStore>,
    path: &Path,
    merged: &[Range<u64>],
    key: &str,
) -> StoreResult<Option<(Vec<Bytes>, Option<String>)>> {
    for _ in 0..PINNED_READ_ATTEMPTS {
        let fetched = futures::future::join_all(merged.iter().map(|m| {
            fetch_tagged_range(
                Arc::clone(store),
                path.clone(),
                ByteRange::from_range(m.clone()),
                key.to_owned(),
            )
        }))
        .await;
        let mut pieces = Vec::with_capacity(merged.len());
        for piece in fetched {
            pieces.push(piece?);
        }
        if pieces.iter().all(Option::is_none) {
            return Ok(None);
        }
        let Some(pieces) = pieces.into_iter().collect::<Option<Vec<Piece>>>() else {
            continue; // Removed while being read.
        };
        let first = pieces[0].e_tag.clone();
        if first.is_none() || pieces.iter().all(|p| p.e_tag == first) {
            return Ok(Some((pieces.into_iter().map(|p| p.bytes).collect(), first)));
        }
    }
    Err(StoreError::new(
        StoreErrorKind::Precondition,
        format!(
            "the value was replaced while its byte ranges were read, {PINNED_READ_ATTEMPTS} times \
             in a row; no mixture of versions was returned"
        ),
    )
    .with_key(key))
}

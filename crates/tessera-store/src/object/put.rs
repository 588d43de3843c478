//! Writing whole values: one PUT, or a multipart upload for values above
//! [`MULTIPART_THRESHOLD`](super::MULTIPART_THRESHOLD) (a single PUT is limited to 5 GiB on S3 and
//! restarts from the first byte when it fails).

use bytes::Bytes;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};

use super::MULTIPART_THRESHOLD;

/// The size of each uploaded part (S3 wants at least 5 MiB for all but the last).
const PART_SIZE: usize = 16 << 20;
/// Parts of one value uploaded at once.
const PARTS_IN_FLIGHT: usize = 4;

/// Stores `value` at `path`, in parts when it is larger than the threshold.
pub(super) async fn put_value(
    store: &dyn ObjectStore,
    path: &Path,
    value: Bytes,
) -> object_store::Result<()> {
    if value.len() <= MULTIPART_THRESHOLD {
        return store.put(path, PutPayload::from(value)).await.map(drop);
    }
    let upload = store.put_multipart(path).await?;
    let mut parts = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
    let mut rest = value;
    while !rest.is_empty() {
        if let Err(e) = parts.wait_for_capacity(PARTS_IN_FLIGHT).await {
            // Best effort: the upload's parts are removed unless the abort fails too.
            let _ = parts.abort().await;
            return Err(e);
        }
        let n = rest.len().min(PART_SIZE);
        parts.put(rest.split_to(n));
    }
    // `finish` aborts the upload itself when a part or the completion fails.
    parts.finish().await.map(drop)
}

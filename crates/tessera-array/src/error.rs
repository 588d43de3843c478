//! The error type of the array layer.

use tessera_codec::CodecError;
use tessera_store::StoreError;
use thiserror::Error;

/// Result alias of the array layer.
pub type ArrayResult<T> = Result<T, ArrayError>;

/// Everything that can go wrong reading or writing Zarr arrays and groups.
///
/// Each variant names what went wrong so callers can match on it; sources (store and codec errors) are
/// kept, never flattened into strings.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ArrayError {
    /// A metadata document (`.zarray`, `.zgroup`, `.zattrs`, `.zmetadata`) is invalid; `field` names the
    /// offending field (or the document when it is not valid JSON at all).
    #[error("invalid metadata: {field}: {message}")]
    Metadata {
        /// The field at fault, e.g. `shape`, `dtype`, `fill_value`, or the document key.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// Another writer changed the array's shape while this resize or append was under way and the
    /// store could not keep them apart (object stores, whose updates are optimistic): this one was
    /// not applied. Appends and resizes of one array across machines need the caller's coordination.
    #[error(
        "the shape of {path} was changed by another writer during this resize or append, which was not \
         applied; on object stores, coordinate the writers that change an array's shape"
    )]
    ConcurrentShapeChange {
        /// The array's path.
        path: String,
    },
    /// A selection does not fit the array: bad syntax, wrong rank, index out of bounds, step not positive.
    #[error("invalid selection: {0}")]
    Selection(String),
    /// An index (or list entry) lies outside its axis, as numpy's `IndexError`.
    #[error("index {index} is out of bounds for axis {axis} with length {length}")]
    IndexOutOfBounds {
        /// The axis (0-based).
        axis: usize,
        /// The index as given (negative counts from the end).
        index: i64,
        /// The axis's length.
        length: u64,
    },
    /// A boolean mask does not have the shape of what it selects from: one axis (`axis`) or, for a
    /// coordinate selection, the whole array.
    #[error("{}", mask_shape_message(*axis, expected, found))]
    MaskShape {
        /// The axis of a per-axis mask; `None` for a mask of the whole array.
        axis: Option<usize>,
        /// The shape the mask needs.
        expected: Vec<u64>,
        /// The shape (length) of the mask given.
        found: Vec<u64>,
    },
    /// The element type asked for does not match the array's stored data type.
    #[error("data type mismatch: the array stores {stored}, but {requested} was requested")]
    DataTypeMismatch {
        /// The stored dtype, as a numpy type string.
        stored: String,
        /// The Rust or numpy type that was asked for.
        requested: String,
    },
    /// Data handed to a write has the wrong shape or size.
    #[error("shape mismatch: expected {expected:?}, got {found:?}")]
    ShapeMismatch {
        /// The shape the selection needs.
        expected: Vec<u64>,
        /// The shape that was supplied.
        found: Vec<u64>,
    },
    /// A chunk could not be decoded or encoded.
    #[error("chunk {key}: {source}")]
    Codec {
        /// The store key of the chunk.
        key: String,
        /// What the codec reported.
        #[source]
        source: CodecError,
    },
    /// The codec configuration of an array is unusable.
    #[error("array codecs: {0}")]
    CodecConfig(#[source] CodecError),
    /// A stored chunk has the wrong size for an array without compressor.
    #[error("chunk {key}: holds {found} bytes, expected {expected}")]
    ChunkSize {
        /// The store key of the chunk.
        key: String,
        /// The decoded chunk size from the metadata.
        expected: usize,
        /// The size found in the store.
        found: usize,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No array or group exists at this path.
    #[error("no {kind} at {path:?}")]
    NotFound {
        /// `array`, `group` or `node`.
        kind: &'static str,
        /// The path inside the store.
        path: String,
    },
    /// An array or group already exists where one was to be created.
    #[error("/{path} already holds {kind}")]
    AlreadyExists {
        /// What is there.
        kind: &'static str,
        /// The path inside the store.
        path: String,
    },
    /// A node path is not valid (empty segments, `..`, ...).
    #[error("invalid node path {path:?}: {message}")]
    InvalidPath {
        /// The path as given.
        path: String,
        /// Why it was refused.
        message: String,
    },
    /// The operation would need more memory than the array layer allows for one buffer.
    #[error("{0}")]
    TooLarge(String),
    /// The data is valid Zarr, but uses a feature tessera does not implement (yet).
    #[error("unsupported: {feature}: {message}")]
    Unsupported {
        /// The feature, as the metadata names it (`"data_type string"`, `"storage_transformers"`, ...).
        feature: String,
        /// What is not supported and what to do instead.
        message: String,
    },
    /// A stored shard's index is inconsistent with its shard (offsets past its end, overlapping inner
    /// chunks, a wrong size).
    #[error("shard {key}: {message}")]
    ShardIndex {
        /// The store key of the shard.
        key: String,
        /// What is wrong with its index.
        message: String,
    },
}

fn mask_shape_message(axis: Option<usize>, expected: &[u64], found: &[u64]) -> String {
    match axis {
        Some(axis) => format!(
            "boolean mask of length {found:?} does not match axis {axis} of length {expected:?}"
        ),
        None => format!(
            "boolean mask of {found:?} elements does not match the array's shape {expected:?}; \
             give one value per element, C order"
        ),
    }
}

impl ArrayError {
    pub(crate) fn metadata(field: impl Into<String>, message: impl Into<String>) -> ArrayError {
        ArrayError::Metadata {
            field: field.into(),
            message: message.into(),
        }
    }

    pub(crate) fn unsupported(
        feature: impl Into<String>,
        message: impl Into<String>,
    ) -> ArrayError {
        ArrayError::Unsupported {
            feature: feature.into(),
            message: message.into(),
        }
    }

    pub(crate) fn selection(message: impl Into<String>) -> ArrayError {
        ArrayError::Selection(message.into())
    }
}

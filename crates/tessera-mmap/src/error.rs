//! The error type of the raw-mmap backend.

use std::path::{Path, PathBuf};

use thiserror::Error;

/// Result alias of this crate.
pub type MmapResult<T> = Result<T, MmapError>;

/// What can go wrong with raw and `.npy` files.
///
/// Every variant names what went wrong so callers can match on it; I/O errors keep their source and the
/// file they concern.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum MmapError {
    /// A `.npy` header is missing, truncated or malformed.
    #[error("invalid .npy header: {0}")]
    Header(String),
    /// A sidecar JSON document is missing, malformed or describes an impossible layout.
    #[error("sidecar {path}: {message}")]
    Sidecar {
        /// The sidecar file (or the data file, when no sidecar was found for it).
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A sidecar declares a format version this library does not know.
    #[error(
        "sidecar {path}: format version {found} is not supported (this library reads version {supported})"
    )]
    SidecarVersion {
        /// The sidecar file.
        path: PathBuf,
        /// The `tessera_raw` value found.
        found: String,
        /// The version this library reads and writes.
        supported: u64,
    },
    /// The file's size does not match what its header or sidecar describes: the wrong dtype or shape
    /// would read garbage, so the file is refused.
    #[error(
        "{path}: size mismatch: the header says {expected} bytes (data offset + shape x itemsize) but the file holds {found} bytes"
    )]
    SizeMismatch {
        /// The data file.
        path: PathBuf,
        /// Bytes the description implies (data offset + shape × itemsize).
        expected: u64,
        /// Bytes the file holds.
        found: u64,
    },
    /// The file may not be written: opened read-write or created where the file or its directory is
    /// read-only, or a write was attempted through a read-only mapping.
    #[error("{path}: permission denied: {message}")]
    PermissionDenied {
        /// The file.
        path: PathBuf,
        /// What was refused.
        message: String,
        /// The operating system's error, when it refused.
        #[source]
        source: Option<std::io::Error>,
    },
    /// A file to be created exists already and overwriting was not asked for.
    #[error("{path} already exists (set overwrite to replace it)")]
    AlreadyExists {
        /// The file.
        path: PathBuf,
    },
    /// The array does not fit in this process's address space or in a `usize`.
    #[error("{0}")]
    TooLarge(String),
    /// An I/O operation failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// An error from the array layer: data types, selections, shapes, a Zarr store or codec.
    #[error(transparent)]
    Array(#[from] tessera_array::ArrayError),
}

impl MmapError {
    /// An I/O error about `path`; permission errors become [`MmapError::PermissionDenied`] and existing
    /// files [`MmapError::AlreadyExists`] so that callers can match on them.
    pub(crate) fn io(path: &Path, doing: &str, source: std::io::Error) -> MmapError {
        match source.kind() {
            std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem => {
                MmapError::PermissionDenied {
                    path: path.to_path_buf(),
                    message: doing.to_string(),
                    source: Some(source),
                }
            }
            std::io::ErrorKind::AlreadyExists => MmapError::AlreadyExists {
                path: path.to_path_buf(),
            },
            _ => MmapError::Io {
                path: path.to_path_buf(),
                source,
            },
        }
    }

    pub(crate) fn sidecar(path: &Path, message: impl Into<String>) -> MmapError {
        MmapError::Sidecar {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }
}

/// Array-layer errors from [`ArrayAccess`](tessera_array::ArrayAccess) come back unwrapped: an mmap error
/// that wraps one is unwrapped, others travel as a store error of the matching kind so that the
/// `ArrayAccess` signature can carry them.
impl From<MmapError> for tessera_array::ArrayError {
    fn from(err: MmapError) -> tessera_array::ArrayError {
        use tessera_store::{StoreError, StoreErrorKind};
        let kind = match &err {
            MmapError::Array(_) => StoreErrorKind::Io,
            MmapError::PermissionDenied { .. } => StoreErrorKind::PermissionDenied,
            MmapError::AlreadyExists { .. } => StoreErrorKind::AlreadyExists,
            _ => StoreErrorKind::Io,
        };
        match err {
            MmapError::Array(inner) => inner,
            other => tessera_array::ArrayError::Store(
                StoreError::new(kind, other.to_string()).with_source(other),
            ),
        }
    }
}

//! [`BenchError`]: everything that can stop a benchmark run.

use std::path::PathBuf;

/// Why a benchmark run failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BenchError {
    /// An argument that parsed but makes no sense (a size of zero, an unknown backend name, ...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A file or directory operation failed.
    #[error("{context} {}: {source}", path.display())]
    Io {
        /// What the harness was doing.
        context: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// tessera's array layer failed (a bug in tessera or a damaged dataset).
    #[error(transparent)]
    Array(#[from] tessera_array::ArrayError),
    /// tessera's mmap layer failed.
    #[error(transparent)]
    Mmap(#[from] tessera_mmap::MmapError),
    /// tessera's store layer failed.
    #[error(transparent)]
    Store(#[from] tessera_store::StoreError),
    /// The zarrs crate failed on the benchmark's arrays.
    #[error("zarrs: {0}")]
    Zarrs(Box<dyn std::error::Error + Send + Sync>),
    /// tessera's codecs refused an array's chunk or config while measuring its decode floor.
    #[error("{what}: {source}")]
    Codec {
        /// What the harness was decoding.
        what: String,
        /// The codec's error.
        source: tessera_codec::CodecError,
    },
    /// The `disk` scenario's block-I/O throttle could not be set up or joined.
    #[error("block-I/O throttle: {0}")]
    Throttle(String),
    /// The `s3` scenario's server or client could not be set up.
    #[error("S3 scenario: {0}")]
    S3(String),
    /// A workload child process failed or printed no result.
    #[error("the child process for {what} failed: {message}")]
    Child {
        /// The run (backend, array, workload, cache).
        what: String,
        /// Exit status and standard error.
        message: String,
    },
    /// The Python peers script failed.
    #[error("benches/peers.py ({backend}): {message}")]
    Peer {
        /// `tensorstore` or `zarr-python`, or `python` before a backend was chosen.
        backend: String,
        /// What went wrong, with the script's own message.
        message: String,
    },
    /// Backends delivered different data for the same workload: the run's numbers mean nothing.
    #[error("checksums disagree:\n  {}", .0.join("\n  "))]
    ChecksumMismatch(Vec<String>),
    /// Some runs failed (their messages); the others were measured and reported.
    #[error("{} runs failed:\n  {}", .0.len(), .0.join("\n  "))]
    RunsFailed(Vec<String>),
    /// Writing the chart failed.
    #[error("chart: {0}")]
    Chart(String),
    /// Reading or writing JSON failed.
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
}

impl BenchError {
    pub(crate) fn io(
        context: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        BenchError::Io {
            context,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn zarrs(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        BenchError::Zarrs(Box::new(e))
    }
}

/// The result type of the harness.
pub type BenchResult<T> = Result<T, BenchError>;

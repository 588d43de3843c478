//! The one error type of every store operation.

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::sync::Arc;

/// The result of a store operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// What went wrong, for callers that react differently to different failures.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoreErrorKind {
    /// A key or prefix breaks the [`StoreKey`](crate::StoreKey) rules.
    InvalidKey,
    /// Something that must exist does not: the root directory of a filesystem store, a bucket.
    /// (A missing *key* is not an error: reads return `Ok(None)`.)
    NotFound,
    /// The operating system or the remote service refused access, credentials were missing or
    /// invalid, or a key resolves outside the store's root through a symlink.
    PermissionDenied,
    /// A local I/O failure.
    Io,
    /// A failure talking to a remote store: transport, protocol, or a service error.
    Remote,
    /// A byte range that does not lie within the stored value.
    InvalidRange,
    /// The backend cannot do this operation.
    NotSupported,
    /// A value that must not exist already does.
    AlreadyExists,
    /// A conditional request's precondition failed.
    Precondition,
    /// A store location (URL or path) that cannot be opened as given.
    InvalidUrl,
    /// A store's configuration is incomplete or inconsistent (for instance a missing region or
    /// malformed credentials).
    InvalidConfig,
    /// Something other than a regular file stands where a value should be in a filesystem store: a
    /// FIFO, a socket, a device or a directory. It is refused at once, never waited on and never
    /// read as a missing value.
    NotAFile,
    /// An operation gave up after the configured time or number of attempts (a lock held by another
    /// process, a value other writers kept changing, a request that kept failing).
    Timeout,
}

impl StoreErrorKind {
    fn describe(self) -> &'static str {
        match self {
            StoreErrorKind::InvalidKey => "invalid key",
            StoreErrorKind::NotFound => "not found",
            StoreErrorKind::PermissionDenied => "permission denied",
            StoreErrorKind::Io => "I/O error",
            StoreErrorKind::Remote => "remote store error",
            StoreErrorKind::InvalidRange => "invalid byte range",
            StoreErrorKind::NotSupported => "not supported",
            StoreErrorKind::AlreadyExists => "already exists",
            StoreErrorKind::Precondition => "precondition failed",
            StoreErrorKind::InvalidUrl => "invalid store location",
            StoreErrorKind::InvalidConfig => "invalid store configuration",
            StoreErrorKind::NotAFile => "not a regular file",
            StoreErrorKind::Timeout => "gave up",
        }
    }
}

impl fmt::Display for StoreErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// A failed store operation: its [kind](StoreError::kind), the key it concerned (if any), a
/// message saying what was being done, and the underlying error as [`source()`](StdError::source).
///
/// `Display` shows the kind, the key and the message; the cause is reached through `source()`,
/// never copied into the message. The error is cheap to clone (the source is shared).
#[derive(Clone)]
pub struct StoreError {
    kind: StoreErrorKind,
    key: Option<String>,
    message: String,
    source: Option<Arc<dyn StdError + Send + Sync + 'static>>,
}

impl StoreError {
    /// A new error of `kind` with a message saying what happened.
    pub fn new(kind: StoreErrorKind, message: impl Into<String>) -> Self {
        StoreError {
            kind,
            key: None,
            message: message.into(),
            source: None,
        }
    }

    /// Names the key (or prefix, or location) the error concerns.
    pub fn with_key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Attaches the underlying error.
    pub fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> StoreErrorKind {
        self.kind
    }

    /// The key, prefix or location the error concerns, if any.
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// What was being done, in words.
    pub fn message(&self) -> &str {
        &self.message
    }

    pub(crate) fn invalid_key(key: impl Into<String>, why: &str) -> Self {
        StoreError::new(StoreErrorKind::InvalidKey, why).with_key(key)
    }

    /// Maps an I/O error to a kind, keeping it as the source.
    pub(crate) fn io(err: io::Error, key: impl Into<String>, doing: &str) -> Self {
        let kind = match err.kind() {
            io::ErrorKind::NotFound => StoreErrorKind::NotFound,
            io::ErrorKind::PermissionDenied => StoreErrorKind::PermissionDenied,
            io::ErrorKind::AlreadyExists => StoreErrorKind::AlreadyExists,
            io::ErrorKind::Unsupported => StoreErrorKind::NotSupported,
            _ => StoreErrorKind::Io,
        };
        StoreError::new(kind, doing).with_key(key).with_source(err)
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.key {
            Some(key) => write!(f, "{} for {:?}: {}", self.kind, key, self.message),
            None => write!(f, "{}: {}", self.kind, self.message),
        }
    }
}

impl StdError for StoreError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        // The shared source itself, not the `Arc` around it, so callers can downcast it.
        self.source
            .as_deref()
            .map(|source| source as &(dyn StdError + 'static))
    }
}

impl fmt::Debug for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("StoreError");
        d.field("kind", &self.kind);
        if let Some(key) = &self.key {
            d.field("key", key);
        }
        d.field("message", &self.message);
        if let Some(source) = &self.source {
            d.field("source", source);
        }
        d.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_source_and_names_key() {
        let io = io::Error::new(io::ErrorKind::PermissionDenied, "nope");
        let err = StoreError::io(io, "a/b", "reading the file");
        assert_eq!(err.kind(), StoreErrorKind::PermissionDenied);
        assert_eq!(err.key(), Some("a/b"));
        assert_eq!(
            err.to_string(),
            "permission denied for \"a/b\": reading the file"
        );
        let source = err.source().expect("source kept");
        assert_eq!(source.to_string(), "nope");
        assert!(source.downcast_ref::<io::Error>().is_some());
    }
}

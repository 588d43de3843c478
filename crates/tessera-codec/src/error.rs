//! The one error type of this crate, and the size rules every decoder shares.

use std::error::Error as StdError;
use std::fmt;

/// What went wrong, for callers that react differently to each case.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodecErrorKind {
    /// The config names a codec id this crate does not know.
    UnknownCodec,
    /// The config has a missing, mistyped or out-of-range field, or does not fit the data
    /// (e.g. a filter dtype whose itemsize does not divide the chunk).
    InvalidConfig,
    /// The encoded bytes are garbage, truncated, or fail their checksum.
    Corrupt,
    /// The data decodes to more or fewer bytes than the chunk size the caller expects, by a
    /// plausible amount (at most [`SIZE_SLACK`] bytes more).
    SizeMismatch,
    /// A header claims, or a stream produces, far more than the expected size (more than
    /// [`SIZE_SLACK`] bytes beyond it, or beyond what the format allows): a decompression bomb
    /// or a broken header. Refused before allocating or writing beyond the expected size.
    TooLarge,
    /// A known codec or option this crate does not implement (e.g. blosc's snappy, object
    /// dtypes, a compressor used as a filter).
    Unsupported,
    /// A failure inside a compression library that is not the input's fault.
    Internal,
}

impl fmt::Display for CodecErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CodecErrorKind::UnknownCodec => "unknown codec",
            CodecErrorKind::InvalidConfig => "invalid config",
            CodecErrorKind::Corrupt => "corrupt input",
            CodecErrorKind::SizeMismatch => "size mismatch",
            CodecErrorKind::TooLarge => "too large",
            CodecErrorKind::Unsupported => "unsupported",
            CodecErrorKind::Internal => "internal error",
        })
    }
}

/// How far beyond the expected size a decoder looks before it calls the data a bomb:
/// data that decodes to at most this many bytes more than expected is a
/// [`CodecErrorKind::SizeMismatch`], anything larger is [`CodecErrorKind::TooLarge`].
/// Streaming decoders probe the excess through a small scratch buffer, so memory stays bounded.
pub const SIZE_SLACK: usize = 1 << 20;

/// An error from building, encoding or decoding with a codec: its [`kind`](Self::kind), the
/// numcodecs id of the codec that failed, a message, and the library error behind it if any
/// (through [`std::error::Error::source`]). Displays as `codec: kind: message`.
#[derive(Debug, thiserror::Error)]
#[error("{codec}: {kind}: {message}")]
pub struct CodecError {
    kind: CodecErrorKind,
    codec: String,
    message: String,
    #[source]
    source: Option<Box<dyn StdError + Send + Sync + 'static>>,
}

/// The result of every fallible operation in this crate.
pub type CodecResult<T> = Result<T, CodecError>;

impl CodecError {
    /// A new error of `kind` raised by the codec `codec` (its numcodecs id).
    pub fn new(kind: CodecErrorKind, codec: impl Into<String>, message: impl Into<String>) -> Self {
        CodecError {
            kind,
            codec: codec.into(),
            message: message.into(),
            source: None,
        }
    }

    /// Attaches the underlying library error.
    pub fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> CodecErrorKind {
        self.kind
    }

    /// The numcodecs id of the codec that failed (`"blosc"`, `"delta"`, ...; `"chain"` for
    /// errors about the list of codecs itself).
    pub fn codec(&self) -> &str {
        &self.codec
    }

    /// The human-readable detail, without the codec id and kind.
    pub fn message(&self) -> &str {
        &self.message
    }

    pub(crate) fn invalid(codec: &str, message: impl Into<String>) -> Self {
        Self::new(CodecErrorKind::InvalidConfig, codec, message)
    }

    pub(crate) fn corrupt(codec: &str, message: impl Into<String>) -> Self {
        Self::new(CodecErrorKind::Corrupt, codec, message)
    }

    pub(crate) fn unsupported(codec: &str, message: impl Into<String>) -> Self {
        Self::new(CodecErrorKind::Unsupported, codec, message)
    }

    pub(crate) fn internal(codec: &str, message: impl Into<String>) -> Self {
        Self::new(CodecErrorKind::Internal, codec, message)
    }

    /// The data decodes to `actual` bytes where `expected` were expected (`actual` known
    /// exactly, e.g. from a header or because the stream ended).
    pub(crate) fn size(codec: &str, expected: usize, actual: u64) -> Self {
        if actual > expected as u64 + SIZE_SLACK as u64 {
            Self::new(
                CodecErrorKind::TooLarge,
                codec,
                format!("data claims to decode to {actual} bytes, expected {expected}"),
            )
        } else {
            Self::new(
                CodecErrorKind::SizeMismatch,
                codec,
                format!("data decodes to {actual} bytes, expected {expected}"),
            )
        }
    }

    /// The data produces more than `expected + SIZE_SLACK` bytes (its true size unknown).
    pub(crate) fn bomb(codec: &str, expected: usize) -> Self {
        Self::new(
            CodecErrorKind::TooLarge,
            codec,
            format!(
                "data decodes to more than {} bytes, expected {expected}",
                expected.saturating_add(SIZE_SLACK)
            ),
        )
    }
}

//! Byte ranges of a stored value.

use std::fmt;
use std::ops::Range;

use crate::error::{StoreError, StoreErrorKind, StoreResult};

/// A part of a stored value, as [`ReadableStore::get_range`](crate::ReadableStore::get_range)
/// reads it.
///
/// Every backend applies the same rule: the range must lie within the value, otherwise the read
/// fails with [`StoreErrorKind::InvalidRange`]; it is never silently truncated.
///
/// ```
/// use tessera_store::ByteRange;
/// assert_eq!(ByteRange::FromStart { offset: 2, length: Some(3) }.resolve(10).unwrap(), 2..5);
/// assert_eq!(ByteRange::FromStart { offset: 4, length: None }.resolve(10).unwrap(), 4..10);
/// assert_eq!(ByteRange::FromStart { offset: 10, length: None }.resolve(10).unwrap(), 10..10);
/// assert_eq!(ByteRange::Suffix(3).resolve(10).unwrap(), 7..10);
/// assert!(ByteRange::FromStart { offset: 8, length: Some(3) }.resolve(10).is_err());
/// assert!(ByteRange::FromStart { offset: 11, length: None }.resolve(10).is_err());
/// assert!(ByteRange::Suffix(11).resolve(10).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ByteRange {
    /// `length` bytes starting at `offset`, or everything from `offset` to the end when `length`
    /// is `None`. `offset` may equal the value's size (an empty read), not exceed it.
    FromStart {
        /// The first byte read.
        offset: u64,
        /// How many bytes to read; `None` reads to the end.
        length: Option<u64>,
    },
    /// The last `n` bytes; `n` must not exceed the value's size.
    Suffix(u64),
}

impl ByteRange {
    /// All of the value.
    pub const ALL: ByteRange = ByteRange::FromStart {
        offset: 0,
        length: None,
    };

    /// The range `start..end` as a `FromStart` range.
    pub fn from_range(range: Range<u64>) -> Self {
        ByteRange::FromStart {
            offset: range.start,
            length: Some(range.end.saturating_sub(range.start)),
        }
    }

    /// The absolute byte positions this range selects in a value of `size` bytes.
    ///
    /// # Errors
    /// [`StoreErrorKind::InvalidRange`] when the range does not lie within `0..size`.
    pub fn resolve(&self, size: u64) -> StoreResult<Range<u64>> {
        let range = match *self {
            ByteRange::FromStart { offset, length } => {
                let end = match length {
                    Some(length) => offset.checked_add(length),
                    None => Some(size),
                };
                match end {
                    Some(end) if offset <= size && end <= size && offset <= end => offset..end,
                    _ => return Err(self.past_end(size)),
                }
            }
            ByteRange::Suffix(n) if n <= size => size - n..size,
            ByteRange::Suffix(_) => return Err(self.past_end(size)),
        };
        Ok(range)
    }

    pub(crate) fn past_end(&self, size: u64) -> StoreError {
        StoreError::new(
            StoreErrorKind::InvalidRange,
            format!("byte range {self} does not lie within the value of {size} bytes"),
        )
    }
}

/// Checks that every range of a ranged read lies within a value of `size` bytes.
pub(crate) fn check_ranges(ranges: &[Range<u64>], size: u64) -> StoreResult<()> {
    match ranges.iter().find(|r| r.start > r.end || r.end > size) {
        Some(r) => Err(StoreError::new(
            StoreErrorKind::InvalidRange,
            format!(
                "byte range {}..{} does not lie within the value of {size} bytes",
                r.start, r.end
            ),
        )),
        None => Ok(()),
    }
}

impl fmt::Display for ByteRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ByteRange::FromStart {
                offset,
                length: Some(length),
            } => write!(f, "{offset}..{}", offset as u128 + length as u128),
            ByteRange::FromStart {
                offset,
                length: None,
            } => write!(f, "{offset}.."),
            ByteRange::Suffix(n) => write!(f, "last {n} bytes"),
        }
    }
}

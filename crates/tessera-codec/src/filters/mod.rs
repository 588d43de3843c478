//! Filters: the `filters` of a `.zarray`, applied in order before the compressor on encode and
//! in reverse after it on decode. Their encoded size follows from the decoded size, so every
//! stage of a decode writes into a buffer of known length.

pub mod astype;
pub mod base64;
pub mod bitround;
pub mod categorize;
pub mod checksum32;
pub mod delta;
pub mod fixedscaleoffset;
pub mod fletcher32;
pub mod jenkins_lookup3;
pub mod packbits;
pub mod quantize;
pub mod shuffle;

use crate::error::{CodecError, CodecResult};

/// Checks that a filter's input has the length its decoded size implies.
pub(crate) fn expect_len(codec: &str, input: &[u8], expected: usize) -> CodecResult<()> {
    if input.len() != expected {
        return Err(CodecError::size(codec, expected, input.len() as u64));
    }
    Ok(())
}

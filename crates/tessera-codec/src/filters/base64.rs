//! `base64`: the chunk as standard base64 text (RFC 4648 alphabet, `=` padding).
//!
//! numcodecs: `numcodecs/base64.py` (Python's `base64.standard_b64encode`). The encoded size
//! follows from the decoded size (4 characters per 3 bytes, rounded up), so base64 works as a
//! filter or as the compressor. Decoding is strict: Python's decoder skips characters outside
//! the alphabet (e.g. line breaks), which numcodecs never writes; tessera calls them corrupt.
//!
//! ```
//! use tessera_codec::{CodecChain, Value};
//! let config: Value = serde_json::json!({"id": "base64"});
//! let chain = CodecChain::from_json(Some(&config), None)?;
//! assert_eq!(chain.encode(b"tessera", 1)?, b"dGVzc2VyYQ==");
//! assert_eq!(chain.decode(b"dGVzc2VyYQ==", 7, 1)?, b"tessera");
//! # Ok::<(), tessera_codec::CodecError>(())
//! ```

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use crate::codec::Codec;
use crate::config::Config;
use crate::error::{CodecError, CodecResult};

/// The numcodecs id.
pub const ID: &str = "base64";

/// The config fields besides `"id"`: none.
pub const FIELDS: &[&str] = &[];

/// The base64 codec.
#[derive(Debug, Clone)]
pub struct Base64;

impl Base64 {
    /// Reads a numcodecs base64 config (`{"id": "base64"}`).
    pub fn from_json(config: &Value) -> CodecResult<Self> {
        Config::new(ID, config, FIELDS)?;
        Ok(Base64)
    }
}

impl Codec for Base64 {
    fn id(&self) -> &'static str {
        ID
    }

    fn encode(&self, input: &[u8], _itemsize: usize) -> CodecResult<Vec<u8>> {
        Ok(STANDARD.encode(input).into_bytes())
    }

    fn decode_into(&self, input: &[u8], out: &mut [u8], _itemsize: usize) -> CodecResult<()> {
        if !input.len().is_multiple_of(4) {
            return Err(CodecError::corrupt(
                ID,
                format!(
                    "{} characters is not a whole number of 4-character groups",
                    input.len()
                ),
            ));
        }
        let padding = input.iter().rev().take(2).filter(|&&c| c == b'=').count();
        // The exact decoded size, checked before decoding so that nothing is written past `out`.
        let decoded = (input.len() / 4 * 3).saturating_sub(padding);
        if decoded != out.len() {
            return Err(CodecError::size(ID, out.len(), decoded as u64));
        }
        let n = STANDARD
            .decode_slice(input, out)
            .map_err(|e| CodecError::corrupt(ID, "invalid base64").with_source(e))?;
        if n != out.len() {
            return Err(CodecError::size(ID, out.len(), n as u64));
        }
        Ok(())
    }

    fn encoded_len(&self, decoded_len: usize, _itemsize: usize) -> CodecResult<Option<usize>> {
        Ok(Some(decoded_len.div_ceil(3) * 4))
    }

    fn encoded_itemsize(&self, _itemsize: usize) -> usize {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrips_every_padding() {
        for len in 0..10usize {
            let data: Vec<u8> = (0..len as u8).map(|i| i.wrapping_mul(37)).collect();
            let enc = Base64.encode(&data, 1).unwrap();
            assert_eq!(Some(enc.len()), Base64.encoded_len(len, 1).unwrap());
            let mut out = vec![0u8; len];
            Base64.decode_into(&enc, &mut out, 1).unwrap();
            assert_eq!(out, data);
        }
    }

    #[test]
    fn bad_input_is_typed() {
        let mut out = [0u8; 3];
        let kind = |r: CodecResult<()>| r.unwrap_err().kind();
        use crate::CodecErrorKind::*;
        assert_eq!(kind(Base64.decode_into(b"AAA", &mut out, 1)), Corrupt);
        assert_eq!(kind(Base64.decode_into(b"A\nAA", &mut out, 1)), Corrupt);
        assert_eq!(
            kind(Base64.decode_into(b"AAAAAAAA", &mut out, 1)),
            SizeMismatch
        );
        assert_eq!(kind(Base64.decode_into(b"AA==", &mut out, 1)), SizeMismatch);
    }
}

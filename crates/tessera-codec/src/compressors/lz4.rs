//! `lz4`: numcodecs' LZ4 framing, a 4-byte little-endian decoded size followed by one raw LZ4
//! block (not the LZ4 frame format).
//!
//! Spec: <https://github.com/lz4/lz4/blob/dev/doc/lz4_Block_format.md>; numcodecs:
//! `numcodecs/lz4.pyx`. Uses liblz4 through `lz4-sys` (already linked for blosc), so
//! `acceleration` behaves, and output matches, as in numcodecs.
//!
//! ```
//! use tessera_codec::{CodecChain, Value};
//! let config: Value = serde_json::json!({"id": "lz4", "acceleration": 1});
//! let chain = CodecChain::from_json(Some(&config), None)?;
//! let blob = chain.encode(&[1u8; 1000], 1)?;
//! assert_eq!(&blob[..4], &1000u32.to_le_bytes());
//! assert_eq!(chain.decode(&blob, 1000, 1)?, vec![1u8; 1000]);
//! # Ok::<(), tessera_codec::CodecError>(())
//! ```

use std::ffi::c_int;

use serde_json::Value;

use crate::codec::Codec;
use crate::config::Config;
use crate::error::{CodecError, CodecErrorKind, CodecResult};

/// The numcodecs id.
pub const ID: &str = "lz4";

/// The config fields besides `"id"`, as numcodecs' `get_config` writes them; others are refused.
pub const FIELDS: &[&str] = &["acceleration"];

/// The largest input numcodecs' LZ4 accepts (`LZ4_MAX_INPUT_SIZE`).
const MAX_INPUT: usize = 0x7E00_0000;

/// The LZ4 compressor with numcodecs' size header.
#[derive(Debug, Clone)]
pub struct Lz4 {
    acceleration: c_int,
}

impl Lz4 {
    /// Reads a numcodecs lz4 config. Default acceleration 1; values <= 0 mean 1, as numcodecs.
    pub fn from_json(config: &Value) -> CodecResult<Self> {
        let c = Config::new(ID, config, FIELDS)?;
        let a = c.int_or("acceleration", 1)?;
        let acceleration = if a <= 0 { 1 } else { a.min(65537) as c_int };
        Ok(Lz4 { acceleration })
    }
}

impl Codec for Lz4 {
    fn id(&self) -> &'static str {
        ID
    }

    fn encode(&self, input: &[u8], _itemsize: usize) -> CodecResult<Vec<u8>> {
        if input.len() > MAX_INPUT {
            return Err(CodecError::new(
                CodecErrorKind::TooLarge,
                ID,
                format!("LZ4 cannot compress {} bytes", input.len()),
            ));
        }
        // SAFETY: pure function of its argument.
        let bound = unsafe { lz4_sys::LZ4_compressBound(input.len() as c_int) };
        let mut out = vec![0u8; 4 + bound.max(0) as usize];
        out[..4].copy_from_slice(&(input.len() as u32).to_le_bytes());
        // SAFETY: `input` is readable for its length and `out[4..]` writable for `bound` bytes.
        let n = unsafe {
            lz4_sys::LZ4_compress_fast(
                input.as_ptr().cast(),
                out[4..].as_mut_ptr().cast(),
                input.len() as c_int,
                bound,
                self.acceleration,
            )
        };
        if n <= 0 && !input.is_empty() {
            return Err(CodecError::internal(
                ID,
                format!("LZ4_compress_fast failed with {n}"),
            ));
        }
        out.truncate(4 + n.max(0) as usize);
        Ok(out)
    }

    fn decode_into(&self, input: &[u8], out: &mut [u8], _itemsize: usize) -> CodecResult<()> {
        if input.len() < 4 {
            return Err(CodecError::corrupt(
                ID,
                "shorter than the 4-byte size header",
            ));
        }
        let claimed = i32::from_le_bytes(input[..4].try_into().expect("4 bytes"));
        if claimed < 0 {
            return Err(CodecError::corrupt(
                ID,
                format!("negative size header {claimed}"),
            ));
        }
        if claimed as usize != out.len() {
            return Err(CodecError::size(ID, out.len(), claimed as u64));
        }
        let block = &input[4..];
        if out.is_empty() {
            // liblz4 writes a single 0 token for empty input.
            return if block == [0] || block.is_empty() {
                Ok(())
            } else {
                Err(CodecError::corrupt(
                    ID,
                    "non-empty block for an empty chunk",
                ))
            };
        }
        if block.len() > c_int::MAX as usize {
            return Err(CodecError::corrupt(ID, "block too large"));
        }
        // SAFETY: LZ4_decompress_safe never reads beyond `block.len()` nor writes beyond
        // `out.len()`, whatever the input.
        let n = unsafe {
            lz4_sys::LZ4_decompress_safe(
                block.as_ptr().cast(),
                out.as_mut_ptr().cast(),
                block.len() as c_int,
                out.len() as c_int,
            )
        };
        if n < 0 {
            return Err(CodecError::corrupt(
                ID,
                format!("invalid LZ4 block (error {n})"),
            ));
        }
        if n as usize != out.len() {
            return Err(CodecError::size(ID, out.len(), n as u64));
        }
        Ok(())
    }

    fn encoded_len(&self, _decoded_len: usize, _itemsize: usize) -> CodecResult<Option<usize>> {
        Ok(None)
    }

    fn decode_unsized(
        &self,
        input: &[u8],
        max_len: usize,
        itemsize: usize,
    ) -> CodecResult<Vec<u8>> {
        let claimed = input
            .get(..4)
            .map(|h| i32::from_le_bytes(h.try_into().expect("4 bytes")))
            .ok_or_else(|| CodecError::corrupt(ID, "shorter than the 4-byte size header"))?;
        let claimed = usize::try_from(claimed)
            .map_err(|_| CodecError::corrupt(ID, format!("negative size header {claimed}")))?;
        if claimed > max_len {
            return Err(crate::compressors::stream::over_limit(ID, max_len));
        }
        let mut out = vec![0u8; claimed];
        self.decode_into(input, &mut out, itemsize)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn roundtrip_and_errors() {
        let l = Lz4::from_json(&json!({"id": "lz4", "acceleration": 10})).unwrap();
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 100) as u8).collect();
        let enc = l.encode(&data, 1).unwrap();
        let mut out = vec![0u8; data.len()];
        l.decode_into(&enc, &mut out, 1).unwrap();
        assert_eq!(out, data);
        assert_eq!(
            l.decode_into(&enc[..enc.len() - 1], &mut out, 1)
                .unwrap_err()
                .kind(),
            CodecErrorKind::Corrupt
        );
        let mut huge = enc.clone();
        huge[..4].copy_from_slice(&i32::MAX.to_le_bytes());
        assert_eq!(
            l.decode_into(&huge, &mut out, 1).unwrap_err().kind(),
            CodecErrorKind::TooLarge
        );
        let enc0 = l.encode(&[], 1).unwrap();
        l.decode_into(&enc0, &mut [], 1).unwrap();
    }
}

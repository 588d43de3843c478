//! `bitround`: rounds floats to `keepbits` mantissa bits (round half to even in the kept bits),
//! zeroing the rest so that a compressor after it does better. Decoding is the identity.
//!
//! numcodecs: `numcodecs/bitround.py`. The config names no dtype: the element type is the
//! chunk's, so this filter reads elements as IEEE floats of `itemsize` bytes (2, 4 or 8) in
//! little-endian order; it must come first in the filter list, on little-endian float arrays.
//!
//! ```
//! use tessera_codec::{CodecChain, Value};
//! let filters = [serde_json::json!({"id": "bitround", "keepbits": 3})];
//! let chain = CodecChain::from_json(None, Some(&filters))?;
//! let blob = chain.encode(&1.3f32.to_le_bytes(), 4)?;
//! assert_eq!(f32::from_le_bytes(blob[..].try_into().unwrap()), 1.25);
//! # Ok::<(), tessera_codec::CodecError>(())
//! ```

use serde_json::Value;

use crate::codec::Codec;
use crate::config::Config;
use crate::error::{CodecError, CodecResult};
use crate::filters::expect_len;

/// The numcodecs id.
pub const ID: &str = "bitround";

/// The config fields besides `"id"`, as numcodecs' `get_config` writes them; others are refused.
pub const FIELDS: &[&str] = &["keepbits"];

/// The bitround filter.
#[derive(Debug, Clone)]
pub struct BitRound {
    keepbits: u32,
}

impl BitRound {
    /// Reads a numcodecs bitround config: `keepbits` (required, >= 0).
    pub fn from_json(config: &Value) -> CodecResult<Self> {
        let c = Config::new(ID, config, FIELDS)?;
        let keepbits = c.required_int("keepbits")?;
        if !(0..=52).contains(&keepbits) {
            return Err(CodecError::invalid(
                ID,
                format!("keepbits must be 0..=52, got {keepbits}"),
            ));
        }
        Ok(BitRound {
            keepbits: keepbits as u32,
        })
    }
}

/// Rounds one element held in the low `bits + ...` of `b` (`mantissa` bits of mantissa).
#[inline]
fn round_bits(b: i64, mantissa: u32, keepbits: u32, width: u32) -> i64 {
    let maskbits = mantissa - keepbits;
    let shift = 64 - width;
    // Work in the element's own signed width, as numpy does on the integer view.
    let sx = |x: i64| (x << shift) >> shift;
    let mask = sx((-1i64 >> maskbits) << maskbits);
    let half_quantum1 = (1i64 << (maskbits - 1)) - 1;
    let b = sx(b.wrapping_add(((b >> maskbits) & 1) + half_quantum1));
    b & mask
}

impl Codec for BitRound {
    fn id(&self) -> &'static str {
        ID
    }

    fn encode(&self, input: &[u8], itemsize: usize) -> CodecResult<Vec<u8>> {
        let mantissa = match itemsize {
            2 => 10,
            4 => 23,
            8 => 52,
            _ => {
                return Err(CodecError::invalid(
                    ID,
                    format!(
                        "only 2, 4 or 8-byte floats can be bit-rounded, got itemsize {itemsize}"
                    ),
                ));
            }
        };
        if !input.len().is_multiple_of(itemsize) {
            return Err(CodecError::invalid(
                ID,
                format!("{} bytes is not a whole number of elements", input.len()),
            ));
        }
        if self.keepbits > mantissa {
            return Err(CodecError::invalid(
                ID,
                "keepbits too large for the data type",
            ));
        }
        let mut out = input.to_vec();
        if self.keepbits == mantissa {
            return Ok(out);
        }
        let width = 8 * itemsize as u32;
        for e in out.chunks_exact_mut(itemsize) {
            let mut buf = [0u8; 8];
            buf[..itemsize].copy_from_slice(e);
            let raw = u64::from_le_bytes(buf) as i64;
            let signed = (raw << (64 - width)) >> (64 - width);
            let r = round_bits(signed, mantissa, self.keepbits, width);
            e.copy_from_slice(&r.to_le_bytes()[..itemsize]);
        }
        Ok(out)
    }

    fn decode_into(&self, input: &[u8], out: &mut [u8], _itemsize: usize) -> CodecResult<()> {
        expect_len(ID, input, out.len())?;
        out.copy_from_slice(input);
        Ok(())
    }

    fn encoded_len(&self, decoded_len: usize, _itemsize: usize) -> CodecResult<Option<usize>> {
        Ok(Some(decoded_len))
    }
}

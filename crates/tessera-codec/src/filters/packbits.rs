//! `packbits`: packs a boolean chunk eight values to a byte, most significant bit first, after
//! a header byte giving the number of padding bits in the last byte.
//!
//! numcodecs: `numcodecs/packbits.py`. Any nonzero byte encodes as true; decoding yields 0 or 1.
//!
//! ```
//! use tessera_codec::{CodecChain, Value};
//! let filters = [serde_json::json!({"id": "packbits"})];
//! let chain = CodecChain::from_json(None, Some(&filters))?;
//! let bits = [1u8, 0, 1, 1, 0, 0, 0, 0, 1, 1];
//! assert_eq!(chain.encode(&bits, 1)?, [6, 0b1011_0000, 0b1100_0000]);
//! assert_eq!(chain.decode(&[6, 0b1011_0000, 0b1100_0000], 10, 1)?, bits);
//! # Ok::<(), tessera_codec::CodecError>(())
//! ```

use serde_json::Value;

use crate::codec::Codec;
use crate::config::Config;
use crate::error::{CodecError, CodecResult};
use crate::filters::expect_len;

/// The numcodecs id.
pub const ID: &str = "packbits";

/// The config fields besides `"id"`, as numcodecs' `get_config` writes them; others are refused.
pub const FIELDS: &[&str] = &[];

/// The packbits filter.
#[derive(Debug, Clone)]
pub struct PackBits;

impl PackBits {
    /// Reads a numcodecs packbits config (it has no options).
    pub fn from_json(config: &Value) -> CodecResult<Self> {
        Config::new(ID, config, FIELDS)?;
        Ok(PackBits)
    }
}

impl Codec for PackBits {
    fn id(&self) -> &'static str {
        ID
    }

    fn encode(&self, input: &[u8], _itemsize: usize) -> CodecResult<Vec<u8>> {
        let mut out = vec![0u8; 1 + input.len().div_ceil(8)];
        out[0] = ((8 - input.len() % 8) % 8) as u8;
        for (o, bits) in out[1..].iter_mut().zip(input.chunks(8)) {
            *o = bits
                .iter()
                .enumerate()
                .fold(0u8, |acc, (j, &b)| acc | (((b != 0) as u8) << (7 - j)));
        }
        Ok(out)
    }

    fn decode_into(&self, input: &[u8], out: &mut [u8], itemsize: usize) -> CodecResult<()> {
        expect_len(
            ID,
            input,
            self.encoded_len(out.len(), itemsize)?.unwrap_or_default(),
        )?;
        let padding = ((8 - out.len() % 8) % 8) as u8;
        if input[0] != padding {
            return Err(CodecError::size(
                ID,
                out.len(),
                ((input.len() - 1) * 8).saturating_sub(input[0] as usize) as u64,
            ));
        }
        for (bits, &byte) in out.chunks_mut(8).zip(&input[1..]) {
            for (j, b) in bits.iter_mut().enumerate() {
                *b = (byte >> (7 - j)) & 1;
            }
        }
        Ok(())
    }

    fn encoded_len(&self, decoded_len: usize, _itemsize: usize) -> CodecResult<Option<usize>> {
        Ok(Some(1 + decoded_len.div_ceil(8)))
    }

    fn encoded_itemsize(&self, _itemsize: usize) -> usize {
        1
    }
}

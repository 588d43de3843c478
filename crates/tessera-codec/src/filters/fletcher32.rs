//! `fletcher32`: the HDF5/netCDF Fletcher-32 checksum (16-bit big-endian words), stored
//! little-endian after the chunk. Decoding verifies it.
//!
//! numcodecs: `numcodecs/fletcher32.pyx` (after netCDF-c's `H5checksum.c`; not the textbook
//! Fletcher-32).
//!
//! ```
//! use tessera_codec::{CodecChain, Value};
//! let filters = [serde_json::json!({"id": "fletcher32"})];
//! let chain = CodecChain::from_json(None, Some(&filters))?;
//! let blob = chain.encode(b"abcde", 1)?;
//! assert_eq!(blob.len(), 9);
//! assert_eq!(chain.decode(&blob, 5, 1)?, b"abcde");
//! # Ok::<(), tessera_codec::CodecError>(())
//! ```

use serde_json::Value;

use crate::codec::Codec;
use crate::config::Config;
use crate::error::{CodecError, CodecResult};
use crate::filters::expect_len;

/// The numcodecs id.
pub const ID: &str = "fletcher32";

/// The config fields besides `"id"`, as numcodecs' `get_config` writes them; others are refused.
pub const FIELDS: &[&str] = &[];

/// The fletcher32 filter.
#[derive(Debug, Clone)]
pub struct Fletcher32;

impl Fletcher32 {
    /// Reads a numcodecs fletcher32 config (it has no options).
    pub fn from_json(config: &Value) -> CodecResult<Self> {
        Config::new(ID, config, FIELDS)?;
        Ok(Fletcher32)
    }
}

/// The checksum: sums of 16-bit big-endian words folded every 360 words; an odd last byte is
/// the high byte of a final word.
pub(crate) fn fletcher32(data: &[u8]) -> u32 {
    let (mut sum1, mut sum2) = (0u32, 0u32);
    let even = data.len() & !1;
    for block in data[..even].chunks(720) {
        for w in block.chunks_exact(2) {
            sum1 = sum1.wrapping_add(((w[0] as u32) << 8) | w[1] as u32);
            sum2 = sum2.wrapping_add(sum1);
        }
        sum1 = (sum1 & 0xffff) + (sum1 >> 16);
        sum2 = (sum2 & 0xffff) + (sum2 >> 16);
    }
    let odd = data.get(even).copied();
    if let Some(b) = odd {
        sum1 = sum1.wrapping_add((b as u32) << 8);
        sum2 = sum2.wrapping_add(sum1);
        sum1 = (sum1 & 0xffff) + (sum1 >> 16);
        sum2 = (sum2 & 0xffff) + (sum2 >> 16);
    }
    sum1 = (sum1 & 0xffff) + (sum1 >> 16);
    sum2 = (sum2 & 0xffff) + (sum2 >> 16);
    (sum2 << 16) | sum1
}

impl Codec for Fletcher32 {
    fn id(&self) -> &'static str {
        ID
    }

    fn encode(&self, input: &[u8], _itemsize: usize) -> CodecResult<Vec<u8>> {
        let mut out = Vec::with_capacity(input.len() + 4);
        out.extend_from_slice(input);
        out.extend_from_slice(&fletcher32(input).to_le_bytes());
        Ok(out)
    }

    fn decode_into(&self, input: &[u8], out: &mut [u8], _itemsize: usize) -> CodecResult<()> {
        if input.len() < 4 {
            return Err(CodecError::corrupt(ID, "shorter than the 4-byte checksum"));
        }
        expect_len(ID, input, out.len() + 4)?;
        let (payload, stored) = input.split_at(input.len() - 4);
        let stored = u32::from_le_bytes(stored.try_into().expect("4 bytes"));
        let computed = fletcher32(payload);
        if stored != computed {
            return Err(CodecError::corrupt(
                ID,
                format!("stored checksum {stored:#010x} does not match computed {computed:#010x}"),
            ));
        }
        out.copy_from_slice(payload);
        Ok(())
    }

    fn encoded_len(&self, decoded_len: usize, _itemsize: usize) -> CodecResult<Option<usize>> {
        Ok(Some(decoded_len + 4))
    }

    fn encoded_itemsize(&self, _itemsize: usize) -> usize {
        1
    }
}

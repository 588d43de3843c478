//! `shuffle`: byte shuffle with a fixed `elementsize`: all first bytes of the elements, then all
//! second bytes, and so on (what blosc's SHUFFLE does inside each block, here over the whole
//! chunk).
//!
//! numcodecs: `numcodecs/shuffle.py`, `numcodecs/_shuffle.pyx`. The chunk must be a whole
//! number of elements (numcodecs raises otherwise); `elementsize` <= 1 copies the bytes.
//!
//! ```
//! use tessera_codec::{CodecChain, Value};
//! let filters = [serde_json::json!({"id": "shuffle", "elementsize": 2})];
//! let chain = CodecChain::from_json(None, Some(&filters))?;
//! assert_eq!(chain.encode(&[1, 2, 3, 4, 5, 6], 2)?, [1, 3, 5, 2, 4, 6]);
//! assert_eq!(chain.decode(&[1, 3, 5, 2, 4, 6], 6, 2)?, [1, 2, 3, 4, 5, 6]);
//! # Ok::<(), tessera_codec::CodecError>(())
//! ```

use serde_json::Value;

use crate::codec::Codec;
use crate::config::Config;
use crate::error::{CodecError, CodecResult};
use crate::filters::expect_len;

/// The numcodecs id.
pub const ID: &str = "shuffle";

/// The config fields besides `"id"`, as numcodecs' `get_config` writes them; others are refused.
pub const FIELDS: &[&str] = &["elementsize"];

/// The shuffle filter.
#[derive(Debug, Clone)]
pub struct Shuffle {
    elementsize: usize,
}

impl Shuffle {
    /// Reads a numcodecs shuffle config: `elementsize` (default 4).
    pub fn from_json(config: &Value) -> CodecResult<Self> {
        let c = Config::new(ID, config, FIELDS)?;
        let e = c.int_or("elementsize", 4)?;
        Ok(Shuffle {
            elementsize: e.max(1) as usize,
        })
    }

    fn check(&self, len: usize) -> CodecResult<usize> {
        if !len.is_multiple_of(self.elementsize) {
            return Err(CodecError::invalid(
                ID,
                format!(
                    "{len} bytes is not a multiple of elementsize {}",
                    self.elementsize
                ),
            ));
        }
        Ok(len / self.elementsize)
    }
}

impl Codec for Shuffle {
    fn id(&self) -> &'static str {
        ID
    }

    fn encode(&self, input: &[u8], _itemsize: usize) -> CodecResult<Vec<u8>> {
        let count = self.check(input.len())?;
        let e = self.elementsize;
        let mut out = vec![0u8; input.len()];
        for (i, element) in input.chunks_exact(e).enumerate() {
            for (b, &byte) in element.iter().enumerate() {
                out[b * count + i] = byte;
            }
        }
        Ok(out)
    }

    fn decode_into(&self, input: &[u8], out: &mut [u8], _itemsize: usize) -> CodecResult<()> {
        let count = self.check(out.len())?;
        expect_len(ID, input, out.len())?;
        let e = self.elementsize;
        for (b, plane) in input.chunks_exact(count.max(1)).enumerate().take(e) {
            for (i, &byte) in plane.iter().enumerate() {
                out[i * e + b] = byte;
            }
        }
        Ok(())
    }

    fn encoded_len(&self, decoded_len: usize, _itemsize: usize) -> CodecResult<Option<usize>> {
        self.check(decoded_len)?;
        Ok(Some(decoded_len))
    }

    fn encoded_itemsize(&self, _itemsize: usize) -> usize {
        1
    }
}

//! `astype`: stores the data converted to another numeric type (`encode_dtype`), converting
//! back to `decode_dtype` on decode, with numpy's `astype` rules (integers wrap, floats
//! truncate toward zero into integers and round to nearest into narrower floats).
//!
//! numcodecs: `numcodecs/astype.py`.
//!
//! ```
//! use tessera_codec::{CodecChain, Value};
//! let filters = [serde_json::json!({"id": "astype", "encode_dtype": "|u1", "decode_dtype": "<i8"})];
//! let chain = CodecChain::from_json(None, Some(&filters))?;
//! let data: Vec<u8> = [1i64, 2, 250].iter().flat_map(|v| v.to_le_bytes()).collect();
//! assert_eq!(chain.encode(&data, 8)?, [1, 2, 250]);
//! assert_eq!(chain.decode(&[1, 2, 250], 24, 8)?, data);
//! # Ok::<(), tessera_codec::CodecError>(())
//! ```

use serde_json::Value;

use crate::codec::Codec;
use crate::config::Config;
use crate::error::CodecResult;
use crate::filters::expect_len;
use crate::numeric::NumType;

/// The numcodecs id.
pub const ID: &str = "astype";

/// The config fields besides `"id"`, as numcodecs' `get_config` writes them; others are refused.
pub const FIELDS: &[&str] = &["encode_dtype", "decode_dtype"];

/// The astype filter.
#[derive(Debug, Clone)]
pub struct AsType {
    encode_dtype: NumType,
    decode_dtype: NumType,
}

impl AsType {
    /// Reads a numcodecs astype config: `encode_dtype` and `decode_dtype` (both required).
    pub fn from_json(config: &Value) -> CodecResult<Self> {
        let c = Config::new(ID, config, FIELDS)?;
        Ok(AsType {
            encode_dtype: NumType::parse(ID, c.required_str("encode_dtype")?)?,
            decode_dtype: NumType::parse(ID, c.required_str("decode_dtype")?)?,
        })
    }
}

impl Codec for AsType {
    fn id(&self) -> &'static str {
        ID
    }

    fn encode(&self, input: &[u8], _itemsize: usize) -> CodecResult<Vec<u8>> {
        let n = self.decode_dtype.count(ID, input.len())?;
        let mut out = vec![0u8; n * self.encode_dtype.size];
        for i in 0..n {
            self.encode_dtype
                .write(&mut out, i, self.decode_dtype.read(input, i));
        }
        Ok(out)
    }

    fn decode_into(&self, input: &[u8], out: &mut [u8], itemsize: usize) -> CodecResult<()> {
        let n = self.decode_dtype.count(ID, out.len())?;
        expect_len(
            ID,
            input,
            self.encoded_len(out.len(), itemsize)?.unwrap_or_default(),
        )?;
        for i in 0..n {
            self.decode_dtype
                .write(out, i, self.encode_dtype.read(input, i));
        }
        Ok(())
    }

    fn encoded_len(&self, decoded_len: usize, _itemsize: usize) -> CodecResult<Option<usize>> {
        Ok(Some(
            self.decode_dtype.count(ID, decoded_len)? * self.encode_dtype.size,
        ))
    }

    fn encoded_itemsize(&self, _itemsize: usize) -> usize {
        self.encode_dtype.size
    }
}

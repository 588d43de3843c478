//! `zlib`: a zlib stream (RFC 1950) as Python's `zlib.compress(data, level)` writes it.
//!
//! Spec: <https://www.rfc-editor.org/rfc/rfc1950>; numcodecs: `numcodecs/zlib.py`.
//!
//! ```
//! use tessera_codec::{CodecChain, Value};
//! let config: Value = serde_json::json!({"id": "zlib", "level": 1});
//! let chain = CodecChain::from_json(Some(&config), None)?;
//! let blob = chain.encode(b"abcabcabcabc", 1)?;
//! assert_eq!(chain.decode(&blob, 12, 1)?, b"abcabcabcabc");
//! # Ok::<(), tessera_codec::CodecError>(())
//! ```

use flate2::Compression;
use serde_json::Value;

use crate::codec::Codec;
use crate::compressors::deflate::{self, Inflater};
use crate::compressors::stream::decode_stream;
use crate::config::Config;
use crate::error::CodecResult;

/// The numcodecs id.
pub const ID: &str = "zlib";

/// The config fields besides `"id"`, as numcodecs' `get_config` writes them; others are refused.
pub const FIELDS: &[&str] = &["level"];

/// The zlib compressor.
#[derive(Debug, Clone)]
pub struct Zlib {
    level: Compression,
}

impl Zlib {
    /// Reads a numcodecs zlib config. Default level 1 as numcodecs; -1 means zlib's default.
    pub fn from_json(config: &Value) -> CodecResult<Self> {
        let c = Config::new(ID, config, FIELDS)?;
        Ok(Zlib {
            level: deflate::level(ID, c.int_or("level", 1)?)?,
        })
    }
}

impl Codec for Zlib {
    fn id(&self) -> &'static str {
        ID
    }

    fn encode(&self, input: &[u8], _itemsize: usize) -> CodecResult<Vec<u8>> {
        deflate::deflate(ID, input, self.level, true)
    }

    fn decode_into(&self, input: &[u8], out: &mut [u8], _itemsize: usize) -> CodecResult<()> {
        decode_stream(ID, &mut Inflater::zlib(ID), input, out)
    }

    fn encoded_len(&self, _decoded_len: usize, _itemsize: usize) -> CodecResult<Option<usize>> {
        Ok(None)
    }

    fn decode_unsized(
        &self,
        input: &[u8],
        max_len: usize,
        _itemsize: usize,
    ) -> CodecResult<Vec<u8>> {
        crate::compressors::stream::decode_stream_unsized(
            ID,
            &mut Inflater::zlib(ID),
            input,
            max_len,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CodecErrorKind;
    use serde_json::json;

    #[test]
    fn roundtrip_and_sizes() {
        let z = Zlib::from_json(&json!({"id": "zlib", "level": 9})).unwrap();
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 13) as u8).collect();
        let enc = z.encode(&data, 1).unwrap();
        let mut out = vec![0u8; data.len()];
        z.decode_into(&enc, &mut out, 1).unwrap();
        assert_eq!(out, data);
        let mut short = vec![0u8; data.len() - 1];
        assert_eq!(
            z.decode_into(&enc, &mut short, 1).unwrap_err().kind(),
            CodecErrorKind::SizeMismatch
        );
        let mut long = vec![0u8; data.len() + 1];
        assert_eq!(
            z.decode_into(&enc, &mut long, 1).unwrap_err().kind(),
            CodecErrorKind::SizeMismatch
        );
        assert_eq!(
            z.decode_into(&enc[..enc.len() / 2], &mut out, 1)
                .unwrap_err()
                .kind(),
            CodecErrorKind::Corrupt
        );
    }

    #[test]
    fn refuses_a_bomb() {
        let z = Zlib::from_json(&json!({"id": "zlib", "level": 9})).unwrap();
        let enc = z.encode(&vec![0u8; 64 << 20], 1).unwrap();
        assert!(enc.len() < 100_000);
        let mut out = vec![0u8; 1000];
        assert_eq!(
            z.decode_into(&enc, &mut out, 1).unwrap_err().kind(),
            CodecErrorKind::TooLarge
        );
    }
}

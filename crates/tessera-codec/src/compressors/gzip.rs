//! `gzip`: a gzip member (RFC 1952) as Python's `gzip.GzipFile` writes it.
//!
//! Spec: <https://www.rfc-editor.org/rfc/rfc1952>; numcodecs: `numcodecs/gzip.py`.
//! The header is Python's (no file name, `XFL` from the level, OS 255) except the
//! modification time, which tessera writes as 0 so that output is reproducible; Python
//! writes the current time, so blobs differ from numcodecs' in bytes 4..8 only. Decoding
//! reads every member of a multi-member stream, as `GzipFile` does.
//!
//! ```
//! use tessera_codec::{CodecChain, Value};
//! let config: Value = serde_json::json!({"id": "gzip", "level": 1});
//! let chain = CodecChain::from_json(Some(&config), None)?;
//! let blob = chain.encode(b"abcabcabcabc", 1)?;
//! assert_eq!(&blob[..2], &[0x1f, 0x8b]);
//! assert_eq!(chain.decode(&blob, 12, 1)?, b"abcabcabcabc");
//! # Ok::<(), tessera_codec::CodecError>(())
//! ```

use serde_json::Value;

use crate::codec::Codec;
use crate::compressors::deflate::{self, Inflater};
use crate::compressors::stream::decode_stream;
use crate::config::Config;
use crate::error::CodecResult;

/// The numcodecs id.
pub const ID: &str = "gzip";

/// The config fields besides `"id"`, as numcodecs' `get_config` writes them; others are refused.
pub const FIELDS: &[&str] = &["level"];

/// The gzip compressor.
#[derive(Debug, Clone)]
pub struct GZip {
    level: i64,
}

impl GZip {
    /// Reads a numcodecs gzip config. Default level 1 as numcodecs.
    pub fn from_json(config: &Value) -> CodecResult<Self> {
        let c = Config::new(ID, config, FIELDS)?;
        let level = c.int_or("level", 1)?;
        deflate::level(ID, level)?;
        Ok(GZip { level })
    }
}

impl Codec for GZip {
    fn id(&self) -> &'static str {
        ID
    }

    fn encode(&self, input: &[u8], _itemsize: usize) -> CodecResult<Vec<u8>> {
        let xfl = match self.level {
            9 => 2,
            1 => 4,
            _ => 0,
        };
        let body = deflate::deflate(ID, input, deflate::level(ID, self.level)?, false)?;
        let mut out = Vec::with_capacity(body.len() + 18);
        out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 255]);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32fast::hash(input).to_le_bytes());
        out.extend_from_slice(&(input.len() as u32).to_le_bytes());
        Ok(out)
    }

    fn decode_into(&self, input: &[u8], out: &mut [u8], _itemsize: usize) -> CodecResult<()> {
        decode_stream(ID, &mut Inflater::gzip(ID), input, out)
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
            &mut Inflater::gzip(ID),
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
    fn roundtrip_multi_member_and_corruption() {
        let g = GZip::from_json(&json!({"id": "gzip", "level": 5})).unwrap();
        let mut enc = g.encode(b"hello ", 1).unwrap();
        enc.extend(g.encode(b"world", 1).unwrap());
        let mut out = vec![0u8; 11];
        g.decode_into(&enc, &mut out, 1).unwrap();
        assert_eq!(&out, b"hello world");
        let mut bad = g.encode(b"hello", 1).unwrap();
        let n = bad.len();
        bad[n - 5] ^= 1; // CRC
        let mut out = vec![0u8; 5];
        assert_eq!(
            g.decode_into(&bad, &mut out, 1).unwrap_err().kind(),
            CodecErrorKind::Corrupt
        );
    }
}

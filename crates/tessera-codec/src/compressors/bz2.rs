//! `bz2`: a bzip2 stream as Python's `bz2.compress(data, level)` writes it.
//!
//! Spec: <https://sourceware.org/bzip2/>; numcodecs: `numcodecs/bz2.py`. Uses the `bzip2`
//! crate's Rust port of libbzip2. Decoding reads concatenated streams and, as Python's
//! `bz2.decompress`, ignores bytes after the last stream that do not start another.
//!
//! ```
//! use tessera_codec::{CodecChain, Value};
//! let config: Value = serde_json::json!({"id": "bz2", "level": 1});
//! let chain = CodecChain::from_json(Some(&config), None)?;
//! let blob = chain.encode(b"abcabcabcabc", 1)?;
//! assert_eq!(chain.decode(&blob, 12, 1)?, b"abcabcabcabc");
//! # Ok::<(), tessera_codec::CodecError>(())
//! ```

use bzip2::{Action, Compress, Compression, Decompress, Status};
use serde_json::Value;

use crate::codec::Codec;
use crate::compressors::stream::{StreamDecoder, decode_stream};
use crate::config::Config;
use crate::error::{CodecError, CodecResult};

/// The numcodecs id.
pub const ID: &str = "bz2";

/// The config fields besides `"id"`, as numcodecs' `get_config` writes them; others are refused.
pub const FIELDS: &[&str] = &["level"];

/// The bzip2 compressor.
#[derive(Debug, Clone)]
pub struct Bz2 {
    level: u32,
}

impl Bz2 {
    /// Reads a numcodecs bz2 config. Default level 1 as numcodecs; levels are 1..=9.
    pub fn from_json(config: &Value) -> CodecResult<Self> {
        let c = Config::new(ID, config, FIELDS)?;
        let level = c.int_or("level", 1)?;
        if !(1..=9).contains(&level) {
            return Err(CodecError::invalid(
                ID,
                format!("level must be 1..=9, got {level}"),
            ));
        }
        Ok(Bz2 {
            level: level as u32,
        })
    }
}

struct Bunzip {
    inner: Decompress,
}

impl StreamDecoder for Bunzip {
    fn step(&mut self, input: &[u8], output: &mut [u8]) -> CodecResult<(usize, usize, bool)> {
        let (i0, o0) = (self.inner.total_in(), self.inner.total_out());
        let status = self
            .inner
            .decompress(input, output)
            .map_err(|e| CodecError::corrupt(ID, "invalid bzip2 data").with_source(e))?;
        let c = (self.inner.total_in() - i0) as usize;
        let p = (self.inner.total_out() - o0) as usize;
        Ok((c, p, matches!(status, Status::StreamEnd)))
    }

    fn restart(&mut self, rest: &[u8]) -> CodecResult<bool> {
        if rest.starts_with(b"BZh") {
            self.inner = Decompress::new(false);
            Ok(true)
        } else {
            Ok(false)
        }
    }
}

impl Codec for Bz2 {
    fn id(&self) -> &'static str {
        ID
    }

    fn encode(&self, input: &[u8], _itemsize: usize) -> CodecResult<Vec<u8>> {
        let mut c = Compress::new(Compression::new(self.level), 0);
        let mut out = Vec::with_capacity(input.len() / 2 + 128);
        loop {
            let consumed = c.total_in() as usize;
            if out.capacity() - out.len() < 128 {
                out.reserve(out.capacity() / 2 + 128);
            }
            match c.compress_vec(&input[consumed..], &mut out, Action::Finish) {
                Ok(Status::StreamEnd) => return Ok(out),
                Ok(_) => continue,
                Err(e) => {
                    return Err(CodecError::internal(ID, "bzip2 compression failed").with_source(e));
                }
            }
        }
    }

    fn decode_into(&self, input: &[u8], out: &mut [u8], _itemsize: usize) -> CodecResult<()> {
        decode_stream(
            ID,
            &mut Bunzip {
                inner: Decompress::new(false),
            },
            input,
            out,
        )
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
        let mut dec = Bunzip {
            inner: Decompress::new(false),
        };
        crate::compressors::stream::decode_stream_unsized(ID, &mut dec, input, max_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CodecErrorKind;
    use serde_json::json;

    #[test]
    fn roundtrip_and_bomb() {
        let b = Bz2::from_json(&json!({"id": "bz2", "level": 9})).unwrap();
        let data: Vec<u8> = (0..50_000u32).map(|i| (i % 17) as u8).collect();
        let enc = b.encode(&data, 1).unwrap();
        let mut out = vec![0u8; data.len()];
        b.decode_into(&enc, &mut out, 1).unwrap();
        assert_eq!(out, data);
        let bomb = b.encode(&vec![0u8; 16 << 20], 1).unwrap();
        let mut small = vec![0u8; 10];
        assert_eq!(
            b.decode_into(&bomb, &mut small, 1).unwrap_err().kind(),
            CodecErrorKind::TooLarge
        );
        let mut short = vec![0u8; 100];
        assert_eq!(
            b.decode_into(&enc[..enc.len() - 3], &mut short, 1)
                .unwrap_err()
                .kind(),
            CodecErrorKind::Corrupt
        );
    }
}

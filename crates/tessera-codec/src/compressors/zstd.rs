//! `zstd`: Zstandard frames through libzstd (the `zstd` crate), as numcodecs writes them.
//!
//! Spec: <https://datatracker.ietf.org/doc/html/rfc8878>; numcodecs: `numcodecs/zstd.pyx`.
//! Encoding is one frame with the content size in its header (as `ZSTD_compress2` writes);
//! `checksum: true` adds the frame's XXH64 checksum. Decoding accepts several concatenated
//! frames and frames without a content size, as numcodecs 0.16 does.
//!
//! ```
//! use tessera_codec::{CodecChain, Value};
//! let config: Value = serde_json::json!({"id": "zstd", "level": 1, "checksum": false});
//! let chain = CodecChain::from_json(Some(&config), None)?;
//! let blob = chain.encode(&[7u8; 4096], 1)?;
//! assert_eq!(chain.decode(&blob, 4096, 1)?, vec![7u8; 4096]);
//! # Ok::<(), tessera_codec::CodecError>(())
//! ```

use serde_json::Value;
use zstd::zstd_safe::{self, CCtx, CParameter, DCtx};

use crate::codec::Codec;
use crate::config::Config;
use crate::error::{CodecError, CodecErrorKind, CodecResult};

/// The numcodecs id.
pub const ID: &str = "zstd";

/// The config fields besides `"id"`, as numcodecs' `get_config` writes them; others are refused.
/// (numcodecs before 0.13 wrote no `checksum`.)
pub const FIELDS: &[&str] = &["level", "checksum"];

/// The zstd compressor.
#[derive(Debug, Clone)]
pub struct Zstd {
    level: i32,
    checksum: bool,
}

impl Zstd {
    /// Reads a numcodecs zstd config. Defaults as numcodecs: level 0 (libzstd's default, 3),
    /// checksum false. Levels above the maximum are clamped, as numcodecs does.
    pub fn from_json(config: &Value) -> CodecResult<Self> {
        let c = Config::new(ID, config, FIELDS)?;
        let level = c.int_or("level", 0)?;
        let level = level.clamp(
            zstd_safe::min_c_level() as i64,
            zstd_safe::max_c_level() as i64,
        ) as i32;
        let checksum = c.bool_or("checksum", false)?;
        Ok(Zstd { level, checksum })
    }
}

fn zstd_err(kind: CodecErrorKind, what: &str, code: usize) -> CodecError {
    CodecError::new(
        kind,
        ID,
        format!("{what}: {}", zstd_safe::get_error_name(code)),
    )
}

/// The sum of the content sizes the frames declare, `None` if any frame does not declare one.
/// Stops with a size error as soon as the declared sizes exceed `expected`.
fn declared_size(mut input: &[u8], expected: usize) -> CodecResult<Option<u64>> {
    let mut total: u64 = 0;
    let mut all_known = true;
    while !input.is_empty() {
        match zstd_safe::get_frame_content_size(input) {
            Ok(Some(n)) => {
                total = total.saturating_add(n);
                if total > expected as u64 {
                    return Err(CodecError::size(ID, expected, total));
                }
            }
            Ok(None) => all_known = false,
            Err(_) => return Err(CodecError::corrupt(ID, "invalid zstd frame header")),
        }
        let frame_len = zstd_safe::find_frame_compressed_size(input).map_err(|code| {
            zstd_err(
                CodecErrorKind::Corrupt,
                "truncated or invalid zstd frame",
                code,
            )
        })?;
        if frame_len == 0 || frame_len > input.len() {
            return Err(CodecError::corrupt(ID, "truncated zstd frame"));
        }
        input = &input[frame_len..];
    }
    Ok(all_known.then_some(total))
}

impl Codec for Zstd {
    fn id(&self) -> &'static str {
        ID
    }

    fn encode(&self, input: &[u8], _itemsize: usize) -> CodecResult<Vec<u8>> {
        let mut cctx = CCtx::create();
        cctx.set_parameter(CParameter::CompressionLevel(self.level))
            .map_err(|c| zstd_err(CodecErrorKind::InvalidConfig, "cannot set level", c))?;
        cctx.set_parameter(CParameter::ChecksumFlag(self.checksum))
            .map_err(|c| zstd_err(CodecErrorKind::Internal, "cannot set checksum flag", c))?;
        let mut out = Vec::with_capacity(zstd_safe::compress_bound(input.len()));
        cctx.compress2(&mut out, input)
            .map_err(|c| zstd_err(CodecErrorKind::Internal, "compression failed", c))?;
        Ok(out)
    }

    fn decode_into(&self, input: &[u8], out: &mut [u8], _itemsize: usize) -> CodecResult<()> {
        if input.is_empty() {
            return Err(CodecError::corrupt(ID, "empty input"));
        }
        if let Some(declared) = declared_size(input, out.len())?
            && declared != out.len() as u64
        {
            return Err(CodecError::size(ID, out.len(), declared));
        }
        let mut dctx = DCtx::create();
        match dctx.decompress(out, input) {
            Ok(n) if n == out.len() => Ok(()),
            Ok(n) => Err(CodecError::size(ID, out.len(), n as u64)),
            Err(code) => {
                let name = zstd_safe::get_error_name(code);
                if name.contains("too small") {
                    // Only frames without a declared size get here: a data-dependent excess.
                    Err(CodecError::bomb(ID, out.len()))
                } else {
                    Err(zstd_err(
                        CodecErrorKind::Corrupt,
                        "decompression failed",
                        code,
                    ))
                }
            }
        }
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
        if input.is_empty() {
            return Err(CodecError::corrupt(ID, "empty input"));
        }
        let over = || crate::compressors::stream::over_limit(ID, max_len);
        // declared_size fails with a size error once the declared total passes `max_len`.
        let declared = declared_size(input, max_len).map_err(|e| match e.kind() {
            CodecErrorKind::Corrupt => e,
            _ => over(),
        })?;
        if let Some(declared) = declared {
            let mut out = vec![0u8; declared as usize];
            self.decode_into(input, &mut out, itemsize)?;
            return Ok(out);
        }
        // Frames without a declared size: stream into a buffer that grows with the output.
        use std::io::Read;
        let mut dec = zstd::stream::read::Decoder::with_buffer(input)
            .map_err(|e| CodecError::internal(ID, "cannot create decoder").with_source(e))?;
        let mut out = Vec::new();
        (&mut dec)
            .take(max_len as u64 + 1)
            .read_to_end(&mut out)
            .map_err(|e| CodecError::corrupt(ID, "decompression failed").with_source(e))?;
        if out.len() > max_len {
            return Err(over());
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn roundtrips_levels_and_checksum() {
        let data: Vec<u8> = (0..5000u32).flat_map(|i| (i / 7).to_le_bytes()).collect();
        for level in [-5, 0, 1, 3, 22, 100] {
            for checksum in [false, true] {
                let z =
                    Zstd::from_json(&json!({"id": "zstd", "level": level, "checksum": checksum}))
                        .unwrap();
                let enc = z.encode(&data, 4).unwrap();
                let mut out = vec![0u8; data.len()];
                z.decode_into(&enc, &mut out, 4).unwrap();
                assert_eq!(out, data);
            }
        }
    }

    #[test]
    fn decodes_concatenated_frames() {
        let z = Zstd::from_json(&json!({"id": "zstd"})).unwrap();
        let mut enc = z.encode(b"hello ", 1).unwrap();
        enc.extend(z.encode(b"world", 1).unwrap());
        let mut out = vec![0u8; 11];
        z.decode_into(&enc, &mut out, 1).unwrap();
        assert_eq!(&out, b"hello world");
    }

    #[test]
    fn size_errors() {
        let z = Zstd::from_json(&json!({"id": "zstd"})).unwrap();
        let enc = z.encode(&[0u8; 100], 1).unwrap();
        let mut out = vec![0u8; 99];
        assert_eq!(
            z.decode_into(&enc, &mut out, 1).unwrap_err().kind(),
            CodecErrorKind::SizeMismatch
        );
        let mut out = vec![0u8; 101];
        assert_eq!(
            z.decode_into(&enc, &mut out, 1).unwrap_err().kind(),
            CodecErrorKind::SizeMismatch
        );
        let mut out = vec![0u8; 100];
        assert_eq!(
            z.decode_into(&enc[..enc.len() - 1], &mut out, 1)
                .unwrap_err()
                .kind(),
            CodecErrorKind::Corrupt
        );
    }
}

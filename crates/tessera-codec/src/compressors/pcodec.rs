//! `pcodec`: lossless compression of numeric sequences with pco (the `pco` crate, which the
//! `pcodec` Python package behind numcodecs' `PCodec` wraps), in pco's standalone format.
//!
//! numcodecs: `numcodecs/pcodec.py`. Types: u2, u4, u8, i2, i4, i8, f2, f4, f8, little-endian.
//! pco stores the element type in its stream, so decoding needs only the chunk's size; encoding
//! needs the chunk's dtype, which the chain is told through [`crate::CodecChain::encode_chunk`]
//! (tessera-array does so). The stream is a header, one pco chunk per page of up to
//! `equal_pages_up_to` numbers, and a termination byte.
//!
//! Config fields, as numcodecs writes them: `level` (0..=12, default 8), `mode_spec` (`auto`,
//! `classic`), `delta_spec` (`auto`, `none`, `try_consecutive`, `try_lookback`), `paging_spec`
//! (`equal_pages_up_to`), `delta_encoding_order` (0..=7 or null; with `delta_spec: auto` it
//! means `try_consecutive`, as configs from before `delta_spec` existed meant) and
//! `equal_pages_up_to` (default 262144); and the fields numcodecs 0.12/0.13 wrote instead
//! (`int_mult_spec`, `float_mult_spec`: both "disabled" means classic mode; `max_page_n`).
//!
//! ```
//! use tessera_codec::{ChunkLayout, CodecChain, Value};
//! let config: Value = serde_json::json!({"id": "pcodec", "level": 8, "mode_spec": "auto",
//!     "delta_spec": "auto", "paging_spec": "equal_pages_up_to", "delta_encoding_order": null,
//!     "equal_pages_up_to": 262144});
//! let chain = CodecChain::from_json(Some(&config), None)?;
//! let data: Vec<u8> = (0..1000i32).map(|i| i * i).flat_map(i32::to_le_bytes).collect();
//! let blob = chain.encode_chunk(&data, &ChunkLayout::new("<i4", 4, vec![1000]))?;
//! assert!(blob.len() < data.len() / 2);
//! assert_eq!(chain.decode(&blob, data.len(), 4)?, data);
//! # Ok::<(), tessera_codec::CodecError>(())
//! ```

use half::f16;
use pco::data_types::{Number, NumberType};
use pco::errors::{ErrorKind as PcoErrorKind, PcoError};
use pco::metadata::DeltaEncoding;
use pco::standalone::{FileDecompressor, NumberTypeOrTermination};
use pco::wrapped::FileDecompressor as WrappedDecompressor;
use pco::{ChunkConfig, DeltaSpec, ModeSpec, PagingSpec};
use serde_json::Value;

use crate::codec::{ChunkLayout, Codec};
use crate::config::Config;
use crate::error::{CodecError, CodecErrorKind, CodecResult};

/// The numcodecs id.
pub const ID: &str = "pcodec";

/// The byte in place of a chunk's number type that ends a standalone pco stream.
const STANDALONE_TERMINATION: u8 = 0;

/// The config fields besides `"id"`, as numcodecs' `get_config` writes them; others are refused.
/// `int_mult_spec`, `float_mult_spec` and `max_page_n` are what numcodecs 0.12 and 0.13 wrote
/// (before `mode_spec` and `equal_pages_up_to`); numcodecs 0.16 no longer reads them.
pub const FIELDS: &[&str] = &[
    "level",
    "mode_spec",
    "delta_spec",
    "paging_spec",
    "delta_encoding_order",
    "equal_pages_up_to",
    "int_mult_spec",
    "float_mult_spec",
    "max_page_n",
];

/// The pcodec compressor.
#[derive(Debug, Clone)]
pub struct Pcodec {
    config: ChunkConfig,
}

impl Pcodec {
    /// Reads a numcodecs pcodec config, with numcodecs' defaults and its rules for combining
    /// `delta_spec` and `delta_encoding_order`.
    pub fn from_json(config: &Value) -> CodecResult<Self> {
        let c = Config::new(ID, config, FIELDS)?;
        let level = c.int_or("level", 8)?;
        if !(0..=12).contains(&level) {
            return Err(CodecError::invalid(
                ID,
                format!("level must be 0..=12, got {level}"),
            ));
        }
        // Old configs: either multiplier search disabled is the nearest mode spec, classic.
        let mult_disabled = |key: &str| -> CodecResult<bool> {
            match c.str_or(key, "enabled")? {
                "enabled" => Ok(false),
                "disabled" => Ok(true),
                other => Err(CodecError::invalid(
                    ID,
                    format!("{key} {other:?} is not \"enabled\" or \"disabled\""),
                )),
            }
        };
        let legacy_classic = mult_disabled("int_mult_spec")? && mult_disabled("float_mult_spec")?;
        let default_mode = if legacy_classic { "classic" } else { "auto" };
        let mode = match c.str_or("mode_spec", default_mode)? {
            "auto" => ModeSpec::Auto,
            "classic" => ModeSpec::Classic,
            other => {
                return Err(CodecError::invalid(
                    ID,
                    format!("mode_spec {other:?} is not one of \"auto\", \"classic\""),
                ));
            }
        };
        let order = match c.opt_int("delta_encoding_order")? {
            None => None,
            Some(o @ 0..=7) => Some(o as usize),
            Some(o) => {
                return Err(CodecError::invalid(
                    ID,
                    format!("delta_encoding_order must be 0..=7 or null, got {o}"),
                ));
            }
        };
        let delta = match (c.str_or("delta_spec", "auto")?, order) {
            // Configs written before `delta_spec` existed carry only the order.
            ("auto", Some(o)) | ("try_consecutive", Some(o)) => DeltaSpec::TryConsecutive(o),
            ("try_consecutive", None) => {
                return Err(CodecError::invalid(
                    ID,
                    "delta_spec \"try_consecutive\" needs a delta_encoding_order",
                ));
            }
            (_, Some(_)) => {
                return Err(CodecError::invalid(
                    ID,
                    "delta_encoding_order can only be set with delta_spec \"try_consecutive\" or \"auto\"",
                ));
            }
            ("auto", None) => DeltaSpec::Auto,
            ("none", None) => DeltaSpec::None,
            ("try_lookback", None) => DeltaSpec::TryLookback,
            (other, None) => {
                return Err(CodecError::invalid(
                    ID,
                    format!(
                        "delta_spec {other:?} is not one of \"auto\", \"none\", \"try_consecutive\", \"try_lookback\""
                    ),
                ));
            }
        };
        let paging = c.str_or("paging_spec", "equal_pages_up_to")?;
        if paging != "equal_pages_up_to" {
            return Err(CodecError::invalid(
                ID,
                format!("paging_spec {paging:?} is not \"equal_pages_up_to\""),
            ));
        }
        let page = c.int_or(
            "equal_pages_up_to",
            c.int_or("max_page_n", pco::DEFAULT_MAX_PAGE_N as i64)?,
        )?;
        if !(1..=1 << 24).contains(&page) {
            return Err(CodecError::invalid(
                ID,
                format!("equal_pages_up_to must be 1..=16777216, got {page}"),
            ));
        }
        let config = ChunkConfig::default()
            .with_compression_level(level as usize)
            .with_mode_spec(mode)
            .with_delta_spec(delta)
            .with_paging_spec(PagingSpec::EqualPagesUpTo(page as usize));
        Ok(Pcodec { config })
    }

    fn compress<T: Number>(&self, input: &[u8], from_le: fn(&[u8]) -> T) -> CodecResult<Vec<u8>> {
        let width = std::mem::size_of::<T>();
        if !input.len().is_multiple_of(width) {
            return Err(CodecError::invalid(
                ID,
                format!(
                    "{} bytes is not a whole number of {width}-byte elements",
                    input.len()
                ),
            ));
        }
        let nums: Vec<T> = input
            .chunks_exact(std::mem::size_of::<T>())
            .map(from_le)
            .collect();
        pco::standalone::simple_compress(&nums, &self.config).map_err(|e| pco_error(e, 0))
    }
}

fn pco_error(e: PcoError, expected: usize) -> CodecError {
    let kind = match e.kind {
        PcoErrorKind::Corruption | PcoErrorKind::InsufficientData => CodecErrorKind::Corrupt,
        PcoErrorKind::Compatibility => CodecErrorKind::Unsupported,
        PcoErrorKind::InvalidArgument => CodecErrorKind::InvalidConfig,
        _ => CodecErrorKind::Internal,
    };
    let context = if expected > 0 {
        format!(" (decoding {expected} bytes)")
    } else {
        String::new()
    };
    CodecError::new(kind, ID, format!("pco: {}{context}", e.message)).with_source(e)
}

/// The largest lookback window accepted for a chunk of `n` numbers, as a power of two.
///
/// pco's own compressor picks the smallest power of two that covers the chunk (at least 2^4, at
/// most its maximum of 2^15 or so): a window beyond the chunk can never be looked back into. pco's
/// decoder allocates twice the window up front, so a stream that claims 2^32 would make it ask for
/// 64 GiB before a single number is decoded. The bound leaves a wide margin above any real writer.
fn max_window_log(n: usize) -> u32 {
    let covering = usize::BITS - n.saturating_sub(1).leading_zeros();
    covering.max(16) + 1
}

/// Decodes every pco chunk of the standalone stream `input` into `out` as little-endian `T`s.
///
/// pco's standalone API builds a chunk's page decompressor (and its lookback buffer) as soon as it
/// reads the chunk's header, before the caller can see the header. So the standalone framing is
/// read here: pco parses the file header, and each chunk is its number-type byte, its count of
/// numbers less one in 24 little-endian bits, then a wrapped-format chunk. That lets the count be
/// checked against `out` and the chunk's delta encoding against [`max_window_log`] before pco
/// allocates anything sized by the stream.
fn decompress<T: Number>(
    file: &FileDecompressor,
    input: &[u8],
    mut src: &[u8],
    out: &mut [u8],
    to_le: fn(T, &mut [u8]),
) -> CodecResult<()> {
    let width = std::mem::size_of::<T>();
    if !out.len().is_multiple_of(width) {
        return Err(CodecError::new(
            CodecErrorKind::SizeMismatch,
            ID,
            format!(
                "the stream holds {width}-byte numbers, which do not divide the chunk's {} bytes",
                out.len()
            ),
        ));
    }
    // The wrapped format's header is the last one or two bytes of the file header: its format
    // version, with a minor version byte from major 4 on.
    let version = file.format_version();
    let wrapped_len = if version.major >= 4 { 2 } else { 1 };
    let header_len = input.len() - src.len();
    let wrapped_header = &input[header_len.saturating_sub(wrapped_len)..header_len];
    let (wrapped, _) =
        WrappedDecompressor::new(wrapped_header).map_err(|e| pco_error(e, out.len()))?;

    let expected = out.len() / width;
    let mut done = 0usize;
    let mut nums: Vec<T> = Vec::new();
    loop {
        let Some((&kind, rest)) = src.split_first() else {
            return Err(CodecError::corrupt(
                ID,
                "the pco stream ends without its footer",
            ));
        };
        if kind == STANDALONE_TERMINATION {
            break;
        }
        if kind != T::NUMBER_TYPE_BYTE {
            return Err(CodecError::corrupt(
                ID,
                format!(
                    "a pco chunk of number type {kind} in a stream of type {}",
                    T::NUMBER_TYPE_BYTE
                ),
            ));
        }
        let Some((count, rest)) = rest.split_first_chunk::<3>() else {
            return Err(CodecError::corrupt(
                ID,
                "the pco stream ends inside a chunk header",
            ));
        };
        let n =
            1 + (usize::from(count[0]) | usize::from(count[1]) << 8 | usize::from(count[2]) << 16);
        if done.saturating_add(n) > expected {
            // The header's count of all numbers (a hint pco writes) tells a bomb from a
            // near miss better than the chunks read so far.
            let claimed = done.saturating_add(n).max(file.n_hint());
            return Err(CodecError::size(
                ID,
                out.len(),
                (claimed as u64).saturating_mul(width as u64),
            ));
        }
        let (chunk, rest) = wrapped
            .chunk_decompressor::<T, &[u8]>(rest)
            .map_err(|e| pco_error(e, out.len()))?;
        if let DeltaEncoding::Lookback(lookback) = chunk.meta().delta_encoding {
            let limit = max_window_log(n);
            if lookback.window_n_log > limit {
                return Err(CodecError::new(
                    CodecErrorKind::TooLarge,
                    ID,
                    format!(
                        "a pco chunk of {n} numbers claims a lookback window of 2^{} numbers, \
                         far beyond the chunk (at most 2^{limit} accepted)",
                        lookback.window_n_log
                    ),
                ));
            }
        }
        let mut page = chunk
            .page_decompressor(rest, n)
            .map_err(|e| pco_error(e, out.len()))?;
        nums.clear();
        nums.resize(n, T::default());
        let progress = page
            .decompress(&mut nums)
            .map_err(|e| pco_error(e, out.len()))?;
        if progress.n_processed != n || !progress.finished {
            return Err(CodecError::corrupt(ID, "a pco chunk ended early"));
        }
        for (v, dst) in nums.iter().zip(out[done * width..].chunks_exact_mut(width)) {
            to_le(*v, dst);
        }
        done += n;
        src = page.into_src();
    }
    if done != expected {
        return Err(CodecError::size(ID, out.len(), (done * width) as u64));
    }
    Ok(())
}

macro_rules! le_codec {
    ($t:ty) => {
        (
            (|b: &[u8]| <$t>::from_le_bytes(b.try_into().expect("element"))) as fn(&[u8]) -> $t,
            (|v: $t, dst: &mut [u8]| dst.copy_from_slice(&v.to_le_bytes())) as fn($t, &mut [u8]),
        )
    };
}

impl Codec for Pcodec {
    fn id(&self) -> &'static str {
        ID
    }

    fn encode(&self, _input: &[u8], _itemsize: usize) -> CodecResult<Vec<u8>> {
        Err(CodecError::unsupported(
            ID,
            "pcodec stores the element type, which this call does not give: encode through \
             CodecChain::encode_chunk with the array's dtype",
        ))
    }

    fn encode_chunk(&self, input: &[u8], layout: &ChunkLayout) -> CodecResult<Vec<u8>> {
        let Some(dtype) = layout.dtype() else {
            return self.encode(input, layout.itemsize());
        };
        // numcodecs hands pcodec numpy arrays; pcodec reads them in native (little-endian)
        // order, so a big-endian array is refused rather than compressed as other numbers.
        let little =
            dtype.starts_with('<') || (dtype.starts_with('=') && cfg!(target_endian = "little"));
        let unsupported = || {
            CodecError::unsupported(
                ID,
                format!(
                    "dtype {dtype:?}: pcodec takes little-endian u2, u4, u8, i2, i4, i8, f2, f4, f8"
                ),
            )
        };
        if !little {
            return Err(unsupported());
        }
        match &dtype[1..] {
            "u2" => self.compress(input, le_codec!(u16).0),
            "u4" => self.compress(input, le_codec!(u32).0),
            "u8" => self.compress(input, le_codec!(u64).0),
            "i2" => self.compress(input, le_codec!(i16).0),
            "i4" => self.compress(input, le_codec!(i32).0),
            "i8" => self.compress(input, le_codec!(i64).0),
            "f2" => self.compress(input, le_codec!(f16).0),
            "f4" => self.compress(input, le_codec!(f32).0),
            "f8" => self.compress(input, le_codec!(f64).0),
            _ => Err(unsupported()),
        }
    }

    fn decode_into(&self, input: &[u8], out: &mut [u8], _itemsize: usize) -> CodecResult<()> {
        let (file, src) = FileDecompressor::new(input).map_err(|e| pco_error(e, out.len()))?;
        let number_type = match file
            .peek_number_type_or_termination(src)
            .map_err(|e| pco_error(e, out.len()))?
        {
            NumberTypeOrTermination::Known(t) => t,
            NumberTypeOrTermination::Termination if out.is_empty() => return Ok(()),
            NumberTypeOrTermination::Termination => {
                return Err(CodecError::size(ID, out.len(), 0));
            }
            NumberTypeOrTermination::Unknown(byte) => {
                return Err(CodecError::corrupt(
                    ID,
                    format!("unknown pco number type {byte}"),
                ));
            }
        };
        // pco's arithmetic can overflow on a hostile stream, which panics where overflow checks are
        // on (debug builds, fuzzing): a panic inside the decoder is a corrupt chunk, not a crash.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match number_type {
            NumberType::U16 => decompress(&file, input, src, out, le_codec!(u16).1),
            NumberType::U32 => decompress(&file, input, src, out, le_codec!(u32).1),
            NumberType::U64 => decompress(&file, input, src, out, le_codec!(u64).1),
            NumberType::I16 => decompress(&file, input, src, out, le_codec!(i16).1),
            NumberType::I32 => decompress(&file, input, src, out, le_codec!(i32).1),
            NumberType::I64 => decompress(&file, input, src, out, le_codec!(i64).1),
            NumberType::F16 => decompress(&file, input, src, out, le_codec!(f16).1),
            NumberType::F32 => decompress(&file, input, src, out, le_codec!(f32).1),
            NumberType::F64 => decompress(&file, input, src, out, le_codec!(f64).1),
            other => Err(CodecError::unsupported(
                ID,
                format!("pco number type {other:?}"),
            )),
        }))
        .unwrap_or_else(|_| Err(CodecError::corrupt(ID, "the pco stream is corrupt")))
    }

    fn encoded_len(&self, _decoded_len: usize, _itemsize: usize) -> CodecResult<Option<usize>> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn layout(dtype: &str, itemsize: usize, n: usize) -> ChunkLayout {
        ChunkLayout::new(dtype, itemsize, vec![n])
    }

    #[test]
    fn roundtrips_every_type_and_spec() {
        let n = 3000usize;
        let cases: Vec<(&str, usize, Vec<u8>)> = vec![
            (
                "<u2",
                2,
                (0..n as u16).flat_map(|i| (i / 3).to_le_bytes()).collect(),
            ),
            (
                "<i4",
                4,
                (0..n as i32)
                    .flat_map(|i| (i * 7 - 5000).to_le_bytes())
                    .collect(),
            ),
            (
                "<u8",
                8,
                (0..n as u64)
                    .flat_map(|i| (i << 40).to_le_bytes())
                    .collect(),
            ),
            (
                "<i8",
                8,
                (0..n as i64).flat_map(|i| (-i).to_le_bytes()).collect(),
            ),
            (
                "<f2",
                2,
                (0..n)
                    .flat_map(|i| f16::from_f32(i as f32 * 0.5).to_le_bytes())
                    .collect(),
            ),
            (
                "<f4",
                4,
                (0..n)
                    .flat_map(|i| ((i as f32) * 0.1).sin().to_le_bytes())
                    .collect(),
            ),
            (
                "<f8",
                8,
                (0..n)
                    .flat_map(|i| (i as f64 * 0.01).to_le_bytes())
                    .collect(),
            ),
        ];
        let configs = [
            json!({"id": ID}),
            json!({"id": ID, "level": 0, "mode_spec": "classic", "delta_spec": "none"}),
            json!({"id": ID, "level": 12, "delta_spec": "try_lookback", "equal_pages_up_to": 700}),
            json!({"id": ID, "delta_spec": "try_consecutive", "delta_encoding_order": 2}),
            json!({"id": ID, "delta_encoding_order": 1}),
            // As numcodecs 0.12 wrote it.
            json!({"id": ID, "level": 8, "delta_encoding_order": null, "int_mult_spec": "disabled",
                   "float_mult_spec": "disabled", "max_page_n": 500}),
        ];
        for config in &configs {
            let p = Pcodec::from_json(config).unwrap();
            for (dtype, size, data) in &cases {
                let blob = p.encode_chunk(data, &layout(dtype, *size, n)).unwrap();
                let mut out = vec![0u8; data.len()];
                p.decode_into(&blob, &mut out, *size).unwrap();
                assert_eq!(&out, data, "{config} {dtype}");
                let mut short = vec![0u8; data.len() - size];
                let err = p.decode_into(&blob, &mut short, *size).unwrap_err();
                assert_eq!(err.kind(), CodecErrorKind::SizeMismatch, "{err}");
            }
        }
    }

    #[test]
    fn refuses_what_pcodec_cannot_store() {
        let p = Pcodec::from_json(&json!({"id": ID})).unwrap();
        for (dtype, size) in [("|u1", 1), (">f4", 4), ("<c8", 8), ("|b1", 1)] {
            let err = p
                .encode_chunk(&[0u8; 16], &layout(dtype, size, 16 / size))
                .unwrap_err();
            assert_eq!(err.kind(), CodecErrorKind::Unsupported, "{dtype}");
        }
        assert_eq!(
            p.encode(&[0u8; 16], 4).unwrap_err().kind(),
            CodecErrorKind::Unsupported
        );
        for bad in [
            json!({"id": ID, "level": 13}),
            json!({"id": ID, "mode_spec": "try_float_mult"}),
            json!({"id": ID, "delta_spec": "none", "delta_encoding_order": 1}),
            json!({"id": ID, "delta_spec": "try_consecutive"}),
            json!({"id": ID, "paging_spec": "exact"}),
            json!({"id": ID, "equal_pages_up_to": 0}),
        ] {
            let err = Pcodec::from_json(&bad).unwrap_err();
            assert_eq!(err.kind(), CodecErrorKind::InvalidConfig, "{bad}");
        }
    }

    #[test]
    fn empty_chunks_and_garbage() {
        let p = Pcodec::from_json(&json!({"id": ID})).unwrap();
        let blob = p.encode_chunk(&[], &layout("<f4", 4, 0)).unwrap();
        p.decode_into(&blob, &mut [], 4).unwrap();
        let mut out = [0u8; 8];
        for garbage in [&b""[..], b"pco!", b"\0\0\0\0\0\0\0\0\0\0"] {
            let err = p.decode_into(garbage, &mut out, 4).unwrap_err();
            assert_eq!(err.kind(), CodecErrorKind::Corrupt, "{err}");
        }
    }
}

//! `zfpy`: zfp's lossy (or reversible) compression of 1- to 4-dimensional arrays of i4, i8, f4
//! and f8, through the zfp C library (the `zfp-sys-cc` crate, zfp 1.0), as numcodecs' `ZFPY`
//! writes it with the `zfpy` Python package.
//!
//! numcodecs: `numcodecs/zfpy.py`. The stream starts with zfp's full header (magic, element
//! type, the array's shape, the compression mode), so decoding needs no config.
//!
//! zfp's decoder trusts its input: its bit reader has no end, and a corrupt stream makes it read
//! past any buffer sized by zfp's own `zfp_stream_maximum_size` (found by fuzzing). So tessera
//! parses the header itself ([`header`]), refuses what zfpy never writes (expert-mode parameters,
//! other codec versions), checks the element type and count against the chunk, computes the most
//! bits zfp's decoder can read for that field and mode, and hands zfp a zero-padded copy of the
//! stream that long: no input can make zfp read memory tessera does not own. A stream that needs
//! the padding to decode was cut short and is a typed error.
//!
//! Encoding, like `zfpy.compress_numpy`, compresses the chunk with its shape (zarr-python hands
//! over the whole chunk in C order, so the last axis is zfp's x): it needs the dtype and shape,
//! given through [`crate::CodecChain::encode_chunk`] (tessera-array does so).
//!
//! Config (numcodecs `get_config`): `mode` (2 fixed rate, 3 fixed precision, 4 fixed accuracy,
//! 5 reversible), `rate`, `precision`, `tolerance` (-1 when unset) and `compression_kwargs`
//! (numcodecs derives it from the others and ignores it when reading). As in zfpy, a mode whose
//! parameter is negative compresses reversibly; numcodecs 0.16 cannot encode mode 5 at all (it
//! sets no parameter), tessera encodes it reversibly.
//!
//! Only built with the `zfp` cargo feature (the C library and its bindings need libclang).

mod header;
#[cfg(test)]
mod read_bound_tests;

use std::ffi::c_void;

use serde_json::Value;
use zfp_sys_cc as zfp;

use crate::codec::{ChunkLayout, Codec};
use crate::config::Config;
use crate::error::{CodecError, CodecResult};

use header::{Header, Params, Scalar};

/// The numcodecs id.
pub const ID: &str = "zfpy";

/// The config fields besides `"id"`, as numcodecs' `get_config` writes them; others are refused.
pub const FIELDS: &[&str] = &[
    "mode",
    "tolerance",
    "rate",
    "precision",
    "compression_kwargs",
];

/// zfp's mode numbers, as zfpy exports them (`zfpy.mode_fixed_rate`, ...).
const MODE_FIXED_RATE: i64 = 2;
const MODE_FIXED_PRECISION: i64 = 3;
const MODE_FIXED_ACCURACY: i64 = 4;
const MODE_REVERSIBLE: i64 = 5;

/// What the stream's compression is set to, as `zfpy.compress_numpy` chooses it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Setting {
    Accuracy(f64),
    Rate(f64),
    Precision(u32),
    Reversible,
}

/// The zfpy compressor.
#[derive(Debug, Clone)]
pub struct Zfpy {
    setting: Setting,
}

impl Zfpy {
    /// Reads a numcodecs zfpy config. Defaults as numcodecs: mode 4 (fixed accuracy) with
    /// tolerance -1, which zfpy compresses reversibly.
    pub fn from_json(config: &Value) -> CodecResult<Self> {
        let c = Config::new(ID, config, FIELDS)?;
        let mode = c.int_or("mode", MODE_FIXED_ACCURACY)?;
        let float = |key: &str| -> CodecResult<f64> {
            let v = c
                .number(key, Some(crate::config::Number::Int(-1)))?
                .as_f64();
            if v.is_nan() {
                return Err(CodecError::invalid(
                    ID,
                    format!("{key} must be a number, got NaN"),
                ));
            }
            Ok(v)
        };
        let setting = match mode {
            MODE_FIXED_ACCURACY => match float("tolerance")? {
                t if t >= 0.0 => Setting::Accuracy(t),
                _ => Setting::Reversible,
            },
            MODE_FIXED_RATE => match float("rate")? {
                r if r >= 0.0 => Setting::Rate(r),
                _ => Setting::Reversible,
            },
            MODE_FIXED_PRECISION => match c.int_or("precision", -1)? {
                p if p >= 0 => Setting::Precision(u32::try_from(p.min(64)).expect("0..=64")),
                _ => Setting::Reversible,
            },
            MODE_REVERSIBLE => Setting::Reversible,
            other => {
                return Err(CodecError::invalid(
                    ID,
                    format!(
                        "mode {other} is not 2 (fixed rate), 3 (fixed precision), 4 (fixed accuracy) or 5 (reversible)"
                    ),
                ));
            }
        };
        Ok(Zfpy { setting })
    }
}

impl Scalar {
    fn zfp_type(self) -> zfp::zfp_type {
        match self {
            Scalar::Int32 => zfp::zfp_type_zfp_type_int32,
            Scalar::Int64 => zfp::zfp_type_zfp_type_int64,
            Scalar::Float => zfp::zfp_type_zfp_type_float,
            Scalar::Double => zfp::zfp_type_zfp_type_double,
        }
    }
}

/// A zfp field over `data` with the header's element type and extent.
///
/// # Safety
/// `data` must point to the header's element count of its element type, aligned, valid for as
/// long as the field is used.
unsafe fn new_field(data: *mut c_void, h: &Header) -> *mut zfp::zfp_field {
    let t = h.scalar.zfp_type();
    let [x, y, z, w] = h.extent;
    // SAFETY: the caller's guarantee; zfp only stores the pointer here.
    unsafe {
        match h.dims {
            1 => zfp::zfp_field_1d(data, t, x),
            2 => zfp::zfp_field_2d(data, t, x, y),
            3 => zfp::zfp_field_3d(data, t, x, y, z),
            _ => zfp::zfp_field_4d(data, t, x, y, z, w),
        }
    }
}

/// Owns the zfp objects of one call and frees them on every path.
struct Handles {
    stream: *mut zfp::zfp_stream,
    field: *mut zfp::zfp_field,
    bits: *mut zfp::bitstream,
}

impl Default for Handles {
    fn default() -> Self {
        Handles {
            stream: std::ptr::null_mut(),
            field: std::ptr::null_mut(),
            bits: std::ptr::null_mut(),
        }
    }
}

impl Drop for Handles {
    fn drop(&mut self) {
        // SAFETY: each pointer is null or was returned by the matching zfp constructor and is
        // freed exactly once, here.
        unsafe {
            if !self.field.is_null() {
                zfp::zfp_field_free(self.field);
            }
            if !self.stream.is_null() {
                zfp::zfp_stream_close(self.stream);
            }
            if !self.bits.is_null() {
                zfp::stream_close(self.bits);
            }
        }
    }
}

/// `len` bytes of zeros in 8-byte words (zfp's bit streams read and write whole words), plus
/// one spare word.
fn words(len: usize) -> Vec<u64> {
    vec![0u64; len.div_ceil(8) + 1]
}

impl Codec for Zfpy {
    fn id(&self) -> &'static str {
        ID
    }

    fn encode(&self, _input: &[u8], _itemsize: usize) -> CodecResult<Vec<u8>> {
        Err(CodecError::unsupported(
            ID,
            "zfpy compresses the chunk with its dtype and shape, which this call does not give: \
             encode through CodecChain::encode_chunk",
        ))
    }

    fn encode_chunk(&self, input: &[u8], layout: &ChunkLayout) -> CodecResult<Vec<u8>> {
        let Some(dtype) = layout.dtype() else {
            return self.encode(input, layout.itemsize());
        };
        let native = if cfg!(target_endian = "little") {
            '<'
        } else {
            '>'
        };
        let order_ok = dtype.starts_with(native) || dtype.starts_with('=');
        let scalar = match (order_ok, dtype.get(1..)) {
            (true, Some("i4")) => Scalar::Int32,
            (true, Some("i8")) => Scalar::Int64,
            (true, Some("f4")) => Scalar::Float,
            (true, Some("f8")) => Scalar::Double,
            _ => {
                return Err(CodecError::unsupported(
                    ID,
                    format!("dtype {dtype:?}: zfpy takes native-order i4, i8, f4 and f8"),
                ));
            }
        };
        let shape = layout.shape();
        // zfp's header holds each extent minus one in 32 (1-d), 24, 16 or 12 (4-d) bits.
        let extent_bits = [32, 24, 16, 12];
        if shape.is_empty()
            || shape.len() > 4
            || shape
                .iter()
                .any(|&d| d == 0 || (d as u64 - 1) >> extent_bits[shape.len() - 1] != 0)
        {
            return Err(CodecError::unsupported(
                ID,
                format!(
                    "chunk shape {shape:?}: zfp compresses 1 to 4 dimensions of non-zero length, \
                     at most 2^32, 2^24, 2^16 or 2^12 along each axis for 1 to 4 dimensions"
                ),
            ));
        }
        let count = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        if count.and_then(|c| c.checked_mul(scalar.size())) != Some(input.len()) {
            return Err(CodecError::invalid(
                ID,
                format!(
                    "{} bytes do not hold a chunk of shape {shape:?} of {dtype}",
                    input.len()
                ),
            ));
        }
        if let Setting::Rate(rate) = self.setting {
            // zfp_stream_set_rate: bits per block, rounded. Outside 1..=ZFP_MAX_BITS zfp writes
            // a header that does not describe its blocks.
            let bits = (rate * (1u64 << (2 * shape.len())) as f64 + 0.5).floor();
            if !(1.0..=16658.0).contains(&bits) {
                return Err(CodecError::unsupported(
                    ID,
                    format!(
                        "rate {rate} gives {bits} bits per {}-d block; zfp takes 1 to 16658",
                        shape.len()
                    ),
                ));
            }
        }
        // zfp reads whole elements through the field pointer: give it an aligned copy.
        let mut aligned = words(input.len());
        bytes_of_mut(&mut aligned)[..input.len()].copy_from_slice(input);
        // C order: the last axis varies fastest and is zfp's x.
        let mut extent = [0usize; 4];
        for (e, &d) in extent.iter_mut().zip(shape.iter().rev()) {
            *e = d;
        }
        let mut header = Header {
            scalar,
            extent,
            dims: shape.len(),
            params: Params::default(),
            // ZFP_HEADER_MAX_BITS: the longest header zfp writes.
            bits: 148,
        };
        let mut h = Handles::default();
        // SAFETY: the field points to `aligned`, which holds the shape's element count of the
        // dtype and outlives the field; the output buffer is at least as large as the most bits
        // zfp writes for this field and mode (what its decoder reads back, see header.rs).
        unsafe {
            h.field = new_field(aligned.as_mut_ptr().cast(), &header);
            h.stream = zfp::zfp_stream_open(std::ptr::null_mut());
            if h.field.is_null() || h.stream.is_null() {
                return Err(CodecError::internal(ID, "zfp could not allocate its state"));
            }
            match self.setting {
                Setting::Accuracy(t) => {
                    zfp::zfp_stream_set_accuracy(h.stream, t);
                }
                // zfpy passes no element type here (zfp_type_none), which skips zfp's per-type
                // minimum; the same call writes the same bits. zfp_stream_maximum_size then
                // undercounts float blocks, which `max_stream_bits` does not.
                Setting::Rate(r) => {
                    zfp::zfp_stream_set_rate(
                        h.stream,
                        r,
                        zfp::zfp_type_zfp_type_none,
                        shape.len() as _,
                        0,
                    );
                }
                Setting::Precision(p) => {
                    zfp::zfp_stream_set_precision(h.stream, p as _);
                }
                Setting::Reversible => zfp::zfp_stream_set_reversible(h.stream),
            }
            let p = &mut header.params;
            zfp::zfp_stream_params(
                h.stream,
                &mut p.minbits,
                &mut p.maxbits,
                &mut p.maxprec,
                &mut p.minexp,
            );
            let bound = usize::try_from(header.max_stream_bits().div_ceil(8)).map_err(|_| {
                CodecError::unsupported(ID, "the chunk's compressed size does not fit in memory")
            })?;
            let max = zfp::zfp_stream_maximum_size(h.stream, h.field).max(bound);
            let mut out = words(max);
            h.bits = zfp::stream_open(out.as_mut_ptr().cast::<c_void>(), out.len() * 8);
            if h.bits.is_null() {
                return Err(CodecError::internal(
                    ID,
                    "zfp could not open its bit stream",
                ));
            }
            zfp::zfp_stream_set_bit_stream(h.stream, h.bits);
            zfp::zfp_stream_rewind(h.stream);
            if zfp::zfp_write_header(h.stream, h.field, zfp::ZFP_HEADER_FULL as _) == 0 {
                return Err(CodecError::internal(ID, "zfp could not write its header"));
            }
            let written = zfp::zfp_compress(h.stream, h.field);
            if written == 0 || written > max {
                return Err(CodecError::internal(ID, "zfp compression failed"));
            }
            drop(h);
            let mut bytes = bytes_of_mut(&mut out)[..written].to_vec();
            bytes.shrink_to_fit();
            Ok(bytes)
        }
    }

    fn decode_into(&self, input: &[u8], out: &mut [u8], itemsize: usize) -> CodecResult<()> {
        if cfg!(target_endian = "big") {
            return Err(CodecError::unsupported(
                ID,
                "decoding zfpy on a big-endian machine (zfp's stream words are little-endian)",
            ));
        }
        let header = Header::parse(input)?;
        let size = header.scalar.size();
        if size != itemsize {
            return Err(CodecError::corrupt(
                ID,
                format!(
                    "the stream holds {} ({size}-byte elements), the chunk's elements are \
                     {itemsize} bytes",
                    header.describe()
                ),
            ));
        }
        let decoded = header.elements().and_then(|n| n.checked_mul(size));
        if decoded != Some(out.len()) {
            return Err(CodecError::size(
                ID,
                out.len(),
                decoded.map_or(u64::MAX, |d| d as u64),
            ));
        }
        let truncated = |needed: u64| {
            CodecError::corrupt(
                ID,
                format!(
                    "truncated: {} needs at least {needed} bytes, {} given",
                    header.describe(),
                    input.len()
                ),
            )
        };
        if (input.len() as u64).saturating_mul(8) < header.min_stream_bits() {
            return Err(truncated(header.min_stream_bits().div_ceil(8)));
        }
        // zfp reads nothing past `max_stream_bits` (see header.rs), so a zeroed copy of the
        // stream that long is all the memory it can touch. Every block holds at least `minbits`
        // (checked above), so the copy is at most the input plus about the decoded size.
        let readable = usize::try_from(header.max_stream_bits().div_ceil(8))
            .map_err(|_| CodecError::size(ID, out.len(), u64::MAX))?
            .max(input.len());
        let mut padded = words(readable);
        bytes_of_mut(&mut padded)[..input.len()].copy_from_slice(input);
        // Decode into aligned words, then copy: `out` has no alignment guarantee.
        let mut values = words(out.len());
        let consumed = run_decoder(&header, &mut padded, &mut values)?;
        if consumed == 0 {
            return Err(CodecError::corrupt(ID, "zfp decompression failed"));
        }
        if consumed > padded.len() * 8 {
            return Err(CodecError::internal(
                ID,
                format!(
                    "zfp read {consumed} bytes, past the {} it can read for {}",
                    padded.len() * 8,
                    header.describe()
                ),
            ));
        }
        // zfp stops on a word boundary; a stream that ends in the zero padding was cut short.
        if consumed > input.len() {
            return Err(truncated(consumed as u64));
        }
        out.copy_from_slice(&bytes_of_mut(&mut values)[..out.len()]);
        Ok(())
    }

    fn encoded_len(&self, _decoded_len: usize, _itemsize: usize) -> CodecResult<Option<usize>> {
        Ok(None)
    }
}

/// Runs zfp's decoder on `stream` (the header, already parsed as `header`, then the blocks) into
/// `values`, returning how many bytes of `stream` zfp read (it stops on a word boundary).
///
/// `stream` must hold at least `header.max_stream_bits()` bits and `values` the header's
/// elements: then zfp reads and writes only inside them.
fn run_decoder(header: &Header, stream: &mut [u64], values: &mut [u64]) -> CodecResult<usize> {
    let bound = header.max_stream_bits();
    let elements = header
        .elements()
        .and_then(|n| n.checked_mul(header.scalar.size()));
    if (stream.len() as u64).saturating_mul(64) < bound
        || elements.is_none_or(|n| n > values.len() * 8)
    {
        return Err(CodecError::internal(
            ID,
            "zfp's buffers are smaller than its bounds",
        ));
    }
    let mut h = Handles::default();
    // SAFETY: the field points to `values`, which holds the header's elements; the bit stream is
    // opened on `stream`, which holds the most bits zfp's decoder can read after this header
    // (checked above); the parameters given to zfp are the header's, which `Header::parse`
    // checked to be one of zfpy's modes.
    unsafe {
        h.field = new_field(values.as_mut_ptr().cast(), header);
        h.stream = zfp::zfp_stream_open(std::ptr::null_mut());
        h.bits = zfp::stream_open(stream.as_mut_ptr().cast::<c_void>(), stream.len() * 8);
        if h.field.is_null() || h.stream.is_null() || h.bits.is_null() {
            return Err(CodecError::internal(ID, "zfp could not allocate its state"));
        }
        let p = header.params;
        if zfp::zfp_stream_set_params(h.stream, p.minbits, p.maxbits, p.maxprec, p.minexp) == 0 {
            return Err(CodecError::internal(
                ID,
                "zfp refused the header's parameters",
            ));
        }
        zfp::zfp_stream_set_bit_stream(h.stream, h.bits);
        zfp::zfp_stream_rewind(h.stream);
        zfp::stream_skip(h.bits, header.bits as _);
        Ok(zfp::zfp_decompress(h.stream, h.field))
    }
}

/// The bytes of a word buffer.
fn bytes_of_mut(words: &mut [u64]) -> &mut [u8] {
    // SAFETY: u8 has no alignment or validity requirements and the length covers exactly the
    // words' bytes.
    unsafe { std::slice::from_raw_parts_mut(words.as_mut_ptr().cast::<u8>(), words.len() * 8) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CodecErrorKind;
    use serde_json::json;

    fn field(n: usize) -> Vec<u8> {
        (0..n)
            .flat_map(|i| ((i as f64) * 0.01).sin().to_le_bytes())
            .collect()
    }

    #[test]
    fn every_mode_roundtrips_within_its_bound() {
        let data = field(12 * 10);
        let layout = ChunkLayout::new("<f8", 8, vec![12, 10]);
        for (config, tolerance) in [
            (json!({"id": ID, "mode": 4, "tolerance": 1e-3}), 1e-3),
            (json!({"id": ID, "mode": 2, "rate": 16}), 1e-2),
            (json!({"id": ID, "mode": 3, "precision": 24}), 1e-4),
            (json!({"id": ID, "mode": 5}), 0.0),
            (json!({"id": ID}), 0.0),
        ] {
            let z = Zfpy::from_json(&config).unwrap();
            let blob = z.encode_chunk(&data, &layout).unwrap();
            let mut out = vec![0u8; data.len()];
            z.decode_into(&blob, &mut out, 8).unwrap();
            for (a, b) in data.chunks(8).zip(out.chunks(8)) {
                let (a, b) = (
                    f64::from_le_bytes(a.try_into().unwrap()),
                    f64::from_le_bytes(b.try_into().unwrap()),
                );
                assert!((a - b).abs() <= tolerance, "{config}: {a} vs {b}");
            }
            // Wrong sizes and every truncation are typed errors.
            let mut short = vec![0u8; data.len() - 8];
            assert_eq!(
                z.decode_into(&blob, &mut short, 8).unwrap_err().kind(),
                CodecErrorKind::SizeMismatch
            );
            for cut in (0..blob.len()).step_by(7) {
                let err = z.decode_into(&blob[..cut], &mut out, 8).unwrap_err();
                assert_eq!(
                    err.kind(),
                    CodecErrorKind::Corrupt,
                    "{config} cut at {cut}: {err}"
                );
            }
        }
    }

    #[test]
    fn refuses_what_zfp_cannot_compress() {
        let z = Zfpy::from_json(&json!({"id": ID, "mode": 4, "tolerance": 0.5})).unwrap();
        for (dtype, shape) in [
            ("<u4", vec![4]),
            (">f8", vec![2]),
            ("<f4", vec![1, 1, 1, 1, 4]),
        ] {
            let n: usize = shape.iter().product();
            let size = if dtype.ends_with('8') { 8 } else { 4 };
            let err = z
                .encode_chunk(&vec![0u8; n * size], &ChunkLayout::new(dtype, size, shape))
                .unwrap_err();
            assert_eq!(err.kind(), CodecErrorKind::Unsupported, "{dtype}");
        }
        assert!(Zfpy::from_json(&json!({"id": ID, "mode": 1})).is_err());
    }

    #[test]
    fn tiny_rates_encode_and_decode_within_bounds() {
        // 1 to 11 bits per block of doubles: fewer than the block exponent takes. zfp's own
        // maximum size undercounts these (its encoder would overrun the buffer zfpy gives it).
        let data = field(4 * 9);
        let layout = ChunkLayout::new("<f8", 8, vec![4, 9]);
        for rate in [0.0625, 0.25, 0.5] {
            let z = Zfpy::from_json(&json!({"id": ID, "mode": 2, "rate": rate})).unwrap();
            let blob = z.encode_chunk(&data, &layout).unwrap();
            let header = Header::parse(&blob).unwrap();
            assert!(header.params.maxbits < 12, "rate {rate}");
            assert!(blob.len() as u64 * 8 <= header.max_stream_bits().next_multiple_of(64));
            let mut out = vec![0u8; data.len()];
            z.decode_into(&blob, &mut out, 8).unwrap();
        }
        let zero = Zfpy::from_json(&json!({"id": ID, "mode": 2, "rate": 0})).unwrap();
        let err = zero.encode_chunk(&data, &layout).unwrap_err();
        assert_eq!(err.kind(), CodecErrorKind::Unsupported, "{err}");
    }

    #[test]
    fn refuses_a_header_that_disagrees_with_the_chunk() {
        let data = field(30);
        let z = Zfpy::from_json(&json!({"id": ID, "mode": 5})).unwrap();
        let blob = z
            .encode_chunk(&data, &ChunkLayout::new("<f8", 8, vec![5, 6]))
            .unwrap();
        // The same bytes as 60 four-byte elements: the header says 30 doubles.
        let mut out = vec![0u8; data.len()];
        let err = z.decode_into(&blob, &mut out, 4).unwrap_err();
        assert_eq!(err.kind(), CodecErrorKind::Corrupt, "{err}");
        let mut longer = vec![0u8; data.len() + 8];
        let err = z.decode_into(&blob, &mut longer, 8).unwrap_err();
        assert_eq!(err.kind(), CodecErrorKind::SizeMismatch, "{err}");
    }

    /// The fuzz finding (suite 60): a fixed-rate header of 1 bit per float block, then ones. zfp's
    /// decoder reads a whole block's bit planes per nonzero flag, far past the 1 bit per block
    /// that zfp_stream_maximum_size allows for; the padded copy holds it, and the stream is
    /// refused as truncated.
    #[test]
    fn a_one_bit_rate_float_stream_is_refused_not_overread() {
        // magic, then meta: float (2), 1-d (0), 64 elements (63); then mode 0 (1 bit per block).
        let header: u128 = u128::from(u32::from_le_bytes(*b"zfp\x05")) | (2 | 63 << 4) << 32;
        let mut stream = header.to_le_bytes()[..12].to_vec();
        stream.extend([0xff; 8]);
        let parsed = Header::parse(&stream).unwrap();
        assert_eq!((parsed.params.minbits, parsed.params.maxbits), (1, 1));
        assert!(parsed.max_stream_bits() > 16 * (1 + 8 + 32 * 4));
        let z = Zfpy::from_json(&json!({"id": ID})).unwrap();
        let mut out = vec![0u8; 64 * 4];
        let err = z.decode_into(&stream, &mut out, 4).unwrap_err();
        assert_eq!(err.kind(), CodecErrorKind::Corrupt, "{err}");
    }
}

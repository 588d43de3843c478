//! zfp's stream header, parsed and checked in Rust before zfp sees the stream, and the most bits
//! zfp's decoder can read for the field and mode it describes.
//!
//! zfp's bit reader does no bounds checks (`bitstream.inl`: "buffer overruns are not caught"),
//! and `zfp_stream_maximum_size` is not an upper bound on what the decoder reads: in fixed-rate
//! mode with fewer bits per block than a float block's exponent needs (zfpy sets the rate
//! without the element type, so nothing raises it), the decoder's bit budget underflows and it
//! decodes whole bit planes. The bound here follows zfp 1.0's decoder (`src/template/decode*.c`,
//! `revdecode*.c`) path by path instead; the unit tests check it against zfp's own read position.
//!
//! The stream is a sequence of 64-bit little-endian words read least significant bit first, so
//! bit `i` is bit `i % 8` of byte `i / 8`.

use crate::error::{CodecError, CodecResult};

use super::ID;

/// zfp's codec version (`ZFP_CODEC`) that zfp 1.0 writes and reads.
const CODEC_VERSION: u64 = 5;
/// Bits of the magic, field metadata and short mode; a long mode adds 52.
const MAGIC_BITS: u64 = 32;
const META_BITS: u32 = 52;
const SHORT_MODE_BITS: u32 = 12;
const LONG_MODE_EXTRA_BITS: u32 = 52;
/// The largest short mode; a short field of all ones announces a long (64-bit) mode.
const SHORT_MODE_MAX: u64 = (1 << SHORT_MODE_BITS) - 2;
/// zfp's parameter limits (`zfp.h`).
const MIN_BITS: u32 = 1;
const MAX_BITS: u32 = 16658;
const MAX_PREC: u32 = 64;
const MIN_EXP: i32 = -1074;

/// The element types zfp compresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scalar {
    Int32,
    Int64,
    Float,
    Double,
}

impl Scalar {
    /// Bytes per element.
    pub(super) fn size(self) -> usize {
        match self {
            Scalar::Int32 | Scalar::Float => 4,
            Scalar::Int64 | Scalar::Double => 8,
        }
    }

    /// Bits of the integers zfp codes the block in (`intprec`).
    fn int_bits(self) -> u64 {
        self.size() as u64 * 8
    }

    /// Bits of a float block's common exponent (`EBITS`); none for integers.
    fn exponent_bits(self) -> u64 {
        match self {
            Scalar::Int32 | Scalar::Int64 => 0,
            Scalar::Float => 8,
            Scalar::Double => 11,
        }
    }

    /// Bits of a reversible block's precision (`PBITS`).
    fn precision_bits(self) -> u64 {
        match self {
            Scalar::Int32 | Scalar::Float => 5,
            Scalar::Int64 | Scalar::Double => 6,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Scalar::Int32 => "int32",
            Scalar::Int64 => "int64",
            Scalar::Float => "float",
            Scalar::Double => "double",
        }
    }
}

/// zfp's four compression parameters (`zfp_stream_set_params`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Params {
    pub minbits: u32,
    pub maxbits: u32,
    pub maxprec: u32,
    pub minexp: i32,
}

impl Default for Params {
    fn default() -> Self {
        Params::DEFAULT
    }
}

impl Params {
    /// zfp's defaults, which zfpy writes for a tolerance of 0 or a precision of 0 or 64 (zfp
    /// counts them as expert mode because they fit every mode).
    const DEFAULT: Params = Params {
        minbits: MIN_BITS,
        maxbits: MAX_BITS,
        maxprec: MAX_PREC,
        minexp: MIN_EXP,
    };

    pub(super) fn reversible(&self) -> bool {
        self.minexp < MIN_EXP
    }

    /// Whether these are the parameters of one of zfpy's modes (zfp's
    /// `zfp_stream_compression_mode` other than expert), or zfp's defaults.
    fn is_zfpy_mode(&self) -> bool {
        let p = self;
        let fixed_rate = p.minbits == p.maxbits
            && (1..=MAX_BITS).contains(&p.maxbits)
            && p.maxprec >= MAX_PREC
            && p.minexp == MIN_EXP;
        let unbounded = p.minbits <= MIN_BITS && p.maxbits >= MAX_BITS;
        let fixed_precision = unbounded && p.maxprec >= 1 && p.minexp == MIN_EXP;
        let accuracy_or_reversible = unbounded && p.maxprec >= MAX_PREC;
        *p == Params::DEFAULT || fixed_rate || fixed_precision || accuracy_or_reversible
    }
}

/// A parsed full zfp header (`zfp_write_header(.., ZFP_HEADER_FULL)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Header {
    pub scalar: Scalar,
    /// The field's extent along x, y, z, w (zfp's order: x varies fastest); `dims` are set.
    pub extent: [usize; 4],
    pub dims: usize,
    pub params: Params,
    /// The header's length in bits: where the first block starts.
    pub bits: u64,
}

/// Reads bits least significant first, as zfp's bit stream does on a little-endian machine.
struct BitReader<'a> {
    bytes: &'a [u8],
    pos: u64,
}

impl BitReader<'_> {
    fn read(&mut self, n: u32) -> CodecResult<u64> {
        let mut value = 0u64;
        for i in 0..u64::from(n) {
            let at = self.pos + i;
            let byte = usize::try_from(at / 8)
                .ok()
                .and_then(|b| self.bytes.get(b))
                .ok_or_else(|| {
                    CodecError::corrupt(
                        ID,
                        format!(
                            "truncated: {} bytes end inside the zfp header",
                            self.bytes.len()
                        ),
                    )
                })?;
            value |= u64::from((byte >> (at % 8)) & 1) << i;
        }
        self.pos += u64::from(n);
        Ok(value)
    }
}

impl Header {
    /// Parses and checks the header at the start of `stream`.
    ///
    /// # Errors
    /// [`Corrupt`](crate::CodecErrorKind::Corrupt) for a stream too short for its header, a bad
    /// magic or parameters zfp itself would refuse; [`Unsupported`](crate::CodecErrorKind::Unsupported)
    /// for another zfp codec version and for expert-mode parameters, which zfpy never writes.
    pub(super) fn parse(stream: &[u8]) -> CodecResult<Header> {
        let mut r = BitReader {
            bytes: stream,
            pos: 0,
        };
        let magic = r.read(24)?;
        if magic != u64::from_le_bytes([b'z', b'f', b'p', 0, 0, 0, 0, 0]) {
            return Err(CodecError::corrupt(
                ID,
                "not a zfp stream: it does not start with \"zfp\"",
            ));
        }
        let version = r.read(8)?;
        if version != CODEC_VERSION {
            return Err(CodecError::unsupported(
                ID,
                format!(
                    "zfp codec version {version}: tessera reads version {CODEC_VERSION} (zfp 1.0)"
                ),
            ));
        }
        debug_assert_eq!(r.pos, MAGIC_BITS);
        let (scalar, dims, extent) = field(r.read(META_BITS)?);
        let mut mode = r.read(SHORT_MODE_BITS)?;
        if mode > SHORT_MODE_MAX {
            mode += r.read(LONG_MODE_EXTRA_BITS)? << SHORT_MODE_BITS;
        }
        let params = params(mode)?;
        if !params.is_zfpy_mode() {
            return Err(CodecError::unsupported(
                ID,
                format!(
                    "zfp expert mode (minbits {}, maxbits {}, maxprec {}, minexp {}): zfpy writes \
                     only fixed rate, precision, accuracy and reversible streams",
                    params.minbits, params.maxbits, params.maxprec, params.minexp
                ),
            ));
        }
        Ok(Header {
            scalar,
            extent,
            dims,
            params,
            bits: r.pos,
        })
    }

    /// The number of elements, if it fits in a `usize`.
    pub(super) fn elements(&self) -> Option<usize> {
        self.extent[..self.dims]
            .iter()
            .try_fold(1usize, |n, &e| n.checked_mul(e))
    }

    /// A description for messages: `double 10x12` (zfp's x first).
    pub(super) fn describe(&self) -> String {
        let extent: Vec<String> = self.extent[..self.dims]
            .iter()
            .map(ToString::to_string)
            .collect();
        format!("{} {}", self.scalar.name(), extent.join("x"))
    }

    /// zfp's 4^dims blocks covering the field.
    fn blocks(&self) -> u64 {
        self.extent[..self.dims]
            .iter()
            .map(|&e| (e as u64).div_ceil(4))
            .product()
    }

    /// The fewest bits a well-formed stream of this header holds: every block takes at least
    /// `minbits`.
    pub(super) fn min_stream_bits(&self) -> u64 {
        self.bits + self.blocks() * u64::from(self.params.minbits)
    }

    /// The most bits zfp's decoder can read for this header, whatever follows it.
    pub(super) fn max_stream_bits(&self) -> u64 {
        self.bits + self.blocks() * max_block_bits(self.scalar, self.dims, &self.params)
    }
}

/// The element type and extent of zfp's 52-bit field metadata (`zfp_field_set_metadata`).
fn field(meta: u64) -> (Scalar, usize, [usize; 4]) {
    let scalar = match meta & 3 {
        0 => Scalar::Int32,
        1 => Scalar::Int64,
        2 => Scalar::Float,
        _ => Scalar::Double,
    };
    let dims = ((meta >> 2) & 3) as usize + 1;
    let sizes = meta >> 4;
    // Each axis stores its extent minus one; 1-d keeps 32 bits of its 48, as zfp 1.0 does.
    let (bits, mask) = match dims {
        1 => (48, 0xffff_ffff),
        2 => (24, 0xff_ffff),
        3 => (16, 0xffff),
        _ => (12, 0xfff),
    };
    let mut extent = [0usize; 4];
    for (axis, e) in extent.iter_mut().enumerate().take(dims) {
        *e = ((sizes >> (bits * axis)) & mask) as usize + 1;
    }
    (scalar, dims, extent)
}

/// The parameters of a 12-bit short or 64-bit long mode (`zfp_stream_set_mode`).
fn params(mode: u64) -> CodecResult<Params> {
    let p = if mode <= SHORT_MODE_MAX {
        // mode < 2^12 here, so the casts below are exact.
        match mode {
            0..2048 => Params {
                minbits: mode as u32 + 1,
                maxbits: mode as u32 + 1,
                ..Params::DEFAULT
            },
            2048..2176 => Params {
                maxprec: mode as u32 + 1 - 2048,
                ..Params::DEFAULT
            },
            2176 => Params {
                minexp: MIN_EXP - 1,
                ..Params::DEFAULT
            },
            _ => Params {
                minexp: mode as i32 + MIN_EXP - 2177,
                ..Params::DEFAULT
            },
        }
    } else {
        let long = mode >> SHORT_MODE_BITS;
        Params {
            minbits: (long & 0x7fff) as u32 + 1,
            maxbits: ((long >> 15) & 0x7fff) as u32 + 1,
            maxprec: ((long >> 30) & 0x7f) as u32 + 1,
            minexp: ((long >> 37) & 0x7fff) as i32 - 16495,
        }
    };
    if p.minbits > p.maxbits || !(1..=MAX_PREC).contains(&p.maxprec) {
        return Err(CodecError::corrupt(
            ID,
            format!(
                "the zfp header's parameters are invalid (minbits {} > maxbits {}, or maxprec {} \
                 not in 1..=64)",
                p.minbits, p.maxbits, p.maxprec
            ),
        ));
    }
    Ok(p)
}

/// The most bits zfp's decoder reads for one block of `scalar` in `dims` dimensions with `params`,
/// from any input.
///
/// Every path of zfp 1.0's block decoder reads some fixed bits (a nonzero flag, the exponent, the
/// precision), then the coefficients with `decode_ints`, then skips ahead to `minbits`. The
/// budget `maxbits` only ever lowers what `decode_ints` reads, and it underflows (unsigned) when
/// the fixed bits exceed it, so it is not counted here: the bound is
/// `max(minbits, fixed + coefficients(planes))`.
pub(super) fn max_block_bits(scalar: Scalar, dims: usize, params: &Params) -> u64 {
    let values = 1u64 << (2 * dims);
    let int_bits = scalar.int_bits();
    let float = scalar.exponent_bits() > 0;
    let (fixed, planes) = if params.reversible() {
        // revdecode(f).c: nonzero flag and transform flag (floats only), maybe the exponent,
        // then the block's precision in PBITS bits: at most int_bits planes.
        let flags = if float { 2 + scalar.exponent_bits() } else { 0 };
        (flags + scalar.precision_bits(), int_bits)
    } else {
        // decodef.c: nonzero flag and exponent (floats only); decode.c: at most maxprec planes.
        let flags = if float { 1 + scalar.exponent_bits() } else { 0 };
        (flags, u64::from(params.maxprec).min(int_bits))
    };
    u64::from(params.minbits).max(fixed + coefficient_bits(values, planes))
}

/// The most bits `decode_ints` reads for `planes` bit planes of `values` coefficients.
///
/// In each plane it reads the `n` bits of the coefficients already significant, then group tests:
/// each 1-test is followed by a scan that reads at most one bit per coefficient it passes plus a
/// closing 1, and at most one 0-test ends the plane. So a plane reads at most
/// `n_before + 2 * (n_after - n_before) + 1` bits, and over all planes (n never exceeds `values`)
/// `(planes - 1) * values + 2 * values + planes`.
fn coefficient_bits(values: u64, planes: u64) -> u64 {
    (planes + 1) * values + planes
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes bits least significant first, as zfp does.
    fn push(bits: &mut Vec<bool>, value: u64, n: u32) {
        bits.extend((0..n).map(|i| value >> i & 1 == 1));
    }

    fn bytes(bits: &[bool]) -> Vec<u8> {
        bits.chunks(8)
            .map(|c| c.iter().enumerate().map(|(i, &b)| u8::from(b) << i).sum())
            .collect()
    }

    fn header(meta: u64, mode: u64, long: bool) -> Vec<u8> {
        let mut bits = Vec::new();
        push(&mut bits, u64::from_le_bytes(*b"zfp\x05\0\0\0\0"), 32);
        push(&mut bits, meta, 52);
        push(&mut bits, mode, if long { 64 } else { 12 });
        bytes(&bits)
    }

    #[test]
    fn reads_field_and_short_modes() {
        // 3-d double 5x6x7: type 3, dims 3 - 1, extents minus one in 16-bit fields.
        let meta = 3 | 2 << 2 | (4 | 5 << 16 | 6 << 32) << 4;
        let h = Header::parse(&header(meta, 2048 + 11, false)).unwrap();
        assert_eq!(h.scalar, Scalar::Double);
        assert_eq!((h.dims, h.extent), (3, [5, 6, 7, 0]));
        assert_eq!(h.params.maxprec, 12);
        assert_eq!(h.bits, 96);
        assert_eq!(h.elements(), Some(210));
        assert_eq!(h.blocks(), 2 * 2 * 2);
        let rate = Header::parse(&header(meta, 99, false)).unwrap();
        assert_eq!((rate.params.minbits, rate.params.maxbits), (100, 100));
        assert!(
            Header::parse(&header(meta, 2176, false))
                .unwrap()
                .params
                .reversible()
        );
        assert_eq!(
            Header::parse(&header(meta, 2177, false))
                .unwrap()
                .params
                .minexp,
            MIN_EXP
        );
    }

    #[test]
    fn long_modes_zfpy_writes_are_read_and_expert_ones_refused() {
        let meta = 2; // 1-d float of 1 element
        let long = |min: u64, max: u64, prec: u64, exp: u64| {
            0xfff | (min - 1) << 12 | (max - 1) << 27 | (prec - 1) << 42 | exp << 49
        };
        // Fixed rate above 2048 bits per block, and zfp's defaults (tolerance 0).
        let h = Header::parse(&header(meta, long(4096, 4096, 64, 16495 - 1074), true)).unwrap();
        assert_eq!((h.params.maxbits, h.bits), (4096, 148));
        let d = Header::parse(&header(meta, long(1, 16658, 64, 16495 - 1074), true)).unwrap();
        assert_eq!(d.params, Params::DEFAULT);
        let expert = Header::parse(&header(meta, long(5, 300, 20, 16495 - 1074), true));
        assert_eq!(
            expert.unwrap_err().kind(),
            crate::CodecErrorKind::Unsupported
        );
        let invalid = Header::parse(&header(meta, long(300, 5, 64, 0), true));
        assert_eq!(invalid.unwrap_err().kind(), crate::CodecErrorKind::Corrupt);
    }

    #[test]
    fn refuses_bad_magic_version_and_truncation() {
        let good = header(2, 2176, false);
        for cut in 0..good.len() {
            assert_eq!(
                Header::parse(&good[..cut]).unwrap_err().kind(),
                crate::CodecErrorKind::Corrupt,
                "cut at {cut}"
            );
        }
        let mut magic = good.clone();
        magic[0] = b'Z';
        assert_eq!(
            Header::parse(&magic).unwrap_err().kind(),
            crate::CodecErrorKind::Corrupt
        );
        let mut version = good;
        version[3] = 4;
        assert_eq!(
            Header::parse(&version).unwrap_err().kind(),
            crate::CodecErrorKind::Unsupported
        );
    }
}

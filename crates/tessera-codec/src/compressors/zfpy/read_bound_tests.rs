//! Checks `Header::max_stream_bits` against zfp itself: streams with headers zfp writes (every
//! element type, 1 to 4 dimensions, every mode zfpy sets, including rates below a float
//! block's exponent) followed by arbitrary bits are decoded with room to spare, and zfp's read
//! position must stay within the bound. zfp's bit stream reads words strictly forwards, so its
//! final position (`zfp_decompress`'s return) is the furthest byte it touched.

use std::ffi::c_void;

use proptest::prelude::*;
use zfp_sys_cc as zfp;

use super::header::{Header, Params, Scalar};
use super::{Handles, new_field, run_decoder};

/// A compression mode as zfpy sets it.
#[derive(Debug, Clone, Copy)]
enum Mode {
    /// Bits per block (zfpy's rate times the block's value count).
    Rate(u32),
    Precision(u32),
    /// log2 of the tolerance; `None` for a tolerance of 0 (zfp's defaults).
    Accuracy(Option<i32>),
    Reversible,
}

fn mode() -> impl Strategy<Value = Mode> {
    prop_oneof![
        (1u32..40).prop_map(Mode::Rate),
        (40u32..=16658).prop_map(Mode::Rate),
        (1u32..=64).prop_map(Mode::Precision),
        prop::option::of(-80i32..20).prop_map(Mode::Accuracy),
        Just(Mode::Reversible),
    ]
}

fn scalar() -> impl Strategy<Value = Scalar> {
    prop_oneof![
        Just(Scalar::Int32),
        Just(Scalar::Int64),
        Just(Scalar::Float),
        Just(Scalar::Double),
    ]
}

/// The stream body: random bytes, or runs of ones (the longest group-test scans), or random bytes
/// with most bits set.
fn body() -> impl Strategy<Value = Vec<u8>> {
    (prop::collection::vec(any::<u8>(), 0..4096), 0u8..3).prop_map(|(mut bytes, style)| {
        for (i, b) in bytes.iter_mut().enumerate() {
            match style {
                0 => {}
                1 => *b = 0xff,
                _ => *b |= (i as u8).wrapping_mul(37) | 0x6d,
            }
        }
        bytes
    })
}

/// zfp writes the header for `scalar` over `extent` (x first) in `mode`, then `body`'s bits.
fn stream(scalar: Scalar, extent: &[usize], mode: Mode, body: &[u8]) -> Vec<u8> {
    let mut full = [0usize; 4];
    full[..extent.len()].copy_from_slice(extent);
    let shape = Header {
        scalar,
        extent: full,
        dims: extent.len(),
        params: Params::default(),
        bits: 0,
    };
    let mut words = vec![0u64; 4 + body.len().div_ceil(8)];
    let mut h = Handles::default();
    // SAFETY: the field is only read for its type and extent (no data pointer is followed when
    // writing a header); the bit stream is opened on `words`, large enough for the 148-bit
    // header and `body`.
    unsafe {
        h.field = new_field(std::ptr::null_mut(), &shape);
        h.stream = zfp::zfp_stream_open(std::ptr::null_mut());
        h.bits = zfp::stream_open(words.as_mut_ptr().cast::<c_void>(), words.len() * 8);
        assert!(!h.field.is_null() && !h.stream.is_null() && !h.bits.is_null());
        let values = 1u32 << (2 * extent.len());
        match mode {
            Mode::Rate(bits) => {
                zfp::zfp_stream_set_rate(
                    h.stream,
                    f64::from(bits) / f64::from(values),
                    zfp::zfp_type_zfp_type_none,
                    extent.len() as _,
                    0,
                );
            }
            Mode::Precision(p) => {
                zfp::zfp_stream_set_precision(h.stream, p);
            }
            Mode::Accuracy(e) => {
                zfp::zfp_stream_set_accuracy(h.stream, e.map_or(0.0, |e| 2f64.powi(e)));
            }
            Mode::Reversible => zfp::zfp_stream_set_reversible(h.stream),
        }
        zfp::zfp_stream_set_bit_stream(h.stream, h.bits);
        zfp::zfp_stream_rewind(h.stream);
        assert_ne!(
            zfp::zfp_write_header(h.stream, h.field, zfp::ZFP_HEADER_FULL as _),
            0
        );
        for &b in body {
            zfp::stream_write_bits(h.bits, u64::from(b), 8);
        }
        zfp::stream_flush(h.bits);
    }
    drop(h);
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn zfp_reads_no_further_than_the_bound(
        scalar in scalar(),
        extent in prop::collection::vec(1usize..10, 1..=4),
        mode in mode(),
        body in body(),
    ) {
        let bytes = stream(scalar, &extent, mode, &body);
        let header = Header::parse(&bytes).expect("zfp's own header parses");
        prop_assert_eq!(header.scalar, scalar);
        prop_assert_eq!(&header.extent[..header.dims], &extent[..]);
        let bound_words = header.max_stream_bits().div_ceil(64) as usize;
        // Room to spare past the bound, so that a read beyond it is seen, not undefined.
        let mut padded = vec![0u64; bound_words.max(bytes.len().div_ceil(8)) + 4096];
        for (w, chunk) in padded.iter_mut().zip(bytes.chunks(8)) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            *w = u64::from_le_bytes(b);
        }
        // Past the input, ones: the costliest bits to decode.
        for w in padded.iter_mut().skip(bytes.len().div_ceil(8)) {
            *w = u64::MAX;
        }
        let mut values = vec![0u64; header.elements().unwrap() + 1];
        let consumed = run_decoder(&header, &mut padded, &mut values).unwrap();
        prop_assert!(
            consumed <= bound_words * 8,
            "{:?} {:?} {:?}: zfp read {} bytes, bound {}",
            scalar, extent, mode, consumed, bound_words * 8
        );
    }
}

//! Inputs the `array_*` fuzz targets (in `fuzz/`) found crashing, kept as regression tests with their
//! bytes inline. Each test runs the checks of its fuzz target on the input: the very functions the
//! targets call, from `fuzz/checks/`.

use std::sync::Arc;

use tessera_array::{Array, ArrayMetadata, Selection};
use tessera_store::{MemoryStore, Store, StoreKey};

#[path = "../../fuzz/checks/read_raw.rs"]
mod read_raw_checks;
#[path = "../../fuzz/checks/selection.rs"]
mod selection_checks;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// `array_selection`, crash-2f972c68: an empty selection (an axis of length 0) whose other axes
/// multiply past 2^64 (4 x 2^62-ish x 0). `ResolvedSelection::num_elements` overflowed ("attempt to
/// multiply with overflow" in debug builds, a wrapped count in release) before reaching the 0; it now
/// returns 0 for any selection with an empty axis.
#[test]
fn empty_selection_of_huge_axes_counts_zero_elements() {
    selection_checks::selection(&hex("030800000a00002e202d005d00000000c8002e2e2e2c202d31"));
    let sel = Selection::all()
        .resolve(&[1 << 40, 1 << 40, 1 << 40, 0])
        .unwrap();
    assert_eq!(sel.num_elements(), 0);
}

/// `array_read_raw`, crash-35233db8: an array of `|S0` (zero-byte) elements with a zlib chunk. The
/// library was right (a read of 12 such elements is 0 bytes); the target counted at least one byte per
/// element. Kept: zero-sized elements through the whole read path.
#[test]
fn zero_sized_elements_read_as_zero_bytes() {
    let input = hex(concat!(
        "f4007b0a2020227368617065223a205b0a20202020372c0a20202020350a20205d2c0a2020226368756e6b73",
        "223a205b0a20202020332c0a20202020320a20205d2c0a2020226474797065223a20227c5330222c0a2020",
        "2266696c6c5f76616c7565223a2022222c0a2020226f72646572223a202243222c0a20202266696c746572",
        "73223a206e756c6c2c0a20202264696d656e73696f6e5f736570617261746f72223a20222e222c0a202022",
        "636f6d70726573736f72223a207b0a20202020226964223a20227a6c6962222c0a20202020226c6576656c",
        "223a20310a20207d2c0a2020227a6172725f666f726d6174223a20320a7d78010b7665606008f701929e25",
        "4096b785bb179002824c23537f060048650471",
    ));
    read_raw_checks::read_raw(&input);
    // The input is a valid `|S0` array, so the checks read it rather than returning early.
    let len = u16::from_le_bytes([input[0], input[1]]) as usize;
    let meta = ArrayMetadata::parse(&input[2..2 + len]).unwrap();
    assert_eq!(meta.dtype.itemsize(), 0);
}

/// `array_zarray` crash-a9730ad6, `array_dtype` crash-4cf0b999, `array_npy_header` crash-a278a03c: a
/// one-byte type written with a byte order (`">i1"`, `">u1"`) parses with that order kept but is
/// written back as `"|i1"` (as numpy does), so the parsed and re-parsed `DataType`s compare unequal.
/// Harmless (one byte never needs swapping); the targets now compare the written form. Kept: such
/// arrays read their bytes unswapped and write the normal form.
#[test]
fn one_byte_types_with_a_byte_order_read_unswapped_and_write_the_normal_form() {
    let zarray = br#"{"shape": [7, 5], "chunks": [3, 2], "dtype": ">i1", "fill_value": 0,
        "order": "C", "filters": null, "compressor": null, "zarr_format": 2}"#;
    let meta = ArrayMetadata::parse(zarray).unwrap();
    assert!(!meta.dtype.needs_swap());
    let again = ArrayMetadata::parse(&meta.to_bytes()).unwrap();
    assert_eq!(again.dtype.to_json(), meta.dtype.to_json());
    assert_eq!(meta.dtype.to_json(), serde_json::json!("|i1"));
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    store
        .set(&StoreKey::new("a/.zarray").unwrap(), zarray.to_vec().into())
        .unwrap();
    store
        .set(
            &StoreKey::new("a/0.0").unwrap(),
            vec![1u8, 2, 3, 4, 5, 0x80].into(),
        )
        .unwrap();
    let got = Array::open(store, "a")
        .unwrap()
        .read::<i8>("0:3, 0:2")
        .unwrap();
    assert_eq!(got.into_raw_vec_and_offset().0, vec![1, 2, 3, 4, 5, -128]);
    let npy =
        b"\x93NUMPY\x01\x00\x76\x00{'descr': '>i1', 'fortran_order': False, 'shape': (2,)\x0c }";
    let mut npy = npy.to_vec();
    npy.resize(10 + 0x76 - 1, b' ');
    npy.push(b'\n');
    let header = tessera_mmap::npy::parse_header(&npy).unwrap();
    let again = tessera_mmap::npy::parse_header(&header.to_bytes()).unwrap();
    assert_eq!(again.dtype.to_json(), header.dtype.to_json());
    assert_eq!(again.shape, vec![2]);
}

/// `array_selection` crash-986440f9 and crash-e9b2895d: harness findings, not library bugs. `4:8:1`
/// displays as `4:8`, which parses to a different but equivalent `Selection` (the target now compares
/// resolved selections); four axes of up to 2^63 overflowed the target's own u128 element count (now
/// saturating). Kept as inputs of the selection checks.
#[test]
fn equivalent_displayed_selections_and_huge_ranks() {
    selection_checks::selection(&hex("011400000000000000343a383a31"));
    selection_checks::selection(&hex(concat!(
        "0945454545454545454545454545454545454545",
        "03080000000000000020000045"
    )));
}

/// `array_selection`, CI's smoke run of 2026-12-02: `::-1` on an axis of 2^31 (the first byte is
/// the rank, then the axis length `v` as 8 bytes, read as `v >> 1` when odd). A selection with a
/// negative step spelled out every position of every axis (8 bytes each): 16 GiB here, an out-of-memory
/// abort under libFuzzer. Slices and indices now stay strided inside fancy selections and are planned
/// one run per chunk; only lists and masks are listed.
#[test]
fn reversed_huge_axes_are_not_spelled_out() {
    let mut input = vec![1u8];
    input.extend_from_slice(&((1u64 << 32) | 1).to_le_bytes());
    input.extend_from_slice(b"::-1");
    selection_checks::selection(&input);
    let sel: Selection = "[0, -1], ::-1, 3".parse().unwrap();
    let r = sel.resolve(&[2, 1 << 31, 4]).unwrap();
    assert_eq!(r.shape(), vec![2, 1 << 31]);
}

/// `array_selection`, CI's smoke run of 2026-12-03: a harness finding, not a library bug. A reversed
/// empty axis beside three of up to 2^63 positions: the target's u128 product of the result's
/// shape overflowed before it reached the 0. The target now counts an empty result as 0 first, as
/// the library does.
#[test]
fn an_empty_fancy_selection_beside_huge_axes_counts_zero() {
    selection_checks::selection(&hex(concat!(
        "27ac016137fe373737613534b7373727ac016137fe373737600000000000",
        "0000003a303a2d31"
    )));
}

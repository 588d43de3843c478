//! Fuzzes `.npy` header parsing: any bytes give a header or a typed error; a header that parses
//! writes back bytes that parse to the same header.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_mmap::npy::parse_header;

fuzz_target!(|data: &[u8]| {
    let Ok(header) = parse_header(data) else {
        return;
    };
    let _ = header.data_len();
    let bytes = header.to_bytes();
    let again = parse_header(&bytes).expect("a parsed header writes back one that parses");
    // Compared in written form: a one-byte type parsed as `>i1` keeps its byte order but writes `|i1`.
    assert_eq!(again.dtype.to_json(), header.dtype.to_json());
    assert_eq!(again.shape, header.shape);
    assert_eq!(again.fortran_order, header.fortran_order);
});

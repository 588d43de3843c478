//! Fuzzes data type parsing: JSON text (a type string or a structured field list) through
//! `DataType::from_json`; whatever parses writes back JSON that parses to the same type.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_array::DataType;

fuzz_target!(|data: &[u8]| {
    let value: serde_json::Value = match serde_json::from_slice(data) {
        Ok(v) => v,
        // Bare text is tried as a type string too.
        Err(_) => match std::str::from_utf8(data) {
            Ok(s) => serde_json::Value::String(s.to_owned()),
            Err(_) => return,
        },
    };
    let Ok(dtype) = DataType::from_json(&value) else {
        return;
    };
    let again =
        DataType::from_json(&dtype.to_json()).expect("a parsed dtype writes back one that parses");
    // Compared in written form: a one-byte type parsed as `>u1` keeps its byte order but writes `|u1`.
    assert_eq!(again.to_json(), dtype.to_json());
    assert_eq!(again.needs_swap(), dtype.needs_swap());
    assert_eq!(again.itemsize(), dtype.itemsize());
    let _ = dtype.typestr();
    let native = dtype.to_native();
    assert_eq!(native.itemsize(), dtype.itemsize());
    // Swapping a few elements' worth of bytes stays inside the buffer.
    if dtype.itemsize() <= 4096 {
        let mut buf = vec![0xA5u8; dtype.itemsize() * 3];
        dtype.swap_to_native(&mut buf);
    }
});

//! Fuzzes fill value parsing: a dtype chosen by the first byte, then JSON for `fill_value`.
//! Whatever parses holds exactly one element's bytes and writes back JSON that parses to the same
//! bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_array::{DataType, FillValue};

const DTYPES: &[&str] = &[
    "|b1", "|i1", "|u1", "<i2", ">i2", "<u2", "<i4", ">u4", "<i8", ">u8", "<f2", ">f2", "<f4",
    ">f4", "<f8", ">f8", "<c8", ">c16", "<M8[ns]", ">m8[s]", "<M8[D]", "|S0", "|S1", "|S7", "<U1",
    ">U3", "|V4", "|V0",
];

fn structured() -> serde_json::Value {
    serde_json::json!([
        ["a", "<i4"],
        ["b", ">f8", [2]],
        ["c", [["x", "|u1"], ["y", "|S3"]]]
    ])
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, json)) = data.split_first() else {
        return;
    };
    let dtype = match DTYPES.get(which as usize) {
        Some(s) => DataType::parse_typestr(s).unwrap(),
        None => DataType::from_json(&structured()).unwrap(),
    };
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(json) else {
        return;
    };
    let Ok(fill) = FillValue::from_json(&value, &dtype) else {
        return;
    };
    assert_eq!(fill.bytes().len(), dtype.itemsize());
    let again = FillValue::from_json(&fill.to_json(), &dtype)
        .expect("a parsed fill value writes back one that parses");
    assert_eq!(again.is_null(), fill.is_null());
    // NaN payloads may be normalised; every other value round-trips exactly.
    if !dtype.typestr().contains('f') && !dtype.typestr().contains('c') {
        assert_eq!(again.bytes(), fill.bytes(), "{value} -> {}", fill.to_json());
    }
    let chunk = fill.bytes().repeat(3);
    assert!(fill.matches_chunk(&chunk) || fill.is_null());
});

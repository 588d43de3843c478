//! Fuzzes the pcodec decoder: garbage, truncated and hostile pco streams (lying chunk counts,
//! unknown number types) must give typed errors, never more numbers than the chunk holds.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tessera_fuzz::decode_with(&serde_json::json!({"id": "pcodec"}), data);
});

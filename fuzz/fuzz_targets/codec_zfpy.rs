//! Fuzzes the zfpy decoder: the zfp header must agree with the chunk size, and a lying or cut
//! stream must be a typed error, never a read past the input (zfp's own reader does not check).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tessera_fuzz::decode_with(&serde_json::json!({"id": "zfpy"}), data);
});

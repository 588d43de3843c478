//! Fuzzes the bz2 decoder: garbage, truncated and hostile blobs must give typed errors.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tessera_fuzz::decode_with(&serde_json::json!({"id": "bz2"}), data);
});

//! Fuzzes the lzma decoder in its three formats (xz, alone, raw LZMA2), chosen by the first byte.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let config = match which % 4 {
        0 => serde_json::json!({"id": "lzma"}),
        1 => serde_json::json!({"id": "lzma", "format": 2}),
        2 => serde_json::json!({"id": "lzma", "format": 0}),
        _ => {
            serde_json::json!({"id": "lzma", "format": 3, "filters": [{"id": 3, "dist": 4}, {"id": 33, "preset": 1}]})
        }
    };
    tessera_fuzz::decode_with(&config, rest);
});

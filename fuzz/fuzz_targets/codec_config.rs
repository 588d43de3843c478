//! Fuzzes config parsing: any JSON must build a chain or give a typed error; a chain that builds
//! must encode a small chunk and decode what it encoded.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_codec::{CodecChain, Value};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(value) = serde_json::from_str::<Value>(text) else {
        return;
    };
    let chains = [
        CodecChain::from_json(Some(&value), None),
        match &value {
            Value::Array(filters) => CodecChain::from_json(None, Some(filters)),
            other => CodecChain::from_json(None, Some(std::slice::from_ref(other))),
        },
    ];
    let chunk: Vec<u8> = (0..96u8).map(|i| i / 3).collect();
    for chain in chains.into_iter().flatten() {
        for itemsize in [1, 4, 8] {
            // Encoding may fail (a filter whose dtype does not divide the chunk); decoding what
            // was encoded must not.
            if let Ok(blob) = chain.encode(&chunk, itemsize) {
                let out = chain
                    .decode(&blob, chunk.len(), itemsize)
                    .expect("decode(encode(x))");
                assert_eq!(out.len(), chunk.len());
            }
        }
    }
});

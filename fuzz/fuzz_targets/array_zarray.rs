//! Fuzzes `.zarray` parsing: any bytes give metadata or a typed error; metadata that parses writes
//! back a document that parses to the same metadata.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_array::ArrayMetadata;

fuzz_target!(|data: &[u8]| {
    let Ok(meta) = ArrayMetadata::parse(data) else {
        return;
    };
    assert_eq!(meta.shape.len(), meta.chunks.len());
    assert!(meta.chunks.iter().all(|&c| c > 0));
    let _ = meta.grid_shape();
    let _ = meta.chunk_bytes();
    let again = ArrayMetadata::parse(&meta.to_bytes())
        .expect("a parsed .zarray writes back one that parses");
    assert_eq!(again.shape, meta.shape);
    assert_eq!(again.chunks, meta.chunks);
    // Compared in written form: a one-byte type parsed as `>i1` keeps its byte order but writes `|i1`.
    assert_eq!(again.dtype.to_json(), meta.dtype.to_json());
    assert_eq!(again.fill_value.bytes(), meta.fill_value.bytes());
    // Building the codec chain may fail (unknown codec), but must not panic.
    let _ = tessera_codec::CodecChain::from_json(meta.compressor.as_ref(), meta.filters.as_deref());
});

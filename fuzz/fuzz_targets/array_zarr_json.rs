//! Fuzzes v3 `zarr.json` parsing: any bytes give metadata or a typed error; metadata that parses writes
//! back a document that parses to the same metadata, and opening it as an array does not panic.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use tessera_array::{Array, ArrayMetadata, NodePath};

fuzz_target!(|data: &[u8]| {
    let Ok(meta) = ArrayMetadata::parse_v3(data) else {
        return;
    };
    assert_eq!(meta.shape.len(), meta.chunks.len());
    assert!(meta.chunks.iter().all(|&c| c > 0));
    let _ = meta.grid_shape();
    let again = ArrayMetadata::parse_v3(&meta.to_bytes())
        .expect("a parsed zarr.json writes back one that parses");
    assert_eq!(again.shape, meta.shape);
    assert_eq!(again.chunks, meta.chunks);
    assert_eq!(again.dtype, meta.dtype);
    assert_eq!(again.fill_value.bytes(), meta.fill_value.bytes());
    assert_eq!(again.inner_chunk_shape(), meta.inner_chunk_shape());
    let store = Arc::new(tessera_store::MemoryStore::new());
    if let Ok(arr) = Array::from_metadata(store, NodePath::root(), meta) {
        // Nothing is stored: a read of at most 2 positions per axis is all fill value.
        let rank = arr.shape().len();
        if rank > 0 && rank <= 8 {
            let sel = vec!["0:2"; rank].join(",");
            if let Ok(raw) = arr.read_raw(sel.as_str()) {
                let fill = arr.fill_value().bytes();
                assert!(
                    raw.bytes
                        .chunks(fill.len().max(1))
                        .all(|e| fill.is_empty() || e == fill)
                );
            }
        }
    }
});

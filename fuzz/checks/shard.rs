//! The checks of the `array_shard` fuzz target (see its doc comment).

use std::sync::Arc;

use serde_json::json;
use tessera_array::{Array, ArrayError};
use tessera_store::{Bytes, MemoryStore, Store, StoreKey};

/// The `zarr.json` of the checked array for `mode`: 6x6 uint16 in 4x4 shards of 2x2 inner chunks;
/// bit 0 puts the index at the start (else the end), bit 1 gzips the inner chunks, bit 2 adds
/// crc32c to the index.
pub fn metadata(mode: u8) -> serde_json::Value {
    let location = if mode & 1 == 0 { "end" } else { "start" };
    let inner = if mode & 2 == 0 {
        json!([{"name": "bytes", "configuration": {"endian": "little"}}])
    } else {
        json!([{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "gzip", "configuration": {"level": 1}}])
    };
    let mut index = vec![json!({"name": "bytes", "configuration": {"endian": "little"}})];
    if mode & 4 != 0 {
        index.push(json!({"name": "crc32c"}));
    }
    json!({"zarr_format": 3, "node_type": "array", "shape": [6, 6], "data_type": "uint16",
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [4, 4]}},
        "chunk_key_encoding": {"name": "default"}, "fill_value": 9,
        "codecs": [{"name": "sharding_indexed", "configuration": {"chunk_shape": [2, 2],
            "codecs": inner, "index_codecs": index, "index_location": location}}]})
}

/// Reads and partly writes the one shard `data[1..]` of the array [`metadata`]`(data[0])`: each
/// read returns exactly its size or a typed error.
pub fn shard(data: &[u8]) {
    let Some((&mode, shard)) = data.split_first() else {
        return;
    };
    let meta = metadata(mode);
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let put = |k: &str, v: Vec<u8>| {
        store
            .set(&StoreKey::new(k).unwrap(), Bytes::from(v))
            .unwrap()
    };
    put("a/zarr.json", meta.to_string().into_bytes());
    put("a/c/0/0", shard.to_vec());
    let arr = Array::open(store.clone(), "a").expect("the metadata is valid");
    for (sel, elements) in [
        (":, :", 36usize),
        ("1, :", 6),
        ("0:2, 0:2", 4),
        ("3:5, 2:6", 8),
    ] {
        match arr.read_raw(sel) {
            Ok(raw) => assert_eq!(raw.bytes.len(), elements * 2, "{sel}"),
            Err(e) => assert!(
                matches!(
                    e,
                    ArrayError::ShardIndex { .. }
                        | ArrayError::Codec { .. }
                        | ArrayError::ChunkSize { .. }
                ),
                "{sel}: untyped error {e:?}"
            ),
        }
    }
    // A partial write reads the shard whole: the same errors, or success.
    match arr.write_raw("0, 0", &[1, 0]) {
        Ok(()) => {
            let back = arr
                .read_raw("0, 0")
                .expect("a shard tessera wrote reads back");
            assert_eq!(back.bytes, [1, 0]);
        }
        Err(e) => assert!(
            matches!(
                e,
                ArrayError::ShardIndex { .. }
                    | ArrayError::Codec { .. }
                    | ArrayError::ChunkSize { .. }
            ),
            "write: untyped error {e:?}"
        ),
    }
}

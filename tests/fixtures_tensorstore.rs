//! Zarr v3 arrays written by tensorstore's zarr3 driver (`fixtures/zarr/tensorstore/`, generator
//! `fixtures/zarr/generate_tensorstore.py`): plain chunks (zstd, big-endian gzip, blosc, transpose
//! with v2 keys), shards with the index at the end and at the start, missing chunks, missing
//! shards and missing inner chunks, partial edge shards. Each reads exactly as tensorstore (and
//! zarr-python 3, checked by the generator) reads it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;
use tessera::array::Array;
use tessera::store::{FilesystemStore, Store};

use crate::fixtures_v3::check_array;

fn tree() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/zarr/tensorstore")
}

fn manifest() -> Value {
    let text = std::fs::read(tree().join("manifest-tensorstore.json")).unwrap();
    serde_json::from_slice(&text).unwrap()
}

#[test]
fn every_tensorstore_array_and_selection_reads_exactly() {
    let m = manifest();
    assert_eq!(m["writer"]["library"], "tensorstore");
    let store: Arc<dyn Store> = Arc::new(FilesystemStore::open(tree()).unwrap());
    let arrays = m["arrays"].as_array().unwrap();
    assert_eq!(arrays.len(), 7);
    let mut checked = 0;
    for entry in arrays {
        let path = entry["path"].as_str().unwrap();
        let arr = Array::open(store.clone(), path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let on_disk: Value =
            serde_json::from_slice(&std::fs::read(tree().join(path).join("zarr.json")).unwrap())
                .unwrap();
        assert_eq!(
            arr.metadata().to_json(),
            on_disk,
            "{path}: zarr.json round trip"
        );
        checked += check_array(&tree(), &arr, entry);
    }
    assert_eq!(checked, 7 * 4);
}

#[test]
fn tensorstore_fixtures_hold_the_layouts_they_are_named_for() {
    // Guards the fixtures themselves: a regenerated tree that lost its missing shards or its index
    // positions would make the read test above weaker without failing it.
    let m = manifest();
    let entry = |path: &str| {
        m["arrays"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["path"] == path)
            .unwrap_or_else(|| panic!("{path} not in the manifest"))
            .clone()
    };
    let stored = |path: &str| entry(path)["stored_keys"].as_array().unwrap().len();
    // 40x36 in 16x16 shards: 3x3 shards, partial on both edges; two regions written.
    assert_eq!(stored("shard/index_end_missing_f4"), 5);
    assert_eq!(stored("shard/index_start_missing_u8"), 5);
    assert_eq!(stored("plain/blosc_missing_i4"), 3);
    assert_eq!(stored("shard/index_start_i2"), 9);
    let metadata = |path: &str| -> Value {
        serde_json::from_slice(&std::fs::read(tree().join(path).join("zarr.json")).unwrap())
            .unwrap()
    };
    // tensorstore leaves out `index_location` when it is the default, `end`.
    for (path, location) in [
        ("shard/index_end_missing_f4", Value::Null),
        ("shard/index_start_i2", Value::from("start")),
        ("shard/index_start_missing_u8", Value::from("start")),
    ] {
        let codec = &metadata(path)["codecs"][0];
        assert_eq!(codec["name"], "sharding_indexed", "{path}");
        assert_eq!(codec["configuration"]["index_location"], location, "{path}");
    }
    assert!(tree().join("plain/transpose_v2_keys_u1/2.1.3").is_file());
}

//! The Zarr v3 hierarchy zarr-python 3 wrote in `fixtures/zarr/v3-format/` (every data type, codec, fill
//! form, key encoding and sharding layout it writes) reads back exactly as zarr-python read it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;
use tessera::array::{Array, Group, NodeKind, Selection, ZarrFormat};
use tessera::store::{FilesystemStore, Store};

use crate::npy::read_npy;

fn tree() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/zarr/v3-format")
}

fn manifest() -> Value {
    serde_json::from_slice(&std::fs::read(tree().join("manifest-v3.json")).unwrap()).unwrap()
}

fn store() -> Arc<dyn Store> {
    Arc::new(FilesystemStore::open(tree()).unwrap())
}

/// Reads the whole array and every selection of a manifest `entry` of the fixture tree `tree`
/// (expected values in `.npy` files beside it); returns how many reads were compared.
pub(crate) fn check_array(tree: &Path, arr: &Array, entry: &Value) -> usize {
    let path = entry["path"].as_str().unwrap();
    assert_eq!(arr.zarr_format(), ZarrFormat::V3, "{path}");
    assert_eq!(
        Value::from(arr.shape().to_vec()),
        entry["shape"],
        "{path}: shape"
    );
    let native = arr.dtype().to_native();
    let dtype = match &entry["dtype"] {
        Value::String(_) => Value::from(native.typestr()),
        _ => native.to_json(),
    };
    assert_eq!(dtype, entry["dtype"], "{path}: dtype");
    let stem = entry["expected"].as_str().unwrap().trim_end_matches(".npy");
    let expected = read_npy(&tree.join(entry["expected"].as_str().unwrap()));
    let got = arr
        .read_raw(())
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .into_native();
    assert_eq!(got.shape, expected.shape, "{path}: shape read");
    assert!(
        got.bytes == expected.bytes,
        "{path}: values differ from zarr-python's"
    );
    let mut checked = 1;
    for (i, sel) in entry["selections"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let text = sel.as_str().unwrap();
        let expected = read_npy(&tree.join(format!("{stem}__sel{i}.npy")));
        let selection: Selection = text.parse().unwrap();
        let got = arr
            .read_raw(&selection)
            .unwrap_or_else(|e| panic!("{path}[{text}]: {e}"))
            .into_native();
        assert_eq!(got.shape, expected.shape, "{path}[{text}]: shape");
        assert!(got.bytes == expected.bytes, "{path}[{text}]: values differ");
        checked += 1;
    }
    checked
}

#[test]
fn every_v3_fixture_array_and_selection_matches_zarr_python() {
    let m = manifest();
    let store = store();
    let mut checked = 0;
    for entry in m["arrays"].as_array().unwrap() {
        let path = entry["path"].as_str().unwrap();
        let arr = Array::open(store.clone(), path).unwrap_or_else(|e| panic!("{path}: {e}"));
        // The zarr.json written back is the one read.
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
    assert!(checked > 200, "only {checked} reads checked");
}

#[test]
fn v3_groups_attributes_and_consolidated_metadata() {
    let m = manifest();
    let store = store();
    for consolidated in [false, true] {
        let root = if consolidated {
            Group::open_consolidated(store.clone(), "").unwrap()
        } else {
            Group::open(store.clone(), "").unwrap()
        };
        assert_eq!(root.is_consolidated(), consolidated);
        assert_eq!(root.zarr_format(), ZarrFormat::V3);
        for g in m["groups"].as_array().unwrap() {
            let path = g["path"].as_str().unwrap();
            let attrs = if path.is_empty() {
                root.attributes().unwrap()
            } else {
                root.open_group(path).unwrap().attributes().unwrap()
            };
            assert_eq!(Value::Object(attrs), g["attrs"], "{path}: attributes");
        }
        let walked = root.walk().unwrap();
        let arrays: Vec<_> = walked
            .iter()
            .filter(|(_, k)| *k == NodeKind::Array)
            .collect();
        let vlen = m["vlen"].as_array().unwrap();
        assert_eq!(
            arrays.len(),
            m["arrays"].as_array().unwrap().len() + vlen.len()
        );
        for entry in vlen {
            let arr = root.open_array(entry["path"].as_str().unwrap()).unwrap();
            check_vlen_array(&arr, entry);
        }
        // Arrays opened through the group (consolidated: from the root's zarr.json alone) read the same.
        for entry in m["arrays"].as_array().unwrap().iter().step_by(7) {
            let arr = root.open_array(entry["path"].as_str().unwrap()).unwrap();
            check_array(&tree(), &arr, entry);
        }
    }
}

#[test]
fn seeds_snippet_written_by_zarr_python_3_defaults_reads_exactly() {
    // zarr.open('data.zarr', mode='w', shape=..., chunks=..., dtype='float32'), zarr-python 3 defaults:
    // zarr.json, bytes little-endian + zstd level 0, keys c/i/j.
    let arr = Array::open(store(), "default_f4").unwrap();
    assert_eq!(arr.chunks(), &[10, 24]);
    assert!(tree().join("default_f4/c/9/0").is_file());
    let values = arr.read::<f32>(()).unwrap();
    let expected = read_npy(&tree().join("expected/default_f4.npy"));
    let expected: Vec<f32> = expected
        .bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    assert_eq!(values.iter().copied().collect::<Vec<_>>(), expected);
}

/// The values zarr-python read from a `string` or `bytes` array (bytes as base64), flattened.
fn flat_values(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| flat_values(i, out)),
        Value::String(s) => out.push(s.clone()),
        other => panic!("unexpected value {other}"),
    }
}

/// Reads a variable-length array whole and in a part, as the element type its kind names.
fn check_vlen_array(arr: &Array, entry: &Value) {
    use base64::Engine;
    let path = entry["path"].as_str().unwrap();
    let mut expected = Vec::new();
    flat_values(&entry["values"], &mut expected);
    let got: Vec<String> = match entry["kind"].as_str().unwrap() {
        "string" => arr
            .read_objects::<String>(())
            .unwrap_or_else(|e| panic!("{path}: {e}"))
            .into_iter()
            .collect(),
        _ => arr
            .read_objects::<Vec<u8>>(())
            .unwrap_or_else(|e| panic!("{path}: {e}"))
            .into_iter()
            .map(|b| base64::engine::general_purpose::STANDARD.encode(b))
            .collect(),
    };
    assert_eq!(got, expected, "{path}: values differ from zarr-python's");
    // A part: the last row, which crosses chunks (and shards) along the last axis.
    let shape = arr.shape().to_vec();
    let last = shape[0] - 1;
    let row: usize = shape[1..].iter().product::<u64>() as usize;
    let sel: Selection = format!("{last}").parse().unwrap();
    let part: Vec<String> = match entry["kind"].as_str().unwrap() {
        "string" => arr
            .read_objects::<String>(&sel)
            .unwrap()
            .into_iter()
            .collect(),
        _ => arr
            .read_objects::<Vec<u8>>(&sel)
            .unwrap()
            .into_iter()
            .map(|b| base64::engine::general_purpose::STANDARD.encode(b))
            .collect(),
    };
    assert_eq!(part, expected[expected.len() - row..], "{path}[{last}]");
}

#[test]
fn v3_string_and_bytes_fixtures_read_as_zarr_python_reads_them() {
    let m = manifest();
    let store = store();
    let entries = m["vlen"].as_array().unwrap();
    assert!(entries.len() >= 6);
    for entry in entries {
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
        check_vlen_array(&arr, entry);
        // A typed read of the wrong kind is refused, not garbled.
        match entry["kind"].as_str().unwrap() {
            "string" => assert!(arr.read_objects::<Vec<u8>>(()).is_err()),
            _ => assert!(arr.read_objects::<String>(()).is_err()),
        }
        assert!(
            arr.read_raw(()).is_err(),
            "{path}: fixed-size read of strings"
        );
    }
}

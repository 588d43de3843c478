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
        assert_eq!(arrays.len(), m["arrays"].as_array().unwrap().len());
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

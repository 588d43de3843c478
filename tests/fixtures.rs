//! Every array, selection, group and attribute of the hierarchies zarr-python wrote in `fixtures/zarr/`
//! reads back exactly as zarr-python read it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;
use tessera::array::{Array, ArrayAccess, Group, NodeKind, Selection};
use tessera::store::{FilesystemStore, Store};

use crate::npy::read_npy;

fn trees() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/zarr");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("fixtures/zarr exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("manifest.json").exists())
        .collect();
    out.sort();
    assert!(
        out.len() >= 2,
        "expected the zarr 2.18 and 3.x fixture trees in {}",
        root.display()
    );
    out
}

fn manifest(tree: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(tree.join("manifest.json")).unwrap()).unwrap()
}

fn store(tree: &Path) -> Arc<dyn Store> {
    Arc::new(FilesystemStore::open(tree).unwrap())
}

fn check_array(tree: &Path, arr: &Array, entry: &Value) -> usize {
    let path = entry["path"].as_str().unwrap();
    let meta = arr.metadata();
    assert_eq!(
        Value::from(meta.shape.clone()),
        entry["shape"],
        "{path}: shape"
    );
    assert_eq!(
        Value::from(meta.chunks.clone()),
        entry["chunks"],
        "{path}: chunks"
    );
    assert_eq!(meta.dtype.to_json(), entry["dtype"], "{path}: dtype");
    // The .zarray written back keeps every field as read.
    let on_disk: Value =
        serde_json::from_slice(&std::fs::read(tree.join(path).join(".zarray")).unwrap()).unwrap();
    assert_eq!(meta.to_json(), on_disk, "{path}: .zarray round trip");
    assert_eq!(
        Value::Object(arr.attributes().unwrap()),
        entry["attrs"],
        "{path}: attributes"
    );

    let expected = read_npy(&tree.join(entry["expected"].as_str().unwrap()));
    let got = arr.read_raw(()).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(got.shape, expected.shape, "{path}: read shape");
    assert_eq!(got.bytes.len(), expected.bytes.len(), "{path}: byte count");
    assert!(
        got.bytes == expected.bytes,
        "{path}: values differ from zarr-python's"
    );

    let mut checked = 1;
    let stem = entry["expected"]
        .as_str()
        .unwrap()
        .trim_end_matches(".npy")
        .to_string();
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
            .unwrap_or_else(|e| panic!("{path}[{text}]: {e}"));
        assert_eq!(got.shape, expected.shape, "{path}[{text}]: shape");
        assert!(got.bytes == expected.bytes, "{path}[{text}]: values differ");
        checked += 1;
    }
    checked
}

#[test]
fn every_fixture_array_and_selection_matches_zarr_python() {
    for tree in trees() {
        let m = manifest(&tree);
        let store = store(&tree);
        let mut checked = 0;
        for entry in m["arrays"].as_array().unwrap() {
            let path = entry["path"].as_str().unwrap();
            let arr = Array::open(store.clone(), path)
                .unwrap_or_else(|e| panic!("{}: {path}: {e}", tree.display()));
            checked += check_array(&tree, &arr, entry);
        }
        assert!(
            checked > 300,
            "{}: only {checked} reads checked",
            tree.display()
        );
    }
}

#[test]
fn typed_reads_of_fixtures_are_native_and_checked() {
    for tree in trees() {
        let store = store(&tree);
        let be = Array::open(store.clone(), "dtypes/be_f8").unwrap();
        let le = Array::open(store.clone(), "dtypes/le_f8").unwrap();
        let (a, b) = (be.read::<f64>(()).unwrap(), le.read::<f64>(()).unwrap());
        assert_eq!(a.shape(), b.shape());
        let raw = be.read_raw(()).unwrap();
        let first = f64::from_be_bytes(raw.bytes[..8].try_into().unwrap());
        assert_eq!(a.iter().next().copied().unwrap().to_bits(), first.to_bits());
        let err = be.read::<f32>(()).unwrap_err().to_string();
        assert!(err.contains(">f8") && err.contains("float32"), "{err}");
    }
}

#[test]
fn groups_attributes_and_consolidated_metadata() {
    for tree in trees() {
        let m = manifest(&tree);
        let store = store(&tree);
        for consolidated in [false, true] {
            let root = if consolidated {
                Group::open_consolidated(store.clone(), "").unwrap()
            } else {
                Group::open(store.clone(), "").unwrap()
            };
            assert_eq!(
                root.is_consolidated(),
                consolidated && m["consolidated"] == true
            );
            for g in m["groups"].as_array().unwrap() {
                let path = g["path"].as_str().unwrap();
                let attrs = if path.is_empty() {
                    root.attributes()
                } else {
                    root.node_attributes(path)
                };
                assert_eq!(
                    Value::Object(attrs.unwrap()),
                    g["attrs"],
                    "{}: group {path:?}",
                    tree.display()
                );
                if !path.is_empty() {
                    assert_eq!(root.kind_of(path).unwrap(), Some(NodeKind::Group), "{path}");
                    root.open_group(path).unwrap();
                }
            }
            let nodes = root.walk().unwrap();
            for entry in m["arrays"].as_array().unwrap() {
                let path = entry["path"].as_str().unwrap();
                assert!(
                    nodes
                        .iter()
                        .any(|(p, k)| p.as_str() == path && *k == NodeKind::Array),
                    "{path} not listed"
                );
                let arr = root.open_array(path).unwrap();
                assert_eq!(
                    arr.shape(),
                    ArrayAccess::shape(&Array::open(store.clone(), path).unwrap())
                );
            }
        }
    }
}

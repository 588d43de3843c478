//! Object (`|O`) arrays written by zarr-python 2.18 and 3 (`fixtures/zarr/objects/`), among them an
//! xarray dataset with string coordinates: every array reads back equal to what zarr-python reads.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use ndarray::Array1;
use serde_json::Value;
use tessera::array::{Array, ArrayError, Group};
use tessera::store::FilesystemStore;

fn tree(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/zarr/objects")
        .join(name)
}

fn manifest(name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(tree(name).join("manifest.json")).unwrap()).unwrap()
}

fn open(name: &str, path: &str) -> Array {
    let store = Arc::new(FilesystemStore::open(tree(name)).unwrap());
    Array::open(store, path).unwrap_or_else(|e| panic!("{name}/{path}: {e}"))
}

/// Checks every array of one tree; returns how many were checked.
fn check_tree(name: &str) -> usize {
    let m = manifest(name);
    let arrays = m["arrays"].as_array().unwrap();
    for entry in arrays {
        let path = entry["path"].as_str().unwrap();
        let a = open(name, path);
        let expected = entry["values"].as_array().unwrap();
        let what = format!("{name}/{path}");
        // zarr-python 2.18 returns None for a missing chunk of a null-fill array; tessera's
        // String and Vec<u8> read it as empty, as zarr-python 3 does.
        match entry["kind"].as_str().unwrap() {
            "text" => {
                let got = a.read_objects::<String>(()).unwrap();
                let want: Vec<&str> = expected.iter().map(|v| v.as_str().unwrap_or("")).collect();
                assert_eq!(
                    got.iter().map(String::as_str).collect::<Vec<_>>(),
                    want,
                    "{what}"
                );
                assert_eq!(
                    got.shape(),
                    a.shape().iter().map(|&d| d as usize).collect::<Vec<_>>()
                );
            }
            "bytes" => {
                let got = a.read_objects::<Vec<u8>>(()).unwrap();
                let want: Vec<Vec<u8>> = expected
                    .iter()
                    .map(|v| {
                        base64::engine::general_purpose::STANDARD
                            .decode(v.as_str().unwrap_or(""))
                            .unwrap()
                    })
                    .collect();
                assert_eq!(got.iter().cloned().collect::<Vec<_>>(), want, "{what}");
            }
            "rows" => {
                let got = a.read_objects::<Array1<i32>>(()).unwrap();
                let want: Vec<Vec<i32>> = expected
                    .iter()
                    .map(|r| {
                        r.as_array()
                            .unwrap()
                            .iter()
                            .map(|v| v.as_i64().unwrap() as i32)
                            .collect()
                    })
                    .collect();
                let got: Vec<Vec<i32>> = got.iter().map(|r| r.to_vec()).collect();
                assert_eq!(got, want, "{what}");
            }
            "json" => {
                let got = a.read_objects::<Value>(()).unwrap();
                assert_eq!(got.iter().cloned().collect::<Vec<_>>(), *expected, "{what}");
            }
            other => panic!("{what}: unknown kind {other}"),
        }
    }
    arrays.len()
}

#[test]
fn zarr_python_2_object_arrays_read_exactly() {
    assert!(check_tree("v2.18") >= 7);
}

#[test]
fn zarr_python_3_object_arrays_and_xarray_strings_read_exactly() {
    let n = check_tree("v3");
    assert!(n >= 6, "{n}");
    // The xarray dataset opens as a hierarchy through its consolidated metadata.
    let store = Arc::new(FilesystemStore::open(tree("v3")).unwrap());
    let ds = Group::open(store.clone(), "xarray").unwrap();
    let station = ds.open_array("station").unwrap();
    assert_eq!(station.dtype().typestr(), "|O");
    assert_eq!(
        station
            .read_objects::<String>(())
            .unwrap()
            .into_raw_vec_and_offset()
            .0,
        ["Zürich", "Oslo", "Lima"]
    );
    let temperature = ds
        .open_array("temperature")
        .unwrap()
        .read::<f32>("1, :")
        .unwrap();
    assert_eq!(temperature.into_raw_vec_and_offset().0, [2.5, 3.5]);
}

#[test]
fn selections_and_wrong_element_types() {
    let a = open("v2.18", "text_empty_2d");
    let col = a.read_objects::<String>("1:4, 0").unwrap();
    assert_eq!(col.into_raw_vec_and_offset().0, ["日本", "😀", ""]);
    let stepped = a.read_objects::<String>("::2, ::2").unwrap();
    assert_eq!(stepped.shape(), &[3, 2]);
    assert_eq!(stepped[[0, 0]], "Zürich");
    for err in [
        a.read_objects::<Vec<u8>>(()).unwrap_err(),
        a.read::<u8>(()).unwrap_err(),
        a.read_raw(()).unwrap_err(),
        open("v2.18", "json")
            .read_objects::<String>(())
            .unwrap_err(),
    ] {
        assert!(matches!(err, ArrayError::DataTypeMismatch { .. }), "{err}");
    }
}

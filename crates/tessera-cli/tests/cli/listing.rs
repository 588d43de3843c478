//! A hierarchy with nodes tessera cannot open: `info` lists every node with its reason and fails after
//! printing, `copy` refuses before writing anything and names them all, `--exclude` leaves them out.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use tessera_array::DataType;

use super::common::*;

/// A consolidated hierarchy: `g/good` (readable), `g/unsupported` (a codec tessera lacks),
/// `g/broken` (a `.zarray` that is not JSON) and the group `h` (a `.zattrs` that is not JSON).
fn mixed_store(dir: &Path) -> PathBuf {
    let input = dir.join("in.npy");
    write_npy(
        &input,
        &DataType::parse_typestr("<i2").unwrap(),
        &[3, 4],
        false,
        &noise(24, 7),
    );
    let store = dir.join("s.zarr");
    for name in ["g/good", "g/unsupported", "g/broken", "h/inner"] {
        ok(&[
            "import",
            s(&input),
            s(&store),
            "--array",
            name,
            "--chunks",
            "2,2",
        ]);
    }
    // A stale .zmetadata that knows only the root: the nodes are found by listing all the same.
    std::fs::write(
        store.join(".zmetadata"),
        json!({"zarr_consolidated_format": 1, "metadata": {".zgroup": {"zarr_format": 2}}})
            .to_string(),
    )
    .unwrap();
    let zarray = store.join("g/unsupported/.zarray");
    let mut doc: Value = serde_json::from_slice(&std::fs::read(&zarray).unwrap()).unwrap();
    doc["compressor"] = json!({"id": "imagecodecs_jpeg2k", "level": 80});
    std::fs::write(&zarray, doc.to_string()).unwrap();
    std::fs::write(store.join("g/broken/.zarray"), "{\"zarr_format\": 2, ").unwrap();
    std::fs::write(store.join("h/.zattrs"), "not json").unwrap();
    store
}

#[test]
fn info_lists_every_node_and_fails_after_printing() {
    let dir = tempfile::tempdir().unwrap();
    let store = mixed_store(dir.path());
    let out = tessera().args(["info", s(&store)]).output().unwrap();
    let tree = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{tree}\n{stderr}");
    for needle in [
        "good  (array)",
        "unsupported  (array, cannot be read)",
        "unsupported by tessera: g/unsupported/.zarray: codec not supported by tessera",
        "imagecodecs_jpeg2k",
        "broken  (array, cannot be read)",
        "invalid data: g/broken/.zarray",
        "h  (group, cannot be read)",
        "invalid data: h/.zattrs",
        "inner  (array)",
    ] {
        assert!(tree.contains(needle), "missing {needle:?} in:\n{tree}");
    }
    assert!(
        stderr.starts_with("tessera: error: 3 of 7 nodes could not be read")
            && stderr.contains("/g/broken")
            && stderr.contains("/g/unsupported")
            && stderr.contains("/h"),
        "{stderr}"
    );

    let out = tessera()
        .args(["info", s(&store), "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors: Vec<(String, Value)> = doc["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["path"].as_str().unwrap().to_string(),
                n["error"]["kind"].clone(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        vec![
            ("".into(), Value::Null),
            ("g".into(), Value::Null),
            ("g/broken".into(), json!("invalid")),
            ("g/good".into(), Value::Null),
            ("g/unsupported".into(), json!("unsupported")),
            ("h".into(), json!("invalid")),
            ("h/inner".into(), Value::Null),
        ]
    );
}

#[test]
fn copy_checks_every_node_first_and_excludes_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let store = mixed_store(dir.path());
    let dst = dir.path().join("copy.zarr");
    let err = fails(&["copy", s(&store), s(&dst)], 1);
    assert!(
        err.contains("nothing was copied: 3 of 7 nodes cannot be copied")
            && err.contains("/g/broken (invalid data")
            && err.contains("/g/unsupported (unsupported by tessera")
            && err.contains("--exclude"),
        "{err}"
    );
    assert!(!dst.exists(), "a refused copy writes nothing");
    let err = fails(&["copy", s(&store), s(&dst), "--exclude", "g/nothing"], 2);
    assert!(err.contains("--exclude /g/nothing"), "{err}");
    ok(&[
        "copy",
        s(&store),
        s(&dst),
        "--exclude",
        "g/broken",
        "--exclude",
        "/g/unsupported",
        "--exclude",
        "h",
    ]);
    let doc: Value = serde_json::from_str(&ok(&["info", s(&dst), "--json"])).unwrap();
    let paths: Vec<&str> = doc["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, vec!["", "g", "g/good"]);
    let (a, b) = (dir.path().join("a.npy"), dir.path().join("b.npy"));
    ok(&["export", s(&store), "--array", "g/good", "-o", s(&a)]);
    ok(&["export", s(&dst), "--array", "g/good", "-o", s(&b)]);
    assert_eq!(read_npy(&a), read_npy(&b));
}

#[test]
fn a_misspelled_array_lists_the_nearest_names() {
    let dir = tempfile::tempdir().unwrap();
    let store = mixed_store(dir.path());
    for command in [
        vec!["info", s(&store), "--array", "g/godo"],
        vec!["export", s(&store), "--array", "g/godo", "-o", "x.npy"],
        vec!["copy", s(&store), "elsewhere.zarr", "--array", "g/godo"],
    ] {
        let err = fails(&command, 1);
        assert!(
            err.contains("no array or group at /g/godo; nearest: /g/good"),
            "{command:?}: {err}"
        );
    }
}

#[test]
fn metadata_that_is_not_json_fails_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let store = mixed_store(dir.path());
    // A root .zgroup that is not JSON, behind a consolidated .zmetadata that is.
    std::fs::write(store.join(".zgroup"), "{{{").unwrap();
    let out = tessera().args(["info", s(&store)]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(tree.contains("invalid data: .zgroup"), "{tree}");
    let err = fails(
        &[
            "copy",
            s(&store),
            s(&dir.path().join("c")),
            "--exclude",
            "g",
            "--exclude",
            "h",
        ],
        1,
    );
    assert!(err.contains("/ (invalid data: .zgroup"), "{err}");
    // A .zmetadata that is not JSON: reported on the root, the nodes are still listed by listing.
    std::fs::write(store.join(".zgroup"), "{\"zarr_format\": 2}").unwrap();
    std::fs::write(store.join(".zmetadata"), "[").unwrap();
    let out = tessera().args(["info", s(&store)]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(tree.contains("invalid data: .zmetadata"), "{tree}");
    assert!(tree.contains("good  (array)"), "{tree}");
}

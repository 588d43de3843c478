//! Each error case of the issue ends with one clear line on stderr and a non-zero exit, never a panic.

use serde_json::json;
use tessera_array::DataType;

use super::common::*;

fn small_store(dir: &std::path::Path) -> std::path::PathBuf {
    let input = dir.join("in.npy");
    write_npy(
        &input,
        &DataType::parse_typestr("<f4").unwrap(),
        &[4, 5],
        false,
        &noise(80, 1),
    );
    let store = dir.join("s.zarr");
    ok(&[
        "import",
        s(&input),
        s(&store),
        "--array",
        "g/x",
        "--chunks",
        "2,2",
    ]);
    store
}

#[test]
fn malformed_stores_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let store = small_store(dir.path());
    let out = dir.path().join("o.npy");
    // A .zarray that is not JSON.
    std::fs::write(store.join("g/x/.zarray"), "{not json").unwrap();
    let err = fails(&["export", s(&store), "--array", "g/x", "-o", s(&out)], 1);
    assert!(
        err.contains("invalid metadata") && err.contains(".zarray"),
        "{err}"
    );
    fails(&["info", s(&store)], 1);
    // A .zarray with an impossible field.
    std::fs::write(
        store.join("g/x/.zarray"),
        json!({"zarr_format": 2, "shape": [4, 5], "chunks": [0, 2], "dtype": "<f4"}).to_string(),
    )
    .unwrap();
    let err = fails(&["info", s(&store), "--array", "g/x"], 1);
    assert!(err.contains("chunks"), "{err}");
    // A corrupt chunk.
    std::fs::create_dir(dir.path().join("b")).unwrap();
    let store = small_store(&dir.path().join("b"));
    std::fs::write(store.join("g/x/0.0"), b"garbage").unwrap();
    let err = fails(&["export", s(&store), "--array", "g/x", "-o", s(&out)], 1);
    assert!(err.contains("g/x/0.0"), "{err}");
    assert!(!out.exists(), "a failed export leaves no file behind");
    // Not a Zarr store at all; not a store at all.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let err = fails(&["info", s(&empty)], 1);
    assert!(err.contains("is not a Zarr store"), "{err}");
    assert!(err.contains(".zgroup, .zarray or .zmetadata"), "{err}");
    let err = fails(&["info", s(&dir.path().join("missing"))], 1);
    assert!(err.contains("cannot open the store"), "{err}");
    let err = fails(&["info", "ftp://host/x"], 1);
    assert!(err.contains("scheme"), "{err}");
}

#[test]
fn missing_arrays_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let store = small_store(dir.path());
    let out = dir.path().join("o.npy");
    let err = fails(
        &["export", s(&store), "--array", "g/nope", "-o", s(&out)],
        1,
    );
    assert!(err.contains("no array or group at /g/nope"), "{err}");
    assert!(err.contains("nearest: /g"), "{err}");
    let err = fails(&["export", s(&store), "--array", "g", "-o", s(&out)], 2);
    assert!(err.contains("is a group"), "{err}");
    fails(&["info", s(&store), "--array", "nope"], 1);
    fails(
        &[
            "copy",
            s(&store),
            s(&dir.path().join("c")),
            "--array",
            "nope",
        ],
        1,
    );
}

#[test]
fn bad_and_wrong_rank_selections_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let store = small_store(dir.path());
    let out = dir.path().join("o.npy");
    for (spec, needle) in [
        ("1:a", "not an integer"),
        ("1:2:3:4", "too many"),
        ("::0", "step"),
        ("[0,9]", "out of bounds"),
        ("1,,2", "empty axis"),
        ("1,2,3", "3 axes selected but the array has 2 dimensions"),
        ("4", "out of bounds"),
    ] {
        let err = fails(
            &[
                "export",
                s(&store),
                "--array",
                "g/x",
                "--select",
                spec,
                "-o",
                s(&out),
            ],
            2,
        );
        assert!(
            err.contains("--select") && err.contains(needle),
            "{spec}: {err}"
        );
    }
}

#[test]
fn unknown_codecs_and_bad_flags_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let store = small_store(dir.path());
    let input = dir.path().join("in.npy");
    let cases: &[(&[&str], &str)] = &[
        (&["--compressor", r#"{"id":"nope"}"#], "unknown codec"),
        (&["--compressor", "{"], "not valid JSON"),
        (&["--filters", r#"[{"id":"nope"}]"#], "unknown codec"),
        (&["--filters", r#"{"x": 1}"#], "\"id\""),
        (&["--separator", "-"], "--separator"),
        (&["--fill-value", "nan-ish"], "--fill-value"),
        (&["--fill-value", "\"abc\""], "fill_value"),
    ];
    for (flags, needle) in cases {
        let mut args = vec![
            "import",
            s(&input),
            s(&store),
            "--array",
            "y",
            "--chunks",
            "2,2",
        ];
        args.extend_from_slice(flags);
        let err = fails(&args, 2);
        assert!(err.contains(needle), "{flags:?}: {err}");
    }
    let err = fails(
        &[
            "import",
            s(&input),
            s(&store),
            "--array",
            "y",
            "--chunks",
            "2",
        ],
        2,
    );
    assert!(err.contains("--chunks has 1 sizes but"), "{err}");
    let err = fails(
        &[
            "import",
            s(&input),
            s(&store),
            "--array",
            "y",
            "--chunks",
            "2,x",
        ],
        2,
    );
    assert!(err.contains("--chunks"), "{err}");
    let err = fails(
        &[
            "import",
            s(&input),
            s(&store),
            "--array",
            "g/x",
            "--chunks",
            "2,2",
        ],
        1,
    );
    assert!(
        err.contains("/g/x in ") && err.contains("already holds an array; pass --overwrite"),
        "{err}"
    );
    // At the root, the path is named as / (never as "").
    let root_store = dir.path().join("root.zarr");
    ok(&["import", s(&input), s(&root_store), "--chunks", "2,2"]);
    let err = fails(&["import", s(&input), s(&root_store), "--chunks", "2,2"], 1);
    assert!(err.contains(": / in ") && !err.contains("\"\""), "{err}");
    // A memory limit below the minimum is refused, not silently raised.
    let err = fails(
        &[
            "import",
            s(&input),
            s(&root_store),
            "--chunks",
            "2,2",
            "--memory-limit",
            "1K",
        ],
        2,
    );
    assert!(err.contains("below the minimum of 4.0 MiB"), "{err}");
    let err = fails(
        &[
            "copy",
            s(&store),
            s(&dir.path().join("c")),
            "--compressor",
            r#"{"id":"nope"}"#,
        ],
        2,
    );
    assert!(err.contains("unknown codec"), "{err}");
    let err = fails(
        &[
            "copy",
            s(&store),
            s(&dir.path().join("c")),
            "--memory-limit",
            "lots",
        ],
        2,
    );
    assert!(err.contains("--memory-limit"), "{err}");
    // An array whose stored metadata names an unknown codec.
    let zarray = store.join("g/x/.zarray");
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&zarray).unwrap()).unwrap();
    doc["compressor"] = json!({"id": "snappy-ish"});
    std::fs::write(&zarray, doc.to_string()).unwrap();
    let err = fails(
        &[
            "export",
            s(&store),
            "--array",
            "g/x",
            "-o",
            s(&dir.path().join("o.npy")),
        ],
        1,
    );
    assert!(err.contains("snappy-ish"), "{err}");
    // clap's own usage errors exit with 2 too.
    let out = tessera().args(["export"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    // A file that is neither .npy nor described by a sidecar.
    std::fs::write(dir.path().join("plain.bin"), [0u8; 10]).unwrap();
    let err = fails(
        &[
            "import",
            s(&dir.path().join("plain.bin")),
            s(&store),
            "--chunks",
            "2",
        ],
        2,
    );
    assert!(err.contains("sidecar"), "{err}");
}

#[test]
fn keys_escaping_the_store_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = small_store(dir.path());
    let outside = dir.path().join("outside");
    let out = dir.path().join("o.npy");
    for path in ["../outside", "g/../../outside", "/g/./x", "g\\x"] {
        let err = fails(&["export", s(&store), "--array", path, "-o", s(&out)], 2);
        assert!(
            err.contains("--array") && err.contains("invalid node path"),
            "{path}: {err}"
        );
        fails(
            &[
                "import",
                s(&dir.path().join("in.npy")),
                s(&store),
                "--array",
                path,
                "--chunks",
                "2,2",
            ],
            2,
        );
    }
    assert!(!outside.exists());
    // Consolidated metadata pointing outside the store.
    std::fs::write(
        store.join(".zmetadata"),
        json!({"zarr_consolidated_format": 1, "metadata": {".zgroup": {"zarr_format": 2}, "../evil/.zarray": {}}}).to_string(),
    )
    .unwrap();
    let err = fails(&["info", s(&store)], 1);
    assert!(err.contains(".zmetadata") && err.contains("evil"), "{err}");
}

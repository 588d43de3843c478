//! Object (`|O`) arrays in the CLI: `info` names the object codec, `export` writes `<U{n}`/`|S{n}`
//! .npy and JSON, `import --dtype str|bytes` stores vlen-utf8/vlen-bytes.

use serde_json::{Value, json};
use tessera_array::DataType;

use super::common::{fails, fixtures, ok, read_npy, s, write_npy};

fn objects() -> String {
    fixtures()
        .join("objects/v2.18")
        .to_str()
        .unwrap()
        .to_string()
}

/// UCS-4 little-endian text padded to `chars`.
fn ucs4(values: &[&str], chars: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for v in values {
        let n = v.chars().count();
        out.extend(v.chars().flat_map(|c| (c as u32).to_le_bytes()));
        out.resize(out.len() + (chars - n) * 4, 0);
    }
    out
}

#[test]
fn info_names_the_object_codec() {
    let text = ok(&["info", &objects(), "--array", "text_null"]);
    assert!(text.contains("|O (vlen-utf8)"), "{text}");
}

#[test]
fn text_and_bytes_export_as_fixed_width_npy() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t.npy");
    ok(&[
        "export",
        &objects(),
        "--array",
        "text_fill_x",
        "-o",
        s(&out),
    ]);
    let (dtype, shape, _, data) = read_npy(&out);
    assert_eq!(dtype, DataType::parse_typestr("<U1").unwrap());
    assert_eq!(shape, [6]);
    assert_eq!(data, ucs4(&["x", "é", "ü", "x", "x", "x"], 1));
    let out = dir.path().join("b.npy");
    ok(&[
        "export",
        &objects(),
        "--array",
        "bytes",
        "--select",
        "1:3",
        "-o",
        s(&out),
    ]);
    let (dtype, shape, _, data) = read_npy(&out);
    assert_eq!((dtype, shape), (DataType::Bytes(3), vec![2]));
    assert_eq!(data, b"\x00\xff\0abc");
    // JSON values have no .npy form: the message names the way out.
    let err = fails(
        &[
            "export",
            &objects(),
            "--array",
            "json",
            "-o",
            s(&dir.path().join("j.npy")),
        ],
        2,
    );
    assert!(err.contains("-o OUT.json"), "{err}");
}

#[test]
fn any_array_exports_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let read = |name: &str| -> Value {
        serde_json::from_slice(&std::fs::read(dir.path().join(name)).unwrap()).unwrap()
    };
    let out = dir.path().join("j.json");
    ok(&["export", &objects(), "--array", "json_2d", "-o", s(&out)]);
    assert_eq!(
        read("j.json"),
        json!([[null, 1, null], [2.5, "text", null], [[1, [2]], {"a": null, "b": true}, null]])
    );
    let out = dir.path().join("b.json");
    ok(&[
        "export",
        &objects(),
        "--array",
        "bytes",
        "--select",
        ":2",
        "-o",
        s(&out),
    ]);
    assert_eq!(read("b.json"), json!(["", "AP8="]));
    let out = dir.path().join("n.json");
    let nan = fixtures().join("v2.18");
    ok(&[
        "export",
        s(&nan),
        "--array",
        "fill/nan",
        "--select",
        "0, 2:4",
        "-o",
        s(&out),
    ]);
    assert_eq!(read("n.json"), json!(["NaN", "NaN"]));
}

#[test]
fn import_dtype_str_stores_vlen_utf8_as_zarr_python_3() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.npy");
    let values = ["héllo", "", "😀", "abc", "z", "end"];
    let dtype = DataType::parse_typestr("<U5").unwrap();
    write_npy(&input, &dtype, &[2, 3], false, &ucs4(&values, 5));
    let store = dir.path().join("out.zarr");
    ok(&[
        "import",
        s(&input),
        s(&store),
        "--array",
        "names",
        "--chunks",
        "1,2",
        "--dtype",
        "str",
    ]);
    let zarray: Value =
        serde_json::from_slice(&std::fs::read(store.join("names/.zarray")).unwrap()).unwrap();
    assert_eq!(zarray["dtype"], "|O");
    assert_eq!(zarray["filters"], json!([{"id": "vlen-utf8"}]));
    assert_eq!(zarray["fill_value"], "");
    let out = dir.path().join("back.json");
    ok(&["export", s(&store), "--array", "names", "-o", s(&out)]);
    let back: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(back, json!([["héllo", "", "😀"], ["abc", "z", "end"]]));
    let err = fails(
        &[
            "import",
            s(&input),
            s(&store),
            "--array",
            "b",
            "--chunks",
            "1,2",
            "--dtype",
            "bytes",
        ],
        2,
    );
    assert!(err.contains("|S"), "{err}");
}

#[test]
fn copy_rechunks_and_recompresses_object_arrays() {
    let dir = tempfile::tempdir().unwrap();
    let dst = dir.path().join("copy.zarr");
    let src = fixtures().join("objects/v3");
    ok(&[
        "copy",
        s(&src),
        s(&dst),
        "--array",
        "text_empty_2d",
        "--chunks",
        "3,1",
        "--compressor",
        r#"{"id":"zlib","level":1}"#,
    ]);
    let out = dir.path().join("c.json");
    ok(&[
        "export",
        s(&dst),
        "--array",
        "text_empty_2d",
        "--select",
        "4, :",
        "-o",
        s(&out),
    ]);
    let got: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(got, json!(["", "", "", "corner"]));
    let zarray: Value =
        serde_json::from_slice(&std::fs::read(dst.join("text_empty_2d/.zarray")).unwrap()).unwrap();
    assert_eq!(
        (zarray["chunks"].clone(), zarray["filters"].clone()),
        (json!([3, 1]), json!([{"id": "vlen-utf8"}]))
    );
}

#[test]
fn v3_string_arrays_import_info_export_and_copy() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.npy");
    let values = ["héllo", "", "😀", "abc", "z", "end", "x", "yy"];
    let dtype = DataType::parse_typestr("<U5").unwrap();
    write_npy(&input, &dtype, &[4, 2], false, &ucs4(&values, 5));
    let store = dir.path().join("v3.zarr");
    ok(&[
        "import",
        s(&input),
        s(&store),
        "--array",
        "names",
        "--chunks",
        "1,2",
        "--dtype",
        "str",
        "--zarr-format",
        "3",
        "--shards",
        "2,2",
    ]);
    let meta: Value =
        serde_json::from_slice(&std::fs::read(store.join("names/zarr.json")).unwrap()).unwrap();
    assert_eq!(meta["data_type"], "string");
    assert_eq!(meta["codecs"][0]["name"], "sharding_indexed");
    let text = ok(&["info", s(&store), "--array", "names"]);
    assert!(text.contains("|O (vlen-utf8)"), "{text}");
    let out = dir.path().join("back.npy");
    ok(&["export", s(&store), "--array", "names", "-o", s(&out)]);
    let (dtype, shape, _, data) = read_npy(&out);
    assert_eq!(
        (dtype, shape),
        (DataType::parse_typestr("<U5").unwrap(), vec![4, 2])
    );
    assert_eq!(data, ucs4(&values, 5));
    // To v2 and back to v3, unsharded: the same values every time.
    let v2 = dir.path().join("v2.zarr");
    ok(&["copy", s(&store), s(&v2), "--zarr-format", "2"]);
    let zarray: Value =
        serde_json::from_slice(&std::fs::read(v2.join("names/.zarray")).unwrap()).unwrap();
    assert_eq!(zarray["filters"], json!([{"id": "vlen-utf8"}]));
    let again = dir.path().join("again.zarr");
    ok(&["copy", s(&v2), s(&again), "--zarr-format", "3"]);
    for copy in [&v2, &again] {
        let out = dir.path().join("c.json");
        ok(&["export", s(copy), "--array", "names", "-o", s(&out)]);
        let got: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
        assert_eq!(
            got,
            json!([["héllo", ""], ["😀", "abc"], ["z", "end"], ["x", "yy"]])
        );
    }
}

#[test]
fn zarr_python_3_bytes_fixture_exports_and_copies_with_its_fill() {
    let dir = tempfile::tempdir().unwrap();
    let src = fixtures().join("v3-format");
    let text = ok(&["info", s(&src), "--array", "vlen/bytes_fill_sharded"]);
    assert!(text.contains("|O (vlen-bytes)"), "{text}");
    let out = dir.path().join("b.json");
    ok(&[
        "export",
        s(&src),
        "--array",
        "vlen/bytes_fill_sharded",
        "--select",
        "4, :",
        "-o",
        s(&out),
    ]);
    let got: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    // Row 4 was never written: every element is the fill b"\x00\xffz" (base64 "AP96").
    assert_eq!(got, json!(["AP96", "AP96", "AP96", "AP96"]));
    let dst = dir.path().join("copy.zarr");
    ok(&[
        "copy",
        s(&src),
        s(&dst),
        "--array",
        "vlen/bytes_fill_sharded",
        "--shards",
        "4,2",
    ]);
    let meta: Value = serde_json::from_slice(
        &std::fs::read(dst.join("vlen/bytes_fill_sharded/zarr.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(meta["fill_value"], "AP96");
    let out2 = dir.path().join("b2.json");
    for (store, file) in [(&src, &out), (&dst, &out2)] {
        ok(&[
            "export",
            s(store),
            "--array",
            "vlen/bytes_fill_sharded",
            "-o",
            s(file),
        ]);
    }
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&out2).unwrap());
}

#[test]
fn object_npy_export_keeps_to_the_memory_limit() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.npy");
    let n = 200_000u64;
    let chars: Vec<u8> = (0..n)
        .flat_map(|i| u32::from(b'a' + (i % 10) as u8).to_le_bytes())
        .collect();
    let dtype = DataType::parse_typestr("<U1").unwrap();
    write_npy(&input, &dtype, &[n], false, &chars);
    let store = dir.path().join("s.zarr");
    ok(&[
        "import",
        s(&input),
        s(&store),
        "--array",
        "t",
        "--chunks",
        "50000",
        "--dtype",
        "str",
    ]);
    let out = dir.path().join("t.npy");
    // 200,000 decoded values need more than 4 MiB: refused before anything is read, by name.
    let err = fails(
        &[
            "export",
            s(&store),
            "--array",
            "t",
            "--memory-limit",
            "4M",
            "-o",
            s(&out),
        ],
        2,
    );
    assert!(err.contains("--memory-limit"), "{err}");
    assert!(!out.exists());
    // A selection that fits is exported.
    ok(&[
        "export",
        s(&store),
        "--array",
        "t",
        "--select",
        "0:1000",
        "--memory-limit",
        "4M",
        "-o",
        s(&out),
    ]);
    let (dtype, shape, _, data) = read_npy(&out);
    assert_eq!(
        (dtype, shape),
        (DataType::parse_typestr("<U1").unwrap(), vec![1000])
    );
    assert_eq!(data, chars[..4000]);
}

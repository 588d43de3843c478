//! Zarr v3 through the CLI: info/export of zarr-python 3's defaults, import and copy to v3 with shards
//! and dimension names, copy back to v2, v3 codec JSON in --compressor.

use serde_json::Value;

use super::common::*;
use tessera_array::DataType;

fn info_json(args: &[&str]) -> Value {
    serde_json::from_str(&ok(args)).unwrap()
}

#[test]
fn seeds_snippet_from_zarr_python_3_exports_exactly() {
    let tree = fixtures().join("v3-format");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("seeds.npy");
    ok(&["export", s(&tree), "--array", "default_f4", "-o", s(&out)]);
    let (dtype, shape, _, data) = read_npy(&out);
    let (edtype, eshape, _, expected) = read_npy(&tree.join("expected/default_f4.npy"));
    assert_eq!((dtype, shape), (edtype, eshape));
    assert_eq!(data, expected);
    let doc = info_json(&["info", s(&tree), "--array", "shard/end", "--json"]);
    let node = &doc["nodes"][0];
    assert_eq!(node["zarr_format"], 3);
    assert_eq!(node["shards"], serde_json::json!([4, 6]));
    assert_eq!(node["chunks"], serde_json::json!([2, 2]));
    assert_eq!(node["dimension_names"], serde_json::json!(["y", "x"]));
    let text = ok(&["info", s(&tree), "--array", "shard/end"]);
    assert!(
        text.contains("Zarr v3")
            && text.contains("shards      [4, 6]")
            && text.contains("dims        [y, x]"),
        "{text}"
    );
}

#[test]
fn import_and_copy_between_formats_keep_every_value() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.npy");
    let dtype = DataType::parse_typestr("<i4").unwrap();
    let data: Vec<u8> = (0..60 * 40i32)
        .flat_map(|v| (v * 7 - 300).to_le_bytes())
        .collect();
    write_npy(&input, &dtype, &[60, 40], false, &data);
    let v3 = dir.path().join("v3.zarr");
    ok(&[
        "import",
        s(&input),
        s(&v3),
        "--array",
        "g/x",
        "--chunks",
        "10,10",
        "--zarr-format",
        "3",
        "--shards",
        "20,40",
        "--dimension-names",
        "y,-",
        "--compressor",
        r#"{"name":"zstd","configuration":{"level":3,"checksum":true}}"#,
    ]);
    assert!(v3.join("g/x/zarr.json").is_file() && v3.join("g/x/c/2/0").is_file());
    let node = &info_json(&["info", s(&v3), "--array", "g/x", "--json"])["nodes"][0];
    assert_eq!(node["dimension_names"], serde_json::json!(["y", null]));
    assert_eq!(
        node["codecs"][0]["configuration"]["codecs"][1]["name"],
        "zstd"
    );

    // v3 → v2 → v3 with other shards: the values survive every step.
    let v2 = dir.path().join("v2.zarr");
    ok(&["copy", s(&v3), s(&v2), "--zarr-format", "2"]);
    assert!(v2.join("g/x/.zarray").is_file() && !v2.join("g/x/zarr.json").exists());
    let again = dir.path().join("again.zarr");
    ok(&[
        "copy",
        s(&v2),
        s(&again),
        "--shards",
        "30,20",
        "--chunks",
        "15,5",
    ]);
    let node = &info_json(&["info", s(&again), "--array", "g/x", "--json"])["nodes"][0];
    assert_eq!(
        (node["shards"].clone(), node["chunks"].clone()),
        (serde_json::json!([30, 20]), serde_json::json!([15, 5]))
    );
    for store in [&v3, &v2, &again] {
        let out = dir.path().join("out.npy");
        ok(&["export", s(store), "--array", "g/x", "-o", s(&out)]);
        assert_eq!(read_npy(&out).3, data, "{}", store.display());
    }
    // Flags that cannot work are usage errors naming them.
    let err = fails(
        &[
            "import",
            s(&input),
            s(&dir.path().join("bad.zarr")),
            "--chunks",
            "7,7",
            "--shards",
            "20,40",
        ],
        2,
    );
    assert!(
        err.contains("chunk_shape") || err.contains("shard"),
        "{err}"
    );
    let err = fails(
        &[
            "copy",
            s(&v2),
            s(&dir.path().join("bad2.zarr")),
            "--zarr-format",
            "2",
            "--shards",
            "20,40",
        ],
        2,
    );
    assert!(err.contains("--shards"), "{err}");
}

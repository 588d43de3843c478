//! `tessera copy`: hierarchies and arrays between local stores and S3, with rechunking and recompression.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use super::common::*;
use crate::s3_server::{ACCESS_KEY, BUCKET, S3Server, SECRET_KEY};

/// The `tessera` command, configured for the in-process S3 server through the standard variables.
fn tessera_s3(server: &S3Server) -> Command {
    let mut cmd = tessera();
    cmd.env("AWS_ENDPOINT", &server.endpoint)
        .env("AWS_ALLOW_HTTP", "true")
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env("AWS_REGION", "us-east-1");
    cmd
}

fn info_json(cmd: &mut Command) -> Value {
    serde_json::from_slice(&run_ok(cmd)).unwrap()
}

/// Node paths, kinds, attributes and the metadata fields a copy keeps, of an `info --json` document.
fn summary(doc: &Value, keep_chunks: bool) -> Vec<Value> {
    doc["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            let mut m = serde_json::Map::new();
            for field in [
                "path",
                "kind",
                "attributes",
                "shape",
                "dtype",
                "fill_value",
                "order",
                "chunks_stored",
            ] {
                if field == "chunks_stored" && !keep_chunks {
                    continue;
                }
                m.insert(field.into(), n[field].clone());
            }
            Value::Object(m)
        })
        .collect()
}

/// Exports `array` from both stores and compares the files.
fn same_data(cmd: impl Fn() -> Command, a: &str, b: &str, array: &str, dir: &Path) {
    let (x, y) = (dir.join("a.npy"), dir.join("b.npy"));
    run_ok(cmd().args(["export", a, "--array", array, "-o", s(&x)]));
    run_ok(cmd().args(["export", b, "--array", array, "-o", s(&y)]));
    assert_eq!(read_npy(&x), read_npy(&y), "{array}");
}

#[test]
fn hierarchies_copy_between_local_and_s3_stores() {
    let server = S3Server::start();
    let dir = tempfile::tempdir().unwrap();
    let src = fixtures().join("v2.18");
    let url = format!("s3://{BUCKET}/copies/v2");
    let back = dir.path().join("back.zarr");
    // Local → S3 as stored, then S3 → local rechunked and recompressed, for the `a` subtree and the
    // whole hierarchy.
    run_ok(tessera_s3(&server).args(["copy", s(&src), &url]));
    let original = info_json(tessera().args(["info", s(&src), "--json"]));
    let remote = info_json(tessera_s3(&server).args(["info", &url, "--json"]));
    assert_eq!(summary(&remote, true), summary(&original, true));
    assert_eq!(remote["consolidated"], true);
    run_ok(tessera_s3(&server).args([
        "copy",
        &url,
        s(&back),
        "--compressor",
        r#"{"id":"zstd","level":5}"#,
        "--memory-limit",
        "16M",
    ]));
    let copied = info_json(tessera().args(["info", s(&back), "--json"]));
    assert_eq!(summary(&copied, false), summary(&original, false));
    let node = copied["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["path"] == "compressors/lz4")
        .unwrap();
    assert_eq!(node["compressor"]["id"], "zstd");
    for array in [
        "compressors/lz4",
        "dtypes/struct_nested",
        "layout/order_F_be_u4_3d",
        "layout/sep_slash",
        "fill/nan",
        "layout/missing_chunks",
    ] {
        same_data(tessera, s(&src), s(&back), array, dir.path());
        same_data(|| tessera_s3(&server), s(&src), &url, array, dir.path());
    }
    // One array, rechunked on the way out of S3.
    let one = dir.path().join("one.zarr");
    run_ok(tessera_s3(&server).args([
        "copy",
        &url,
        s(&one),
        "--array",
        "layout/edge_chunks",
        "--chunks",
        "11,1",
    ]));
    let zarray: Value =
        serde_json::from_slice(&std::fs::read(one.join("layout/edge_chunks/.zarray")).unwrap())
            .unwrap();
    assert_eq!(zarray["chunks"], serde_json::json!([11, 1]));
    assert!(one.join("layout/.zgroup").is_file());
    same_data(tessera, s(&src), s(&one), "layout/edge_chunks", dir.path());
}

#[test]
fn rechunking_keeps_every_layout() {
    let dir = tempfile::tempdir().unwrap();
    let src = fixtures().join("v2.18");
    for (array, chunks) in [
        ("layout/order_F_le_i2_3d", "5,1,2"),
        ("layout/order_C_struct_2d", "1,6"),
        ("layout/sep_slash_F", "3,7"),
        ("layout/missing_chunks", "10,1"),
        ("fill/be_f4_nan", "1,1"),
        ("layout/scalar_0d", ""),
        ("layout/zero_length", "1,5"),
    ] {
        let dst = dir.path().join(array.replace('/', "_"));
        ok(&[
            "copy",
            s(&src),
            s(&dst),
            "--array",
            array,
            "--chunks",
            chunks,
            "--memory-limit",
            "8M",
        ]);
        same_data(tessera, s(&src), s(&dst), array, dir.path());
    }
    // Rewriting into an existing destination needs --overwrite.
    let dst = dir.path().join("layout_missing_chunks");
    let err = fails(
        &["copy", s(&src), s(&dst), "--array", "layout/missing_chunks"],
        1,
    );
    assert!(err.contains("already"), "{err}");
    ok(&[
        "copy",
        s(&src),
        s(&dst),
        "--array",
        "layout/missing_chunks",
        "--overwrite",
        "--filters",
        r#"[{"id":"crc32"}]"#,
    ]);
    same_data(
        tessera,
        s(&src),
        s(&dst),
        "layout/missing_chunks",
        dir.path(),
    );
}

#[test]
fn copies_into_memory_stores_run() {
    // memory:// lives as long as the process: a copy into it checks reading and decoding everything.
    ok(&[
        "copy",
        s(&fixtures().join("v3")),
        "memory://",
        "--chunks",
        "3,3",
        "--array",
        "dtypes/le_f8",
    ]);
}

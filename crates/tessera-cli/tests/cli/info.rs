//! `tessera info`: the tree, the JSON document, huge sparse arrays, broken pipes, help texts.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::common::*;

#[test]
fn tree_shows_groups_arrays_codecs_and_counts() {
    let store = fixtures().join("v2.18");
    let tree = ok(&["info", s(&store)]);
    assert!(
        tree.lines()
            .next()
            .unwrap()
            .contains("(group, consolidated metadata)"),
        "{tree}"
    );
    for needle in [
        "├── a  (group)",
        "@title = \"tessera fixtures\"",
        "└── data  (array)",
        "shape       [4, 3]",
        "compressor  blosc(blocksize=0, clevel=5, cname=lz4, shuffle=1)",
        "filters     delta(astype=<i8, dtype=<i4)",
        "dtype       [[\"x\",\"<i4\"],[\"y\",\"<f8\"]]",
        "order       F   separator /",
        "fill value  \"NaN\"",
        "stored      9 of 9 chunks",
        "nbytes      48 B\n",
    ] {
        assert!(tree.contains(needle), "missing {needle:?} in:\n{tree}");
    }
    // The expected/ folder next to the arrays is not a Zarr node.
    assert!(!tree.contains("expected"));
}

#[test]
fn json_is_a_stable_document() {
    let store = fixtures().join("v2.18");
    let doc: Value = serde_json::from_str(&ok(&["info", s(&store), "--json"])).unwrap();
    assert_eq!(
        (
            doc["format"].as_str(),
            doc["version"].as_u64(),
            doc["consolidated"].as_bool()
        ),
        (Some("tessera-info"), Some(1), Some(true))
    );
    let nodes = doc["nodes"].as_array().unwrap();
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(store.join("manifest.json")).unwrap()).unwrap();
    let arrays: Vec<&Value> = nodes.iter().filter(|n| n["kind"] == "array").collect();
    assert_eq!(arrays.len(), manifest["arrays"].as_array().unwrap().len());
    for entry in manifest["arrays"].as_array().unwrap() {
        let node = arrays.iter().find(|n| n["path"] == entry["path"]).unwrap();
        for field in [
            "shape",
            "chunks",
            "dtype",
            "compressor",
            "filters",
            "fill_value",
            "order",
        ] {
            assert_eq!(node[field], entry[field], "{} {field}", entry["path"]);
        }
        assert_eq!(node["dimension_separator"], entry["separator"]);
        assert_eq!(node["attributes"], entry["attrs"], "{}", entry["path"]);
    }
    let missing = arrays
        .iter()
        .find(|n| n["path"] == "layout/missing_chunks")
        .unwrap();
    assert!(missing["chunks_stored"].as_u64().unwrap() < missing["chunks_total"].as_u64().unwrap());
    let one =
        serde_json::from_str::<Value>(&ok(&["info", s(&store), "--array", "a/b/c/data", "--json"]))
            .unwrap();
    assert_eq!(one["nodes"].as_array().unwrap().len(), 1);
    assert_eq!(one["nodes"][0]["chunks_stored"], 4);
    assert!(one["nodes"][0]["stored_bytes"].as_u64().unwrap() > 0);
}

#[test]
fn huge_sparse_arrays_are_described_without_visiting_the_grid() {
    let dir = tempfile::tempdir().unwrap();
    let arr = dir.path().join("huge");
    std::fs::create_dir(&arr).unwrap();
    std::fs::write(
        arr.join(".zarray"),
        r#"{"zarr_format":2,"shape":[1099511627776, 1099511627776],"chunks":[1, 1],"dtype":"<f8","compressor":null,"fill_value":0,"order":"C","filters":null}"#,
    )
    .unwrap();
    std::fs::write(arr.join("0.0"), [1u8; 8]).unwrap();
    std::fs::write(arr.join("1099511627775.5"), [2u8; 8]).unwrap();
    std::fs::write(arr.join("1099511627776.0"), [2u8; 8]).unwrap(); // outside the grid: not a chunk
    let start = Instant::now();
    let doc: Value =
        serde_json::from_str(&ok(&["info", s(dir.path()), "--array", "huge", "--json"])).unwrap();
    assert!(start.elapsed() < Duration::from_secs(10));
    let node = &doc["nodes"][0];
    assert_eq!(node["chunks_stored"], 2);
    assert_eq!(node["chunks_total"], "1208925819614629174706176");
    assert_eq!(node["stored_bytes"], 16);
    let tree = ok(&["info", s(dir.path()), "--array", "huge"]);
    assert!(
        tree.contains("stored      2 of 1208925819614629174706176 chunks"),
        "{tree}"
    );
    // A selection of it exports without touching the rest.
    let out = dir.path().join("x.npy");
    ok(&[
        "export",
        s(dir.path()),
        "--array",
        "huge",
        "--select",
        "1099511627775, 3:7",
        "-o",
        s(&out),
    ]);
    let (_, shape, _, data) = read_npy(&out);
    assert_eq!(shape, vec![4]);
    assert_eq!(&data[16..24], &[2u8; 8]);
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let store = fixtures().join("v2.18");
    for args in [vec!["info", s(&store)], vec!["info", s(&store), "--json"]] {
        let mut child = tessera()
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Hang up before reading anything, as `| head -c0` does: the writes fail with EPIPE.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{:?}", out.status);
        assert!(
            out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn every_command_has_help_with_an_example() {
    let top = ok(&["--help"]);
    for cmd in ["info", "export", "import", "copy"] {
        assert!(top.contains(cmd), "{top}");
        let help = ok(&[cmd, "--help"]);
        assert!(
            help.contains("Examples:") && help.contains(&format!("tessera {cmd} ")),
            "{cmd}: {help}"
        );
    }
    assert!(ok(&["--version"]).starts_with("tessera "));
}

/// Serves the files under `root` over plain HTTP (GET and HEAD; anything else, such as a WebDAV
/// listing, is 405) on a loopback port, for at most `max` connections. Returns the base URL.
fn serve_files(root: std::path::PathBuf, max: usize) -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().take(max) {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut first = String::new();
            if reader.read_line(&mut first).is_err() {
                continue;
            }
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
            }
            let mut parts = first.split_whitespace();
            let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
            let file = root.join(path.trim_start_matches('/'));
            let head = |status: &str, len: usize| {
                format!(
                    "HTTP/1.1 {status}\r\nContent-Length: {len}\r\nETag: \"1\"\r\n\
                     Last-Modified: Wed, 02 Dec 2026 00:00:00 GMT\r\nConnection: close\r\n\r\n"
                )
            };
            let reply = match method {
                "GET" | "HEAD" if !path.contains("..") && file.is_file() => {
                    let body = std::fs::read(&file).unwrap();
                    let mut out = head("200 OK", body.len()).into_bytes();
                    if method == "GET" {
                        out.extend(body);
                    }
                    out
                }
                "GET" | "HEAD" => head("404 Not Found", 0).into_bytes(),
                _ => head("405 Method Not Allowed", 0).into_bytes(),
            };
            let _ = stream.write_all(&reply);
        }
    });
    url
}

#[test]
fn info_over_plain_http_shows_unknown_stored_counts() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.npy");
    let dtype = tessera_array::DataType::parse_typestr("<i2").unwrap();
    super::common::write_npy(&input, &dtype, &[4, 4], false, &[1u8; 32]);
    let store = dir.path().join("s.zarr");
    ok(&[
        "import",
        s(&input),
        s(&store),
        "--array",
        "a",
        "--chunks",
        "2,2",
    ]);
    let url = serve_files(dir.path().to_path_buf(), 200);
    let text = ok(&["info", &format!("{url}/s.zarr"), "--array", "a"]);
    assert!(text.contains("unknown of 4 chunks"), "{text}");
    assert!(text.contains("<i2"), "{text}");
    let json: serde_json::Value = serde_json::from_str(&ok(&[
        "info",
        &format!("{url}/s.zarr"),
        "--array",
        "a",
        "--json",
    ]))
    .unwrap();
    let node = &json["nodes"][0];
    assert!(node["chunks_stored"].is_null(), "{json}");
    assert_eq!(node["chunks_total"], 4, "{json}");
}

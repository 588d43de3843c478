//! numcodecs compatibility: decode every blob numcodecs wrote in `fixtures/codecs/`, and encode
//! the same inputs with the same configs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tessera_codec::{ChunkLayout, CodecChain, Value};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/codecs")
}

struct Case {
    name: String,
    chain: CodecChain,
    input: Vec<u8>,
    itemsize: usize,
    /// The input's numpy dtype and shape, as numcodecs saw it.
    layout: ChunkLayout,
    blob: Vec<u8>,
    decoded: Vec<u8>,
    compressor_id: Option<String>,
    has_filters: bool,
}

fn cases() -> Vec<Case> {
    let dir = fixtures();
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).expect("manifest.json"))
            .unwrap();
    let inputs = &manifest["inputs"];
    manifest["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            // zfpy is built only with the `zfp` feature (CI's codec suite enables it).
            let zfpy = c["compressor"]["id"] == "zfpy";
            if zfpy && !cfg!(feature = "zfp") {
                println!("{}: skipped, built without the zfp feature", c["name"]);
            }
            !zfpy || cfg!(feature = "zfp")
        })
        .map(|c| {
            let name = c["name"].as_str().unwrap().to_owned();
            let input_name = c["input"].as_str().unwrap();
            let filters: Option<Vec<Value>> = c["filters"].as_array().cloned();
            let compressor = &c["compressor"];
            let chain = CodecChain::from_json(Some(compressor), filters.as_deref())
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let input =
                std::fs::read(dir.join("inputs").join(format!("{input_name}.bin"))).unwrap();
            let decoded = match c.get("decoded").and_then(Value::as_str) {
                Some(p) => std::fs::read(dir.join(p)).unwrap(),
                None => input.clone(),
            };
            let itemsize = inputs[input_name]["itemsize"].as_u64().unwrap() as usize;
            let dtype = inputs[input_name]["dtype"].as_str().unwrap();
            let shape: Vec<usize> = inputs[input_name]["shape"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_u64().unwrap() as usize)
                .collect();
            Case {
                chain,
                itemsize,
                layout: ChunkLayout::new(dtype, itemsize, shape),
                blob: std::fs::read(dir.join("blobs").join(format!("{name}.bin"))).unwrap(),
                input,
                decoded,
                compressor_id: compressor
                    .get("id")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                has_filters: filters.is_some_and(|f| !f.is_empty()),
                name,
            }
        })
        .collect()
}

#[test]
fn decodes_every_numcodecs_blob() {
    let cases = cases();
    assert!(cases.len() > 300, "manifest has only {} cases", cases.len());
    let mut failures = Vec::new();
    for c in &cases {
        match c.chain.decode(&c.blob, c.input.len(), c.itemsize) {
            Ok(out) if out == c.decoded => {}
            Ok(_) => failures.push(format!("{}: decoded bytes differ", c.name)),
            Err(e) => failures.push(format!("{}: {e}", c.name)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Whether tessera's encoder is expected to write exactly numcodecs' bytes for this case.
fn expect_identical(c: &Case) -> bool {
    match c.compressor_id.as_deref() {
        // Filters are plain arithmetic: identical by construction.
        None => true,
        Some(id) => IDENTICAL_COMPRESSORS.contains(&id),
    }
}

/// Compressors whose library (and version) matches numcodecs 0.16.6 (pcodec: pco 0.4 as in pcodec 0.3.6)'s closely enough that the
/// output is byte-identical on the fixtures. See the test output for the others.
const IDENTICAL_COMPRESSORS: &[&str] = &[
    "blosc", "zlib", "bz2", "lz4", "lzma", "gzip", "zstd", "pcodec", "zfpy",
];

#[test]
fn encodes_like_numcodecs_and_roundtrips() {
    let cases = cases();
    let mut identical: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    for c in &cases {
        let enc = match c.chain.encode_chunk(&c.input, &c.layout) {
            Ok(e) => e,
            Err(e) => {
                failures.push(format!("{}: encode: {e}", c.name));
                continue;
            }
        };
        match c.chain.decode(&enc, c.input.len(), c.itemsize) {
            Ok(out) if out == c.decoded => {}
            Ok(_) => failures.push(format!(
                "{}: decode(encode(x)) differs from numcodecs' decode",
                c.name
            )),
            Err(e) => failures.push(format!("{}: decode(encode(x)): {e}", c.name)),
        }
        // gzip: Python writes the current time into bytes 4..8; tessera writes 0.
        let same = if c.compressor_id.as_deref() == Some("gzip")
            && enc.len() == c.blob.len()
            && enc.len() >= 8
        {
            enc[..4] == c.blob[..4] && enc[8..] == c.blob[8..]
        } else {
            enc == c.blob
        };
        let key = match (&c.compressor_id, c.has_filters) {
            (Some(id), true) => format!("filters+{id}"),
            (Some(id), false) => id.clone(),
            (None, _) => "filters".to_owned(),
        };
        let entry = identical.entry(key).or_default();
        entry.1 += 1;
        if same {
            entry.0 += 1;
        } else if expect_identical(c) {
            failures.push(format!(
                "{}: encoded bytes differ from numcodecs' ({} vs {} bytes)",
                c.name,
                enc.len(),
                c.blob.len()
            ));
        }
    }
    for (k, (same, total)) in &identical {
        println!("{k:>20}: {same}/{total} byte-identical to numcodecs");
    }
    assert!(
        failures.is_empty(),
        "{} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

//! Writes tessera-encoded blobs for every case of the numcodecs fixture manifest, so that a
//! Python check can decode them with numcodecs (`.ci/suites/20-codec-python.sh`).
//!
//! Usage: `cargo run -p tessera-codec --example export_blobs -- fixtures/codecs OUT_DIR`
//! writes `OUT_DIR/blobs/<case>.bin` and `OUT_DIR/manifest.json` (the cases encoded; zfpy cases
//! only with `--features tessera-codec/zfp`, the others are listed under `not_built`).

use std::path::PathBuf;
use std::process::ExitCode;

use tessera_codec::{ChunkLayout, CodecChain, Value};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [fixtures, out] = args.as_slice() else {
        eprintln!("usage: export_blobs FIXTURES_DIR OUT_DIR");
        return ExitCode::from(2);
    };
    match run(PathBuf::from(fixtures), PathBuf::from(out)) {
        Ok(n) => {
            println!("wrote {n} tessera-encoded blobs");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("export_blobs: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(fixtures: PathBuf, out: PathBuf) -> Result<usize, Box<dyn std::error::Error>> {
    let manifest: Value = serde_json::from_slice(&std::fs::read(fixtures.join("manifest.json"))?)?;
    std::fs::create_dir_all(out.join("blobs"))?;
    let mut written = Vec::new();
    let mut skipped = Vec::new();
    for case in manifest["cases"]
        .as_array()
        .ok_or("manifest has no cases")?
    {
        let name = case["name"].as_str().ok_or("case without name")?;
        let input_name = case["input"].as_str().ok_or("case without input")?;
        let itemsize = manifest["inputs"][input_name]["itemsize"]
            .as_u64()
            .ok_or("input without itemsize")? as usize;
        if case["compressor"]["id"] == "zfpy" && !cfg!(feature = "zfp") {
            println!("{name}: not encoded, this build has no zfp (--features tessera-codec/zfp)");
            skipped.push(Value::from(name));
            continue;
        }
        let filters = case["filters"].as_array().cloned();
        let chain = CodecChain::from_json(Some(&case["compressor"]), filters.as_deref())?;
        let input = std::fs::read(fixtures.join("inputs").join(format!("{input_name}.bin")))?;
        let dtype = manifest["inputs"][input_name]["dtype"]
            .as_str()
            .ok_or("input without dtype")?;
        let shape = manifest["inputs"][input_name]["shape"]
            .as_array()
            .ok_or("input without shape")?
            .iter()
            .map(|d| d.as_u64().map(|d| d as usize).ok_or("bad shape"))
            .collect::<Result<Vec<usize>, _>>()?;
        let layout = ChunkLayout::new(dtype, itemsize, shape);
        let blob = chain
            .encode_chunk(&input, &layout)
            .map_err(|e| format!("{name}: {e}"))?;
        std::fs::write(out.join("blobs").join(format!("{name}.bin")), blob)?;
        written.push(case.clone());
    }
    let n = written.len();
    let mut out_manifest = manifest.clone();
    out_manifest["cases"] = Value::Array(written);
    out_manifest["encoder"] = Value::from("tessera-codec");
    out_manifest["not_built"] = Value::Array(skipped);
    std::fs::write(
        out.join("manifest.json"),
        serde_json::to_vec_pretty(&out_manifest)?,
    )?;
    Ok(n)
}

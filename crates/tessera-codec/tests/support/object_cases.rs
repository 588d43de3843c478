// The object-codec cases of fixtures/codecs/objects/manifest.json, shared by the golden test and
// the export_object_blobs example (both `include!` this file).

use base64::Engine as _;
use tessera_codec::object::ObjectValues;

/// One case: its chain, chunk shape and values as numcodecs decodes them.
struct ObjectCase {
    name: String,
    chain: tessera_codec::CodecChain,
    shape: Vec<usize>,
    values: ObjectValues,
}

/// Bytes of one number in a numpy type string such as `<i4`, `>f8`, `|u1`.
fn number_bytes(dtype: &str, v: &serde_json::Value) -> Vec<u8> {
    let big = dtype.starts_with('>');
    let mut b = match &dtype[1..] {
        "i1" => (v.as_i64().unwrap() as i8).to_le_bytes().to_vec(),
        "u1" => (v.as_u64().unwrap() as u8).to_le_bytes().to_vec(),
        "i2" => (v.as_i64().unwrap() as i16).to_le_bytes().to_vec(),
        "u2" => (v.as_u64().unwrap() as u16).to_le_bytes().to_vec(),
        "i4" => (v.as_i64().unwrap() as i32).to_le_bytes().to_vec(),
        "u4" => (v.as_u64().unwrap() as u32).to_le_bytes().to_vec(),
        "i8" => v.as_i64().unwrap().to_le_bytes().to_vec(),
        "u8" => v.as_u64().unwrap().to_le_bytes().to_vec(),
        "f4" => (v.as_f64().unwrap() as f32).to_le_bytes().to_vec(),
        "f8" => v.as_f64().unwrap().to_le_bytes().to_vec(),
        other => panic!("no test conversion for {other}"),
    };
    if big {
        b.reverse();
    }
    b
}

fn object_cases(dir: &std::path::Path) -> Vec<ObjectCase> {
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).expect("manifest.json"))
            .expect("manifest JSON");
    manifest["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| {
            let name = c["name"].as_str().unwrap().to_string();
            let filters = c["filters"].as_array().cloned();
            let chain =
                tessera_codec::CodecChain::from_json(Some(&c["compressor"]), filters.as_deref())
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
            let shape = c["shape"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_u64().unwrap() as usize)
                .collect();
            let items = c["values"].as_array().unwrap();
            let values = match c["kind"].as_str().unwrap() {
                "text" => ObjectValues::Text(
                    items.iter().map(|v| v.as_str().unwrap().to_string()).collect(),
                ),
                "bytes" => ObjectValues::Bytes(
                    items
                        .iter()
                        .map(|v| {
                            base64::engine::general_purpose::STANDARD
                                .decode(v.as_str().unwrap())
                                .unwrap()
                        })
                        .collect(),
                ),
                "rows" => {
                    let dtype = c["filters"][0]["dtype"].as_str().unwrap();
                    ObjectValues::Bytes(
                        items
                            .iter()
                            .map(|row| {
                                row.as_array()
                                    .unwrap()
                                    .iter()
                                    .flat_map(|v| number_bytes(dtype, v))
                                    .collect()
                            })
                            .collect(),
                    )
                }
                "json" => ObjectValues::Json(items.clone()),
                other => panic!("{name}: unknown kind {other}"),
            };
            ObjectCase {
                name,
                chain,
                shape,
                values,
            }
        })
        .collect()
}

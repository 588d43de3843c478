//! Writes object (`|O`) arrays with tessera, plus `manifest.json` in the format of
//! `fixtures/zarr/objects/` (each array's `.zarray`, kind and expected values), for
//! `.ci/readback/check_object_readback.py` to read back with zarr-python 2.18 and 3.
//!
//! The expected values are the data handed to tessera (and the fill value where nothing was
//! written), never read back through tessera.
//!
//! Usage: `cargo run --example write_object_readback -- OUTDIR`

use std::sync::Arc;

use base64::Engine as _;
use ndarray::{Array1, ArrayD, IxDyn};
use serde_json::{Value, json};
use tessera::array::{ArrayBuilder, DataType, ObjectElement};
use tessera::store::FilesystemStore;

struct Written {
    path: &'static str,
    kind: &'static str,
    values: Vec<Value>,
}

fn write<T: ObjectElement>(
    store: &Arc<FilesystemStore>,
    path: &'static str,
    kind: &'static str,
    (shape, chunks): (Vec<u64>, Vec<u64>),
    (filter, compressor, fill): (Value, Value, Value),
    data: Vec<T>,
    expect: impl Fn(&T) -> Value,
) -> Result<Written, Box<dyn std::error::Error>> {
    let a = ArrayBuilder::new(shape.clone(), chunks, DataType::Object)
        .filters(Some(vec![filter]))
        .compressor((!compressor.is_null()).then_some(compressor))
        .fill_value(fill)
        .create(store.clone(), path)?;
    let dims: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
    let values = data.iter().map(expect).collect();
    a.write_objects((), &ArrayD::from_shape_vec(IxDyn(&dims), data)?)?;
    Ok(Written { path, kind, values })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args()
        .nth(1)
        .ok_or("usage: write_object_readback OUTDIR")?;
    std::fs::create_dir_all(&out)?;
    let store = Arc::new(FilesystemStore::open(&out)?);
    let text: Vec<String> = (0..23)
        .map(|i| match i % 5 {
            0 => String::new(),
            1 => format!("Zürich {i}"),
            2 => "😀".repeat(i % 7),
            3 => format!("tab\t{i}\n"),
            _ => "x".repeat(i * 3),
        })
        .collect();
    let zstd = json!({"id": "zstd", "level": 3});
    let blosc = json!({"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0});
    let utf8 = json!({"id": "vlen-utf8"});
    let mut written = vec![
        write(
            &store,
            "text",
            "text",
            (vec![23], vec![5]),
            (utf8.clone(), blosc.clone(), json!("")),
            text.clone(),
            |s| json!(s),
        )?,
        write(
            &store,
            "text_2d_null",
            "text",
            (vec![4, 5], vec![3, 2]),
            (utf8.clone(), zstd.clone(), Value::Null),
            text[..20].to_vec(),
            |s| json!(s),
        )?,
        write(
            &store,
            "text_uncompressed",
            "text",
            (vec![3], vec![2]),
            (utf8, Value::Null, json!("fill")),
            vec!["a".to_string(), "b".into(), "c".into()],
            |s| json!(s),
        )?,
        write(
            &store,
            "bytes",
            "bytes",
            (vec![6], vec![4]),
            (json!({"id": "vlen-bytes"}), zstd.clone(), Value::Null),
            (0..6u8)
                .map(|i| (0..i * 5).map(|k| k.wrapping_mul(37)).collect::<Vec<u8>>())
                .collect(),
            |b| json!(base64::engine::general_purpose::STANDARD.encode(b)),
        )?,
        write(
            &store,
            "ragged_f8",
            "rows",
            (vec![5], vec![2]),
            (
                json!({"id": "vlen-array", "dtype": "<f8"}),
                blosc,
                Value::Null,
            ),
            (0..5)
                .map(|i| Array1::from_iter((0..i).map(|k| k as f64 * 0.5 - 1.0)))
                .collect(),
            |r: &Array1<f64>| json!(r.to_vec()),
        )?,
    ];
    let json_values = vec![
        Value::Null,
        json!(1),
        json!(-2.5),
        json!("é"),
        json!([1, [2, "x"]]),
        json!({"b": 1, "a": [true]}),
    ];
    for (path, id) in [("json", "json2"), ("msgpack", "msgpack2")] {
        written.push(write(
            &store,
            path,
            "json",
            (vec![2, 3], vec![2, 2]),
            (json!({"id": id}), zstd.clone(), Value::Null),
            json_values.clone(),
            |v| v.clone(),
        )?);
    }
    let arrays: Vec<Value> = written
        .iter()
        .map(|w| {
            let zarray: Value = serde_json::from_slice(
                &std::fs::read(format!("{out}/{}/.zarray", w.path)).unwrap(),
            )
            .unwrap();
            json!({"path": w.path, "zarray": zarray, "kind": w.kind, "values": w.values})
        })
        .collect();
    let manifest = json!({"writer": {"library": "tessera"}, "arrays": arrays, "skipped": []});
    std::fs::write(
        format!("{out}/manifest.json"),
        serde_json::to_vec_pretty(&manifest)?,
    )?;
    Ok(())
}

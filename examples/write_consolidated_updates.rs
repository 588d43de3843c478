//! Writes a consolidated Zarr v2 (or v3: `consolidated_metadata` in the root `zarr.json`) hierarchy, then changes it through tessera (a resize that grows, one
//! that shrinks, an append, attributes, an array created after consolidation) and writes what a reader
//! of the consolidated metadata must now see, for `.ci/readback/check_consolidated.py` to compare with
//! zarr-python's `open_consolidated` (which reads `.zmetadata` only, never the nodes' own documents).
//!
//! The expected values are computed here from the data handed to tessera, never read back through it.
//!
//! Usage: `cargo run --example write_consolidated_updates -- OUTDIR [2|3]` (the Zarr format, 2 by
//! default; writes OUTDIR/store.zarr and OUTDIR/expected.json; OUTDIR/store.zarr must not exist yet).

use ndarray::{Array1, Array2};
use serde_json::{Map, Value, json};
use tessera::array::{Array, ArrayBuilder, DataType, Group};
use tessera::store::create_store;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args()
        .nth(1)
        .ok_or("usage: write_consolidated_updates OUTDIR")?;
    let store_path = std::path::Path::new(&out).join("store.zarr");
    let store = create_store(store_path.to_str().ok_or("a UTF-8 path")?)?;
    let format: u8 = match std::env::args().nth(2).as_deref() {
        None | Some("2") => 2,
        Some("3") => 3,
        Some(other) => return Err(format!("format {other}: expected 2 or 3").into()),
    };
    let i4 = DataType::parse_typestr("<i4")?;
    let new = |shape: Vec<u64>, chunks: Vec<u64>| {
        ArrayBuilder::new(shape, chunks, i4.clone()).zarr_format(format)
    };

    let root = if format == 3 {
        Group::create_v3(store.clone(), "")?
    } else {
        Group::create(store.clone(), "")?
    };
    let grown = Array2::from_shape_fn((4, 3), |(i, j)| (i * 3 + j) as i32);
    let mut a = new(vec![4, 3], vec![2, 2])
        .fill_value(json!(-1))
        .create(store.clone(), "g/grown")?;
    a.write((), &grown)?;
    let mut b = new(vec![2, 3], vec![2, 2])
        .fill_value(json!(0))
        .create(store.clone(), "g/appended")?;
    let first = Array2::from_shape_fn((2, 3), |(i, j)| 100 + (i * 3 + j) as i32);
    b.write((), &first)?;
    let mut c = new(vec![7], vec![3])
        .fill_value(json!(5))
        .create(store.clone(), "shrunk")?;
    c.write((), &Array1::from_iter(10..17))?;
    root.consolidate()?;

    // Every change below must reach .zmetadata.
    a.resize(&[6, 5])?;
    let more = Array2::from_shape_fn((3, 3), |(i, j)| 200 + (i * 3 + j) as i32);
    b.append(&more, 0)?;
    c.resize(&[2])?;
    let mut attrs = Map::new();
    attrs.insert("note".into(), json!("set after consolidation"));
    b.set_attributes(&attrs)?;
    Group::open(store.clone(), "g")?.set_attributes(&attrs)?;
    let late = new(vec![2], vec![2])
        .fill_value(json!(0))
        .create(store.clone(), "late/x")?;
    late.write((), &Array1::from_vec(vec![7, 8]))?;
    // The handles' shapes are what tessera itself now reads.
    assert_eq!(Array::open(store, "g/appended")?.shape(), &[5, 3]);

    let grown_after: Vec<Vec<i32>> = (0..6)
        .map(|i| {
            (0..5)
                .map(|j| if i < 4 && j < 3 { grown[[i, j]] } else { -1 })
                .collect()
        })
        .collect();
    let appended_after: Vec<Vec<i32>> = first
        .rows()
        .into_iter()
        .chain(more.rows())
        .map(|r| r.to_vec())
        .collect();
    let expected = json!({
        "arrays": {
            "g/grown": {"dtype": "<i4", "shape": [6, 5], "data": grown_after},
            "g/appended": {"dtype": "<i4", "shape": [5, 3], "data": appended_after},
            "shrunk": {"dtype": "<i4", "shape": [2], "data": [10, 11]},
            "late/x": {"dtype": "<i4", "shape": [2], "data": [7, 8]},
        },
        "attributes": {
            "g": Value::Object(attrs.clone()),
            "g/appended": Value::Object(attrs),
        },
    });
    std::fs::write(
        std::path::Path::new(&out).join("expected.json"),
        serde_json::to_vec_pretty(&expected)?,
    )?;
    Ok(())
}

//! Writes a Zarr v3 hierarchy with tessera (plain and sharded arrays, every data type and codec tessera
//! writes in v3, groups, consolidated metadata), plus `manifest-v3.json` and the expected values as
//! `.npy`, for `.ci/readback/check_readback_v3.py` to read back with zarr-python 3 and tensorstore.
//!
//! The expected values are computed from the data handed to tessera and the fill value, never read back
//! through tessera. Usage: `cargo run --example write_readback_v3 -- OUTDIR` (an OUTDIR holding an
//! earlier tree, with its `manifest-v3.json`, is replaced).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Value, json};
use tessera::array::{ArrayBuilder, ByteOrder, DataType, Group, Order, Selection};
use tessera::mmap::npy::NpyHeader;
use tessera::store::FilesystemStore;

/// One element of `dtype` (stored byte order) derived from `i`.
fn element(dtype: &DataType, i: u64, out: &mut Vec<u8>) {
    let big = dtype.byte_order() == Some(ByteOrder::Big);
    let put = |out: &mut Vec<u8>, le: &[u8]| {
        if big {
            out.extend(le.iter().rev());
        } else {
            out.extend(le);
        }
    };
    match dtype {
        DataType::Bool => out.push(u8::from(i.is_multiple_of(3))),
        DataType::Int { size, .. } => put(out, &((i as i64 % 200) - 100).to_le_bytes()[..*size]),
        DataType::UInt { size, .. } => put(out, &(i % 250).to_le_bytes()[..*size]),
        DataType::Float { size: 2, .. } => put(
            out,
            &half::f16::from_f64(i as f64 * 0.25 - 3.0).to_le_bytes(),
        ),
        DataType::Float { size: 4, .. } => put(out, &((i as f32) * 0.1 - 2.5).to_le_bytes()),
        DataType::Float { .. } => put(out, &((i as f64) / 10.0 - 1.5).to_le_bytes()),
        DataType::Complex { size: 8, .. } => {
            put(out, &(i as f32 * 0.5).to_le_bytes());
            put(out, &(-(i as f32)).to_le_bytes());
        }
        DataType::Complex { .. } => {
            put(out, &(i as f64 * 0.5).to_le_bytes());
            put(out, &(1.0 - i as f64).to_le_bytes());
        }
        DataType::DateTime { .. } | DataType::TimeDelta { .. } => {
            put(out, &(i as i64 * 86_400 + 17).to_le_bytes())
        }
        DataType::Bytes(n) => {
            let mut b = format!("b{i}").into_bytes();
            b.resize(*n, 0);
            out.extend(b);
        }
        DataType::Unicode { chars, .. } => {
            let text: Vec<char> = format!("ü{i}").chars().take(*chars).collect();
            for k in 0..*chars {
                let c = text.get(k).map_or(0, |&c| c as u32);
                put(out, &c.to_le_bytes());
            }
        }
        DataType::Void(n) => out.extend((0..*n).map(|k| (i as usize * 7 + k) as u8)),
        DataType::Object => unreachable!("the v3 readback tree has no object arrays"),
        DataType::Structured(fields) => {
            for f in fields {
                for _ in 0..f.shape.iter().product::<usize>() {
                    element(&f.dtype, i, out);
                }
            }
        }
    }
}

fn write_npy(path: &Path, dtype: &DataType, shape: &[u64], bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut out = NpyHeader::new(dtype.clone(), shape.to_vec(), false).to_bytes();
    out.extend_from_slice(bytes);
    std::fs::write(path, out).unwrap();
}

/// One array to write.
struct Case {
    path: &'static str,
    dtype: &'static str,
    shape: Vec<u64>,
    chunks: Vec<u64>,
    shards: Option<Vec<u64>>,
    compressor: Option<Option<Value>>,
    order: Order,
    fill: Value,
    /// Write only the first half along axis 0 (the rest is missing chunks or shards, or fill inside
    /// written ones).
    partial: bool,
}

fn case(path: &'static str, dtype: &'static str) -> Case {
    Case {
        path,
        dtype,
        shape: vec![9, 7],
        chunks: vec![4, 3],
        shards: None,
        compressor: None,
        order: Order::C,
        // null: zarr-python 3's default, the type's zero value.
        fill: Value::Null,
        partial: false,
    }
}

fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    for (path, dt) in [
        ("dtypes/bool", "|b1"),
        ("dtypes/i1", "|i1"),
        ("dtypes/le_i2", "<i2"),
        ("dtypes/be_i4", ">i4"),
        ("dtypes/le_i8", "<i8"),
        ("dtypes/u1", "|u1"),
        ("dtypes/be_u2", ">u2"),
        ("dtypes/le_u4", "<u4"),
        ("dtypes/be_u8", ">u8"),
        ("dtypes/le_f2", "<f2"),
        ("dtypes/le_f4", "<f4"),
        ("dtypes/be_f8", ">f8"),
        ("dtypes/le_c8", "<c8"),
        ("dtypes/be_c16", ">c16"),
        ("dtypes/M8_ns", "<M8[ns]"),
        ("dtypes/m8_s", "<m8[s]"),
        ("dtypes/S6", "|S6"),
        ("dtypes/U4", "<U4"),
        ("dtypes/V3", "|V3"),
    ] {
        out.push(case(path, dt));
    }
    for (path, c) in [
        ("codecs/none", None),
        (
            "codecs/zstd",
            Some(json!({"id": "zstd", "level": 5, "checksum": true})),
        ),
        ("codecs/gzip", Some(json!({"id": "gzip", "level": 6}))),
        (
            "codecs/blosc_lz4",
            Some(json!({"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0})),
        ),
        (
            "codecs/blosc_zstd_bit",
            Some(
                json!({"id": "blosc", "cname": "zstd", "clevel": 3, "shuffle": 2, "blocksize": 0}),
            ),
        ),
    ] {
        out.push(Case {
            compressor: Some(c),
            ..case(path, "<f8")
        });
    }
    out.push(Case {
        order: Order::F,
        shape: vec![9, 7, 5],
        chunks: vec![4, 3, 2],
        ..case("layout/order_F", "<i4")
    });
    out.push(Case {
        fill: json!("NaN"),
        partial: true,
        ..case("fill/nan_partial", "<f4")
    });
    out.push(Case {
        fill: json!(-3),
        partial: true,
        ..case("fill/int_partial", ">i2")
    });
    out.push(Case {
        shape: vec![],
        chunks: vec![],
        ..case("layout/scalar", "<i8")
    });
    out.push(Case {
        shape: vec![17],
        chunks: vec![5],
        ..case("layout/one_d", "<u2")
    });
    out.push(Case {
        shards: Some(vec![8, 6]),
        chunks: vec![2, 3],
        ..case("shard/basic", "<i4")
    });
    out.push(Case {
        shards: Some(vec![8, 6]),
        chunks: vec![2, 3],
        shape: vec![19, 13],
        fill: json!(-1),
        partial: true,
        ..case("shard/partial_edges", "<f8")
    });
    out.push(Case {
        shards: Some(vec![4, 6, 4]),
        chunks: vec![2, 3, 2],
        shape: vec![9, 7, 5],
        order: Order::F,
        compressor: Some(Some(
            json!({"id": "blosc", "cname": "zstd", "clevel": 1, "shuffle": 1, "blocksize": 0}),
        )),
        ..case("shard/F_blosc", ">u2")
    });
    out.push(Case {
        shards: Some(vec![4, 6]),
        chunks: vec![4, 6],
        ..case("shard/one_inner", "<c16")
    });
    out
}

fn main() {
    let out: PathBuf = std::env::args()
        .nth(1)
        .expect("usage: write_readback_v3 OUTDIR")
        .into();
    std::fs::create_dir_all(&out).unwrap();
    let store = Arc::new(FilesystemStore::open(&out).unwrap());
    let root = Group::create_v3(store.clone(), "").unwrap();
    root.set_attributes(
        json!({"title": "written by tessera", "n": 3})
            .as_object()
            .unwrap(),
    )
    .unwrap();
    let mut arrays = Vec::new();
    for c in cases() {
        let dtype = DataType::parse_typestr(c.dtype).unwrap();
        let mut b = ArrayBuilder::new(c.shape.clone(), c.chunks.clone(), dtype.clone())
            .zarr_format(3)
            .order(c.order)
            .fill_value(c.fill.clone());
        if let Some(comp) = c.compressor.clone() {
            b = b.compressor(comp);
        }
        if let Some(s) = c.shards.clone() {
            b = b.shards(s);
        }
        if !c.shape.is_empty() {
            let names = (0..c.shape.len())
                .map(|a| (a != 1).then(|| format!("d{a}")))
                .collect();
            b = b.dimension_names(names);
        }
        let arr = root.create_array(c.path, b).unwrap();
        let n: u64 = c.shape.iter().product();
        let mut data = Vec::new();
        for i in 0..n {
            element(&dtype, i, &mut data);
        }
        let itemsize = dtype.itemsize();
        let mut expected = data.clone();
        if c.partial {
            let half = c.shape[0] / 2;
            let row: u64 = c.shape[1..].iter().product();
            let cut = (half * row) as usize * itemsize;
            let ranges: Vec<_> = c
                .shape
                .iter()
                .enumerate()
                .map(|(a, &d)| if a == 0 { 0..half } else { 0..d })
                .collect();
            arr.write_raw(Selection::from_ranges(&ranges), &data[..cut])
                .unwrap();
            let fill = arr.fill_value().bytes().to_vec();
            for e in expected[cut..].chunks_mut(itemsize) {
                e.copy_from_slice(&fill);
            }
        } else {
            arr.write_raw((), &data).unwrap();
        }
        let native = dtype.to_native();
        let mut bytes = expected;
        if dtype.needs_swap() {
            dtype.swap_to_native(&mut bytes);
        }
        let exp = format!("expected/{}.npy", c.path);
        write_npy(&out.join(&exp), &native, &c.shape, &bytes);
        arrays.push(
            json!({"path": c.path, "dtype": native.typestr(), "shape": c.shape,
                           "shards": c.shards, "expected": exp}),
        );
    }
    let vlen = write_vlen(&root);
    let g = root.create_group("groups/inner").unwrap();
    g.set_attributes(json!({"level": 2}).as_object().unwrap())
        .unwrap();
    root.consolidate().unwrap();
    let manifest = json!({
        "format": 1,
        "writer": {"library": "tessera"},
        "arrays": arrays,
        "vlen": vlen,
        "groups": [{"path": "", "attrs": {"title": "written by tessera", "n": 3}},
                   {"path": "groups/inner", "attrs": {"level": 2}}],
    });
    std::fs::write(
        out.join("manifest-v3.json"),
        serde_json::to_vec_pretty(&manifest).unwrap(),
    )
    .unwrap();
    println!(
        "wrote {} v3 arrays and {} string/bytes arrays to {}",
        arrays.len(),
        vlen.len(),
        out.display()
    );
}

/// Variable-length `string` and `bytes` arrays, plain and sharded, part written (the rest is
/// the fill); their manifest entries hold the expected values as nested lists (bytes as base64),
/// as fixtures/zarr/generate_v3.py writes them.
fn write_vlen(root: &Group) -> Vec<Value> {
    use base64::Engine;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let mut out = Vec::new();
    for (path, kind, shards, fill) in [
        ("vlen/string", "string", None, json!("")),
        (
            "vlen/string_sharded_fill",
            "string",
            Some(vec![4, 4]),
            json!("fïll"),
        ),
        ("vlen/bytes", "bytes", None, json!("")),
        (
            "vlen/bytes_sharded_fill",
            "bytes",
            Some(vec![2, 4]),
            json!([0, 255]),
        ),
    ] {
        let shape = [5u64, 6];
        let codec = if kind == "string" {
            "vlen-utf8"
        } else {
            "vlen-bytes"
        };
        let mut b = ArrayBuilder::new(shape.to_vec(), vec![2, 2], DataType::Object)
            .zarr_format(3)
            .filters(Some(vec![json!({"id": codec})]))
            .fill_value(fill.clone());
        if let Some(s) = shards.clone() {
            b = b.shards(s);
        }
        let arr = root.create_array(path, b).unwrap();
        // Rows 0..3 written, rows 3..5 left to the fill.
        let written = 3usize;
        let value = |i: usize| format!("{i}-é😀{}", "x".repeat(i % 4));
        let mut rows = Vec::new();
        for r in 0..shape[0] as usize {
            let row: Vec<Value> = (0..shape[1] as usize)
                .map(|c| {
                    let i = r * shape[1] as usize + c;
                    match (r < written, kind) {
                        (true, "string") => json!(value(i)),
                        (true, _) => json!(b64(&[value(i).as_bytes(), &[0, 200]].concat())),
                        (false, "string") => fill.clone(),
                        (false, _) => json!(b64(&match &fill {
                            Value::String(s) => s.as_bytes().to_vec(),
                            other => other
                                .as_array()
                                .unwrap()
                                .iter()
                                .map(|v| v.as_u64().unwrap() as u8)
                                .collect(),
                        })),
                    }
                })
                .collect();
            rows.push(Value::Array(row));
        }
        let n = written * shape[1] as usize;
        let part = Selection::from_ranges(&[0..written as u64, 0..shape[1]]);
        let dims = ndarray::IxDyn(&[written, shape[1] as usize]);
        if kind == "string" {
            let data = ndarray::ArrayD::from_shape_vec(dims, (0..n).map(value).collect()).unwrap();
            arr.write_objects(part, &data).unwrap();
        } else {
            let data = (0..n)
                .map(|i| [value(i).as_bytes(), &[0, 200]].concat())
                .collect();
            let data = ndarray::ArrayD::from_shape_vec(dims, data).unwrap();
            arr.write_objects(part, &data).unwrap();
        }
        out.push(
            json!({"path": path, "kind": kind, "shape": shape, "shards": shards,
                        "values": rows}),
        );
    }
    out
}

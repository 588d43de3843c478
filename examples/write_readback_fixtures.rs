//! Writes a Zarr v2 hierarchy with tessera in many configurations, plus `manifest.json` and the expected
//! values as `.npy`, for `.ci/readback/check_readback.py` to read back with zarr-python 2, zarr-python 3
//! and tensorstore (see `fixtures/zarr/README.md` for the manifest format).
//!
//! The expected values are computed from the data handed to tessera and the fill value, never read back
//! through tessera, so a layout or codec mistake in the writer shows up as a mismatch in Python.
//!
//! Usage: `cargo run --example write_readback_fixtures -- OUTDIR`

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Value, json};
use tessera::array::{ArrayBuilder, ArrayMetadata, DataType, Group, Order, Selection, Separator};
use tessera::mmap::npy::NpyHeader;
use tessera::store::FilesystemStore;

/// One element of `dtype` (stored byte order) derived from `i`.
fn element(dtype: &DataType, i: u64, out: &mut Vec<u8>) {
    let put = |out: &mut Vec<u8>, le: &[u8], big: bool| {
        if big {
            out.extend(le.iter().rev());
        } else {
            out.extend(le);
        }
    };
    let big = dtype.byte_order() == Some(tessera::array::ByteOrder::Big);
    match dtype {
        DataType::Bool => out.push(u8::from(i.is_multiple_of(3))),
        DataType::Int { size, .. } => {
            put(out, &((i as i64 % 200) - 100).to_le_bytes()[..*size], big)
        }
        DataType::UInt { size, .. } => put(out, &(i % 250).to_le_bytes()[..*size], big),
        DataType::Float { size: 2, .. } => put(
            out,
            &half::f16::from_f64(i as f64 * 0.25 - 3.0).to_le_bytes(),
            big,
        ),
        DataType::Float { size: 4, .. } => put(out, &((i as f32) * 0.1 - 2.5).to_le_bytes(), big),
        DataType::Float { .. } => put(out, &((i as f64) / 10.0 - 1.5).to_le_bytes(), big),
        DataType::Complex { size: 8, .. } => {
            put(out, &(i as f32 * 0.5).to_le_bytes(), big);
            put(out, &(-(i as f32)).to_le_bytes(), big);
        }
        DataType::Complex { .. } => {
            put(out, &(i as f64 * 0.5).to_le_bytes(), big);
            put(out, &(1.0 - i as f64).to_le_bytes(), big);
        }
        DataType::DateTime { .. } | DataType::TimeDelta { .. } => {
            put(out, &(i as i64 * 86_400 + 17).to_le_bytes(), big)
        }
        DataType::Bytes(n) => {
            let text = format!("b{i}");
            let mut b = text.into_bytes();
            b.resize(*n, 0);
            out.extend(b);
        }
        DataType::Unicode { chars, .. } => {
            let text: Vec<char> = format!("ü{i}").chars().take(*chars).collect();
            for k in 0..*chars {
                let c = text.get(k).map_or(0, |&c| c as u32);
                put(out, &c.to_le_bytes(), big);
            }
        }
        DataType::Void(n) => out.extend((0..*n).map(|k| (i as usize * 7 + k) as u8)),
        // Object arrays are written by write_object_readback, not as raw elements.
        DataType::Object => unreachable!("no object dtype in this tree"),
        DataType::Structured(fields) => {
            for (k, f) in fields.iter().enumerate() {
                let count: usize = f.shape.iter().product();
                for j in 0..count {
                    element(&f.dtype, i * 3 + k as u64 + j as u64, out);
                }
            }
        }
    }
}

struct Spec {
    path: String,
    dtype: Value,
    shape: Vec<u64>,
    chunks: Vec<u64>,
    order: Order,
    separator: Separator,
    compressor: Option<Value>,
    filters: Option<Vec<Value>>,
    fill: Value,
    /// Regions written (text selections); everything else reads as fill.
    writes: Vec<&'static str>,
    attrs: Value,
    selections: Vec<&'static str>,
}

fn spec(path: &str, dtype: Value) -> Spec {
    Spec {
        path: path.to_string(),
        dtype,
        shape: vec![7, 5],
        chunks: vec![3, 2],
        order: Order::C,
        separator: Separator::Dot,
        compressor: Some(json!({"id": "zlib", "level": 1})),
        filters: None,
        fill: Value::Null,
        writes: vec![""],
        attrs: json!({}),
        selections: vec!["1:6:2, :", "-1, 1:4"],
    }
}

fn write_npy(path: &Path, dtype: &DataType, shape: &[u64], bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut out = NpyHeader::new(dtype.clone(), shape.to_vec(), false).to_bytes();
    out.extend_from_slice(bytes);
    std::fs::write(path, out).unwrap();
}

/// Flat C-order element offsets of a selection (naive reference), and the selection's shape.
fn offsets(shape: &[u64], sel: &Selection) -> (Vec<u64>, Vec<usize>) {
    let r = sel.resolve(shape).unwrap();
    let counts = r.full_shape();
    let total: u64 = counts.iter().product();
    let mut out = Vec::with_capacity(total as usize);
    for n in 0..total {
        let (mut rem, mut flat, mut stride) = (n, 0u64, 1u64);
        for a in (0..shape.len()).rev() {
            let idx = r.axes()[a].start + (rem % counts[a]) * r.axes()[a].step;
            rem /= counts[a];
            flat += idx * stride;
            stride *= shape[a];
        }
        out.push(flat as usize);
    }
    (r.shape(), out)
}

fn gather(full: &[u8], shape: &[u64], itemsize: usize, sel: &Selection) -> (Vec<u64>, Vec<u8>) {
    let (sel_shape, offs) = offsets(shape, sel);
    let bytes = offs
        .iter()
        .flat_map(|&o| full[o * itemsize..(o + 1) * itemsize].iter().copied())
        .collect();
    (sel_shape, bytes)
}

fn specs() -> Vec<Spec> {
    let mut v = Vec::new();
    for t in [
        "|b1", "|i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4", "<u8", "<f2", "<f4", "<f8", "<c8",
        "<c16", ">i2", ">i4", ">u8", ">f4", ">f8", ">c16", "<M8[ns]", "<M8[D]", "<m8[ms]", "|S5",
        "<U7", ">U3", "|V6",
    ] {
        let name = t
            .replace(['<', '|'], "le_")
            .replace('>', "be_")
            .replace(['[', ']'], "_");
        v.push(spec(&format!("dtypes/{name}"), json!(t)));
    }
    v.push(spec(
        "dtypes/struct_xy",
        json!([["x", "<i4"], ["y", "<f8"]]),
    ));
    v.push(spec(
        "dtypes/struct_subarray",
        json!([["id", "<u2"], ["pos", "<f8", [3]]]),
    ));
    v.push(spec(
        "dtypes/struct_nested",
        json!([["a", [["b", "<i2"], ["c", "|u1"]]], ["d", ">f4"]]),
    ));
    v.push(spec(
        "dtypes/struct_bytes",
        json!([["name", "|S4"], ["val", "<f4"]]),
    ));

    let compressors = [
        ("none", Value::Null),
        (
            "blosc_lz4",
            json!({"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0}),
        ),
        (
            "blosc_lz4hc_bit",
            json!({"id": "blosc", "cname": "lz4hc", "clevel": 3, "shuffle": 2, "blocksize": 0}),
        ),
        (
            "blosc_blosclz",
            json!({"id": "blosc", "cname": "blosclz", "clevel": 9, "shuffle": 0, "blocksize": 0}),
        ),
        (
            "blosc_zstd",
            json!({"id": "blosc", "cname": "zstd", "clevel": 3, "shuffle": 1, "blocksize": 0}),
        ),
        (
            "blosc_zlib_auto",
            json!({"id": "blosc", "cname": "zlib", "clevel": 1, "shuffle": -1, "blocksize": 0}),
        ),
        ("zstd", json!({"id": "zstd", "level": 3})),
        (
            "zstd_checksum",
            json!({"id": "zstd", "level": 1, "checksum": true}),
        ),
        ("zlib", json!({"id": "zlib", "level": 6})),
        ("gzip", json!({"id": "gzip", "level": 5})),
        ("bz2", json!({"id": "bz2", "level": 9})),
        (
            "lzma",
            json!({"id": "lzma", "format": 1, "check": -1, "preset": null, "filters": null}),
        ),
        ("lz4", json!({"id": "lz4", "acceleration": 1})),
    ];
    for (name, c) in compressors {
        let mut s = spec(&format!("compressors/{name}"), json!("<f8"));
        s.shape = vec![40, 30];
        s.chunks = vec![16, 16];
        s.compressor = (!c.is_null()).then_some(c);
        v.push(s);
    }

    let filters: [(&str, &str, Vec<Value>); 9] = [
        ("delta", "<i4", vec![json!({"id": "delta", "dtype": "<i4"})]),
        (
            "delta_astype",
            "<i4",
            vec![json!({"id": "delta", "dtype": "<i4", "astype": "<i8"})],
        ),
        (
            "fixedscaleoffset",
            "<f8",
            vec![
                json!({"id": "fixedscaleoffset", "scale": 10, "offset": -1.5, "dtype": "<f8", "astype": "<i4"}),
            ],
        ),
        (
            "shuffle",
            "<f4",
            vec![json!({"id": "shuffle", "elementsize": 4})],
        ),
        ("packbits", "|b1", vec![json!({"id": "packbits"})]),
        (
            "astype",
            "<i8",
            vec![json!({"id": "astype", "encode_dtype": "<i2", "decode_dtype": "<i8"})],
        ),
        ("crc32", "<u2", vec![json!({"id": "crc32"})]),
        ("adler32", "<u2", vec![json!({"id": "adler32"})]),
        ("fletcher32", "<u2", vec![json!({"id": "fletcher32"})]),
    ];
    for (name, t, f) in filters {
        let mut s = spec(&format!("filters/{name}"), json!(t));
        s.filters = Some(f);
        v.push(s);
    }
    let mut cat = spec("filters/categorize_U", json!("<U3"));
    cat.filters = Some(vec![
        json!({"id": "categorize", "labels": ["ü0", "ü1", "ü2", "ü3"], "dtype": "<U3", "astype": "|u1"}),
    ]);
    cat.shape = vec![4];
    cat.chunks = vec![2];
    cat.selections = vec!["1:3"];
    v.push(cat);

    for (t, shape, chunks) in [
        ("<f8", vec![9, 7], vec![4, 3]),
        ("<i2", vec![5, 6, 7], vec![2, 3, 4]),
        ("|u1", vec![4, 5, 6], vec![3, 2, 5]),
        ("<c8", vec![6, 5], vec![4, 4]),
        (">u4", vec![3, 4, 5], vec![2, 2, 2]),
    ] {
        for order in [Order::C, Order::F] {
            let tag = if order == Order::C { "C" } else { "F" };
            let name = t.replace(['<', '|'], "le_").replace('>', "be_");
            let mut s = spec(
                &format!("layout/order_{tag}_{name}_{}d", shape.len()),
                json!(t),
            );
            s.shape = shape.clone();
            s.chunks = chunks.clone();
            s.order = order;
            s.selections = if shape.len() == 3 {
                vec!["1:, ::2, -1", "0, :, 1:4"]
            } else {
                vec!["::2, 1:", "-1, :"]
            };
            v.push(s);
        }
    }
    let mut s = spec("layout/sep_slash_F", json!("<i4"));
    s.separator = Separator::Slash;
    s.order = Order::F;
    v.push(s);
    let mut s = spec("layout/sep_slash", json!("<i4"));
    s.separator = Separator::Slash;
    v.push(s);
    let mut s = spec("layout/edge_chunks", json!("<f4"));
    s.shape = vec![11, 13];
    s.chunks = vec![4, 5];
    v.push(s);
    let mut s = spec("layout/scalar_0d", json!("<f8"));
    s.shape = vec![];
    s.chunks = vec![];
    s.selections = vec![];
    v.push(s);
    let mut s = spec("layout/zero_length", json!("<i4"));
    s.shape = vec![0, 5];
    s.selections = vec![":, 1:3"];
    v.push(s);
    let mut s = spec("layout/chunks_larger", json!("<u2"));
    s.shape = vec![3, 4];
    s.chunks = vec![10, 10];
    v.push(s);

    for (name, t, fill) in [
        ("null", "<i4", Value::Null),
        ("int42", "<i2", json!(42)),
        ("negzero", "<f8", json!(-0.0)),
        ("nan", "<f4", json!("NaN")),
        ("inf", "<f8", json!("Infinity")),
        ("neginf", ">f8", json!("-Infinity")),
        ("u8_max", "<u8", json!(u64::MAX)),
        ("bool_true", "|b1", json!(true)),
        ("c16", "<c16", json!([1.5, -2.0])),
        ("bytes_S5", "|S5", json!("YWJj")),
        ("unicode_U3", "<U3", json!("xyz")),
        ("void_V6", "|V6", json!("AQIDBAUG")),
        ("struct", "", json!("AQAAAAAAAAAAAPA/")),
        ("datetime_nat", "<M8[ns]", json!(i64::MIN)),
    ] {
        let dtype = if t.is_empty() {
            json!([["x", "<i4"], ["y", "<f8"]])
        } else {
            json!(t)
        };
        let mut s = spec(&format!("fill/{name}"), dtype);
        // With a null fill value, what a missing chunk holds is undefined for zarr-python 2.
        if !fill.is_null() {
            s.writes = vec!["0:3, 0:2", "4:6, 3:5"];
        }
        s.fill = fill;
        v.push(s);
    }
    let mut s = spec("groups/a/b/data", json!("<i8"));
    s.attrs =
        json!({"units": "m/s", "scale": [1, 2.5, null], "nested": {"ok": true, "név": "ünïcode"}});
    v.push(s);
    v
}

fn main() {
    let out: PathBuf = std::env::args()
        .nth(1)
        .expect("usage: write_readback_fixtures OUTDIR")
        .into();
    std::fs::create_dir_all(&out).unwrap();
    let store = Arc::new(FilesystemStore::open(&out).unwrap());
    let root = Group::require(store.clone(), "").unwrap();
    let root_attrs = json!({"title": "written by tessera", "count": 3});
    root.set_attributes(root_attrs.as_object().unwrap())
        .unwrap();

    let mut arrays = Vec::new();
    for s in specs() {
        let dtype = DataType::from_json(&s.dtype).unwrap();
        let builder = ArrayBuilder::new(s.shape.clone(), s.chunks.clone(), dtype.clone())
            .compressor(s.compressor.clone())
            .filters(s.filters.clone())
            .fill_value(s.fill.clone())
            .order(s.order)
            .separator(s.separator)
            .attributes(s.attrs.as_object().unwrap().clone());
        let arr = builder
            .create(store.clone(), &s.path)
            .unwrap_or_else(|e| panic!("{}: {e}", s.path));
        let meta: &ArrayMetadata = arr.metadata();
        let itemsize = dtype.itemsize();
        let n: u64 = s.shape.iter().product();
        // The whole array's expected bytes: the fill value, overwritten by each written region.
        let mut expected: Vec<u8> = (0..n)
            .flat_map(|_| meta.fill_value.bytes().to_vec())
            .collect();
        let mut full = Vec::with_capacity(n as usize * itemsize);
        for i in 0..n {
            element(&dtype, i, &mut full);
        }
        for w in &s.writes {
            let sel: Selection = w.parse().unwrap();
            let (_, data) = gather(&full, &s.shape, itemsize, &sel);
            arr.write_raw(&sel, &data)
                .unwrap_or_else(|e| panic!("{}: {e}", s.path));
            // Mirror the write in the expected bytes.
            for (k, o) in offsets(&s.shape, &sel).1.into_iter().enumerate() {
                expected[o * itemsize..(o + 1) * itemsize]
                    .copy_from_slice(&data[k * itemsize..(k + 1) * itemsize]);
            }
        }
        let exp_rel = format!("expected/{}.npy", s.path);
        write_npy(&out.join(&exp_rel), &dtype, &s.shape, &expected);
        for (i, text) in s.selections.iter().enumerate() {
            let (shape, bytes) = gather(&expected, &s.shape, itemsize, &text.parse().unwrap());
            write_npy(
                &out.join(format!("expected/{}__sel{i}.npy", s.path)),
                &dtype,
                &shape,
                &bytes,
            );
        }
        let doc = meta.to_json();
        arrays.push(json!({
            "path": s.path,
            "dtype": doc["dtype"],
            "shape": doc["shape"],
            "chunks": doc["chunks"],
            "order": doc["order"],
            "compressor": doc["compressor"],
            "filters": doc["filters"],
            "fill_value": doc["fill_value"],
            "separator": doc["dimension_separator"],
            "attrs": s.attrs,
            "expected": exp_rel,
            "selections": s.selections,
        }));
    }
    let groups = json!([
        {"path": "", "attrs": root_attrs},
        {"path": "groups", "attrs": {}},
        {"path": "groups/a", "attrs": {}},
        {"path": "groups/a/b", "attrs": {}},
    ]);
    root.consolidate().unwrap();
    let manifest = json!({
        "format": 1,
        "writer": {"name": "tessera", "version": env!("CARGO_PKG_VERSION")},
        "consolidated": true,
        "arrays": arrays,
        "groups": groups,
        "skipped": [],
        "notes": [],
    });
    std::fs::write(
        out.join("manifest.json"),
        serde_json::to_vec_pretty(&manifest).unwrap(),
    )
    .unwrap();
    println!(
        "wrote {} arrays to {}",
        manifest["arrays"].as_array().unwrap().len(),
        out.display()
    );
}

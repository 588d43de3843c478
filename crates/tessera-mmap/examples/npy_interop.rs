//! The Rust half of the `.npy` interoperability check with numpy (`.ci/suites/30-mmap-python.sh`).
//!
//! ```text
//! npy_interop check DIR   read the .npy files numpy wrote (.ci/mmap/npy_interop.py write-cases DIR)
//!                         and compare them with DIR/manifest.json
//! npy_interop write DIR   write .npy files of many dtypes and DIR/manifest.json for numpy to check
//!                         (.ci/mmap/npy_interop.py check-rust DIR)
//! ```
//!
//! The manifest format is described in `.ci/mmap/npy_interop.py`. Exits non-zero when a case fails.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use half::f16;
use ndarray::{ArrayD, IxDyn};
use num_complex::Complex;
use serde_json::{Value, json};
use tessera_array::{ArrayAccess, DataType, DateTime64, Element, Order, TimeDelta64};
use tessera_mmap::{MmapArray, MmapOptions, Mode, RawLayout};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let result = match (args.get(1).map(String::as_str), args.get(2)) {
        (Some("check"), Some(dir)) => check(Path::new(dir)),
        (Some("write"), Some(dir)) => write(Path::new(dir)),
        _ => {
            eprintln!("usage: npy_interop check|write DIR");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

// ---- reading what numpy wrote ----

fn check(dir: &Path) -> Result<bool> {
    let manifest: Value = serde_json::from_slice(&std::fs::read(dir.join("manifest.json"))?)?;
    let cases = manifest["cases"]
        .as_array()
        .ok_or("manifest has no cases")?;
    let mut failed = 0;
    for case in cases {
        let name = case["name"].as_str().unwrap_or("?");
        match check_case(dir, case) {
            Ok(()) => println!("ok   {name}"),
            Err(e) => {
                println!("FAIL {name}: {e}");
                failed += 1;
            }
        }
    }
    println!(
        "tessera-mmap checked {} files written by {}: {failed} failed",
        cases.len(),
        manifest["writer"].as_str().unwrap_or("?")
    );
    Ok(failed == 0 && !cases.is_empty())
}

fn check_case(dir: &Path, case: &Value) -> Result<()> {
    let path = dir.join(case["file"].as_str().ok_or("no file")?);
    // SAFETY: the files belong to this check; nobody truncates or writes them while it runs.
    let a = unsafe { MmapArray::open(&path, Mode::ReadOnly) }?;
    if a.dtype().to_json() != case["dtype"] {
        return Err(format!("dtype {} != {}", a.dtype().to_json(), case["dtype"]).into());
    }
    let shape: Vec<u64> = serde_json::from_value(case["shape"].clone())?;
    if a.shape() != shape.as_slice() {
        return Err(format!("shape {:?} != {shape:?}", a.shape()).into());
    }
    let fortran = case["fortran_order"].as_bool().unwrap_or(false);
    if (a.order() == Order::F) != fortran {
        return Err(format!("order {:?}, numpy wrote fortran_order={fortran}", a.order()).into());
    }
    let expected = std::fs::read(dir.join(case["expected"].as_str().ok_or("no expected")?))?;
    if a.read_raw(())?.bytes != expected {
        return Err("bytes differ from numpy's tobytes()".into());
    }
    if let (Some(sel), Some(file)) = (
        case["selection"].as_str(),
        case["selection_expected"].as_str(),
    ) && a.read_raw(sel)?.bytes != std::fs::read(dir.join(file))?
    {
        return Err(format!("selection [{sel}] differs from numpy's").into());
    }
    if let Some(values) = case.get("values") {
        let got = typed_values(&a)?.ok_or("numpy gave values for a type without typed access")?;
        if !same_values(&got, values) {
            return Err(format!("typed values differ: {got} != {values}").into());
        }
    }
    Ok(())
}

/// The array's values through typed reads (native byte order), as JSON numbers like numpy's `tolist()`.
fn typed_values(a: &MmapArray) -> Result<Option<Value>> {
    fn list<T: Element>(a: &MmapArray, f: impl Fn(T) -> Value) -> Result<Option<Value>> {
        Ok(Some(Value::Array(
            a.read::<T>(())?.iter().map(|&v| f(v)).collect(),
        )))
    }
    match a.dtype() {
        DataType::Bool => list::<bool>(a, |v| json!(v as u8)),
        DataType::Int { size: 1, .. } => list::<i8>(a, |v| json!(v)),
        DataType::Int { size: 2, .. } => list::<i16>(a, |v| json!(v)),
        DataType::Int { size: 4, .. } => list::<i32>(a, |v| json!(v)),
        DataType::Int { size: 8, .. } => list::<i64>(a, |v| json!(v)),
        DataType::UInt { size: 1, .. } => list::<u8>(a, |v| json!(v)),
        DataType::UInt { size: 2, .. } => list::<u16>(a, |v| json!(v)),
        DataType::UInt { size: 4, .. } => list::<u32>(a, |v| json!(v)),
        DataType::UInt { size: 8, .. } => list::<u64>(a, |v| json!(v)),
        DataType::Float { size: 2, .. } => list::<f16>(a, |v| json!(f64::from(v))),
        DataType::Float { size: 4, .. } => list::<f32>(a, |v| json!(f64::from(v))),
        DataType::Float { size: 8, .. } => list::<f64>(a, |v| json!(v)),
        DataType::Complex { size: 8, .. } => {
            list::<Complex<f32>>(a, |v| json!([f64::from(v.re), f64::from(v.im)]))
        }
        DataType::Complex { size: 16, .. } => list::<Complex<f64>>(a, |v| json!([v.re, v.im])),
        DataType::DateTime { .. } => list::<DateTime64>(a, |v| json!(v.0)),
        DataType::TimeDelta { .. } => list::<TimeDelta64>(a, |v| json!(v.0)),
        _ => Ok(None),
    }
}

/// Numbers compare by value (numpy writes `1.0` where we may write `1`).
fn same_values(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_values(p, q))
        }
        (Value::Number(p), Value::Number(q)) => {
            match (p.as_i64(), q.as_i64(), p.as_u64(), q.as_u64()) {
                (Some(x), Some(y), _, _) => x == y,
                (_, _, Some(x), Some(y)) => x == y,
                _ => p.as_f64() == q.as_f64(),
            }
        }
        _ => a == b,
    }
}

// ---- writing for numpy ----

/// Deterministic pseudo-random bytes.
fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// C-order element bytes valid for `dtype`: bools 0/1, text as letters, anything else noise.
fn element_bytes(dtype: &DataType, n: usize, seed: u64) -> Vec<u8> {
    let raw = noise(n * dtype.itemsize(), seed);
    match dtype {
        DataType::Bool => raw.iter().map(|b| b & 1).collect(),
        DataType::Unicode { .. } => {
            let mut out: Vec<u8> = raw
                .chunks(4)
                .flat_map(|c| (0x61 + u32::from(c[0] % 26)).to_ne_bytes())
                .collect();
            dtype.swap_to_native(&mut out);
            out
        }
        DataType::Structured(fields) => {
            // Field by field, so that text and bool fields hold valid values too.
            let mut out = Vec::with_capacity(raw.len());
            let parts: Vec<Vec<u8>> = fields
                .iter()
                .enumerate()
                .map(|(k, f)| {
                    element_bytes(
                        &f.dtype,
                        n * f.shape.iter().product::<usize>(),
                        seed + 1 + k as u64,
                    )
                })
                .collect();
            for i in 0..n {
                for (f, part) in fields.iter().zip(&parts) {
                    let size = f.itemsize();
                    out.extend_from_slice(&part[i * size..(i + 1) * size]);
                }
            }
            out
        }
        _ => raw,
    }
}

struct Writer {
    dir: PathBuf,
    cases: Vec<Value>,
}

impl Writer {
    /// Creates `name.npy` for `layout`, writes C-order `data` into it and records the case.
    fn raw(
        &mut self,
        name: &str,
        layout: RawLayout,
        data: &[u8],
        values: Option<Value>,
    ) -> Result<()> {
        let file = format!("{name}.npy");
        // SAFETY: a fresh file in the output directory, ours alone.
        let a = unsafe {
            MmapOptions::new()
                .overwrite(true)
                .create(self.dir.join(&file), &layout)
        }?;
        a.write_raw((), data)?;
        a.flush()?;
        std::fs::write(self.dir.join(format!("{name}.expected")), data)?;
        let mut case = json!({
            "name": name,
            "file": file,
            "dtype": layout.dtype.to_json(),
            "shape": layout.shape,
            "fortran_order": layout.order == Order::F,
            "expected": format!("{name}.expected"),
        });
        if let Some(v) = values {
            case["values"] = v;
        }
        self.cases.push(case);
        Ok(())
    }

    /// Writes typed values through `ArrayAccess::write` and records them for numpy's `tolist()`.
    fn typed<T: Element>(
        &mut self,
        name: &str,
        typestr: &str,
        order: Order,
        shape: &[usize],
        f: impl Fn(usize) -> T,
        json: impl Fn(T) -> Value,
    ) -> Result<()> {
        let n = shape.iter().product::<usize>();
        let values = ArrayD::from_shape_vec(IxDyn(shape), (0..n).map(f).collect())?;
        let dtype = DataType::parse_typestr(typestr)?;
        let layout = RawLayout::new(dtype.clone(), shape.iter().map(|&d| d as u64).collect())
            .with_order(order);
        // The expected bytes: the values in the stored byte order, C order.
        let mut bytes = T::as_bytes(values.as_slice().ok_or("standard layout")?).to_vec();
        dtype.swap_to_native(&mut bytes);
        let list = Value::Array(values.iter().map(|&v| json(v)).collect());
        self.raw(name, layout, &bytes, Some(list))?;
        // Write through the typed path as well, over the raw bytes: the file must not change.
        // SAFETY: as in `raw`.
        let a = unsafe { MmapArray::open(self.dir.join(format!("{name}.npy")), Mode::ReadWrite) }?;
        a.write((), &values)?;
        if a.read_raw(())?.bytes != bytes {
            return Err(format!("{name}: typed write differs from the raw bytes").into());
        }
        a.flush()?;
        Ok(())
    }
}

const SCALARS: &[&str] = &[
    "|b1", "|i1", "|u1", "<i2", ">i2", "<i4", ">i4", "<i8", ">i8", "<u2", ">u2", "<u4", ">u4",
    "<u8", ">u8", "<f2", ">f2", "<f4", ">f4", "<f8", ">f8", "<c8", ">c8", "<c16", ">c16",
    "<M8[ns]", ">M8[D]", "<m8[s]", ">m8[ms]", "|S5", "<U3", ">U2", "|V4",
];

fn write(dir: &Path) -> Result<bool> {
    std::fs::create_dir_all(dir)?;
    let mut w = Writer {
        dir: dir.to_path_buf(),
        cases: Vec::new(),
    };
    for (k, ts) in SCALARS.iter().enumerate() {
        let dtype = DataType::parse_typestr(ts)?;
        let tag = ts
            .replace('<', "le_")
            .replace('>', "be_")
            .replace(['|', ']'], "")
            .replace('[', "_");
        for order in [Order::C, Order::F] {
            let layout = RawLayout::new(dtype.clone(), vec![3, 4, 2]).with_order(order);
            let data = element_bytes(&dtype, 24, k as u64);
            w.raw(&format!("{tag}_{order:?}"), layout, &data, None)?;
        }
    }
    w.typed(
        "typed_be_i4_F",
        ">i4",
        Order::F,
        &[4, 5],
        |i| i as i32 * -123_457,
        |v| json!(v),
    )?;
    w.typed(
        "typed_le_u8",
        "<u8",
        Order::C,
        &[7],
        |i| (i as u64) << 61 | 5,
        |v| json!(v),
    )?;
    w.typed(
        "typed_le_f2",
        "<f2",
        Order::C,
        &[6],
        |i| f16::from_f32(i as f32 * 1.5 - 2.0),
        |v| json!(f64::from(v)),
    )?;
    w.typed(
        "typed_be_f8_F",
        ">f8",
        Order::F,
        &[3, 2, 2],
        |i| i as f64 / 3.0,
        |v| json!(v),
    )?;
    w.typed(
        "typed_be_c16",
        ">c16",
        Order::C,
        &[2, 2],
        |i| Complex::new(i as f64, -0.5),
        |v| json!([v.re, v.im]),
    )?;
    w.typed(
        "typed_b1",
        "|b1",
        Order::C,
        &[5],
        |i| i % 2 == 0,
        |v| json!(v as u8),
    )?;
    w.typed(
        "typed_le_M8ns",
        "<M8[ns]",
        Order::C,
        &[3],
        |i| DateTime64(i as i64 * 86_400_000_000_000),
        |v| json!(v.0),
    )?;
    w.typed(
        "typed_zero_d_be_i2",
        ">i2",
        Order::C,
        &[],
        |_| -2i16,
        |v| json!(v),
    )?;
    // Empty arrays.
    w.raw(
        "empty_f4",
        RawLayout::new(DataType::parse_typestr("<f4")?, vec![0, 3]),
        &[],
        None,
    )?;
    w.raw(
        "empty_be_i2_F",
        RawLayout::new(DataType::parse_typestr(">i2")?, vec![2, 0, 4]).with_order(Order::F),
        &[],
        None,
    )?;
    // Structured types: nested, sub-arrays, both orders.
    let rec = DataType::from_json(&json!([
        ["id", "<u2"],
        ["pos", ">f8", [3]],
        ["name", "|S3"],
        ["n", [["a", "|i1"], ["b", "<U2", [2]]]],
        ["ok", "|b1"]
    ]))?;
    w.raw(
        "structured",
        RawLayout::new(rec.clone(), vec![6]),
        &element_bytes(&rec, 6, 99),
        None,
    )?;
    w.raw(
        "structured_F",
        RawLayout::new(rec.clone(), vec![4, 3]).with_order(Order::F),
        &element_bytes(&rec, 12, 98),
        None,
    )?;
    // A header over 64 KiB (format 2.0) and one with UTF-8 field names (format 3.0).
    let many: Vec<Value> = (0..5000)
        .map(|i| json!([format!("field_{i:05}"), "|u1"]))
        .collect();
    let wide = DataType::from_json(&Value::Array(many))?;
    w.raw(
        "version_2_wide",
        RawLayout::new(wide.clone(), vec![2]),
        &element_bytes(&wide, 2, 7),
        None,
    )?;
    let utf8 = DataType::from_json(&json!([["température", "<f4"], ["ü", "|u1"]]))?;
    w.raw(
        "version_3_utf8",
        RawLayout::new(utf8.clone(), vec![3]),
        &element_bytes(&utf8, 3, 8),
        None,
    )?;

    let n = w.cases.len();
    let manifest =
        json!({"writer": format!("tessera-mmap {}", env!("CARGO_PKG_VERSION")), "cases": w.cases});
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_vec_pretty(&manifest)?,
    )?;
    println!("tessera-mmap wrote {n} .npy files to {}", dir.display());
    Ok(true)
}

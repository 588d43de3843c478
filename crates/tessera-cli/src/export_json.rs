//! `tessera export -o OUT.json`: a selection of any array as nested JSON lists.
//!
//! Numbers as JSON numbers (NaN and infinities as the strings `"NaN"`, `"Infinity"`,
//! `"-Infinity"`, NaT as `"NaT"`), complex values as `[re, im]`, `U` text and `vlen-utf8` values as
//! strings, `S`/`V` bytes and `vlen-bytes` values as base64, structured elements as objects of their
//! fields, `vlen-array` rows as lists, `json2`/`msgpack2` values as they are. The selection is read
//! at once, so it must fit in the memory limit.

use std::io::Write;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use half::f16;
use serde_json::{Map, Value, json};
use tessera_array::{Array, ByteOrder, DataType, ResolvedSelection, Selection};
use tessera_codec::object::ObjectKind;

use crate::error::{CliError, CliResult, Context};

/// Nests flat C-order values along `shape` (a 0-d selection is its one value).
pub fn nest(mut values: Vec<Value>, shape: &[u64]) -> Value {
    match shape.split_first() {
        None => values.pop().unwrap_or(Value::Null),
        Some((_, [])) => Value::Array(values),
        Some((&n, rest)) => {
            let inner: usize = rest.iter().product::<u64>() as usize;
            let mut out = Vec::with_capacity(n as usize);
            let mut values = values.into_iter();
            for _ in 0..n {
                out.push(nest(values.by_ref().take(inner).collect(), rest));
            }
            Value::Array(out)
        }
    }
}

fn float(x: f64) -> Value {
    if x.is_nan() {
        json!("NaN")
    } else if x.is_infinite() {
        json!(if x > 0.0 { "Infinity" } else { "-Infinity" })
    } else {
        json!(x)
    }
}

/// One element of `dtype` in native byte order as JSON.
fn element(dtype: &DataType, b: &[u8]) -> Value {
    let le = |n: usize| -> [u8; 8] {
        let mut a = [0u8; 8];
        a[..n].copy_from_slice(&b[..n]);
        if ByteOrder::NATIVE == ByteOrder::Big {
            a[..n].reverse();
        }
        a
    };
    match dtype {
        DataType::Bool => json!(b[0] != 0),
        DataType::Int { size, .. } => {
            let shift = 64 - 8 * *size as u32;
            json!(((u64::from_le_bytes(le(*size)) << shift) as i64) >> shift)
        }
        DataType::UInt { size, .. } => json!(u64::from_le_bytes(le(*size))),
        DataType::Float { size: 2, .. } => {
            float(f16::from_bits(u64::from_le_bytes(le(2)) as u16).to_f64())
        }
        DataType::Float { size: 4, .. } => {
            float(f64::from(f32::from_bits(u64::from_le_bytes(le(4)) as u32)))
        }
        DataType::Float { .. } => float(f64::from_bits(u64::from_le_bytes(le(8)))),
        DataType::Complex { size, order } => {
            let half = DataType::Float {
                size: size / 2,
                order: *order,
            };
            json!([
                element(&half, &b[..size / 2]),
                element(&half, &b[size / 2..])
            ])
        }
        DataType::DateTime { .. } | DataType::TimeDelta { .. } => {
            let v = u64::from_le_bytes(le(8)) as i64;
            if v == i64::MIN {
                json!("NaT")
            } else {
                json!(v)
            }
        }
        DataType::Unicode { .. } => {
            let text: String = b
                .chunks_exact(4)
                .map(|c| u32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
                .take_while(|&c| c != 0)
                .map(|c| char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect();
            json!(text)
        }
        DataType::Bytes(_) => {
            // numpy drops an S value's trailing NULs.
            let end = b.iter().rposition(|&x| x != 0).map_or(0, |p| p + 1);
            json!(BASE64.encode(&b[..end]))
        }
        DataType::Void(_) | DataType::Object => json!(BASE64.encode(b)),
        DataType::Structured(fields) => {
            let mut obj = Map::new();
            let mut at = 0;
            for f in fields {
                let n: usize = f.shape.iter().product();
                let size = f.dtype.itemsize();
                let items: Vec<Value> = (0..n)
                    .map(|k| element(&f.dtype, &b[at + k * size..]))
                    .collect();
                let shape: Vec<u64> = f.shape.iter().map(|&d| d as u64).collect();
                obj.insert(f.name.clone(), nest(items, &shape));
                at += f.itemsize();
            }
            Value::Object(obj)
        }
    }
}

/// The selection's values as flat C-order JSON.
fn values(array: &Array, sel: &Selection) -> CliResult<Vec<Value>> {
    let all = || sel;
    let context = || format!("reading {}", array.path());
    let Some(codec) = array.object_codec() else {
        let raw = array.read_raw(all()).with_context(context)?.into_native();
        let size = raw.dtype.itemsize().max(1);
        return Ok(raw
            .bytes
            .chunks_exact(size)
            .map(|b| element(&raw.dtype, b))
            .collect());
    };
    Ok(match codec.kind() {
        ObjectKind::Text => array
            .read_objects::<String>(all())
            .with_context(context)?
            .into_iter()
            .map(Value::from)
            .collect(),
        ObjectKind::Bytes => array
            .read_objects::<Vec<u8>>(all())
            .with_context(context)?
            .iter()
            .map(|b| json!(BASE64.encode(b)))
            .collect(),
        ObjectKind::Json => array
            .read_objects::<Value>(all())
            .with_context(context)?
            .into_iter()
            .collect(),
        ObjectKind::NumericRows(dtype) => {
            let dt = DataType::parse_typestr(dtype)
                .map_err(|e| CliError::new("reading the vlen-array dtype").with_source(e))?;
            rows(array, sel, &dt)?
        }
    })
}

/// `vlen-array` rows as lists of numbers, read through the element type of their dtype.
fn rows(array: &Array, sel: &Selection, dt: &DataType) -> CliResult<Vec<Value>> {
    use ndarray::Array1;
    macro_rules! read_as {
        ($t:ty) => {
            array
                .read_objects::<Array1<$t>>(sel)
                .with_context(|| format!("reading {}", array.path()))?
                .iter()
                .map(|r| Value::Array(r.iter().map(|&x| json!(x)).collect()))
                .collect()
        };
    }
    Ok(match dt {
        DataType::Int { size: 1, .. } => read_as!(i8),
        DataType::Int { size: 2, .. } => read_as!(i16),
        DataType::Int { size: 4, .. } => read_as!(i32),
        DataType::Int { .. } => read_as!(i64),
        DataType::UInt { size: 1, .. } => read_as!(u8),
        DataType::UInt { size: 2, .. } => read_as!(u16),
        DataType::UInt { size: 4, .. } => read_as!(u32),
        DataType::UInt { .. } => read_as!(u64),
        DataType::Float { size: 4, .. } => array
            .read_objects::<Array1<f32>>(sel)
            .with_context(|| format!("reading {}", array.path()))?
            .iter()
            .map(|r| Value::Array(r.iter().map(|&x| float(f64::from(x))).collect()))
            .collect(),
        DataType::Float { size: 8, .. } => array
            .read_objects::<Array1<f64>>(sel)
            .with_context(|| format!("reading {}", array.path()))?
            .iter()
            .map(|r| Value::Array(r.iter().map(|&x| float(x)).collect()))
            .collect(),
        other => {
            return Err(CliError::new(format!(
                "JSON export of vlen-array rows of {other} is not supported"
            )));
        }
    })
}

/// Writes the selection (`resolved` is it resolved against the array) as JSON to `out`.
pub fn write(
    array: &Array,
    selection: &Selection,
    resolved: &ResolvedSelection,
    limit: u64,
    out: &mut dyn Write,
) -> CliResult<()> {
    let sel = resolved;
    // Text and JSON values take more room than their stored form: a rough bound per element.
    let per_element = (array.dtype().itemsize() as u64).max(8) * 4;
    if sel.num_elements().saturating_mul(per_element) > limit {
        return Err(CliError::usage(format!(
            "a JSON export holds the selection in memory: {} elements exceed --memory-limit; \
             export a smaller --select or raise the limit",
            sel.num_elements()
        )));
    }
    let values = values(array, selection)?;
    serde_json::to_writer(&mut *out, &nest(values, &sel.shape()))
        .map_err(|e| CliError::new("writing the JSON").with_source(e))?;
    out.write_all(b"\n").context("writing the JSON")
}

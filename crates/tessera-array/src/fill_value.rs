//! Fill values: what a missing chunk reads as, in every JSON form zarr-python writes.
//!
//! `.zarray` spells the fill value according to the dtype: `null`; a JSON number; `"NaN"`, `"Infinity"`,
//! `"-Infinity"` for floats; `[re, im]` for complex numbers; an integer (or `"NaT"`) for datetimes; the text
//! itself for `U`; base64 of the raw bytes for `S`, `V` and structured types; any JSON value for
//! object (`|O`) arrays, read per element type by [`ObjectElement`](crate::ObjectElement).
//!
//! ```
//! use tessera_array::{DataType, FillValue};
//! use serde_json::json;
//!
//! let dt = DataType::parse_typestr(">f4").unwrap();
//! let fill = FillValue::from_json(&json!("-Infinity"), &dt).unwrap();
//! assert_eq!(fill.bytes(), f32::NEG_INFINITY.to_be_bytes());
//! assert_eq!(fill.to_json(), json!("-Infinity"));
//! ```

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use half::f16;
use serde_json::Value;

use crate::dtype::{ByteOrder, DataType};
use crate::error::{ArrayError, ArrayResult};

/// The fill value of an array: one element in the stored dtype and byte order, plus its JSON spelling.
#[derive(Clone, Debug, PartialEq)]
pub struct FillValue {
    json: Value,
    bytes: Vec<u8>,
    is_null: bool,
}

impl FillValue {
    /// Parses `.zarray`'s `fill_value` for `dtype`.
    ///
    /// `null` reads as all-zero bytes (zarr-python 3's behaviour; zarr-python 2 leaves such elements
    /// uninitialised).
    ///
    /// # Errors
    /// [`ArrayError::Metadata`] naming `fill_value` when the value does not fit the dtype.
    pub fn from_json(value: &Value, dtype: &DataType) -> ArrayResult<FillValue> {
        if value.is_null() {
            return Ok(FillValue::null(dtype));
        }
        let bytes = encode(value, dtype)?;
        debug_assert_eq!(bytes.len(), dtype.itemsize());
        Ok(FillValue {
            json: value.clone(),
            bytes,
            is_null: false,
        })
    }

    /// The `null` fill value: missing chunks read as zeros.
    pub fn null(dtype: &DataType) -> FillValue {
        FillValue {
            json: Value::Null,
            bytes: vec![0; dtype.itemsize()],
            is_null: true,
        }
    }

    /// A fill value from one element's raw bytes in `dtype`'s stored byte order.
    ///
    /// # Errors
    /// [`ArrayError::Metadata`] when `bytes` is not exactly one element long.
    pub fn from_bytes(bytes: &[u8], dtype: &DataType) -> ArrayResult<FillValue> {
        if bytes.len() != dtype.itemsize() {
            return Err(ArrayError::metadata(
                "fill_value",
                format!(
                    "{} bytes given for a {}-byte {dtype}",
                    bytes.len(),
                    dtype.itemsize()
                ),
            ));
        }
        Ok(FillValue {
            json: decode(bytes, dtype),
            bytes: bytes.to_vec(),
            is_null: false,
        })
    }

    /// The JSON spelling for `.zarray` (as read, when the value came from JSON).
    pub fn to_json(&self) -> Value {
        self.json.clone()
    }

    /// One element, in the stored dtype and byte order.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// True for a `null` fill value.
    pub fn is_null(&self) -> bool {
        self.is_null
    }

    /// True when every byte of the element is zero (filling is then a memset).
    pub fn is_zero(&self) -> bool {
        self.bytes.iter().all(|&b| b == 0)
    }

    /// True when every element of `chunk` equals the fill value byte for byte (NaN fill values compare by
    /// bit pattern, so a chunk of the same NaN is "empty" as zarr-python treats it).
    pub fn matches_chunk(&self, chunk: &[u8]) -> bool {
        let n = self.bytes.len();
        if n == 0 {
            return true;
        }
        if self.is_zero() {
            return chunk.iter().all(|&b| b == 0);
        }
        chunk.chunks_exact(n).all(|e| e == self.bytes.as_slice())
    }
}

fn bad(msg: impl Into<String>) -> ArrayError {
    ArrayError::metadata("fill_value", msg)
}

fn float_of(value: &Value) -> ArrayResult<f64> {
    match value {
        Value::Number(n) => n.as_f64().ok_or_else(|| bad(format!("{n} is not a float"))),
        Value::String(s) => match s.as_str() {
            "NaN" | "nan" => Ok(f64::NAN),
            "Infinity" | "inf" => Ok(f64::INFINITY),
            "-Infinity" | "-inf" => Ok(f64::NEG_INFINITY),
            other => other
                .parse::<f64>()
                .map_err(|_| bad(format!("{other:?} is not a float"))),
        },
        other => Err(bad(format!("expected a number, found {other}"))),
    }
}

fn put<const N: usize>(bytes: [u8; N], order: ByteOrder) -> Vec<u8> {
    // `bytes` is little-endian.
    let mut v = bytes.to_vec();
    if order == ByteOrder::Big {
        v.reverse();
    }
    v
}

fn encode_float(value: &Value, size: usize, order: ByteOrder) -> ArrayResult<Vec<u8>> {
    let x = float_of(value)?;
    Ok(match size {
        2 => put(f16::from_f64(x).to_le_bytes(), order),
        4 => put((x as f32).to_le_bytes(), order),
        _ => put(x.to_le_bytes(), order),
    })
}

fn encode_int(value: &Value, size: usize, signed: bool, order: ByteOrder) -> ArrayResult<Vec<u8>> {
    let as_int = |v: &Value| -> Option<i128> {
        match v {
            Value::Number(n) => n
                .as_i64()
                .map(i128::from)
                .or_else(|| n.as_u64().map(i128::from))
                .or_else(|| {
                    n.as_f64()
                        .filter(|f| f.fract() == 0.0 && f.abs() < 1.9e19)
                        .map(|f| f as i128)
                }),
            Value::Bool(b) => Some(i128::from(*b)),
            _ => None,
        }
    };
    let x = as_int(value).ok_or_else(|| bad(format!("expected an integer, found {value}")))?;
    let bits = size as u32 * 8;
    let (lo, hi) = if signed {
        (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
    } else {
        (0, (1i128 << bits) - 1)
    };
    if x < lo || x > hi {
        return Err(bad(format!(
            "{x} does not fit in a {size}-byte {} integer",
            if signed { "signed" } else { "unsigned" }
        )));
    }
    let le = (x as u128).to_le_bytes();
    let mut v = le[..size].to_vec();
    if order == ByteOrder::Big {
        v.reverse();
    }
    Ok(v)
}

fn base64_bytes(value: &Value, size: usize) -> ArrayResult<Vec<u8>> {
    match value {
        Value::String(s) => {
            let mut raw = BASE64
                .decode(s)
                .map_err(|e| bad(format!("{s:?} is not base64: {e}")))?;
            if raw.len() > size {
                return Err(bad(format!(
                    "{} bytes do not fit a {size}-byte element",
                    raw.len()
                )));
            }
            raw.resize(size, 0);
            Ok(raw)
        }
        // zarr-python normalises a 0 fill for byte-like types to all-zero bytes.
        Value::Number(n) if n.as_f64() == Some(0.0) => Ok(vec![0; size]),
        other => Err(bad(format!("expected base64 text, found {other}"))),
    }
}

fn encode(value: &Value, dtype: &DataType) -> ArrayResult<Vec<u8>> {
    match dtype {
        DataType::Bool => match value {
            Value::Bool(b) => Ok(vec![u8::from(*b)]),
            Value::Number(n) => Ok(vec![u8::from(n.as_f64().is_some_and(|x| x != 0.0))]),
            other => Err(bad(format!("expected true or false, found {other}"))),
        },
        DataType::Int { size, order } => encode_int(value, *size, true, *order),
        DataType::UInt { size, order } => encode_int(value, *size, false, *order),
        DataType::Float { size, order } => encode_float(value, *size, *order),
        DataType::Complex { size, order } => {
            let (re, im) = match value {
                Value::Array(parts) if parts.len() == 2 => (&parts[0], &parts[1]),
                other => (other, &Value::from(0)),
            };
            let mut v = encode_float(re, size / 2, *order)?;
            v.extend(encode_float(im, size / 2, *order)?);
            Ok(v)
        }
        DataType::DateTime { order, .. } | DataType::TimeDelta { order, .. } => match value {
            Value::String(s) if s == "NaT" => Ok(put(i64::MIN.to_le_bytes(), *order)),
            other => encode_int(other, 8, true, *order),
        },
        // zarr-python 2.18 reads a numeric fill of an `S` array as numpy's `astype('S{n}')` of it:
        // Python's `str`, cut to n bytes (`0` → b"0", not zero bytes).
        DataType::Bytes(n) => match value {
            Value::Number(_) => {
                let mut raw = python_str(value).into_bytes();
                raw.truncate(*n);
                raw.resize(*n, 0);
                Ok(raw)
            }
            _ => base64_bytes(value, *n),
        },
        DataType::Void(n) => base64_bytes(value, *n),
        // An object array's fill is a value, kept as JSON and turned into the element type on
        // read (`crate::object`); the bytes are a placeholder of numpy's item size.
        DataType::Object => Ok(vec![0; dtype.itemsize()]),
        DataType::Structured(_) => {
            let size = dtype.itemsize();
            let raw = base64_bytes(value, size)?;
            if let Value::String(s) = value {
                let len = BASE64.decode(s).map(|b| b.len()).unwrap_or(0);
                if len != size {
                    return Err(bad(format!(
                        "{len} bytes given for a {size}-byte structured element"
                    )));
                }
            }
            Ok(raw)
        }
        DataType::Unicode { chars, order } => {
            let text = match value {
                Value::String(s) => {
                    let count = s.chars().count();
                    if count > *chars {
                        return Err(bad(format!("{count} characters do not fit in U{chars}")));
                    }
                    s.clone()
                }
                // Early zarr-python wrote `0` for text arrays. zarr-python 2.18 reads a number
                // (or boolean) as numpy's `astype('<U{n}')` of it: Python's `str`, cut to n
                // characters (`0` → "0", `0.0` → "0.0", `true` → "Tru" for U3).
                Value::Number(_) | Value::Bool(_) => {
                    python_str(value).chars().take(*chars).collect()
                }
                other => return Err(bad(format!("expected text, found {other}"))),
            };
            let mut v = Vec::with_capacity(chars * 4);
            for c in text.chars() {
                let code = c as u32;
                v.extend(match order {
                    ByteOrder::Little => code.to_le_bytes(),
                    ByteOrder::Big => code.to_be_bytes(),
                });
            }
            v.resize(chars * 4, 0);
            Ok(v)
        }
    }
}

/// Python's `str()` of a JSON number or boolean as Python's `json` module reads it: ints in
/// decimal, floats in `repr` form (`1.0`, `1e+16`, `1.5e-05`), `True`/`False`.
fn python_str(value: &Value) -> String {
    match value {
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) if n.is_f64() => {
            let x = n.as_f64().unwrap_or_default();
            let magnitude = x.abs();
            if x == 0.0 || (1e-4..1e16).contains(&magnitude) {
                // Rust's shortest round-trip digits, positional; Python keeps a ".0".
                let s = format!("{x}");
                if s.contains('.') { s } else { format!("{s}.0") }
            } else {
                // `{:e}` is shortest digits too ("1.5e-5"); Python writes "1.5e-05".
                let s = format!("{x:e}");
                let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
                let (sign, digits) = match exp.strip_prefix('-') {
                    Some(d) => ('-', d),
                    None => ('+', exp),
                };
                format!("{mantissa}e{sign}{digits:0>2}")
            }
        }
        other => other.to_string(),
    }
}

fn le<const N: usize>(bytes: &[u8], order: ByteOrder) -> [u8; N] {
    let mut a = [0u8; N];
    a.copy_from_slice(&bytes[..N]);
    if order == ByteOrder::Big {
        a.reverse();
    }
    a
}

fn float_json(x: f64) -> Value {
    if x.is_nan() {
        Value::from("NaN")
    } else if x == f64::INFINITY {
        Value::from("Infinity")
    } else if x == f64::NEG_INFINITY {
        Value::from("-Infinity")
    } else {
        Value::from(x)
    }
}

fn decode_float(bytes: &[u8], size: usize, order: ByteOrder) -> Value {
    float_json(match size {
        2 => f16::from_le_bytes(le(bytes, order)).to_f64(),
        4 => f64::from(f32::from_le_bytes(le(bytes, order))),
        _ => f64::from_le_bytes(le(bytes, order)),
    })
}

/// The JSON spelling zarr-python 2 writes for one element.
fn decode(bytes: &[u8], dtype: &DataType) -> Value {
    let int = |size: usize, signed: bool, order: ByteOrder| -> Value {
        let mut a = [0u8; 8];
        let mut b = bytes[..size].to_vec();
        if order == ByteOrder::Big {
            b.reverse();
        }
        a[..size].copy_from_slice(&b);
        let u = u64::from_le_bytes(a);
        if signed {
            let shift = 64 - size as u32 * 8;
            Value::from(((u << shift) as i64) >> shift)
        } else {
            Value::from(u)
        }
    };
    match dtype {
        DataType::Bool => Value::Bool(bytes[0] != 0),
        DataType::Int { size, order } => int(*size, true, *order),
        DataType::UInt { size, order } => int(*size, false, *order),
        DataType::Float { size, order } => decode_float(bytes, *size, *order),
        DataType::Complex { size, order } => {
            let h = size / 2;
            Value::Array(vec![
                decode_float(&bytes[..h], h, *order),
                decode_float(&bytes[h..], h, *order),
            ])
        }
        DataType::DateTime { order, .. } | DataType::TimeDelta { order, .. } => {
            int(8, true, *order)
        }
        DataType::Unicode { order, .. } => {
            let text: String = bytes
                .chunks_exact(4)
                .map(|c| u32::from_le_bytes(le(c, *order)))
                .take_while(|&c| c != 0)
                .map(|c| char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect();
            Value::from(text)
        }
        DataType::Bytes(_) => {
            // numpy drops trailing NULs of an `S` scalar; zarr-python encodes what remains.
            let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
            Value::from(BASE64.encode(&bytes[..end]))
        }
        DataType::Void(_) | DataType::Structured(_) => Value::from(BASE64.encode(bytes)),
        DataType::Object => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dt(s: &str) -> DataType {
        DataType::parse_typestr(s).unwrap()
    }

    #[test]
    fn float_forms() {
        let f8 = dt("<f8");
        for (v, x) in [
            (json!("NaN"), f64::NAN),
            (json!("Infinity"), f64::INFINITY),
            (json!(-0.0), -0.0),
            (json!(42), 42.0),
        ] {
            let fill = FillValue::from_json(&v, &f8).unwrap();
            assert_eq!(fill.bytes(), x.to_le_bytes());
            assert_eq!(fill.to_json(), v);
        }
        let f2 = FillValue::from_json(&json!(1.5), &dt(">f2")).unwrap();
        assert_eq!(f2.bytes(), f16::from_f32(1.5).to_be_bytes());
    }

    #[test]
    fn integer_ranges_are_checked() {
        assert!(FillValue::from_json(&json!(256), &dt("|u1")).is_err());
        assert!(FillValue::from_json(&json!(-1), &dt("<u4")).is_err());
        assert_eq!(
            FillValue::from_json(&json!(-2), &dt(">i2"))
                .unwrap()
                .bytes(),
            [0xff, 0xfe]
        );
        assert_eq!(
            FillValue::from_json(&json!(u64::MAX), &dt("<u8"))
                .unwrap()
                .bytes(),
            [0xff; 8]
        );
        assert!(FillValue::from_json(&json!("x"), &dt("<i8")).is_err());
    }

    #[test]
    fn text_bytes_and_records() {
        let u = FillValue::from_json(&json!("hé"), &dt(">U3")).unwrap();
        assert_eq!(u.bytes(), [0, 0, 0, b'h', 0, 0, 0, 0xe9, 0, 0, 0, 0]);
        assert!(FillValue::from_json(&json!("long"), &dt("<U3")).is_err());
        // Numbers in a text array's fill, as zarr-python 2.18 reads them (checked against it).
        let text = |v: Value, t: &str| {
            let f = FillValue::from_json(&v, &dt(t)).unwrap();
            assert_eq!(f.to_json(), v, "the spelling read is written back");
            f.bytes()
                .chunks(4)
                .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
                .take_while(|&c| c != 0)
                .map(|c| char::from_u32(c).unwrap())
                .collect::<String>()
        };
        assert_eq!(text(json!(0), "<U3"), "0");
        assert_eq!(text(json!(1), "<U3"), "1");
        assert_eq!(text(json!(0.0), "<U3"), "0.0");
        assert_eq!(text(json!(-12345), "<U3"), "-12");
        assert_eq!(text(json!(true), "<U3"), "Tru");
        assert_eq!(text(json!(1.5e-5), "<U9"), "1.5e-05");
        assert_eq!(text(json!(1e16), "<U9"), "1e+16");
        assert_eq!(text(json!(123.25), "<U9"), "123.25");
        let s = FillValue::from_json(&json!("YWI="), &dt("|S4")).unwrap();
        assert_eq!(s.bytes(), b"ab\0\0");
        assert_eq!(
            FillValue::from_bytes(b"ab\0\0", &dt("|S4"))
                .unwrap()
                .to_json(),
            json!("YWI=")
        );
        let rec = DataType::from_json(&json!([["a", "<i2"], ["b", "|u1"]])).unwrap();
        let f = FillValue::from_json(&json!("AQID"), &rec).unwrap();
        assert_eq!(f.bytes(), [1, 2, 3]);
        assert!(FillValue::from_json(&json!("AQI="), &rec).is_err());
    }

    #[test]
    fn a_numeric_fill_of_bytes_reads_as_its_digits() {
        // As zarr-python 2.18 reads `"fill_value": 0` (5, 1.5) of an `|S3` array: b"0", b"5", b"1.5".
        let bytes = |v: Value, t: &str| FillValue::from_json(&v, &dt(t)).unwrap().bytes().to_vec();
        assert_eq!(bytes(json!(0), "|S3"), b"0\0\0");
        assert_eq!(bytes(json!(5), "|S3"), b"5\0\0");
        assert_eq!(bytes(json!(1.5), "|S3"), b"1.5");
        assert_eq!(bytes(json!(-12345), "|S3"), b"-12");
        // Raw bytes (`V`) keep reading 0 as zero bytes.
        assert_eq!(bytes(json!(0), "|V2"), [0, 0]);
    }

    #[test]
    fn a_numeric_fill_of_text_reads_as_its_digits() {
        // zarr-python 2.18 reads `"fill_value": 0` of a `<U3` array as "0".
        let fill = FillValue::from_json(&json!(0), &dt("<U3")).unwrap();
        assert_eq!(fill.bytes(), [b'0', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(fill.to_json(), json!(0));
        // numpy's astype('<U3') of 1000 keeps the first three characters, as zarr-python 2.18 does.
        let cut = FillValue::from_json(&json!(1000), &dt("<U3")).unwrap();
        assert_eq!(
            &cut.bytes()[..12],
            [b'1', 0, 0, 0, b'0', 0, 0, 0, b'0', 0, 0, 0]
        );
    }

    #[test]
    fn datetimes_and_complex() {
        let nat = FillValue::from_json(&json!("NaT"), &dt("<M8[ns]")).unwrap();
        assert_eq!(nat.bytes(), i64::MIN.to_le_bytes());
        let c = FillValue::from_json(&json!([1.0, "NaN"]), &dt("<c8")).unwrap();
        assert_eq!(&c.bytes()[..4], 1.0f32.to_le_bytes());
        assert_eq!(&c.bytes()[4..], f32::NAN.to_le_bytes());
    }

    #[test]
    fn chunk_matching_uses_bit_patterns() {
        let f = FillValue::from_json(&json!("NaN"), &dt("<f4")).unwrap();
        let chunk: Vec<u8> = (0..4).flat_map(|_| f32::NAN.to_le_bytes()).collect();
        assert!(f.matches_chunk(&chunk));
        assert!(!f.matches_chunk(&[0; 16]));
    }
}

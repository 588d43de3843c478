//! Zarr v3 data type names (`"int16"`, `"float32"`, `{"name": "numpy.datetime64", ...}`) and the
//! [`DataType`] each one is.
//!
//! In v3 a data type has no byte order: the `bytes` codec says how it is stored. The [`DataType`] made
//! here carries that stored byte order, so the rest of the crate reads v3 chunks as it reads v2 ones.
//!
//! ```
//! use tessera_array::{ByteOrder, DataType};
//! use tessera_array::v3::{data_type_from_json, data_type_to_json};
//! use serde_json::json;
//!
//! let dt = data_type_from_json(&json!("uint16"), ByteOrder::Big)?;
//! assert_eq!(dt, DataType::parse_typestr(">u2")?);
//! assert_eq!(data_type_to_json(&dt)?, json!("uint16"));
//! assert_eq!(data_type_from_json(&json!("string"), ByteOrder::Little)?, DataType::Object);
//! let err = data_type_from_json(&json!("int128"), ByteOrder::Little).unwrap_err();
//! assert!(err.to_string().contains("int128"));
//! # Ok::<(), tessera_array::ArrayError>(())
//! ```

use serde_json::{Value, json};

use crate::dtype::{ByteOrder, DataType, Field};
use crate::error::{ArrayError, ArrayResult};

/// The variable-length UTF-8 string type (stored with `vlen-utf8`).
pub(crate) const STRING: &str = "string";
/// The variable-length byte string type of the zarr-extensions registry (stored with `vlen-bytes`).
pub(crate) const BYTES: &str = "bytes";
/// The name zarr-python 3 writes for [`BYTES`] (and reads besides it).
pub(crate) const BYTES_ZARR_PYTHON: &str = "variable_length_bytes";

fn bad(msg: impl Into<String>) -> ArrayError {
    ArrayError::metadata("data_type", msg)
}

/// The `length_bytes` of an extension type's configuration.
fn length_bytes(config: Option<&Value>, name: &str) -> ArrayResult<u64> {
    config
        .and_then(|c| c.get("length_bytes"))
        .and_then(Value::as_u64)
        .filter(|&n| n > 0)
        .ok_or_else(|| {
            bad(format!(
                "{name} needs a positive configuration.length_bytes"
            ))
        })
}

/// Parses a v3 `data_type` (a name, or an object with `name` and `configuration`), stored in `order`.
///
/// # Errors
/// [`ArrayError::Metadata`] naming `data_type` for a malformed type; [`ArrayError::Unsupported`] naming
/// the type for one tessera does not read (unknown extensions). The variable-length `string` and
/// `bytes` (`variable_length_bytes`) types are [`DataType::Object`]: the array's codec says which.
pub fn data_type_from_json(value: &Value, order: ByteOrder) -> ArrayResult<DataType> {
    data_type_depth(value, order, 0)
}

fn data_type_depth(value: &Value, order: ByteOrder, depth: usize) -> ArrayResult<DataType> {
    if depth > 32 {
        return Err(bad("structured type nested too deeply"));
    }
    let (name, config) = match value {
        Value::String(s) => (s.as_str(), None),
        Value::Object(o) => (
            o.get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| bad(format!("an object data type needs a string name: {value}")))?,
            o.get("configuration"),
        ),
        other => return Err(bad(format!("expected a name or an object, found {other}"))),
    };
    let e = if order == ByteOrder::Big { '>' } else { '<' };
    let typestr = match name {
        "bool" => "|b1".to_string(),
        "int8" => "|i1".to_string(),
        "uint8" => "|u1".to_string(),
        "int16" | "int32" | "int64" | "uint16" | "uint32" | "uint64" => {
            let unsigned = name.starts_with('u');
            let bits: usize = name
                .trim_start_matches(['u', 'i', 'n', 't'])
                .parse()
                .unwrap_or(0);
            format!("{e}{}{}", if unsigned { 'u' } else { 'i' }, bits / 8)
        }
        "float16" => format!("{e}f2"),
        "float32" => format!("{e}f4"),
        "float64" => format!("{e}f8"),
        "complex64" => format!("{e}c8"),
        "complex128" => format!("{e}c16"),
        "fixed_length_utf32" => {
            let n = length_bytes(config, name)?;
            if n % 4 != 0 {
                return Err(bad(format!(
                    "{name}: length_bytes {n} is not a multiple of 4"
                )));
            }
            format!("{e}U{}", n / 4)
        }
        "null_terminated_bytes" => format!("|S{}", length_bytes(config, name)?),
        "raw_bytes" => format!("|V{}", length_bytes(config, name)?),
        "numpy.datetime64" | "numpy.timedelta64" => {
            let unit = config
                .and_then(|c| c.get("unit"))
                .and_then(Value::as_str)
                .ok_or_else(|| bad(format!("{name} needs configuration.unit")))?;
            let scale = config
                .and_then(|c| c.get("scale_factor"))
                .map_or(Some(1), Value::as_u64)
                .filter(|&s| s > 0)
                .ok_or_else(|| bad(format!("{name}: scale_factor must be a positive integer")))?;
            let kind = if name.ends_with("datetime64") {
                'M'
            } else {
                'm'
            };
            let scale = if scale == 1 {
                String::new()
            } else {
                scale.to_string()
            };
            format!("{e}{kind}8[{scale}{unit}]")
        }
        "structured" => return structured(config, order, depth),
        // Variable-length values: their codec (vlen-utf8, vlen-bytes) says which kind.
        STRING | BYTES | BYTES_ZARR_PYTHON => return Ok(DataType::Object),
        raw if raw.starts_with('r') && raw[1..].parse::<u64>().is_ok() => {
            let bits: u64 = raw[1..].parse().unwrap_or(0);
            if bits == 0 || !bits.is_multiple_of(8) {
                return Err(bad(format!(
                    "{raw}: raw bits must be a positive multiple of 8"
                )));
            }
            format!("|V{}", bits / 8)
        }
        other => {
            return Err(ArrayError::unsupported(
                format!("data_type {other}"),
                "tessera does not know this data type",
            ));
        }
    };
    DataType::parse_typestr(&typestr).map_err(|e| match e {
        ArrayError::Metadata { message, .. } => bad(format!("{name}: {message}")),
        other => other,
    })
}

fn structured(config: Option<&Value>, order: ByteOrder, depth: usize) -> ArrayResult<DataType> {
    let fields = config
        .and_then(|c| c.get("fields"))
        .and_then(Value::as_array)
        .filter(|f| !f.is_empty())
        .ok_or_else(|| bad("structured needs a non-empty configuration.fields list"))?;
    let mut out = Vec::with_capacity(fields.len());
    for f in fields {
        let pair = f.as_array().filter(|p| p.len() == 2).ok_or_else(|| {
            bad(format!(
                "a structured field must be [name, type], found {f}"
            ))
        })?;
        let name = pair[0]
            .as_str()
            .ok_or_else(|| bad(format!("a field name must be a string, found {}", pair[0])))?;
        out.push(Field {
            name: name.to_string(),
            dtype: data_type_depth(&pair[1], order, depth + 1)?,
            shape: Vec::new(),
        });
    }
    // Check sizes and names the way the v2 parser does.
    DataType::from_json(&DataType::Structured(out).to_json())
}

/// The v3 `data_type` of `dtype` (its byte order goes into the `bytes` codec instead).
///
/// # Errors
/// [`ArrayError::Unsupported`] for types with no v3 spelling (structured types with sub-array fields)
/// and for [`DataType::Object`], whose spelling depends on its codec ([`object_data_type_to_json`]).
pub fn data_type_to_json(dtype: &DataType) -> ArrayResult<Value> {
    Ok(match dtype {
        DataType::Bool => json!("bool"),
        DataType::Int { size, .. } => json!(format!("int{}", size * 8)),
        DataType::UInt { size, .. } => json!(format!("uint{}", size * 8)),
        DataType::Float { size, .. } => json!(format!("float{}", size * 8)),
        DataType::Complex { size, .. } => json!(format!("complex{}", size * 8)),
        DataType::DateTime { unit, .. } | DataType::TimeDelta { unit, .. } => {
            let name = if matches!(dtype, DataType::DateTime { .. }) {
                "numpy.datetime64"
            } else {
                "numpy.timedelta64"
            };
            json!({"name": name, "configuration": {"unit": unit.base, "scale_factor": unit.count}})
        }
        DataType::Bytes(n) => {
            json!({"name": "null_terminated_bytes", "configuration": {"length_bytes": n}})
        }
        DataType::Unicode { chars, .. } => {
            json!({"name": "fixed_length_utf32", "configuration": {"length_bytes": chars * 4}})
        }
        DataType::Void(n) => json!({"name": "raw_bytes", "configuration": {"length_bytes": n}}),
        DataType::Object => {
            return Err(ArrayError::unsupported(
                "data_type |O",
                "an object array's v3 type depends on its codec: see object_data_type_to_json",
            ));
        }
        DataType::Structured(fields) => {
            let mut list = Vec::with_capacity(fields.len());
            for f in fields {
                if !f.shape.is_empty() {
                    return Err(ArrayError::unsupported(
                        "data_type structured",
                        format!(
                            "field {:?} is a sub-array, which Zarr v3 cannot describe",
                            f.name
                        ),
                    ));
                }
                list.push(json!([f.name, data_type_to_json(&f.dtype)?]));
            }
            json!({"name": "structured", "configuration": {"fields": list}})
        }
    })
}

/// The v3 `data_type` of an object (`|O`) array whose object codec is `codec_id`: `"string"` for
/// `vlen-utf8`, `"variable_length_bytes"` (as zarr-python 3 writes it) for `vlen-bytes`.
///
/// # Errors
/// [`ArrayError::Unsupported`] naming the codec for the object codecs Zarr v3 has no type for
/// (`vlen-array`, `json2`, `msgpack2`).
pub fn object_data_type_to_json(codec_id: &str) -> ArrayResult<Value> {
    match codec_id {
        "vlen-utf8" => Ok(json!(STRING)),
        "vlen-bytes" => Ok(json!(BYTES_ZARR_PYTHON)),
        other => Err(ArrayError::unsupported(
            format!("codec {other}"),
            "Zarr v3 has variable-length types only for vlen-utf8 (string) and vlen-bytes \
             (bytes); write this object array in Zarr v2",
        )),
    }
}

//! Zarr v3: `zarr.json` documents for arrays and groups, read into the same [`ArrayMetadata`] as
//! `.zarray`, and written back.
//!
//! A `zarr.json` array is read as: `shape`, the `regular` chunk grid's `chunk_shape` as
//! [`ArrayMetadata::chunks`] (the shard shape, when the array is sharded), `data_type` with the byte order
//! of its `bytes` codec as [`ArrayMetadata::dtype`], `fill_value` in any v3 form, `codecs` (see
//! [`codecs`]), `chunk_key_encoding` (`default` or `v2`), `attributes` and `dimension_names`. Fields this
//! crate does not know are kept when they say `"must_understand": false` and refused otherwise, as are
//! storage transformers.
//!
//! ```
//! use tessera_array::{ArrayMetadata, KeyEncoding, ZarrFormat};
//! let doc = br#"{"zarr_format": 3, "node_type": "array", "shape": [10], "data_type": "int16",
//!   "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [4]}},
//!   "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
//!   "fill_value": -1, "codecs": [{"name": "bytes", "configuration": {"endian": "big"}}],
//!   "attributes": {"units": "m"}, "custom": {"must_understand": false}}"#;
//! let meta = ArrayMetadata::parse_v3(doc)?;
//! assert_eq!((meta.format, meta.key_encoding), (ZarrFormat::V3, KeyEncoding::Default));
//! assert_eq!(meta.dtype.typestr(), ">i2");
//! assert_eq!(meta.to_json()["custom"]["must_understand"], false);
//! let must = String::from_utf8(doc.to_vec()).unwrap().replace("false", "true");
//! let err = ArrayMetadata::parse_v3(must.as_bytes()).unwrap_err();
//! assert!(err.to_string().contains("custom"));
//! # Ok::<(), tessera_array::ArrayError>(())
//! ```

pub mod codecs;
mod dtype;
mod fill;

pub use codecs::{ChunkEncoding, ShardCodec, numcodecs_of, parse_codecs, v3_codec_of};
pub use dtype::{data_type_from_json, data_type_to_json, object_data_type_to_json};
pub use fill::fill_value_from_json;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Value, json};

use crate::dtype::{ByteOrder, DataType};
use crate::error::{ArrayError, ArrayResult};
use crate::fill_value::FillValue;
use crate::metadata::{
    ArrayMetadata, KeyEncoding, MAX_CHUNK_BYTES, Order, Separator, ZarrFormat, u64_list,
};

/// The fields of an array's `zarr.json` this crate reads; any other must say `must_understand: false`.
const ARRAY_FIELDS: [&str; 11] = [
    "zarr_format",
    "node_type",
    "shape",
    "data_type",
    "chunk_grid",
    "chunk_key_encoding",
    "fill_value",
    "codecs",
    "attributes",
    "dimension_names",
    "storage_transformers",
];

fn bad(field: &str, msg: impl Into<String>) -> ArrayError {
    ArrayError::metadata(field, msg)
}

fn check_format(doc: &Map<String, Value>, node_type: &str) -> ArrayResult<()> {
    match doc.get("zarr_format") {
        Some(v) if v.as_u64() == Some(3) => {}
        Some(v) => return Err(bad("zarr_format", format!("expected 3, found {v}"))),
        None => return Err(bad("zarr_format", "missing")),
    }
    match doc.get("node_type") {
        Some(Value::String(s)) if s == node_type => Ok(()),
        Some(v) => Err(bad(
            "node_type",
            format!("expected \"{node_type}\", found {v}"),
        )),
        None => Err(bad("node_type", "missing")),
    }
}

/// Refuses fields this crate does not know unless they are extensions saying `must_understand: false`.
fn check_extensions(doc: &Map<String, Value>, known: &[&str]) -> ArrayResult<()> {
    for (key, value) in doc {
        if known.contains(&key.as_str()) {
            continue;
        }
        if value.get("must_understand") != Some(&Value::Bool(false)) {
            return Err(ArrayError::unsupported(
                key.clone(),
                "an extension tessera does not know, which readers must understand",
            ));
        }
    }
    Ok(())
}

/// The `(name, configuration)` of a named configuration object such as `chunk_grid`.
fn named<'a>(
    doc: &'a Map<String, Value>,
    field: &str,
) -> ArrayResult<(&'a str, Map<String, Value>)> {
    let v = doc.get(field).ok_or_else(|| bad(field, "missing"))?;
    let (name, config) = match v {
        Value::String(s) => (s.as_str(), None),
        Value::Object(o) => (
            o.get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| bad(field, format!("expected a string name, found {v}")))?,
            o.get("configuration"),
        ),
        other => return Err(bad(field, format!("expected an object, found {other}"))),
    };
    let config = match config {
        None => Map::new(),
        Some(Value::Object(c)) => c.clone(),
        Some(other) => {
            return Err(bad(
                field,
                format!("configuration must be an object, found {other}"),
            ));
        }
    };
    Ok((name, config))
}

fn chunk_bytes_ok(chunks: &[u64], dtype: &DataType, field: &str) -> ArrayResult<()> {
    chunks
        .iter()
        .try_fold(dtype.itemsize() as u64, |a, &c| a.checked_mul(c))
        .filter(|&b| b <= MAX_CHUNK_BYTES)
        .map(|_| ())
        .ok_or_else(|| {
            bad(
                field,
                format!("a chunk would exceed {MAX_CHUNK_BYTES} bytes"),
            )
        })
}

/// The fill value of a `string` or `bytes` array, after checking that its codec stores that type.
///
/// A `bytes` fill is base64 in v3; the object machinery takes a byte string's fill as its text when
/// it is UTF-8 (as `.zarray` spells it), else as a list of byte values.
fn object_fill(
    data_type: &Value,
    encoding: &ChunkEncoding,
    fill: &Value,
) -> ArrayResult<FillValue> {
    let name = data_type.as_str().unwrap_or_default();
    let expected = if name == dtype::STRING {
        "vlen-utf8"
    } else {
        "vlen-bytes"
    };
    let codec = encoding.innermost_codecs().chain().object_codec();
    if codec.map(|c| c.id()) != Some(expected) {
        return Err(bad(
            "codecs",
            format!(
                "data_type {name} needs the {expected} codec, found {}",
                codec.map_or("none", |c| c.id())
            ),
        ));
    }
    let fill = if expected == "vlen-bytes" {
        let text = fill
            .as_str()
            .ok_or_else(|| bad("fill_value", format!("expected base64 text, found {fill}")))?;
        let raw = BASE64
            .decode(text)
            .map_err(|e| bad("fill_value", format!("{text:?} is not base64: {e}")))?;
        match String::from_utf8(raw) {
            Ok(text) => Value::String(text),
            Err(e) => Value::from(e.into_bytes()),
        }
    } else {
        match fill {
            Value::String(_) => fill.clone(),
            other => return Err(bad("fill_value", format!("expected text, found {other}"))),
        }
    };
    FillValue::from_json(&fill, &DataType::Object)
}

/// A plain encoding's element order as C or F (C for a sharded array, whose shards are assembled in C
/// order, and for a transpose by another permutation, which [`ArrayMetadata::chunk_axis_order`]
/// gives).
fn element_order(encoding: &ChunkEncoding) -> Order {
    match encoding {
        ChunkEncoding::Plain { order, .. }
            if order.len() > 1 && order == &Order::F.axes(order.len()) =>
        {
            Order::F
        }
        _ => Order::C,
    }
}

impl ArrayMetadata {
    /// Parses and validates an array's `zarr.json`.
    ///
    /// # Errors
    /// [`ArrayError::Metadata`] naming the field at fault; [`ArrayError::Unsupported`] naming a data type,
    /// codec, chunk grid, key encoding or extension tessera does not implement.
    pub fn parse_v3(bytes: &[u8]) -> ArrayResult<ArrayMetadata> {
        let value: Value = serde_json::from_slice(bytes)
            .map_err(|e| bad("zarr.json", format!("not valid JSON: {e}")))?;
        Self::from_v3_json(&value)
    }

    /// Validates an array's `zarr.json` already parsed as JSON (e.g. from consolidated metadata).
    ///
    /// # Errors
    /// As [`ArrayMetadata::parse_v3`].
    pub fn from_v3_json(value: &Value) -> ArrayResult<ArrayMetadata> {
        let doc = value
            .as_object()
            .ok_or_else(|| bad("zarr.json", "expected a JSON object"))?;
        check_format(doc, "array")?;
        check_extensions(doc, &ARRAY_FIELDS)?;
        let shape = u64_list(doc, "shape")?;
        let (grid, grid_config) = named(doc, "chunk_grid")?;
        if grid != "regular" {
            return Err(ArrayError::unsupported(
                format!("chunk_grid {grid}"),
                "only the regular chunk grid is supported",
            ));
        }
        let chunks = u64_list(&grid_config, "chunk_shape").map_err(|e| match e {
            ArrayError::Metadata { message, .. } => {
                bad("chunk_grid", format!("chunk_shape: {message}"))
            }
            other => other,
        })?;
        if chunks.len() != shape.len() {
            return Err(bad(
                "chunk_grid",
                format!(
                    "chunk_shape has {} dimensions but shape has {}",
                    chunks.len(),
                    shape.len()
                ),
            ));
        }
        if let Some(axis) = chunks.iter().position(|&c| c == 0) {
            return Err(bad(
                "chunk_grid",
                format!("axis {axis} has a chunk size of 0"),
            ));
        }
        let (key_encoding, separator) = match named(doc, "chunk_key_encoding")? {
            (name @ ("default" | "v2"), config) => {
                let sep = match config.get("separator") {
                    None if name == "default" => Separator::Slash,
                    None => Separator::Dot,
                    Some(Value::String(s)) if s == "/" => Separator::Slash,
                    Some(Value::String(s)) if s == "." => Separator::Dot,
                    Some(other) => {
                        return Err(bad(
                            "chunk_key_encoding",
                            format!("separator must be \"/\" or \".\", found {other}"),
                        ));
                    }
                };
                let enc = if name == "default" {
                    KeyEncoding::Default
                } else {
                    KeyEncoding::V2
                };
                (enc, sep)
            }
            (other, _) => {
                return Err(ArrayError::unsupported(
                    format!("chunk_key_encoding {other}"),
                    "only the default and v2 chunk key encodings are supported",
                ));
            }
        };
        match doc.get("storage_transformers") {
            None => {}
            Some(Value::Array(list)) if list.is_empty() => {}
            Some(Value::Array(_)) => {
                return Err(ArrayError::unsupported(
                    "storage_transformers",
                    "tessera implements no storage transformer",
                ));
            }
            Some(other) => {
                return Err(bad(
                    "storage_transformers",
                    format!("expected a list, found {other}"),
                ));
            }
        }
        // The data type comes after the codecs: its byte order is the `bytes` codec's.
        let data_type = doc
            .get("data_type")
            .ok_or_else(|| bad("data_type", "missing"))?;
        let (encoding, endian) = parse_codecs(
            doc.get("codecs").ok_or_else(|| bad("codecs", "missing"))?,
            &chunks,
        )?;
        let dtype = data_type_from_json(data_type, endian.unwrap_or(ByteOrder::Little))?;
        if endian.is_none() && dtype.itemsize() > 1 && dtype.byte_order().is_some() {
            return Err(bad(
                "codecs",
                format!("bytes needs an endian for {}", dtype.typestr()),
            ));
        }
        chunk_bytes_ok(&chunks, &dtype, "chunk_grid")?;
        if let Some(codec) = encoding.innermost_codecs().chain().object_codec()
            && !dtype.is_object()
        {
            return Err(bad(
                "codecs",
                format!(
                    "{} needs data_type string or variable_length_bytes, not {data_type}",
                    codec.id()
                ),
            ));
        }
        let fill_value = match doc.get("fill_value") {
            None | Some(Value::Null) => {
                return Err(bad("fill_value", "missing (Zarr v3 requires a fill value)"));
            }
            Some(v) if dtype.is_object() => object_fill(data_type, &encoding, v)?,
            Some(v) => fill_value_from_json(v, &dtype)?,
        };
        match doc.get("attributes") {
            None | Some(Value::Object(_)) => {}
            Some(other) => {
                return Err(bad(
                    "attributes",
                    format!("expected an object, found {other}"),
                ));
            }
        }
        let dimension_names = match doc.get("dimension_names") {
            None | Some(Value::Null) => None,
            Some(Value::Array(names)) => {
                if names.len() != shape.len() {
                    return Err(bad(
                        "dimension_names",
                        format!("{} names for {} dimensions", names.len(), shape.len()),
                    ));
                }
                Some(
                    names
                        .iter()
                        .map(|n| match n {
                            Value::Null => Ok(None),
                            Value::String(s) => Ok(Some(s.clone())),
                            other => Err(bad(
                                "dimension_names",
                                format!("expected a string or null, found {other}"),
                            )),
                        })
                        .collect::<ArrayResult<Vec<_>>>()?,
                )
            }
            Some(other) => {
                return Err(bad(
                    "dimension_names",
                    format!("expected a list, found {other}"),
                ));
            }
        };
        Ok(ArrayMetadata {
            shape,
            chunks,
            dtype,
            fill_value,
            order: element_order(&encoding),
            separator,
            compressor: None,
            filters: None,
            format: ZarrFormat::V3,
            key_encoding,
            dimension_names,
            encoding: Some(encoding),
            raw: doc.clone(),
        })
    }

    /// The attributes held in a v3 array's `zarr.json` as read (empty for v2 metadata, whose attributes
    /// live in `.zattrs`).
    pub fn v3_attributes(&self) -> Map<String, Value> {
        match self.raw.get("attributes") {
            Some(Value::Object(m)) if self.format == ZarrFormat::V3 => m.clone(),
            _ => Map::new(),
        }
    }

    /// A copy whose `zarr.json` holds `attrs` (v3 only; v2 metadata is returned unchanged).
    pub(crate) fn with_v3_attributes(&self, attrs: &Map<String, Value>) -> ArrayMetadata {
        let mut next = self.clone();
        if self.format == ZarrFormat::V3 {
            next.raw
                .insert("attributes".into(), Value::Object(attrs.clone()));
        }
        next
    }
}

/// The `zarr.json` of a v3 array: the document read with `shape` updated (fields kept in order).
pub(crate) fn array_to_json(meta: &ArrayMetadata) -> Value {
    let mut out = meta.raw.clone();
    out.insert("shape".into(), Value::from(meta.shape.clone()));
    Value::Object(out)
}

/// The `zarr.json` of a new v3 array, fields in the order zarr-python writes them.
///
/// `object_codec` is the numcodecs id of an object array's codec (`vlen-utf8` or `vlen-bytes`).
///
/// # Errors
/// [`ArrayError::Unsupported`] for a data type with no v3 spelling.
#[allow(clippy::too_many_arguments)]
pub(crate) fn new_array_json(
    shape: &[u64],
    chunks: &[u64],
    dtype: &DataType,
    object_codec: Option<&str>,
    fill_value: &FillValue,
    codecs: Vec<Value>,
    separator: Separator,
    attributes: &Map<String, Value>,
    dimension_names: Option<&[Option<String>]>,
) -> ArrayResult<Value> {
    let mut doc = Map::new();
    doc.insert("shape".into(), json!(shape));
    let (data_type, fill) = match (dtype, object_codec) {
        (DataType::Object, Some(id)) => (
            object_data_type_to_json(id)?,
            object_fill_to_json(fill_value, id)?,
        ),
        _ => (
            data_type_to_json(dtype)?,
            fill_value_to_json(fill_value, dtype),
        ),
    };
    doc.insert("data_type".into(), data_type);
    doc.insert(
        "chunk_grid".into(),
        json!({"name": "regular", "configuration": {"chunk_shape": chunks}}),
    );
    doc.insert(
        "chunk_key_encoding".into(),
        json!({"name": "default", "configuration": {"separator": separator.as_char().to_string()}}),
    );
    doc.insert("fill_value".into(), fill);
    doc.insert("codecs".into(), Value::Array(codecs));
    doc.insert("attributes".into(), Value::Object(attributes.clone()));
    if let Some(names) = dimension_names {
        doc.insert("dimension_names".into(), json!(names));
    }
    doc.insert("zarr_format".into(), json!(3));
    doc.insert("node_type".into(), json!("array"));
    doc.insert("storage_transformers".into(), json!([]));
    Ok(Value::Object(doc))
}

/// The v3 fill of a `string` (its text) or `bytes` (base64) array.
fn object_fill_to_json(fill: &FillValue, codec_id: &str) -> ArrayResult<Value> {
    let json = fill.to_json();
    if codec_id == "vlen-utf8" {
        let text: String = crate::object::text_fill(&json)?;
        return Ok(Value::String(text));
    }
    let raw: Vec<u8> = crate::object::bytes_fill(&json)?;
    Ok(Value::String(BASE64.encode(raw)))
}

/// The v3 spelling of a fill value: as v2 spells it, except `null` (v3 has none: the zero value).
fn fill_value_to_json(fill: &FillValue, dtype: &DataType) -> Value {
    if !fill.is_null() {
        return fill.to_json();
    }
    match FillValue::from_bytes(&vec![0; dtype.itemsize()], dtype) {
        Ok(zero) => zero.to_json(),
        Err(_) => json!(0),
    }
}

/// The `bytes` codec for `dtype` (with an endian when the type has a byte order).
pub(crate) fn bytes_codec(dtype: &DataType) -> Value {
    match dtype.byte_order() {
        Some(order) if dtype.itemsize() > 1 => {
            let endian = if order == ByteOrder::Big {
                "big"
            } else {
                "little"
            };
            json!({"name": "bytes", "configuration": {"endian": endian}})
        }
        _ => json!({"name": "bytes"}),
    }
}

/// Validates a group's `zarr.json`; returns the document.
///
/// # Errors
/// [`ArrayError::Metadata`] naming the field at fault; [`ArrayError::Unsupported`] for an unknown
/// extension that must be understood.
pub fn check_group_v3(value: &Value) -> ArrayResult<Map<String, Value>> {
    let doc = value
        .as_object()
        .ok_or_else(|| bad("zarr.json", "expected a JSON object"))?;
    check_format(doc, "group")?;
    check_extensions(
        doc,
        &[
            "zarr_format",
            "node_type",
            "attributes",
            "consolidated_metadata",
        ],
    )?;
    match doc.get("attributes") {
        None | Some(Value::Object(_)) => Ok(doc.clone()),
        Some(other) => Err(bad(
            "attributes",
            format!("expected an object, found {other}"),
        )),
    }
}

/// What a `zarr.json` describes: `Some(true)` for an array, `Some(false)` for a group.
///
/// # Errors
/// [`ArrayError::Metadata`] naming `node_type` when it is neither.
pub fn is_array_doc(value: &Value) -> ArrayResult<bool> {
    match value.get("node_type").and_then(Value::as_str) {
        Some("array") => Ok(true),
        Some("group") => Ok(false),
        _ => Err(bad(
            "node_type",
            format!(
                "expected \"array\" or \"group\", found {}",
                value.get("node_type").unwrap_or(&Value::Null)
            ),
        )),
    }
}

/// A new group's `zarr.json`.
pub(crate) fn new_group_json(attributes: &Map<String, Value>) -> Value {
    json!({"attributes": attributes, "zarr_format": 3, "node_type": "group"})
}

//! Object codecs: the numcodecs codecs that turn a chunk of variable-length values (Python
//! `str`, `bytes`, ragged numpy arrays, arbitrary JSON-like objects) into bytes.
//!
//! Zarr v2 stores such arrays with `"dtype": "|O"` and one of these codecs as the first filter,
//! the compressor after it: `filters: [{"id": "vlen-utf8"}]` is how zarr-python 2.18 and 3 store
//! `str`. The ids: `vlen-utf8` (text), `vlen-bytes` (byte strings), `vlen-array` (ragged rows of
//! one numeric dtype), `json2` and `msgpack2` (JSON-like values). `pickle` is refused: decoding
//! it would run arbitrary code.
//!
//! ```
//! use tessera_codec::object::{ObjectCodec, ObjectValues};
//! let codec = ObjectCodec::from_json(&serde_json::json!({"id": "vlen-utf8"}))?;
//! let values = ObjectValues::Text(vec!["a".into(), "héllo".into()]);
//! let blob = codec.encode(&values, &[2])?;
//! assert_eq!(&blob[..4], &2u32.to_le_bytes()); // item count, then (length, bytes) per item
//! assert_eq!(codec.decode(&blob, &[2])?, values);
//! # Ok::<(), tessera_codec::CodecError>(())
//! ```
//!
//! # Bounded decoding
//! A chunk's element count comes from the array metadata, never from the data: a header that
//! claims another count is [`Corrupt`](crate::CodecErrorKind::Corrupt) before anything is
//! allocated, and each item's length is checked against the bytes that remain, so decoding
//! allocates at most the chunk's element count in empty values plus the encoded length.

mod json;
mod msgpack;
mod vlen;

use serde_json::Value;

use crate::config::Config;
use crate::error::{CodecError, CodecErrorKind, CodecResult};

/// The numcodecs ids of the object codecs.
pub const IDS: [&str; 6] = [
    vlen::UTF8_ID,
    vlen::BYTES_ID,
    vlen::ARRAY_ID,
    json::ID,
    msgpack::ID,
    PICKLE_ID,
];

/// The numcodecs id of `pickle`, which tessera refuses.
pub const PICKLE_ID: &str = "pickle";

/// Values of one chunk of an object array, in the chunk's stored element order.
#[derive(Clone, Debug, PartialEq)]
pub enum ObjectValues {
    /// `vlen-utf8`: text.
    Text(Vec<String>),
    /// `vlen-bytes`: byte strings; `vlen-array`: each row's raw bytes in the codec's
    /// [`item_dtype`](ObjectCodec::item_dtype) (its byte order as stored).
    Bytes(Vec<Vec<u8>>),
    /// `json2` and `msgpack2`: JSON-like values.
    Json(Vec<Value>),
}

impl ObjectValues {
    /// The number of values.
    pub fn len(&self) -> usize {
        match self {
            ObjectValues::Text(v) => v.len(),
            ObjectValues::Bytes(v) => v.len(),
            ObjectValues::Json(v) => v.len(),
        }
    }

    /// True when there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What kind of value an object codec stores, which decides the Rust element type of the array.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    /// `vlen-utf8`: [`ObjectValues::Text`].
    Text,
    /// `vlen-bytes`: [`ObjectValues::Bytes`].
    Bytes,
    /// `vlen-array`: [`ObjectValues::Bytes`] holding rows of this numpy type string (`"<i4"`).
    NumericRows(String),
    /// `json2`, `msgpack2`: [`ObjectValues::Json`].
    Json,
}

/// One object codec, built from its numcodecs config and writing the same config back.
#[derive(Clone, Debug, PartialEq)]
pub struct ObjectCodec {
    id: &'static str,
    kind: ObjectKind,
    config: Value,
}

impl ObjectCodec {
    /// True when `id` names an object codec (including the refused `pickle`).
    pub fn is_object_id(id: &str) -> bool {
        IDS.contains(&id)
    }

    /// Builds the codec a numcodecs config describes.
    ///
    /// # Errors
    /// [`CodecErrorKind::Unsupported`] for `pickle` (decoding it would run arbitrary code) and
    /// for json2/msgpack2 options tessera cannot honour; [`CodecErrorKind::InvalidConfig`] for a
    /// malformed config or a `vlen-array` dtype that is not numeric;
    /// [`CodecErrorKind::UnknownCodec`] for any other id.
    pub fn from_json(config: &Value) -> CodecResult<ObjectCodec> {
        let id = config.get("id").and_then(Value::as_str).unwrap_or_default();
        let (id, kind) = match id {
            vlen::UTF8_ID => {
                Config::new(vlen::UTF8_ID, config, &[])?;
                (vlen::UTF8_ID, ObjectKind::Text)
            }
            vlen::BYTES_ID => {
                Config::new(vlen::BYTES_ID, config, &[])?;
                (vlen::BYTES_ID, ObjectKind::Bytes)
            }
            vlen::ARRAY_ID => {
                let c = Config::new(vlen::ARRAY_ID, config, &["dtype"])?;
                let dtype = c.required_str("dtype")?;
                vlen::check_item_dtype(dtype)?;
                (vlen::ARRAY_ID, ObjectKind::NumericRows(dtype.to_string()))
            }
            json::ID => {
                json::check_config(config)?;
                (json::ID, ObjectKind::Json)
            }
            msgpack::ID => {
                msgpack::check_config(config)?;
                (msgpack::ID, ObjectKind::Json)
            }
            PICKLE_ID => {
                return Err(CodecError::unsupported(
                    PICKLE_ID,
                    "tessera never decodes pickle: unpickling runs arbitrary code from the data; \
                     rewrite the array in Python with object_codec=numcodecs.JSON() or VLenUTF8()",
                ));
            }
            other => {
                return Err(CodecError::new(
                    CodecErrorKind::UnknownCodec,
                    other,
                    "not an object codec",
                ));
            }
        };
        Ok(ObjectCodec {
            id,
            kind,
            config: config.clone(),
        })
    }

    /// The numcodecs id.
    pub fn id(&self) -> &'static str {
        self.id
    }

    /// What the codec stores.
    pub fn kind(&self) -> &ObjectKind {
        &self.kind
    }

    /// The config as read.
    pub fn config(&self) -> &Value {
        &self.config
    }

    /// The numpy type string of `vlen-array` rows; `None` for the other codecs.
    pub fn item_dtype(&self) -> Option<&str> {
        match &self.kind {
            ObjectKind::NumericRows(d) => Some(d),
            _ => None,
        }
    }

    /// Encodes one chunk of `shape` (C order for json2/msgpack2, which nest by the shape; the
    /// vlen codecs write the values flat in the order given).
    ///
    /// # Errors
    /// [`CodecErrorKind::InvalidConfig`] when the values are of the wrong kind for this codec or
    /// their count is not the shape's; [`CodecErrorKind::TooLarge`] for an item over 4 GiB.
    pub fn encode(&self, values: &ObjectValues, shape: &[usize]) -> CodecResult<Vec<u8>> {
        let count = element_count(self.id, shape)?;
        if values.len() != count {
            return Err(CodecError::invalid(
                self.id,
                format!("{} values for a chunk of {count}", values.len()),
            ));
        }
        match (&self.kind, values) {
            (ObjectKind::Text, ObjectValues::Text(v)) => vlen::encode(self.id, v),
            (ObjectKind::Bytes | ObjectKind::NumericRows(_), ObjectValues::Bytes(v)) => {
                if let Some(dtype) = self.item_dtype() {
                    vlen::check_rows(dtype, v)?;
                }
                vlen::encode(self.id, v)
            }
            (ObjectKind::Json, ObjectValues::Json(v)) if self.id == json::ID => {
                json::encode(v, shape)
            }
            (ObjectKind::Json, ObjectValues::Json(v)) => msgpack::encode(v, shape),
            _ => Err(CodecError::invalid(
                self.id,
                "values of another kind than this codec stores",
            )),
        }
    }

    /// Decodes one chunk that must hold exactly `shape`'s element count of values.
    ///
    /// # Errors
    /// [`CodecErrorKind::Corrupt`] for a wrong item count or shape, a length past the end,
    /// invalid UTF-8, a row whose length is not a multiple of its item size, malformed
    /// JSON/msgpack; [`CodecErrorKind::Unsupported`] for JSON values tessera cannot hold
    /// (NaN, infinities, msgpack binary or extension values).
    pub fn decode(&self, encoded: &[u8], shape: &[usize]) -> CodecResult<ObjectValues> {
        let count = element_count(self.id, shape)?;
        match &self.kind {
            ObjectKind::Text => vlen::decode_text(encoded, count).map(ObjectValues::Text),
            ObjectKind::Bytes => {
                vlen::decode_bytes(self.id, encoded, count, 1).map(ObjectValues::Bytes)
            }
            ObjectKind::NumericRows(dtype) => {
                let itemsize = vlen::check_item_dtype(dtype)?;
                vlen::decode_bytes(self.id, encoded, count, itemsize).map(ObjectValues::Bytes)
            }
            ObjectKind::Json if self.id == json::ID => {
                json::decode(encoded, shape).map(ObjectValues::Json)
            }
            ObjectKind::Json => msgpack::decode(encoded, shape).map(ObjectValues::Json),
        }
    }
}

/// The most bytes a compressor may decode to before an object codec reads them, for a chunk
/// of `count` elements: 64 KiB per element, at least 64 MiB and at most 1 GiB. The bound keeps a
/// decompression bomb from taking more memory than a plausible chunk of text would.
pub fn max_decoded_len(count: usize) -> usize {
    count.saturating_mul(64 << 10).clamp(64 << 20, 1 << 30)
}

fn element_count(id: &str, shape: &[usize]) -> CodecResult<usize> {
    shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| CodecError::invalid(id, format!("chunk shape {shape:?} overflows")))
}

/// Splits flat values into nested JSON lists along `shape` (C order), as numpy's `tolist()`.
fn nest(values: &[Value], shape: &[usize]) -> Value {
    match shape.split_first() {
        None => values.first().cloned().unwrap_or(Value::Null),
        Some((_, [])) => Value::Array(values.to_vec()),
        Some((&n, rest)) => {
            let inner: usize = rest.iter().product();
            Value::Array(
                (0..n)
                    .map(|i| nest(&values[i * inner..(i + 1) * inner], rest))
                    .collect(),
            )
        }
    }
}

/// The values of a json2/msgpack2 chunk `doc` (`container`: "a JSON list", ...): numcodecs writes
/// the items, then the dtype (`|O`) and the shape; the shape must hold `count` elements.
fn unpack(id: &str, doc: Value, container: &str, count: usize) -> CodecResult<Vec<Value>> {
    let Value::Array(mut items) = doc else {
        return Err(CodecError::corrupt(
            id,
            format!("the chunk is not {container}"),
        ));
    };
    if items.len() < 2 {
        return Err(CodecError::corrupt(
            id,
            "the chunk lacks its trailing dtype and shape",
        ));
    }
    let stored_shape = items.pop().expect("two items");
    let dtype = items.pop().expect("one item");
    if !dtype.is_string() {
        return Err(CodecError::corrupt(
            id,
            format!("the item before the shape should be the dtype, found {dtype}"),
        ));
    }
    if dtype != json::OBJECT_DTYPE {
        return Err(CodecError::new(
            CodecErrorKind::Unsupported,
            id,
            format!("chunk of numpy dtype {dtype}: only object (|O) chunks are supported"),
        ));
    }
    unnest(id, items, &stored_shape, count)
}

/// The inverse of [`nest`] for the items numcodecs' json2/msgpack2 write: `items` is the list
/// before the trailing dtype and shape; the shape read from the data must have `shape`'s
/// element count (zarr reshapes the decoded values into the chunk shape).
fn unnest(
    id: &str,
    mut items: Vec<Value>,
    stored_shape: &Value,
    count: usize,
) -> CodecResult<Vec<Value>> {
    let corrupt = |m: String| CodecError::corrupt(id, m);
    let dims: Vec<usize> = stored_shape
        .as_array()
        .ok_or_else(|| corrupt(format!("shape {stored_shape} is not a list")))?
        .iter()
        .map(|d| d.as_u64().and_then(|d| usize::try_from(d).ok()))
        .collect::<Option<_>>()
        .ok_or_else(|| corrupt(format!("shape {stored_shape} is not a list of sizes")))?;
    let stored_count = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    if stored_count != Some(count) {
        return Err(corrupt(format!(
            "chunk holds shape {dims:?}, expected {count} elements"
        )));
    }
    if dims.is_empty() {
        // A 0-d chunk: numcodecs writes the one value as the only item.
        return match items.len() {
            1 => Ok(items),
            n => Err(corrupt(format!("a 0-d chunk with {n} items"))),
        };
    }
    let mut out = Vec::with_capacity(count);
    fn walk(id: &str, level: Vec<Value>, dims: &[usize], out: &mut Vec<Value>) -> CodecResult<()> {
        if level.len() != dims[0] {
            return Err(CodecError::corrupt(
                id,
                format!(
                    "a list of {} items where the shape says {}",
                    level.len(),
                    dims[0]
                ),
            ));
        }
        if dims.len() == 1 {
            out.extend(level);
            return Ok(());
        }
        for v in level {
            match v {
                Value::Array(inner) => walk(id, inner, &dims[1..], out)?,
                other => {
                    return Err(CodecError::corrupt(
                        id,
                        format!("expected a nested list along the chunk shape, found {other}"),
                    ));
                }
            }
        }
        Ok(())
    }
    let level = std::mem::take(&mut items);
    walk(id, level, &dims, &mut out)?;
    Ok(out)
}

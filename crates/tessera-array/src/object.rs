//! Element types of object (`|O`) arrays: what a chunk's variable-length values are read into
//! and written from, checked against the array's object codec.
//!
//! | object codec          | element type                         | Python value |
//! |-----------------------|--------------------------------------|--------------|
//! | `vlen-utf8`           | `String`                             | `str`        |
//! | `vlen-bytes`          | `Vec<u8>`                            | `bytes`      |
//! | `vlen-array`          | `ndarray::Array1<T>` (`T` its dtype)  | 1-d ndarray  |
//! | `json2`, `msgpack2`   | `serde_json::Value`                  | any          |
//! | any                   | [`StoredObject`]                     | any          |
//!
//! Missing chunks read as the fill value. For `String` and `Vec<u8>` a `null` or `0` fill reads
//! as empty, as zarr-python 3 reads it (zarr-python 2.18 returns `None`/`0` objects, which
//! numcodecs writes back as empty); `Value` gets the fill JSON itself.

use ndarray::Array1;
use serde_json::Value;
use tessera_codec::object::{ObjectCodec, ObjectKind, ObjectValues};

use crate::dtype::DataType;
use crate::element::Element;
use crate::error::{ArrayError, ArrayResult};

mod sealed {
    pub trait Sealed {}
}

/// A Rust type that the values of an object array are read into and written from (see the
/// table in [the module docs](self)). Sealed: the codec decides the type.
pub trait ObjectElement: Clone + PartialEq + Send + Sync + 'static + sealed::Sealed {
    /// The name used in error messages, e.g. `String`.
    const NAME: &'static str;

    /// True when values of this type are what `codec` stores.
    fn matches(codec: &ObjectCodec) -> bool;

    /// The chunk's decoded values as elements (same order).
    ///
    /// # Errors
    /// [`ArrayError::DataTypeMismatch`] when the values are of another kind.
    fn from_values(values: ObjectValues, codec: &ObjectCodec) -> ArrayResult<Vec<Self>>;

    /// Elements back into the codec's values.
    ///
    /// # Errors
    /// [`ArrayError::DataTypeMismatch`] when `codec` stores another kind.
    fn into_values(items: Vec<Self>, codec: &ObjectCodec) -> ArrayResult<ObjectValues>;

    /// The element a missing chunk holds, given the array's `fill_value` JSON.
    ///
    /// # Errors
    /// [`ArrayError::Metadata`] naming `fill_value` when it has no meaning for this type.
    fn from_fill(fill: &Value, codec: &ObjectCodec) -> ArrayResult<Self>;
}

fn mismatch<T: ObjectElement>(codec: &ObjectCodec) -> ArrayError {
    ArrayError::DataTypeMismatch {
        stored: format!("|O ({})", codec.id()),
        requested: T::NAME.to_string(),
    }
}

fn bad_fill(fill: &Value, what: &str) -> ArrayError {
    ArrayError::Metadata {
        field: "fill_value".into(),
        message: format!("{fill} is not a fill value for {what} elements"),
    }
}

/// The text a missing element of a `vlen-utf8` array holds, given the `fill_value` JSON.
pub(crate) fn text_fill(fill: &Value) -> ArrayResult<String> {
    match fill {
        Value::Null => Ok(String::new()),
        Value::String(s) => Ok(s.clone()),
        // zarr-python 2 stores a fill of 0 as "0" and reads a numeric fill as its text.
        Value::Number(n) => Ok(n.to_string()),
        other => Err(bad_fill(other, "String")),
    }
}

/// The bytes a missing element of a `vlen-bytes` array holds, given the `fill_value` JSON: its
/// text, or a list of byte values (how a Zarr v3 `bytes` fill that is not UTF-8 is kept).
pub(crate) fn bytes_fill(fill: &Value) -> ArrayResult<Vec<u8>> {
    match fill {
        Value::Null => Ok(Vec::new()),
        // numcodecs' vlen-bytes writes a 0 object as b"".
        Value::Number(n) if n.as_f64() == Some(0.0) => Ok(Vec::new()),
        Value::String(s) => Ok(s.as_bytes().to_vec()),
        Value::Array(items) => items
            .iter()
            .map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(|| bad_fill(fill, "bytes")),
        other => Err(bad_fill(other, "bytes")),
    }
}

impl sealed::Sealed for String {}
impl ObjectElement for String {
    const NAME: &'static str = "String";
    fn matches(codec: &ObjectCodec) -> bool {
        *codec.kind() == ObjectKind::Text
    }
    fn from_values(values: ObjectValues, codec: &ObjectCodec) -> ArrayResult<Vec<Self>> {
        match values {
            ObjectValues::Text(v) => Ok(v),
            _ => Err(mismatch::<Self>(codec)),
        }
    }
    fn into_values(items: Vec<Self>, codec: &ObjectCodec) -> ArrayResult<ObjectValues> {
        if !Self::matches(codec) {
            return Err(mismatch::<Self>(codec));
        }
        Ok(ObjectValues::Text(items))
    }
    fn from_fill(fill: &Value, _: &ObjectCodec) -> ArrayResult<Self> {
        text_fill(fill)
    }
}

impl sealed::Sealed for Vec<u8> {}
impl ObjectElement for Vec<u8> {
    const NAME: &'static str = "Vec<u8> (bytes)";
    fn matches(codec: &ObjectCodec) -> bool {
        *codec.kind() == ObjectKind::Bytes
    }
    fn from_values(values: ObjectValues, codec: &ObjectCodec) -> ArrayResult<Vec<Self>> {
        match values {
            ObjectValues::Bytes(v) if Self::matches(codec) => Ok(v),
            _ => Err(mismatch::<Self>(codec)),
        }
    }
    fn into_values(items: Vec<Self>, codec: &ObjectCodec) -> ArrayResult<ObjectValues> {
        if !Self::matches(codec) {
            return Err(mismatch::<Self>(codec));
        }
        Ok(ObjectValues::Bytes(items))
    }
    fn from_fill(fill: &Value, _: &ObjectCodec) -> ArrayResult<Self> {
        bytes_fill(fill)
    }
}

impl sealed::Sealed for Value {}
impl ObjectElement for Value {
    const NAME: &'static str = "serde_json::Value";
    fn matches(codec: &ObjectCodec) -> bool {
        *codec.kind() == ObjectKind::Json
    }
    fn from_values(values: ObjectValues, codec: &ObjectCodec) -> ArrayResult<Vec<Self>> {
        match values {
            ObjectValues::Json(v) => Ok(v),
            _ => Err(mismatch::<Self>(codec)),
        }
    }
    fn into_values(items: Vec<Self>, codec: &ObjectCodec) -> ArrayResult<ObjectValues> {
        if !Self::matches(codec) {
            return Err(mismatch::<Self>(codec));
        }
        Ok(ObjectValues::Json(items))
    }
    fn from_fill(fill: &Value, _: &ObjectCodec) -> ArrayResult<Self> {
        Ok(fill.clone())
    }
}

/// The stored numpy type of a `vlen-array` codec's rows.
fn row_dtype(codec: &ObjectCodec) -> Option<DataType> {
    DataType::parse_typestr(codec.item_dtype()?).ok()
}

impl<T: Element + PartialEq> sealed::Sealed for Array1<T> {}
impl<T: Element + PartialEq> ObjectElement for Array1<T> {
    const NAME: &'static str = "Array1 (ragged row)";
    fn matches(codec: &ObjectCodec) -> bool {
        row_dtype(codec).is_some_and(|d| T::matches(&d))
    }
    fn from_values(values: ObjectValues, codec: &ObjectCodec) -> ArrayResult<Vec<Self>> {
        let (ObjectValues::Bytes(rows), Some(dtype)) = (values, row_dtype(codec)) else {
            return Err(mismatch::<Self>(codec));
        };
        if !T::matches(&dtype) {
            return Err(mismatch::<Self>(codec));
        }
        let itemsize = dtype.itemsize();
        rows.into_iter()
            .map(|mut raw| {
                dtype.swap_to_native(&mut raw);
                let v = T::collect(raw.len() / itemsize, |b| {
                    b.copy_from_slice(&raw);
                    Ok(())
                })?;
                Ok(Array1::from_vec(v))
            })
            .collect()
    }
    fn into_values(items: Vec<Self>, codec: &ObjectCodec) -> ArrayResult<ObjectValues> {
        let dtype = row_dtype(codec)
            .filter(|d| T::matches(d))
            .ok_or_else(|| mismatch::<Self>(codec))?;
        Ok(ObjectValues::Bytes(
            items
                .iter()
                .map(|row| {
                    let elems: Vec<T> = row.iter().copied().collect();
                    let mut raw = T::as_bytes(&elems).to_vec();
                    dtype.swap_to_native(&mut raw);
                    raw
                })
                .collect(),
        ))
    }
    fn from_fill(fill: &Value, _: &ObjectCodec) -> ArrayResult<Self> {
        match fill {
            Value::Null => Ok(Array1::from_vec(Vec::new())),
            Value::Number(n) if n.as_f64() == Some(0.0) => Ok(Array1::from_vec(Vec::new())),
            other => Err(bad_fill(other, "ragged row")),
        }
    }
}

/// Any object codec's value in its stored form, for code that does not know the element type
/// (filling, resizing, copying between arrays): text, bytes and JSON as they are, `vlen-array`
/// rows as their raw bytes in the codec's dtype (stored byte order).
#[derive(Clone, Debug, PartialEq)]
pub enum StoredObject {
    /// A `vlen-utf8` value.
    Text(String),
    /// A `vlen-bytes` value, or a `vlen-array` row's raw bytes.
    Bytes(Vec<u8>),
    /// A `json2` or `msgpack2` value.
    Json(Value),
}

impl sealed::Sealed for StoredObject {}
impl ObjectElement for StoredObject {
    const NAME: &'static str = "stored item";
    fn matches(_: &ObjectCodec) -> bool {
        true
    }
    fn from_values(values: ObjectValues, _: &ObjectCodec) -> ArrayResult<Vec<Self>> {
        Ok(match values {
            ObjectValues::Text(v) => v.into_iter().map(StoredObject::Text).collect(),
            ObjectValues::Bytes(v) => v.into_iter().map(StoredObject::Bytes).collect(),
            ObjectValues::Json(v) => v.into_iter().map(StoredObject::Json).collect(),
        })
    }
    fn into_values(items: Vec<Self>, codec: &ObjectCodec) -> ArrayResult<ObjectValues> {
        let wrong = || mismatch::<Self>(codec);
        Ok(match codec.kind() {
            ObjectKind::Text => ObjectValues::Text(
                items
                    .into_iter()
                    .map(|i| match i {
                        StoredObject::Text(s) => Ok(s),
                        _ => Err(wrong()),
                    })
                    .collect::<ArrayResult<_>>()?,
            ),
            ObjectKind::Bytes | ObjectKind::NumericRows(_) => ObjectValues::Bytes(
                items
                    .into_iter()
                    .map(|i| match i {
                        StoredObject::Bytes(b) => Ok(b),
                        _ => Err(wrong()),
                    })
                    .collect::<ArrayResult<_>>()?,
            ),
            ObjectKind::Json => ObjectValues::Json(
                items
                    .into_iter()
                    .map(|i| match i {
                        StoredObject::Json(v) => Ok(v),
                        _ => Err(wrong()),
                    })
                    .collect::<ArrayResult<_>>()?,
            ),
        })
    }
    fn from_fill(fill: &Value, codec: &ObjectCodec) -> ArrayResult<Self> {
        Ok(match codec.kind() {
            ObjectKind::Text => StoredObject::Text(String::from_fill(fill, codec)?),
            ObjectKind::Bytes => StoredObject::Bytes(Vec::<u8>::from_fill(fill, codec)?),
            ObjectKind::NumericRows(_) => match fill {
                Value::Null => StoredObject::Bytes(Vec::new()),
                Value::Number(n) if n.as_f64() == Some(0.0) => StoredObject::Bytes(Vec::new()),
                other => return Err(bad_fill(other, "ragged row")),
            },
            ObjectKind::Json => StoredObject::Json(fill.clone()),
        })
    }
}

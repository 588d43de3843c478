//! `.zarray`, `.zgroup` and `.zmetadata` documents.
//!
//! Parsing validates every field and names the one at fault; the document as read is kept, so rewriting
//! it (after a resize, say) preserves fields this crate does not know, in their original order.
//!
//! ```
//! use tessera_array::{ArrayMetadata, Order};
//!
//! let doc = br#"{"zarr_format": 2, "shape": [10, 7], "chunks": [4, 4], "dtype": "<i4",
//!   "compressor": null, "fill_value": 0, "order": "F", "filters": null, "custom": "kept"}"#;
//! let meta = ArrayMetadata::parse(doc).unwrap();
//! assert_eq!(meta.order, Order::F);
//! assert_eq!(meta.to_json()["custom"], "kept");
//! let err = ArrayMetadata::parse(br#"{"zarr_format": 2, "shape": [10], "chunks": [0]}"#).unwrap_err();
//! assert!(err.to_string().contains("chunks"));
//! ```

use serde_json::{Map, Value};

use crate::dtype::DataType;
use crate::error::{ArrayError, ArrayResult};
use crate::fill_value::FillValue;

/// Memory layout of the elements inside each chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Order {
    /// Row-major: the last axis varies fastest.
    #[default]
    C,
    /// Column-major: the first axis varies fastest.
    F,
}

impl Order {
    /// The axes of a buffer of `rank` dimensions in this order, slowest varying first.
    pub fn axes(self, rank: usize) -> Vec<usize> {
        match self {
            Order::C => (0..rank).collect(),
            Order::F => (0..rank).rev().collect(),
        }
    }
}

/// The character between chunk indices in a chunk key: `0.3.1` or `0/3/1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Separator {
    /// `.`: flat keys, the Zarr v2 default.
    #[default]
    Dot,
    /// `/`: nested keys, one directory level per axis.
    Slash,
}

impl Separator {
    /// The separator character.
    pub fn as_char(self) -> char {
        match self {
            Separator::Dot => '.',
            Separator::Slash => '/',
        }
    }
}

/// Which Zarr format a node is stored in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub enum ZarrFormat {
    /// Zarr v2: `.zarray`, `.zgroup`, `.zattrs`.
    #[default]
    V2,
    /// Zarr v3: `zarr.json`.
    V3,
}

impl ZarrFormat {
    /// The format's number: 2 or 3.
    pub fn number(self) -> u8 {
        match self {
            ZarrFormat::V2 => 2,
            ZarrFormat::V3 => 3,
        }
    }
}

/// How chunk grid coordinates become a chunk key (with the [`Separator`] between coordinates).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum KeyEncoding {
    /// `1.0.3` (or `1/0/3`); `0` for a 0-d array: every v2 array, and v3's `v2` encoding.
    #[default]
    V2,
    /// `c/1/0/3` (or `c.1.0.3`); `c` for a 0-d array: v3's `default` encoding.
    Default,
}

/// Largest decoded chunk accepted when opening an array (16 GiB): larger chunks come from corrupt or
/// hostile metadata, and reading one would need a buffer of that size.
pub const MAX_CHUNK_BYTES: u64 = 1 << 34;
/// Most dimensions an array may have.
pub const MAX_RANK: usize = 64;

/// The validated content of a `.zarray` document.
#[derive(Clone, Debug)]
pub struct ArrayMetadata {
    /// Extent of each axis.
    pub shape: Vec<u64>,
    /// Extent of a chunk along each axis (all > 0).
    pub chunks: Vec<u64>,
    /// The element type.
    pub dtype: DataType,
    /// What missing chunks read as.
    pub fill_value: FillValue,
    /// Element order inside chunks (for a Zarr v3 `transpose` by a permutation that is neither C
    /// nor F: `C`, and [`chunk_axis_order`](Self::chunk_axis_order) gives the permutation).
    pub order: Order,
    /// Chunk key separator.
    pub separator: Separator,
    /// The `compressor` config (`None` for `null`).
    pub compressor: Option<Value>,
    /// The `filters` configs (`None` for `null`).
    pub filters: Option<Vec<Value>>,
    /// The format the metadata was read from or is written in.
    pub format: ZarrFormat,
    /// How chunk keys are spelled (v2 arrays: always [`KeyEncoding::V2`]).
    pub key_encoding: KeyEncoding,
    /// v3 `dimension_names`: one optional name per axis (`None` when absent; always `None` in v2).
    pub dimension_names: Option<Vec<Option<String>>>,
    /// v3: how chunks are encoded, parsed from `codecs` (the v2 fields `compressor` and `filters` are then
    /// `None`).
    pub(crate) encoding: Option<crate::v3::ChunkEncoding>,
    pub(crate) raw: Map<String, Value>,
}

fn field_err(field: &str, msg: impl Into<String>) -> ArrayError {
    ArrayError::metadata(field, msg)
}

pub(crate) fn u64_list(doc: &Map<String, Value>, field: &str) -> ArrayResult<Vec<u64>> {
    let v = doc.get(field).ok_or_else(|| field_err(field, "missing"))?;
    let items = v
        .as_array()
        .ok_or_else(|| field_err(field, format!("expected a list of integers, found {v}")))?;
    if items.len() > MAX_RANK {
        return Err(field_err(
            field,
            format!(
                "{} dimensions; at most {MAX_RANK} are supported",
                items.len()
            ),
        ));
    }
    items
        .iter()
        .map(|x| {
            x.as_u64()
                .ok_or_else(|| field_err(field, format!("{x} is not a non-negative integer")))
        })
        .collect()
}

impl ArrayMetadata {
    /// Parses and validates a `.zarray` document.
    ///
    /// # Errors
    /// [`ArrayError::Metadata`] naming the field at fault: `zarr_format` other than 2, `shape`/`chunks`
    /// that are negative, of different lengths or zero-sized, an unknown `dtype`, a `fill_value` that does
    /// not fit the dtype, an unknown `order` or `dimension_separator`, malformed `compressor`/`filters`.
    pub fn parse(bytes: &[u8]) -> ArrayResult<ArrayMetadata> {
        let value: Value = serde_json::from_slice(bytes)
            .map_err(|e| field_err(".zarray", format!("not valid JSON: {e}")))?;
        Self::from_json(&value)
    }

    /// Validates a `.zarray` document already parsed as JSON (e.g. from `.zmetadata`).
    ///
    /// # Errors
    /// As [`ArrayMetadata::parse`].
    pub fn from_json(value: &Value) -> ArrayResult<ArrayMetadata> {
        let doc = value
            .as_object()
            .ok_or_else(|| field_err(".zarray", "expected a JSON object"))?;
        match doc.get("zarr_format") {
            Some(v) if v.as_u64() == Some(2) => {}
            Some(v) => return Err(field_err("zarr_format", format!("expected 2, found {v}"))),
            None => return Err(field_err("zarr_format", "missing")),
        }
        let shape = u64_list(doc, "shape")?;
        let chunks = u64_list(doc, "chunks")?;
        if chunks.len() != shape.len() {
            return Err(field_err(
                "chunks",
                format!(
                    "has {} dimensions but shape has {}",
                    chunks.len(),
                    shape.len()
                ),
            ));
        }
        if let Some(axis) = chunks.iter().position(|&c| c == 0) {
            return Err(field_err(
                "chunks",
                format!("axis {axis} has a chunk size of 0"),
            ));
        }
        let dtype = DataType::from_json(
            doc.get("dtype")
                .ok_or_else(|| field_err("dtype", "missing"))?,
        )?;
        let chunk_bytes = chunks
            .iter()
            .try_fold(dtype.itemsize() as u64, |a, &c| a.checked_mul(c))
            .filter(|&b| b <= MAX_CHUNK_BYTES)
            .ok_or_else(|| {
                field_err(
                    "chunks",
                    format!("a chunk would exceed {MAX_CHUNK_BYTES} bytes"),
                )
            })?;
        let _ = chunk_bytes;
        let fill_value =
            FillValue::from_json(doc.get("fill_value").unwrap_or(&Value::Null), &dtype)?;
        let order = match doc.get("order") {
            None => Order::C,
            Some(Value::String(s)) if s == "C" => Order::C,
            Some(Value::String(s)) if s == "F" => Order::F,
            Some(v) => {
                return Err(field_err(
                    "order",
                    format!("expected \"C\" or \"F\", found {v}"),
                ));
            }
        };
        let separator = match doc.get("dimension_separator") {
            None | Some(Value::Null) => Separator::Dot,
            Some(Value::String(s)) if s == "." => Separator::Dot,
            Some(Value::String(s)) if s == "/" => Separator::Slash,
            Some(v) => {
                return Err(field_err(
                    "dimension_separator",
                    format!("expected \".\" or \"/\", found {v}"),
                ));
            }
        };
        let compressor = match doc.get("compressor") {
            None | Some(Value::Null) => None,
            Some(v @ Value::Object(o)) if o.get("id").is_some_and(Value::is_string) => {
                Some(v.clone())
            }
            Some(v) => {
                return Err(field_err(
                    "compressor",
                    format!("expected null or a codec config with an \"id\", found {v}"),
                ));
            }
        };
        let filters = match doc.get("filters") {
            None | Some(Value::Null) => None,
            Some(Value::Array(list)) => {
                for f in list {
                    if !f
                        .as_object()
                        .is_some_and(|o| o.get("id").is_some_and(Value::is_string))
                    {
                        return Err(field_err(
                            "filters",
                            format!("expected codec configs with an \"id\", found {f}"),
                        ));
                    }
                }
                Some(list.clone())
            }
            Some(v) => {
                return Err(field_err(
                    "filters",
                    format!("expected null or a list, found {v}"),
                ));
            }
        };
        Ok(ArrayMetadata {
            shape,
            chunks,
            dtype,
            fill_value,
            order,
            separator,
            compressor,
            filters,
            format: ZarrFormat::V2,
            key_encoding: KeyEncoding::V2,
            dimension_names: None,
            encoding: None,
            raw: doc.clone(),
        })
    }

    /// Metadata for a new array with the plainest values for every field not given: order C,
    /// separator `.`, no compressor, no filters, fill value `null`. (These are not zarr-python's
    /// defaults, which compress with blosc-lz4 and fill with 0; [`ArrayBuilder`](crate::ArrayBuilder)
    /// starts from blosc-lz4.)
    ///
    /// # Errors
    /// [`ArrayError::Metadata`] on the same conditions as [`ArrayMetadata::parse`].
    pub fn new(shape: Vec<u64>, chunks: Vec<u64>, dtype: DataType) -> ArrayResult<ArrayMetadata> {
        let fill_value = FillValue::null(&dtype);
        let mut meta = ArrayMetadata {
            shape,
            chunks,
            dtype,
            fill_value,
            order: Order::C,
            separator: Separator::Dot,
            compressor: None,
            filters: None,
            format: ZarrFormat::V2,
            key_encoding: KeyEncoding::V2,
            dimension_names: None,
            encoding: None,
            raw: Map::new(),
        };
        meta.raw = meta.canonical_fields();
        Self::from_json(&Value::Object(meta.raw.clone()))
    }

    fn canonical_fields(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("chunks".into(), Value::from(self.chunks.clone()));
        m.insert(
            "compressor".into(),
            self.compressor.clone().unwrap_or(Value::Null),
        );
        m.insert(
            "dimension_separator".into(),
            Value::from(self.separator.as_char().to_string()),
        );
        m.insert("dtype".into(), self.dtype.to_json());
        m.insert("fill_value".into(), self.fill_value.to_json());
        m.insert(
            "filters".into(),
            self.filters.clone().map_or(Value::Null, Value::from),
        );
        m.insert(
            "order".into(),
            Value::from(if self.order == Order::C { "C" } else { "F" }),
        );
        m.insert("shape".into(), Value::from(self.shape.clone()));
        m.insert("zarr_format".into(), Value::from(2));
        m
    }

    /// The metadata document (`.zarray`, or `zarr.json` for v3): the one read, with the fields this type
    /// owns updated to their current values. Unknown fields are kept in place.
    pub fn to_json(&self) -> Value {
        if self.format == ZarrFormat::V3 {
            return crate::v3::array_to_json(self);
        }
        let mut out = self.raw.clone();
        for (k, v) in self.canonical_fields() {
            // Keep an absent `dimension_separator` absent when it is the default, as older writers did.
            if k == "dimension_separator"
                && !self.raw.contains_key(&k)
                && self.separator == Separator::Dot
            {
                continue;
            }
            out.insert(k, v);
        }
        Value::Object(out)
    }

    /// The document as pretty-printed JSON bytes, as zarr-python writes it.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self.format {
            ZarrFormat::V2 => pretty_json(&self.to_json()),
            ZarrFormat::V3 => pretty_json_v3(&self.to_json()),
        }
    }

    /// The name of the metadata document in the node: `.zarray` or `zarr.json`.
    pub fn document_name(&self) -> &'static str {
        match self.format {
            ZarrFormat::V2 => ".zarray",
            ZarrFormat::V3 => "zarr.json",
        }
    }

    /// The shard shape of a sharded v3 array (the chunk grid's chunk shape); `None` when not sharded.
    pub fn shard_shape(&self) -> Option<&[u64]> {
        match &self.encoding {
            Some(crate::v3::ChunkEncoding::Sharded(_)) => Some(&self.chunks),
            _ => None,
        }
    }

    /// The shape of the chunks that are encoded one by one: the inner chunk shape of a sharded array,
    /// [`chunks`](Self::chunks) otherwise.
    pub fn inner_chunk_shape(&self) -> &[u64] {
        match &self.encoding {
            Some(crate::v3::ChunkEncoding::Sharded(s)) => &s.chunk_shape,
            _ => &self.chunks,
        }
    }

    /// The v3 `codecs` list as stored; `None` for v2 arrays.
    pub fn codecs_json(&self) -> Option<&Value> {
        match self.format {
            ZarrFormat::V2 => None,
            ZarrFormat::V3 => self.raw.get("codecs"),
        }
    }

    /// Number of dimensions.
    pub fn rank(&self) -> usize {
        self.shape.len()
    }

    /// The order of a chunk's axes in its stored elements, slowest varying first: `[0, 1, ..]` for
    /// C order, its reverse for F, and a Zarr v3 `transpose`'s permutation as written (a sharded
    /// array's shards are assembled in C order; their inner chunks keep their own).
    pub fn chunk_axis_order(&self) -> Vec<usize> {
        match &self.encoding {
            Some(crate::v3::ChunkEncoding::Plain { order, .. }) => order.clone(),
            _ => self.order.axes(self.rank()),
        }
    }

    /// Bytes of one decoded chunk (every chunk, edge chunks included, is stored at full size).
    pub fn chunk_bytes(&self) -> usize {
        self.chunk_elements() as usize * self.dtype.itemsize()
    }

    /// Elements in one chunk.
    pub fn chunk_elements(&self) -> u64 {
        self.chunks.iter().product()
    }

    /// Number of chunks along each axis.
    pub fn grid_shape(&self) -> Vec<u64> {
        self.shape
            .iter()
            .zip(&self.chunks)
            .map(|(&s, &c)| s.div_ceil(c))
            .collect()
    }
}

/// Serialises JSON the way zarr-python does: indented by four spaces, keys in document order.
pub fn pretty_json(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    serde::Serialize::serialize(value, &mut ser)
        .expect("serialising a JSON value to memory cannot fail");
    out
}

/// Serialises JSON the way zarr-python 3 writes `zarr.json`: indented by two spaces, keys in document
/// order.
pub fn pretty_json_v3(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"  ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    serde::Serialize::serialize(value, &mut ser)
        .expect("serialising a JSON value to memory cannot fail");
    out
}

/// Validates a `.zgroup` document.
///
/// # Errors
/// [`ArrayError::Metadata`] when it is not an object with `zarr_format` 2.
pub fn parse_group(bytes: &[u8]) -> ArrayResult<Map<String, Value>> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| field_err(".zgroup", format!("not valid JSON: {e}")))?;
    check_group(&value)
}

pub(crate) fn check_group(value: &Value) -> ArrayResult<Map<String, Value>> {
    let doc = value
        .as_object()
        .ok_or_else(|| field_err(".zgroup", "expected a JSON object"))?;
    match doc.get("zarr_format") {
        Some(v) if v.as_u64() == Some(2) => Ok(doc.clone()),
        Some(v) => Err(field_err("zarr_format", format!("expected 2, found {v}"))),
        None => Err(field_err("zarr_format", "missing")),
    }
}

/// Validates a `.zattrs` document: a JSON object.
///
/// # Errors
/// [`ArrayError::Metadata`] when it is not a JSON object.
pub fn parse_attributes(bytes: &[u8]) -> ArrayResult<Map<String, Value>> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| field_err(".zattrs", format!("not valid JSON: {e}")))?;
    match value {
        Value::Object(m) => Ok(m),
        other => Err(field_err(
            ".zattrs",
            format!("expected a JSON object, found {other}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> ArrayResult<ArrayMetadata> {
        ArrayMetadata::parse(s.as_bytes())
    }

    const BASE: &str = r#"{"zarr_format":2,"shape":[10,7],"chunks":[4,4],"dtype":"<f8","compressor":{"id":"zstd","level":3},"fill_value":"NaN","order":"C","filters":null,"dimension_separator":"/"}"#;

    #[test]
    fn parses_and_rewrites_faithfully() {
        let meta = parse(BASE).unwrap();
        assert_eq!(meta.grid_shape(), vec![3, 2]);
        assert_eq!(meta.separator, Separator::Slash);
        let back: Value = serde_json::from_str(BASE).unwrap();
        assert_eq!(meta.to_json(), back);
        let keys: Vec<_> = meta
            .to_json()
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(keys[0], "zarr_format");
    }

    #[test]
    fn errors_name_the_field() {
        for (doc, field) in [
            (
                BASE.replace("\"zarr_format\":2", "\"zarr_format\":3"),
                "zarr_format",
            ),
            (BASE.replace("[10,7]", "[10,-7]"), "shape"),
            (BASE.replace("[4,4]", "[4]"), "chunks"),
            (BASE.replace("[4,4]", "[4,0]"), "chunks"),
            (BASE.replace("<f8", "<x8"), "dtype"),
            (BASE.replace("\"NaN\"", "\"abc\""), "fill_value"),
            (BASE.replace("\"C\"", "\"K\""), "order"),
            (BASE.replace("\"/\"", "\"-\""), "dimension_separator"),
            (
                BASE.replace("{\"id\":\"zstd\",\"level\":3}", "5"),
                "compressor",
            ),
            (
                BASE.replace("\"filters\":null", "\"filters\":{}"),
                "filters",
            ),
            (BASE.replace("[4,4]", "[4294967296,4294967296]"), "chunks"),
            ("[1,2]".to_string(), ".zarray"),
            ("{".to_string(), ".zarray"),
        ] {
            match parse(&doc) {
                Err(ArrayError::Metadata { field: f, .. }) => assert_eq!(f, field, "{doc}"),
                other => panic!("{doc}: expected a metadata error on {field}, got {other:?}"),
            }
        }
    }

    #[test]
    fn new_metadata_matches_zarr_python_layout() {
        let meta =
            ArrayMetadata::new(vec![5], vec![2], DataType::parse_typestr("<i2").unwrap()).unwrap();
        let text = String::from_utf8(meta.to_bytes()).unwrap();
        assert!(
            text.contains("\n    \"chunks\": [\n        2\n    ],"),
            "{text}"
        );
    }
}

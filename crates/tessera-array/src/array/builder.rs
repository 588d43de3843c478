//! [`ArrayBuilder`]: the options of a new array.

use std::sync::Arc;

use serde_json::{Map, Value};
use tessera_store::{Bytes, Store};

use super::Array;
use crate::dtype::DataType;
use crate::error::{ArrayError, ArrayResult};
use crate::metadata::{ArrayMetadata, Order, Separator, ZarrFormat};
use crate::node::NodePath;

/// Options for a new array; [`create`](ArrayBuilder::create) writes its `.zarray`.
///
/// ```
/// # use std::sync::Arc;
/// use tessera_array::{ArrayBuilder, DataType, Order};
/// use tessera_store::MemoryStore;
/// use serde_json::json;
///
/// let store = Arc::new(MemoryStore::new());
/// let arr = ArrayBuilder::new(vec![100, 100], vec![10, 100], DataType::parse_typestr("<f4")?)
///     .compressor(Some(json!({"id": "zstd", "level": 3})))
///     .fill_value(json!("NaN"))
///     .order(Order::F)
///     .create(store, "group/temperature")?;
/// assert!(arr.read::<f32>("0, 0")?.iter().all(|v| v.is_nan()));
/// # Ok::<(), tessera_array::ArrayError>(())
/// ```
#[derive(Clone, Debug)]
pub struct ArrayBuilder {
    shape: Vec<u64>,
    chunks: Vec<u64>,
    dtype: DataType,
    compressor: Option<Value>,
    filters: Option<Vec<Value>>,
    fill_value: Value,
    order: Order,
    separator: Separator,
    attributes: Option<Map<String, Value>>,
    overwrite: bool,
    write_empty_chunks: bool,
    format: u8,
    compressor_set: bool,
    separator_set: bool,
    shards: Option<Vec<u64>>,
    dimension_names: Option<Vec<Option<String>>>,
}

/// zarr-python 2's default compressor: blosc with lz4, level 5, byte shuffle.
pub fn default_compressor() -> Value {
    serde_json::json!({"blocksize": 0, "clevel": 5, "cname": "lz4", "id": "blosc", "shuffle": 1})
}

impl ArrayBuilder {
    /// A new array of `shape`, split into chunks of `chunks`, holding `dtype`. Defaults: zarr-python 2's
    /// blosc-lz4 compressor ([`default_compressor`]), no filters, fill value `null` (zarr-python 2
    /// would write 0), order C, separator `.`, no attributes, no overwrite, and chunks equal to the
    /// fill value not stored (with a `null` fill every written chunk is stored).
    pub fn new(shape: Vec<u64>, chunks: Vec<u64>, dtype: DataType) -> ArrayBuilder {
        ArrayBuilder {
            shape,
            chunks,
            dtype,
            compressor: Some(default_compressor()),
            filters: None,
            fill_value: Value::Null,
            order: Order::C,
            separator: Separator::Dot,
            attributes: None,
            overwrite: false,
            write_empty_chunks: false,
            format: 2,
            compressor_set: false,
            separator_set: false,
            shards: None,
            dimension_names: None,
        }
    }

    /// The format to write: `2` (`.zarray`, the default) or `3` (`zarr.json`). A v3 array whose
    /// compressor was not chosen gets zarr-python 3's default, zstd level 0, and `default` chunk keys
    /// (`c/0/1`) unless a separator was chosen.
    ///
    /// # Errors
    /// Deferred to [`create`](Self::create)/[`metadata`](Self::metadata): any other number is a
    /// metadata error naming `zarr_format`.
    pub fn zarr_format(mut self, format: u8) -> Self {
        self.format = format;
        self
    }

    /// Shards of this shape (v3 only): each stored object holds a grid of chunks (the builder's chunk
    /// shape, which must divide the shard shape) and an index of them, at its end, with a crc32c.
    pub fn shards(mut self, shape: Vec<u64>) -> Self {
        self.shards = Some(shape);
        self
    }

    /// Names of the dimensions (v3 only; `None` for an unnamed one).
    pub fn dimension_names(mut self, names: Vec<Option<String>>) -> Self {
        self.dimension_names = Some(names);
        self
    }

    /// The compressor config (`None` for uncompressed).
    pub fn compressor(mut self, config: Option<Value>) -> Self {
        self.compressor = config;
        self.compressor_set = true;
        self
    }

    /// The filter configs, applied in order before the compressor.
    pub fn filters(mut self, configs: Option<Vec<Value>>) -> Self {
        self.filters = configs.filter(|f| !f.is_empty());
        self
    }

    /// The fill value, in `.zarray`'s JSON encoding for the dtype.
    pub fn fill_value(mut self, value: Value) -> Self {
        self.fill_value = value;
        self
    }

    /// Element order inside chunks.
    pub fn order(mut self, order: Order) -> Self {
        self.order = order;
        self
    }

    /// Chunk key separator.
    pub fn separator(mut self, separator: Separator) -> Self {
        self.separator = separator;
        self.separator_set = true;
        self
    }

    /// Attributes written to `.zattrs`.
    pub fn attributes(mut self, attrs: Map<String, Value>) -> Self {
        self.attributes = Some(attrs);
        self
    }

    /// Replace an existing array or group at the path (its keys are erased first).
    pub fn overwrite(mut self, yes: bool) -> Self {
        self.overwrite = yes;
        self
    }

    /// See [`Array::set_write_empty_chunks`].
    pub fn write_empty_chunks(mut self, yes: bool) -> Self {
        self.write_empty_chunks = yes;
        self
    }

    /// The metadata this builder describes, validated.
    ///
    /// # Errors
    /// [`ArrayError::Metadata`](crate::ArrayError::Metadata) naming the invalid field.
    pub fn metadata(&self) -> ArrayResult<ArrayMetadata> {
        match self.format {
            2 => {}
            3 => return self.metadata_v3(),
            other => {
                return Err(ArrayError::metadata(
                    "zarr_format",
                    format!("expected 2 or 3, found {other}"),
                ));
            }
        }
        if self.shards.is_some() || self.dimension_names.is_some() {
            return Err(ArrayError::metadata(
                "zarr_format",
                "shards and dimension names need zarr_format(3)",
            ));
        }
        let mut doc =
            ArrayMetadata::new(self.shape.clone(), self.chunks.clone(), self.dtype.clone())?
                .to_json();
        let obj = doc.as_object_mut().expect("metadata is an object");
        obj.insert(
            "compressor".into(),
            self.compressor.clone().unwrap_or(Value::Null),
        );
        obj.insert(
            "filters".into(),
            self.filters.clone().map_or(Value::Null, Value::from),
        );
        obj.insert("fill_value".into(), self.fill_value.clone());
        obj.insert(
            "order".into(),
            Value::from(if self.order == Order::C { "C" } else { "F" }),
        );
        obj.insert(
            "dimension_separator".into(),
            Value::from(self.separator.as_char().to_string()),
        );
        ArrayMetadata::from_json(&doc)
    }

    fn metadata_v3(&self) -> ArrayResult<ArrayMetadata> {
        // Validate shape, chunks and dtype the v2 way first: the same rules hold.
        ArrayMetadata::new(self.shape.clone(), self.chunks.clone(), self.dtype.clone())?;
        let dtype = &self.dtype;
        let fill = crate::v3::fill_value_from_json(&self.fill_value, dtype)?;
        let compressor = if self.compressor_set {
            self.compressor.clone()
        } else {
            Some(serde_json::json!({"id": "zstd", "level": 0, "checksum": false}))
        };
        let mut chunk_codecs = Vec::new();
        if self.order == Order::F && self.shape.len() > 1 {
            let perm: Vec<usize> = (0..self.shape.len()).rev().collect();
            chunk_codecs
                .push(serde_json::json!({"name": "transpose", "configuration": {"order": perm}}));
        }
        // An object array's first filter is its object codec: v3's array→bytes step.
        let object_codec = match (dtype.is_object(), self.filters.as_deref()) {
            (false, _) => None,
            (true, Some([first, rest @ ..])) => {
                let id = first["id"].as_str().unwrap_or_default();
                crate::v3::object_data_type_to_json(id)?;
                if !rest.is_empty() {
                    return Err(ArrayError::unsupported(
                        format!("codec {id}"),
                        "filters after a variable-length codec in Zarr v3",
                    ));
                }
                Some(id)
            }
            (true, _) => {
                return Err(ArrayError::metadata(
                    "filters",
                    "an object (|O) array needs vlen-utf8 or vlen-bytes as its first filter",
                ));
            }
        };
        let (array_filters, byte_filters): (Vec<&Value>, Vec<&Value>) = self
            .filters
            .iter()
            .flatten()
            .filter(|_| object_codec.is_none())
            .partition(|f| {
                [
                    "delta",
                    "fixedscaleoffset",
                    "quantize",
                    "astype",
                    "bitround",
                    "packbits",
                    "categorize",
                ]
                .contains(&f["id"].as_str().unwrap_or(""))
            });
        for f in array_filters {
            chunk_codecs.push(crate::v3::v3_codec_of(f)?);
        }
        chunk_codecs.push(match object_codec {
            Some(id) => serde_json::json!({"name": id, "configuration": {}}),
            None => crate::v3::bytes_codec(dtype),
        });
        for f in byte_filters.into_iter().chain(compressor.as_ref()) {
            let mut codec = crate::v3::v3_codec_of(f)?;
            if codec["name"] == "blosc" {
                // numcodecs hands an object codec's output to blosc as bytes.
                let typesize = if object_codec.is_some() {
                    1
                } else {
                    dtype.itemsize()
                };
                codec["configuration"]["typesize"] = Value::from(typesize);
            }
            chunk_codecs.push(codec);
        }
        let (grid, codecs) = match &self.shards {
            None => (self.chunks.clone(), chunk_codecs),
            Some(shards) => (
                shards.clone(),
                vec![
                    serde_json::json!({"name": "sharding_indexed", "configuration": {
                        "chunk_shape": self.chunks,
                        "codecs": chunk_codecs,
                        "index_codecs": [
                            {"name": "bytes", "configuration": {"endian": "little"}},
                            {"name": "crc32c"}
                        ],
                        "index_location": "end"
                    }}),
                ],
            ),
        };
        let separator = if self.separator_set {
            self.separator
        } else {
            Separator::Slash
        };
        let doc = crate::v3::new_array_json(
            &self.shape,
            &grid,
            dtype,
            object_codec,
            &fill,
            codecs,
            separator,
            self.attributes.as_ref().unwrap_or(&Map::new()),
            self.dimension_names.as_deref(),
        )?;
        ArrayMetadata::from_v3_json(&doc)
    }

    /// Creates the array at `path`, creating missing parent groups.
    ///
    /// # Errors
    /// [`ArrayError::AlreadyExists`](crate::ArrayError::AlreadyExists) when a node is there and `overwrite` is off; metadata, codec and store
    /// errors.
    pub fn create(self, store: Arc<dyn Store>, path: &str) -> ArrayResult<Array> {
        let meta = self.metadata()?;
        let path = NodePath::new(path)?;
        let mut array = Array::from_metadata(store.clone(), path.clone(), meta)?;
        crate::group::prepare_node_in(&store, &path, self.overwrite, array.meta.format)?;
        store.set(
            &path.key(array.meta.document_name())?,
            Bytes::from(array.meta.to_bytes()),
        )?;
        // v3 attributes live in zarr.json, written above; v2's in .zattrs (consolidated below, once).
        if let (Some(attrs), ZarrFormat::V2) = (&self.attributes, array.meta.format) {
            let bytes = crate::metadata::pretty_json(&Value::Object(attrs.clone()));
            store.set(&path.key(".zattrs")?, Bytes::from(bytes))?;
        }
        // The new node, its new parents, and (when it replaced one) the old node's children gone.
        crate::consolidated::sync(&store, &path, true)?;
        array.write_empty_chunks = self.write_empty_chunks;
        Ok(array)
    }
}

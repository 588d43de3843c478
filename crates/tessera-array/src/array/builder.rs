//! [`ArrayBuilder`]: the options of a new array.

use std::sync::Arc;

use serde_json::{Map, Value};
use tessera_store::{Bytes, Store};

use super::Array;
use crate::dtype::DataType;
use crate::error::ArrayResult;
use crate::metadata::{ArrayMetadata, Order, Separator};
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
        }
    }

    /// The compressor config (`None` for uncompressed).
    pub fn compressor(mut self, config: Option<Value>) -> Self {
        self.compressor = config;
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

    /// Creates the array at `path`, creating missing parent groups.
    ///
    /// # Errors
    /// [`ArrayError::AlreadyExists`](crate::ArrayError::AlreadyExists) when a node is there and `overwrite` is off; metadata, codec and store
    /// errors.
    pub fn create(self, store: Arc<dyn Store>, path: &str) -> ArrayResult<Array> {
        let meta = self.metadata()?;
        let path = NodePath::new(path)?;
        let mut array = Array::from_metadata(store.clone(), path.clone(), meta)?;
        crate::group::prepare_node(&store, &path, self.overwrite)?;
        store.set(&path.key(".zarray")?, Bytes::from(array.meta.to_bytes()))?;
        if let Some(attrs) = &self.attributes {
            let bytes = crate::metadata::pretty_json(&Value::Object(attrs.clone()));
            store.set(&path.key(".zattrs")?, Bytes::from(bytes))?;
        }
        // The new node, its new parents, and (when it replaced one) the old node's children gone.
        crate::consolidated::sync(&store, &path, true)?;
        array.write_empty_chunks = self.write_empty_chunks;
        Ok(array)
    }
}

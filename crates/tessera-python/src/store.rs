//! Stores by URL, with `memory://NAME` naming one in-memory store per process.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use pyo3::prelude::*;
use serde_json::{Map, Value};
use tessera_array::{
    Array, ArrayBuilder, DataType, FillValue, Group, NodeKind, NodePath, Order, Separator,
};
use tessera_store::{MemoryStore, Store, StoreKey};

use crate::array::PyArrayCore;
use crate::errors::{creating, raise, reading, store_error};
use crate::group::PyGroupCore;

/// The named in-memory stores of this process: `memory://NAME` opens the same store every time.
static MEMORY_STORES: LazyLock<Mutex<HashMap<String, Arc<MemoryStore>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// A store opened from a URL or path.
#[pyclass(frozen, module = "tessera._tessera", name = "Store")]
pub(crate) struct PyStore {
    pub(crate) store: Arc<dyn Store>,
    url: String,
}

/// Opens the store at `url` (a path, `file://`, `memory://NAME`, `s3://`, `gs://`, `http(s)://`);
/// with `create`, a missing local directory is created.
///
/// `memory://NAME` is one store per process and name; bare `memory://` is a new store every time.
#[pyfunction]
#[pyo3(signature = (url, create=false))]
pub(crate) fn open_store(py: Python<'_>, url: &str, create: bool) -> PyResult<PyStore> {
    let store: Arc<dyn Store> = match url.strip_prefix("memory://") {
        Some(name) if !name.is_empty() => {
            let mut stores = MEMORY_STORES.lock().unwrap_or_else(|p| p.into_inner());
            stores
                .entry(name.to_string())
                .or_insert_with(|| Arc::new(MemoryStore::new()))
                .clone()
        }
        _ => py
            .detach(|| {
                if create {
                    tessera_store::create_store(url)
                } else {
                    tessera_store::open_store(url)
                }
            })
            .map_err(|e| store_error(&e))?,
    };
    Ok(PyStore {
        store,
        url: url.to_string(),
    })
}

/// zarr-python 2's default compressor, as numcodecs JSON.
#[pyfunction]
pub(crate) fn default_compressor() -> String {
    tessera_array::default_compressor().to_string()
}

/// Parses a JSON argument the Python half produced.
pub(crate) fn json_arg(what: &str, text: &str) -> PyResult<Value> {
    serde_json::from_str(text).map_err(|e| {
        raise(
            "InvalidArgumentError",
            format!("{what} is not valid JSON: {e}"),
        )
    })
}

/// Parses a JSON object argument.
pub(crate) fn json_object(what: &str, text: &str) -> PyResult<Map<String, Value>> {
    match json_arg(what, text)? {
        Value::Object(map) => Ok(map),
        other => Err(raise(
            "InvalidArgumentError",
            format!("{what} must be a JSON object, found {other}"),
        )),
    }
}

#[pymethods]
impl PyStore {
    /// The URL or path the store was opened from.
    #[getter]
    fn url(&self) -> &str {
        &self.url
    }

    /// What is at `path`: `"array"`, `"group"` (Zarr v2 or v3) or `None`.
    fn node_kind(&self, py: Python<'_>, path: &str) -> PyResult<Option<&'static str>> {
        let node = NodePath::new(path).map_err(creating)?;
        let store = self.store.clone();
        py.detach(move || {
            match tessera_array::node_kind(store.as_ref(), &node).map_err(reading)? {
                Some(NodeKind::Array) => Ok(Some("array")),
                Some(NodeKind::Group) => Ok(Some("group")),
                None => Ok(None),
            }
        })
    }

    /// The raw bytes of a key, `None` when missing (for diagnosing what an open refused).
    fn get_key(&self, py: Python<'_>, key: &str) -> PyResult<Option<Vec<u8>>> {
        let key = StoreKey::new(key).map_err(|e| store_error(&e))?;
        let store = self.store.clone();
        py.detach(move || store.get(&key))
            .map(|v| v.map(|b| b.to_vec()))
            .map_err(|e| store_error(&e))
    }

    /// Opens the array at `path`.
    fn open_array(&self, py: Python<'_>, path: &str) -> PyResult<PyArrayCore> {
        let store = self.store.clone();
        let array = py.detach(|| Array::open(store, path)).map_err(reading)?;
        Ok(PyArrayCore::new(array))
    }

    /// Opens the group at `path`, through its consolidated metadata when `consolidated` and present.
    fn open_group(&self, py: Python<'_>, path: &str, consolidated: bool) -> PyResult<PyGroupCore> {
        let store = self.store.clone();
        let group = py
            .detach(|| {
                if consolidated {
                    Group::open_consolidated(store, path)
                } else {
                    Group::open(store, path)
                }
            })
            .map_err(reading)?;
        Ok(PyGroupCore::new(group))
    }

    /// Creates a group at `path` (and missing parents) in Zarr format `zarr_format` (2 or 3); with
    /// `overwrite`, whatever is at `path` is erased first.
    #[pyo3(signature = (path, overwrite, zarr_format=2))]
    fn create_group(
        &self,
        py: Python<'_>,
        path: &str,
        overwrite: bool,
        zarr_format: u8,
    ) -> PyResult<PyGroupCore> {
        if !matches!(zarr_format, 2 | 3) {
            return Err(raise(
                "InvalidArgumentError",
                format!("zarr_format must be 2 or 3, found {zarr_format}"),
            ));
        }
        let node = NodePath::new(path).map_err(creating)?;
        let store = self.store.clone();
        let group = py
            .detach(|| {
                if overwrite && tessera_array::node_kind(store.as_ref(), &node)?.is_some() {
                    store.erase_prefix(&node.prefix())?;
                }
                if zarr_format == 3 {
                    Group::create_v3(store, path)
                } else {
                    Group::create(store, path)
                }
            })
            .map_err(creating)?;
        Ok(PyGroupCore::new(group))
    }

    /// Creates an array. `dtype`, `compressor`, `filters` and `attributes` are JSON in `.zarray`'s
    /// encoding (`compressor` and `filters` may be `None`; `compressor` `"default"` is the format's
    /// default); `fill_value` is one element's bytes in the stored dtype (tessera-array writes its JSON
    /// form), `None` for a `null` fill value, unless `fill_json` gives the JSON itself (object dtypes).
    /// `separator` `None` is the format's default (`.` for v2, `c/0/1` keys for v3); `shards` and
    /// `dimension_names` need `zarr_format` 3.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (path, shape, chunks, dtype, compressor, filters, fill_value, order, separator, attributes, overwrite, zarr_format=2, shards=None, dimension_names=None, fill_json=None))]
    fn create_array(
        &self,
        py: Python<'_>,
        path: &str,
        shape: Vec<u64>,
        chunks: Vec<u64>,
        dtype: &str,
        compressor: Option<&str>,
        filters: Option<&str>,
        fill_value: Option<&[u8]>,
        order: &str,
        separator: Option<&str>,
        attributes: Option<&str>,
        overwrite: bool,
        zarr_format: u8,
        shards: Option<Vec<u64>>,
        dimension_names: Option<Vec<Option<String>>>,
        fill_json: Option<&str>,
    ) -> PyResult<PyArrayCore> {
        let dtype = DataType::from_json(&json_arg("dtype", dtype)?).map_err(creating)?;
        let fill_value = match (fill_json, fill_value) {
            (Some(text), _) => json_arg("fill_value", text)?,
            (None, Some(bytes)) => FillValue::from_bytes(bytes, &dtype)
                .map_err(creating)?
                .to_json(),
            (None, None) => Value::Null,
        };
        let compressor = match compressor {
            Some("default") => None,
            Some(c) => Some(Some(json_arg("compressor", c)?).filter(|c| !c.is_null())),
            None => Some(None),
        };
        let filters = match filters.map(|f| json_arg("filters", f)).transpose()? {
            None | Some(Value::Null) => None,
            Some(Value::Array(list)) => Some(list),
            Some(other) => {
                return Err(raise(
                    "InvalidArgumentError",
                    format!("filters must be a list of codec configs, found {other}"),
                ));
            }
        };
        let order = match order {
            "C" => Order::C,
            "F" => Order::F,
            other => {
                return Err(raise(
                    "InvalidArgumentError",
                    format!("order must be \"C\" or \"F\", found {other:?}"),
                ));
            }
        };
        let separator = match separator {
            None => None,
            Some(".") => Some(Separator::Dot),
            Some("/") => Some(Separator::Slash),
            Some(other) => {
                return Err(raise(
                    "InvalidArgumentError",
                    format!("dimension_separator must be \".\" or \"/\", found {other:?}"),
                ));
            }
        };
        let mut builder = ArrayBuilder::new(shape, chunks, dtype)
            .zarr_format(zarr_format)
            .filters(filters)
            .fill_value(fill_value)
            .order(order)
            .overwrite(overwrite);
        if let Some(compressor) = compressor {
            builder = builder.compressor(compressor);
        }
        if let Some(separator) = separator {
            builder = builder.separator(separator);
        }
        if let Some(shards) = shards {
            builder = builder.shards(shards);
        }
        if let Some(names) = dimension_names {
            builder = builder.dimension_names(names);
        }
        if let Some(attrs) = attributes {
            builder = builder.attributes(json_object("attributes", attrs)?);
        }
        let store = self.store.clone();
        let array = py
            .detach(|| builder.create(store, path))
            .map_err(creating)?;
        Ok(PyArrayCore::new(array))
    }
}

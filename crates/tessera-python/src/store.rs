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

    /// What is at `path`: `"array"`, `"group"`, `"v3"` (a Zarr v3 `zarr.json`, which this version
    /// cannot open) or `None`.
    fn node_kind(&self, py: Python<'_>, path: &str) -> PyResult<Option<&'static str>> {
        let node = NodePath::new(path).map_err(creating)?;
        let store = self.store.clone();
        py.detach(move || -> PyResult<Option<&'static str>> {
            // tessera-array opens Zarr v3 now; the Python layer does not map it yet, so a zarr.json
            // node is reported as "v3" (refused by name) before anything else.
            let v3 = node.key("zarr.json").map_err(reading)?;
            if store.size(&v3).map_err(|e| store_error(&e))?.is_some() {
                return Ok(Some("v3"));
            }
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

    /// Creates a group at `path` (and missing parents); with `overwrite`, whatever is at `path` is
    /// erased first.
    fn create_group(&self, py: Python<'_>, path: &str, overwrite: bool) -> PyResult<PyGroupCore> {
        let node = NodePath::new(path).map_err(creating)?;
        let store = self.store.clone();
        let group = py
            .detach(|| {
                if overwrite && tessera_array::node_kind(store.as_ref(), &node)?.is_some() {
                    store.erase_prefix(&node.prefix())?;
                }
                Group::create(store, path)
            })
            .map_err(creating)?;
        Ok(PyGroupCore::new(group))
    }

    /// Creates an array. `dtype`, `compressor`, `filters` and `attributes` are JSON in `.zarray`'s
    /// encoding (`compressor` and `filters` may be `None`); `fill_value` is one element's bytes in the
    /// stored dtype (tessera-array writes its JSON form), `None` for a `null` fill value.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (path, shape, chunks, dtype, compressor, filters, fill_value, order, separator, attributes, overwrite))]
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
        separator: &str,
        attributes: Option<&str>,
        overwrite: bool,
    ) -> PyResult<PyArrayCore> {
        let dtype = DataType::from_json(&json_arg("dtype", dtype)?).map_err(creating)?;
        let fill_value = match fill_value {
            Some(bytes) => FillValue::from_bytes(bytes, &dtype)
                .map_err(creating)?
                .to_json(),
            None => Value::Null,
        };
        let compressor = compressor.map(|c| json_arg("compressor", c)).transpose()?;
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
            "." => Separator::Dot,
            "/" => Separator::Slash,
            other => {
                return Err(raise(
                    "InvalidArgumentError",
                    format!("dimension_separator must be \".\" or \"/\", found {other:?}"),
                ));
            }
        };
        let mut builder = ArrayBuilder::new(shape, chunks, dtype)
            .compressor(compressor)
            .filters(filters)
            .fill_value(fill_value)
            .order(order)
            .separator(separator)
            .overwrite(overwrite);
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

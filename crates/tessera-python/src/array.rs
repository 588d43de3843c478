//! `ArrayCore`: one Zarr array, read into and written from numpy buffers with the GIL released.

use std::sync::{Arc, RwLock};

use ndarray::{ArrayD, IxDyn};
use numpy::{PyArray1, PyReadonlyArray1, PyReadwriteArray1};
use pyo3::prelude::*;
use pyo3::types::{PyAnyMethods, PyDict, PyTuple};
use serde_json::{Value, json};
use tessera_array::{
    Array, ArrayAccess, AxisSelector, ResolvedSelection, Selection, StoredObject, ZarrFormat,
};
use tessera_codec::object::{ObjectCodec, ObjectKind};

use crate::errors::{creating, raise, reading};
use crate::objects;
use crate::store::json_object;

/// An open array. The handle is shared by Python threads: reads and writes clone the current
/// `Arc<Array>` and run without the GIL; `resize` and `append` swap in the grown array.
#[pyclass(frozen, module = "tessera._tessera", name = "ArrayCore")]
pub(crate) struct PyArrayCore {
    array: RwLock<Arc<Array>>,
}

impl PyArrayCore {
    pub(crate) fn new(array: Array) -> PyArrayCore {
        PyArrayCore {
            array: RwLock::new(Arc::new(array)),
        }
    }

    fn current(&self) -> Arc<Array> {
        self.array.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn replace(&self, array: Array) {
        *self.array.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(array);
    }
}

/// Converts the selection the Python half sends into a [`Selection`]: a sequence with one item per
/// axis (an `int`; a `(start, stop, step)` tuple; a 1-d `int64` numpy array of positions, zarr's
/// orthogonal list; a 1-d `bool` numpy array, a mask of the axis), or a coordinate selection, a dict
/// `{"points": [int64 array per axis]}` or `{"mask": flat bool array of the array's shape}`.
fn selection(axes: &Bound<'_, PyAny>) -> PyResult<Selection> {
    if let Ok(coords) = axes.cast::<PyDict>() {
        if let Some(points) = coords.get_item("points")? {
            let mut per_axis = Vec::new();
            for item in points.try_iter()? {
                per_axis.push(
                    item?
                        .extract::<PyReadonlyArray1<'_, i64>>()?
                        .as_array()
                        .to_vec(),
                );
            }
            return Ok(Selection::points(per_axis));
        }
        if let Some(mask) = coords.get_item("mask")? {
            let mask = mask.extract::<PyReadonlyArray1<'_, bool>>()?;
            return Ok(Selection::mask(mask.as_array().to_vec()));
        }
        return Err(raise(
            "InvalidArgumentError",
            "a coordinate selection needs \"points\" or \"mask\"".to_string(),
        ));
    }
    let mut out = Vec::new();
    for item in axes.try_iter()? {
        let item = item?;
        if let Ok(tuple) = item.cast::<PyTuple>() {
            let (start, stop, step): (Option<i64>, Option<i64>, Option<i64>) = tuple.extract()?;
            out.push(AxisSelector::Slice { start, stop, step });
        } else if let Ok(mask) = item.extract::<PyReadonlyArray1<'_, bool>>() {
            out.push(AxisSelector::Mask(mask.as_array().to_vec()));
        } else if let Ok(list) = item.extract::<PyReadonlyArray1<'_, i64>>() {
            out.push(AxisSelector::List(list.as_array().to_vec()));
        } else {
            out.push(AxisSelector::Index(item.extract()?));
        }
    }
    Ok(Selection::new(out))
}

fn resolve(array: &Array, axes: &Bound<'_, PyAny>) -> PyResult<ResolvedSelection> {
    selection(axes)?.resolve(array.shape()).map_err(reading)
}

/// The object codec of an object (`|O`, or Zarr v3 `string`/`bytes`) array; an error naming the
/// dtype for any other array.
fn object_codec(array: &Array) -> PyResult<&ObjectCodec> {
    array.object_codec().ok_or_else(|| {
        raise(
            "DataTypeError",
            format!(
                "the array's dtype is {}, not an object (|O) dtype",
                array.dtype().typestr()
            ),
        )
    })
}

/// What the Python half needs to know about an array, the same fields for both formats.
fn summary(array: &Array) -> Value {
    let meta = array.metadata();
    let v3 = meta.format == ZarrFormat::V3;
    let object = array.object_codec().map(|c| {
        let kind = match c.kind() {
            ObjectKind::Text => "text",
            ObjectKind::Bytes => "bytes",
            ObjectKind::NumericRows(_) => "rows",
            ObjectKind::Json => "json",
        };
        json!({"id": c.id(), "kind": kind, "dtype": c.item_dtype()})
    });
    json!({
        "zarr_format": meta.format.number(),
        "shape": meta.shape,
        "chunks": meta.inner_chunk_shape(),
        "shards": meta.shard_shape(),
        "dtype": meta.dtype.to_json(),
        "order": if meta.order == tessera_array::Order::C { "C" } else { "F" },
        "compressor": meta.compressor,
        "filters": meta.filters,
        "dimension_separator": if v3 { Value::Null } else { Value::from(meta.separator.as_char().to_string()) },
        "dimension_names": meta.dimension_names,
        "codecs": meta.codecs_json(),
        "object_codec": object,
    })
}

#[pymethods]
impl PyArrayCore {
    /// The array's path in its store.
    #[getter]
    fn path(&self) -> String {
        self.current().path().as_str().to_string()
    }

    /// The `.zarray` document, as JSON text.
    fn metadata_json(&self) -> String {
        self.current().metadata().to_json().to_string()
    }

    /// The format-independent summary (shape, inner chunks, shards, dtype as a `.zarray` dtype,
    /// codecs, dimension names, the object codec of a `|O` array), as JSON text.
    fn summary_json(&self) -> String {
        summary(&self.current()).to_string()
    }

    /// The fill value's JSON (`.zarray`'s encoding), as JSON text.
    fn fill_value_json(&self) -> String {
        self.current().fill_value().to_json().to_string()
    }

    /// The fill value's bytes in the stored dtype, `None` for a `null` fill value.
    fn fill_value_bytes(&self) -> Option<Vec<u8>> {
        let array = self.current();
        let fill = array.fill_value();
        (!fill.is_null()).then(|| fill.bytes().to_vec())
    }

    /// The shape of the result of a selection (axes dropped by an index removed).
    fn selection_shape(&self, axes: &Bound<'_, PyAny>) -> PyResult<Vec<u64>> {
        Ok(resolve(&self.current(), axes)?.shape())
    }

    /// Reads a selection into `out`: a flat, C-contiguous `uint8` view of a buffer holding exactly the
    /// selection's elements in the stored dtype, C order. Chunks are decoded in parallel straight into
    /// it, without the GIL.
    fn read_into(
        &self,
        py: Python<'_>,
        axes: &Bound<'_, PyAny>,
        mut out: PyReadwriteArray1<'_, u8>,
    ) -> PyResult<()> {
        let array = self.current();
        let sel = resolve(&array, axes)?;
        let buffer = out.as_slice_mut().map_err(|e| {
            raise(
                "InvalidArgumentError",
                format!("the output buffer must be C-contiguous: {e}"),
            )
        })?;
        py.detach(|| array.read_into(&sel, buffer)).map_err(reading)
    }

    /// Writes `data` (a flat, C-contiguous `uint8` view of the selection's elements in the stored dtype,
    /// C order) into a selection, encoding chunks in parallel without the GIL.
    fn write_from(
        &self,
        py: Python<'_>,
        axes: &Bound<'_, PyAny>,
        data: PyReadonlyArray1<'_, u8>,
    ) -> PyResult<()> {
        let array = self.current();
        let sel = resolve(&array, axes)?;
        let bytes = data.as_slice().map_err(|e| {
            raise(
                "InvalidArgumentError",
                format!("the data buffer must be C-contiguous: {e}"),
            )
        })?;
        py.detach(|| array.write_resolved(&sel, bytes))
            .map_err(creating)
    }

    /// Reads structured `fields` of a selection: `(dtype JSON of the packed fields, flat uint8
    /// numpy array of their bytes, C order, stored byte order)`. Only the fields' bytes are copied
    /// out of each chunk, without the GIL.
    fn read_fields<'py>(
        &self,
        py: Python<'py>,
        axes: &Bound<'py, PyAny>,
        fields: Vec<String>,
    ) -> PyResult<(String, Bound<'py, PyArray1<u8>>)> {
        let array = self.current();
        let sel = selection(axes)?;
        let names: Vec<&str> = fields.iter().map(String::as_str).collect();
        let raw = py
            .detach(|| array.read_fields(&names, sel))
            .map_err(reading)?;
        Ok((
            raw.dtype.to_json().to_string(),
            PyArray1::from_vec(py, raw.bytes),
        ))
    }

    /// Writes structured `fields` of a selection from `data`: a flat, C-contiguous `uint8` view of
    /// the selection's elements (C order), each the named fields packed in the order given, in the
    /// stored byte order. Every other byte of each record is kept; chunks are read, modified and
    /// written back in parallel without the GIL.
    fn write_fields(
        &self,
        py: Python<'_>,
        axes: &Bound<'_, PyAny>,
        fields: Vec<String>,
        data: PyReadonlyArray1<'_, u8>,
    ) -> PyResult<()> {
        let array = self.current();
        let sel = selection(axes)?;
        let names: Vec<&str> = fields.iter().map(String::as_str).collect();
        let bytes = data.as_slice().map_err(|e| {
            raise(
                "InvalidArgumentError",
                format!("the data buffer must be C-contiguous: {e}"),
            )
        })?;
        py.detach(|| array.write_fields(&names, sel, bytes))
            .map_err(creating)
    }

    /// Reads a selection of an object (`|O`) array: a flat numpy object array of the selection's
    /// values in C order (see `objects` for the Python types). Chunks are decoded in parallel without
    /// the GIL; the Python objects are made afterwards.
    fn read_objects<'py>(
        &self,
        py: Python<'py>,
        axes: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray1<Py<PyAny>>>> {
        let array = self.current();
        object_codec(&array)?;
        let sel = selection(axes)?;
        let values = py
            .detach(|| array.read_objects::<StoredObject>(sel))
            .map_err(reading)?;
        let (values, _) = values.into_raw_vec_and_offset();
        let items = values
            .into_iter()
            .map(|v| objects::to_python(py, v))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(PyArray1::from_vec(py, items))
    }

    /// Writes `values` (a sequence of the selection's values, C order) into a selection of an
    /// object (`|O`) array; `vlen-array` rows arrive as `bytes` in the codec's dtype.
    fn write_objects(
        &self,
        py: Python<'_>,
        axes: &Bound<'_, PyAny>,
        values: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let array = self.current();
        let codec = object_codec(&array)?;
        let sel = selection(axes)?;
        let shape: Vec<usize> = sel
            .resolve(array.shape())
            .map_err(reading)?
            .shape()
            .iter()
            .map(|&d| d as usize)
            .collect();
        let items = values
            .try_iter()?
            .map(|v| objects::from_python(&v?, codec))
            .collect::<PyResult<Vec<_>>>()?;
        let n = items.len();
        let data = ArrayD::from_shape_vec(IxDyn(&shape), items).map_err(|_| {
            raise(
                "ShapeError",
                format!("{n} values for a selection of shape {shape:?}"),
            )
        })?;
        py.detach(|| array.write_objects(sel, &data))
            .map_err(creating)
    }

    /// Changes the shape (chunks outside it are removed).
    fn resize(&self, py: Python<'_>, shape: Vec<u64>) -> PyResult<()> {
        let mut array = (*self.current()).clone();
        py.detach(|| array.resize(&shape)).map_err(creating)?;
        self.replace(array);
        Ok(())
    }

    /// Appends `data` (flat `uint8` bytes of `shape` in the stored dtype, C order) along `axis`.
    fn append(
        &self,
        py: Python<'_>,
        data: PyReadonlyArray1<'_, u8>,
        shape: Vec<usize>,
        axis: usize,
    ) -> PyResult<()> {
        let mut array = (*self.current()).clone();
        let bytes = data.as_slice().map_err(|e| {
            raise(
                "InvalidArgumentError",
                format!("the data buffer must be C-contiguous: {e}"),
            )
        })?;
        py.detach(|| array.append_raw(bytes, &shape, axis))
            .map_err(creating)?;
        self.replace(array);
        Ok(())
    }

    /// Re-reads `.zarray` from the store (after another handle resized the array); the decoded-chunk
    /// cache stays on, emptied.
    fn reload(&self, py: Python<'_>) -> PyResult<()> {
        let mut array = (*self.current()).clone();
        py.detach(|| array.reload()).map_err(reading)?;
        self.replace(array);
        Ok(())
    }

    /// Gives the handle a decoded-chunk cache of `budget` bytes (0: none).
    fn set_chunk_cache(&self, budget: usize) {
        let mut array = (*self.current()).clone();
        array.set_chunk_cache(budget);
        self.replace(array);
    }

    /// The cache's `(budget, bytes, chunks, hits, misses)`, `None` without one.
    fn chunk_cache_stats(&self) -> Option<(usize, usize, usize, u64, u64)> {
        self.current()
            .chunk_cache_stats()
            .map(|s| (s.budget, s.bytes, s.chunks, s.hits, s.misses))
    }

    /// The attributes (`.zattrs`) as JSON text.
    fn attributes_json(&self, py: Python<'_>) -> PyResult<String> {
        let array = self.current();
        let attrs = py.detach(|| array.attributes()).map_err(reading)?;
        Ok(serde_json::Value::Object(attrs).to_string())
    }

    /// Replaces the attributes with a JSON object.
    fn set_attributes_json(&self, py: Python<'_>, attrs: &str) -> PyResult<()> {
        let attrs = json_object("attributes", attrs)?;
        let array = self.current();
        py.detach(|| array.set_attributes(&attrs)).map_err(creating)
    }

    /// `(number of stored chunks, their total bytes)`, from a listing of the store.
    fn stored_chunks(&self, py: Python<'_>) -> PyResult<(u64, u64)> {
        let array = self.current();
        py.detach(|| array.stored_chunks()).map_err(reading)
    }
}

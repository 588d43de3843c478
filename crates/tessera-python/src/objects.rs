//! Values of object (`|O`) arrays crossing into and out of Python: `str` for `vlen-utf8`, `bytes`
//! for `vlen-bytes` and for `vlen-array` rows (raw, in the codec's dtype; the Python half views them
//! as numpy rows), JSON values (`None`, `bool`, `int`, `float`, `str`, `list`, `dict`) for `json2`
//! and `msgpack2`. tessera-array does the decoding; this module only converts one value at a time.

use pyo3::exceptions::{PyOverflowError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::{Map, Number, Value};
use tessera_array::StoredObject;
use tessera_codec::object::{ObjectCodec, ObjectKind};

/// How deep a JSON value may nest before it is refused (Python's own recursion limit is near 1000).
const MAX_DEPTH: usize = 512;

/// One stored value as a Python object.
pub(crate) fn to_python(py: Python<'_>, value: StoredObject) -> PyResult<Py<PyAny>> {
    Ok(match value {
        StoredObject::Text(s) => PyString::new(py, &s).into_any().unbind(),
        StoredObject::Bytes(b) => PyBytes::new(py, &b).into_any().unbind(),
        StoredObject::Json(v) => json_to_python(py, &v)?,
    })
}

fn json_to_python(py: Python<'_>, value: &Value) -> PyResult<Py<PyAny>> {
    Ok(match value {
        Value::Null => py.None(),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any().unbind(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any().unbind()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any().unbind()
            } else {
                PyFloat::new(py, n.as_f64().unwrap_or(f64::NAN))
                    .into_any()
                    .unbind()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any().unbind(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(json_to_python(py, item)?)?;
            }
            list.into_any().unbind()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, json_to_python(py, v)?)?;
            }
            dict.into_any().unbind()
        }
    })
}

/// One Python value as what `codec` stores. `None` is the empty string or byte string, as
/// numcodecs' vlen codecs write it; rows of `vlen-array` arrive as `bytes` already in the codec's
/// dtype (the Python half converts them with numpy).
///
/// # Errors
/// `TypeError` naming the codec for a value it cannot store.
pub(crate) fn from_python(value: &Bound<'_, PyAny>, codec: &ObjectCodec) -> PyResult<StoredObject> {
    let wrong = |want: &str| {
        PyTypeError::new_err(format!(
            "a {} array stores {want}, found {}",
            codec.id(),
            value
                .get_type()
                .name()
                .map_or_else(|_| "?".to_string(), |n| n.to_string())
        ))
    };
    match codec.kind() {
        ObjectKind::Text => {
            if value.is_none() {
                Ok(StoredObject::Text(String::new()))
            } else if let Ok(s) = value.cast::<PyString>() {
                Ok(StoredObject::Text(s.to_str()?.to_string()))
            } else {
                Err(wrong("str"))
            }
        }
        ObjectKind::Bytes | ObjectKind::NumericRows(_) => {
            if value.is_none() {
                Ok(StoredObject::Bytes(Vec::new()))
            } else if let Ok(b) = value.cast::<PyBytes>() {
                Ok(StoredObject::Bytes(b.as_bytes().to_vec()))
            } else {
                Err(wrong("bytes"))
            }
        }
        ObjectKind::Json => Ok(StoredObject::Json(python_to_json(value, 0)?)),
    }
}

fn python_to_json(value: &Bound<'_, PyAny>, depth: usize) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(PyTypeError::new_err(format!(
            "a JSON value nested deeper than {MAX_DEPTH} levels"
        )));
    }
    if value.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = value.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if value.is_instance_of::<PyInt>() {
        if let Ok(i) = value.extract::<i64>() {
            return Ok(Value::from(i));
        }
        return value.extract::<u64>().map(Value::from).map_err(|_| {
            PyOverflowError::new_err("an integer outside the 64-bit range cannot be stored as JSON")
        });
    }
    if let Ok(f) = value.cast::<PyFloat>() {
        let f = f.value();
        return Number::from_f64(f).map(Value::Number).ok_or_else(|| {
            PyTypeError::new_err(format!("{f} (not finite) cannot be stored as JSON"))
        });
    }
    if let Ok(s) = value.cast::<PyString>() {
        return Ok(Value::String(s.to_str()?.to_string()));
    }
    if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        let mut out = Vec::new();
        for item in value.try_iter()? {
            out.push(python_to_json(&item?, depth + 1)?);
        }
        return Ok(Value::Array(out));
    }
    if let Ok(d) = value.cast::<PyDict>() {
        let mut out = Map::new();
        for (k, v) in d.iter() {
            let key = k
                .cast::<PyString>()
                .map_err(|_| PyTypeError::new_err("JSON object keys must be str"))?;
            out.insert(key.to_str()?.to_string(), python_to_json(&v, depth + 1)?);
        }
        return Ok(Value::Object(out));
    }
    // numpy scalars and arrays: their Python equivalents (`tolist()` is numpy's own conversion).
    if value.hasattr("tolist")? {
        let plain = value.call_method0("tolist")?;
        if !plain.is(value) {
            return python_to_json(&plain, depth + 1);
        }
    }
    Err(PyTypeError::new_err(format!(
        "{} cannot be stored as JSON",
        value.get_type().name()?
    )))
}

//! [`RawLayout`]: what a raw file holds (dtype, shape, order, data offset), and its sidecar JSON form.
//!
//! A sidecar is a small JSON document next to the raw file (by default `<file>.json`, e.g.
//! `data.raw.json`), version 1:
//!
//! ```json
//! {"tessera_raw": 1, "dtype": "<f4", "shape": [1000, 64], "order": "C", "offset": 0}
//! ```
//!
//! `dtype` takes the same JSON form as the `dtype` of `.zarray` (a numpy type string or a list of
//! fields); `order` is `"C"` (row-major) or `"F"` (column-major); `offset` is the number of bytes before
//! the data (0 when absent). A document with another `tessera_raw` version is refused, never guessed at.
//!
//! ```
//! use tessera_mmap::RawLayout;
//! use tessera_array::{DataType, Order};
//!
//! let layout = RawLayout::new(DataType::parse_typestr(">i2")?, vec![3, 4]).with_order(Order::F);
//! let doc = layout.to_sidecar_json();
//! assert_eq!(doc["tessera_raw"], 1);
//! assert_eq!(RawLayout::from_sidecar_json(&doc, "x.json".as_ref())?, layout);
//! assert_eq!(layout.data_len(), Some(24));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};
use tessera_array::{DataType, Order};

use crate::error::{MmapError, MmapResult};

/// The sidecar format version this library reads and writes.
pub const SIDECAR_VERSION: u64 = 1;

/// The layout of an array in a raw file: element type, shape, element order and where the data starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawLayout {
    /// The element type, byte order included.
    pub dtype: DataType,
    /// The array shape (empty for a 0-d array, which holds one element).
    pub shape: Vec<u64>,
    /// Row-major (`C`) or column-major (`F`).
    pub order: Order,
    /// Bytes before the first element (the `.npy` header length, or a raw file's own header).
    pub offset: u64,
}

impl RawLayout {
    /// A C-order layout starting at byte 0.
    pub fn new(dtype: DataType, shape: Vec<u64>) -> RawLayout {
        RawLayout {
            dtype,
            shape,
            order: Order::C,
            offset: 0,
        }
    }

    /// The same layout with another element order.
    pub fn with_order(mut self, order: Order) -> RawLayout {
        self.order = order;
        self
    }

    /// The same layout with the data starting at byte `offset`.
    pub fn with_offset(mut self, offset: u64) -> RawLayout {
        self.offset = offset;
        self
    }

    /// Number of elements (1 for a 0-d array), or `None` on overflow.
    pub fn num_elements(&self) -> Option<u64> {
        self.shape.iter().try_fold(1u64, |a, &d| a.checked_mul(d))
    }

    /// Bytes of data (elements × itemsize), or `None` on overflow.
    pub fn data_len(&self) -> Option<u64> {
        self.num_elements()?
            .checked_mul(self.dtype.itemsize() as u64)
    }

    /// Bytes the whole file must hold: offset + data, or `None` on overflow.
    pub fn file_len(&self) -> Option<u64> {
        self.data_len()?.checked_add(self.offset)
    }

    /// Byte strides of the file's axes for this layout's order.
    pub(crate) fn strides(&self) -> Vec<usize> {
        strides(&self.shape, self.dtype.itemsize(), self.order)
    }

    /// The sidecar document describing this layout.
    pub fn to_sidecar_json(&self) -> Value {
        json!({
            "tessera_raw": SIDECAR_VERSION,
            "dtype": self.dtype.to_json(),
            "shape": self.shape,
            "order": if self.order == Order::C { "C" } else { "F" },
            "offset": self.offset,
        })
    }

    /// Reads a layout from a sidecar document; `path` only names the document in errors.
    ///
    /// # Errors
    /// [`MmapError::SidecarVersion`] when `tessera_raw` is not [`SIDECAR_VERSION`];
    /// [`MmapError::Sidecar`] when a field is missing or invalid.
    pub fn from_sidecar_json(doc: &Value, path: &Path) -> MmapResult<RawLayout> {
        let bad = |msg: String| MmapError::sidecar(path, msg);
        let obj: &Map<String, Value> = doc
            .as_object()
            .ok_or_else(|| bad(format!("expected a JSON object, found {doc}")))?;
        match obj.get("tessera_raw") {
            None => {
                return Err(bad(
                    "no \"tessera_raw\" format version: not a tessera sidecar".into(),
                ));
            }
            Some(v) if v.as_u64() == Some(SIDECAR_VERSION) => {}
            Some(v) => {
                return Err(MmapError::SidecarVersion {
                    path: path.to_path_buf(),
                    found: v.to_string(),
                    supported: SIDECAR_VERSION,
                });
            }
        }
        let dtype = obj
            .get("dtype")
            .ok_or_else(|| bad("missing \"dtype\"".into()))?;
        let dtype = DataType::from_json(dtype).map_err(|e| bad(e.to_string()))?;
        if dtype.is_object() {
            return Err(bad(
                "dtype |O: object elements are Python references, not raw data to map".into(),
            ));
        }
        let shape = obj
            .get("shape")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("\"shape\" must be a list of non-negative integers".into()))?
            .iter()
            .map(|d| {
                d.as_u64()
                    .ok_or_else(|| bad(format!("shape: {d} is not a non-negative integer")))
            })
            .collect::<MmapResult<Vec<u64>>>()?;
        let order = match obj.get("order").map(|o| o.as_str()) {
            None | Some(Some("C")) => Order::C,
            Some(Some("F")) => Order::F,
            Some(_) => {
                return Err(bad(format!(
                    "\"order\" must be \"C\" or \"F\", found {}",
                    obj["order"]
                )));
            }
        };
        let offset = match obj.get("offset") {
            None => 0,
            Some(v) => v.as_u64().ok_or_else(|| {
                bad(format!(
                    "\"offset\" must be a non-negative integer, found {v}"
                ))
            })?,
        };
        let layout = RawLayout {
            dtype,
            shape,
            order,
            offset,
        };
        if layout.file_len().is_none() {
            return Err(bad("shape x itemsize overflows 64 bits".into()));
        }
        Ok(layout)
    }

    /// Reads and parses a sidecar file.
    ///
    /// # Errors
    /// [`MmapError::Io`] when it cannot be read (a missing sidecar is [`MmapError::Sidecar`]); the errors
    /// of [`from_sidecar_json`](Self::from_sidecar_json).
    pub fn read_sidecar(path: &Path) -> MmapResult<RawLayout> {
        let text = match std::fs::read(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(MmapError::sidecar(path, "not found"));
            }
            Err(e) => return Err(MmapError::io(path, "reading the sidecar", e)),
        };
        let doc: Value = serde_json::from_slice(&text)
            .map_err(|e| MmapError::sidecar(path, format!("not valid JSON: {e}")))?;
        RawLayout::from_sidecar_json(&doc, path)
    }

    /// Writes the sidecar document to `path` (pretty-printed, newline-terminated).
    ///
    /// # Errors
    /// [`MmapError::Io`] / [`MmapError::PermissionDenied`] when it cannot be written.
    pub fn write_sidecar(&self, path: &Path) -> MmapResult<()> {
        let mut text =
            serde_json::to_vec_pretty(&self.to_sidecar_json()).expect("a JSON value serialises");
        text.push(b'\n');
        std::fs::write(path, text).map_err(|e| MmapError::io(path, "writing the sidecar", e))
    }
}

/// The default sidecar of a raw file: its name with `.json` appended (`data.raw` → `data.raw.json`).
pub fn default_sidecar_path(data: &Path) -> PathBuf {
    let mut name = data.as_os_str().to_owned();
    name.push(".json");
    PathBuf::from(name)
}

/// Byte strides of an array of `shape` in `order`.
pub(crate) fn strides(shape: &[u64], itemsize: usize, order: Order) -> Vec<usize> {
    let mut s = vec![0usize; shape.len()];
    let mut acc = itemsize;
    let mut set = |i: usize| {
        s[i] = acc;
        acc = acc.saturating_mul(shape[i] as usize);
    };
    match order {
        Order::C => (0..shape.len()).rev().for_each(&mut set),
        Order::F => (0..shape.len()).for_each(&mut set),
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(doc: Value) -> MmapResult<RawLayout> {
        RawLayout::from_sidecar_json(&doc, Path::new("s.json"))
    }

    #[test]
    fn round_trips_structured_and_f_order() {
        let dt = DataType::from_json(&json!([["id", "<u2"], ["pos", ">f8", [3]]])).unwrap();
        let layout = RawLayout::new(dt, vec![5, 0, 2])
            .with_order(Order::F)
            .with_offset(128);
        assert_eq!(parse(layout.to_sidecar_json()).unwrap(), layout);
        assert_eq!(layout.file_len(), Some(128));
    }

    #[test]
    fn unknown_versions_and_bad_fields_are_typed_errors() {
        let ok = json!({"tessera_raw": 1, "dtype": "<f4", "shape": [2]});
        assert_eq!(parse(ok).unwrap().order, Order::C);
        for v in [json!(2), json!("1"), json!(0), json!(1.5)] {
            let err = parse(json!({"tessera_raw": v, "dtype": "<f4", "shape": [2]})).unwrap_err();
            assert!(
                matches!(err, MmapError::SidecarVersion { supported: 1, .. }),
                "{err}"
            );
        }
        for doc in [
            json!([1]),
            json!({"dtype": "<f4", "shape": [2]}),
            json!({"tessera_raw": 1, "shape": [2]}),
            json!({"tessera_raw": 1, "dtype": "<q4", "shape": [2]}),
            json!({"tessera_raw": 1, "dtype": "<f4", "shape": [-2]}),
            json!({"tessera_raw": 1, "dtype": "<f4", "shape": [2], "order": "K"}),
            json!({"tessera_raw": 1, "dtype": "<f4", "shape": [2], "offset": -1}),
            json!({"tessera_raw": 1, "dtype": "<f8", "shape": [1u64 << 62, 8]}),
        ] {
            assert!(
                matches!(parse(doc.clone()), Err(MmapError::Sidecar { .. })),
                "{doc}"
            );
        }
    }

    #[test]
    fn default_sidecar_appends_json() {
        assert_eq!(
            default_sidecar_path(Path::new("/d/x.raw")),
            PathBuf::from("/d/x.raw.json")
        );
    }
}

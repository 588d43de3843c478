//! The `.npy` format: a header describing dtype, shape and order, then the raw elements.
//!
//! Versions 1.0, 2.0 and 3.0 are read; new files are written as 1.0 when the header fits in 65535 bytes,
//! else 2.0 (3.0 when the header needs UTF-8), with the data aligned to 64 bytes as numpy does.
//!
//! ```
//! use tessera_mmap::npy::{NpyHeader, parse_header};
//! use tessera_array::DataType;
//!
//! let header = NpyHeader::new(DataType::parse_typestr("<f4").unwrap(), vec![2, 3], false);
//! let bytes = header.to_bytes();
//! assert_eq!(bytes.len() % 64, 0);
//! let back = parse_header(&bytes).unwrap();
//! assert_eq!(back.shape, vec![2, 3]);
//! assert_eq!(back.data_offset, bytes.len());
//! ```

use std::fmt::Write as _;

use tessera_array::{DataType, Field};

use crate::error::{MmapError, MmapResult};

/// The magic bytes every `.npy` file starts with.
pub const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// Largest header accepted (numpy itself refuses headers above 10 000 bytes unless told otherwise; we
/// allow structured types with many fields but stay bounded).
const MAX_HEADER: usize = 1 << 24;

/// A parsed `.npy` header.
#[derive(Clone, Debug, PartialEq)]
pub struct NpyHeader {
    /// The element type (`descr`).
    pub dtype: DataType,
    /// The array shape.
    pub shape: Vec<u64>,
    /// True when the data is in Fortran (column-major) order.
    pub fortran_order: bool,
    /// Where the data starts: the total header length in bytes.
    pub data_offset: usize,
    /// The format version, e.g. `(1, 0)`.
    pub version: (u8, u8),
}

impl NpyHeader {
    /// A header for new data; `data_offset` and `version` are filled in by [`to_bytes`](Self::to_bytes).
    pub fn new(dtype: DataType, shape: Vec<u64>, fortran_order: bool) -> NpyHeader {
        let mut h = NpyHeader {
            dtype,
            shape,
            fortran_order,
            data_offset: 0,
            version: (1, 0),
        };
        let len = h.to_bytes().len();
        h.data_offset = len;
        h.version = version_for(&h.dict());
        h
    }

    /// Number of data bytes the header announces, or `None` on overflow.
    pub fn data_len(&self) -> Option<u64> {
        self.shape
            .iter()
            .try_fold(self.dtype.itemsize() as u64, |a, &d| a.checked_mul(d))
    }

    fn dict(&self) -> String {
        let shape = match self.shape.len() {
            1 => format!("({},)", self.shape[0]),
            _ => format!(
                "({})",
                self.shape
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        format!(
            "{{'descr': {}, 'fortran_order': {}, 'shape': {}, }}",
            descr(&self.dtype),
            if self.fortran_order { "True" } else { "False" },
            shape
        )
    }

    /// The complete header: magic, version, length, the dict padded with spaces and a newline so that the
    /// data starts on a multiple of 64 bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let dict = self.dict();
        let (major, minor) = version_for(&dict);
        let prefix = if major == 1 { 10 } else { 12 };
        let unpadded = prefix + dict.len() + 1;
        let total = unpadded.div_ceil(64) * 64;
        let header_len = total - prefix;
        let mut out = Vec::with_capacity(total);
        out.extend_from_slice(MAGIC);
        out.push(major);
        out.push(minor);
        if major == 1 {
            out.extend_from_slice(&(header_len as u16).to_le_bytes());
        } else {
            out.extend_from_slice(&(header_len as u32).to_le_bytes());
        }
        out.extend_from_slice(dict.as_bytes());
        out.resize(total - 1, b' ');
        out.push(b'\n');
        out
    }
}

fn version_for(dict: &str) -> (u8, u8) {
    if !dict.is_ascii() {
        (3, 0)
    } else if dict.len() + 11 < 65536 {
        (1, 0)
    } else {
        (2, 0)
    }
}

fn quote(s: &str) -> String {
    let mut out = String::from("'");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// The `descr` of a dtype as numpy writes it: a quoted type string or a list of field tuples.
pub fn descr(dtype: &DataType) -> String {
    match dtype {
        DataType::Structured(fields) => {
            let mut s = String::from("[");
            for (i, f) in fields.iter().enumerate() {
                if i > 0 {
                    s.push_str(", ");
                }
                let _ = write!(s, "({}, {}", quote(&f.name), descr(&f.dtype));
                if !f.shape.is_empty() {
                    let dims: Vec<String> = f.shape.iter().map(usize::to_string).collect();
                    if dims.len() == 1 {
                        let _ = write!(s, ", ({},)", dims[0]);
                    } else {
                        let _ = write!(s, ", ({})", dims.join(", "));
                    }
                }
                s.push(')');
            }
            s.push(']');
            s
        }
        other => quote(&other.typestr()),
    }
}

/// Parses the header at the start of `bytes` (which may hold more than the header).
///
/// # Errors
/// [`MmapError::Header`] for a missing magic, an unknown version, a truncated or malformed header, or a
/// `descr` that is not a Zarr-compatible dtype.
pub fn parse_header(bytes: &[u8]) -> MmapResult<NpyHeader> {
    let bad = |msg: String| MmapError::Header(msg);
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err(bad("not a .npy file (magic bytes missing)".into()));
    }
    let version = (bytes[6], bytes[7]);
    let (len, start) = match version.0 {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 => {
            if bytes.len() < 12 {
                return Err(bad("truncated header".into()));
            }
            (
                u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
                12,
            )
        }
        v => return Err(bad(format!("unsupported .npy version {v}.{}", version.1))),
    };
    if len > MAX_HEADER {
        return Err(bad(format!("header of {len} bytes is too large")));
    }
    let end = start + len;
    if bytes.len() < end {
        return Err(bad(format!(
            "truncated header: {} of {end} bytes present",
            bytes.len()
        )));
    }
    let text =
        std::str::from_utf8(&bytes[start..end]).map_err(|_| bad("header is not UTF-8".into()))?;
    if version.0 < 3 && !text.is_ascii() {
        return Err(bad("a version 1/2 header must be ASCII".into()));
    }
    let value = PyParser {
        s: text.as_bytes(),
        pos: 0,
        depth: 0,
    }
    .parse_top()?;
    let PyValue::Dict(entries) = value else {
        return Err(bad("header is not a dict".into()));
    };
    let get = |k: &str| entries.iter().find(|(key, _)| key == k).map(|(_, v)| v);
    let dtype = py_to_dtype(get("descr").ok_or_else(|| bad("header has no 'descr'".into()))?)?;
    let fortran_order = match get("fortran_order") {
        Some(PyValue::Bool(b)) => *b,
        _ => return Err(bad("header has no boolean 'fortran_order'".into())),
    };
    let shape = match get("shape") {
        Some(PyValue::Tuple(items)) => items
            .iter()
            .map(|v| match v {
                PyValue::Int(i) if *i >= 0 => Ok(*i as u64),
                _ => Err(bad("'shape' must hold non-negative integers".into())),
            })
            .collect::<MmapResult<Vec<_>>>()?,
        _ => return Err(bad("header has no tuple 'shape'".into())),
    };
    Ok(NpyHeader {
        dtype,
        shape,
        fortran_order,
        data_offset: end,
        version,
    })
}

fn py_to_dtype(v: &PyValue) -> MmapResult<DataType> {
    let bad = |msg: String| MmapError::Header(msg);
    match v {
        PyValue::Str(s) => match DataType::parse_typestr(s) {
            // An object .npy holds pickled Python objects: nothing to map.
            Ok(dt) if dt.is_object() => Err(bad(format!(
                "descr {s:?}: object arrays are pickled Python objects, not raw data"
            ))),
            parsed => parsed.map_err(|e| bad(format!("descr {s:?}: {e}"))),
        },
        PyValue::List(items) => {
            let mut fields = Vec::with_capacity(items.len());
            for item in items {
                let PyValue::Tuple(parts) = item else {
                    return Err(bad("a structured descr must be a list of tuples".into()));
                };
                let name = match parts.first() {
                    Some(PyValue::Str(s)) => s.clone(),
                    _ => return Err(bad("a field name must be a string".into())),
                };
                let dtype = py_to_dtype(
                    parts
                        .get(1)
                        .ok_or_else(|| bad(format!("field {name:?} has no type")))?,
                )?;
                let shape = match parts.get(2) {
                    None => Vec::new(),
                    Some(PyValue::Tuple(dims)) => dims
                        .iter()
                        .map(|d| match d {
                            PyValue::Int(i) if *i >= 0 => Ok(*i as usize),
                            _ => Err(bad(format!("field {name:?} has a bad shape"))),
                        })
                        .collect::<MmapResult<Vec<_>>>()?,
                    Some(PyValue::Int(i)) if *i >= 0 => vec![*i as usize],
                    _ => return Err(bad(format!("field {name:?} has a bad shape"))),
                };
                fields.push(Field { name, dtype, shape });
            }
            let json = DataType::Structured(fields).to_json();
            DataType::from_json(&json).map_err(|e| bad(e.to_string()))
        }
        _ => Err(bad("'descr' must be a string or a list".into())),
    }
}

/// A Python literal, as far as `.npy` headers use them.
#[derive(Debug, PartialEq)]
enum PyValue {
    Str(String),
    Int(i64),
    Bool(bool),
    Tuple(Vec<PyValue>),
    List(Vec<PyValue>),
    Dict(Vec<(String, PyValue)>),
}

struct PyParser<'a> {
    s: &'a [u8],
    pos: usize,
    depth: usize,
}

impl PyParser<'_> {
    fn err(&self, msg: &str) -> MmapError {
        MmapError::Header(format!("{msg} at byte {} of the header", self.pos))
    }

    fn ws(&mut self) {
        while self.pos < self.s.len() && self.s[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.pos).copied()
    }

    fn parse_top(mut self) -> MmapResult<PyValue> {
        let v = self.value()?;
        if self.peek().is_some() {
            return Err(self.err("trailing characters"));
        }
        Ok(v)
    }

    fn value(&mut self) -> MmapResult<PyValue> {
        self.depth += 1;
        if self.depth > 64 {
            return Err(self.err("nesting too deep"));
        }
        let v = match self.peek().ok_or_else(|| self.err("unexpected end"))? {
            b'\'' | b'"' => PyValue::Str(self.string()?),
            b'{' => {
                self.pos += 1;
                let mut entries = Vec::new();
                loop {
                    if self.peek() == Some(b'}') {
                        self.pos += 1;
                        break;
                    }
                    let PyValue::Str(key) = self.value()? else {
                        return Err(self.err("dict keys must be strings"));
                    };
                    if self.peek() != Some(b':') {
                        return Err(self.err("expected ':'"));
                    }
                    self.pos += 1;
                    let v = self.value()?;
                    entries.push((key, v));
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {}
                        _ => return Err(self.err("expected ',' or '}'")),
                    }
                }
                PyValue::Dict(entries)
            }
            open @ (b'(' | b'[') => {
                self.pos += 1;
                let close = if open == b'(' { b')' } else { b']' };
                let mut items = Vec::new();
                loop {
                    if self.peek() == Some(close) {
                        self.pos += 1;
                        break;
                    }
                    items.push(self.value()?);
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(c) if c == close => {}
                        _ => return Err(self.err("expected ',' or a closing bracket")),
                    }
                }
                if open == b'(' {
                    PyValue::Tuple(items)
                } else {
                    PyValue::List(items)
                }
            }
            b'T' | b'F' => {
                let rest = &self.s[self.pos..];
                if rest.starts_with(b"True") {
                    self.pos += 4;
                    PyValue::Bool(true)
                } else if rest.starts_with(b"False") {
                    self.pos += 5;
                    PyValue::Bool(false)
                } else {
                    return Err(self.err("unknown name"));
                }
            }
            c if c.is_ascii_digit() || c == b'-' => {
                let start = self.pos;
                self.pos += 1;
                while self.pos < self.s.len() && self.s[self.pos].is_ascii_digit() {
                    self.pos += 1;
                }
                // numpy on some platforms writes `3L` for longs.
                let text = std::str::from_utf8(&self.s[start..self.pos])
                    .map_err(|_| self.err("bad number"))?;
                let n = text.parse::<i64>().map_err(|_| self.err("bad integer"))?;
                if self.s.get(self.pos) == Some(&b'L') {
                    self.pos += 1;
                }
                PyValue::Int(n)
            }
            _ => return Err(self.err("unexpected character")),
        };
        self.depth -= 1;
        Ok(v)
    }

    fn string(&mut self) -> MmapResult<String> {
        let quote = self.s[self.pos];
        self.pos += 1;
        let mut out = Vec::new();
        while let Some(&c) = self.s.get(self.pos) {
            self.pos += 1;
            match c {
                b'\\' => {
                    let e = *self
                        .s
                        .get(self.pos)
                        .ok_or_else(|| self.err("unterminated string"))?;
                    self.pos += 1;
                    out.push(match e {
                        b'n' => b'\n',
                        b't' => b'\t',
                        other => other,
                    });
                }
                c if c == quote => {
                    return String::from_utf8(out).map_err(|_| self.err("string is not UTF-8"));
                }
                c => out.push(c),
            }
        }
        Err(self.err("unterminated string"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_numpy_headers() {
        let mut raw = b"\x93NUMPY\x01\x00".to_vec();
        let dict = b"{'descr': [('id', '<u2'), ('pos', '<f8', (3,)), ('n', [('a', '|i1')])], 'fortran_order': True, 'shape': (4,), }\n";
        raw.extend((dict.len() as u16).to_le_bytes());
        raw.extend(dict);
        let h = parse_header(&raw).unwrap();
        assert!(h.fortran_order);
        assert_eq!(h.shape, vec![4]);
        assert_eq!(
            h.dtype.to_json(),
            json!([["id", "<u2"], ["pos", "<f8", [3]], ["n", [["a", "|i1"]]]])
        );
        let again = NpyHeader::new(h.dtype.clone(), vec![4], true);
        assert_eq!(parse_header(&again.to_bytes()).unwrap().dtype, h.dtype);
    }

    #[test]
    fn zero_d_and_empty_shapes() {
        for shape in [vec![], vec![0], vec![2, 0, 3]] {
            let h = NpyHeader::new(
                DataType::parse_typestr("<U3").unwrap(),
                shape.clone(),
                false,
            );
            assert_eq!(parse_header(&h.to_bytes()).unwrap().shape, shape);
        }
    }

    #[test]
    fn malformed_headers_are_errors() {
        let good =
            NpyHeader::new(DataType::parse_typestr("<i4").unwrap(), vec![3], false).to_bytes();
        for cut in [0, 5, 9, 20, good.len() - 1] {
            assert!(parse_header(&good[..cut]).is_err(), "cut at {cut}");
        }
        let mut v9 = good.clone();
        v9[6] = 9;
        assert!(parse_header(&v9).is_err());
        let mut junk = good.clone();
        junk[12] = b'@';
        assert!(parse_header(&junk).is_err());
    }
}

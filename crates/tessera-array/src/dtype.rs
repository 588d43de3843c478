//! Zarr v2 data types: numpy type strings (`"<f8"`, `"|S5"`, `"<M8[ns]"`) and structured types.
//!
//! A [`DataType`] is parsed from the `dtype` field of `.zarray` and written back in the same form. It knows
//! its item size, its byte order and, for structured types, the layout of its fields.
//!
//! ```
//! use tessera_array::DataType;
//! use serde_json::json;
//!
//! let dt = DataType::from_json(&json!("<f8")).unwrap();
//! assert_eq!(dt.itemsize(), 8);
//! let rec = DataType::from_json(&json!([["id", "<u2"], ["pos", "<f8", [3]]])).unwrap();
//! assert_eq!(rec.itemsize(), 2 + 3 * 8);
//! assert_eq!(rec.to_json(), json!([["id", "<u2"], ["pos", "<f8", [3]]]));
//! assert!(DataType::from_json(&json!("<q9")).is_err());
//! ```

use std::fmt;

use serde_json::Value;

use crate::error::{ArrayError, ArrayResult};

/// Byte order of a multi-byte scalar as stored on disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ByteOrder {
    /// `<`: least significant byte first.
    Little,
    /// `>`: most significant byte first.
    Big,
}

impl ByteOrder {
    /// The byte order of the machine running this code.
    pub const NATIVE: ByteOrder = if cfg!(target_endian = "big") {
        ByteOrder::Big
    } else {
        ByteOrder::Little
    };

    fn prefix(self) -> char {
        match self {
            ByteOrder::Little => '<',
            ByteOrder::Big => '>',
        }
    }
}

/// The unit of a numpy `datetime64` / `timedelta64` value, e.g. `ns` in `<M8[ns]` or `10s` in `<m8[10s]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TimeUnit {
    /// How many base units make one step (1 for `[ns]`, 10 for `[10s]`).
    pub count: u64,
    /// The base unit: one of `Y M W D h m s ms us ns ps fs as`, or `generic` for a bare `M8`.
    pub base: String,
}

const TIME_UNITS: [&str; 13] = [
    "Y", "M", "W", "D", "h", "m", "s", "ms", "us", "ns", "ps", "fs", "as",
];

impl TimeUnit {
    fn parse(text: &str) -> Option<TimeUnit> {
        let digits = text.chars().take_while(|c| c.is_ascii_digit()).count();
        let (count, base) = text.split_at(digits);
        let count = if count.is_empty() {
            1
        } else {
            count.parse().ok().filter(|&c| c > 0)?
        };
        // numpy spells microseconds either `us` or `μs`; the type string always says `us`.
        TIME_UNITS.contains(&base).then(|| TimeUnit {
            count,
            base: base.to_string(),
        })
    }
}

impl fmt::Display for TimeUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.base == "generic" {
            return Ok(());
        }
        if self.count == 1 {
            write!(f, "[{}]", self.base)
        } else {
            write!(f, "[{}{}]", self.count, self.base)
        }
    }
}

/// One named field of a structured data type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Field {
    /// The field's name (may be empty for padding, as numpy's `descr` writes it).
    pub name: String,
    /// The field's element type.
    pub dtype: DataType,
    /// The sub-array shape, e.g. `[3]` for `('pos', '<f8', (3,))`; empty for a scalar field.
    pub shape: Vec<usize>,
}

impl Field {
    /// Bytes one value of this field occupies.
    pub fn itemsize(&self) -> usize {
        self.dtype.itemsize() * self.shape.iter().product::<usize>()
    }
}

/// A Zarr v2 data type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum DataType {
    /// `|b1`: one byte, 0 or 1.
    Bool,
    /// `i1`..`i8`: signed integer of `size` bytes.
    Int {
        /// Bytes: 1, 2, 4 or 8.
        size: usize,
        /// Byte order on disk.
        order: ByteOrder,
    },
    /// `u1`..`u8`: unsigned integer of `size` bytes.
    UInt {
        /// Bytes: 1, 2, 4 or 8.
        size: usize,
        /// Byte order on disk.
        order: ByteOrder,
    },
    /// `f2`, `f4`, `f8`: IEEE floating point.
    Float {
        /// Bytes: 2, 4 or 8.
        size: usize,
        /// Byte order on disk.
        order: ByteOrder,
    },
    /// `c8`, `c16`: complex of two floats (real, imaginary).
    Complex {
        /// Bytes of the pair: 8 or 16.
        size: usize,
        /// Byte order of each float on disk.
        order: ByteOrder,
    },
    /// `M8[unit]`: 64-bit datetime.
    DateTime {
        /// The time unit.
        unit: TimeUnit,
        /// Byte order on disk.
        order: ByteOrder,
    },
    /// `m8[unit]`: 64-bit timedelta.
    TimeDelta {
        /// The time unit.
        unit: TimeUnit,
        /// Byte order on disk.
        order: ByteOrder,
    },
    /// `|S n`: fixed-width bytes, NUL padded.
    Bytes(usize),
    /// `U n`: fixed-width UCS-4 text of `chars` code points.
    Unicode {
        /// Code points per value.
        chars: usize,
        /// Byte order of each code point.
        order: ByteOrder,
    },
    /// `|V n`: opaque bytes.
    Void(usize),
    /// A structured (record) type: fields laid out one after another.
    Structured(Vec<Field>),
    /// `|O`: variable-length values (text, bytes, ragged rows, JSON-like objects) whose meaning
    /// and encoding come from the array's object codec (`vlen-utf8`, ...), the first filter.
    /// Read and written with [`Array::read_objects`](crate::Array::read_objects); the item size
    /// reported is numpy's (a pointer, 8), never used to lay out data.
    Object,
}

/// Largest item size accepted (1 GiB): bigger values only come from corrupt metadata.
const MAX_ITEMSIZE: usize = 1 << 30;
/// Deepest nesting of structured types accepted.
const MAX_DEPTH: usize = 32;

impl DataType {
    /// Parses the `dtype` field of `.zarray`: a type string or a structured field list.
    ///
    /// # Errors
    /// [`ArrayError::Metadata`] naming `dtype` when the value is not a type Zarr v2 allows.
    pub fn from_json(value: &Value) -> ArrayResult<DataType> {
        Self::from_json_depth(value, 0)
    }

    fn from_json_depth(value: &Value, depth: usize) -> ArrayResult<DataType> {
        if depth > MAX_DEPTH {
            return Err(bad_dtype("structured type nested too deeply"));
        }
        let dt = match value {
            Value::String(s) => Self::parse_typestr(s)?,
            Value::Array(items) => {
                if items.is_empty() {
                    return Err(bad_dtype("a structured type needs at least one field"));
                }
                let mut fields = Vec::with_capacity(items.len());
                for item in items {
                    fields.push(Self::parse_field(item, depth)?);
                }
                let mut names: Vec<&str> = fields
                    .iter()
                    .map(|f| f.name.as_str())
                    .filter(|n| !n.is_empty())
                    .collect();
                names.sort_unstable();
                if names.windows(2).any(|w| w[0] == w[1]) {
                    return Err(bad_dtype("structured type has duplicate field names"));
                }
                DataType::Structured(fields)
            }
            other => {
                return Err(bad_dtype(format!(
                    "expected a type string or a list of fields, found {other}"
                )));
            }
        };
        if dt.checked_itemsize().is_none_or(|s| s > MAX_ITEMSIZE) {
            return Err(bad_dtype("item size is larger than 1 GiB"));
        }
        Ok(dt)
    }

    fn parse_field(item: &Value, depth: usize) -> ArrayResult<Field> {
        let parts = item
            .as_array()
            .filter(|p| p.len() == 2 || p.len() == 3)
            .ok_or_else(|| {
                bad_dtype(format!(
                    "a field must be [name, type] or [name, type, shape], found {item}"
                ))
            })?;
        let name = parts[0]
            .as_str()
            .ok_or_else(|| bad_dtype(format!("field name must be a string, found {}", parts[0])))?
            .to_string();
        let dtype = Self::from_json_depth(&parts[1], depth + 1)?;
        let shape = match parts.get(2) {
            None => Vec::new(),
            Some(Value::Array(dims)) => dims
                .iter()
                .map(|d| {
                    d.as_u64()
                        .and_then(|d| usize::try_from(d).ok())
                        .ok_or_else(|| {
                            bad_dtype(format!("field {name:?}: bad sub-array dimension {d}"))
                        })
                })
                .collect::<ArrayResult<Vec<_>>>()?,
            // numpy also accepts a bare integer for a 1-d sub-array.
            Some(Value::Number(n)) => vec![
                n.as_u64()
                    .and_then(|d| usize::try_from(d).ok())
                    .ok_or_else(|| {
                        bad_dtype(format!("field {name:?}: bad sub-array dimension {n}"))
                    })?,
            ],
            Some(other) => {
                return Err(bad_dtype(format!(
                    "field {name:?}: bad sub-array shape {other}"
                )));
            }
        };
        Ok(Field { name, dtype, shape })
    }

    /// Parses one numpy type string such as `<i4`, `|b1`, `>f8`, `<M8[ns]`, `|S12`, `<U3`, `|V8`.
    ///
    /// # Errors
    /// [`ArrayError::Metadata`] naming `dtype` for anything else.
    pub fn parse_typestr(s: &str) -> ArrayResult<DataType> {
        let mut chars = s.chars();
        let prefix = chars.next().ok_or_else(|| bad_dtype("empty type string"))?;
        let order = match prefix {
            '<' => Some(ByteOrder::Little),
            '>' => Some(ByteOrder::Big),
            '|' => None,
            '=' => Some(ByteOrder::NATIVE),
            _ => {
                return Err(bad_dtype(format!(
                    "type string {s:?} must start with <, > or |"
                )));
            }
        };
        let rest = chars.as_str();
        let kind = rest
            .chars()
            .next()
            .ok_or_else(|| bad_dtype(format!("type string {s:?} has no kind")))?;
        let tail = &rest[kind.len_utf8()..];
        let unknown = || bad_dtype(format!("unknown type string {s:?}"));
        // Multi-byte scalars need a byte order; `|` means "not applicable" and is only allowed for one byte.
        let ordered = |size: usize| -> ArrayResult<ByteOrder> {
            match order {
                Some(o) => Ok(o),
                None if size == 1 => Ok(ByteOrder::NATIVE),
                None => Err(bad_dtype(format!(
                    "type string {s:?}: a {size}-byte type needs < or >"
                ))),
            }
        };
        let parse_size = |t: &str| -> ArrayResult<usize> {
            if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
                return Err(unknown());
            }
            t.parse::<usize>().map_err(|_| unknown())
        };
        match kind {
            'b' => match parse_size(tail)? {
                1 => Ok(DataType::Bool),
                _ => Err(unknown()),
            },
            'i' | 'u' => {
                let size = parse_size(tail)?;
                if ![1, 2, 4, 8].contains(&size) {
                    return Err(unknown());
                }
                let order = ordered(size)?;
                Ok(if kind == 'i' {
                    DataType::Int { size, order }
                } else {
                    DataType::UInt { size, order }
                })
            }
            'f' => {
                let size = parse_size(tail)?;
                if ![2, 4, 8].contains(&size) {
                    return Err(unknown());
                }
                Ok(DataType::Float {
                    size,
                    order: ordered(size)?,
                })
            }
            'c' => {
                let size = parse_size(tail)?;
                if ![8, 16].contains(&size) {
                    return Err(unknown());
                }
                Ok(DataType::Complex {
                    size,
                    order: ordered(size)?,
                })
            }
            'M' | 'm' => {
                let unit_text = tail.strip_prefix('8').ok_or_else(unknown)?;
                let unit = if unit_text.is_empty() {
                    TimeUnit {
                        count: 1,
                        base: "generic".into(),
                    }
                } else {
                    let inner = unit_text
                        .strip_prefix('[')
                        .and_then(|u| u.strip_suffix(']'))
                        .ok_or_else(unknown)?;
                    TimeUnit::parse(inner).ok_or_else(unknown)?
                };
                let order = ordered(8)?;
                Ok(if kind == 'M' {
                    DataType::DateTime { unit, order }
                } else {
                    DataType::TimeDelta { unit, order }
                })
            }
            'S' | 'a' => Ok(DataType::Bytes(parse_size(tail)?)),
            'V' => Ok(DataType::Void(parse_size(tail)?)),
            'O' if tail.is_empty() || tail == "8" => Ok(DataType::Object),
            'U' => {
                let chars = parse_size(tail)?;
                Ok(DataType::Unicode {
                    chars,
                    order: order.unwrap_or(ByteOrder::NATIVE),
                })
            }
            'O' => Err(ArrayError::unsupported(
                format!("object dtype {s:?}"),
                "object arrays are read and written as \"|O\" (8-byte object references)",
            )),
            _ => Err(unknown()),
        }
    }

    /// The `dtype` value for `.zarray`: a type string, or a field list for structured types.
    pub fn to_json(&self) -> Value {
        match self {
            DataType::Structured(fields) => Value::Array(
                fields
                    .iter()
                    .map(|f| {
                        let mut parts = vec![Value::String(f.name.clone()), f.dtype.to_json()];
                        if !f.shape.is_empty() {
                            parts.push(Value::Array(
                                f.shape.iter().map(|&d| Value::from(d)).collect(),
                            ));
                        }
                        Value::Array(parts)
                    })
                    .collect(),
            ),
            other => Value::String(other.typestr()),
        }
    }

    /// The numpy type string, e.g. `<f8`; for structured types a compact `[(name, type), ...]` description.
    pub fn typestr(&self) -> String {
        let ord = |o: &ByteOrder, size: usize| if size == 1 { '|' } else { o.prefix() };
        match self {
            DataType::Bool => "|b1".into(),
            DataType::Int { size, order } => format!("{}i{size}", ord(order, *size)),
            DataType::UInt { size, order } => format!("{}u{size}", ord(order, *size)),
            DataType::Float { size, order } => format!("{}f{size}", order.prefix()),
            DataType::Complex { size, order } => format!("{}c{size}", order.prefix()),
            DataType::DateTime { unit, order } => format!("{}M8{unit}", order.prefix()),
            DataType::TimeDelta { unit, order } => format!("{}m8{unit}", order.prefix()),
            DataType::Bytes(n) => format!("|S{n}"),
            DataType::Unicode { chars, order } => format!("{}U{chars}", order.prefix()),
            DataType::Void(n) => format!("|V{n}"),
            DataType::Object => "|O".into(),
            DataType::Structured(_) => self.to_json().to_string(),
        }
    }

    fn checked_itemsize(&self) -> Option<usize> {
        match self {
            DataType::Bool => Some(1),
            DataType::Int { size, .. }
            | DataType::UInt { size, .. }
            | DataType::Float { size, .. }
            | DataType::Complex { size, .. } => Some(*size),
            DataType::DateTime { .. } | DataType::TimeDelta { .. } | DataType::Object => Some(8),
            DataType::Bytes(n) | DataType::Void(n) => Some(*n),
            DataType::Unicode { chars, .. } => chars.checked_mul(4),
            DataType::Structured(fields) => fields.iter().try_fold(0usize, |acc, f| {
                let count = f.shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d))?;
                acc.checked_add(f.dtype.checked_itemsize()?.checked_mul(count)?)
            }),
        }
    }

    /// Bytes one element occupies.
    pub fn itemsize(&self) -> usize {
        // Every DataType built through the parser has a checked size.
        self.checked_itemsize().unwrap_or(usize::MAX)
    }

    /// The byte order of a scalar type with more than one byte per swap unit; `None` for single-byte,
    /// byte-string, void and structured types (structured fields carry their own order).
    pub fn byte_order(&self) -> Option<ByteOrder> {
        match self {
            DataType::Int { size, order } | DataType::UInt { size, order } if *size > 1 => {
                Some(*order)
            }
            DataType::Float { order, .. }
            | DataType::Complex { order, .. }
            | DataType::DateTime { order, .. }
            | DataType::TimeDelta { order, .. }
            | DataType::Unicode { order, .. } => Some(*order),
            _ => None,
        }
    }

    /// Size of the unit that a byte swap reverses: 8 for `c16` (each half), 4 for `U`, the size for numbers.
    pub fn swap_unit(&self) -> usize {
        match self {
            DataType::Complex { size, .. } => size / 2,
            DataType::Unicode { .. } => 4,
            other => other.itemsize(),
        }
    }

    /// True when any scalar inside this type is stored in non-native byte order.
    pub fn needs_swap(&self) -> bool {
        match self {
            DataType::Structured(fields) => fields.iter().any(|f| f.dtype.needs_swap()),
            other => {
                other.byte_order().is_some_and(|o| o != ByteOrder::NATIVE) && other.swap_unit() > 1
            }
        }
    }

    /// The same type with every scalar in native byte order.
    pub fn to_native(&self) -> DataType {
        self.with_order(ByteOrder::NATIVE)
    }

    /// The same type with every multi-byte scalar in `order`.
    pub fn with_order(&self, new: ByteOrder) -> DataType {
        let mut dt = self.clone();
        match &mut dt {
            DataType::Int { order, .. }
            | DataType::UInt { order, .. }
            | DataType::Float { order, .. }
            | DataType::Complex { order, .. }
            | DataType::DateTime { order, .. }
            | DataType::TimeDelta { order, .. }
            | DataType::Unicode { order, .. } => *order = new,
            DataType::Structured(fields) => {
                for f in fields.iter_mut() {
                    f.dtype = f.dtype.with_order(new);
                }
            }
            DataType::Bool | DataType::Bytes(_) | DataType::Void(_) | DataType::Object => {}
        }
        dt
    }

    /// Converts `count` consecutive elements in `bytes` between this type's byte order and native order
    /// (the operation is its own inverse). Structured types swap field by field.
    pub fn swap_to_native(&self, bytes: &mut [u8]) {
        if !self.needs_swap() {
            return;
        }
        let itemsize = self.itemsize();
        if itemsize == 0 {
            return;
        }
        match self {
            DataType::Structured(_) => {
                let mut plan = Vec::new();
                self.swap_plan(0, &mut plan);
                for element in bytes.chunks_exact_mut(itemsize) {
                    for &(offset, unit, count) in &plan {
                        for k in 0..count {
                            let start = offset + k * unit;
                            element[start..start + unit].reverse();
                        }
                    }
                }
            }
            other => swap_units(bytes, other.swap_unit()),
        }
    }

    /// (offset, unit, count) triples describing every run of swappable units within one element.
    fn swap_plan(&self, base: usize, plan: &mut Vec<(usize, usize, usize)>) {
        match self {
            DataType::Structured(fields) => {
                let mut offset = base;
                for f in fields {
                    let n: usize = f.shape.iter().product();
                    for k in 0..n {
                        f.dtype.swap_plan(offset + k * f.dtype.itemsize(), plan);
                    }
                    offset += f.itemsize();
                }
            }
            other if other.needs_swap() => {
                let unit = other.swap_unit();
                plan.push((base, unit, other.itemsize() / unit));
            }
            _ => {}
        }
    }

    /// True for types whose elements have a fixed numeric meaning (not bytes, text, void or records).
    pub fn is_numeric(&self) -> bool {
        !matches!(
            self,
            DataType::Bytes(_)
                | DataType::Unicode { .. }
                | DataType::Void(_)
                | DataType::Structured(_)
                | DataType::Object
        )
    }

    /// True for `|O`, whose values have no fixed size (see [`DataType::Object`]).
    pub fn is_object(&self) -> bool {
        matches!(self, DataType::Object)
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.typestr())
    }
}

/// Reverses every `unit`-byte group of `bytes` in place.
pub(crate) fn swap_units(bytes: &mut [u8], unit: usize) {
    match unit {
        0 | 1 => {}
        2 => bytes.chunks_exact_mut(2).for_each(|c| c.swap(0, 1)),
        4 => bytes.chunks_exact_mut(4).for_each(|c| {
            let v = u32::from_ne_bytes([c[0], c[1], c[2], c[3]]).swap_bytes();
            c.copy_from_slice(&v.to_ne_bytes());
        }),
        8 => bytes.chunks_exact_mut(8).for_each(|c| {
            let mut a = [0u8; 8];
            a.copy_from_slice(c);
            c.copy_from_slice(&u64::from_ne_bytes(a).swap_bytes().to_ne_bytes());
        }),
        n => bytes.chunks_exact_mut(n).for_each(|c| c.reverse()),
    }
}

fn bad_dtype(msg: impl Into<String>) -> ArrayError {
    ArrayError::metadata("dtype", msg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_scalar_typestr_round_trips() {
        for s in [
            "|b1", "|i1", "<i2", ">i4", "<i8", "|u1", "<u2", ">u4", "<u8", "<f2", ">f4", "<f8",
            "<c8", ">c16", "<M8[ns]", ">M8[D]", "<m8[10s]", "<M8", "|S5", "<U7", ">U3", "|V6",
            "|O",
        ] {
            let dt = DataType::parse_typestr(s).unwrap();
            assert_eq!(dt.typestr(), s, "{s}");
        }
    }

    #[test]
    fn bad_typestrings_are_refused() {
        for s in [
            "", "i4", "<i3", "<f16", "|i2", "<M8[xs]", "<M8[ns", "<b2", "<Sx", "<q8", "<U", "<c4",
            "<f",
        ] {
            let err = DataType::parse_typestr(s).unwrap_err();
            assert!(err.to_string().contains("dtype"), "{s}: {err}");
        }
    }

    #[test]
    fn structured_types_nest_and_round_trip() {
        let v = json!([
            ["a", [["b", "<i2"], ["c", "|u1"]]],
            ["d", ">f4"],
            ["pos", "<f8", [2, 3]]
        ]);
        let dt = DataType::from_json(&v).unwrap();
        assert_eq!(dt.itemsize(), 3 + 4 + 48);
        assert_eq!(dt.to_json(), v);
        assert!(dt.needs_swap());
    }

    #[test]
    fn structured_swap_touches_only_multibyte_fields() {
        let dt = DataType::from_json(&json!([["a", ">i2"], ["b", "|u1"], ["c", ">u4"]])).unwrap();
        let mut bytes = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07];
        dt.swap_to_native(&mut bytes);
        assert_eq!(bytes, [0x02, 0x01, 0x03, 0x07, 0x06, 0x05, 0x04]);
    }

    #[test]
    fn oversized_and_duplicate_structured_types_are_refused() {
        assert!(DataType::from_json(&json!([["a", "<f8", [1u64 << 40]]])).is_err());
        assert!(DataType::from_json(&json!([["a", "<f8"], ["a", "<i4"]])).is_err());
        assert!(DataType::from_json(&json!([])).is_err());
        assert!(DataType::from_json(&json!(5)).is_err());
    }
}

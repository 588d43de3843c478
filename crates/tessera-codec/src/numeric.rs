//! numpy numeric dtypes as the filters see them: parse a typestr, read and write elements in
//! either byte order, and cast between them with numpy's (C's) conversion rules.

use half::f16;

use crate::error::{CodecError, CodecResult};

/// The kind of a numeric dtype.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Bool,
    Int,
    UInt,
    Float,
}

/// A numpy numeric dtype: `<i2`, `>f8`, `|u1`, `|b1`...
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NumType {
    pub(crate) kind: Kind,
    pub(crate) size: usize,
    pub(crate) big_endian: bool,
}

/// One element's value, widened losslessly.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Num {
    I(i64),
    U(u64),
    F(f64),
}

impl NumType {
    /// Parses a numpy typestr (`<f4`, `|u1`, `>i8`, `f8`, `=i2`) or a numpy type name
    /// (`float32`, `uint8`, `bool`). Only bool, int, uint and float dtypes are numeric here.
    pub(crate) fn parse(codec: &str, s: &str) -> CodecResult<NumType> {
        let named = match s {
            "bool" => Some("|b1"),
            "int8" => Some("|i1"),
            "uint8" => Some("|u1"),
            "int16" => Some("=i2"),
            "uint16" => Some("=u2"),
            "int32" => Some("=i4"),
            "uint32" => Some("=u4"),
            "int64" => Some("=i8"),
            "uint64" => Some("=u8"),
            "float16" => Some("=f2"),
            "float32" => Some("=f4"),
            "float64" => Some("=f8"),
            _ => None,
        };
        let s2 = named.unwrap_or(s);
        let (order, rest) = match s2.chars().next() {
            Some(c @ ('<' | '>' | '=' | '|')) => (Some(c), &s2[1..]),
            _ => (None, s2),
        };
        let bad = || {
            CodecError::unsupported(codec, format!("unsupported or invalid numeric dtype {s:?}"))
        };
        let mut chars = rest.chars();
        let kind = match chars.next().ok_or_else(bad)? {
            'b' | '?' => Kind::Bool,
            'i' => Kind::Int,
            'u' => Kind::UInt,
            'f' => Kind::Float,
            _ => return Err(bad()),
        };
        let digits = chars.as_str();
        let size: usize = if digits.is_empty() {
            match kind {
                Kind::Bool => 1,
                Kind::Float => 8,
                _ => return Err(bad()),
            }
        } else {
            digits.parse().map_err(|_| bad())?
        };
        let ok = match kind {
            Kind::Bool => size == 1,
            Kind::Int | Kind::UInt => matches!(size, 1 | 2 | 4 | 8),
            Kind::Float => matches!(size, 2 | 4 | 8),
        };
        if !ok {
            return Err(bad());
        }
        let big_endian = match order {
            Some('>') => true,
            Some('<') | Some('|') => false,
            _ => cfg!(target_endian = "big"),
        };
        Ok(NumType {
            kind,
            size,
            big_endian: big_endian && size > 1,
        })
    }

    /// Reads element `i` of `bytes` (which holds whole elements of this type).
    #[inline]
    pub(crate) fn read(&self, bytes: &[u8], i: usize) -> Num {
        let b = &bytes[i * self.size..(i + 1) * self.size];
        let mut buf = [0u8; 8];
        buf[..self.size].copy_from_slice(b);
        if self.big_endian {
            buf[..self.size].reverse();
        }
        let raw = u64::from_le_bytes(buf);
        match self.kind {
            Kind::Bool => Num::U((raw != 0) as u64),
            Kind::UInt => Num::U(raw),
            Kind::Int => {
                let shift = 64 - 8 * self.size as u32;
                Num::I(((raw << shift) as i64) >> shift)
            }
            Kind::Float => Num::F(match self.size {
                2 => f16::from_bits(raw as u16).to_f64(),
                4 => f32::from_bits(raw as u32) as f64,
                _ => f64::from_bits(raw),
            }),
        }
    }

    /// Writes `v` as element `i` of `bytes`, converting as numpy's `astype` does: integers
    /// wrap, floats truncate toward zero into integers, floats round to nearest.
    #[inline]
    pub(crate) fn write(&self, bytes: &mut [u8], i: usize, v: Num) {
        let raw: u64 = match self.kind {
            Kind::Bool => match v {
                Num::I(x) => (x != 0) as u64,
                Num::U(x) => (x != 0) as u64,
                Num::F(x) => (x != 0.0) as u64,
            },
            Kind::Int | Kind::UInt => match v {
                Num::I(x) => x as u64,
                Num::U(x) => x,
                Num::F(x) => {
                    if self.kind == Kind::UInt && x >= 9_223_372_036_854_775_808.0 {
                        x as u64
                    } else {
                        x as i64 as u64
                    }
                }
            },
            Kind::Float => match self.size {
                2 => f16::from_f64(v.to_f64()).to_bits() as u64,
                4 => (match v {
                    Num::I(x) => x as f32,
                    Num::U(x) => x as f32,
                    Num::F(x) => x as f32,
                })
                .to_bits() as u64,
                _ => v.to_f64().to_bits(),
            },
        };
        let le = raw.to_le_bytes();
        let out = &mut bytes[i * self.size..(i + 1) * self.size];
        out.copy_from_slice(&le[..self.size]);
        if self.big_endian {
            out.reverse();
        }
    }

    /// Rounds an exact f64 result to this float type's precision, as numpy's arithmetic in that
    /// type would (f64 holds more than twice the bits of f32 and f16, so rounding once from f64
    /// equals rounding the exact result).
    #[inline]
    pub(crate) fn round_float(&self, x: f64) -> f64 {
        match self.size {
            2 => f16::from_f64(x).to_f64(),
            4 => x as f32 as f64,
            _ => x,
        }
    }

    /// Number of whole elements in `len` bytes, or an error naming the codec.
    pub(crate) fn count(&self, codec: &str, len: usize) -> CodecResult<usize> {
        if !len.is_multiple_of(self.size) {
            return Err(CodecError::invalid(
                codec,
                format!(
                    "{len} bytes is not a whole number of {}-byte elements",
                    self.size
                ),
            ));
        }
        Ok(len / self.size)
    }

    /// Wrapping integer arithmetic in this integer type: the low `size` bytes, sign-extended.
    #[inline]
    pub(crate) fn wrap_int(&self, x: i128) -> Num {
        let shift = 128 - 8 * self.size as u32;
        match self.kind {
            Kind::UInt => Num::U((((x as u128) << shift) >> shift) as u64),
            _ => Num::I((((x as u128) << shift) as i128 >> shift) as i64),
        }
    }

    /// Whether numpy casts this type to `to` under `casting="safe"` (no value can change):
    /// bool to anything; an integer to a wider or equal integer of its signedness, to a strictly
    /// wider signed one, or to a float with more bytes (any 64-bit integer to f8, as numpy
    /// allows); a float to a wider or equal float.
    pub(crate) fn casts_safely_to(&self, to: &NumType) -> bool {
        match (self.kind, to.kind) {
            (Kind::Bool, _) => true,
            (_, Kind::Bool) => false,
            (Kind::UInt, Kind::UInt) | (Kind::Int, Kind::Int) | (Kind::Float, Kind::Float) => {
                to.size >= self.size
            }
            (Kind::UInt, Kind::Int) => to.size > self.size,
            (Kind::Int | Kind::UInt, Kind::Float) => to.size > self.size || to.size == 8,
            (Kind::Int, Kind::UInt) | (Kind::Float, Kind::Int | Kind::UInt) => false,
        }
    }

    /// Whether a Python int fits this integer type (numpy 2 refuses arithmetic otherwise).
    pub(crate) fn fits(&self, x: i128) -> bool {
        let bits = 8 * self.size as u32;
        match self.kind {
            Kind::UInt => x >= 0 && x < (1i128 << bits),
            Kind::Int => x >= -(1i128 << (bits - 1)) && x < (1i128 << (bits - 1)),
            Kind::Bool => x == 0 || x == 1,
            Kind::Float => true,
        }
    }
}

impl Num {
    #[inline]
    pub(crate) fn to_f64(self) -> f64 {
        match self {
            Num::I(x) => x as f64,
            Num::U(x) => x as f64,
            Num::F(x) => x,
        }
    }

    #[inline]
    pub(crate) fn to_i128(self) -> i128 {
        match self {
            Num::I(x) => x as i128,
            Num::U(x) => x as i128,
            Num::F(x) => x as i128,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_typestrs_and_names() {
        let t = NumType::parse("t", ">i2").unwrap();
        assert_eq!((t.kind, t.size, t.big_endian), (Kind::Int, 2, true));
        let t = NumType::parse("t", "float32").unwrap();
        assert_eq!((t.kind, t.size), (Kind::Float, 4));
        assert!(NumType::parse("t", "<U5").is_err());
        assert!(NumType::parse("t", "<i3").is_err());
    }

    #[test]
    fn reads_and_writes_both_byte_orders() {
        for s in ["<i2", ">i2", "<u4", ">f8", "<f2", ">f4"] {
            let t = NumType::parse("t", s).unwrap();
            let mut buf = vec![0u8; t.size * 3];
            t.write(&mut buf, 1, Num::I(-7));
            let back = t.read(&buf, 1).to_f64();
            let want = if t.kind == Kind::UInt {
                (-7i64 as u64 & ((1u128 << (8 * t.size)) - 1) as u64) as f64
            } else {
                -7.0
            };
            assert_eq!(back, want, "{s}");
        }
    }

    #[test]
    fn float_to_int_truncates_and_int_wraps() {
        let t = NumType::parse("t", "|u1").unwrap();
        let mut b = [0u8; 1];
        t.write(&mut b, 0, Num::F(3.9));
        assert_eq!(b[0], 3);
        t.write(&mut b, 0, Num::I(257));
        assert_eq!(b[0], 1);
    }
}

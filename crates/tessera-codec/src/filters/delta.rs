//! `delta`: stores the first element and then differences between neighbours, optionally in a
//! narrower type (`astype`).
//!
//! numcodecs: `numcodecs/delta.py`. Encoding subtracts in `dtype` (integers wrap) and casts to
//! `astype`; decoding accumulates in `dtype` (numpy's `cumsum(enc, out=dec)` sums in the
//! output's type), so integer round trips are exact even when differences wrap.
//!
//! ```
//! use tessera_codec::{CodecChain, Value};
//! let filters = [serde_json::json!({"id": "delta", "dtype": "<i4", "astype": "<i2"})];
//! let chain = CodecChain::from_json(None, Some(&filters))?;
//! let data: Vec<u8> = [100i32, 101, 103, 90].iter().flat_map(|v| v.to_le_bytes()).collect();
//! let blob = chain.encode(&data, 4)?;
//! assert_eq!(blob.len(), 8);
//! assert_eq!(chain.decode(&blob, 16, 4)?, data);
//! # Ok::<(), tessera_codec::CodecError>(())
//! ```

use serde_json::Value;

use crate::codec::Codec;
use crate::config::Config;
use crate::error::{CodecError, CodecResult};
use crate::filters::expect_len;
use crate::numeric::{Kind, Num, NumType};

/// The numcodecs id.
pub const ID: &str = "delta";

/// The delta filter.
#[derive(Debug, Clone)]
pub struct Delta {
    dtype: NumType,
    astype: NumType,
}

impl Delta {
    /// Reads a numcodecs delta config: `dtype` (required), `astype` (default `dtype`).
    pub fn from_json(config: &Value) -> CodecResult<Self> {
        let c = Config::new(ID, config)?;
        let dtype = NumType::parse(ID, c.required_str("dtype")?)?;
        let astype = match c.get("astype") {
            None => dtype,
            Some(_) => NumType::parse(ID, c.required_str("astype")?)?,
        };
        if dtype.kind == Kind::Bool || astype.kind == Kind::Bool {
            return Err(CodecError::unsupported(
                ID,
                "numpy cannot take differences of booleans",
            ));
        }
        Ok(Delta { dtype, astype })
    }
}

/// `a + b` or `a - b` in the arithmetic of `t`.
#[inline]
pub(crate) fn arith(t: &NumType, a: Num, b: Num, subtract: bool) -> Num {
    match t.kind {
        Kind::Float => {
            let (x, y) = (a.to_f64(), b.to_f64());
            Num::F(t.round_float(if subtract { x - y } else { x + y }))
        }
        _ => {
            let (x, y) = (a.to_i128(), b.to_i128());
            t.wrap_int(if subtract {
                x.wrapping_sub(y)
            } else {
                x.wrapping_add(y)
            })
        }
    }
}

/// Converts `v` to type `t`'s value domain, as storing it in a `t` array would.
#[inline]
pub(crate) fn cast(t: &NumType, v: Num) -> Num {
    let mut buf = [0u8; 8];
    t.write(&mut buf, 0, v);
    t.read(&buf, 0)
}

/// The common case, `astype` equal to `dtype`, as a typed loop (some 20x faster than going
/// through [`Num`]): differences (`encode`) or running sums (decode) with the type's own
/// arithmetic, integers wrapping. Returns false for types it does not handle (f16, bool).
fn same_type_delta(t: NumType, input: &[u8], out: &mut [u8], encode: bool) -> bool {
    macro_rules! run {
        ($ty:ty, $sub:expr, $add:expr) => {{
            const W: usize = std::mem::size_of::<$ty>();
            let read = |b: &[u8]| -> $ty {
                let a: [u8; W] = b.try_into().expect("element");
                if t.big_endian {
                    <$ty>::from_be_bytes(a)
                } else {
                    <$ty>::from_le_bytes(a)
                }
            };
            let bytes = |v: $ty| {
                if t.big_endian {
                    v.to_be_bytes()
                } else {
                    v.to_le_bytes()
                }
            };
            let mut prev: Option<$ty> = None;
            for (src, dst) in input.chunks_exact(W).zip(out.chunks_exact_mut(W)) {
                let v = read(src);
                let r = match prev {
                    None => v,
                    Some(p) if encode => $sub(v, p),
                    Some(p) => $add(p, v),
                };
                dst.copy_from_slice(&bytes(r));
                prev = Some(if encode { v } else { r });
            }
            true
        }};
    }
    match (t.kind, t.size) {
        (Kind::Int, 1) => run!(i8, i8::wrapping_sub, i8::wrapping_add),
        (Kind::Int, 2) => run!(i16, i16::wrapping_sub, i16::wrapping_add),
        (Kind::Int, 4) => run!(i32, i32::wrapping_sub, i32::wrapping_add),
        (Kind::Int, 8) => run!(i64, i64::wrapping_sub, i64::wrapping_add),
        (Kind::UInt, 1) => run!(u8, u8::wrapping_sub, u8::wrapping_add),
        (Kind::UInt, 2) => run!(u16, u16::wrapping_sub, u16::wrapping_add),
        (Kind::UInt, 4) => run!(u32, u32::wrapping_sub, u32::wrapping_add),
        (Kind::UInt, 8) => run!(u64, u64::wrapping_sub, u64::wrapping_add),
        (Kind::Float, 4) => run!(f32, |a: f32, b: f32| a - b, |a: f32, b: f32| a + b),
        (Kind::Float, 8) => run!(f64, |a: f64, b: f64| a - b, |a: f64, b: f64| a + b),
        _ => false,
    }
}

impl Codec for Delta {
    fn id(&self) -> &'static str {
        ID
    }

    fn encode(&self, input: &[u8], _itemsize: usize) -> CodecResult<Vec<u8>> {
        let n = self.dtype.count(ID, input.len())?;
        let mut out = vec![0u8; n * self.astype.size];
        if self.dtype == self.astype && same_type_delta(self.dtype, input, &mut out, true) {
            return Ok(out);
        }
        let mut prev = Num::I(0);
        for i in 0..n {
            let v = self.dtype.read(input, i);
            let d = if i == 0 {
                v
            } else {
                arith(&self.dtype, v, prev, true)
            };
            self.astype.write(&mut out, i, d);
            prev = v;
        }
        Ok(out)
    }

    fn decode_into(&self, input: &[u8], out: &mut [u8], itemsize: usize) -> CodecResult<()> {
        let n = self.dtype.count(ID, out.len())?;
        expect_len(
            ID,
            input,
            self.encoded_len(out.len(), itemsize)?.unwrap_or_default(),
        )?;
        if self.dtype == self.astype && same_type_delta(self.dtype, input, out, false) {
            return Ok(());
        }
        let mut acc = Num::I(0);
        for i in 0..n {
            let d = cast(&self.dtype, self.astype.read(input, i));
            acc = if i == 0 {
                d
            } else {
                arith(&self.dtype, acc, d, false)
            };
            self.dtype.write(out, i, acc);
        }
        Ok(())
    }

    fn encoded_len(&self, decoded_len: usize, _itemsize: usize) -> CodecResult<Option<usize>> {
        Ok(Some(self.dtype.count(ID, decoded_len)? * self.astype.size))
    }

    fn encoded_itemsize(&self, _itemsize: usize) -> usize {
        self.astype.size
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wrapping_integer_roundtrip() {
        let d = Delta::from_json(&json!({"id": "delta", "dtype": ">u2"})).unwrap();
        let data: Vec<u8> = [0u16, 65535, 1, 30000]
            .iter()
            .flat_map(|v| v.to_be_bytes())
            .collect();
        let enc = d.encode(&data, 2).unwrap();
        let mut out = vec![0u8; data.len()];
        d.decode_into(&enc, &mut out, 2).unwrap();
        assert_eq!(out, data);
    }

    #[test]
    fn float_roundtrip_is_exact_for_representable_steps() {
        let d = Delta::from_json(&json!({"id": "delta", "dtype": "<f8"})).unwrap();
        let data: Vec<u8> = [1.0f64, 1.5, 2.25, -3.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let enc = d.encode(&data, 8).unwrap();
        let mut out = vec![0u8; data.len()];
        d.decode_into(&enc, &mut out, 8).unwrap();
        assert_eq!(out, data);
    }
}

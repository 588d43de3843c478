//! `delta`: stores the first element and then differences between neighbours, optionally in a
//! narrower type (`astype`).
//!
//! numcodecs: `numcodecs/delta.py`. Encoding subtracts in `dtype` (integers wrap) and casts to
//! `astype`; decoding is numpy's `cumsum(enc, out=dec)`, which accumulates in `dtype` when
//! `astype` casts safely to it and in `astype` otherwise, then casts to `dtype`; so integer
//! round trips are exact even when differences wrap.
//!
//! Booleans follow numpy too, lossy as it is: `np.diff` of booleans is `!=` (xor), while the
//! boolean `cumsum` is a running `or`, so numcodecs decodes `[T, F, T]` (encoded `[T, T, T]`)
//! as `[T, T, T]`. tessera writes and reads the same bytes as numcodecs, so arrays written
//! by either read alike in both.
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
use crate::error::CodecResult;
use crate::filters::expect_len;
use crate::numeric::{Kind, Num, NumType};

/// The numcodecs id.
pub const ID: &str = "delta";

/// The config fields besides `"id"`, as numcodecs' `get_config` writes them; others are refused.
pub const FIELDS: &[&str] = &["dtype", "astype"];

/// The delta filter.
#[derive(Debug, Clone)]
pub struct Delta {
    dtype: NumType,
    astype: NumType,
}

impl Delta {
    /// Reads a numcodecs delta config: `dtype` (required), `astype` (default `dtype`).
    pub fn from_json(config: &Value) -> CodecResult<Self> {
        let c = Config::new(ID, config, FIELDS)?;
        let dtype = NumType::parse(ID, c.required_str("dtype")?)?;
        let astype = match c.get("astype") {
            None => dtype,
            Some(_) => NumType::parse(ID, c.required_str("astype")?)?,
        };
        Ok(Delta { dtype, astype })
    }
}

/// `a + b` or `a - b` in the arithmetic of `t`. For booleans numpy's `add` is `or` and
/// `np.diff` uses `!=`.
#[inline]
pub(crate) fn arith(t: &NumType, a: Num, b: Num, subtract: bool) -> Num {
    match t.kind {
        Kind::Bool => {
            let (x, y) = (a.to_i128() != 0, b.to_i128() != 0);
            Num::U(if subtract { x != y } else { x || y } as u64)
        }
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
        // numpy's cumsum(enc, out=dec) runs its add loop in the output type only when the
        // input casts safely to it (f4 into f8); otherwise in the input type, casting each
        // running sum to the output (i4 out of f4 sums [0.5, 0.5] to [0, 1]).
        let acc_type = if self.astype.casts_safely_to(&self.dtype) {
            self.dtype
        } else {
            self.astype
        };
        let mut acc = Num::I(0);
        for i in 0..n {
            let d = cast(&acc_type, self.astype.read(input, i));
            acc = if i == 0 {
                d
            } else {
                arith(&acc_type, acc, d, false)
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
    fn booleans_encode_as_numpy_diff_and_decode_as_numpy_cumsum() {
        let d = Delta::from_json(&json!({"id": "delta", "dtype": "|b1"})).unwrap();
        let data = [1u8, 0, 0, 1, 1, 0];
        let enc = d.encode(&data, 1).unwrap();
        assert_eq!(enc, [1, 1, 0, 1, 0, 1]);
        let mut out = [0u8; 6];
        d.decode_into(&enc, &mut out, 1).unwrap();
        // numcodecs' own decode: a running `or`.
        assert_eq!(out, [1, 1, 1, 1, 1, 1]);
        d.decode_into(&[0, 0, 1, 0, 1, 1], &mut out, 1).unwrap();
        assert_eq!(out, [0, 0, 1, 1, 1, 1]);
    }

    #[test]
    fn decode_accumulates_in_the_type_numpy_picks() {
        // f4 does not cast safely to i4: numpy sums in f4 and truncates each running sum.
        let d = Delta::from_json(&json!({"id": "delta", "dtype": "<i4", "astype": "<f4"})).unwrap();
        let enc: Vec<u8> = [0.5f32, 0.5, 0.25]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let mut out = [0u8; 12];
        d.decode_into(&enc, &mut out, 4).unwrap();
        let got: Vec<i32> = out
            .chunks(4)
            .map(|c| i32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        assert_eq!(got, [0, 1, 1]);
        // u1 into bool: sums wrap in u1 (1 + 255 = 0, false).
        let d = Delta::from_json(&json!({"id": "delta", "dtype": "|b1", "astype": "|u1"})).unwrap();
        let mut out = [0u8; 3];
        d.decode_into(&[1, 255, 0], &mut out, 1).unwrap();
        assert_eq!(out, [1, 0, 0]);
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

//! `fixedscaleoffset`: stores `round((x - offset) * scale)` in `astype`, typically to keep a
//! fixed number of decimals of floats in small integers.
//!
//! numcodecs: `numcodecs/fixedscaleoffset.py`. Arithmetic follows numpy 2 (NEP 50): a Python
//! scalar takes the array's float type (so `<f4` data is computed in single precision), integer
//! data with integer `offset`/`scale` stays in integer arithmetic, and `np.around` rounds half
//! to even. Decoding computes `enc / scale + offset` in `astype`'s float type, or in double
//! precision when `astype` is an integer type.
//!
//! ```
//! use tessera_codec::{CodecChain, Value};
//! let filters = [serde_json::json!(
//!     {"id": "fixedscaleoffset", "offset": 1000, "scale": 10, "dtype": "<f8", "astype": "<u2"})];
//! let chain = CodecChain::from_json(None, Some(&filters))?;
//! let data: Vec<u8> = [1000.0f64, 1000.5, 1012.3].iter().flat_map(|v| v.to_le_bytes()).collect();
//! let blob = chain.encode(&data, 8)?;
//! assert_eq!(blob, [0u8, 0, 5, 0, 123, 0]);
//! let back = chain.decode(&blob, data.len(), 8)?;
//! assert_eq!(f64::from_le_bytes(back[16..24].try_into().unwrap()), 1012.3);
//! # Ok::<(), tessera_codec::CodecError>(())
//! ```

use serde_json::Value;

use crate::codec::Codec;
use crate::config::{Config, Number};
use crate::error::{CodecError, CodecResult};
use crate::filters::expect_len;
use crate::numeric::{Kind, Num, NumType};

/// The numcodecs id.
pub const ID: &str = "fixedscaleoffset";

/// The config fields besides `"id"`, as numcodecs' `get_config` writes them; others are refused.
pub const FIELDS: &[&str] = &["scale", "offset", "dtype", "astype"];

/// The fixed scale-offset filter.
#[derive(Debug, Clone)]
pub struct FixedScaleOffset {
    offset: Number,
    scale: Number,
    dtype: NumType,
    astype: NumType,
}

const F64: NumType = NumType {
    kind: Kind::Float,
    size: 8,
    big_endian: false,
};

/// The type numpy computes `array op python_scalar` in.
pub(crate) fn result_type(array: NumType, scalar: Number) -> NumType {
    match array.kind {
        Kind::Float => array,
        _ if scalar.is_float() => F64,
        Kind::Bool => NumType {
            kind: Kind::Int,
            size: 8,
            big_endian: false,
        },
        _ => array,
    }
}

/// `v op s` computed in `t` (as returned by [`result_type`]).
pub(crate) fn scalar_op(
    t: NumType,
    v: Num,
    s: Number,
    op: fn(f64, f64) -> f64,
    int_op: fn(i128, i128) -> i128,
) -> Num {
    match (t.kind, s) {
        (Kind::Float, s) => Num::F(t.round_float(op(v.to_f64(), t.round_float(s.as_f64())))),
        (_, Number::Int(i)) => t.wrap_int(int_op(v.to_i128(), i)),
        (_, Number::Float(f)) => Num::F(op(v.to_f64(), f)),
    }
}

impl FixedScaleOffset {
    /// Reads a numcodecs fixedscaleoffset config: `offset`, `scale`, `dtype` (required) and
    /// `astype` (default `dtype`).
    pub fn from_json(config: &Value) -> CodecResult<Self> {
        let c = Config::new(ID, config, FIELDS)?;
        let offset = c.number("offset", None)?;
        let scale = c.number("scale", None)?;
        let dtype = NumType::parse(ID, c.required_str("dtype")?)?;
        let astype = match c.get("astype") {
            None => dtype,
            Some(_) => NumType::parse(ID, c.required_str("astype")?)?,
        };
        for (name, n) in [("offset", offset), ("scale", scale)] {
            if let Number::Int(i) = n
                && dtype.kind != Kind::Float
                && !dtype.fits(i)
            {
                return Err(CodecError::invalid(
                    ID,
                    format!("{name} {i} does not fit dtype (numpy refuses it)"),
                ));
            }
        }
        Ok(FixedScaleOffset {
            offset,
            scale,
            dtype,
            astype,
        })
    }
}

impl Codec for FixedScaleOffset {
    fn id(&self) -> &'static str {
        ID
    }

    fn encode(&self, input: &[u8], _itemsize: usize) -> CodecResult<Vec<u8>> {
        let n = self.dtype.count(ID, input.len())?;
        let t1 = result_type(self.dtype, self.offset);
        let t2 = result_type(t1, self.scale);
        let mut out = vec![0u8; n * self.astype.size];
        for i in 0..n {
            let v = self.dtype.read(input, i);
            let d = scalar_op(t1, v, self.offset, |a, b| a - b, i128::wrapping_sub);
            let s = scalar_op(t2, d, self.scale, |a, b| a * b, i128::wrapping_mul);
            let r = match s {
                Num::F(f) => Num::F(f.round_ties_even()),
                other => other,
            };
            self.astype.write(&mut out, i, r);
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
        let t = if self.astype.kind == Kind::Float {
            self.astype
        } else {
            F64
        };
        let (scale, offset) = (
            t.round_float(self.scale.as_f64()),
            t.round_float(self.offset.as_f64()),
        );
        for i in 0..n {
            let e = self.astype.read(input, i).to_f64();
            let v = t.round_float(t.round_float(e / scale) + offset);
            self.dtype.write(out, i, Num::F(v));
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

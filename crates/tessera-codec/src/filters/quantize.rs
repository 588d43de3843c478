//! `quantize`: keeps `digits` decimal digits of floats by rounding to a power-of-two grid
//! (lossy; the zeroed low mantissa bits then compress well).
//!
//! numcodecs: `numcodecs/quantize.py`: `scale = 2**ceil(log2(10**-floor(log10(10**-digits))))`,
//! `enc = around(scale * x) / scale` computed in `dtype`'s precision, stored as `astype`.
//!
//! ```
//! use tessera_codec::{CodecChain, Value};
//! let filters = [serde_json::json!({"id": "quantize", "digits": 2, "dtype": "<f8", "astype": "<f4"})];
//! let chain = CodecChain::from_json(None, Some(&filters))?;
//! let data: Vec<u8> = [3.14159f64, 2.71828].iter().flat_map(|v| v.to_le_bytes()).collect();
//! let blob = chain.encode(&data, 8)?;
//! assert_eq!(blob.len(), 8);
//! let back = chain.decode(&blob, 16, 8)?;
//! assert!((f64::from_le_bytes(back[..8].try_into().unwrap()) - 3.14159).abs() < 0.01);
//! # Ok::<(), tessera_codec::CodecError>(())
//! ```

use serde_json::Value;

use crate::codec::Codec;
use crate::config::Config;
use crate::error::{CodecError, CodecResult};
use crate::filters::expect_len;
use crate::numeric::{Kind, Num, NumType};

/// The numcodecs id.
pub const ID: &str = "quantize";

/// The config fields besides `"id"`, as numcodecs' `get_config` writes them; others are refused.
pub const FIELDS: &[&str] = &["digits", "dtype", "astype"];

/// The quantize filter.
#[derive(Debug, Clone)]
pub struct Quantize {
    scale: f64,
    dtype: NumType,
    astype: NumType,
}

impl Quantize {
    /// Reads a numcodecs quantize config: `digits`, `dtype` (required, float), `astype`
    /// (float, default `dtype`).
    pub fn from_json(config: &Value) -> CodecResult<Self> {
        let c = Config::new(ID, config, FIELDS)?;
        let digits = c.required_int("digits")?;
        let dtype = NumType::parse(ID, c.required_str("dtype")?)?;
        let astype = match c.get("astype") {
            None => dtype,
            Some(_) => NumType::parse(ID, c.required_str("astype")?)?,
        };
        if dtype.kind != Kind::Float || astype.kind != Kind::Float {
            return Err(CodecError::invalid(
                ID,
                "only floating point data types are supported",
            ));
        }
        let precision = 10f64.powf(-(digits as f64));
        let exp = precision.log10();
        let exp = if exp < 0.0 { exp.floor() } else { exp.ceil() };
        let bits = 10f64.powf(-exp).log2().ceil();
        let scale = 2f64.powf(bits);
        if !scale.is_finite() || scale == 0.0 {
            return Err(CodecError::invalid(
                ID,
                format!("digits {digits} out of range"),
            ));
        }
        Ok(Quantize {
            scale,
            dtype,
            astype,
        })
    }
}

impl Codec for Quantize {
    fn id(&self) -> &'static str {
        ID
    }

    fn encode(&self, input: &[u8], _itemsize: usize) -> CodecResult<Vec<u8>> {
        let n = self.dtype.count(ID, input.len())?;
        let t = self.dtype;
        let scale = t.round_float(self.scale);
        let mut out = vec![0u8; n * self.astype.size];
        for i in 0..n {
            let x = t.read(input, i).to_f64();
            let q = t.round_float(t.round_float(scale * x).round_ties_even() / scale);
            self.astype.write(&mut out, i, Num::F(q));
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
        for i in 0..n {
            self.dtype.write(out, i, self.astype.read(input, i));
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

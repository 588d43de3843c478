//! `categorize`: replaces fixed-width unicode strings (`<U n`) by the 1-based index of their
//! label in `labels` (0 for a string that is not a label), stored as `astype`.
//!
//! numcodecs: `numcodecs/categorize.py`. Strings compare as numpy compares them (trailing NULs
//! ignored); a later duplicate label wins on encode; a decoded label longer than the dtype's
//! width is cut, as numpy's assignment does. Object dtypes (`|O`) are not supported: their
//! chunks are not fixed-width bytes.
//!
//! ```
//! use tessera_codec::{CodecChain, Value};
//! let filters = [serde_json::json!(
//!     {"id": "categorize", "labels": ["ab", "c"], "dtype": "<U2", "astype": "|u1"})];
//! let chain = CodecChain::from_json(None, Some(&filters))?;
//! let utf32 = |s: &str| -> Vec<u8> {
//!     let mut v: Vec<u8> = s.chars().flat_map(|c| (c as u32).to_le_bytes()).collect();
//!     v.resize(8, 0);
//!     v
//! };
//! let data = [utf32("c"), utf32("ab"), utf32("zz")].concat();
//! assert_eq!(chain.encode(&data, 8)?, [2, 1, 0]);
//! assert_eq!(chain.decode(&[2, 1, 0], 24, 8)?, [utf32("c"), utf32("ab"), utf32("")].concat());
//! # Ok::<(), tessera_codec::CodecError>(())
//! ```

use std::collections::HashMap;

use serde_json::Value;

use crate::codec::Codec;
use crate::config::Config;
use crate::error::{CodecError, CodecResult};
use crate::filters::expect_len;
use crate::numeric::{Kind, Num, NumType};

/// The numcodecs id.
pub const ID: &str = "categorize";

/// The config fields besides `"id"`, as numcodecs' `get_config` writes them; others are refused.
pub const FIELDS: &[&str] = &["labels", "dtype", "astype"];

/// The categorize filter.
#[derive(Debug, Clone)]
pub struct Categorize {
    /// Code points of each label, cut to the dtype's width (decoding pads with NULs).
    labels: Vec<Vec<u32>>,
    /// Label (with trailing NULs stripped, cut to width) -> 1-based index; later labels win.
    index: HashMap<Vec<u32>, usize>,
    width: usize,
    big_endian: bool,
    astype: NumType,
}

/// Parses `<U n`, `>U n`, `=U n` or `U n` into (width in characters, big endian).
fn parse_unicode(s: &str) -> CodecResult<(usize, bool)> {
    let (big, rest) = match s.as_bytes().first() {
        Some(b'>') => (true, &s[1..]),
        Some(b'<') | Some(b'|') => (false, &s[1..]),
        Some(b'=') => (cfg!(target_endian = "big"), &s[1..]),
        _ => (cfg!(target_endian = "big"), s),
    };
    if rest == "O" {
        return Err(CodecError::unsupported(
            ID,
            "object dtypes need an object codec, not fixed-width bytes",
        ));
    }
    let width = rest
        .strip_prefix('U')
        .and_then(|n| n.parse::<usize>().ok())
        .ok_or_else(|| {
            CodecError::invalid(
                ID,
                format!("only unicode ('U') dtypes are supported, got {s:?}"),
            )
        })?;
    // numpy refuses dtypes of 2 GiB or more.
    if width > (i32::MAX as usize) / 4 {
        return Err(CodecError::invalid(ID, format!("dtype {s:?} is too large")));
    }
    Ok((width, big))
}

fn strip_nuls(mut v: &[u32]) -> &[u32] {
    while let [rest @ .., 0] = v {
        v = rest;
    }
    v
}

impl Categorize {
    /// Reads a numcodecs categorize config: `labels` (strings), `dtype` (`<U n`), `astype`
    /// (default `|u1`).
    pub fn from_json(config: &Value) -> CodecResult<Self> {
        let c = Config::new(ID, config, FIELDS)?;
        let (width, big_endian) = parse_unicode(c.required_str("dtype")?)?;
        let astype = NumType::parse(ID, c.str_or("astype", "|u1")?)?;
        if !matches!(astype.kind, Kind::Int | Kind::UInt) {
            return Err(CodecError::unsupported(
                ID,
                "astype must be an integer type",
            ));
        }
        let list = c
            .required("labels")?
            .as_array()
            .ok_or_else(|| CodecError::invalid(ID, "labels must be a list of strings"))?;
        let mut labels = Vec::with_capacity(list.len());
        let mut index = HashMap::new();
        for (i, l) in list.iter().enumerate() {
            let s = l
                .as_str()
                .ok_or_else(|| CodecError::invalid(ID, format!("label {l} is not a string")))?;
            let mut cps: Vec<u32> = s.chars().map(|ch| ch as u32).collect();
            // A label wider than the dtype never equals an element (numpy compares full strings)
            // and decodes cut to the width.
            if cps.len() <= width {
                index.insert(strip_nuls(&cps).to_vec(), i + 1);
            }
            cps.truncate(width);
            labels.push(cps);
        }
        Ok(Categorize {
            labels,
            index,
            width,
            big_endian,
            astype,
        })
    }

    fn item_size(&self) -> usize {
        4 * self.width
    }

    fn count(&self, len: usize) -> CodecResult<usize> {
        if self.width == 0 {
            return if len == 0 {
                Ok(0)
            } else {
                Err(CodecError::invalid(ID, "zero-width strings with data"))
            };
        }
        if !len.is_multiple_of(self.item_size()) {
            return Err(CodecError::invalid(
                ID,
                format!(
                    "{len} bytes is not a whole number of {}-byte strings",
                    self.item_size()
                ),
            ));
        }
        Ok(len / self.item_size())
    }
}

impl Codec for Categorize {
    fn id(&self) -> &'static str {
        ID
    }

    fn encode(&self, input: &[u8], _itemsize: usize) -> CodecResult<Vec<u8>> {
        let n = self.count(input.len())?;
        let mut out = vec![0u8; n * self.astype.size];
        // One element's code points: no larger than the chunk the caller holds.
        let mut cps = if n > 0 {
            vec![0u32; self.width]
        } else {
            Vec::new()
        };
        for i in 0..n {
            let item = &input[i * self.item_size()..(i + 1) * self.item_size()];
            for (cp, b) in cps.iter_mut().zip(item.chunks_exact(4)) {
                let b: [u8; 4] = b.try_into().expect("4 bytes");
                *cp = if self.big_endian {
                    u32::from_be_bytes(b)
                } else {
                    u32::from_le_bytes(b)
                };
            }
            let code = self.index.get(strip_nuls(&cps)).copied().unwrap_or(0);
            self.astype.write(&mut out, i, Num::U(code as u64));
        }
        Ok(out)
    }

    fn decode_into(&self, input: &[u8], out: &mut [u8], itemsize: usize) -> CodecResult<()> {
        let n = self.count(out.len())?;
        expect_len(
            ID,
            input,
            self.encoded_len(out.len(), itemsize)?.unwrap_or_default(),
        )?;
        for i in 0..n {
            let code = self.astype.read(input, i).to_i128();
            let item = &mut out[i * self.item_size()..(i + 1) * self.item_size()];
            item.fill(0);
            if code >= 1 && code as usize <= self.labels.len() {
                for (b, &cp) in item
                    .chunks_exact_mut(4)
                    .zip(&self.labels[code as usize - 1])
                {
                    b.copy_from_slice(&if self.big_endian {
                        cp.to_be_bytes()
                    } else {
                        cp.to_le_bytes()
                    });
                }
            }
        }
        Ok(())
    }

    fn encoded_len(&self, decoded_len: usize, _itemsize: usize) -> CodecResult<Option<usize>> {
        Ok(Some(self.count(decoded_len)? * self.astype.size))
    }

    fn encoded_itemsize(&self, _itemsize: usize) -> usize {
        self.astype.size
    }
}

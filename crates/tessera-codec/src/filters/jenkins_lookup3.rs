//! `jenkins_lookup3`: Bob Jenkins' lookup3 hash (`hashlittle`, 32-bit) of the chunk, appended
//! as 4 little-endian bytes; decoding checks it.
//!
//! numcodecs: `JenkinsLookup3` in `numcodecs/checksum32.py`, which uses HDF5's byte-wise
//! implementation (`H5_checksum_lookup3`), so the hash does not depend on the machine's byte
//! order. `initval` seeds the hash; `prefix`, when set, is hashed before the chunk but not
//! stored. numcodecs keeps `prefix` as a numpy byte array, which its JSON writer cannot store,
//! so in a `.zarray` it is `null`; tessera also accepts a list of byte values (0..=255).
//!
//! ```
//! use tessera_codec::{CodecChain, Value};
//! let filters = [serde_json::json!({"id": "jenkins_lookup3", "initval": 0, "prefix": null})];
//! let chain = CodecChain::from_json(None, Some(&filters))?;
//! let blob = chain.encode(b"jenkins", 1)?;
//! assert_eq!(&blob[7..], &202276345u32.to_le_bytes());
//! assert_eq!(chain.decode(&blob, 7, 1)?, b"jenkins");
//! # Ok::<(), tessera_codec::CodecError>(())
//! ```

use serde_json::Value;

use crate::codec::Codec;
use crate::config::Config;
use crate::error::{CodecError, CodecResult};
use crate::filters::expect_len;

/// The numcodecs id.
pub const ID: &str = "jenkins_lookup3";

/// The config fields besides `"id"`, as numcodecs' `get_config` writes them; others are refused.
pub const FIELDS: &[&str] = &["initval", "prefix"];

/// The lookup3 checksum filter.
#[derive(Debug, Clone)]
pub struct JenkinsLookup3 {
    initval: u32,
    prefix: Vec<u8>,
}

impl JenkinsLookup3 {
    /// Reads a numcodecs config: `initval` (default 0, any value that fits 32 bits unsigned)
    /// and `prefix` (default null; or a list of byte values).
    pub fn from_json(config: &Value) -> CodecResult<Self> {
        let c = Config::new(ID, config, FIELDS)?;
        let initval = c.int_or("initval", 0)?;
        let initval = u32::try_from(initval).map_err(|_| {
            CodecError::invalid(ID, format!("initval must be 0..=4294967295, got {initval}"))
        })?;
        let prefix = match c.get("prefix") {
            None => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_u64().and_then(|b| u8::try_from(b).ok()))
                .collect::<Option<Vec<u8>>>()
                .ok_or_else(|| {
                    CodecError::invalid(ID, "prefix must be a list of byte values 0..=255")
                })?,
            Some(v) => {
                return Err(CodecError::invalid(
                    ID,
                    format!("prefix must be null or a list of byte values, got {v}"),
                ));
            }
        };
        Ok(JenkinsLookup3 { initval, prefix })
    }

    fn checksum(&self, data: &[u8]) -> u32 {
        if self.prefix.is_empty() {
            lookup3(data, self.initval)
        } else {
            let mut all = Vec::with_capacity(self.prefix.len() + data.len());
            all.extend_from_slice(&self.prefix);
            all.extend_from_slice(data);
            lookup3(&all, self.initval)
        }
    }
}

/// lookup3's `hashlittle` over bytes, as HDF5's `H5_checksum_lookup3` computes it.
pub fn lookup3(data: &[u8], initval: u32) -> u32 {
    // Only the low 32 bits of the length enter the hash, as in the C code.
    let init = 0xdead_beef_u32
        .wrapping_add(data.len() as u32)
        .wrapping_add(initval);
    let (mut a, mut b, mut c) = (init, init, init);
    let word = |k: &[u8]| -> u32 {
        let mut w = [0u8; 4];
        w[..k.len()].copy_from_slice(k);
        u32::from_le_bytes(w)
    };
    let mut rest = data;
    while rest.len() > 12 {
        a = a.wrapping_add(word(&rest[0..4]));
        b = b.wrapping_add(word(&rest[4..8]));
        c = c.wrapping_add(word(&rest[8..12]));
        mix(&mut a, &mut b, &mut c);
        rest = &rest[12..];
    }
    if rest.is_empty() {
        return c;
    }
    // The last 1..=12 bytes, zero-padded (the C switch adds only the bytes present).
    a = a.wrapping_add(word(&rest[..rest.len().min(4)]));
    if rest.len() > 4 {
        b = b.wrapping_add(word(&rest[4..rest.len().min(8)]));
    }
    if rest.len() > 8 {
        c = c.wrapping_add(word(&rest[8..]));
    }
    finish(&mut a, &mut b, &mut c);
    c
}

fn mix(a: &mut u32, b: &mut u32, c: &mut u32) {
    *a = a.wrapping_sub(*c);
    *a ^= c.rotate_left(4);
    *c = c.wrapping_add(*b);
    *b = b.wrapping_sub(*a);
    *b ^= a.rotate_left(6);
    *a = a.wrapping_add(*c);
    *c = c.wrapping_sub(*b);
    *c ^= b.rotate_left(8);
    *b = b.wrapping_add(*a);
    *a = a.wrapping_sub(*c);
    *a ^= c.rotate_left(16);
    *c = c.wrapping_add(*b);
    *b = b.wrapping_sub(*a);
    *b ^= a.rotate_left(19);
    *a = a.wrapping_add(*c);
    *c = c.wrapping_sub(*b);
    *c ^= b.rotate_left(4);
    *b = b.wrapping_add(*a);
}

fn finish(a: &mut u32, b: &mut u32, c: &mut u32) {
    *c ^= *b;
    *c = c.wrapping_sub(b.rotate_left(14));
    *a ^= *c;
    *a = a.wrapping_sub(c.rotate_left(11));
    *b ^= *a;
    *b = b.wrapping_sub(a.rotate_left(25));
    *c ^= *b;
    *c = c.wrapping_sub(b.rotate_left(16));
    *a ^= *c;
    *a = a.wrapping_sub(c.rotate_left(4));
    *b ^= *a;
    *b = b.wrapping_sub(a.rotate_left(14));
    *c ^= *b;
    *c = c.wrapping_sub(b.rotate_left(24));
}

impl Codec for JenkinsLookup3 {
    fn id(&self) -> &'static str {
        ID
    }

    fn encode(&self, input: &[u8], _itemsize: usize) -> CodecResult<Vec<u8>> {
        let mut out = Vec::with_capacity(input.len() + 4);
        out.extend_from_slice(input);
        out.extend_from_slice(&self.checksum(input).to_le_bytes());
        Ok(out)
    }

    fn decode_into(&self, input: &[u8], out: &mut [u8], _itemsize: usize) -> CodecResult<()> {
        if input.len() < 4 {
            return Err(CodecError::corrupt(ID, "shorter than a 4-byte checksum"));
        }
        expect_len(ID, input, out.len() + 4)?;
        let (payload, stored) = input.split_at(input.len() - 4);
        let stored = u32::from_le_bytes(stored.try_into().expect("4 bytes"));
        let actual = self.checksum(payload);
        if stored != actual {
            return Err(CodecError::corrupt(
                ID,
                format!("checksum mismatch: stored {stored:#010x}, data hashes to {actual:#010x}"),
            ));
        }
        out.copy_from_slice(payload);
        Ok(())
    }

    fn encoded_len(&self, decoded_len: usize, _itemsize: usize) -> CodecResult<Option<usize>> {
        Ok(Some(decoded_len + 4))
    }

    fn encoded_itemsize(&self, _itemsize: usize) -> usize {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The vectors of numcodecs' test suite (and of lookup3.c's self-test).
    #[test]
    fn known_hashes() {
        assert_eq!(lookup3(b"", 0), 0xdead_beef);
        assert_eq!(lookup3(b"", 0xdead_beef), 0xbd5b_7dde);
        assert_eq!(lookup3(b"Four score and seven years ago", 0), 0x1777_0551);
        assert_eq!(lookup3(b"Four score and seven years ago", 1), 0xcd62_8161);
        assert_eq!(lookup3(b"jenkins", 0), 202_276_345);
    }

    #[test]
    fn prefix_is_hashed_not_stored_and_corruption_is_caught() {
        let j =
            JenkinsLookup3::from_json(&json!({"id": ID, "initval": 7, "prefix": [1, 2]})).unwrap();
        let enc = j.encode(b"abcdefghijklmnop", 1).unwrap();
        assert_eq!(&enc[..16], b"abcdefghijklmnop");
        let mut with_prefix = vec![1u8, 2];
        with_prefix.extend_from_slice(b"abcdefghijklmnop");
        assert_eq!(enc[16..], lookup3(&with_prefix, 7).to_le_bytes());
        let mut out = [0u8; 16];
        j.decode_into(&enc, &mut out, 1).unwrap();
        let mut bad = enc.clone();
        bad[3] ^= 1;
        let err = j.decode_into(&bad, &mut out, 1).unwrap_err();
        assert_eq!(err.kind(), crate::CodecErrorKind::Corrupt);
    }
}

//! `crc32`, `adler32` and `crc32c`: a 32-bit checksum of the chunk, stored little-endian
//! before it (`location: "start"`, the default for crc32 and adler32) or after it (`"end"`,
//! the default for crc32c). Decoding verifies it and fails with
//! [`CodecErrorKind::Corrupt`](crate::CodecErrorKind::Corrupt) on a mismatch.
//!
//! numcodecs: `numcodecs/checksum32.py` (crc32 as `zlib.crc32`, adler32 as `zlib.adler32`,
//! crc32c as Castagnoli CRC-32C).
//!
//! ```
//! use tessera_codec::{CodecChain, Value};
//! let filters = [serde_json::json!({"id": "crc32"})];
//! let chain = CodecChain::from_json(None, Some(&filters))?;
//! let blob = chain.encode(b"hello", 1)?;
//! assert_eq!(&blob[..4], &0x3610_a686u32.to_le_bytes());
//! assert_eq!(chain.decode(&blob, 5, 1)?, b"hello");
//! # Ok::<(), tessera_codec::CodecError>(())
//! ```

use serde_json::Value;

use crate::codec::Codec;
use crate::config::Config;
use crate::error::{CodecError, CodecResult};
use crate::filters::expect_len;

/// The numcodecs id of CRC-32 (as zlib computes it).
pub const CRC32_ID: &str = "crc32";
/// The numcodecs id of Adler-32.
pub const ADLER32_ID: &str = "adler32";
/// The numcodecs id of CRC-32C (Castagnoli).
pub const CRC32C_ID: &str = "crc32c";

/// The config fields besides `"id"`; others are refused. numcodecs writes `location` only when
/// it was given (and versions before 0.13 never).
pub const FIELDS: &[&str] = &["location"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Algorithm {
    Crc32,
    Adler32,
    Crc32c,
}

/// A 32-bit checksum filter.
#[derive(Debug, Clone)]
pub struct Checksum32 {
    algorithm: Algorithm,
    at_end: bool,
}

impl Checksum32 {
    /// Reads a numcodecs crc32, adler32 or crc32c config: `location` `"start"` or `"end"`
    /// (default per algorithm, as numcodecs).
    pub fn from_json(config: &Value) -> CodecResult<Self> {
        let id = config.get("id").and_then(Value::as_str).unwrap_or(CRC32_ID);
        let (algorithm, id) = match id {
            ADLER32_ID => (Algorithm::Adler32, ADLER32_ID),
            CRC32C_ID => (Algorithm::Crc32c, CRC32C_ID),
            _ => (Algorithm::Crc32, CRC32_ID),
        };
        let c = Config::new(id, config, FIELDS)?;
        let default = if algorithm == Algorithm::Crc32c {
            "end"
        } else {
            "start"
        };
        let at_end = match c.str_or("location", default)? {
            "start" => false,
            "end" => true,
            other => {
                return Err(CodecError::invalid(
                    id,
                    format!("invalid checksum location {other:?}"),
                ));
            }
        };
        Ok(Checksum32 { algorithm, at_end })
    }

    fn checksum(&self, data: &[u8]) -> u32 {
        match self.algorithm {
            Algorithm::Crc32 => crc32fast::hash(data),
            Algorithm::Adler32 => {
                let mut a = adler2::Adler32::new();
                a.write_slice(data);
                a.checksum()
            }
            Algorithm::Crc32c => crc32c(data),
        }
    }

    fn name(&self) -> &'static str {
        match self.algorithm {
            Algorithm::Crc32 => CRC32_ID,
            Algorithm::Adler32 => ADLER32_ID,
            Algorithm::Crc32c => CRC32C_ID,
        }
    }
}

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), bytewise with a table built once.
fn crc32c(data: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = [0u32; 256];
        for (i, e) in t.iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    (c >> 1) ^ 0x82F6_3B78
                } else {
                    c >> 1
                };
            }
            *e = c;
        }
        t
    });
    !data.iter().fold(!0u32, |c, &b| {
        table[((c ^ b as u32) & 0xff) as usize] ^ (c >> 8)
    })
}

impl Codec for Checksum32 {
    fn id(&self) -> &'static str {
        self.name()
    }

    fn encode(&self, input: &[u8], _itemsize: usize) -> CodecResult<Vec<u8>> {
        let sum = self.checksum(input).to_le_bytes();
        let mut out = Vec::with_capacity(input.len() + 4);
        if !self.at_end {
            out.extend_from_slice(&sum);
        }
        out.extend_from_slice(input);
        if self.at_end {
            out.extend_from_slice(&sum);
        }
        Ok(out)
    }

    fn decode_into(&self, input: &[u8], out: &mut [u8], _itemsize: usize) -> CodecResult<()> {
        if input.len() < 4 {
            return Err(CodecError::corrupt(
                self.name(),
                "shorter than a 4-byte checksum",
            ));
        }
        expect_len(self.name(), input, out.len() + 4)?;
        let (stored, payload) = if self.at_end {
            let (p, s) = input.split_at(input.len() - 4);
            (s, p)
        } else {
            let (s, p) = input.split_at(4);
            (s, p)
        };
        let stored = u32::from_le_bytes(stored.try_into().expect("4 bytes"));
        let computed = self.checksum(payload);
        if stored != computed {
            return Err(CodecError::corrupt(
                self.name(),
                format!("stored checksum {stored:#010x} does not match computed {computed:#010x}"),
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
    use crate::CodecErrorKind;
    use serde_json::json;

    #[test]
    fn known_values() {
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        let a = Checksum32::from_json(&json!({"id": "adler32"})).unwrap();
        assert_eq!(a.checksum(b"Wikipedia"), 0x11E6_0398);
    }

    #[test]
    fn detects_corruption_and_honours_location() {
        let c = Checksum32::from_json(&json!({"id": "crc32", "location": "end"})).unwrap();
        let mut enc = c.encode(b"abc", 1).unwrap();
        assert_eq!(&enc[..3], b"abc");
        enc[0] ^= 1;
        let mut out = [0u8; 3];
        assert_eq!(
            c.decode_into(&enc, &mut out, 1).unwrap_err().kind(),
            CodecErrorKind::Corrupt
        );
    }
}

//! `msgpack2`: the chunk as one MessagePack array, `values (nested along the shape) + [dtype,
//! shape]`, as numcodecs' `MsgPack` codec writes it with msgpack-python.
//!
//! numcodecs: `numcodecs/msgpacks.py`; format: <https://github.com/msgpack/msgpack/blob/master/spec.md>.
//! The reader is written here rather than taken from a crate so that every length a header
//! claims is checked against the bytes that remain before anything is allocated. Values are
//! [`serde_json::Value`]s: binary and extension values, non-string map keys and non-finite
//! floats have no JSON form and are refused as unsupported.

use serde_json::{Map, Number, Value};

use super::json::OBJECT_DTYPE;
use super::{nest, unpack};
use crate::config::Config;
use crate::error::{CodecError, CodecErrorKind, CodecResult};

/// The numcodecs id.
pub(super) const ID: &str = "msgpack2";

/// Nesting deeper than this is refused (the reader recurses).
const MAX_DEPTH: usize = 128;

/// Refuses `raw: true` (msgpack-python then returns `bytes` for strings, which tessera's JSON
/// values cannot mirror).
pub(super) fn check_config(config: &Value) -> CodecResult<()> {
    let c = Config::new(ID, config, &["use_single_float", "use_bin_type", "raw"])?;
    if c.bool_or("raw", false)? {
        return Err(CodecError::unsupported(
            ID,
            "raw: true (strings read as bytes) is not supported",
        ));
    }
    c.bool_or("use_single_float", false)?;
    c.bool_or("use_bin_type", true)?;
    Ok(())
}

pub(super) fn encode(values: &[Value], shape: &[usize]) -> CodecResult<Vec<u8>> {
    let mut items = match nest(values, shape) {
        Value::Array(items) if !shape.is_empty() => items,
        one => vec![one],
    };
    items.push(Value::from(OBJECT_DTYPE));
    items.push(Value::from(shape.to_vec()));
    let mut out = Vec::new();
    write_value(&mut out, &Value::Array(items))?;
    Ok(out)
}

pub(super) fn decode(encoded: &[u8], shape: &[usize]) -> CodecResult<Vec<Value>> {
    let count: usize = shape.iter().product();
    let mut reader = Reader {
        data: encoded,
        pos: 0,
    };
    let doc = reader.value(0)?;
    if reader.pos != encoded.len() {
        return Err(CodecError::corrupt(
            ID,
            format!(
                "{} trailing bytes after the chunk's value",
                encoded.len() - reader.pos
            ),
        ));
    }
    unpack(ID, doc, "a msgpack array", count)
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

fn unsupported(what: &str) -> CodecError {
    CodecError::new(
        CodecErrorKind::Unsupported,
        ID,
        format!("{what} has no JSON form"),
    )
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> CodecResult<&[u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.data.len())
            .ok_or_else(|| {
                CodecError::corrupt(
                    ID,
                    format!(
                        "a value at byte {} claims {n} bytes, only {} remain",
                        self.pos,
                        self.data.len() - self.pos.min(self.data.len())
                    ),
                )
            })?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn uint(&mut self, n: usize) -> CodecResult<u64> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0u64, |a, &b| (a << 8) | u64::from(b)))
    }

    fn int(&mut self, n: usize) -> CodecResult<i64> {
        let u = self.uint(n)?;
        let shift = 64 - 8 * n as u32;
        Ok(((u << shift) as i64) >> shift)
    }

    fn float(&mut self, f: f64) -> CodecResult<Value> {
        Number::from_f64(f)
            .map(Value::Number)
            .ok_or_else(|| unsupported("a NaN or infinite float"))
    }

    fn string(&mut self, n: usize) -> CodecResult<Value> {
        let at = self.pos;
        let bytes = self.take(n)?;
        let s = std::str::from_utf8(bytes).map_err(|e| {
            CodecError::corrupt(ID, format!("string at byte {at} is not valid UTF-8: {e}"))
        })?;
        Ok(Value::String(s.to_string()))
    }

    fn array(&mut self, n: usize, depth: usize) -> CodecResult<Value> {
        // Every element takes at least one byte: a claimed length beyond the rest is a lie.
        let mut items = Vec::with_capacity(n.min(self.data.len() - self.pos));
        for _ in 0..n {
            items.push(self.value(depth + 1)?);
        }
        Ok(Value::Array(items))
    }

    fn map(&mut self, n: usize, depth: usize) -> CodecResult<Value> {
        let mut map = Map::new();
        for _ in 0..n {
            let Value::String(key) = self.value(depth + 1)? else {
                return Err(unsupported("a map key that is not a string"));
            };
            let value = self.value(depth + 1)?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }

    fn value(&mut self, depth: usize) -> CodecResult<Value> {
        if depth > MAX_DEPTH {
            return Err(CodecError::corrupt(ID, "values nested too deeply"));
        }
        let marker = self.take(1)?[0];
        let len = |r: &mut Self, n: usize| r.uint(n).map(|v| v as usize);
        match marker {
            0x00..=0x7f => Ok(Value::from(marker)),
            0x80..=0x8f => self.map(usize::from(marker & 0x0f), depth),
            0x90..=0x9f => self.array(usize::from(marker & 0x0f), depth),
            0xa0..=0xbf => self.string(usize::from(marker & 0x1f)),
            0xc0 => Ok(Value::Null),
            0xc2 => Ok(Value::Bool(false)),
            0xc3 => Ok(Value::Bool(true)),
            0xc4..=0xc6 => Err(unsupported("a binary (bytes) value")),
            0xc7..=0xc9 | 0xd4..=0xd8 => Err(unsupported("an extension value")),
            0xca => {
                let bits = self.uint(4)? as u32;
                self.float(f64::from(f32::from_bits(bits)))
            }
            0xcb => {
                let bits = self.uint(8)?;
                self.float(f64::from_bits(bits))
            }
            0xcc => Ok(Value::from(self.uint(1)?)),
            0xcd => Ok(Value::from(self.uint(2)?)),
            0xce => Ok(Value::from(self.uint(4)?)),
            0xcf => Ok(Value::from(self.uint(8)?)),
            0xd0 => Ok(Value::from(self.int(1)?)),
            0xd1 => Ok(Value::from(self.int(2)?)),
            0xd2 => Ok(Value::from(self.int(4)?)),
            0xd3 => Ok(Value::from(self.int(8)?)),
            0xd9 => {
                let n = len(self, 1)?;
                self.string(n)
            }
            0xda => {
                let n = len(self, 2)?;
                self.string(n)
            }
            0xdb => {
                let n = len(self, 4)?;
                self.string(n)
            }
            0xdc => {
                let n = len(self, 2)?;
                self.array(n, depth)
            }
            0xdd => {
                let n = len(self, 4)?;
                self.array(n, depth)
            }
            0xde => {
                let n = len(self, 2)?;
                self.map(n, depth)
            }
            0xdf => {
                let n = len(self, 4)?;
                self.map(n, depth)
            }
            0xe0..=0xff => Ok(Value::from(marker as i8)),
            0xc1 => Err(CodecError::corrupt(ID, "the never-used marker 0xc1")),
        }
    }
}

fn write_len(
    out: &mut Vec<u8>,
    n: usize,
    fix: Option<(u8, usize)>,
    markers: [u8; 3],
) -> CodecResult<()> {
    match fix {
        Some((base, limit)) if n < limit => out.push(base | n as u8),
        _ if n < 0x100 && markers[0] != 0 => out.extend([markers[0], n as u8]),
        _ if n < 0x1_0000 => {
            out.push(markers[1]);
            out.extend((n as u16).to_be_bytes());
        }
        _ => {
            let n = u32::try_from(n).map_err(|_| {
                CodecError::new(
                    CodecErrorKind::TooLarge,
                    ID,
                    format!("{n} items or bytes exceed msgpack's 2^32 - 1"),
                )
            })?;
            out.push(markers[2]);
            out.extend(n.to_be_bytes());
        }
    }
    Ok(())
}

/// Writes `value` in the forms msgpack-python picks (smallest integer form, float64, str8 for
/// short strings as with `use_bin_type=True`).
fn write_value(out: &mut Vec<u8>, value: &Value) -> CodecResult<()> {
    match value {
        Value::Null => out.push(0xc0),
        Value::Bool(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                match u {
                    0..=0x7f => out.push(u as u8),
                    0x80..=0xff => out.extend([0xcc, u as u8]),
                    0x100..=0xffff => {
                        out.push(0xcd);
                        out.extend((u as u16).to_be_bytes());
                    }
                    0x1_0000..=0xffff_ffff => {
                        out.push(0xce);
                        out.extend((u as u32).to_be_bytes());
                    }
                    _ => {
                        out.push(0xcf);
                        out.extend(u.to_be_bytes());
                    }
                }
            } else if let Some(i) = n.as_i64() {
                // Negative here: non-negative values took the branch above.
                if i >= -32 {
                    out.push(i as u8);
                } else if i >= i64::from(i8::MIN) {
                    out.extend([0xd0, i as u8]);
                } else if i >= i64::from(i16::MIN) {
                    out.push(0xd1);
                    out.extend((i as i16).to_be_bytes());
                } else if i >= i64::from(i32::MIN) {
                    out.push(0xd2);
                    out.extend((i as i32).to_be_bytes());
                } else {
                    out.push(0xd3);
                    out.extend(i.to_be_bytes());
                }
            } else {
                out.push(0xcb);
                out.extend(n.as_f64().unwrap_or(f64::NAN).to_be_bytes());
            }
        }
        Value::String(s) => {
            write_len(out, s.len(), Some((0xa0, 32)), [0xd9, 0xda, 0xdb])?;
            out.extend(s.as_bytes());
        }
        Value::Array(items) => {
            write_len(out, items.len(), Some((0x90, 16)), [0, 0xdc, 0xdd])?;
            for v in items {
                write_value(out, v)?;
            }
        }
        Value::Object(map) => {
            write_len(out, map.len(), Some((0x80, 16)), [0, 0xde, 0xdf])?;
            for (k, v) in map {
                write_value(out, &Value::String(k.clone()))?;
                write_value(out, v)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_every_form() {
        let values = vec![
            json!(null),
            json!(true),
            json!(5),
            json!(200),
            json!(70000),
            json!(u64::MAX),
            json!(-3),
            json!(-100),
            json!(-40000),
            json!(i64::MIN),
            json!(2.5),
            json!("é"),
            json!("x".repeat(40)),
            json!("y".repeat(300)),
            json!([1, [2, {"k": "v"}]]),
            json!((0..20).collect::<Vec<_>>()),
            json!({"b": 1, "a": 2}),
        ];
        let n = values.len();
        let blob = encode(&values, &[n]).unwrap();
        assert_eq!(decode(&blob, &[n]).unwrap(), values);
        // msgpack-python: packb([1, "x", "|O", (2,)], use_bin_type=True)
        let blob = encode(&[json!(1), json!("x")], &[2]).unwrap();
        assert_eq!(blob, b"\x94\x01\xa1x\xa2|O\x91\x02");
    }

    #[test]
    fn refuses_lies() {
        let kind = |b: &[u8]| decode(b, &[1]).unwrap_err().kind();
        // An array claiming 2^32 - 1 items in a few bytes.
        assert_eq!(kind(b"\xdd\xff\xff\xff\xff\x01"), CodecErrorKind::Corrupt);
        assert_eq!(kind(b"\x93\xdb\xff\xff\xff\xffab"), CodecErrorKind::Corrupt);
        assert_eq!(
            kind(b"\x93\xc4\x01a\xa2|O\x91\x01"),
            CodecErrorKind::Unsupported
        );
        assert_eq!(kind(b"\x93\x01\xa2|O\x91\x02"), CodecErrorKind::Corrupt);
        assert_eq!(kind(b"\x93\x01\xa2|O\x91\x01\x00"), CodecErrorKind::Corrupt);
        assert_eq!(kind(&[0x91; 200]), CodecErrorKind::Corrupt);
        assert_eq!(decode(b"\x93\x07\xa2|O\x91\x01", &[1]).unwrap(), [json!(7)]);
    }
}

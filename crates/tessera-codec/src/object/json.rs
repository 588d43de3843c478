//! `json2`: the chunk as one JSON list, `values (nested along the shape) + [dtype, shape]`, as
//! numcodecs' `JSON` codec writes it with its default options (compact separators, sorted keys,
//! non-ASCII escaped as `\uXXXX`).
//!
//! numcodecs: `numcodecs/json.py`. Python writes non-finite floats as bare `NaN`/`Infinity`,
//! which are not JSON and which `serde_json::Value` cannot hold: such chunks are refused as
//! unsupported.

use std::fmt::Write as _;

use serde_json::Value;

use super::{nest, unpack};
use crate::config::Config;
use crate::error::{CodecError, CodecErrorKind, CodecResult};

/// The numcodecs id.
pub(super) const ID: &str = "json2";

/// The fields numcodecs' `JSON.get_config` writes.
const FIELDS: &[&str] = &[
    "encoding",
    "skipkeys",
    "ensure_ascii",
    "check_circular",
    "allow_nan",
    "sort_keys",
    "indent",
    "separators",
    "strict",
];

/// The dtype string numcodecs appends: an object array's.
pub(super) const OBJECT_DTYPE: &str = "|O";

/// Checks the options tessera honours: any text encoding other than UTF-8 is refused.
pub(super) fn check_config(config: &Value) -> CodecResult<()> {
    let c = Config::new(ID, config, FIELDS)?;
    let encoding = c.str_or("encoding", "utf-8")?;
    if !matches!(encoding.to_ascii_lowercase().as_str(), "utf-8" | "utf8") {
        return Err(CodecError::unsupported(
            ID,
            format!("text encoding {encoding:?}: only utf-8 is supported"),
        ));
    }
    Ok(())
}

pub(super) fn encode(values: &[Value], shape: &[usize]) -> CodecResult<Vec<u8>> {
    let mut text = String::new();
    text.push('[');
    match nest(values, shape) {
        // numcodecs writes `np.atleast_1d(chunk).tolist()`: a 0-d chunk's value is one item.
        Value::Array(items) if !shape.is_empty() => {
            for item in &items {
                write_value(&mut text, item);
                text.push(',');
            }
        }
        one => {
            write_value(&mut text, &one);
            text.push(',');
        }
    }
    write_value(&mut text, &Value::from(OBJECT_DTYPE));
    text.push(',');
    write_value(&mut text, &Value::from(shape.to_vec()));
    text.push(']');
    Ok(text.into_bytes())
}

pub(super) fn decode(encoded: &[u8], shape: &[usize]) -> CodecResult<Vec<Value>> {
    let count: usize = shape.iter().product();
    let doc: Value = serde_json::from_slice(encoded).map_err(|e| {
        let text = String::from_utf8_lossy(encoded);
        if text.contains("NaN") || text.contains("Infinity") {
            CodecError::new(
                CodecErrorKind::Unsupported,
                ID,
                "the chunk holds NaN or Infinity, which a JSON value cannot represent",
            )
        } else {
            CodecError::corrupt(ID, format!("invalid JSON: {e}"))
        }
    })?;
    unpack(ID, doc, "a JSON list", count)
}

/// Writes `value` as Python's `json.dumps(sort_keys=True, ensure_ascii=True,
/// separators=(',', ':'))` does (floats in Rust's shortest round-trip form, which Python reads
/// back to the same value).
fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::String(s) => write_str(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, v);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(out, k);
                out.push(':');
                write_value(out, v);
            }
            out.push('}');
        }
    }
}

fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{u:04x}");
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn matches_numcodecs_layout() {
        // zarr 2.18 + numcodecs.JSON(): a (2, 3) array in (2, 2) chunks, chunk 0.0.
        let values = [json!(1), json!("x"), json!(2.5), json!([1])];
        let blob = encode(&values, &[2, 2]).unwrap();
        assert_eq!(blob, br#"[[1,"x"],[2.5,[1]],"|O",[2,2]]"#);
        assert_eq!(decode(&blob, &[2, 2]).unwrap(), values);
        let blob = encode(&[json!({"b": "é", "a": null})], &[1]).unwrap();
        assert_eq!(blob, br#"[{"a":null,"b":"\u00e9"},"|O",[1]]"#);
        let blob = encode(&[json!("😀")], &[]).unwrap();
        assert_eq!(blob, br#"["\ud83d\ude00","|O",[]]"#);
        assert_eq!(decode(&blob, &[]).unwrap(), [json!("😀")]);
    }

    #[test]
    fn refuses_lies() {
        let kind = |b: &[u8], s: &[usize]| decode(b, s).unwrap_err().kind();
        assert_eq!(kind(br#"[1,2,"|O",[2]]"#, &[3]), CodecErrorKind::Corrupt);
        assert_eq!(kind(br#"[1,2,"|O",[3]]"#, &[3]), CodecErrorKind::Corrupt);
        assert_eq!(
            kind(br#"[[1],[2,3],"|O",[2,2]]"#, &[2, 2]),
            CodecErrorKind::Corrupt
        );
        assert_eq!(
            kind(br#"[1,"|O",[1099511627776]]"#, &[1]),
            CodecErrorKind::Corrupt
        );
        assert_eq!(kind(br#"[1,2]"#, &[1]), CodecErrorKind::Corrupt);
        assert_eq!(
            kind(br#"[NaN,"|O",[1]]"#, &[1]),
            CodecErrorKind::Unsupported
        );
        assert_eq!(kind(b"[1,", &[1]), CodecErrorKind::Corrupt);
    }
}

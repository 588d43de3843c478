//! Validation of the raw command-line strings into typed options, with errors naming the flag.

use std::sync::Arc;

use serde_json::Value;
use tessera_array::{NodePath, Separator};
use tessera_codec::CodecChain;
use tessera_store::{Store, create_store, open_store};

use crate::error::{CliError, CliResult, Context};

/// Opens an existing store for reading. A local directory that does not exist is an error here
/// (the library's `open_store` would open it as empty, to create it at the first write).
pub fn open_existing(location: &str) -> CliResult<Arc<dyn Store>> {
    let local = match location.strip_prefix("file://") {
        Some(path) => Some(path),
        None => (!location.contains("://")).then_some(location),
    };
    if let Some(path) = local.filter(|p| !p.is_empty() && !std::path::Path::new(p).exists()) {
        return Err(CliError::new(format!(
            "cannot open the store {location}: {path} does not exist (import or copy create it)"
        )));
    }
    open_store(location).with_context(|| format!("cannot open the store {location}"))
}

/// Opens a store for writing, creating a local directory when it is missing.
pub fn open_or_create(location: &str) -> CliResult<Arc<dyn Store>> {
    create_store(location).with_context(|| format!("cannot open or create the store {location}"))
}

/// A node path inside the store from `--array` (the root when absent).
pub fn node_path(array: Option<&str>) -> CliResult<NodePath> {
    NodePath::new(array.unwrap_or("")).map_err(|e| CliError::usage("--array").with_source(e))
}

/// A shape given as `C0,C1,...` (positive integers; `[...]` brackets and spaces are tolerated).
pub fn parse_chunks(flag: &str, text: &str) -> CliResult<Vec<u64>> {
    let inner = text
        .trim()
        .trim_start_matches(['[', '('])
        .trim_end_matches([']', ')']);
    if inner.trim().is_empty() {
        return Ok(Vec::new());
    }
    inner
        .split(',')
        .map(|part| {
            let part = part.trim();
            match part.parse::<u64>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(CliError::usage(format!(
                    "{flag}: {part:?} is not a positive integer (expected C0,C1,...)"
                ))),
            }
        })
        .collect()
}

/// A compressor from `--compressor`: `none` (or `null`) for no compressor, else a numcodecs JSON config.
/// `None` when the flag is absent.
pub fn parse_compressor(text: Option<&str>) -> CliResult<Option<Option<Value>>> {
    let Some(text) = text else { return Ok(None) };
    let trimmed = text.trim();
    if trimmed.eq_ignore_ascii_case("none") || trimmed == "null" {
        return Ok(Some(None));
    }
    let value: Value = serde_json::from_str(trimmed).map_err(|e| {
        CliError::usage(format!("--compressor: not valid JSON ({trimmed})")).with_source(e)
    })?;
    let value = numcodecs_form("--compressor", value)?;
    if !value.get("id").is_some_and(Value::is_string) {
        return Err(CliError::usage(format!(
            "--compressor: expected a codec config with an \"id\", found {value}"
        )));
    }
    CodecChain::from_json(Some(&value), None)
        .map_err(|e| CliError::usage("--compressor").with_source(e))?;
    Ok(Some(Some(value)))
}

/// Filters from `--filters`: a JSON list of numcodecs configs (`[]` or `null` for none). `None` when
/// the flag is absent.
pub fn parse_filters(text: Option<&str>) -> CliResult<Option<Option<Vec<Value>>>> {
    let Some(text) = text else { return Ok(None) };
    let trimmed = text.trim();
    if trimmed.eq_ignore_ascii_case("none") || trimmed == "null" {
        return Ok(Some(None));
    }
    let value: Value = serde_json::from_str(trimmed).map_err(|e| {
        CliError::usage(format!("--filters: not valid JSON ({trimmed})")).with_source(e)
    })?;
    let list = match value {
        Value::Array(list) => list,
        // A single config is accepted as a list of one.
        obj @ Value::Object(_) => vec![obj],
        other => {
            return Err(CliError::usage(format!(
                "--filters: expected a JSON list of codec configs, found {other}"
            )));
        }
    };
    let list = list
        .into_iter()
        .map(|f| numcodecs_form("--filters", f))
        .collect::<CliResult<Vec<_>>>()?;
    for f in &list {
        if !f.get("id").is_some_and(Value::is_string) {
            return Err(CliError::usage(format!(
                "--filters: expected codec configs with an \"id\", found {f}"
            )));
        }
    }
    CodecChain::from_json(None, Some(&list))
        .map_err(|e| CliError::usage("--filters").with_source(e))?;
    Ok(Some(if list.is_empty() { None } else { Some(list) }))
}

/// A codec given as v3 JSON (`{"name": "zstd", "configuration": {...}}`) in its numcodecs form; numcodecs
/// JSON (with an `id`) as it is. Arrays written in v3 map it back (see `ArrayBuilder::zarr_format`).
fn numcodecs_form(flag: &str, value: Value) -> CliResult<Value> {
    if value.get("id").is_some() || value.get("name").is_none() {
        return Ok(value);
    }
    tessera_array::v3::numcodecs_of(&value)
        .map_err(|e| CliError::usage(flag.to_string()).with_source(e))
}

/// Checks that compressor and filters work together (e.g. a filter used as a compressor).
pub fn check_chain(compressor: Option<&Value>, filters: Option<&[Value]>) -> CliResult<()> {
    CodecChain::from_json(compressor, filters)
        .map(|_| ())
        .map_err(|e| CliError::usage("--compressor/--filters").with_source(e))
}

/// A fill value from `--fill-value`: JSON in `.zarray`'s encoding. The special floats may be given
/// bare and in any case (`NaN`, `nan`, `inf`, `-Infinity`, `NaT`), as numpy prints them; they are
/// stored as the JSON strings zarr-python writes (`"NaN"`, `"Infinity"`, `"-Infinity"`, `"NaT"`).
pub fn parse_fill_value(text: &str) -> CliResult<Value> {
    let trimmed = text.trim();
    let special = match trimmed.trim_matches('"').to_ascii_lowercase().as_str() {
        "nan" => Some("NaN"),
        "inf" | "+inf" | "infinity" | "+infinity" => Some("Infinity"),
        "-inf" | "-infinity" => Some("-Infinity"),
        "nat" => Some("NaT"),
        _ => None,
    };
    if let Some(word) = special {
        return Ok(Value::String(word.to_string()));
    }
    match serde_json::from_str::<Value>(trimmed) {
        Ok(v) => Ok(v),
        Err(e) => {
            Err(CliError::usage(format!("--fill-value: not valid JSON ({trimmed})")).with_source(e))
        }
    }
}

/// The chunk key separator from `--separator`.
pub fn parse_separator(text: &str) -> CliResult<Separator> {
    match text.trim() {
        "." => Ok(Separator::Dot),
        "/" => Ok(Separator::Slash),
        other => Err(CliError::usage(format!(
            "--separator: expected \".\" or \"/\", found {other:?}"
        ))),
    }
}

/// A byte count: `1048576`, `512K`, `64M`, `2G`, `1.5GiB`, `100MB` (powers of 1024 throughout).
pub fn parse_bytes(flag: &str, text: &str) -> CliResult<u64> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        _ => {
            return Err(CliError::usage(format!(
                "{flag}: unknown unit in {t:?} (use K, M, G or T)"
            )));
        }
    };
    let value: f64 = number
        .parse()
        .map_err(|_| CliError::usage(format!("{flag}: {t:?} is not a size such as 512M or 4G")))?;
    let bytes = value * scale as f64;
    if !(bytes >= 1.0 && bytes < u64::MAX as f64) {
        return Err(CliError::usage(format!(
            "{flag}: {t:?} is not a positive size"
        )));
    }
    Ok(bytes as u64)
}

/// Dimension names from `--dimension-names a,b,c` (an empty name, or `-`, leaves that axis unnamed).
pub fn parse_dimension_names(text: &str) -> Vec<Option<String>> {
    text.split(',')
        .map(|n| n.trim())
        .map(|n| (!n.is_empty() && n != "-").then(|| n.to_string()))
        .collect()
}

/// A Zarr format from `--zarr-format`: 2 or 3.
pub fn parse_zarr_format(value: u8) -> CliResult<u8> {
    match value {
        2 | 3 => Ok(value),
        other => Err(CliError::usage(format!(
            "--zarr-format: expected 2 or 3, found {other}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_shapes() {
        assert_eq!(parse_bytes("x", "64M").unwrap(), 64 << 20);
        assert_eq!(parse_bytes("x", "1.5GiB").unwrap(), 3 << 29);
        assert_eq!(parse_bytes("x", "1000").unwrap(), 1000);
        assert!(parse_bytes("x", "12Q").is_err());
        assert!(parse_bytes("x", "0").is_err());
        assert_eq!(parse_chunks("--chunks", "10, 20").unwrap(), vec![10, 20]);
        assert_eq!(parse_chunks("--chunks", "[3]").unwrap(), vec![3]);
        assert!(parse_chunks("--chunks", "0,1").is_err());
        assert!(parse_chunks("--chunks", "a").is_err());
    }

    #[test]
    fn codec_flags() {
        assert_eq!(parse_compressor(Some("none")).unwrap(), Some(None));
        assert!(
            parse_compressor(Some(r#"{"id":"zstd","level":3}"#))
                .unwrap()
                .is_some()
        );
        assert!(parse_compressor(Some(r#"{"id":"nope"}"#)).is_err());
        assert!(parse_compressor(Some("{")).is_err());
        // v3 codec JSON is taken in its numcodecs form.
        assert_eq!(
            parse_compressor(Some(
                r#"{"name":"zstd","configuration":{"level":3,"checksum":false}}"#
            ))
            .unwrap(),
            Some(Some(
                serde_json::json!({"id": "zstd", "level": 3, "checksum": false})
            ))
        );
        assert_eq!(
            parse_compressor(Some(
                r#"{"name":"numcodecs.lz4","configuration":{"acceleration":1}}"#
            ))
            .unwrap(),
            Some(Some(serde_json::json!({"id": "lz4", "acceleration": 1})))
        );
        assert!(parse_compressor(Some(r#"{"name":"bytes"}"#)).is_err());
        assert_eq!(parse_filters(Some("[]")).unwrap(), Some(None));
        assert!(
            parse_filters(Some(r#"[{"id":"delta","dtype":"<i4"}]"#))
                .unwrap()
                .is_some()
        );
        for (given, stored) in [
            ("NaN", "NaN"),
            ("nan", "NaN"),
            ("\"NaN\"", "NaN"),
            ("\"nan\"", "NaN"),
            ("-inf", "-Infinity"),
            ("Infinity", "Infinity"),
            ("nat", "NaT"),
        ] {
            assert_eq!(
                parse_fill_value(given).unwrap(),
                Value::from(stored),
                "{given}"
            );
        }
        assert!(parse_fill_value("nan-ish").is_err());
        assert_eq!(parse_fill_value("42").unwrap(), Value::from(42));
    }
}

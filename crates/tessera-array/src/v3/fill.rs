//! Zarr v3 `fill_value`: the JSON forms the v3 spec allows beyond v2's.
//!
//! Floats may be spelled as hex of their bits (`"0x7fc00000"`, so a NaN payload survives), complex
//! numbers as `[re, im]` pairs of any float form, raw-bits types (`r16`) as a list of byte values. Every
//! other form is the one `.zarray` uses, and is parsed by [`FillValue::from_json`].

use serde_json::Value;

use crate::dtype::{ByteOrder, DataType};
use crate::error::{ArrayError, ArrayResult};
use crate::fill_value::FillValue;

fn bad(msg: impl Into<String>) -> ArrayError {
    ArrayError::metadata("fill_value", msg)
}

/// The bits of a `"0x..."` float spelling, big-endian as written, for a float of `size` bytes.
fn hex_bits(text: &str, size: usize) -> ArrayResult<Option<Vec<u8>>> {
    let Some(digits) = text.strip_prefix("0x") else {
        return Ok(None);
    };
    if digits.len() != size * 2 {
        return Err(bad(format!(
            "{text:?} has {} hex digits; a {size}-byte float needs {}",
            digits.len(),
            size * 2
        )));
    }
    (0..size)
        .map(|i| {
            u8::from_str_radix(&digits[2 * i..2 * i + 2], 16)
                .map_err(|_| bad(format!("{text:?} is not hexadecimal")))
        })
        .collect::<ArrayResult<Vec<u8>>>()
        .map(Some)
}

/// One float of `size` bytes in `order`, from a v3 spelling; `None` when it is not a hex spelling.
fn float_bytes(value: &Value, size: usize, order: ByteOrder) -> ArrayResult<Option<Vec<u8>>> {
    let Some(text) = value.as_str() else {
        return Ok(None);
    };
    Ok(hex_bits(text, size)?.map(|mut big| {
        if order == ByteOrder::Little {
            big.reverse();
        }
        big
    }))
}

/// Parses a v3 `fill_value` for `dtype` (which carries the stored byte order).
///
/// # Errors
/// [`ArrayError::Metadata`] naming `fill_value` when the value does not fit the type.
pub fn fill_value_from_json(value: &Value, dtype: &DataType) -> ArrayResult<FillValue> {
    match dtype {
        DataType::Float { size, order } => {
            if let Some(bytes) = float_bytes(value, *size, *order)? {
                return FillValue::from_bytes(&bytes, dtype);
            }
        }
        DataType::Complex { size, order } => {
            let half = size / 2;
            let hex = value
                .as_array()
                .filter(|p| p.len() == 2)
                .map(|p| -> ArrayResult<_> {
                    Ok((
                        float_bytes(&p[0], half, *order)?,
                        float_bytes(&p[1], half, *order)?,
                    ))
                })
                .transpose()?;
            if let Some((re, im)) = hex
                && (re.is_some() || im.is_some())
            {
                let part = |hex: Option<Vec<u8>>, v: &Value| -> ArrayResult<Vec<u8>> {
                    match hex {
                        Some(b) => Ok(b),
                        None => {
                            let scalar = DataType::Float {
                                size: half,
                                order: *order,
                            };
                            Ok(FillValue::from_json(v, &scalar)?.bytes().to_vec())
                        }
                    }
                };
                let pair = value.as_array().expect("checked above");
                let mut bytes = part(re, &pair[0])?;
                bytes.extend(part(im, &pair[1])?);
                return FillValue::from_bytes(&bytes, dtype);
            }
        }
        DataType::Void(n) | DataType::Bytes(n) => {
            if let Some(list) = value.as_array() {
                if list.len() != *n {
                    return Err(bad(format!(
                        "{} byte values for a {n}-byte type",
                        list.len()
                    )));
                }
                let bytes = list
                    .iter()
                    .map(|b| {
                        b.as_u64()
                            .and_then(|b| u8::try_from(b).ok())
                            .ok_or_else(|| bad(format!("{b} is not a byte value")))
                    })
                    .collect::<ArrayResult<Vec<u8>>>()?;
                return FillValue::from_bytes(&bytes, dtype);
            }
        }
        _ => {}
    }
    FillValue::from_json(value, dtype)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dt(s: &str) -> DataType {
        DataType::parse_typestr(s).unwrap()
    }

    #[test]
    fn hex_floats_keep_their_bits() {
        let f = fill_value_from_json(&json!("0x7fc00001"), &dt("<f4")).unwrap();
        assert_eq!(f.bytes(), 0x7fc0_0001u32.to_le_bytes());
        let f = fill_value_from_json(&json!("0x3ff8000000000000"), &dt(">f8")).unwrap();
        assert_eq!(f.bytes(), 1.5f64.to_be_bytes());
        let f = fill_value_from_json(&json!(["0x3c00", "NaN"]), &dt("<c8"));
        assert!(f.is_err(), "a c8 half is 4 bytes, 0x3c00 is 2");
        let f = fill_value_from_json(&json!(["0x3f800000", -2.0]), &dt("<c8")).unwrap();
        assert_eq!(&f.bytes()[..4], 1.0f32.to_le_bytes());
        assert_eq!(&f.bytes()[4..], (-2.0f32).to_le_bytes());
        assert!(fill_value_from_json(&json!("0x7fc0"), &dt("<f4")).is_err());
        assert!(fill_value_from_json(&json!("0xzzzzzzzz"), &dt("<f4")).is_err());
    }

    #[test]
    fn byte_lists_for_raw_types() {
        let f = fill_value_from_json(&json!([1, 2]), &dt("|V2")).unwrap();
        assert_eq!(f.bytes(), [1, 2]);
        assert!(fill_value_from_json(&json!([1, 256]), &dt("|V2")).is_err());
        assert!(fill_value_from_json(&json!([1]), &dt("|V2")).is_err());
    }

    #[test]
    fn other_forms_as_in_v2() {
        let f = fill_value_from_json(&json!("-Infinity"), &dt("<f2")).unwrap();
        assert_eq!(f.bytes(), half::f16::NEG_INFINITY.to_le_bytes());
        let f = fill_value_from_json(&json!(true), &dt("|b1")).unwrap();
        assert_eq!(f.bytes(), [1]);
    }
}

//! `vlen-utf8`, `vlen-bytes`, `vlen-array`: a little-endian u32 item count, then per item a
//! little-endian u32 byte length and the bytes (UTF-8 text, raw bytes, or a row's raw elements).
//!
//! numcodecs: `numcodecs/vlen.pyx`. numcodecs writes `None` and `0` items as empty; tessera's
//! values are never missing, so it writes what it is given.

use crate::error::{CodecError, CodecResult};

/// The numcodecs id of the text codec.
pub(super) const UTF8_ID: &str = "vlen-utf8";
/// The numcodecs id of the byte-string codec.
pub(super) const BYTES_ID: &str = "vlen-bytes";
/// The numcodecs id of the ragged numeric-array codec.
pub(super) const ARRAY_ID: &str = "vlen-array";

const HEADER: usize = 4;

/// The item size of a numeric numpy type string `vlen-array` accepts (`<i4`, `|u1`, `>f8`, ...).
pub(super) fn check_item_dtype(dtype: &str) -> CodecResult<usize> {
    let bad = || {
        CodecError::invalid(
            ARRAY_ID,
            format!("dtype {dtype:?} is not a numeric numpy type string such as \"<i4\""),
        )
    };
    let mut chars = dtype.chars();
    let (order, kind) = (chars.next().ok_or_else(bad)?, chars.next().ok_or_else(bad)?);
    let size: usize = chars.as_str().parse().map_err(|_| bad())?;
    let sizes: &[usize] = match kind {
        'b' => &[1],
        'i' | 'u' => &[1, 2, 4, 8],
        'f' => &[2, 4, 8],
        'c' => &[8, 16],
        _ => return Err(bad()),
    };
    let order_ok = match order {
        '<' | '>' | '=' => true,
        '|' => size == 1,
        _ => false,
    };
    if !sizes.contains(&size) || !order_ok {
        return Err(bad());
    }
    Ok(size)
}

/// Checks every `vlen-array` row is whole elements of `dtype`.
pub(super) fn check_rows(dtype: &str, rows: &[Vec<u8>]) -> CodecResult<()> {
    let itemsize = check_item_dtype(dtype)?;
    match rows.iter().position(|r| r.len() % itemsize != 0) {
        None => Ok(()),
        Some(i) => Err(CodecError::invalid(
            ARRAY_ID,
            format!(
                "row {i} has {} bytes, not a multiple of {dtype}'s {itemsize}",
                rows[i].len()
            ),
        )),
    }
}

/// Writes the items, each an item's bytes.
pub(super) fn encode<T: AsRef<[u8]>>(id: &str, items: &[T]) -> CodecResult<Vec<u8>> {
    let too_large = |what: String| CodecError::new(crate::CodecErrorKind::TooLarge, id, what);
    let count = u32::try_from(items.len())
        .map_err(|_| too_large(format!("{} items do not fit a u32 count", items.len())))?;
    let total: usize = items.iter().map(|i| HEADER + i.as_ref().len()).sum();
    let mut out = Vec::with_capacity(HEADER + total);
    out.extend_from_slice(&count.to_le_bytes());
    for (i, item) in items.iter().enumerate() {
        let item = item.as_ref();
        let len = u32::try_from(item.len())
            .map_err(|_| too_large(format!("item {i} has {} bytes, over 4 GiB", item.len())))?;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(item);
    }
    Ok(out)
}

/// Reads the item count (which must be `count`) and yields each item's bytes, checked to lie
/// inside `encoded`.
fn items<'a>(
    id: &'a str,
    encoded: &'a [u8],
    count: usize,
) -> CodecResult<impl Iterator<Item = CodecResult<&'a [u8]>> + 'a> {
    let header = encoded.get(..HEADER).ok_or_else(|| {
        CodecError::corrupt(
            id,
            format!("{} bytes is shorter than the item count", encoded.len()),
        )
    })?;
    let claimed = u32::from_le_bytes(header.try_into().expect("4 bytes"));
    if claimed as usize != count {
        return Err(CodecError::corrupt(
            id,
            format!("chunk claims {claimed} items, expected {count}"),
        ));
    }
    let mut pos = HEADER;
    Ok((0..count).map(move |i| {
        let truncated = || {
            CodecError::corrupt(
                id,
                format!("item {i} of {count}: its length runs past the end of the chunk"),
            )
        };
        let len_bytes = encoded.get(pos..pos + HEADER).ok_or_else(truncated)?;
        let len = u32::from_le_bytes(len_bytes.try_into().expect("4 bytes")) as usize;
        let start = pos + HEADER;
        let item = encoded
            .get(start..start.checked_add(len).ok_or_else(truncated)?)
            .ok_or_else(|| {
                CodecError::corrupt(
                    id,
                    format!(
                        "item {i} of {count} claims {len} bytes, only {} remain in the chunk",
                        encoded.len() - start
                    ),
                )
            })?;
        pos = start + len;
        Ok(item)
    }))
}

/// Decodes `vlen-utf8`.
pub(super) fn decode_text(encoded: &[u8], count: usize) -> CodecResult<Vec<String>> {
    let mut out = Vec::with_capacity(count);
    for (i, item) in items(UTF8_ID, encoded, count)?.enumerate() {
        let text = std::str::from_utf8(item?).map_err(|e| {
            CodecError::corrupt(UTF8_ID, format!("item {i} is not valid UTF-8: {e}"))
        })?;
        out.push(text.to_string());
    }
    Ok(out)
}

/// Decodes `vlen-bytes` (`itemsize` 1) or `vlen-array` rows of `itemsize`-byte elements.
pub(super) fn decode_bytes(
    id: &str,
    encoded: &[u8],
    count: usize,
    itemsize: usize,
) -> CodecResult<Vec<Vec<u8>>> {
    let mut out = Vec::with_capacity(count);
    for (i, item) in items(id, encoded, count)?.enumerate() {
        let item = item?;
        if item.len() % itemsize != 0 {
            return Err(CodecError::corrupt(
                id,
                format!(
                    "row {i} has {} bytes, not whole {itemsize}-byte elements",
                    item.len()
                ),
            ));
        }
        out.push(item.to_vec());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CodecErrorKind;

    #[test]
    fn layout_matches_numcodecs() {
        // numcodecs.VLenUTF8().encode(np.array(["a", "é"], dtype=object))
        let blob = encode(UTF8_ID, &["a", "é"]).unwrap();
        assert_eq!(blob, b"\x02\0\0\0\x01\0\0\0a\x02\0\0\0\xc3\xa9");
        assert_eq!(decode_text(&blob, 2).unwrap(), ["a", "é"]);
    }

    #[test]
    fn lies_are_typed_errors() {
        let blob = encode(UTF8_ID, &["abc"]).unwrap();
        let kind = |r: CodecResult<Vec<String>>| r.unwrap_err().kind();
        // Claims 2^32 - 1 items: refused before allocating.
        let mut huge = blob.clone();
        huge[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(kind(decode_text(&huge, 1)), CodecErrorKind::Corrupt);
        // A length past the end.
        let mut long = blob.clone();
        long[4..8].copy_from_slice(&1000u32.to_le_bytes());
        assert_eq!(kind(decode_text(&long, 1)), CodecErrorKind::Corrupt);
        assert_eq!(kind(decode_text(&blob[..6], 1)), CodecErrorKind::Corrupt);
        assert_eq!(kind(decode_text(&blob[..2], 1)), CodecErrorKind::Corrupt);
        let mut bad = blob.clone();
        bad[8] = 0xff;
        let e = decode_text(&bad, 1).unwrap_err();
        assert!(e.message().contains("UTF-8"), "{e}");
        assert!(decode_bytes(ARRAY_ID, &blob, 1, 2).is_err());
        assert_eq!(decode_bytes(BYTES_ID, &blob, 1, 1).unwrap(), [b"abc"]);
    }

    #[test]
    fn item_dtypes() {
        assert_eq!(check_item_dtype("<i4").unwrap(), 4);
        assert_eq!(check_item_dtype("|u1").unwrap(), 1);
        assert_eq!(check_item_dtype(">c16").unwrap(), 16);
        for bad in ["", "<", "|i4", "<U3", "<i3", "i4", "<f16"] {
            assert!(check_item_dtype(bad).is_err(), "{bad}");
        }
    }
}

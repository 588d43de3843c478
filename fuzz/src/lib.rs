//! Shared pieces of the fuzz targets.

use tessera_codec::{CodecChain, Value};

/// Splits fuzz input into (expected decoded size < 1 MiB, blob).
pub fn split(data: &[u8]) -> Option<(usize, &[u8])> {
    let (size, blob) = data.split_first_chunk::<4>()?;
    Some((u32::from_le_bytes(*size) as usize % (1 << 20), blob))
}

/// Decodes `blob` with a chain of one compressor: any result but a panic, and on success exactly
/// the expected size.
pub fn decode_with(compressor: &Value, data: &[u8]) {
    let Some((len, blob)) = split(data) else {
        return;
    };
    let chain = CodecChain::from_json(Some(compressor), None).expect("valid config");
    if let Ok(out) = chain.decode(blob, len, 4) {
        assert_eq!(out.len(), len);
    }
}

/// The object codecs the `codec_vlen` and `codec_json_objects` targets choose from with their
/// first byte.
pub const OBJECT_CODECS: [&str; 5] = [
    r#"{"id": "vlen-utf8"}"#,
    r#"{"id": "vlen-bytes"}"#,
    r#"{"id": "vlen-array", "dtype": "<i4"}"#,
    r#"{"id": "json2"}"#,
    r#"{"id": "msgpack2"}"#,
];

/// Decodes `data` as one chunk of an object array: byte 0 picks the codec from `codecs`, byte 1
/// a compressor (none, zstd, zlib), bytes 2..4 the chunk's element count (u16 LE, as a 1-d or
/// 2-d shape by its low bit), the rest is the stored blob. Asserts that decoding returns a typed
/// error or exactly the chunk's element count, and that what decodes encodes and decodes to the
/// same values.
pub fn decode_objects(codecs: &[&str], data: &[u8]) {
    let [pick, compressor, lo, hi, blob @ ..] = data else {
        return;
    };
    let filter: Value = serde_json::from_str(codecs[*pick as usize % codecs.len()]).unwrap();
    let compressor = match compressor % 3 {
        0 => Value::Null,
        1 => serde_json::json!({"id": "zstd"}),
        _ => serde_json::json!({"id": "zlib"}),
    };
    let chain = tessera_codec::CodecChain::from_json(Some(&compressor), Some(&[filter])).unwrap();
    let count = u16::from_le_bytes([*lo, *hi]) as usize;
    let shape = if count % 2 == 0 && count > 0 { vec![2, count / 2] } else { vec![count] };
    let Ok(values) = chain.decode_objects(blob, &shape) else {
        return;
    };
    assert_eq!(values.len(), count);
    let again = chain.encode_objects(&values, &shape).expect("decoded values encode");
    assert_eq!(chain.decode_objects(&again, &shape).expect("re-encoded decodes"), values);
}

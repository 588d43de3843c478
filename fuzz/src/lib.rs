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

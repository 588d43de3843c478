//! Fuzzes every filter's decoder (and a filter chain behind a compressor): the first byte picks
//! the chain, then the expected size and the blob follow.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::json;
use tessera_codec::CodecChain;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let Some((len, blob)) = tessera_fuzz::split(rest) else {
        return;
    };
    let (filters, compressor) = match which % 17 {
        0 => (
            vec![json!({"id": "delta", "dtype": "<i4", "astype": "<i2"})],
            None,
        ),
        1 => (
            vec![
                json!({"id": "fixedscaleoffset", "offset": 1000, "scale": 10, "dtype": "<f8", "astype": "<u2"}),
            ],
            None,
        ),
        2 => (
            vec![json!({"id": "quantize", "digits": 3, "dtype": "<f4", "astype": "<f2"})],
            None,
        ),
        3 => (vec![json!({"id": "shuffle", "elementsize": 4})], None),
        4 => (vec![json!({"id": "packbits"})], None),
        5 => (
            vec![json!({"id": "astype", "encode_dtype": "|u1", "decode_dtype": "<f8"})],
            None,
        ),
        6 => (
            vec![
                json!({"id": "categorize", "labels": ["a", "bb", "ccc"], "dtype": "<U3", "astype": "|u1"}),
            ],
            None,
        ),
        7 => (vec![json!({"id": "bitround", "keepbits": 7})], None),
        8 => (vec![json!({"id": "crc32"})], None),
        9 => (vec![json!({"id": "adler32", "location": "end"})], None),
        10 => (vec![json!({"id": "crc32c"})], None),
        11 => (vec![json!({"id": "fletcher32"})], None),
        12 => (vec![json!({"id": "delta", "dtype": "|b1", "astype": "|u1"})], None),
        13 => (vec![json!({"id": "base64"})], None),
        14 => (
            vec![json!({"id": "jenkins_lookup3", "initval": 7, "prefix": [1, 2, 3]})],
            None,
        ),
        15 => (
            vec![
                json!({"id": "delta", "dtype": ">i8"}),
                json!({"id": "packbits"}),
            ],
            Some(json!({"id": "zlib"})),
        ),
        _ => (
            vec![
                json!({"id": "categorize", "labels": ["x"], "dtype": ">U2", "astype": "<u2"}),
                json!({"id": "crc32"}),
            ],
            Some(json!({"id": "lz4"})),
        ),
    };
    let chain = CodecChain::from_json(compressor.as_ref(), Some(&filters)).expect("valid config");
    if let Ok(out) = chain.decode(blob, len, 4) {
        assert_eq!(out.len(), len);
    }
});

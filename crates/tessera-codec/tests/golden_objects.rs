//! numcodecs compatibility of the object codecs: decode every blob numcodecs wrote in
//! `fixtures/codecs/objects/`, and encode the same values back to the same bytes.

use std::path::{Path, PathBuf};

use tessera_codec::CodecErrorKind;

include!("support/object_cases.rs");

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/codecs/objects")
}

fn blob(name: &str) -> Vec<u8> {
    std::fs::read(fixtures().join("blobs").join(format!("{name}.bin"))).unwrap()
}

#[test]
fn decodes_every_numcodecs_blob_exactly() {
    let cases = object_cases(&fixtures());
    assert!(cases.len() >= 24, "{} cases", cases.len());
    for case in cases {
        let got = case
            .chain
            .decode_objects(&blob(&case.name), &case.shape)
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert_eq!(got, case.values, "{}", case.name);
    }
}

#[test]
fn encodes_what_numcodecs_encodes() {
    for case in object_cases(&fixtures()) {
        let encoded = case
            .chain
            .encode_objects(&case.values, &case.shape)
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        // Without a compressor, and with zstd and blosc (deterministic libraries at the same
        // settings), the bytes are numcodecs' own. numcodecs writes a `None` item as "", which
        // tessera's values hold already. The other compressors need not match byte for byte
        // (library versions differ); suite 20 has numcodecs decode them.
        let compressor = case.chain.compressor_json();
        let exact = matches!(
            compressor.as_ref().and_then(|c| c["id"].as_str()),
            None | Some("zstd") | Some("blosc")
        );
        if exact {
            assert_eq!(encoded, blob(&case.name), "{}", case.name);
        }
        let back = case.chain.decode_objects(&encoded, &case.shape).unwrap();
        assert_eq!(back, case.values, "{}", case.name);
    }
}

#[test]
fn lying_chunks_are_typed_errors_naming_the_problem() {
    let cases = object_cases(&fixtures());
    let case = cases.iter().find(|c| c.name == "vlen-utf8_none").unwrap();
    let good = blob(&case.name);
    let err = |bytes: &[u8]| case.chain.decode_objects(bytes, &case.shape).unwrap_err();
    // A chunk claiming 2^32 - 1 items (the chunk has 8).
    let mut lie = good.clone();
    lie[..4].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(err(&lie).kind(), CodecErrorKind::Corrupt);
    assert!(err(&lie).message().contains("4294967295"), "{}", err(&lie));
    // A string longer than the chunk.
    let mut lie = good.clone();
    lie[8..12].copy_from_slice(&(1u32 << 30).to_le_bytes());
    assert_eq!(err(&lie).kind(), CodecErrorKind::Corrupt);
    // Truncated anywhere.
    for cut in [0, 3, 5, 9, good.len() - 1] {
        assert_eq!(
            err(&good[..cut]).kind(),
            CodecErrorKind::Corrupt,
            "cut at {cut}"
        );
    }
    // Invalid UTF-8 in the third item ("héllo wörld").
    let mut bad = good.clone();
    let at = good.windows(2).position(|w| w == "é".as_bytes()).unwrap();
    bad[at] = 0xff;
    assert!(err(&bad).message().contains("UTF-8"), "{}", err(&bad));
}

#[test]
fn a_decompression_bomb_stops_at_the_limit() {
    let chain = tessera_codec::CodecChain::from_json(
        Some(&serde_json::json!({"id": "zlib", "level": 9})),
        Some(&[serde_json::json!({"id": "vlen-bytes"})]),
    )
    .unwrap();
    let huge = ObjectValues::Bytes(vec![vec![0u8; 80 << 20]]);
    let blob = chain.encode_objects(&huge, &[1]).unwrap();
    assert!(blob.len() < 200_000);
    let e = chain.decode_objects(&blob, &[1]).unwrap_err();
    assert_eq!(e.kind(), CodecErrorKind::TooLarge, "{e}");
}

#[test]
fn pickle_is_refused_with_the_reason() {
    let e = tessera_codec::CodecChain::from_json(
        None,
        Some(&[serde_json::json!({"id": "pickle", "protocol": 5})]),
    )
    .unwrap_err();
    assert_eq!(e.kind(), CodecErrorKind::Unsupported);
    assert!(e.message().contains("arbitrary code"), "{e}");
}

mod mutated_blobs {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

        /// The fuzz targets' property on the golden blobs with bytes flipped, cut or inserted:
        /// a typed error, or exactly the chunk's values, which encode and decode back the same.
        #[test]
        fn mutated_golden_blobs_decode_to_the_count_or_fail(
            pick in 0usize..24,
            edits in proptest::collection::vec((any::<usize>(), any::<u8>(), 0u8..3), 1..6),
        ) {
            let cases = object_cases(&fixtures());
            let case = &cases[pick % cases.len()];
            let mut bytes = blob(&case.name);
            for (at, byte, op) in edits {
                let at = at % (bytes.len() + 1);
                match op {
                    0 if at < bytes.len() => bytes[at] = byte,
                    1 => bytes.truncate(at),
                    _ => bytes.insert(at, byte),
                }
            }
            if let Ok(values) = case.chain.decode_objects(&bytes, &case.shape) {
                prop_assert_eq!(values.len(), case.shape.iter().product::<usize>());
                let again = case.chain.encode_objects(&values, &case.shape).unwrap();
                prop_assert_eq!(case.chain.decode_objects(&again, &case.shape).unwrap(), values);
            }
        }
    }
}

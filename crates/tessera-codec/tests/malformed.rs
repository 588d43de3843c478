//! Truncated, garbage and wrongly sized input: typed errors, never a panic.

use serde_json::json;
use tessera_codec::{ChunkLayout, CodecChain, CodecErrorKind, Value};

fn compressors() -> Vec<Value> {
    let mut v = vec![
        json!({"id": "zstd", "level": 3, "checksum": true}),
        json!({"id": "zstd", "level": 1}),
        json!({"id": "zlib", "level": 5}),
        json!({"id": "gzip", "level": 5}),
        json!({"id": "bz2", "level": 9}),
        json!({"id": "lzma"}),
        json!({"id": "lzma", "format": 2, "preset": 1}),
        json!({"id": "lzma", "format": 3, "filters": [{"id": 33, "preset": 1}]}),
        json!({"id": "lz4", "acceleration": 1}),
        json!({"id": "pcodec", "level": 8}),
        json!({"id": "pcodec", "level": 3, "delta_spec": "try_lookback", "equal_pages_up_to": 1000}),
    ];
    if cfg!(feature = "zfp") {
        v.push(json!({"id": "zfpy", "mode": 4, "tolerance": 0.01}));
        v.push(json!({"id": "zfpy", "mode": 2, "rate": 12}));
        v.push(json!({"id": "zfpy", "mode": 5}));
    }
    for cname in ["blosclz", "lz4", "lz4hc", "zlib", "zstd"] {
        v.push(json!({"id": "blosc", "cname": cname, "clevel": 5, "shuffle": 1, "blocksize": 0}));
    }
    v
}

/// `data()` as numcodecs receives it (pcodec and zfpy store the element type).
fn layout() -> ChunkLayout {
    ChunkLayout::new("<f4", 4, vec![3000])
}

fn data() -> Vec<u8> {
    (0..3000u32)
        .flat_map(|i| (((i as f32) * 0.01).sin() * 100.0).to_le_bytes())
        .collect()
}

#[test]
fn every_truncation_is_an_error() {
    let data = data();
    for config in compressors() {
        let chain = CodecChain::from_json(Some(&config), None).unwrap();
        let blob = chain.encode_chunk(&data, &layout()).unwrap();
        // Every prefix for short blobs, a spread of them for long ones.
        let step = (blob.len() / 300).max(1);
        for cut in (0..blob.len()).step_by(step) {
            let err = chain
                .decode(&blob[..cut], data.len(), 4)
                .expect_err(&format!("{config} cut at {cut}"));
            assert!(
                matches!(
                    err.kind(),
                    CodecErrorKind::Corrupt | CodecErrorKind::SizeMismatch
                ),
                "{config} cut at {cut}: {err}"
            );
        }
    }
}

#[test]
fn wrong_expected_size_is_a_size_mismatch() {
    let data = data();
    for config in compressors() {
        let chain = CodecChain::from_json(Some(&config), None).unwrap();
        let blob = chain.encode_chunk(&data, &layout()).unwrap();
        for len in [
            data.len() - 1,
            data.len() + 1,
            data.len() - 4,
            data.len() + 4096,
        ] {
            let err = chain
                .decode(&blob, len, 4)
                .expect_err(&format!("{config} len {len}"));
            assert_eq!(
                err.kind(),
                CodecErrorKind::SizeMismatch,
                "{config} len {len}: {err}"
            );
        }
        // More than SIZE_SLACK beyond the expected size is a bomb, not a mismatch.
        let big = vec![0u8; tessera_codec::SIZE_SLACK + 16];
        let big_layout = ChunkLayout::new("<f4", 4, vec![big.len() / 4]);
        let blob = chain.encode_chunk(&big, &big_layout).unwrap();
        let err = chain
            .decode(&blob, 4, 4)
            .expect_err(&format!("{config} big"));
        assert_eq!(err.kind(), CodecErrorKind::TooLarge, "{config}: {err}");
    }
}

#[test]
fn garbage_and_bit_flips_never_panic() {
    let data = data();
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for config in compressors() {
        let chain = CodecChain::from_json(Some(&config), None).unwrap();
        let blob = chain.encode_chunk(&data, &layout()).unwrap();
        for _ in 0..200 {
            let mut bad = blob.clone();
            for _ in 0..1 + next() % 4 {
                let i = (next() as usize) % bad.len();
                bad[i] ^= 1 << (next() % 8);
            }
            // Either an error or (for flips in unchecked payload bytes) some output: no panic.
            let _ = chain.decode(&bad, data.len(), 4);
        }
        for len in [0usize, 1, 3, 16, 17, 100, 5000] {
            let garbage: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            if let Ok(out) = chain.decode(&garbage, data.len(), 4) {
                assert_eq!(out.len(), data.len());
            }
        }
    }
}

#[test]
fn checksums_and_filters_reject_bad_sizes() {
    for id in ["crc32", "adler32", "crc32c", "fletcher32"] {
        let chain = CodecChain::from_json(None, Some(&[json!({"id": id})])).unwrap();
        let blob = chain.encode(b"some chunk", 1).unwrap();
        // A stored blob of the wrong length cannot decode to the chunk's size.
        assert_eq!(
            chain.decode(&blob[..3], 10, 1).unwrap_err().kind(),
            CodecErrorKind::SizeMismatch,
            "{id}"
        );
        assert_eq!(
            chain.decode(&blob, 11, 1).unwrap_err().kind(),
            CodecErrorKind::SizeMismatch,
            "{id}"
        );
        let mut bad = blob.clone();
        bad[5] ^= 0x40;
        assert_eq!(
            chain.decode(&bad, 10, 1).unwrap_err().kind(),
            CodecErrorKind::Corrupt,
            "{id}"
        );
    }
    let delta =
        CodecChain::from_json(None, Some(&[json!({"id": "delta", "dtype": "<i4"})])).unwrap();
    assert_eq!(
        delta.encode(&[0u8; 7], 4).unwrap_err().kind(),
        CodecErrorKind::InvalidConfig
    );
    assert_eq!(
        delta.decode(&[0u8; 8], 12, 4).unwrap_err().kind(),
        CodecErrorKind::SizeMismatch
    );
    let packbits = CodecChain::from_json(None, Some(&[json!({"id": "packbits"})])).unwrap();
    assert_eq!(
        packbits.decode(&[7, 0xff], 8, 1).unwrap_err().kind(),
        CodecErrorKind::SizeMismatch
    );
}

#[test]
fn invalid_configs_are_typed() {
    let cases = [
        (
            json!({"id": "blosc", "clevel": 12}),
            CodecErrorKind::InvalidConfig,
        ),
        (
            json!({"id": "blosc", "shuffle": "yes"}),
            CodecErrorKind::InvalidConfig,
        ),
        (
            json!({"id": "zlib", "level": 10}),
            CodecErrorKind::InvalidConfig,
        ),
        (
            json!({"id": "bz2", "level": 0}),
            CodecErrorKind::InvalidConfig,
        ),
        (json!({"id": "delta"}), CodecErrorKind::InvalidConfig),
        (
            json!({"id": "delta", "dtype": "<M8[s]"}),
            CodecErrorKind::Unsupported,
        ),
        (
            json!({"id": "quantize", "digits": 2, "dtype": "<i4"}),
            CodecErrorKind::InvalidConfig,
        ),
        (
            json!({"id": "categorize", "labels": ["a"], "dtype": "|O"}),
            CodecErrorKind::Unsupported,
        ),
        (json!({"id": "vlen-utf8"}), CodecErrorKind::Unsupported),
        (json!({"id": "no-such-codec"}), CodecErrorKind::UnknownCodec),
        (json!({"level": 1}), CodecErrorKind::InvalidConfig),
        (json!("zstd"), CodecErrorKind::InvalidConfig),
    ];
    for (config, kind) in cases {
        let err = CodecChain::from_json(Some(&config), None).expect_err(&config.to_string());
        assert_eq!(err.kind(), kind, "{config}: {err}");
    }
}

/// A misspelled or foreign field is refused with the field's name and the fields the codec
/// takes, for every codec (written back to `.zarray` it would break zarr-python).
#[test]
fn unknown_config_fields_are_refused() {
    let configs = [
        (json!({"id": "zstd", "lvl": 3}), "\"level\""),
        (
            json!({"id": "blosc", "cname": "lz4", "typsize": 4}),
            "\"blocksize\"",
        ),
        (
            json!({"id": "zlib", "level": 1, "checksum": true}),
            "\"level\"",
        ),
        (json!({"id": "gzip", "mtime": 0}), "\"level\""),
        (json!({"id": "bz2", "lvl": 1}), "\"level\""),
        (json!({"id": "lzma", "level": 1}), "\"preset\""),
        (
            json!({"id": "lzma", "format": 3, "filters": [{"id": 33, "presset": 1}]}),
            "\"dict_size\"",
        ),
        (json!({"id": "lz4", "accel": 1}), "\"acceleration\""),
        (
            json!({"id": "delta", "dtype": "<i4", "as_type": "<i2"}),
            "\"astype\"",
        ),
        (
            json!({"id": "fixedscaleoffset", "offset": 0, "scale": 1, "dtype": "<f8", "dtyp": 1}),
            "\"scale\"",
        ),
        (
            json!({"id": "quantize", "digits": 1, "dtype": "<f8", "x": 1}),
            "\"digits\"",
        ),
        (
            json!({"id": "shuffle", "element_size": 4}),
            "\"elementsize\"",
        ),
        (json!({"id": "packbits", "x": null}), "no field"),
        (
            json!({"id": "astype", "encode_dtype": "<f4", "decode_dtype": "<f8", "dtype": "<f8"}),
            "\"encode_dtype\"",
        ),
        (
            json!({"id": "categorize", "labels": ["a"], "dtype": "<U1", "label": 1}),
            "\"labels\"",
        ),
        (
            json!({"id": "bitround", "keepbits": 3, "keep": 1}),
            "\"keepbits\"",
        ),
        (json!({"id": "crc32", "loc": "end"}), "\"location\""),
        (json!({"id": "adler32", "loc": "end"}), "\"location\""),
        (json!({"id": "crc32c", "loc": "end"}), "\"location\""),
        (json!({"id": "fletcher32", "location": "end"}), "no field"),
        (json!({"id": "base64", "level": 1}), "no field"),
        (json!({"id": "jenkins_lookup3", "init": 1}), "\"initval\""),
        (json!({"id": "pcodec", "lvl": 8}), "\"equal_pages_up_to\""),
    ];
    let zfpy = json!({"id": "zfpy", "mode": 4, "tol": 0.1});
    let configs = configs
        .into_iter()
        .chain(cfg!(feature = "zfp").then_some((zfpy, "\"tolerance\"")));
    for (config, known) in configs {
        let err = CodecChain::from_json(Some(&config), None)
            .and_then(|_| CodecChain::from_json(None, Some(std::slice::from_ref(&config))))
            .expect_err(&config.to_string());
        assert_eq!(err.kind(), CodecErrorKind::InvalidConfig, "{config}: {err}");
        assert!(err.message().contains("unknown field"), "{config}: {err}");
        assert!(err.message().contains(known), "{config}: {err}");
    }
    // Every field numcodecs writes is accepted, including a zstd config from before `checksum`.
    for config in [
        json!({"id": "zstd", "level": 3}),
        json!({"id": "zstd", "level": 3, "checksum": false}),
        json!({"id": "crc32", "location": "end"}),
        json!({"id": "blosc", "cname": "zstd", "clevel": 3, "shuffle": 2, "blocksize": 0, "typesize": 4}),
    ] {
        CodecChain::from_json(Some(&config), None).unwrap_or_else(|e| panic!("{config}: {e}"));
    }
}

/// Fuzz finding (codec_config): a `U` dtype of absurd width made categorize allocate its width
/// for every label and overflow.
#[test]
fn categorize_with_an_absurd_width_is_refused() {
    let config = json!({"id": "categorize", "labels": ["glEe", "red", "cya"], "dtype": "<U00009181434473103302170", "astype": "<u2"});
    let err = CodecChain::from_json(None, Some(&[config])).unwrap_err();
    assert_eq!(err.kind(), CodecErrorKind::InvalidConfig, "{err}");
    // A wide but legal width costs nothing until a chunk of that width is decoded.
    let config =
        json!({"id": "categorize", "labels": ["a"], "dtype": "<U100000000", "astype": "|u1"});
    let chain = CodecChain::from_json(None, Some(&[config])).unwrap();
    assert_eq!(chain.encode(&[], 1).unwrap(), Vec::<u8>::new());
}

//! Property tests: decode(encode(x)) == x for every lossless chain, over random data, itemsizes
//! and lengths, including empty and odd-sized chunks.

use proptest::prelude::*;
use serde_json::json;
use tessera_codec::{CodecChain, Value};

fn compressor() -> impl Strategy<Value = Value> {
    prop_oneof![
        (prop::sample::select(vec!["blosclz", "lz4", "lz4hc", "zlib", "zstd"]), 0..=9i32, -1..=2i32, prop::sample::select(vec![0usize, 64, 1000, 4096]))
            .prop_map(|(cname, clevel, shuffle, blocksize)| json!({"id": "blosc", "cname": cname, "clevel": clevel, "shuffle": shuffle, "blocksize": blocksize})),
        (-5..=19i32, any::<bool>()).prop_map(|(level, checksum)| json!({"id": "zstd", "level": level, "checksum": checksum})),
        (-1..=9i32).prop_map(|level| json!({"id": "zlib", "level": level})),
        (0..=9i32).prop_map(|level| json!({"id": "gzip", "level": level})),
        (1..=9i32).prop_map(|level| json!({"id": "bz2", "level": level})),
        (0..=3u32).prop_map(|preset| json!({"id": "lzma", "preset": preset})),
        Just(json!({"id": "lzma", "format": 2, "preset": 1})),
        (1..=64i32).prop_map(|acceleration| json!({"id": "lz4", "acceleration": acceleration})),
    ]
}

/// Smooth, repetitive or random bytes: compressors take different paths on each.
fn data(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..max),
        prop::collection::vec(0..4u8, 0..max),
        (0..max, any::<u8>()).prop_map(|(n, b)| vec![b; n]),
        (0..max / 4).prop_map(|n| (0..n as u32)
            .flat_map(|i| ((i as f32) * 0.05).sin().to_le_bytes())
            .collect()),
    ]
}

fn int_dtype() -> impl Strategy<Value = (&'static str, usize)> {
    prop::sample::select(vec![
        ("|i1", 1),
        ("|u1", 1),
        ("<i2", 2),
        (">u2", 2),
        ("<i4", 4),
        (">i4", 4),
        ("<u8", 8),
        (">i8", 8),
    ])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn compressors_roundtrip(config in compressor(), data in data(20_000), itemsize in prop::sample::select(vec![1usize, 2, 3, 4, 8, 12, 16, 300])) {
        let chain = CodecChain::from_json(Some(&config), None).unwrap();
        let blob = chain.encode(&data, itemsize).unwrap();
        prop_assert_eq!(chain.decode(&blob, data.len(), itemsize).unwrap(), data);
    }

    #[test]
    fn lossless_filters_roundtrip(
        (dtype, size) in int_dtype(),
        astype in int_dtype(),
        raw in data(4000),
        elementsize in 1usize..20,
        location in prop::sample::select(vec!["start", "end"]),
        compressor in prop::option::of(compressor()),
    ) {
        let n = raw.len() / size * size;
        let ints = &raw[..n];
        let wider = if astype.1 >= size { astype.0 } else { dtype };
        let filter_sets: Vec<(Vec<Value>, Vec<u8>)> = vec![
            (vec![json!({"id": "delta", "dtype": dtype})], ints.to_vec()),
            // Differences wrap in `dtype`, so any `astype` of the same size round-trips.
            (vec![json!({"id": "delta", "dtype": dtype, "astype": dtype.replace('i', "u")})], ints.to_vec()),
            (vec![json!({"id": "astype", "encode_dtype": wider, "decode_dtype": dtype})], ints.to_vec()),
            (vec![json!({"id": "shuffle", "elementsize": elementsize})], raw[..raw.len() / elementsize * elementsize].to_vec()),
            (vec![json!({"id": "packbits"})], raw.iter().map(|b| b & 1).collect()),
            (vec![json!({"id": "crc32", "location": location}), json!({"id": "adler32"})], raw.clone()),
            (vec![json!({"id": "crc32c", "location": location}), json!({"id": "fletcher32"})], raw.clone()),
            (vec![json!({"id": "delta", "dtype": dtype}), json!({"id": "shuffle", "elementsize": size}), json!({"id": "crc32"})], ints.to_vec()),
        ];
        let mut filter_sets = filter_sets;
        if size <= 4 {
            // Decoding divides in double precision (numpy's true division), exact below 2**53.
            filter_sets.push((vec![json!({"id": "fixedscaleoffset", "offset": 0, "scale": 1, "dtype": dtype})], ints.to_vec()));
        }
        for (filters, input) in filter_sets {
            let chain = CodecChain::from_json(compressor.as_ref(), Some(&filters)).unwrap();
            let blob = chain.encode(&input, size).unwrap();
            prop_assert_eq!(chain.decode(&blob, input.len(), size).unwrap(), input, "{:?} {:?}", filters, compressor);
        }
    }

    #[test]
    fn lossy_filters_are_stable(values in prop::collection::vec(-1.0e4f64..1.0e4, 0..500), digits in 0i64..6, keepbits in 0i64..23) {
        let f8: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let f4: Vec<u8> = values.iter().flat_map(|&v| (v as f32).to_le_bytes()).collect();
        let cases = [
            (json!({"id": "quantize", "digits": digits, "dtype": "<f8"}), &f8, 8),
            (json!({"id": "quantize", "digits": digits, "dtype": "<f4"}), &f4, 4),
            (json!({"id": "bitround", "keepbits": keepbits}), &f4, 4),
            (json!({"id": "bitround", "keepbits": keepbits}), &f8, 8),
            (json!({"id": "fixedscaleoffset", "offset": 0.5, "scale": 4, "dtype": "<f8", "astype": "<i4"}), &f8, 8),
        ];
        for (filter, input, itemsize) in cases {
            let chain = CodecChain::from_json(Some(&json!({"id": "zstd"})), Some(std::slice::from_ref(&filter))).unwrap();
            let once = chain.decode(&chain.encode(input, itemsize).unwrap(), input.len(), itemsize).unwrap();
            // Rounding what is already rounded changes nothing.
            let twice = chain.decode(&chain.encode(&once, itemsize).unwrap(), input.len(), itemsize).unwrap();
            prop_assert_eq!(&once, &twice, "{}", filter);
        }
    }
}

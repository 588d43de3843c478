//! Encode/decode throughput of every compressor (and the common filters) on realistic chunks:
//! a smooth f32 field and small integers, 1 MiB each. Throughput is in bytes of the decoded
//! chunk, single-threaded (blosc with one internal thread, as tessera runs it).
//!
//! `cargo bench -p tessera-codec --bench codecs`

// `criterion_group!` generates undocumented public functions.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use serde_json::json;
use tessera_codec::{CodecChain, Value};

/// A 512 x 512 f32 field: smooth waves plus a little deterministic noise.
fn smooth_f32() -> (Vec<u8>, usize) {
    let n = 512;
    let mut state = 12345u32;
    let data = (0..n * n)
        .flat_map(|k| {
            let (i, j) = ((k / n) as f32, (k % n) as f32);
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let noise = (state >> 16) as f32 / 65536.0 * 0.01;
            (280.0 + 10.0 * (i / 40.0).sin() * (j / 25.0).cos() + noise).to_le_bytes()
        })
        .collect();
    (data, 4)
}

/// 512 K small i16 values (0..64), as counts or categories often are.
fn small_ints() -> (Vec<u8>, usize) {
    let mut state = 777u32;
    let data = (0..512 * 1024)
        .flat_map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (((state >> 20) % 64) as i16).to_le_bytes()
        })
        .collect();
    (data, 2)
}

fn compressors() -> Vec<(&'static str, Value)> {
    vec![
        (
            "blosc-lz4",
            json!({"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0}),
        ),
        (
            "blosc-zstd",
            json!({"id": "blosc", "cname": "zstd", "clevel": 3, "shuffle": 1, "blocksize": 0}),
        ),
        (
            "blosc-blosclz",
            json!({"id": "blosc", "cname": "blosclz", "clevel": 5, "shuffle": 1, "blocksize": 0}),
        ),
        (
            "blosc-lz4hc",
            json!({"id": "blosc", "cname": "lz4hc", "clevel": 5, "shuffle": 1, "blocksize": 0}),
        ),
        (
            "blosc-zlib",
            json!({"id": "blosc", "cname": "zlib", "clevel": 5, "shuffle": 1, "blocksize": 0}),
        ),
        (
            "blosc-lz4-bitshuffle",
            json!({"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 2, "blocksize": 0}),
        ),
        (
            "zstd-1",
            json!({"id": "zstd", "level": 1, "checksum": false}),
        ),
        (
            "zstd-3",
            json!({"id": "zstd", "level": 3, "checksum": false}),
        ),
        ("lz4", json!({"id": "lz4", "acceleration": 1})),
        ("zlib-1", json!({"id": "zlib", "level": 1})),
        ("gzip-1", json!({"id": "gzip", "level": 1})),
        ("bz2-1", json!({"id": "bz2", "level": 1})),
        (
            "lzma-1",
            json!({"id": "lzma", "format": 1, "check": -1, "preset": 1, "filters": null}),
        ),
    ]
}

fn bench_chain(c: &mut Criterion, group_name: &str, chains: &[(&str, CodecChain)]) {
    for (data_name, (data, itemsize)) in [("smooth_f32", smooth_f32()), ("small_i16", small_ints())]
    {
        let mut group = c.benchmark_group(format!("{group_name}/{data_name}"));
        group.throughput(Throughput::Bytes(data.len() as u64));
        for (name, chain) in chains {
            let blob = chain.encode(&data, itemsize).unwrap();
            eprintln!(
                "{group_name}/{data_name}/{name}: ratio {:.2}",
                data.len() as f64 / blob.len() as f64
            );
            group.bench_function(BenchmarkId::new("encode", name), |b| {
                b.iter(|| chain.encode(black_box(&data), itemsize).unwrap())
            });
            let mut out = vec![0u8; data.len()];
            group.bench_function(BenchmarkId::new("decode", name), |b| {
                b.iter(|| {
                    chain
                        .decode_into(black_box(&blob), &mut out, itemsize)
                        .unwrap()
                })
            });
        }
        group.finish();
    }
}

fn compressor_benches(c: &mut Criterion) {
    let chains: Vec<(&str, CodecChain)> = compressors()
        .into_iter()
        .map(|(name, config)| (name, CodecChain::from_json(Some(&config), None).unwrap()))
        .collect();
    bench_chain(c, "compressor", &chains);
}

fn filter_benches(c: &mut Criterion) {
    let filters = [
        ("shuffle", json!({"id": "shuffle", "elementsize": 4})),
        ("crc32", json!({"id": "crc32"})),
        ("fletcher32", json!({"id": "fletcher32"})),
        ("bitround-7", json!({"id": "bitround", "keepbits": 7})),
        ("delta-i2", json!({"id": "delta", "dtype": "<i2"})),
    ];
    let chains: Vec<(&str, CodecChain)> = filters
        .into_iter()
        .map(|(name, config)| (name, CodecChain::from_json(None, Some(&[config])).unwrap()))
        .collect();
    bench_chain(c, "filter", &chains);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    targets = compressor_benches, filter_benches
}
criterion_main!(benches);

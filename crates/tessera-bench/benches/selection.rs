//! criterion micro-benchmarks of tessera's selection copy path: reading selections from an uncompressed
//! in-memory array, so the numbers are the planning and the chunk-to-result copies alone (no I/O, no
//! codec).
#![allow(missing_docs)] // criterion_group! generates an undocumented public function.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tessera_array::{ArrayBuilder, DataType};
use tessera_store::MemoryStore;

fn selections(c: &mut Criterion) {
    let n = 256u64;
    let store = Arc::new(MemoryStore::new());
    let array = ArrayBuilder::new(
        vec![n; 3],
        vec![64; 3],
        DataType::parse_typestr("<u2").unwrap(),
    )
    .compressor(None)
    .fill_value(serde_json::json!(0))
    .create(store, "a")
    .unwrap();
    let data =
        ndarray::Array3::<u16>::from_shape_fn((n as usize, n as usize, n as usize), |(i, j, k)| {
            (i * 7 + j * 3 + k) as u16
        });
    array.write((), &data).unwrap();

    let mut group = c.benchmark_group("selection");
    group.sample_size(20);
    for (name, sel, elements) in [
        ("whole", "...", n * n * n),
        ("slab_axis0", "100, :, :", n * n),
        ("slab_axis1", ":, 100, :", n * n),
        ("slab_axis2", ":, :, 100", n * n),
        ("strided", "::2, 3:250:3, ::5", 128 * 83 * 52),
        ("crop_32", "10:42, 70:102, 130:162", 32 * 32 * 32),
    ] {
        group.throughput(Throughput::Bytes(elements * 2));
        group.bench_function(name, |b| {
            b.iter(|| black_box(array.read::<u16>(black_box(sel)).unwrap()))
        });
    }
    group.finish();
}

criterion_group!(benches, selections);
criterion_main!(benches);

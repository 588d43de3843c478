//! The decoded-chunk cache: cached reads equal uncached ones for every read path (basic, fancy,
//! uncompressed, sharded), writes through the handle or its clones are never hidden by it, and its
//! budget holds.

use std::sync::Arc;

use ndarray::{ArrayD, IxDyn};
use serde_json::json;
use tessera_array::{Array, ArrayBuilder, DataType, Selection};
use tessera_store::MemoryStore;

const SHAPE: [u64; 3] = [24, 20, 18];

/// Arrays of one shape, chunked 5×7×4 (edge chunks included), filled with distinct values: zstd v2,
/// uncompressed v2, and v3 sharded (shards 10×14×8).
fn arrays() -> Vec<(&'static str, Array)> {
    let dtype = || DataType::parse_typestr("<i4").unwrap();
    let store = Arc::new(MemoryStore::new());
    let data = ArrayD::from_shape_fn(IxDyn(&[24, 20, 18]), |ix| {
        (ix[0] * 10_000 + ix[1] * 100 + ix[2]) as i32
    });
    let made = vec![
        (
            "zstd",
            ArrayBuilder::new(SHAPE.to_vec(), vec![5, 7, 4], dtype())
                .compressor(Some(json!({"id": "zstd", "level": 1})))
                .fill_value(json!(0))
                .create(store.clone(), "zstd")
                .unwrap(),
        ),
        (
            "raw",
            ArrayBuilder::new(SHAPE.to_vec(), vec![5, 7, 4], dtype())
                .compressor(None)
                .fill_value(json!(0))
                .create(store.clone(), "raw")
                .unwrap(),
        ),
        (
            "sharded",
            ArrayBuilder::new(SHAPE.to_vec(), vec![5, 7, 4], dtype())
                .zarr_format(3)
                .fill_value(json!(0))
                .shards(vec![10, 14, 8])
                .create(store.clone(), "sharded")
                .unwrap(),
        ),
    ];
    for (_, a) in &made {
        a.write((), &data).unwrap();
        // Leave one chunk missing: it reads as the fill value and is not cached.
        a.fill("0:5, 0:7, 0:4").unwrap();
    }
    made
}

const SELECTIONS: &[&str] = &[
    "...",
    "3:17, 2:19:3, -5:",
    "::-1, 4, 1:9",
    "[3, 17, 3, 0], :, [1, 16]",
    "2, ::-2, [0, 17, 9]",
];

fn points() -> Selection {
    Selection::points(vec![
        vec![0, 23, 7, 7, 12, 1],
        vec![0, 19, 3, 3, 10, 1],
        vec![0, 17, 5, 5, 9, 1],
    ])
}

#[test]
fn cached_reads_equal_uncached_reads() {
    for (name, plain) in arrays() {
        let mut cached = plain.clone();
        cached.set_chunk_cache(1 << 30);
        for round in 0..3 {
            for sel in SELECTIONS {
                let want = plain.read::<i32>(*sel).unwrap();
                assert_eq!(
                    cached.read::<i32>(*sel).unwrap(),
                    want,
                    "{name} {sel} round {round}"
                );
            }
            let want = plain.read::<i32>(&points()).unwrap();
            assert_eq!(
                cached.read::<i32>(&points()).unwrap(),
                want,
                "{name} points"
            );
        }
        let stats = cached.chunk_cache_stats().unwrap();
        if name == "raw" {
            // Uncompressed chunks are read from the store as they are, never cached.
            assert_eq!(
                (stats.chunks, stats.hits, stats.misses),
                (0, 0, 0),
                "{name}"
            );
            continue;
        }
        // Every chunk but the missing one is held; later rounds hit.
        let chunks = 5 * 3 * 5;
        assert_eq!(stats.chunks, chunks - 1, "{name}");
        assert!(stats.hits > 2 * stats.chunks as u64, "{name}: {stats:?}");
        assert!(plain.chunk_cache_stats().is_none());
    }
}

#[test]
fn writes_through_the_handle_or_a_clone_are_seen() {
    for (name, plain) in arrays() {
        let mut cached = plain.clone();
        cached.set_chunk_cache(1 << 30);
        let clone = cached.clone();
        let check = |what: &str| {
            for sel in SELECTIONS {
                let want = plain.read::<i32>(*sel).unwrap();
                assert_eq!(
                    cached.read::<i32>(*sel).unwrap(),
                    want,
                    "{name} after {what}: {sel}"
                );
            }
        };
        check("nothing");
        // A partial write (read-modify-write), a whole-chunk write, a fill and a fancy write.
        clone
            .write(
                "1:4, 2:3, 5:9",
                &ArrayD::from_elem(IxDyn(&[3, 1, 4]), -1i32),
            )
            .unwrap();
        check("a partial write through a clone");
        cached
            .write(
                "5:10, 7:14, 4:8",
                &ArrayD::from_elem(IxDyn(&[5, 7, 4]), -2i32),
            )
            .unwrap();
        check("a whole-chunk write");
        clone.fill("20:, 15:, :3").unwrap();
        check("a fill");
        clone
            .write(&points(), &ArrayD::from_elem(IxDyn(&[6]), -3i32))
            .unwrap();
        check("a point write");
        clone
            .write(
                "[0, 23], :, [1, 16]",
                &ArrayD::from_elem(IxDyn(&[2, 20, 2]), -4i32),
            )
            .unwrap();
        check("a list write");
        // A shape change through the cached handle empties its cache.
        cached.resize(&[12, 20, 18]).unwrap();
        cached.resize(&SHAPE).unwrap();
        let fresh = Array::open(plain.store().clone(), plain.path().as_str()).unwrap();
        assert_eq!(
            cached.read::<i32>(()).unwrap(),
            fresh.read::<i32>(()).unwrap(),
            "{name} after a resize"
        );
        assert_eq!(
            cached.read::<i32>("12:, :, :").unwrap(),
            ArrayD::<i32>::zeros(IxDyn(&[12, 20, 18])),
            "{name}: rows cut off and grown back hold the fill value"
        );
    }
}

#[test]
fn other_handles_writes_show_after_a_reload() {
    let (_, plain) = arrays().remove(0);
    let mut cached = plain.clone();
    cached.set_chunk_cache(1 << 30);
    let before = cached.read::<i32>("0:5, 0:7, 4:8").unwrap();
    let other = Array::open(plain.store().clone(), "zstd").unwrap();
    other
        .write("0:5, 0:7, 4:8", &ArrayD::from_elem(IxDyn(&[5, 7, 4]), 7i32))
        .unwrap();
    // The documented limit: another handle's write is not seen while the chunk is cached...
    assert_eq!(cached.read::<i32>("0:5, 0:7, 4:8").unwrap(), before);
    // ...until a reload, which empties the cache.
    cached.reload().unwrap();
    assert_eq!(
        cached.read::<i32>("0:5, 0:7, 4:8").unwrap(),
        ArrayD::from_elem(IxDyn(&[5, 7, 4]), 7i32)
    );
    assert_eq!(cached.chunk_cache_stats().unwrap().chunks, 1);
}

#[test]
fn the_budget_holds_and_small_budgets_stay_correct() {
    for (name, plain) in arrays() {
        let mut cached = plain.clone();
        // Room for three 5×7×4 chunks of i4 (560 bytes each).
        cached.set_chunk_cache(3 * 560);
        for _ in 0..2 {
            for sel in SELECTIONS {
                let want = plain.read::<i32>(*sel).unwrap();
                assert_eq!(cached.read::<i32>(*sel).unwrap(), want, "{name} {sel}");
                let stats = cached.chunk_cache_stats().unwrap();
                assert!(
                    stats.bytes <= 3 * 560 && stats.chunks <= 3,
                    "{name}: {stats:?}"
                );
            }
        }
        cached.set_chunk_cache(0);
        assert!(cached.chunk_cache_stats().is_none());
        assert_eq!(
            cached.read::<i32>(()).unwrap(),
            plain.read::<i32>(()).unwrap()
        );
    }
}

/// Readers racing writers of the same chunks (and shards) always read a whole version of each:
/// no error from a shard index of one version applied to another's bytes, and, cached, no stale
/// chunk left behind.
#[test]
fn concurrent_readers_and_writers_of_clones_never_mix_versions() {
    for budget in [0, 1 << 30] {
        for (name, plain) in arrays() {
            let mut cached = plain.clone();
            cached.set_chunk_cache(budget);
            std::thread::scope(|scope| {
                for t in 0..4i32 {
                    let handle = cached.clone();
                    scope.spawn(move || {
                        for round in 0..20i32 {
                            if t % 2 == 0 {
                                let value = ArrayD::from_elem(IxDyn(&[7, 9, 5]), t * 1000 + round);
                                handle.write("3:10, 5:14, 2:7", &value).unwrap();
                            } else {
                                handle.read::<i32>("::2, 1:, 3:").unwrap();
                            }
                        }
                    });
                }
            });
            let fresh = Array::open(plain.store().clone(), plain.path().as_str()).unwrap();
            assert_eq!(
                cached.read::<i32>(()).unwrap(),
                fresh.read::<i32>(()).unwrap(),
                "{name}, cache of {budget} bytes"
            );
        }
    }
}

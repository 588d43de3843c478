//! A bounded, deterministic run of the `array_shard` fuzz target's checks (`fuzz/checks/shard.rs`) over
//! shards tessera wrote, mutated: flipped bits, index entries pointing past the end, overlapping, huge or
//! overflowing, truncated shards. Every read returns the exact size or a typed error; nothing panics.

use std::sync::Arc;

use tessera_array::Array;
use tessera_store::{MemoryStore, Store, StoreKey};

#[path = "../../fuzz/checks/shard.rs"]
mod shard_checks;

/// xorshift64*: a tiny deterministic generator, so a failure names a reproducible case.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// A valid shard of the check's array (6x6 uint16 in 4x4 shards of 2x2 chunks) for `mode`, written by
/// tessera itself.
fn valid_shard(mode: u8) -> Vec<u8> {
    let meta = shard_checks::metadata(mode);
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    store
        .set(
            &StoreKey::new("a/zarr.json").unwrap(),
            meta.to_string().into_bytes().into(),
        )
        .unwrap();
    let arr = Array::open(store.clone(), "a").unwrap();
    // Three of the four inner chunks written; the fourth stays missing.
    let data: Vec<u8> = (0..12u16).flat_map(u16::to_le_bytes).collect();
    arr.write_raw("0:2, 0:4", &data[..16]).unwrap();
    arr.write_raw("2:4, 0:2", &data[16..24]).unwrap();
    store
        .get(&StoreKey::new("a/c/0/0").unwrap())
        .unwrap()
        .unwrap()
        .to_vec()
}

#[test]
fn mutated_shards_read_exactly_or_fail_typed() {
    let mut rng = Rng(0x5eed_0001);
    let mut runs = 0;
    for mode in 0..8u8 {
        let good = valid_shard(mode);
        let mut input = vec![mode];
        input.extend(&good);
        shard_checks::shard(&input);
        let index_len = if mode & 4 != 0 { 68 } else { 64 };
        let index_at = if mode & 1 == 0 {
            good.len() - index_len
        } else {
            0
        };
        for _ in 0..300 {
            let mut shard = good.clone();
            match rng.next() % 5 {
                // Flip a few bits anywhere.
                0 => {
                    for _ in 0..1 + rng.next() % 4 {
                        let i = (rng.next() % shard.len() as u64) as usize;
                        shard[i] ^= 1 << (rng.next() % 8);
                    }
                }
                // Rewrite one index word: past the end, huge, overflowing, overlapping, small.
                1 | 2 => {
                    let word = (rng.next() % 8) as usize;
                    let value = match rng.next() % 5 {
                        0 => shard.len() as u64 + rng.next() % 64,
                        1 => 1 << (20 + rng.next() % 43),
                        2 => u64::MAX - rng.next() % 8,
                        3 => rng.next() % 16,
                        _ => rng.next() % shard.len() as u64,
                    };
                    let at = index_at + word * 8;
                    shard[at..at + 8].copy_from_slice(&value.to_le_bytes());
                }
                // Truncate or extend.
                3 => shard.truncate((rng.next() % shard.len() as u64) as usize),
                _ => shard.extend((0..rng.next() % 40).map(|_| rng.next() as u8)),
            }
            let mut input = vec![mode];
            input.extend(&shard);
            shard_checks::shard(&input);
            runs += 1;
        }
    }
    assert_eq!(runs, 2400);
}

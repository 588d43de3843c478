//! Fuzzes the shard read path: the input is one stored shard of a 6x6 `uint16` array in 4x4 shards of
//! 2x2 inner chunks (first byte: index at start or end, inner chunks raw or gzip, index with or without
//! crc32c). Whole, slab and single-chunk reads and a partial write return the exact size or a typed
//! error; lying offsets and sizes never panic or allocate beyond the array.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks/shard.rs"]
mod checks;

fuzz_target!(|data: &[u8]| checks::shard(data));

//! The checks of the `array_read_raw` fuzz target as a plain function: the target calls it, and so do the
//! regression tests of its findings (`tests/reliability/fuzz_regressions.rs`, which includes this file by
//! path), so a finding is replayed through exactly the checks that found it. No libFuzzer here.

use std::sync::Arc;

use tessera_array::{Array, ArrayMetadata, Selection};
use tessera_store::{MemoryStore, Store, StoreKey, WritableStore};

/// The whole read path: a `.zarray` and chunk bytes in a memory store, read through
/// `Array::read_raw`. Input: a little-endian u16 giving the length of the `.zarray` text, the text,
/// then the bytes of chunk 0 (all zeros) and, after a `\xff\xfe` separator if present, of the last
/// chunk of the first row. Reads (a box from the origin, and a one-index slab across each axis of it)
/// return the selection's exact size or a typed error.
///
/// Arrays whose chunks exceed 1 MiB are skipped: reading one legitimately needs that much memory and
/// libFuzzer would report it as a leak or an OOM.
pub fn read_raw(data: &[u8]) {
    let Some((len, rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let len = (u16::from_le_bytes(*len) as usize).min(rest.len());
    let (zarray, chunks) = rest.split_at(len);
    let Ok(meta) = ArrayMetadata::parse(zarray) else {
        return;
    };
    if meta.chunk_bytes() > 1 << 20 || meta.rank() > 8 {
        return;
    }
    let (first, second) = match chunks.windows(2).position(|w| w == b"\xff\xfe") {
        Some(i) => (&chunks[..i], Some(&chunks[i + 2..])),
        None => (chunks, None),
    };
    let store = Arc::new(MemoryStore::new());
    store
        .set(&StoreKey::new("a/.zarray").unwrap(), zarray.to_vec().into())
        .unwrap();
    let store: Arc<dyn Store> = store;
    let Ok(array) = Array::open(store.clone(), "a") else {
        return;
    };
    let rank = meta.rank();
    let grid = meta.grid_shape();
    let zero = vec![0u64; rank];
    if let Ok(key) = array.chunk_key(&zero) {
        store.set(&key, first.to_vec().into()).unwrap();
    }
    if let Some(second) = second {
        let mut last = zero.clone();
        if let Some(g) = grid.last() {
            *last.last_mut().unwrap() = g.saturating_sub(1);
        }
        if let Ok(key) = array.chunk_key(&last) {
            store.set(&key, second.to_vec().into()).unwrap();
        }
    }
    // Up to two chunks' worth along the first axis and one along the others, capped at 1 MiB of output.
    // (`|S0` and `|V0` elements take no bytes.)
    let itemsize = meta.dtype.itemsize() as u64;
    let mut budget = (1u64 << 20) / itemsize.max(1);
    let ranges: Vec<_> = (0..rank)
        .map(|a| {
            let want = if a == 0 {
                meta.chunks[a].saturating_mul(2)
            } else {
                meta.chunks[a]
            };
            let n = meta.shape[a].min(want).min(budget.max(1));
            budget /= n.max(1);
            0..n
        })
        .collect();
    let sel = Selection::from_ranges(&ranges);
    let expected: u64 = ranges.iter().map(|r| r.end - r.start).product::<u64>() * itemsize;
    if expected > 1 << 21 {
        return;
    }
    if let Ok(raw) = array.read_raw(&sel) {
        assert_eq!(raw.bytes.len() as u64, expected);
    }
    // A one-index slab across each axis of the same box: for uncompressed chunks these are read as byte
    // ranges of the chunk, not whole.
    for axis in 0..rank {
        let mut slab = ranges.clone();
        let mid = (slab[axis].end / 2).min(slab[axis].end.saturating_sub(1));
        slab[axis] = mid..(mid + 1).min(slab[axis].end);
        let want: u64 = slab.iter().map(|r| r.end - r.start).product::<u64>() * itemsize;
        if let Ok(raw) = array.read_raw(Selection::from_ranges(&slab)) {
            assert_eq!(raw.bytes.len() as u64, want);
        }
    }
    // The whole first chunk, as stored.
    let _ = array.read_chunk(&zero);
}

//! The opt-in cache of decoded chunks: a byte budget, least recently used out first.
//!
//! Repeated reads of the same chunks (random crops, training epochs, a viewer panning back and forth)
//! otherwise fetch and decode each chunk every time. [`Array::set_chunk_cache`](crate::Array::set_chunk_cache)
//! gives a handle a cache; its clones share it, so the threads of one reader warm it for each other.
//!
//! What it holds: the decoded bytes of whole chunks (inner chunks, for a sharded array), keyed by the
//! chunk's store key (and, sharded, the inner chunk's index in its shard). Missing chunks are not
//! cached (their fill value costs nothing to make). Writes through the handle or a clone remove the
//! chunks they touch; a resize, an append or a reload empties the cache. Writes by other handles,
//! processes or machines are not seen: a cached chunk stays as it was read until it is evicted.

use std::sync::{Arc, Mutex, MutexGuard};

use lru::LruCache;
use tessera_store::StoreKey;

/// A decoded chunk in the cache (a `Vec` behind the `Arc`, so a freshly decoded buffer goes in
/// without a copy).
pub(crate) type Decoded = Arc<Vec<u8>>;

/// What a [`ChunkCache`] holds and how well it served, from
/// [`Array::chunk_cache_stats`](crate::Array::chunk_cache_stats).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChunkCacheStats {
    /// The byte budget the cache was given.
    pub budget: usize,
    /// Decoded bytes held now.
    pub bytes: usize,
    /// Chunks held now.
    pub chunks: usize,
    /// Chunk reads served from the cache.
    pub hits: u64,
    /// Chunk reads the cache could not serve: fetched and decoded, or missing from the store (the
    /// fill value of a missing chunk is not cached).
    pub misses: u64,
}

/// A cache key: the chunk's (or shard's) store key and, in a shard, the inner chunk's index.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Key {
    key: StoreKey,
    inner: u64,
}

struct Inner {
    lru: LruCache<Key, Decoded>,
    bytes: usize,
    hits: u64,
    misses: u64,
    /// Bumped by every invalidation: a chunk read before a write must not be inserted after it.
    generation: u64,
}

/// Decoded chunks under a byte budget, least recently used evicted first. Shared by an
/// [`Array`](crate::Array) handle and its clones.
pub(crate) struct ChunkCache {
    budget: usize,
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for ChunkCache {
    /// The counts, not the chunks.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.stats().fmt(f)
    }
}

impl ChunkCache {
    pub(crate) fn new(budget: usize) -> Arc<ChunkCache> {
        Arc::new(ChunkCache {
            budget,
            inner: Mutex::new(Inner {
                lru: LruCache::unbounded(),
                bytes: 0,
                hits: 0,
                misses: 0,
                generation: 0,
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The state stays consistent between statements: a panic elsewhere cannot break it.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The decoded chunk at `key` (`inner` in its shard, 0 unsharded), marked most recently used.
    pub(crate) fn get(&self, key: &StoreKey, inner: u64) -> Option<Decoded> {
        let mut state = self.lock();
        let found = state
            .lru
            .get(&Key {
                key: key.clone(),
                inner,
            })
            .cloned();
        match found {
            Some(_) => state.hits += 1,
            None => state.misses += 1,
        }
        found
    }

    /// The generation to pass to [`insert`](Self::insert) for a chunk about to be fetched.
    pub(crate) fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// Keeps a decoded chunk fetched at `generation`, evicting the least recently used ones to stay
    /// within the budget. Dropped when a write invalidated anything since, or when it alone exceeds
    /// the budget.
    pub(crate) fn insert(&self, key: &StoreKey, inner: u64, decoded: Decoded, generation: u64) {
        if decoded.len() > self.budget {
            return;
        }
        let mut state = self.lock();
        if state.generation != generation {
            return;
        }
        let len = decoded.len();
        let key = Key {
            key: key.clone(),
            inner,
        };
        if let Some(old) = state.lru.put(key, decoded) {
            state.bytes -= old.len();
        }
        state.bytes += len;
        while state.bytes > self.budget {
            match state.lru.pop_lru() {
                Some((_, old)) => state.bytes -= old.len(),
                None => break,
            }
        }
    }

    /// Forgets the chunk at `key` (every inner chunk of it, for a shard of `inner_chunks`).
    pub(crate) fn remove(&self, key: &StoreKey, inner_chunks: u64) {
        let mut state = self.lock();
        state.generation += 1;
        if inner_chunks as usize <= state.lru.len() {
            for inner in 0..inner_chunks {
                let gone = state.lru.pop(&Key {
                    key: key.clone(),
                    inner,
                });
                if let Some(old) = gone {
                    state.bytes -= old.len();
                }
            }
        } else {
            let doomed: Vec<Key> = state
                .lru
                .iter()
                .filter(|(k, _)| &k.key == key)
                .map(|(k, _)| k.clone())
                .collect();
            for k in doomed {
                if let Some(old) = state.lru.pop(&k) {
                    state.bytes -= old.len();
                }
            }
        }
    }

    /// Forgets every chunk.
    pub(crate) fn clear(&self) {
        let mut state = self.lock();
        state.generation += 1;
        state.lru.clear();
        state.bytes = 0;
    }

    pub(crate) fn stats(&self) -> ChunkCacheStats {
        let state = self.lock();
        ChunkCacheStats {
            budget: self.budget,
            bytes: state.bytes,
            chunks: state.lru.len(),
            hits: state.hits,
            misses: state.misses,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> StoreKey {
        StoreKey::new(s).unwrap()
    }

    fn chunk(n: usize, v: u8) -> Decoded {
        Arc::new(vec![v; n])
    }

    #[test]
    fn evicts_least_recently_used_within_the_budget() {
        let cache = ChunkCache::new(300);
        let g = cache.generation();
        cache.insert(&key("a/0"), 0, chunk(100, 1), g);
        cache.insert(&key("a/1"), 0, chunk(100, 2), g);
        cache.insert(&key("a/2"), 0, chunk(100, 3), g);
        assert!(cache.get(&key("a/0"), 0).is_some()); // now a/1 is the oldest
        cache.insert(&key("a/3"), 0, chunk(100, 4), g);
        assert!(cache.get(&key("a/1"), 0).is_none());
        assert_eq!(cache.get(&key("a/0"), 0).unwrap()[..], [1; 100]);
        let stats = cache.stats();
        assert_eq!((stats.bytes, stats.chunks), (300, 3));
        assert_eq!((stats.hits, stats.misses), (2, 1));
        // Larger than the budget alone: not kept, nothing evicted for it.
        cache.insert(&key("a/4"), 0, chunk(301, 5), g);
        assert_eq!(cache.stats().chunks, 3);
        // Replacing an entry counts its bytes once.
        cache.insert(&key("a/3"), 0, chunk(50, 6), g);
        assert_eq!(cache.stats().bytes, 250);
    }

    #[test]
    fn invalidation_removes_shards_and_refuses_stale_inserts() {
        let cache = ChunkCache::new(1 << 20);
        let before = cache.generation();
        for inner in 0..4 {
            cache.insert(&key("s/0"), inner, chunk(10, 1), before);
        }
        cache.insert(&key("s/1"), 0, chunk(10, 1), before);
        // Few entries, many inner chunks: removal scans the entries instead.
        cache.remove(&key("s/0"), 1 << 40);
        assert_eq!(cache.stats().chunks, 1);
        // A read that began before the write must not bring back its stale chunk.
        cache.insert(&key("s/0"), 2, chunk(10, 9), before);
        assert!(cache.get(&key("s/0"), 2).is_none());
        let now = cache.generation();
        cache.insert(&key("s/0"), 2, chunk(10, 9), now);
        cache.remove(&key("s/0"), 4);
        assert!(cache.get(&key("s/0"), 2).is_none());
        cache.clear();
        assert_eq!(cache.stats().bytes, 0);
    }
}

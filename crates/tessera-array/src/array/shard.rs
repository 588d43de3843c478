//! Sharded v3 arrays (`sharding_indexed`): a stored chunk is a shard holding a grid of inner chunks and
//! an index of where each one lies.
//!
//! Reads fetch each touched shard's index with one ranged request, then only the inner chunks the
//! selection needs, as few coalesced ranges per shard (one batch over all shards), and decode them in
//! parallel into the result. Writes go through the chunk write path with the shard as the chunk: a shard
//! is decoded whole, modified and encoded whole, its inner chunks in parallel; inner chunks equal to the
//! fill value are left out, and a shard of nothing but fill is removed.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::{Arc, Mutex};

use rayon::prelude::*;
use tessera_store::{ByteRange, Bytes, DependentParts, StoreKey, StoreResult};

use super::Array;
use super::read::{SharedOut, Unit, first_error, no_error, with_scratch};
use crate::cache::{ChunkCache, Decoded};
use crate::copy::{self, Dim};
use crate::error::{ArrayError, ArrayResult};
use crate::fill_value::FillValue;
use crate::metadata::Order;
use crate::par;
use crate::plan::{ReadPlan, strides, strides_by_axes};
use crate::selection::ResolvedSelection;
use crate::v3::{ChunkEncoding, ShardCodec};

/// The index entry of a missing inner chunk.
const MISSING: u64 = u64::MAX;
/// Inner chunks closer than this in a shard are read with one range.
const GAP: u64 = 4096;

/// What encoding and decoding a shard needs besides its codec.
#[derive(Clone, Copy)]
pub(super) struct ShardContext<'a> {
    pub itemsize: usize,
    pub fill: &'a FillValue,
    /// Store inner chunks equal to the fill value too.
    pub keep_empty: bool,
}

fn index_error(key: &StoreKey, message: impl Into<String>) -> ArrayError {
    ArrayError::ShardIndex {
        key: key.to_string(),
        message: message.into(),
    }
}

fn num_elements(shape: &[u64]) -> usize {
    shape.iter().product::<u64>() as usize
}

/// Grid coordinates of the `i`-th cell (C order) of a grid of `grid` cells.
pub(super) fn unravel(mut i: u64, grid: &[u64]) -> Vec<u64> {
    let mut out = vec![0; grid.len()];
    for axis in (0..grid.len()).rev() {
        out[axis] = i % grid[axis];
        i /= grid[axis];
    }
    out
}

fn ravel(coords: &[u64], grid: &[u64]) -> u64 {
    coords.iter().zip(grid).fold(0, |acc, (&c, &g)| acc * g + c)
}

impl ShardCodec {
    /// The shard shape (inner chunk shape times chunks per shard).
    fn shard_shape(&self) -> Vec<u64> {
        self.chunk_shape
            .iter()
            .zip(&self.chunks_per_shard)
            .map(|(c, n)| c * n)
            .collect()
    }

    /// The byte range of the index in a shard of `len` bytes.
    fn index_range(&self, len: u64) -> Option<Range<u64>> {
        if len < self.index_len {
            return None;
        }
        Some(if self.index_at_end {
            len - self.index_len..len
        } else {
            0..self.index_len
        })
    }

    /// Decodes and checks an encoded index: `(offset, nbytes)` per inner chunk, `None` when missing.
    fn decode_index(&self, key: &StoreKey, encoded: &[u8]) -> ArrayResult<ShardIndex> {
        if encoded.len() as u64 != self.index_len {
            return Err(index_error(
                key,
                format!(
                    "index of {} bytes, expected {}",
                    encoded.len(),
                    self.index_len
                ),
            ));
        }
        let n = self.num_chunks() as usize;
        let mut raw = vec![0u8; n * 16];
        self.index_codecs
            .decode_into(encoded, &mut raw, 8)
            .map_err(|source| ArrayError::Codec {
                key: key.to_string(),
                source,
            })?;
        let word = |b: &[u8]| {
            let b: [u8; 8] = b.try_into().expect("8 bytes");
            match self.index_order {
                crate::dtype::ByteOrder::Little => u64::from_le_bytes(b),
                crate::dtype::ByteOrder::Big => u64::from_be_bytes(b),
            }
        };
        raw.chunks_exact(16)
            .enumerate()
            .map(|(i, e)| {
                let (offset, nbytes) = (word(&e[..8]), word(&e[8..]));
                match (offset, nbytes) {
                    (MISSING, MISSING) => Ok(None),
                    _ if offset.checked_add(nbytes).is_none() => Err(index_error(
                        key,
                        format!("inner chunk {i}: offset {offset} + {nbytes} bytes overflows"),
                    )),
                    _ => Ok(Some((offset, nbytes))),
                }
            })
            .collect()
    }

    /// Byte strides of a decoded inner chunk.
    pub(super) fn inner_strides(&self, itemsize: usize) -> Vec<usize> {
        match &self.inner {
            ChunkEncoding::Plain { order, .. } => {
                strides_by_axes(&self.chunk_shape, itemsize, order)
            }
            ChunkEncoding::Sharded(_) => strides(&self.chunk_shape, itemsize, Order::C),
        }
    }

    /// The copy geometry between inner chunk `coords` (its own buffer) and its place in a C-order shard
    /// buffer: the shard-side offset and dims from the inner chunk to the shard.
    pub(super) fn placement(&self, coords: &[u64], itemsize: usize) -> (usize, Vec<Dim>) {
        let shard_strides = strides(&self.shard_shape(), itemsize, Order::C);
        let inner = self.inner_strides(itemsize);
        let mut off = 0;
        let dims = (0..coords.len())
            .map(|a| {
                off += (coords[a] * self.chunk_shape[a]) as usize * shard_strides[a];
                Dim {
                    count: self.chunk_shape[a] as usize,
                    src: inner[a],
                    dst: shard_strides[a],
                }
            })
            .collect();
        (off, dims)
    }
}

/// Decodes one inner chunk (`out`: its decoded bytes).
fn decode_inner(
    encoding: &ChunkEncoding,
    ctx: ShardContext<'_>,
    key: &StoreKey,
    encoded: &[u8],
    out: &mut [u8],
) -> ArrayResult<()> {
    match encoding {
        ChunkEncoding::Plain { codecs, .. } => {
            if codecs.is_identity() && encoded.len() != out.len() {
                return Err(ArrayError::ChunkSize {
                    key: key.to_string(),
                    expected: out.len(),
                    found: encoded.len(),
                });
            }
            codecs
                .decode_into(encoded, out, ctx.itemsize)
                .map_err(|source| ArrayError::Codec {
                    key: key.to_string(),
                    source,
                })
        }
        ChunkEncoding::Sharded(inner) => decode_shard(inner, ctx, key, encoded, out),
    }
}

/// Encodes one inner chunk; `None` when it is all fill and empty chunks are not kept.
fn encode_inner(
    encoding: &ChunkEncoding,
    ctx: ShardContext<'_>,
    key: &StoreKey,
    decoded: &[u8],
) -> ArrayResult<Option<Vec<u8>>> {
    match encoding {
        ChunkEncoding::Plain { codecs, .. } => {
            if !ctx.keep_empty && !ctx.fill.is_null() && ctx.fill.matches_chunk(decoded) {
                return Ok(None);
            }
            codecs
                .encode(decoded, ctx.itemsize)
                .map(Some)
                .map_err(|source| ArrayError::Codec {
                    key: key.to_string(),
                    source,
                })
        }
        ChunkEncoding::Sharded(inner) => encode_shard(inner, ctx, key, decoded),
    }
}

/// The decoded index of a whole shard held in memory.
pub(super) fn shard_index(
    shard: &ShardCodec,
    key: &StoreKey,
    encoded: &[u8],
) -> ArrayResult<ShardIndex> {
    let range = shard.index_range(encoded.len() as u64).ok_or_else(|| {
        index_error(
            key,
            format!("{} bytes cannot hold the index", encoded.len()),
        )
    })?;
    shard.decode_index(key, &encoded[range.start as usize..range.end as usize])
}

/// The bytes of one inner chunk of a whole shard (`entry`: its index entry); `None` when missing.
pub(super) fn inner_chunk<'a>(
    key: &StoreKey,
    encoded: &'a [u8],
    entry: Option<(u64, u64)>,
) -> ArrayResult<Option<&'a [u8]>> {
    let Some((offset, nbytes)) = entry else {
        return Ok(None);
    };
    let end = offset + nbytes;
    if end > encoded.len() as u64 {
        return Err(index_error(
            key,
            format!(
                "inner chunk at {offset}..{end} lies past the shard's {} bytes",
                encoded.len()
            ),
        ));
    }
    Ok(Some(&encoded[offset as usize..end as usize]))
}

/// Decodes a whole shard held in memory into `out` (the shard's elements, C order).
pub(super) fn decode_shard(
    shard: &ShardCodec,
    ctx: ShardContext<'_>,
    key: &StoreKey,
    encoded: &[u8],
    out: &mut [u8],
) -> ArrayResult<()> {
    let index = shard_index(shard, key, encoded)?;
    let inner_bytes = num_elements(&shard.chunk_shape) * ctx.itemsize;
    let decoded: Vec<Option<Vec<u8>>> = index
        .par_iter()
        .with_min_len(par::min_len())
        .map(|entry| {
            let Some(bytes) = inner_chunk(key, encoded, *entry)? else {
                return Ok(None);
            };
            let mut buf = vec![0u8; inner_bytes];
            decode_inner(&shard.inner, ctx, key, bytes, &mut buf)?;
            Ok(Some(buf))
        })
        .collect::<ArrayResult<_>>()?;
    for (i, chunk) in decoded.iter().enumerate() {
        let coords = unravel(i as u64, &shard.chunks_per_shard);
        let (dst_off, dims) = shard.placement(&coords, ctx.itemsize);
        match chunk {
            Some(bytes) => copy::copy_region(bytes, 0, out, dst_off, &dims, ctx.itemsize),
            None => {
                let fill_dims: Vec<Dim> = dims.iter().map(|d| Dim { src: 0, ..*d }).collect();
                // SAFETY: `out` is exclusively borrowed; the region lies within it (checked inside).
                unsafe {
                    copy::fill_region_raw(
                        ctx.fill.bytes(),
                        out.as_mut_ptr(),
                        out.len(),
                        dst_off,
                        &fill_dims,
                    )
                }
            }
        }
    }
    Ok(())
}

/// Encodes a whole shard (`decoded`: its elements, C order); `None` when every inner chunk is left out.
pub(super) fn encode_shard(
    shard: &ShardCodec,
    ctx: ShardContext<'_>,
    key: &StoreKey,
    decoded: &[u8],
) -> ArrayResult<Option<Vec<u8>>> {
    let inner_bytes = num_elements(&shard.chunk_shape) * ctx.itemsize;
    let encoded: Vec<Option<Vec<u8>>> = (0..shard.num_chunks() as usize)
        .into_par_iter()
        .with_min_len(par::min_len())
        .map(|i| {
            let coords = unravel(i as u64, &shard.chunks_per_shard);
            let (src_off, dims) = shard.placement(&coords, ctx.itemsize);
            let back: Vec<Dim> = dims.iter().map(|d| d.swapped()).collect();
            let mut buf = vec![0u8; inner_bytes];
            copy::copy_region(decoded, src_off, &mut buf, 0, &back, ctx.itemsize);
            encode_inner(&shard.inner, ctx, key, &buf)
        })
        .collect::<ArrayResult<_>>()?;
    assemble_shard(shard, key, encoded)
}

/// A shard from its encoded inner chunks (C order over the shard's grid, `None` for those left
/// out) and their index; `None` when every inner chunk is left out.
pub(super) fn assemble_shard(
    shard: &ShardCodec,
    key: &StoreKey,
    encoded: Vec<Option<Vec<u8>>>,
) -> ArrayResult<Option<Vec<u8>>> {
    if encoded.iter().all(Option::is_none) {
        return Ok(None);
    }
    let data_len: usize = encoded.iter().flatten().map(Vec::len).sum();
    let mut out = Vec::with_capacity(data_len + shard.index_len as usize);
    let mut index = Vec::with_capacity(encoded.len() * 16);
    let mut offset = if shard.index_at_end {
        0
    } else {
        shard.index_len
    };
    let word = |v: u64| match shard.index_order {
        crate::dtype::ByteOrder::Little => v.to_le_bytes(),
        crate::dtype::ByteOrder::Big => v.to_be_bytes(),
    };
    for chunk in &encoded {
        match chunk {
            Some(bytes) => {
                index.extend(word(offset));
                index.extend(word(bytes.len() as u64));
                offset += bytes.len() as u64;
            }
            None => {
                index.extend(word(MISSING));
                index.extend(word(MISSING));
            }
        }
    }
    let index = shard
        .index_codecs
        .encode(&index, 8)
        .map_err(|source| ArrayError::Codec {
            key: key.to_string(),
            source,
        })?;
    if index.len() as u64 != shard.index_len {
        return Err(index_error(
            key,
            "the index codecs changed the index's size",
        ));
    }
    if !shard.index_at_end {
        out.extend_from_slice(&index);
    }
    for bytes in encoded.iter().flatten() {
        out.extend_from_slice(bytes);
    }
    if shard.index_at_end {
        out.extend_from_slice(&index);
    }
    Ok(Some(out))
}

/// A decoded shard index: `(offset, nbytes)` per inner chunk, `None` when it is missing.
pub(super) type ShardIndex = Vec<Option<(u64, u64)>>;

/// One request of a sharded read: the inner chunks one shard (or one group of them, see
/// [`Array::fetch_inner_chunks`]) contributes to it.
struct ShardRead {
    key: StoreKey,
    /// Indices of its inner chunks in the list being fetched.
    chunks: Vec<usize>,
}

/// What one shard's index asks to read: how many coalesced ranges hold its needed inner chunks,
/// where each lies in them, and the needed inner chunks that are missing (the fill value).
struct ShardPlan {
    missing: Vec<usize>,
    ranges: usize,
    pieces: Vec<Piece>,
}

/// Where one needed inner chunk lies in the ranges read from its shard.
struct Piece {
    /// Its index in the list being fetched.
    chunk: usize,
    range: usize,
    start: usize,
    len: usize,
}

/// Merges the byte extents of the needed inner chunks into few ranges (sorted, gaps up to [`GAP`]
/// bridged); returns the ranges and where each chunk lies in them.
fn coalesce(mut wanted: Vec<(usize, u64, u64)>) -> (Vec<Range<u64>>, Vec<Piece>) {
    wanted.sort_by_key(|w| w.1);
    let mut ranges: Vec<Range<u64>> = Vec::new();
    let mut pieces = Vec::with_capacity(wanted.len());
    for (chunk, offset, nbytes) in wanted {
        let end = offset + nbytes;
        match ranges.last_mut() {
            Some(last) if offset <= last.end.saturating_add(GAP) && offset >= last.start => {
                last.end = last.end.max(end);
            }
            _ => ranges.push(offset..end),
        }
        let range = ranges.len() - 1;
        pieces.push(Piece {
            chunk,
            range,
            start: (offset - ranges[range].start) as usize,
            len: nbytes as usize,
        });
    }
    (ranges, pieces)
}

impl Array {
    pub(super) fn shard_context(&self) -> ShardContext<'_> {
        ShardContext {
            itemsize: self.meta.dtype.itemsize(),
            fill: &self.meta.fill_value,
            keep_empty: self.write_empty_chunks || self.meta.fill_value.is_null(),
        }
    }

    /// Reads a selection of a sharded array into `out` (C order, its exact size, already checked).
    pub(super) fn read_sharded(
        &self,
        shard: &ShardCodec,
        sel: &ResolvedSelection,
        out: &mut [u8],
    ) -> ArrayResult<()> {
        let itemsize = self.meta.dtype.itemsize();
        let plan = ReadPlan::new(sel.clone(), &shard.chunk_shape);
        if plan.is_empty() || out.is_empty() {
            return Ok(());
        }
        let regions: Vec<_> = plan.regions().collect();
        let inner: Vec<Vec<u64>> = regions.iter().map(|r| r.chunk.clone()).collect();
        let out_strides = strides(&sel.full_shape(), itemsize, Order::C);
        let inner_strides = shard.inner_strides(itemsize);
        let target = SharedOut::new(out);
        self.fetch_inner_chunks(shard, &inner, &|i, unit| {
            // Use the whole `SharedOut` (which is `Sync`), not its raw-pointer field alone.
            let out = target;
            let (src_off, dst_off, dims) = regions[i].geometry(&inner_strides, &out_strides);
            // SAFETY: regions of different inner chunks are disjoint; both copies check that the
            // region lies within `out`.
            unsafe {
                match unit {
                    Unit::Decoded(decoded) => copy::copy_region_raw(
                        decoded, src_off, out.ptr, out.len, dst_off, &dims, itemsize,
                    ),
                    Unit::Missing => copy::fill_region_raw(
                        self.meta.fill_value.bytes(),
                        out.ptr,
                        out.len,
                        dst_off,
                        &dims,
                    ),
                }
            }
        })
    }

    /// Fetches the inner chunks at (array-wide) inner-grid coordinates `inner`, each once, and hands
    /// each to `on_chunk(i, ..)` decoded (in the inner chunk's own layout,
    /// [`ShardCodec::inner_strides`]) or as missing, on the thread that decoded it, in no particular
    /// order. Chunks the cache holds come from it; the others are kept in it. Stops at the first
    /// error, which it returns.
    ///
    /// Each touched shard's index is read (a suffix read when it is at the end), then the inner
    /// chunks it locates, as few coalesced ranges, both from one version of the shard: a shard
    /// replaced in between is read again, never decoded with the other version's index. All shards
    /// go in one batch, one request each; on a store that pipelines requests
    /// ([`pipelined_request_bytes`](tessera_store::ReadableStore::pipelined_request_bytes)), one
    /// request per group of a shard's chunks of about that size.
    pub(super) fn fetch_inner_chunks(
        &self,
        shard: &ShardCodec,
        inner: &[Vec<u64>],
        on_chunk: &(dyn Fn(usize, Unit<'_>) + Sync),
    ) -> ArrayResult<()> {
        let itemsize = self.meta.dtype.itemsize();
        let mut by_shard: BTreeMap<Vec<u64>, Vec<usize>> = BTreeMap::new();
        for (i, coords) in inner.iter().enumerate() {
            let outer: Vec<u64> = coords
                .iter()
                .zip(&shard.chunks_per_shard)
                .map(|(c, n)| c / n)
                .collect();
            by_shard.entry(outer).or_default().push(i);
        }
        let mut shards: Vec<ShardRead> = by_shard
            .into_iter()
            .map(|(coords, chunks)| {
                Ok(ShardRead {
                    key: self.chunk_key(&coords)?,
                    chunks,
                })
            })
            .collect::<ArrayResult<_>>()?;
        let inner_bytes = num_elements(&shard.chunk_shape) * itemsize;
        // The inner chunk's index in its shard.
        let local_index = |i: usize| {
            let local: Vec<u64> = inner[i]
                .iter()
                .zip(&shard.chunks_per_shard)
                .map(|(c, n)| c % n)
                .collect();
            ravel(&local, &shard.chunks_per_shard)
        };
        // A store that pipelines requests (local files) gets each shard's chunks in groups of
        // about the size it names, in the shard's order, each group a request of its own (the
        // index is read again for each: a page already cached), so that the first decodes start
        // after a few MiB and the next group is fetched while one decodes. Object stores keep
        // one request per shard.
        if let Some(bytes) = self.store.pipelined_request_bytes() {
            let per_group = usize::try_from(bytes / inner_bytes.max(1) as u64)
                .unwrap_or(usize::MAX)
                .max(1);
            shards = shards
                .into_iter()
                .flat_map(|mut s| {
                    s.chunks.sort_by_key(|&i| local_index(i));
                    let groups: Vec<ShardRead> = s
                        .chunks
                        .chunks(per_group)
                        .map(|group| ShardRead {
                            key: s.key.clone(),
                            chunks: group.to_vec(),
                        })
                        .collect();
                    groups
                })
                .collect();
        }

        // Inner chunks the cache holds are handed over from it; only the others are fetched.
        let cache = self.read_cache();
        let generation = cache.map_or(0, ChunkCache::generation);
        if let Some(cache) = cache {
            let mut hits: Vec<(usize, Decoded)> = Vec::new();
            for s in &mut shards {
                s.chunks
                    .retain(|&i| match cache.get(&s.key, local_index(i)) {
                        Some(decoded) => {
                            hits.push((i, decoded));
                            false
                        }
                        None => true,
                    });
            }
            shards.retain(|s| !s.chunks.is_empty());
            hits.par_iter()
                .with_min_len(par::min_len())
                .for_each(|(i, decoded)| on_chunk(*i, Unit::Decoded(decoded)));
            if shards.is_empty() {
                return Ok(());
            }
        }

        let index_range = if shard.index_at_end {
            ByteRange::Suffix(shard.index_len)
        } else {
            ByteRange::FromStart {
                offset: 0,
                length: Some(shard.index_len),
            }
        };
        let requests: Vec<(StoreKey, ByteRange)> = shards
            .iter()
            .map(|s| (s.key.clone(), index_range))
            .collect();
        // What the last index read of each shard asks for (overwritten when a shard is read again).
        let plans: Vec<Mutex<Option<ArrayResult<ShardPlan>>>> =
            shards.iter().map(|_| Mutex::new(None)).collect();
        // The shard's plan and the ranges to read.
        let plan_shard =
            |j: usize, index_bytes: &[u8]| -> ArrayResult<(ShardPlan, Vec<Range<u64>>)> {
                let s = &shards[j];
                let index = shard.decode_index(&s.key, index_bytes)?;
                let mut missing = Vec::new();
                let mut wanted = Vec::with_capacity(s.chunks.len());
                for &i in &s.chunks {
                    match index[local_index(i) as usize] {
                        None => missing.push(i),
                        Some((offset, nbytes)) => {
                            if !shard.index_at_end && offset < shard.index_len {
                                return Err(index_error(
                                    &s.key,
                                    format!("inner chunk at offset {offset} overlaps the index"),
                                ));
                            }
                            if nbytes > crate::metadata::MAX_CHUNK_BYTES {
                                return Err(index_error(
                                    &s.key,
                                    format!("inner chunk of {nbytes} bytes"),
                                ));
                            }
                            wanted.push((i, offset, nbytes));
                        }
                    }
                }
                let (ranges, pieces) = coalesce(wanted);
                let plan = ShardPlan {
                    missing,
                    ranges: ranges.len(),
                    pieces,
                };
                Ok((plan, ranges))
            };
        let then = |j: usize, index_bytes: &Bytes| {
            let (planned, ranges) = match plan_shard(j, index_bytes) {
                Ok((plan, ranges)) => (Ok(plan), ranges),
                Err(e) => (Err(e), Vec::new()),
            };
            *plans[j].lock().unwrap_or_else(|p| p.into_inner()) = Some(planned);
            ranges
        };
        let error = Mutex::new(None);
        let on_shard = |j: usize, result: StoreResult<Option<DependentParts>>| -> ArrayResult<()> {
            let key = &shards[j].key;
            let parts = match result {
                Ok(Some((_, parts))) => parts,
                Ok(None) => {
                    shards[j]
                        .chunks
                        .iter()
                        .for_each(|&i| on_chunk(i, Unit::Missing));
                    return Ok(());
                }
                Err(e) if e.kind() == tessera_store::StoreErrorKind::InvalidRange => {
                    let placed = plans[j].lock().unwrap_or_else(|p| p.into_inner()).is_some();
                    let message = if placed {
                        "an inner chunk lies past the end of the shard".to_string()
                    } else {
                        format!("shard too short for its {}-byte index", shard.index_len)
                    };
                    return Err(index_error(key, message));
                }
                Err(e) => return Err(e.into()),
            };
            let plan = plans[j]
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take()
                .unwrap_or_else(|| Err(index_error(key, "the store returned no index")))?;
            if parts.len() != plan.ranges {
                return Err(index_error(key, "the store returned the wrong ranges"));
            }
            plan.missing
                .iter()
                .for_each(|&i| on_chunk(i, Unit::Missing));
            plan.pieces
                .par_iter()
                .with_min_len(par::min_len())
                .try_for_each(|p| {
                    let encoded = &parts[p.range][p.start..p.start + p.len];
                    let decode_and_hand = |scratch: &mut [u8]| {
                        decode_inner(&shard.inner, self.shard_context(), key, encoded, scratch)?;
                        on_chunk(p.chunk, Unit::Decoded(scratch));
                        Ok(())
                    };
                    match cache {
                        Some(cache) => {
                            let mut decoded = vec![0u8; inner_bytes];
                            decode_and_hand(&mut decoded)?;
                            cache.insert(key, local_index(p.chunk), Arc::new(decoded), generation);
                            Ok(())
                        }
                        None => with_scratch(inner_bytes, decode_and_hand),
                    }
                })
        };
        self.store
            .get_many_dependent_ranges(&requests, &then, &|j, result| {
                if let Err(e) = on_shard(j, result) {
                    first_error(&error, e);
                }
            });
        no_error(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coalescing_bridges_small_gaps_only() {
        let (ranges, pieces) =
            coalesce(vec![(0, 100, 10), (1, 0, 50), (2, 60, 20), (3, 100_000, 5)]);
        assert_eq!(ranges, vec![0..110, 100_000..100_005]);
        let at: Vec<_> = pieces
            .iter()
            .map(|p| (p.chunk, p.range, p.start, p.len))
            .collect();
        assert_eq!(
            at,
            vec![(1, 0, 0, 50), (2, 0, 60, 20), (0, 0, 100, 10), (3, 1, 0, 5)]
        );
    }

    #[test]
    fn ravel_and_unravel_agree() {
        let grid = [3, 4, 5];
        for i in 0..60 {
            assert_eq!(ravel(&unravel(i, &grid), &grid), i);
        }
    }
}

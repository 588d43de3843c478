//! The read path: plan the chunks a selection touches, fetch them in one batch (byte ranges of the
//! uncompressed chunks a selection needs only a little of), decode in parallel into the result.

use std::borrow::Cow;
use std::cell::RefCell;
use std::ops::Range;
use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use tessera_store::{Bytes, RangeRequest, StoreKey};

use super::Array;
use crate::access::buffer_len;
use crate::cache::{ChunkCache, Decoded};
use crate::copy::{self, Dim};
use crate::error::{ArrayError, ArrayResult};
use crate::metadata::Order;
use crate::par;
use crate::plan::{ChunkRegion, ReadPlan, strides, strides_by_axes};
use crate::selection::ResolvedSelection;

/// A pointer to the result buffer that chunk callbacks on several threads write disjoint regions of.
#[derive(Clone, Copy)]
pub(super) struct SharedOut {
    pub(super) ptr: *mut u8,
    pub(super) len: usize,
}

impl SharedOut {
    pub(super) fn new(out: &mut [u8]) -> SharedOut {
        SharedOut {
            ptr: out.as_mut_ptr(),
            len: out.len(),
        }
    }
}
// SAFETY: the read plan gives each chunk a disjoint region of the buffer; see `read_into`.
unsafe impl Send for SharedOut {}
unsafe impl Sync for SharedOut {}

/// One fetched chunk (or inner chunk of a shard), as [`Array::fetch_chunks`] hands it over.
pub(super) enum Unit<'b> {
    /// Its decoded elements, in the chunk's own layout.
    Decoded(&'b [u8]),
    /// It is not stored: every element is the fill value.
    Missing,
}

thread_local! {
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Scratch buffers larger than this are released after use instead of kept per thread.
const KEEP_SCRATCH: usize = 64 << 20;

/// Runs `f` with a thread-local scratch buffer of `len` bytes (contents unspecified).
pub(super) fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [u8]) -> R) -> R {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            if buf.len() < len {
                buf.resize(len, 0);
            }
            let r = f(&mut buf[..len]);
            if buf.len() > KEEP_SCRATCH {
                *buf = Vec::new();
            }
            r
        }
        // Re-entered on this thread (a nested parallel section stole work): use a fresh buffer.
        Err(_) => f(&mut vec![0u8; len]),
    })
}

pub(super) fn first_error(slot: &Mutex<Option<ArrayError>>, err: ArrayError) {
    slot.lock()
        .unwrap_or_else(|p| p.into_inner())
        .get_or_insert(err);
}

/// The first error [`first_error`] kept in `slot`, or `Ok`.
pub(super) fn no_error(slot: Mutex<Option<ArrayError>>) -> ArrayResult<()> {
    match slot.into_inner().unwrap_or_else(|p| p.into_inner()) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// True when `dims` simplify to a single contiguous run on both sides.
pub(super) fn is_one_run(dims: &[Dim], itemsize: usize) -> bool {
    match copy::simplify(dims) {
        None => false,
        Some(d) => d.is_empty() || (d.len() == 1 && d[0].src == itemsize && d[0].dst == itemsize),
    }
}

impl Array {
    /// Reads a resolved selection into `out` (C order, stored dtype and byte order), which must hold
    /// exactly the selection's bytes.
    ///
    /// # Errors
    /// [`ArrayError::ShapeMismatch`] when `out` has the wrong length; store and codec errors.
    pub(super) fn read_selection(
        &self,
        sel: &ResolvedSelection,
        out: &mut [u8],
    ) -> ArrayResult<()> {
        sel.check_array_shape(&self.meta.shape)?;
        self.refuse_object_bytes()?;
        let itemsize = self.meta.dtype.itemsize();
        let expected = buffer_len(sel.num_elements(), itemsize)?;
        if out.len() != expected {
            return Err(ArrayError::ShapeMismatch {
                expected: sel.shape(),
                found: vec![(out.len() / itemsize.max(1)) as u64],
            });
        }
        if sel.axes().len() != self.meta.rank() {
            return Err(ArrayError::selection(
                "selection resolved against another array",
            ));
        }
        if let Some(fancy) = sel.fancy_positions() {
            return self.read_fancy(sel, fancy, out);
        }
        if let Some(shard) = &self.shard {
            return self.read_sharded(shard, sel, out);
        }
        let plan = ReadPlan::new(sel.clone(), &self.meta.chunks);
        if plan.is_empty() || expected == 0 {
            return Ok(());
        }
        let keys = plan
            .regions()
            .map(|r| self.chunk_key(&r.chunk))
            .collect::<ArrayResult<Vec<_>>>()?;
        let out_strides = strides(&sel.full_shape(), itemsize, Order::C);
        let chunk_strides =
            strides_by_axes(&self.meta.chunks, itemsize, &self.meta.chunk_axis_order());
        let target = SharedOut {
            ptr: out.as_mut_ptr(),
            len: out.len(),
        };
        let error = Mutex::new(None);
        let record = |placed: ArrayResult<()>| {
            if let Err(e) = placed {
                first_error(&error, e);
            }
        };
        let failed = || error.lock().unwrap_or_else(|p| p.into_inner()).is_some();

        // Uncompressed chunks the selection needs only a small part of are read in part (a slab across
        // large chunks needs kilobytes of each, not the whole file); the others are read whole. With
        // a cache, chunks it holds are copied from it and the others are read whole, to be kept.
        let mut whole: Vec<usize> = Vec::with_capacity(keys.len());
        let mut partial: Vec<(usize, RangeRequest)> = Vec::new();
        let mut hits: Vec<(usize, Decoded)> = Vec::new();
        let cache = self.read_cache();
        let generation = cache.map_or(0, ChunkCache::generation);
        for (i, key) in keys.iter().enumerate() {
            if let Some(cache) = cache {
                match cache.get(key, 0) {
                    Some(decoded) => hits.push((i, decoded)),
                    None => whole.push(i),
                }
                continue;
            }
            match self.partial_ranges(&plan.region(i), &chunk_strides, &out_strides) {
                Some(ranges) => partial.push((i, (key.clone(), ranges))),
                None => whole.push(i),
            }
        }
        hits.par_iter()
            .with_min_len(par::min_len())
            .for_each(|(i, decoded)| {
                self.place_decoded(
                    decoded,
                    &plan.region(*i),
                    &chunk_strides,
                    &out_strides,
                    target,
                );
            });

        if !whole.is_empty() {
            // Fewer chunks than cores: each decode may use the spare ones (blosc's blocks).
            let threads = (rayon::current_num_threads() / whole.len()).max(1);
            // Usually every chunk is read whole: then the keys need no copy.
            let whole_keys: Cow<'_, [StoreKey]> = if whole.len() == keys.len() {
                Cow::Borrowed(&keys)
            } else {
                Cow::Owned(whole.iter().map(|&i| keys[i].clone()).collect())
            };
            self.store.get_many(&whole_keys, &|j, result| {
                if failed() {
                    return;
                }
                let i = whole[j];
                record(result.map_err(ArrayError::from).and_then(|chunk| {
                    if let (Some(cache), Some(encoded)) = (cache, chunk.as_deref()) {
                        let decoded = self.decode_owned(&keys[i], encoded, threads)?;
                        let region = plan.region(i);
                        self.place_decoded(&decoded, &region, &chunk_strides, &out_strides, target);
                        cache.insert(&keys[i], 0, Arc::new(decoded), generation);
                        return Ok(());
                    }
                    self.place_chunk(
                        &keys[i],
                        chunk.as_deref(),
                        &plan.region(i),
                        &chunk_strides,
                        &out_strides,
                        target,
                        threads,
                    )
                }));
            });
        }
        if !partial.is_empty() && !failed() {
            let (indices, requests): (Vec<usize>, Vec<_>) = partial.into_iter().unzip();
            self.store.get_many_ranges(&requests, &|j, result| {
                if failed() {
                    return;
                }
                let i = indices[j];
                record(result.map_err(ArrayError::from).and_then(|parts| {
                    self.place_parts(
                        parts.as_deref(),
                        &requests[j].1,
                        &plan.region(i),
                        &chunk_strides,
                        &out_strides,
                        target,
                    )
                }));
            });
        }
        no_error(error)
    }

    /// Fetches the chunks at grid coordinates `chunks` in one batch (the store reads ahead and overlaps
    /// fetching with decoding), decodes each once and hands it to `on_chunk(i, ..)` on the thread that
    /// decoded it, in no particular order. Chunks the cache holds come from it; the others are kept
    /// in it. Stops at the first error, which it returns.
    pub(super) fn fetch_chunks(
        &self,
        chunks: &[Vec<u64>],
        on_chunk: &(dyn Fn(usize, Unit<'_>) + Sync),
    ) -> ArrayResult<()> {
        let keys = chunks
            .iter()
            .map(|c| self.chunk_key(c))
            .collect::<ArrayResult<Vec<_>>>()?;
        let cache = self.read_cache();
        let generation = cache.map_or(0, ChunkCache::generation);
        let misses: Vec<usize> = match cache {
            Some(cache) => {
                let mut hits = Vec::new();
                let mut misses = Vec::new();
                for (i, key) in keys.iter().enumerate() {
                    match cache.get(key, 0) {
                        Some(decoded) => hits.push((i, decoded)),
                        None => misses.push(i),
                    }
                }
                hits.par_iter()
                    .with_min_len(par::min_len())
                    .for_each(|(i, decoded)| on_chunk(*i, Unit::Decoded(decoded)));
                misses
            }
            None => (0..keys.len()).collect(),
        };
        if misses.is_empty() {
            return Ok(());
        }
        let threads = (rayon::current_num_threads() / misses.len()).max(1);
        let miss_keys: Cow<'_, [StoreKey]> = if misses.len() == keys.len() {
            Cow::Borrowed(&keys)
        } else {
            Cow::Owned(misses.iter().map(|&i| keys[i].clone()).collect())
        };
        let chunk_bytes = self.meta.chunk_bytes();
        let error = Mutex::new(None);
        let failed = || error.lock().unwrap_or_else(|p| p.into_inner()).is_some();
        self.store.get_many(&miss_keys, &|j, result| {
            if failed() {
                return;
            }
            let (i, key) = (misses[j], &miss_keys[j]);
            let handled = result.map_err(ArrayError::from).and_then(|chunk| {
                let Some(encoded) = chunk else {
                    on_chunk(i, Unit::Missing);
                    return Ok(());
                };
                if let Some(cache) = cache {
                    let decoded = self.decode_owned(key, &encoded, threads)?;
                    on_chunk(i, Unit::Decoded(&decoded));
                    cache.insert(key, 0, Arc::new(decoded), generation);
                    return Ok(());
                }
                if self.shard.is_none() && self.codecs.is_identity() {
                    // Stored as decoded: no copy.
                    self.check_raw_size(key, &encoded)?;
                    on_chunk(i, Unit::Decoded(&encoded));
                    return Ok(());
                }
                with_scratch(chunk_bytes, |scratch| {
                    self.decode_chunk_threaded(key, &encoded, scratch, threads)?;
                    on_chunk(i, Unit::Decoded(scratch));
                    Ok(())
                })
            });
            if let Err(e) = handled {
                first_error(&error, e);
            }
        });
        no_error(error)
    }

    /// The byte ranges to read of an uncompressed chunk when the selection needs only a small part of it;
    /// `None` when the whole chunk should be read (compressed, mostly needed, or too scattered).
    fn partial_ranges(
        &self,
        region: &ChunkRegion,
        chunk_strides: &[usize],
        out_strides: &[usize],
    ) -> Option<Vec<Range<u64>>> {
        if !self.codecs.is_identity() || region.covers_chunk(&self.meta.chunks) {
            return None;
        }
        let (src_off, _, dims) = region.geometry(chunk_strides, out_strides);
        self.ranges_within(src_off, &dims)
    }

    /// The byte ranges of an uncompressed chunk that the region at `src_off` with `dims` (source side:
    /// the chunk's byte strides) reads, sorted and merged across small gaps; `None` when reading the
    /// whole chunk is the better plan (half of it or more needed, or too scattered).
    pub(super) fn ranges_within(&self, src_off: usize, dims: &[Dim]) -> Option<Vec<Range<u64>>> {
        /// Ranges closer than this are read as one (a page is read from disk anyway).
        const GAP: usize = 4096;
        /// More ranges than this per chunk: read it whole.
        const MAX_RANGES: usize = 256;
        let itemsize = self.meta.dtype.itemsize();
        let ranges = copy::source_ranges(src_off, dims, itemsize, GAP, MAX_RANGES)?;
        let needed: usize = ranges.iter().map(|r| r.len()).sum();
        (needed.saturating_mul(2) < self.meta.chunk_bytes()).then(|| {
            ranges
                .into_iter()
                .map(|r| r.start as u64..r.end as u64)
                .collect()
        })
    }

    /// Runs `f` on the parts of an uncompressed chunk read at `ranges` (sorted, from
    /// [`ranges_within`](Self::ranges_within)), laid out as in the chunk from the first range's start
    /// to the last one's end: byte `b` of the chunk is byte `b - ranges[0].start` of the span (bytes
    /// between the ranges are unspecified and never read by the region that asked for them). One
    /// part is handed over as read, several are copied into a scratch span.
    ///
    /// # Errors
    /// [`ArrayError::ChunkSize`] when the store returned other parts than asked for.
    pub(super) fn with_parts<R>(
        &self,
        key: &StoreKey,
        ranges: &[Range<u64>],
        parts: &[Bytes],
        f: impl FnOnce(&[u8]) -> R,
    ) -> ArrayResult<R> {
        if parts.len() != ranges.len() {
            return Err(ArrayError::ChunkSize {
                key: key.to_string(),
                expected: ranges.len(),
                found: parts.len(),
            });
        }
        if let Some((r, part)) = ranges
            .iter()
            .zip(parts)
            .find(|(r, p)| p.len() as u64 != r.end - r.start)
        {
            return Err(ArrayError::ChunkSize {
                key: key.to_string(),
                expected: (r.end - r.start) as usize,
                found: part.len(),
            });
        }
        let (Some(first), Some(last)) = (ranges.first(), ranges.last()) else {
            return Ok(f(&[]));
        };
        if let [part] = parts {
            return Ok(f(part));
        }
        let base = first.start as usize;
        Ok(with_scratch(last.end as usize - base, |span| {
            for (r, part) in ranges.iter().zip(parts) {
                span[r.start as usize - base..r.end as usize - base].copy_from_slice(part);
            }
            f(span)
        }))
    }

    /// Places the parts of an uncompressed chunk read by [`partial_ranges`](Self::partial_ranges) (or the
    /// fill value, when the chunk is missing) into the chunk's region of the result.
    fn place_parts(
        &self,
        parts: Option<&[Bytes]>,
        ranges: &[Range<u64>],
        region: &ChunkRegion,
        chunk_strides: &[usize],
        out_strides: &[usize],
        out: SharedOut,
    ) -> ArrayResult<()> {
        let key = self.chunk_key(&region.chunk)?;
        let Some(parts) = parts else {
            return self.place_chunk(&key, None, region, chunk_strides, out_strides, out, 1);
        };
        let Some(first) = ranges.first() else {
            return Ok(());
        };
        let itemsize = self.meta.dtype.itemsize();
        let (src_off, dst_off, dims) = region.geometry(chunk_strides, out_strides);
        let base = first.start as usize;
        self.with_parts(&key, ranges, parts, |span| {
            // SAFETY: the region belongs to this chunk alone and lies inside `out` (checked inside);
            // it reads only bytes of the ranges, which start at `base`.
            unsafe {
                copy::copy_region_raw(
                    span,
                    src_off - base,
                    out.ptr,
                    out.len,
                    dst_off,
                    &dims,
                    itemsize,
                )
            };
        })
    }

    /// Decodes one chunk (or the fill value, when it is missing) into its region of the result, with
    /// up to `threads` threads inside the chunk.
    #[allow(clippy::too_many_arguments)]
    fn place_chunk(
        &self,
        key: &StoreKey,
        chunk: Option<&[u8]>,
        region: &ChunkRegion,
        chunk_strides: &[usize],
        out_strides: &[usize],
        out: SharedOut,
        threads: usize,
    ) -> ArrayResult<()> {
        let itemsize = self.meta.dtype.itemsize();
        let (_, dst_off, dims) = region.geometry(chunk_strides, out_strides);
        let Some(encoded) = chunk else {
            // SAFETY: regions of different chunks are disjoint and lie within `out` (checked inside).
            unsafe {
                copy::fill_region_raw(
                    self.meta.fill_value.bytes(),
                    out.ptr,
                    out.len,
                    dst_off,
                    &dims,
                )
            };
            return Ok(());
        };
        let chunk_bytes = self.meta.chunk_bytes();
        if region.covers_chunk(&self.meta.chunks)
            && is_one_run(&dims, itemsize)
            && dst_off + chunk_bytes <= out.len
        {
            // The chunk is a contiguous piece of the result: decode straight into it.
            // SAFETY: this chunk's region is `dst_off..dst_off + chunk_bytes`, disjoint from every other
            // chunk's region, and inside `out`.
            let target =
                unsafe { std::slice::from_raw_parts_mut(out.ptr.add(dst_off), chunk_bytes) };
            return self.decode_chunk_threaded(key, encoded, target, threads);
        }
        let place =
            |decoded: &[u8]| self.place_decoded(decoded, region, chunk_strides, out_strides, out);
        if self.codecs.is_identity() {
            self.check_raw_size(key, encoded)?;
            place(encoded);
            return Ok(());
        }
        with_scratch(chunk_bytes, |scratch| {
            self.decode_chunk_threaded(key, encoded, scratch, threads)?;
            place(scratch);
            Ok(())
        })
    }

    /// Copies a decoded chunk (or an uncompressed one as stored) into its region of the result.
    fn place_decoded(
        &self,
        decoded: &[u8],
        region: &ChunkRegion,
        chunk_strides: &[usize],
        out_strides: &[usize],
        out: SharedOut,
    ) {
        let (src_off, dst_off, dims) = region.geometry(chunk_strides, out_strides);
        let itemsize = self.meta.dtype.itemsize();
        // SAFETY: regions of different chunks are disjoint, so this chunk's belongs to it alone;
        // `copy_region_raw` checks that it lies inside `out`.
        unsafe {
            copy::copy_region_raw(decoded, src_off, out.ptr, out.len, dst_off, &dims, itemsize)
        };
    }

    /// Object arrays have no fixed-size bytes to read or write: their values go through
    /// [`read_objects`](Array::read_objects) and [`write_objects`](Array::write_objects).
    pub(super) fn refuse_object_bytes(&self) -> ArrayResult<()> {
        if !self.meta.dtype.is_object() {
            return Ok(());
        }
        let codec = self.object_codec().map_or("no object codec", |c| c.id());
        Err(ArrayError::DataTypeMismatch {
            stored: format!("|O ({codec})"),
            requested: "fixed-size bytes (use read_objects/write_objects)".into(),
        })
    }

    fn check_raw_size(&self, key: &StoreKey, encoded: &[u8]) -> ArrayResult<()> {
        let expected = self.meta.chunk_bytes();
        if encoded.len() != expected {
            return Err(ArrayError::ChunkSize {
                key: key.to_string(),
                expected,
                found: encoded.len(),
            });
        }
        Ok(())
    }

    /// Decodes a stored chunk into a buffer of its own (for the cache), with up to `threads` threads.
    pub(super) fn decode_owned(
        &self,
        key: &StoreKey,
        encoded: &[u8],
        threads: usize,
    ) -> ArrayResult<Vec<u8>> {
        let mut decoded = vec![0u8; self.meta.chunk_bytes()];
        self.decode_chunk_threaded(key, encoded, &mut decoded, threads)?;
        Ok(decoded)
    }

    /// Decodes a stored chunk into `out` (exactly one chunk's bytes).
    pub(super) fn decode_chunk(
        &self,
        key: &StoreKey,
        encoded: &[u8],
        out: &mut [u8],
    ) -> ArrayResult<()> {
        self.decode_chunk_threaded(key, encoded, out, 1)
    }

    /// As [`decode_chunk`](Self::decode_chunk), with up to `threads` threads inside the chunk.
    fn decode_chunk_threaded(
        &self,
        key: &StoreKey,
        encoded: &[u8],
        out: &mut [u8],
        threads: usize,
    ) -> ArrayResult<()> {
        if let Some(shard) = &self.shard {
            return super::shard::decode_shard(shard, self.shard_context(), key, encoded, out);
        }
        if self.codecs.is_identity() {
            self.check_raw_size(key, encoded)?;
            out.copy_from_slice(encoded);
            return Ok(());
        }
        self.codecs
            .decode_into_threaded(encoded, out, self.meta.dtype.itemsize(), threads)
            .map_err(|source| ArrayError::Codec {
                key: key.to_string(),
                source,
            })
    }
}

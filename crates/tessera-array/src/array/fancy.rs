//! Reads and writes of fancy selections (lists, masks, negative steps, points): each touched chunk is
//! handled once, in parallel. A read fetches the touched chunks (inner chunks of shards, each shard's
//! index once) in one batch, decodes each once and copies its runs straight out; of an uncompressed
//! chunk the selection needs a small box of, only that box's byte ranges are read, all such chunks'
//! in one more batch. A write reads, modifies and writes back each touched chunk once through the
//! store's update.

use std::sync::Mutex;

use rayon::prelude::*;
use tessera_store::RangeRequest;

use super::Array;
use super::read::{SharedOut, Unit, first_error, no_error};
use super::write::Source;
use crate::copy::Dim;
use crate::error::ArrayResult;
use crate::fancy::{FancyChunk, FancyPlan};
use crate::par;
use crate::plan::strides_by_axes;
use crate::selection::{Fancy, ResolvedSelection};

/// How the bytes of one element move: from elements of `src_elem` bytes to elements of `dst_elem`
/// bytes, as `(source offset, target offset, length)` segments. Whole elements are one segment; a
/// structured field (or several) is a part of each record.
#[derive(Clone, Debug)]
pub(super) struct ElementView {
    pub(super) src_elem: usize,
    pub(super) dst_elem: usize,
    pub(super) segments: Vec<(usize, usize, usize)>,
}

impl ElementView {
    /// Whole elements of `itemsize` bytes.
    pub(super) fn whole(itemsize: usize) -> ElementView {
        ElementView {
            src_elem: itemsize,
            dst_elem: itemsize,
            segments: vec![(0, 0, itemsize)],
        }
    }

    fn is_whole(&self) -> bool {
        self.src_elem == self.dst_elem && self.segments == [(0, 0, self.src_elem)]
    }
}

/// Copies `len` elements from element offsets `s + k * s_step` of `src` to element offsets
/// `d + k * d_step` of the buffer at `dst` (`dst_len` bytes), moving the bytes `view` names.
///
/// # Panics
/// When a run leaves either buffer (a bug in the plan, never a data error).
///
/// # Safety
/// `dst` must be valid for writes of `dst_len` bytes, not overlap `src`, and no other thread may
/// touch the elements this run writes while it runs.
unsafe fn copy_run(
    src: &[u8],
    (s, s_step): (isize, isize),
    (dst, dst_len): (*mut u8, usize),
    (d, d_step): (isize, isize),
    len: usize,
    view: &ElementView,
) {
    if len == 0 {
        return;
    }
    let last = len as isize - 1;
    let inside = |first: isize, step: isize, elem: usize, bytes: usize| {
        let end = first + last * step;
        first.min(end) >= 0 && (first.max(end) as usize + 1) * elem <= bytes
    };
    assert!(
        inside(s, s_step, view.src_elem, src.len()),
        "run source out of bounds"
    );
    assert!(
        inside(d, d_step, view.dst_elem, dst_len),
        "run target out of bounds"
    );
    assert!(
        view.segments
            .iter()
            .all(|&(so, dso, n)| so + n <= view.src_elem && dso + n <= view.dst_elem),
        "element view out of bounds"
    );
    // SAFETY: every element of the run lies inside both buffers and every segment inside its
    // element (checked above); exclusivity is the caller's promise.
    unsafe {
        if s_step == 1 && d_step == 1 && view.is_whole() {
            std::ptr::copy_nonoverlapping(
                src.as_ptr().add(s as usize * view.src_elem),
                dst.add(d as usize * view.dst_elem),
                len * view.src_elem,
            );
            return;
        }
        for k in 0..len as isize {
            let from = src.as_ptr().add((s + k * s_step) as usize * view.src_elem);
            let to = dst.add((d + k * d_step) as usize * view.dst_elem);
            for &(so, dso, n) in &view.segments {
                std::ptr::copy_nonoverlapping(from.add(so), to.add(dso), n);
            }
        }
    }
}

impl Array {
    /// Reads a fancy selection into `out` (C order, exactly its bytes, already checked).
    pub(super) fn read_fancy(
        &self,
        sel: &ResolvedSelection,
        fancy: &Fancy,
        out: &mut [u8],
    ) -> ArrayResult<()> {
        let view = ElementView::whole(self.meta.dtype.itemsize());
        self.read_fancy_view(sel, fancy, out, &view)
    }

    /// Reads the `view` part of each selected element into `out` (`view.dst_elem` bytes each).
    pub(super) fn read_fancy_view(
        &self,
        sel: &ResolvedSelection,
        fancy: &Fancy,
        out: &mut [u8],
        view: &ElementView,
    ) -> ArrayResult<()> {
        let itemsize = self.meta.dtype.itemsize();
        // Sharded: group by inner chunk, so that a point costs its inner chunk, not its shard.
        let unit: &[u64] = self
            .shard
            .as_deref()
            .map_or(&self.meta.chunks, |s| &s.chunk_shape);
        let plan = FancyPlan::new(fancy, unit);
        let out_strides = plan.out_strides(sel);
        let target = SharedOut::new(out);
        let chunks: Vec<FancyChunk<'_>> = (0..plan.len()).map(|i| plan.chunk(i)).collect();
        // Of an uncompressed chunk the selection needs only a small box of, just the box's byte
        // ranges are read; every other chunk is fetched whole. Two batches in all.
        let chunk_strides =
            strides_by_axes(&self.meta.chunks, itemsize, &self.meta.chunk_axis_order());
        let ranged =
            self.shard.is_none() && self.codecs.is_identity() && self.read_cache().is_none();
        let mut boxed: Vec<(usize, RangeRequest)> = Vec::new();
        let mut whole: Vec<usize> = Vec::with_capacity(chunks.len());
        for (i, chunk) in chunks.iter().enumerate() {
            let ranges = ranged
                .then(|| self.box_ranges(chunk, &chunk_strides))
                .flatten();
            match ranges {
                Some(ranges) => boxed.push((i, (self.chunk_key(&chunk.chunk)?, ranges))),
                None => whole.push(i),
            }
        }
        let scatter = |chunk: &FancyChunk<'_>,
                       src: &[u8],
                       local_strides: &[usize],
                       origin: &[u64],
                       from_fill: bool| {
            chunk.for_each_run(
                &plan,
                &out_strides,
                local_strides,
                origin,
                |o, l, len, os, ls| {
                    let out = target;
                    let (l, ls) = if from_fill { (0, 0) } else { (l, ls) };
                    // SAFETY: every result element belongs to exactly one chunk of the plan, so
                    // the chunks' runs are disjoint; `copy_run` checks the bounds.
                    unsafe {
                        copy_run(
                            src,
                            (l, ls),
                            (out.ptr, out.len),
                            (o as isize, os as isize),
                            len,
                            view,
                        )
                    };
                },
            )
        };

        if !whole.is_empty() {
            let unit_strides = match self.shard.as_deref() {
                Some(shard) => shard.inner_strides(1),
                None => strides_by_axes(&self.meta.chunks, 1, &self.meta.chunk_axis_order()),
            };
            let origin = vec![0; self.meta.rank()];
            let fill = self.meta.fill_value.bytes();
            let coords: Vec<Vec<u64>> = whole.iter().map(|&i| chunks[i].chunk.clone()).collect();
            let on_chunk = |j: usize, unit: Unit<'_>| {
                let chunk = &chunks[whole[j]];
                match unit {
                    Unit::Decoded(decoded) => {
                        scatter(chunk, decoded, &unit_strides, &origin, false)
                    }
                    Unit::Missing => scatter(chunk, fill, &unit_strides, &origin, true),
                }
            };
            match self.shard.as_deref() {
                Some(shard) => self.fetch_inner_chunks(shard, &coords, &on_chunk)?,
                None => self.fetch_chunks(&coords, &on_chunk)?,
            }
        }
        if boxed.is_empty() {
            return Ok(());
        }
        // The box's lowest byte (its first position) starts the first range: the span read is a
        // buffer whose element 0 is position `lo` of the chunk, with the chunk's strides.
        let elem_strides = strides_by_axes(&self.meta.chunks, 1, &self.meta.chunk_axis_order());
        let fill = self.meta.fill_value.bytes();
        let (indices, requests): (Vec<usize>, Vec<RangeRequest>) = boxed.into_iter().unzip();
        let error = Mutex::new(None);
        self.store.get_many_ranges(&requests, &|j, result| {
            let chunk = &chunks[indices[j]];
            let (key, ranges) = &requests[j];
            let placed = result.map_err(Into::into).and_then(|parts| match parts {
                Some(parts) => self.with_parts(key, ranges, &parts, |span| {
                    scatter(chunk, span, &elem_strides, &chunk.lo, false)
                }),
                None => {
                    scatter(chunk, fill, &elem_strides, &chunk.lo, true);
                    Ok(())
                }
            });
            if let Err(e) = placed {
                first_error(&error, e);
            }
        });
        no_error(error)
    }

    /// The byte ranges of an uncompressed chunk that hold `chunk`'s bounding box, when that is a small
    /// part of it (see [`ranges_within`](Array::ranges_within)); `None` to read the chunk whole.
    fn box_ranges(
        &self,
        chunk: &FancyChunk<'_>,
        chunk_strides: &[usize],
    ) -> Option<Vec<std::ops::Range<u64>>> {
        let mut src_off = 0usize;
        let mut dims = Vec::with_capacity(chunk.lo.len());
        for ((&lo, &hi), &stride) in chunk.lo.iter().zip(&chunk.hi).zip(chunk_strides) {
            src_off += lo as usize * stride;
            // Only the source side matters for the ranges.
            dims.push(Dim {
                count: (hi - lo) as usize,
                src: stride,
                dst: 0,
            });
        }
        self.ranges_within(src_off, &dims)
    }

    /// Writes a fancy selection: each touched chunk is read, modified and written back once.
    pub(super) fn write_fancy(
        &self,
        sel: &ResolvedSelection,
        fancy: &Fancy,
        source: Source<'_>,
        only_existing: bool,
    ) -> ArrayResult<()> {
        let view = ElementView::whole(self.meta.dtype.itemsize());
        self.write_fancy_view(sel, fancy, source, only_existing, &view)
    }

    /// Writes the `view` part of each selected element (`view.src_elem` bytes each in the source;
    /// for the fill value, `view` applied to the fill record).
    pub(super) fn write_fancy_view(
        &self,
        sel: &ResolvedSelection,
        fancy: &Fancy,
        source: Source<'_>,
        only_existing: bool,
        view: &ElementView,
    ) -> ArrayResult<()> {
        let itemsize = self.meta.dtype.itemsize();
        let fill_view = ElementView {
            src_elem: itemsize,
            dst_elem: itemsize,
            segments: view.segments.iter().map(|&(_, d, n)| (d, d, n)).collect(),
        };
        let plan = FancyPlan::new(fancy, &self.meta.chunks);
        let in_strides = plan.out_strides(sel);
        let chunk_strides = strides_by_axes(&self.meta.chunks, 1, &self.meta.chunk_axis_order());
        let origin = vec![0; self.meta.rank()];
        let fill = self.meta.fill_value.bytes();
        (0..plan.len())
            .into_par_iter()
            .with_min_len(par::min_len())
            .try_for_each(|i| {
                let chunk = plan.chunk(i);
                let key = self.chunk_key(&chunk.chunk)?;
                self.modify_chunk(&key, only_existing, &|buf: &mut [u8]| {
                    let (ptr, len_bytes) = (buf.as_mut_ptr(), buf.len());
                    chunk.for_each_run(
                        &plan,
                        &in_strides,
                        &chunk_strides,
                        &origin,
                        |o, l, len, os, ls| match source {
                            // SAFETY: `buf` is this task's own decoded chunk; `copy_run` checks bounds.
                            Source::Bytes(input) => unsafe {
                                copy_run(
                                    input,
                                    (o as isize, os as isize),
                                    (ptr, len_bytes),
                                    (l, ls),
                                    len,
                                    view,
                                )
                            },
                            // SAFETY: as above, from the one-element fill pattern.
                            Source::Fill => unsafe {
                                copy_run(fill, (0, 0), (ptr, len_bytes), (l, ls), len, &fill_view)
                            },
                        },
                    );
                })
            })
    }
}

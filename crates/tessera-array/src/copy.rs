//! Strided copies of a region between two buffers, moving contiguous runs.
//!
//! A region is described by per-axis counts and byte strides on both sides ([`Dim`]). Axes of length
//! one are dropped and adjacent axes that are contiguous on both sides are merged, so a selection that
//! maps onto whole rows becomes one `memcpy` per row (or one for the whole region). Only when the
//! innermost axis is strided on one side (a step, or an F-order source copied into a C-order target)
//! does the copy go element by element, specialised for items of 1, 2, 4, 8 and 16 bytes; with two or
//! more strided axes it goes in tiles of the two innermost axes, so a transposing copy walks both sides
//! a cache line at a time instead of one side a page at a time.
//!
//! The chunk I/O of this crate copies between chunk buffers and result buffers with these routines, one
//! chunk per rayon task. [`copy`] additionally splits a large copy along its outermost axis and runs the
//! parts on rayon's pool; the raw memory-mapped backend (`tessera-mmap`) uses it to copy between a
//! mapped file and a C-order buffer.

use rayon::prelude::*;

use crate::par;

/// One axis of a strided copy: `count` steps of `src` bytes on the source and `dst` bytes on the target.
///
/// A region is a slice of these, outermost axis first; element `(i0, i1, ...)` of the region is read at
/// byte `i0 * dims[0].src + i1 * dims[1].src + ...` of the source and written at the same sum of `dst`
/// strides on the target, both relative to the region's start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dim {
    /// Number of positions along this axis.
    pub count: usize,
    /// Bytes between consecutive positions on the source.
    pub src: usize,
    /// Bytes between consecutive positions on the target.
    pub dst: usize,
}

impl Dim {
    /// The same axis with source and target exchanged: turns a read's geometry into the write's.
    pub fn swapped(self) -> Dim {
        Dim {
            count: self.count,
            src: self.dst,
            dst: self.src,
        }
    }
}

/// Copies below this many bytes run on the calling thread (see [`copy`]).
const PARALLEL_BYTES: usize = 4 << 20;
/// Bytes per parallel task of [`copy`], roughly.
const TASK_BYTES: usize = 1 << 20;
/// Edge of the square tiles of a transposing copy, in elements.
const TILE: usize = 32;

/// Drops unit axes and merges axes that are contiguous on both sides. Returns `None` if any count is 0.
pub(crate) fn simplify(dims: &[Dim]) -> Option<Vec<Dim>> {
    if dims.iter().any(|d| d.count == 0) {
        return None;
    }
    let mut out: Vec<Dim> = Vec::with_capacity(dims.len());
    for d in dims.iter().filter(|d| d.count > 1) {
        if let Some(last) = out.last_mut() {
            // `last` is the outer axis, `d` the inner one.
            if last.src == d.src * d.count && last.dst == d.dst * d.count {
                *last = Dim {
                    count: last.count * d.count,
                    src: d.src,
                    dst: d.dst,
                };
                continue;
            }
        }
        out.push(*d);
    }
    Some(out)
}

/// The byte ranges of the source a region reads, sorted, with ranges less than `gap` bytes apart merged;
/// `None` when that would take more than `max_ranges` ranges (reading the whole source is then the better
/// plan). Used to read an uncompressed chunk in part.
pub(crate) fn source_ranges(
    src_offset: usize,
    dims: &[Dim],
    itemsize: usize,
    gap: usize,
    max_ranges: usize,
) -> Option<Vec<std::ops::Range<usize>>> {
    let Some(dims) = simplify(dims) else {
        return Some(Vec::new());
    };
    // Runs contiguous in the source: the innermost axis when its source stride is one item.
    let (run, outer): (usize, &[Dim]) = match dims.split_last() {
        Some((inner, outer)) if inner.src == itemsize => (inner.count * itemsize, outer),
        _ => (itemsize, &dims[..]),
    };
    let runs = outer
        .iter()
        .try_fold(1usize, |a, d| a.checked_mul(d.count))?;
    if runs > max_ranges.saturating_mul(64) {
        return None;
    }
    let mut starts = Vec::with_capacity(runs);
    odometer(outer, std::ptr::null(), std::ptr::null_mut(), |s, _| {
        starts.push(src_offset + s as usize);
    });
    starts.sort_unstable();
    let mut ranges: Vec<std::ops::Range<usize>> = Vec::new();
    for start in starts {
        match ranges.last_mut() {
            Some(last) if start <= last.end + gap => last.end = last.end.max(start + run),
            _ => {
                if ranges.len() == max_ranges {
                    return None;
                }
                ranges.push(start..start + run);
            }
        }
    }
    Some(ranges)
}

/// One past the last byte a region touches, relative to its start, on one side: `side` picks the
/// stride (`|d| d.src` or `|d| d.dst`). A region of `itemsize`-byte elements starting at byte `o` of a
/// buffer fits in it when `o + extent(..) <= len`. Returns 0 when any count is 0 (an empty region
/// touches nothing).
pub fn extent(dims: &[Dim], itemsize: usize, side: impl Fn(&Dim) -> usize) -> usize {
    if dims.iter().any(|d| d.count == 0) {
        return 0;
    }
    dims.iter().map(|d| (d.count - 1) * side(d)).sum::<usize>() + itemsize
}

/// Copies a region from `src[src_offset..]` to `dst[dst_offset..]`.
///
/// # Panics
/// When the region does not fit either buffer (a bug in the caller's plan, never a data error).
pub(crate) fn copy_region(
    src: &[u8],
    src_offset: usize,
    dst: &mut [u8],
    dst_offset: usize,
    dims: &[Dim],
    itemsize: usize,
) {
    let Some(dims) = simplify(dims) else { return };
    assert!(
        src_offset + extent(&dims, itemsize, |d| d.src) <= src.len(),
        "copy source out of bounds"
    );
    assert!(
        dst_offset + extent(&dims, itemsize, |d| d.dst) <= dst.len(),
        "copy target out of bounds"
    );
    // SAFETY: both regions were checked to lie within their slices; `dst` is borrowed mutably, so the
    // two cannot overlap.
    unsafe {
        copy_dims(
            src.as_ptr().add(src_offset),
            dst.as_mut_ptr().add(dst_offset),
            &dims,
            itemsize,
        )
    }
}

/// Like [`copy_region`], into a raw target that other threads write to at the same time.
///
/// # Safety
/// `dst` must be valid for writes of `dst_len` bytes, and no other thread may read or write the bytes of
/// this region while the copy runs (disjoint regions of the same buffer are fine).
pub(crate) unsafe fn copy_region_raw(
    src: &[u8],
    src_offset: usize,
    dst: *mut u8,
    dst_len: usize,
    dst_offset: usize,
    dims: &[Dim],
    itemsize: usize,
) {
    let Some(dims) = simplify(dims) else { return };
    assert!(
        src_offset + extent(&dims, itemsize, |d| d.src) <= src.len(),
        "copy source out of bounds"
    );
    assert!(
        dst_offset + extent(&dims, itemsize, |d| d.dst) <= dst_len,
        "copy target out of bounds"
    );
    // SAFETY: bounds checked above; exclusivity of the region is the caller's promise.
    unsafe {
        copy_dims(
            src.as_ptr().add(src_offset),
            dst.add(dst_offset),
            &dims,
            itemsize,
        )
    }
}

/// Fills a region of a raw target with repeated copies of `pattern` (one element).
///
/// # Safety
/// As [`copy_region_raw`].
pub(crate) unsafe fn fill_region_raw(
    pattern: &[u8],
    dst: *mut u8,
    dst_len: usize,
    dst_offset: usize,
    dims: &[Dim],
) {
    let itemsize = pattern.len();
    if itemsize == 0 {
        return;
    }
    let Some(dims) = simplify(dims) else { return };
    assert!(
        dst_offset + extent(&dims, itemsize, |d| d.dst) <= dst_len,
        "fill target out of bounds"
    );
    let (inner, outer) = match dims.split_last() {
        Some((inner, outer)) => (*inner, outer),
        None => (
            Dim {
                count: 1,
                src: 0,
                dst: itemsize,
            },
            &[][..],
        ),
    };
    let uniform = pattern.iter().all(|&b| b == pattern[0]);
    let run = |d: *mut u8| {
        // SAFETY: every write below stays inside the region checked above.
        unsafe {
            if inner.dst == itemsize {
                let len = inner.count * itemsize;
                if uniform {
                    std::ptr::write_bytes(d, pattern[0], len);
                } else {
                    std::ptr::copy_nonoverlapping(pattern.as_ptr(), d, itemsize);
                    let mut filled = itemsize;
                    while filled < len {
                        let n = filled.min(len - filled);
                        std::ptr::copy_nonoverlapping(d, d.add(filled), n);
                        filled += n;
                    }
                }
            } else {
                for k in 0..inner.count {
                    std::ptr::copy_nonoverlapping(pattern.as_ptr(), d.add(k * inner.dst), itemsize);
                }
            }
        }
    };
    // SAFETY: `dst_offset` lies within the buffer (checked above).
    odometer(
        outer,
        std::ptr::null(),
        unsafe { dst.add(dst_offset) },
        |_, d| run(d),
    );
}

/// A raw pointer that rayon tasks may carry; each task touches a disjoint part of the target.
#[derive(Clone, Copy)]
struct Ptr<T>(T);
// SAFETY: the tasks of one copy read the source and write disjoint parts of the target (see `copy`).
unsafe impl<T> Send for Ptr<T> {}
unsafe impl<T> Sync for Ptr<T> {}

/// Copies the region described by `dims` (elements of `itemsize` bytes) from `src` to `dst`.
///
/// Contiguous runs are copied with one `memcpy` each, strided ones element by element (in tiles when
/// two or more axes are strided). A copy of at least 4 MiB is split along its outermost axis (after unit
/// axes are dropped and contiguous axes merged) into tasks of about 1 MiB that run on rayon's pool (the
/// caller's pool when called from inside one, else the global pool); smaller copies run on the calling
/// thread. Nothing is copied when any count is 0.
///
/// # Safety
/// Every byte of the region must be readable at `src` and writable at `dst` (see [`extent`]); the two
/// regions must not overlap, and nothing else may write the source or touch the target while the copy
/// runs. The target positions of distinct elements must be distinct (true for any C- or F-order layout).
pub unsafe fn copy(src: *const u8, dst: *mut u8, dims: &[Dim], itemsize: usize) {
    let Some(dims) = simplify(dims) else { return };
    let total = dims.iter().map(|d| d.count).product::<usize>() * itemsize;
    let Some((outer, rest)) = dims.split_first().filter(|_| total >= PARALLEL_BYTES) else {
        // SAFETY: forwarded from the caller.
        unsafe { copy_dims(src, dst, &dims, itemsize) };
        return;
    };
    let per_index = total / outer.count;
    let per_task = (TASK_BYTES / per_index.max(1)).max(1);
    let tasks = outer.count.div_ceil(per_task);
    let (s, d) = (Ptr(src), Ptr(dst));
    (0..tasks)
        .into_par_iter()
        .with_min_len(par::min_len())
        .for_each(|t| {
            let first = t * per_task;
            let count = per_task.min(outer.count - first);
            let mut sub = Vec::with_capacity(dims.len());
            sub.push(Dim { count, ..*outer });
            sub.extend_from_slice(rest);
            let (s, d) = (s, d);
            // SAFETY: task `t` copies the outer indices `first..first + count`: a part of the caller's region
            // on both sides, disjoint on the target from every other task's.
            unsafe {
                copy_dims(
                    s.0.add(first * outer.src),
                    d.0.add(first * outer.dst),
                    &sub,
                    itemsize,
                )
            };
        });
}

/// Walks every position of the `outer` axes, calling `f` with the source and target pointers.
fn odometer(outer: &[Dim], src: *const u8, dst: *mut u8, mut f: impl FnMut(*const u8, *mut u8)) {
    let mut idx = vec![0usize; outer.len()];
    let (mut s, mut d) = (src, dst);
    loop {
        f(s, d);
        let mut k = outer.len();
        loop {
            if k == 0 {
                return;
            }
            k -= 1;
            idx[k] += 1;
            s = s.wrapping_add(outer[k].src);
            d = d.wrapping_add(outer[k].dst);
            if idx[k] < outer[k].count {
                break;
            }
            s = s.wrapping_sub(outer[k].src * outer[k].count);
            d = d.wrapping_sub(outer[k].dst * outer[k].count);
            idx[k] = 0;
        }
    }
}

/// Copies one element of `N` bytes.
///
/// # Safety
/// `N` bytes readable at `s`, writable at `d`.
#[inline(always)]
unsafe fn move_one<const N: usize>(s: *const u8, d: *mut u8) {
    // SAFETY: per the caller.
    unsafe {
        std::ptr::write_unaligned(
            d as *mut [u8; N],
            std::ptr::read_unaligned(s as *const [u8; N]),
        )
    }
}

/// # Safety
/// As [`copy`], for simplified `dims`.
unsafe fn copy_dims(src: *const u8, dst: *mut u8, dims: &[Dim], itemsize: usize) {
    let Some((&inner, outer)) = dims.split_last() else {
        // SAFETY: a single element, in bounds per the caller.
        unsafe { std::ptr::copy_nonoverlapping(src, dst, itemsize) };
        return;
    };
    if inner.src == itemsize && inner.dst == itemsize {
        let len = inner.count * itemsize;
        // SAFETY: each run lies inside the region.
        odometer(outer, src, dst, |s, d| unsafe {
            std::ptr::copy_nonoverlapping(s, d, len)
        });
        return;
    }
    macro_rules! strided {
        ($mover:expr) => {{
            let mover: unsafe fn(*const u8, *mut u8) = $mover;
            match outer.split_last() {
                // Two strided axes: copy in tiles so both sides stay in cache.
                Some((&mid, outer2)) => {
                    odometer(outer2, src, dst, |s, d| {
                        for i0 in (0..mid.count).step_by(TILE) {
                            for j0 in (0..inner.count).step_by(TILE) {
                                for i in i0..(i0 + TILE).min(mid.count) {
                                    for j in j0..(j0 + TILE).min(inner.count) {
                                        // SAFETY: each element lies inside the region.
                                        unsafe {
                                            mover(
                                                s.add(i * mid.src + j * inner.src),
                                                d.add(i * mid.dst + j * inner.dst),
                                            )
                                        };
                                    }
                                }
                            }
                        }
                    })
                }
                _ => odometer(outer, src, dst, |s, d| {
                    for j in 0..inner.count {
                        // SAFETY: each element lies inside the region.
                        unsafe { mover(s.add(j * inner.src), d.add(j * inner.dst)) };
                    }
                }),
            }
        }};
    }
    match itemsize {
        1 => strided!(move_one::<1>),
        2 => strided!(move_one::<2>),
        4 => strided!(move_one::<4>),
        8 => strided!(move_one::<8>),
        16 => strided!(move_one::<16>),
        n => {
            let run = inner.count;
            odometer(outer, src, dst, |s, d| {
                for j in 0..run {
                    // SAFETY: each element lies inside the region.
                    unsafe {
                        std::ptr::copy_nonoverlapping(s.add(j * inner.src), d.add(j * inner.dst), n)
                    };
                }
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dim(count: usize, src: usize) -> Dim {
        Dim { count, src, dst: 0 }
    }

    /// The naive reference: every element by its multi-index.
    fn naive(src: &[u8], dims: &[Dim], itemsize: usize, dst_len: usize) -> Vec<u8> {
        let mut out = vec![0u8; dst_len];
        let n: usize = dims.iter().map(|d| d.count).product();
        for flat in 0..n {
            let (mut rem, mut s, mut d) = (flat, 0, 0);
            for dim in dims.iter().rev() {
                let i = rem % dim.count;
                rem /= dim.count;
                s += i * dim.src;
                d += i * dim.dst;
            }
            out[d..d + itemsize].copy_from_slice(&src[s..s + itemsize]);
        }
        out
    }

    fn check(dims: &[Dim], itemsize: usize) {
        let src_len = extent(dims, itemsize, |d| d.src);
        let dst_len = extent(dims, itemsize, |d| d.dst);
        let src: Vec<u8> = (0..src_len).map(|i| (i * 7 + i / 251) as u8).collect();
        let mut got = vec![0u8; dst_len];
        // SAFETY: both buffers hold the region's extent.
        unsafe { copy(src.as_ptr(), got.as_mut_ptr(), dims, itemsize) };
        let want = naive(&src, dims, itemsize, dst_len);
        assert_eq!(got, want, "copy {dims:?} itemsize {itemsize}");
        let mut got = vec![0u8; dst_len];
        copy_region(&src, 0, &mut got, 0, dims, itemsize);
        assert_eq!(got, want, "copy_region {dims:?} itemsize {itemsize}");
    }

    #[test]
    #[allow(clippy::single_range_in_vec_init)]
    fn source_ranges_of_partial_regions() {
        // Rows 1..3 of a 4x8 u16 chunk, columns 2..6: two runs of 8 bytes, 16 bytes apart.
        let dims = [dim(2, 16), dim(4, 2)];
        assert_eq!(
            source_ranges(20, &dims, 2, 0, 8),
            Some(vec![20..28, 36..44])
        );
        // Merged when the gap allows it.
        assert_eq!(source_ranges(20, &dims, 2, 8, 8), Some(vec![20..44]));
        // A column (strided innermost axis): one item per row.
        assert_eq!(
            source_ranges(4, &[dim(3, 16)], 2, 0, 8),
            Some(vec![4..6, 20..22, 36..38])
        );
        // Too many ranges: read everything instead.
        assert_eq!(source_ranges(4, &[dim(3, 16)], 2, 0, 2), None);
        // F-order source (outer axis with the smaller stride): sorted by offset.
        assert_eq!(
            source_ranges(0, &[dim(2, 2), dim(2, 100)], 2, 0, 8),
            Some(vec![0..4, 100..104])
        );
        // Nothing selected.
        assert_eq!(source_ranges(0, &[dim(0, 2)], 2, 0, 8), Some(vec![]));
    }

    #[test]
    fn merges_contiguous_axes() {
        let dims = [
            Dim {
                count: 2,
                src: 24,
                dst: 24,
            },
            Dim {
                count: 1,
                src: 8,
                dst: 8,
            },
            Dim {
                count: 3,
                src: 8,
                dst: 8,
            },
        ];
        assert_eq!(
            simplify(&dims).unwrap(),
            vec![Dim {
                count: 6,
                src: 8,
                dst: 8
            }]
        );
        assert!(
            simplify(&[Dim {
                count: 0,
                src: 1,
                dst: 1
            }])
            .is_none()
        );
    }

    #[test]
    fn transposes_and_steps() {
        // 2x3 F-order source (u16) into 2x3 C-order target.
        let src: Vec<u8> = [0u16, 3, 1, 4, 2, 5]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let mut dst = vec![0u8; 12];
        copy_region(
            &src,
            0,
            &mut dst,
            0,
            &[
                Dim {
                    count: 2,
                    src: 2,
                    dst: 6,
                },
                Dim {
                    count: 3,
                    src: 4,
                    dst: 2,
                },
            ],
            2,
        );
        let got: Vec<u16> = dst
            .chunks(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        assert_eq!(got, vec![0, 1, 2, 3, 4, 5]);
    }

    #[test]
    fn fills_with_patterns() {
        let mut dst = vec![0u8; 12];
        unsafe {
            fill_region_raw(
                &[1, 2, 3],
                dst.as_mut_ptr(),
                12,
                3,
                &[Dim {
                    count: 3,
                    src: 0,
                    dst: 3,
                }],
            )
        };
        assert_eq!(dst, [0, 0, 0, 1, 2, 3, 1, 2, 3, 1, 2, 3]);
        let mut dst = vec![0u8; 8];
        unsafe {
            fill_region_raw(
                &[7, 7],
                dst.as_mut_ptr(),
                8,
                0,
                &[Dim {
                    count: 2,
                    src: 0,
                    dst: 4,
                }],
            )
        };
        assert_eq!(dst, [7, 7, 0, 0, 7, 7, 0, 0]);
    }

    #[test]
    fn matches_the_naive_copy() {
        for itemsize in [1, 2, 3, 4, 8, 12, 16] {
            // C-order rows, a step, an F-order source (transpose), a 3-d transpose with tiles.
            let (a, b, c) = (5usize, 37usize, 3usize);
            check(
                &[
                    Dim {
                        count: a,
                        src: b * itemsize,
                        dst: b * itemsize,
                    },
                    Dim {
                        count: b,
                        src: itemsize,
                        dst: itemsize,
                    },
                ],
                itemsize,
            );
            check(
                &[
                    Dim {
                        count: a,
                        src: b * itemsize,
                        dst: 2 * itemsize,
                    },
                    Dim {
                        count: 2,
                        src: 3 * itemsize,
                        dst: itemsize,
                    },
                ],
                itemsize,
            );
            check(
                &[
                    Dim {
                        count: a,
                        src: itemsize,
                        dst: b * itemsize,
                    },
                    Dim {
                        count: b,
                        src: a * itemsize,
                        dst: itemsize,
                    },
                ],
                itemsize,
            );
            check(
                &[
                    Dim {
                        count: c,
                        src: a * b * itemsize,
                        dst: b * a * itemsize,
                    },
                    Dim {
                        count: a,
                        src: itemsize,
                        dst: b * itemsize,
                    },
                    Dim {
                        count: b,
                        src: a * itemsize,
                        dst: itemsize,
                    },
                ],
                itemsize,
            );
            check(&[], itemsize);
        }
    }

    #[test]
    fn large_copies_run_in_parallel_and_stay_exact() {
        // 3 MiB rows contiguous, then a 6 MiB transposed copy: both above the parallel threshold.
        check(
            &[
                Dim {
                    count: 1500,
                    src: 2048 * 2,
                    dst: 2048,
                },
                Dim {
                    count: 1024,
                    src: 2,
                    dst: 2,
                },
            ],
            2,
        );
        let (r, c) = (1200usize, 1300usize);
        check(
            &[
                Dim {
                    count: r,
                    src: 4,
                    dst: c * 4,
                },
                Dim {
                    count: c,
                    src: r * 4,
                    dst: 4,
                },
            ],
            4,
        );
    }
}

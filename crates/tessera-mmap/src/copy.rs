//! Strided copies between a mapped file and a C-order buffer, moving contiguous runs.
//!
//! The same idea as the array crate's chunk copy (which is private to it): a region is per-axis counts
//! and byte strides on both sides; unit axes are dropped and axes contiguous on both sides merged, so a
//! selection of whole rows is one `memcpy` per row, or one for everything. Only a strided innermost axis
//! (a step, or an F-order file read into a C-order buffer) goes element by element, and then in tiles of
//! the two innermost axes, so a transposing copy walks both sides a cache line at a time instead of one
//! side a page at a time. Large copies are split along the outermost axis and run on rayon's pool.

use rayon::prelude::*;

/// One axis of a strided copy: `count` steps of `src` bytes on the source and `dst` bytes on the target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Dim {
    pub count: usize,
    pub src: usize,
    pub dst: usize,
}

/// Copies below this many bytes run on the calling thread.
const PARALLEL_BYTES: usize = 4 << 20;
/// Bytes per parallel task, roughly.
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

/// One past the last byte a region touches, relative to its start, on one side.
pub(crate) fn extent(dims: &[Dim], itemsize: usize, side: impl Fn(&Dim) -> usize) -> usize {
    if dims.iter().any(|d| d.count == 0) {
        return 0;
    }
    dims.iter().map(|d| (d.count - 1) * side(d)).sum::<usize>() + itemsize
}

/// A raw pointer that rayon tasks may carry; each task touches a disjoint part of the target.
#[derive(Clone, Copy)]
struct Ptr<T>(T);
// SAFETY: the tasks of one copy read the source and write disjoint parts of the target (see `copy`).
unsafe impl<T> Send for Ptr<T> {}
unsafe impl<T> Sync for Ptr<T> {}

/// Copies the region described by `dims` from `src` to `dst`, in parallel when it is large.
///
/// # Safety
/// Every byte of the region must be readable at `src` and writable at `dst` (see [`extent`]); the two
/// regions must not overlap, and nothing else may write the source or touch the target while the copy
/// runs. The target positions of distinct elements must be distinct (true for any C- or F-order layout).
pub(crate) unsafe fn copy(src: *const u8, dst: *mut u8, dims: &[Dim], itemsize: usize) {
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
    (0..tasks).into_par_iter().for_each(|t| {
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
        assert_eq!(
            got,
            naive(&src, dims, itemsize, dst_len),
            "{dims:?} itemsize {itemsize}"
        );
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

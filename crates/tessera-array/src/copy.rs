//! Strided copies between a chunk buffer and a result buffer, moving contiguous runs.
//!
//! A region is described by per-axis counts and byte strides on both sides. Axes of length one are
//! dropped and adjacent axes that are contiguous on both sides are merged, so a selection that maps onto
//! whole rows becomes one `memcpy` per row (or one for the whole chunk); only when the innermost axis is
//! strided on one side (a step, or an F-order chunk read into a C-order result) does the copy fall back to
//! an element loop, specialised for the common item sizes.

/// One axis of a strided copy: `count` steps of `src` bytes on the source and `dst` bytes on the target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Dim {
    pub count: usize,
    pub src: usize,
    pub dst: usize,
}

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

/// The largest byte offset (exclusive) a region touches, relative to its start, for one side.
fn extent(dims: &[Dim], itemsize: usize, side: impl Fn(&Dim) -> usize) -> usize {
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

/// # Safety
/// Every byte of the region (described by simplified `dims`) must be readable at `src` and writable at
/// `dst`, and the two must not overlap.
unsafe fn copy_dims(src: *const u8, dst: *mut u8, dims: &[Dim], itemsize: usize) {
    let Some((inner, outer)) = dims.split_last() else {
        // SAFETY: a single element, in bounds per the caller.
        unsafe { std::ptr::copy_nonoverlapping(src, dst, itemsize) };
        return;
    };
    let inner = *inner;
    if inner.src == itemsize && inner.dst == itemsize {
        let len = inner.count * itemsize;
        // SAFETY: each run lies inside the region.
        odometer(outer, src, dst, |s, d| unsafe {
            std::ptr::copy_nonoverlapping(s, d, len)
        });
        return;
    }
    macro_rules! gather {
        ($n:expr) => {
            odometer(outer, src, dst, |s, d| {
                for k in 0..inner.count {
                    // SAFETY: each element lies inside the region.
                    unsafe {
                        let v = std::ptr::read_unaligned(s.add(k * inner.src) as *const [u8; $n]);
                        std::ptr::write_unaligned(d.add(k * inner.dst) as *mut [u8; $n], v);
                    }
                }
            })
        };
    }
    match itemsize {
        1 => gather!(1),
        2 => gather!(2),
        4 => gather!(4),
        8 => gather!(8),
        16 => gather!(16),
        n => odometer(outer, src, dst, |s, d| {
            for k in 0..inner.count {
                // SAFETY: each element lies inside the region.
                unsafe {
                    std::ptr::copy_nonoverlapping(s.add(k * inner.src), d.add(k * inner.dst), n)
                };
            }
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dim(count: usize, src: usize) -> Dim {
        Dim { count, src, dst: 0 }
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
}

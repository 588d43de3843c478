//! Fancy selections: integer lists, masks and negative steps per axis (orthogonal, zarr's `oindex`), and
//! coordinate selections (points or an N-d mask, zarr's `vindex`).
//!
//! Resolving turns them into explicit positions ([`Fancy`]); planning groups those positions by chunk so
//! that a read or write touches each chunk once. Per axis, the positions inside one chunk become runs
//! (`local, local + step, ...` landing at consecutive result positions): sorted contiguous indices are
//! one run, copied as one `memcpy`; a reversed slice is one run with a negative step.

use std::collections::BTreeMap;

use crate::error::{ArrayError, ArrayResult};
use crate::metadata::Order;
use crate::plan::strides;
use crate::selection::{
    AxisPositions, AxisRange, AxisSelector, Fancy, PointsView, ResolvedSelection, listed_bounds,
    normalize_index,
};

/// Resolves an orthogonal selection with at least one list, mask or negative step (`axes` already
/// expanded to one selector per dimension).
pub(crate) fn resolve_orthogonal(
    axes: &[AxisSelector],
    shape: &[u64],
) -> ArrayResult<ResolvedSelection> {
    let mut positions = Vec::with_capacity(axes.len());
    let mut keep = Vec::with_capacity(axes.len());
    for (axis, (sel, &len)) in axes.iter().zip(shape).enumerate() {
        let (p, k) = axis_positions(axis, sel, len)?;
        positions.push(p);
        keep.push(k);
    }
    let bounds = bounding_box(positions.iter().map(AxisPositions::bounds), &keep);
    ResolvedSelection::fancy(bounds, shape, Fancy::Orthogonal(positions))
}

/// The positions one axis selects, in result order, and whether the axis is kept. Slices and
/// indices stay strided; only lists and masks (already that long in memory) are listed.
fn axis_positions(axis: usize, sel: &AxisSelector, len: u64) -> ArrayResult<(AxisPositions, bool)> {
    match sel {
        AxisSelector::Index(i) => Ok((
            AxisPositions::Strided {
                first: normalize_index(axis, *i, len)?,
                count: 1,
                step: 1,
            },
            false,
        )),
        AxisSelector::List(list) => Ok((
            AxisPositions::Listed(
                list.iter()
                    .map(|&i| normalize_index(axis, i, len))
                    .collect::<ArrayResult<_>>()?,
            ),
            true,
        )),
        AxisSelector::Mask(mask) => {
            if mask.len() as u64 != len {
                return Err(ArrayError::MaskShape {
                    axis: Some(axis),
                    expected: vec![len],
                    found: vec![mask.len() as u64],
                });
            }
            Ok((
                AxisPositions::Listed((0..len).filter(|&i| mask[i as usize]).collect()),
                true,
            ))
        }
        AxisSelector::Slice {
            start,
            stop,
            step: Some(step),
        } if *step < 0 => {
            let (first, count) = negative_slice_count(*start, *stop, *step, len);
            Ok((
                AxisPositions::Strided {
                    first: if count == 0 { 0 } else { first as u64 },
                    count,
                    step: *step,
                },
                true,
            ))
        }
        AxisSelector::NewAxis => Err(ArrayError::selection(format!(
            "axis {axis}: a new axis cannot be selected from a stored array"
        ))),
        other => {
            let r = crate::selection::Selection::new(vec![other.clone()]).resolve(&[len])?;
            let a = r.axes()[0];
            Ok((strided(&a), a.keep))
        }
    }
}

/// A basic axis range as positions.
fn strided(a: &AxisRange) -> AxisPositions {
    AxisPositions::Strided {
        first: a.start,
        count: a.count,
        // Basic steps come from an i64 step, or are 1.
        step: i64::try_from(a.step).unwrap_or(i64::MAX),
    }
}

/// numpy's positions of `start:stop:step` with `step < 0`: from `start` (default: the last position)
/// down to, excluding, `stop` (default: before the first).
#[cfg(test)]
fn negative_slice(start: Option<i64>, stop: Option<i64>, step: i64, len: u64) -> Vec<u64> {
    let (first, count) = negative_slice_count(start, stop, step, len);
    let stride = -i128::from(step);
    (0..count)
        .map(|k| (first - i128::from(k) * stride) as u64)
        .collect()
}

/// The first position and the number of positions of a negative-step slice.
fn negative_slice_count(start: Option<i64>, stop: Option<i64>, step: i64, len: u64) -> (i128, u64) {
    let ilen = i128::from(len);
    // Positions are clamped to -1 ("before the first") ..= len - 1.
    let norm = |x: Option<i64>, default: i128| match x {
        None => default,
        Some(v) if v < 0 => (ilen + i128::from(v)).max(-1),
        Some(v) => i128::from(v).min(ilen - 1),
    };
    let first = norm(start, ilen - 1);
    let end = norm(stop, -1);
    let stride = -i128::from(step);
    let count = if first > end {
        (first - end - 1) / stride + 1
    } else {
        0
    };
    (first, count as u64)
}

/// Per axis, the smallest range holding every position (start 0, count 0 when there are none).
fn bounding_box(bounds: impl Iterator<Item = Option<(u64, u64)>>, keep: &[bool]) -> Vec<AxisRange> {
    bounds
        .zip(keep)
        .map(|(b, &keep)| {
            let (start, count) = b.map_or((0, 0), |(lo, hi)| (lo, hi - lo + 1));
            AxisRange {
                start,
                count,
                step: 1,
                // An index is a single position, so its box is that position and `count` is 1.
                keep,
            }
        })
        .collect()
}

/// Resolves a coordinate selection.
pub(crate) fn resolve_points(
    points: PointsView<'_>,
    shape: &[u64],
) -> ArrayResult<ResolvedSelection> {
    if shape.is_empty() {
        return Err(ArrayError::selection(
            "a coordinate selection needs an array with at least one dimension",
        ));
    }
    let coords: Vec<Vec<u64>> = match points {
        PointsView::Coords(lists) => {
            if lists.len() != shape.len() {
                return Err(ArrayError::selection(format!(
                    "{} coordinate lists for a {}-d array; give one list per dimension",
                    lists.len(),
                    shape.len()
                )));
            }
            let n = lists.iter().map(Vec::len).max().unwrap_or(0);
            if let Some(bad) = lists.iter().find(|l| l.len() != n && l.len() != 1) {
                return Err(ArrayError::selection(format!(
                    "coordinate lists of lengths {} and {n} cannot be broadcast together",
                    bad.len()
                )));
            }
            let n = if lists.iter().any(Vec::is_empty) {
                0
            } else {
                n
            };
            lists
                .iter()
                .zip(shape)
                .enumerate()
                .map(|(axis, (list, &len))| {
                    (0..n)
                        .map(|i| {
                            normalize_index(axis, list[if list.len() == 1 { 0 } else { i }], len)
                        })
                        .collect::<ArrayResult<Vec<u64>>>()
                })
                .collect::<ArrayResult<_>>()?
        }
        PointsView::Mask(mask) => {
            let total = shape
                .iter()
                .try_fold(1u64, |n, &d| n.checked_mul(d))
                .unwrap_or(u64::MAX);
            if mask.len() as u64 != total {
                return Err(ArrayError::MaskShape {
                    axis: None,
                    expected: shape.to_vec(),
                    found: vec![mask.len() as u64],
                });
            }
            let mut coords = vec![Vec::new(); shape.len()];
            for (flat, _) in mask.iter().enumerate().filter(|(_, b)| **b) {
                let mut rest = flat as u64;
                for axis in (0..shape.len()).rev() {
                    coords[axis].push(rest % shape[axis]);
                    rest /= shape[axis];
                }
            }
            coords
        }
    };
    let keep = vec![true; shape.len()];
    let bounds = bounding_box(coords.iter().map(|c| listed_bounds(c)), &keep);
    ResolvedSelection::fancy(bounds, shape, Fancy::Points(coords))
}

/// The positions of any resolved selection: a fancy one's own, or a basic one's ranges spelled out
/// (the per-chunk paths, such as structured field access, then serve both).
pub(crate) fn positions_of(sel: &ResolvedSelection) -> std::borrow::Cow<'_, Fancy> {
    match sel.fancy_positions() {
        Some(f) => std::borrow::Cow::Borrowed(f),
        None => {
            std::borrow::Cow::Owned(Fancy::Orthogonal(sel.axes().iter().map(strided).collect()))
        }
    }
}

/// Along one axis inside one chunk: result positions `out .. out + len` hold the chunk's positions
/// `local, local + step, ...` (relative to the chunk's start).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Run {
    out: u64,
    local: u64,
    len: u64,
    step: i64,
}

/// Groups one axis's positions (in result order) by chunk, as runs, chunks in ascending order.
fn axis_groups(positions: &AxisPositions, chunk_len: u64) -> Vec<(u64, Vec<Run>)> {
    match *positions {
        AxisPositions::Listed(ref p) => listed_groups(p, chunk_len),
        // One run per chunk touched, computed, never spelled out.
        AxisPositions::Strided { first, count, step } => {
            let mut groups = Vec::new();
            let mut k = 0;
            while k < count {
                let p = (i128::from(first) + i128::from(step) * i128::from(k)) as u64;
                let (chunk, local) = (p / chunk_len, p % chunk_len);
                let room = if step > 0 {
                    (chunk_len - 1 - local) / step.unsigned_abs() + 1
                } else {
                    local / step.unsigned_abs() + 1
                };
                let len = room.min(count - k);
                let step = if len == 1 { 1 } else { step };
                groups.push((
                    chunk,
                    vec![Run {
                        out: k,
                        local,
                        len,
                        step,
                    }],
                ));
                k += len;
            }
            if step < 0 {
                groups.reverse();
            }
            groups
        }
    }
}

/// Groups explicit positions (in result order) by chunk, as runs.
fn listed_groups(positions: &[u64], chunk_len: u64) -> Vec<(u64, Vec<Run>)> {
    let mut groups: BTreeMap<u64, Vec<Run>> = BTreeMap::new();
    for (out, &p) in positions.iter().enumerate() {
        let (chunk, local, out) = (p / chunk_len, p % chunk_len, out as u64);
        let runs = groups.entry(chunk).or_default();
        if let Some(last) = runs.last_mut()
            && last.out + last.len == out
        {
            let next = last.local as i64 + last.len as i64 * last.step;
            if last.len == 1 && local != last.local {
                last.step = local as i64 - last.local as i64;
                last.len = 2;
                continue;
            }
            if last.len > 1 && next == local as i64 {
                last.len += 1;
                continue;
            }
        }
        runs.push(Run {
            out,
            local,
            len: 1,
            step: 1,
        });
    }
    groups.into_iter().collect()
}

/// The chunks a fancy selection touches, each with the positions it holds.
pub(crate) struct FancyPlan<'a> {
    chunk_shape: Vec<u64>,
    kind: PlanKind<'a>,
}

enum PlanKind<'a> {
    /// Per axis, (chunk index, runs) for every chunk the axis touches; touched chunks are all
    /// combinations.
    Orthogonal(Vec<Vec<(u64, Vec<Run>)>>),
    /// Point indices sorted by chunk, and where each chunk's points begin and end in that order.
    Points {
        coords: &'a [Vec<u64>],
        order: Vec<usize>,
        bounds: Vec<(usize, usize)>,
    },
}

/// One chunk of a [`FancyPlan`].
pub(crate) struct FancyChunk<'p> {
    /// Chunk grid coordinates.
    pub chunk: Vec<u64>,
    /// Per axis, the first position touched, relative to the chunk's start.
    pub lo: Vec<u64>,
    /// Per axis, one past the last position touched, relative to the chunk's start.
    pub hi: Vec<u64>,
    runs: ChunkRuns<'p>,
}

enum ChunkRuns<'p> {
    Orthogonal(Vec<&'p [Run]>),
    Points(&'p [usize]),
}

impl<'a> FancyPlan<'a> {
    /// Plans `fancy` over chunks of `chunk_shape`.
    pub(crate) fn new(fancy: &'a Fancy, chunk_shape: &[u64]) -> FancyPlan<'a> {
        let kind = match fancy {
            // An empty axis touches no chunk at all: the other axes are not planned.
            Fancy::Orthogonal(positions) if positions.iter().any(|p| p.len() == 0) => {
                PlanKind::Orthogonal(vec![Vec::new(); positions.len()])
            }
            Fancy::Orthogonal(positions) => PlanKind::Orthogonal(
                positions
                    .iter()
                    .zip(chunk_shape)
                    .map(|(p, &c)| axis_groups(p, c))
                    .collect(),
            ),
            Fancy::Points(coords) => {
                let n = coords.first().map_or(0, Vec::len);
                // Each point's chunk as one number, computed once per point: its C-order index in
                // the grid of chunks the points span (which fits in a u128 unless the points span
                // an astronomically large grid; then the chunk coordinates are compared instead).
                let chunk_of = |i: usize| {
                    coords
                        .iter()
                        .zip(chunk_shape)
                        .map(move |(c, &len)| c[i] / len)
                };
                let spans: Vec<u128> = coords
                    .iter()
                    .zip(chunk_shape)
                    .map(|(c, &len)| c.iter().max().map_or(1, |&m| u128::from(m / len) + 1))
                    .collect();
                let linear = spans
                    .iter()
                    .try_fold(1u128, |n, &s| n.checked_mul(s))
                    .is_some();
                let mut keyed: Vec<(u128, usize)> = (0..n)
                    .map(|i| {
                        let key = if linear {
                            chunk_of(i)
                                .zip(&spans)
                                .fold(0u128, |k, (c, &s)| k * s + u128::from(c))
                        } else {
                            0
                        };
                        (key, i)
                    })
                    .collect();
                // By chunk, then by position in the selection: within a chunk points keep their
                // order (a repeated point written twice keeps the later value, as in numpy).
                if linear {
                    keyed.sort_unstable();
                } else {
                    keyed.sort_by(|&(_, a), &(_, b)| chunk_of(a).cmp(chunk_of(b)).then(a.cmp(&b)));
                }
                let same = |a: usize, b: usize| {
                    if linear {
                        keyed[a].0 == keyed[b].0
                    } else {
                        chunk_of(keyed[a].1).eq(chunk_of(keyed[b].1))
                    }
                };
                let mut bounds = Vec::new();
                let mut begin = 0;
                for k in 1..=n {
                    if k == n || !same(k, begin) {
                        bounds.push((begin, k));
                        begin = k;
                    }
                }
                let order: Vec<usize> = keyed.into_iter().map(|(_, i)| i).collect();
                PlanKind::Points {
                    coords,
                    order,
                    bounds,
                }
            }
        };
        FancyPlan {
            chunk_shape: chunk_shape.to_vec(),
            kind,
        }
    }

    /// Number of chunks touched.
    pub(crate) fn len(&self) -> usize {
        match &self.kind {
            PlanKind::Orthogonal(groups) => groups.iter().map(Vec::len).product(),
            PlanKind::Points { bounds, .. } => bounds.len(),
        }
    }

    /// The result's strides, in elements, that [`FancyChunk::for_each_run`] expects on the result
    /// side: C order over every axis (dropped ones as length 1), or one per point.
    pub(crate) fn out_strides(&self, sel: &ResolvedSelection) -> Vec<usize> {
        match &self.kind {
            PlanKind::Orthogonal(_) => strides(&sel.full_shape(), 1, Order::C),
            PlanKind::Points { .. } => vec![1],
        }
    }

    /// The `i`-th chunk touched.
    pub(crate) fn chunk(&self, mut i: usize) -> FancyChunk<'_> {
        let n = self.chunk_shape.len();
        match &self.kind {
            PlanKind::Orthogonal(groups) => {
                let mut chunk = vec![0; n];
                let mut lo = vec![0; n];
                let mut hi = vec![0; n];
                let mut runs = vec![&[][..]; n];
                for axis in (0..n).rev() {
                    let (c, r) = &groups[axis][i % groups[axis].len()];
                    i /= groups[axis].len();
                    chunk[axis] = *c;
                    runs[axis] = r.as_slice();
                    let ends = r.iter().map(|run| {
                        let last = (run.local as i64 + (run.len as i64 - 1) * run.step) as u64;
                        (run.local.min(last), run.local.max(last) + 1)
                    });
                    lo[axis] = ends.clone().map(|e| e.0).min().unwrap_or(0);
                    hi[axis] = ends.map(|e| e.1).max().unwrap_or(0);
                }
                FancyChunk {
                    chunk,
                    lo,
                    hi,
                    runs: ChunkRuns::Orthogonal(runs),
                }
            }
            PlanKind::Points {
                coords,
                order,
                bounds,
            } => {
                let (begin, end) = bounds[i];
                let points = &order[begin..end];
                let chunk: Vec<u64> = (0..n)
                    .map(|a| coords[a][points[0]] / self.chunk_shape[a])
                    .collect();
                let local = |a: usize, p: usize| coords[a][p] - chunk[a] * self.chunk_shape[a];
                let lo = (0..n)
                    .map(|a| points.iter().map(|&p| local(a, p)).min().unwrap_or(0))
                    .collect();
                let hi = (0..n)
                    .map(|a| points.iter().map(|&p| local(a, p) + 1).max().unwrap_or(0))
                    .collect();
                FancyChunk {
                    chunk,
                    lo,
                    hi,
                    runs: ChunkRuns::Points(points),
                }
            }
        }
    }

    /// The positions of point `p` relative to its chunk's start.
    fn point_local<'s>(&'s self, p: usize, chunk: &'s [u64]) -> impl Iterator<Item = u64> + 's {
        let PlanKind::Points { coords, .. } = &self.kind else {
            unreachable!("only called for coordinate plans")
        };
        (0..self.chunk_shape.len()).map(move |a| coords[a][p] - chunk[a] * self.chunk_shape[a])
    }
}

impl FancyChunk<'_> {
    /// The box `lo..hi` of this chunk as an absolute selection of an array of `shape` chunked by
    /// `chunk_shape`.
    pub(crate) fn bounding_selection(
        &self,
        chunk_shape: &[u64],
        shape: &[u64],
    ) -> ArrayResult<ResolvedSelection> {
        let axes = (0..shape.len())
            .map(|a| AxisRange {
                start: self.chunk[a] * chunk_shape[a] + self.lo[a],
                count: self.hi[a] - self.lo[a],
                step: 1,
                keep: true,
            })
            .collect();
        ResolvedSelection::from_axes(axes, shape)
    }

    /// Calls `f(out, local, len, out_step, local_step)` for every run of this chunk, in result order:
    /// `len` elements at element offsets `out + k * out_step` of the result (strides `out_strides`)
    /// and `local + k * local_step` of a buffer with strides `local_strides` whose element 0 is
    /// position `origin` of the chunk.
    pub(crate) fn for_each_run(
        &self,
        plan: &FancyPlan<'_>,
        out_strides: &[usize],
        local_strides: &[usize],
        origin: &[u64],
        mut f: impl FnMut(usize, isize, usize, usize, isize),
    ) {
        match &self.runs {
            // A 0-d array: its one element.
            ChunkRuns::Orthogonal(runs) if runs.is_empty() => f(0, 0, 1, 1, 1),
            ChunkRuns::Orthogonal(runs) => {
                orthogonal_runs(runs, 0, 0, 0, out_strides, local_strides, origin, &mut f)
            }
            ChunkRuns::Points(points) => {
                for &p in points.iter() {
                    let local: isize = plan
                        .point_local(p, &self.chunk)
                        .zip(origin)
                        .zip(local_strides)
                        .map(|((l, o), &s)| (l - o) as isize * s as isize)
                        .sum();
                    f(p * out_strides[0], local, 1, 1, 1);
                }
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn orthogonal_runs(
    runs: &[&[Run]],
    axis: usize,
    out_base: usize,
    local_base: isize,
    out_strides: &[usize],
    local_strides: &[usize],
    origin: &[u64],
    f: &mut impl FnMut(usize, isize, usize, usize, isize),
) {
    let (os, ls) = (out_strides[axis], local_strides[axis] as isize);
    for run in runs[axis] {
        let l0 = run.local as isize - origin[axis] as isize;
        if axis + 1 == runs.len() {
            f(
                out_base + run.out as usize * os,
                local_base + l0 * ls,
                run.len as usize,
                os,
                run.step as isize * ls,
            );
            continue;
        }
        for k in 0..run.len as usize {
            orthogonal_runs(
                runs,
                axis + 1,
                out_base + (run.out as usize + k) * os,
                local_base + (l0 + k as isize * run.step as isize) * ls,
                out_strides,
                local_strides,
                origin,
                f,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_follow_order_and_chunks() {
        // 0 1 2 | 9 8 | 3 (chunks of 4: 0..4, 8..12)
        let g = axis_groups(&AxisPositions::Listed(vec![0, 1, 2, 9, 8, 3]), 4);
        assert_eq!(g.len(), 2);
        assert_eq!(
            g[0].1,
            vec![
                Run {
                    out: 0,
                    local: 0,
                    len: 3,
                    step: 1
                },
                Run {
                    out: 5,
                    local: 3,
                    len: 1,
                    step: 1
                }
            ]
        );
        assert_eq!(
            g[1].1,
            vec![Run {
                out: 3,
                local: 1,
                len: 2,
                step: -1
            }]
        );
    }

    #[test]
    fn strided_axes_plan_as_their_spelled_out_positions() {
        for chunk in [1, 2, 3, 7] {
            for len in [0, 1, 5, 20] {
                for step in [-9i64, -3, -1, 1, 2, 8] {
                    for first in 0..len {
                        let room = if step > 0 {
                            (len - 1 - first) / step as u64 + 1
                        } else {
                            first / step.unsigned_abs() + 1
                        };
                        for count in [0, 1, room / 2, room] {
                            let listed: Vec<u64> = (0..count)
                                .map(|k| (first as i64 + k as i64 * step) as u64)
                                .collect();
                            assert_eq!(
                                axis_groups(&AxisPositions::Strided { first, count, step }, chunk),
                                axis_groups(&AxisPositions::Listed(listed), chunk),
                                "first {first} count {count} step {step} chunk {chunk}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn huge_axes_are_never_spelled_out() {
        // Reversing an axis of 2^40, next to a list and a slice of 2^20: resolved and planned
        // without one allocation per position.
        let sel: crate::Selection = "::-1, [0, 2], 5:".parse().unwrap();
        let r = sel.resolve(&[1 << 40, 3, 1 << 20]).unwrap();
        assert_eq!(r.shape(), vec![1 << 40, 2, (1 << 20) - 5]);
        assert_eq!(r.axes()[0].count, 1 << 40);
        let plan = FancyPlan::new(r.fancy_positions().unwrap(), &[1 << 38, 1, 1 << 19]);
        assert_eq!(plan.len(), 4 * 2 * 2);
        let c = plan.chunk(0);
        assert_eq!(
            (c.chunk.clone(), c.lo.clone(), c.hi.clone()),
            (vec![0, 0, 0], vec![0, 0, 5], vec![1 << 38, 1, 1 << 19])
        );
        // An empty axis plans nothing, however long the others.
        let r = "::-1, []"
            .parse::<crate::Selection>()
            .unwrap()
            .resolve(&[1 << 62, 3])
            .unwrap();
        assert_eq!(r.num_elements(), 0);
        assert_eq!(
            FancyPlan::new(r.fancy_positions().unwrap(), &[1, 1]).len(),
            0
        );
    }

    #[test]
    fn points_group_by_chunk_in_selection_order() {
        // Points spanning a grid of 2^150 chunks (too many for one number per chunk) and a small
        // one: the same grouping, chunks in C order, points in selection order within a chunk.
        for (shape, chunks, far) in [
            ([1u64 << 50; 3], [1u64; 3], (1i64 << 49) + 3),
            ([64, 64, 64], [4, 4, 4], 50),
        ] {
            let sel = crate::Selection::points(vec![
                vec![0, far, 0, 1],
                vec![0, 1, 0, 2],
                vec![3, 1, 3, 3],
            ])
            .resolve(&shape)
            .unwrap();
            let plan = FancyPlan::new(sel.fancy_positions().unwrap(), &chunks);
            let groups: Vec<(Vec<u64>, Vec<usize>)> = (0..plan.len())
                .map(|i| {
                    let c = plan.chunk(i);
                    let ChunkRuns::Points(p) = c.runs else {
                        unreachable!()
                    };
                    (c.chunk.clone(), p.to_vec())
                })
                .collect();
            let c = |x: i64, y: i64, z: i64| {
                vec![
                    x as u64 / chunks[0],
                    y as u64 / chunks[1],
                    z as u64 / chunks[2],
                ]
            };
            if chunks[0] == 1 {
                assert_eq!(
                    groups,
                    vec![
                        (c(0, 0, 3), vec![0, 2]),
                        (c(1, 2, 3), vec![3]),
                        (c(far, 1, 1), vec![1])
                    ]
                );
            } else {
                // Chunks of 4: (0,0,3), (0,0,3) and (1,2,3) share chunk (0,0,0).
                assert_eq!(
                    groups,
                    vec![(c(0, 0, 3), vec![0, 2, 3]), (c(far, 1, 1), vec![1])]
                );
            }
        }
    }

    #[test]
    fn negative_slices_follow_numpy() {
        assert_eq!(negative_slice(None, None, -1, 4), vec![3, 2, 1, 0]);
        assert_eq!(negative_slice(Some(10), Some(2), -3, 12), vec![10, 7, 4]);
        assert_eq!(negative_slice(Some(-1), Some(-3), -1, 5), vec![4, 3]);
        assert_eq!(negative_slice(Some(100), None, -2, 5), vec![4, 2, 0]);
        assert_eq!(negative_slice(Some(-100), None, -1, 5), Vec::<u64>::new());
        assert_eq!(negative_slice(Some(2), Some(2), -1, 5), Vec::<u64>::new());
        assert_eq!(negative_slice(None, None, -1, 0), Vec::<u64>::new());
    }
}

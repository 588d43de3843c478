//! From a selection to the chunks it touches: the chunk grid and the read/write plan.
//!
//! Planning is per axis: each axis's selected positions are split into runs that fall in one chunk
//! ([`AxisPiece`]s). A chunk touched by the selection is one combination of pieces, one per axis, so
//! planning costs the number of chunks touched, never the size of the whole chunk grid.

use crate::copy::Dim;
use crate::metadata::Order;
use crate::selection::{AxisRange, ResolvedSelection};

/// The selected positions of one axis that fall into one chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AxisPiece {
    /// Chunk index along the axis.
    pub chunk: u64,
    /// First selected position, relative to the chunk's start.
    pub start: u64,
    /// Number of selected positions in the chunk.
    pub count: u64,
    /// Position of the first of them in the result, along this axis.
    pub out_start: u64,
}

/// Splits one axis's selection into per-chunk pieces.
pub fn axis_pieces(sel: &AxisRange, chunk_len: u64) -> Vec<AxisPiece> {
    let mut pieces = Vec::new();
    let mut i = 0;
    while i < sel.count {
        let pos = sel.start + i * sel.step;
        let chunk = pos / chunk_len;
        // In u128: the end of the last chunk of an axis of 2^64 - 1 positions is 2^64.
        let chunk_end = (u128::from(chunk) + 1) * u128::from(chunk_len);
        let left = (chunk_end - u128::from(pos) - 1) / u128::from(sel.step) + 1;
        let n = (left.min(u128::from(sel.count - i))) as u64;
        pieces.push(AxisPiece {
            chunk,
            start: pos - chunk * chunk_len,
            count: n,
            out_start: i,
        });
        i += n;
    }
    pieces
}

/// The part of one chunk a selection touches and where it lands in the result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChunkRegion {
    /// Chunk grid coordinates.
    pub chunk: Vec<u64>,
    /// Per axis: first selected position inside the chunk.
    pub start: Vec<u64>,
    /// Per axis: number of selected positions.
    pub count: Vec<u64>,
    /// Per axis: the selection's step.
    pub step: Vec<u64>,
    /// Per axis: where the first position lands in the result (dropped axes count as length 1).
    pub out_start: Vec<u64>,
}

/// Every chunk a resolved selection touches, in C order of the chunk grid.
#[derive(Clone, Debug)]
pub struct ReadPlan {
    selection: ResolvedSelection,
    chunk_shape: Vec<u64>,
    pieces: Vec<Vec<AxisPiece>>,
}

impl ReadPlan {
    /// Plans `selection` over a grid of `chunk_shape` chunks.
    pub fn new(selection: ResolvedSelection, chunk_shape: &[u64]) -> ReadPlan {
        let pieces = selection
            .axes()
            .iter()
            .zip(chunk_shape)
            .map(|(a, &c)| axis_pieces(a, c))
            .collect();
        ReadPlan {
            selection,
            chunk_shape: chunk_shape.to_vec(),
            pieces,
        }
    }

    /// The selection this plan covers.
    pub fn selection(&self) -> &ResolvedSelection {
        &self.selection
    }

    /// Number of chunks touched.
    pub fn len(&self) -> usize {
        if self.pieces.is_empty() {
            // A 0-d array has exactly one chunk.
            return 1;
        }
        self.pieces.iter().map(Vec::len).product()
    }

    /// True when the selection is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `i`-th chunk touched (C order over the touched chunks).
    pub fn region(&self, mut i: usize) -> ChunkRegion {
        let n = self.pieces.len();
        let mut region = ChunkRegion {
            chunk: vec![0; n],
            start: vec![0; n],
            count: vec![0; n],
            step: vec![0; n],
            out_start: vec![0; n],
        };
        for axis in (0..n).rev() {
            let axis_pieces = &self.pieces[axis];
            let p = axis_pieces[i % axis_pieces.len()];
            i /= axis_pieces.len();
            region.chunk[axis] = p.chunk;
            region.start[axis] = p.start;
            region.count[axis] = p.count;
            region.step[axis] = self.selection.axes()[axis].step;
            region.out_start[axis] = p.out_start;
        }
        region
    }

    /// All regions, in order.
    pub fn regions(&self) -> impl ExactSizeIterator<Item = ChunkRegion> + '_ {
        (0..self.len()).map(|i| self.region(i))
    }

    /// The chunk shape planned against.
    pub fn chunk_shape(&self) -> &[u64] {
        &self.chunk_shape
    }
}

/// Byte strides of a buffer of `shape` in `order`.
pub fn strides(shape: &[u64], itemsize: usize, order: Order) -> Vec<usize> {
    strides_by_axes(shape, itemsize, &order.axes(shape.len()))
}

/// Byte strides of a buffer of `shape` whose axes go from slowest to fastest varying in the order
/// `axes` (a permutation of `0..rank`: the identity is C order, its reverse F, any other one a Zarr v3
/// `transpose`).
pub(crate) fn strides_by_axes(shape: &[u64], itemsize: usize, axes: &[usize]) -> Vec<usize> {
    let mut s = vec![0usize; shape.len()];
    let mut acc = itemsize;
    for &axis in axes.iter().rev() {
        s[axis] = acc;
        acc *= shape[axis] as usize;
    }
    s
}

impl ChunkRegion {
    /// Copy geometry from a chunk buffer (strides `chunk_strides`) to a result buffer (strides
    /// `out_strides`): the byte offsets on both sides and the per-axis dims.
    pub(crate) fn geometry(
        &self,
        chunk_strides: &[usize],
        out_strides: &[usize],
    ) -> (usize, usize, Vec<Dim>) {
        let mut src_off = 0;
        let mut dst_off = 0;
        let mut dims = Vec::with_capacity(self.chunk.len());
        for axis in 0..self.chunk.len() {
            src_off += self.start[axis] as usize * chunk_strides[axis];
            dst_off += self.out_start[axis] as usize * out_strides[axis];
            dims.push(Dim {
                count: self.count[axis] as usize,
                src: self.step[axis] as usize * chunk_strides[axis],
                dst: out_strides[axis],
            });
        }
        (src_off, dst_off, dims)
    }

    /// True when the region is the whole chunk (every position, step 1): a write then replaces the chunk
    /// without reading it first.
    pub fn covers_chunk(&self, chunk_shape: &[u64]) -> bool {
        (0..chunk_shape.len()).all(|a| {
            self.start[a] == 0
                && self.count[a] == chunk_shape[a]
                && (self.step[a] == 1 || self.count[a] == 1)
        })
    }

    /// True when the region holds every position of the chunk that lies inside the array (edge chunks
    /// extend past the array's end; that part is never selected).
    pub fn covers_chunk_within(&self, chunk_shape: &[u64], array_shape: &[u64]) -> bool {
        (0..chunk_shape.len()).all(|a| {
            let inside = chunk_shape[a].min(array_shape[a] - self.chunk[a] * chunk_shape[a]);
            self.start[a] == 0
                && self.count[a] == inside
                && (self.step[a] == 1 || self.count[a] == 1)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::selection::Selection;

    #[test]
    fn pieces_follow_chunk_boundaries() {
        let a = AxisRange {
            start: 3,
            count: 6,
            step: 2,
            keep: true,
        }; // 3 5 7 9 11 13
        let p = axis_pieces(&a, 4);
        assert_eq!(
            p,
            vec![
                AxisPiece {
                    chunk: 0,
                    start: 3,
                    count: 1,
                    out_start: 0
                },
                AxisPiece {
                    chunk: 1,
                    start: 1,
                    count: 2,
                    out_start: 1
                },
                AxisPiece {
                    chunk: 2,
                    start: 1,
                    count: 2,
                    out_start: 3
                },
                AxisPiece {
                    chunk: 3,
                    start: 1,
                    count: 1,
                    out_start: 5
                },
            ]
        );
        // Steps larger than a chunk skip chunks entirely.
        let a = AxisRange {
            start: 0,
            count: 3,
            step: 10,
            keep: true,
        };
        assert_eq!(
            axis_pieces(&a, 4)
                .iter()
                .map(|p| p.chunk)
                .collect::<Vec<_>>(),
            vec![0, 2, 5]
        );
    }

    #[test]
    fn plan_enumerates_touched_chunks_only() {
        let sel = "1:2, 0:10"
            .parse::<Selection>()
            .unwrap()
            .resolve(&[1 << 40, 100])
            .unwrap();
        let plan = ReadPlan::new(sel, &[1, 4]);
        assert_eq!(plan.len(), 3);
        let r = plan.region(2);
        assert_eq!(r.chunk, vec![1, 2]);
        assert_eq!(
            (r.start.clone(), r.count.clone(), r.out_start.clone()),
            (vec![0, 0], vec![1, 2], vec![0, 8])
        );
    }

    #[test]
    fn strides_in_both_orders() {
        assert_eq!(strides(&[2, 3, 4], 8, Order::C), vec![96, 32, 8]);
        assert_eq!(strides(&[2, 3, 4], 8, Order::F), vec![8, 16, 48]);
        // A v3 transpose [2, 0, 1]: axis 1 fastest, then 0, then 2.
        assert_eq!(strides_by_axes(&[2, 3, 4], 8, &[2, 0, 1]), vec![24, 8, 48]);
    }
}

//! Block-by-block iteration with bounded memory, for out-of-core work.
//!
//! ```
//! # use std::sync::Arc;
//! use tessera_array::{ArrayBuilder, DataType};
//! use tessera_store::MemoryStore;
//! use ndarray::Array2;
//!
//! let store = Arc::new(MemoryStore::new());
//! let arr = ArrayBuilder::new(vec![6, 4], vec![2, 4], DataType::parse_typestr("<f8")?).create(store, "x")?;
//! arr.write((), &Array2::<f64>::ones((6, 4)))?;
//! let mut sums = vec![0.0; 4];
//! for block in arr.blocks::<f64>(None)? {
//!     let (_ranges, data) = block?;
//!     for row in data.rows() {
//!         for (s, v) in sums.iter_mut().zip(row) { *s += v; }
//!     }
//! }
//! assert_eq!(sums, vec![6.0; 4]);
//! # Ok::<(), tessera_array::ArrayError>(())
//! ```

use std::marker::PhantomData;
use std::ops::Range;

use ndarray::ArrayD;

use crate::array::Array;
use crate::element::Element;
use crate::error::{ArrayError, ArrayResult};
use crate::selection::Selection;

/// Iterator over the blocks of an array, in C order of the block grid; see [`Array::blocks`].
#[derive(Debug)]
pub struct Blocks<'a, T> {
    array: &'a Array,
    block: Vec<u64>,
    grid: Vec<u64>,
    next: u64,
    total: u64,
    _elem: PhantomData<T>,
}

impl Array {
    /// Iterates over the array in blocks of `block_shape` (default: the chunk shape), yielding each block's
    /// ranges and its data. Only one block is in memory at a time; the chunks of a block are decoded in
    /// parallel, so blocks spanning several chunks (a row of chunks, say) keep every core busy.
    ///
    /// # Errors
    /// [`ArrayError::DataTypeMismatch`] for a wrong `T`; [`ArrayError::Selection`] for a block shape of the
    /// wrong rank or with a zero. Each item carries the read's own errors.
    pub fn blocks<T: Element>(&self, block_shape: Option<&[u64]>) -> ArrayResult<Blocks<'_, T>> {
        if !T::matches(self.dtype()) {
            return Err(ArrayError::DataTypeMismatch {
                stored: self.dtype().typestr(),
                requested: T::NAME.into(),
            });
        }
        let block = block_shape.map_or_else(|| self.chunks().to_vec(), <[u64]>::to_vec);
        if block.len() != self.shape().len() || block.contains(&0) {
            return Err(ArrayError::selection(format!(
                "block shape {block:?} does not fit a {}-d array",
                self.shape().len()
            )));
        }
        let grid: Vec<u64> = self
            .shape()
            .iter()
            .zip(&block)
            .map(|(&s, &b)| s.div_ceil(b))
            .collect();
        let total = grid
            .iter()
            .try_fold(1u64, |a, &g| a.checked_mul(g))
            .ok_or_else(|| {
                ArrayError::TooLarge("the block grid has more than 2^64 blocks".into())
            })?;
        Ok(Blocks {
            array: self,
            block,
            grid,
            next: 0,
            total,
            _elem: PhantomData,
        })
    }
}

impl<T: Element> Blocks<'_, T> {
    fn ranges(&self, mut index: u64) -> Vec<Range<u64>> {
        let mut ranges = vec![0..0; self.grid.len()];
        for axis in (0..self.grid.len()).rev() {
            let i = index % self.grid[axis];
            index /= self.grid[axis];
            let start = i * self.block[axis];
            ranges[axis] = start..(start + self.block[axis]).min(self.array.shape()[axis]);
        }
        ranges
    }
}

impl<T: Element> Iterator for Blocks<'_, T> {
    type Item = ArrayResult<(Vec<Range<u64>>, ArrayD<T>)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.total {
            return None;
        }
        let ranges = self.ranges(self.next);
        self.next += 1;
        Some(
            self.array
                .read::<T>(Selection::from_ranges(&ranges))
                .map(|data| (ranges, data)),
        )
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = usize::try_from(self.total - self.next).unwrap_or(usize::MAX);
        (left, Some(left))
    }
}

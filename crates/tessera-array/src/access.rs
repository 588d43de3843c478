//! [`ArrayAccess`]: the read/write interface shared by Zarr arrays and raw memory-mapped arrays, so
//! workloads (the benchmark harness, the CLI, user code) can swap backends.

use std::borrow::Cow;

use ndarray::{ArrayBase, ArrayD, Data, Dimension, IxDyn};
use rayon::prelude::*;

use crate::dtype::DataType;
use crate::element::Element;
use crate::error::{ArrayError, ArrayResult};
use crate::par;
use crate::selection::{IntoSelection, ResolvedSelection};

/// Bytes of an untyped selection: the stored dtype (byte order included) and C-order data.
#[derive(Clone, Debug, PartialEq)]
pub struct RawArray {
    /// The element type of `bytes`.
    pub dtype: DataType,
    /// The shape of the selection.
    pub shape: Vec<u64>,
    /// The elements, C order, `dtype.itemsize()` bytes each.
    pub bytes: Vec<u8>,
}

impl RawArray {
    /// Converts every scalar to native byte order (a no-op when it already is).
    pub fn into_native(mut self) -> RawArray {
        swap_parallel(&self.dtype, &mut self.bytes);
        self.dtype = self.dtype.to_native();
        self
    }
}

/// Bytes for `elements` elements of `itemsize`, or an [`ArrayError::TooLarge`] error.
pub(crate) fn buffer_len(elements: u64, itemsize: usize) -> ArrayResult<usize> {
    usize::try_from(elements)
        .ok()
        .and_then(|n| n.checked_mul(itemsize))
        .filter(|&n| n <= isize::MAX as usize)
        .ok_or_else(|| {
            ArrayError::TooLarge(format!(
                "{elements} elements of {itemsize} bytes do not fit in memory"
            ))
        })
}

/// Converts between stored and native byte order (its own inverse), in parallel for large buffers.
pub(crate) fn swap_parallel(dtype: &DataType, bytes: &mut [u8]) {
    if !dtype.needs_swap() {
        return;
    }
    let itemsize = dtype.itemsize().max(1);
    let per_task = ((1 << 20) / itemsize).max(1) * itemsize;
    bytes
        .par_chunks_mut(per_task)
        .with_min_len(par::min_len())
        .for_each(|part| dtype.swap_to_native(part));
}

/// Read and write access to an N-dimensional array of a known dtype.
///
/// Implementors provide the untyped primitives over bytes in the stored dtype and byte order; typed,
/// checked reads and writes come for free. A typed access with a `T` that does not match the stored dtype
/// is an [`ArrayError::DataTypeMismatch`], never a reinterpretation.
pub trait ArrayAccess: Send + Sync {
    /// The array's shape.
    fn shape(&self) -> &[u64];

    /// The stored element type (byte order included).
    fn dtype(&self) -> &DataType;

    /// Reads a resolved selection into `out`: C order, stored byte order, exactly the selection's bytes.
    ///
    /// # Errors
    /// [`ArrayError::ShapeMismatch`] when `out` has the wrong length; backend errors.
    fn read_into(&self, selection: &ResolvedSelection, out: &mut [u8]) -> ArrayResult<()>;

    /// Writes `bytes` (C order, stored byte order, exactly the selection's size) into a resolved selection.
    ///
    /// # Errors
    /// [`ArrayError::ShapeMismatch`] when `bytes` has the wrong length; backend errors (read-only, ...).
    fn write_resolved(&self, selection: &ResolvedSelection, bytes: &[u8]) -> ArrayResult<()>;

    /// Makes completed writes durable where the backend buffers them (a memory-mapped file); a no-op for
    /// backends whose writes are durable when they return, such as Zarr arrays.
    ///
    /// # Errors
    /// Backend errors.
    fn flush(&self) -> ArrayResult<()> {
        Ok(())
    }

    /// Resolves a selection against the shape.
    ///
    /// # Errors
    /// [`ArrayError::Selection`] when it does not fit.
    fn resolve(&self, selection: impl IntoSelection) -> ArrayResult<ResolvedSelection>
    where
        Self: Sized,
    {
        selection.into_selection()?.resolve(self.shape())
    }

    /// Checks that `T` can be read from / written to the stored dtype.
    ///
    /// # Errors
    /// [`ArrayError::DataTypeMismatch`] naming both types.
    fn check_element<T: Element>(&self) -> ArrayResult<()>
    where
        Self: Sized,
    {
        if T::matches(self.dtype()) {
            Ok(())
        } else {
            Err(ArrayError::DataTypeMismatch {
                stored: self.dtype().typestr(),
                requested: T::NAME.to_string(),
            })
        }
    }

    /// Reads a selection as an `ndarray` of `T`, in native byte order.
    ///
    /// # Errors
    /// [`ArrayError::DataTypeMismatch`], selection and backend errors.
    fn read<T: Element>(&self, selection: impl IntoSelection) -> ArrayResult<ArrayD<T>>
    where
        Self: Sized,
    {
        self.check_element::<T>()?;
        let sel = self.resolve(selection)?;
        let shape: Vec<usize> = sel.shape().iter().map(|&d| d as usize).collect();
        let n = buffer_len(sel.num_elements(), 1)?;
        let data = T::collect(n, |bytes| {
            self.read_into(&sel, bytes)?;
            swap_parallel(self.dtype(), bytes);
            Ok(())
        })?;
        Ok(ArrayD::from_shape_vec(IxDyn(&shape), data)
            .expect("the result has the selection's shape"))
    }

    /// Reads a selection untyped: bytes in the stored dtype and byte order, C order.
    ///
    /// # Errors
    /// Selection and backend errors.
    fn read_raw(&self, selection: impl IntoSelection) -> ArrayResult<RawArray>
    where
        Self: Sized,
    {
        let sel = self.resolve(selection)?;
        let len = buffer_len(sel.num_elements(), self.dtype().itemsize())?;
        let mut bytes: Vec<u8> = crate::element::zeroed_vec(len)?;
        self.read_into(&sel, &mut bytes)?;
        Ok(RawArray {
            dtype: self.dtype().clone(),
            shape: sel.shape(),
            bytes,
        })
    }

    /// Writes `data` (the selection's shape) into the selection, converting from native byte order.
    ///
    /// # Errors
    /// [`ArrayError::DataTypeMismatch`], [`ArrayError::ShapeMismatch`], selection and backend errors.
    fn write<T: Element, S: Data<Elem = T>, D: Dimension>(
        &self,
        selection: impl IntoSelection,
        data: &ArrayBase<S, D>,
    ) -> ArrayResult<()>
    where
        Self: Sized,
    {
        self.check_element::<T>()?;
        let sel = self.resolve(selection)?;
        let found: Vec<u64> = data.shape().iter().map(|&d| d as u64).collect();
        if found != sel.shape() {
            return Err(ArrayError::ShapeMismatch {
                expected: sel.shape(),
                found,
            });
        }
        let elems: Cow<[T]> = match data.as_slice() {
            Some(s) => Cow::Borrowed(s),
            None => Cow::Owned(data.iter().copied().collect()),
        };
        let bytes = T::as_bytes(&elems);
        if self.dtype().needs_swap() {
            let mut stored = bytes.to_vec();
            swap_parallel(self.dtype(), &mut stored);
            self.write_resolved(&sel, &stored)
        } else {
            self.write_resolved(&sel, bytes)
        }
    }

    /// Writes raw bytes (C order, stored dtype and byte order, the selection's shape).
    ///
    /// # Errors
    /// As [`write_resolved`](ArrayAccess::write_resolved), plus selection errors.
    fn write_raw(&self, selection: impl IntoSelection, bytes: &[u8]) -> ArrayResult<()>
    where
        Self: Sized,
    {
        let sel = self.resolve(selection)?;
        self.write_resolved(&sel, bytes)
    }
}

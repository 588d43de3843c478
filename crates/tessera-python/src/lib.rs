//! `tessera._tessera`: the native half of the `tessera` Python package.
//!
//! A thin layer over tessera-array and tessera-store: it opens stores from URLs, creates and opens
//! arrays and groups, and moves bytes between numpy buffers and arrays with the GIL released. It never
//! plans, selects or decodes anything itself. Everything a Python user touches (numpy indexing, modes,
//! pickling, Dask, xarray) is the Python half, `python/tessera/`.
//!
//! Selections cross the boundary as one item per axis: an `int` (an index, negative counting from the
//! end), a `(start, stop, step)` tuple with `None` for a default, a 1-d `int64` numpy array (positions,
//! zarr's orthogonal list) or a 1-d `bool` numpy array (a mask of the axis); or as a coordinate
//! selection, `{"points": [...]}` or `{"mask": ...}`. tessera-array resolves them against the shape with
//! numpy's rules.

mod array;
mod errors;
mod group;
mod objects;
mod store;

use pyo3::prelude::*;

/// The module `tessera._tessera`.
#[pymodule]
fn _tessera(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<store::PyStore>()?;
    m.add_class::<array::PyArrayCore>()?;
    m.add_class::<group::PyGroupCore>()?;
    m.add_function(wrap_pyfunction!(store::open_store, m)?)?;
    m.add_function(wrap_pyfunction!(store::default_compressor, m)?)?;
    Ok(())
}

//! tessera's integration tests, in one binary: Python-written fixtures, zarrs interop, property tests of
//! the selection planner.

mod fixtures;
mod npy;
mod selection_props;
mod zarrs_interop;

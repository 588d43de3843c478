//! tessera's integration tests, in one binary: Python-written fixtures, zarrs interop, property tests of
//! the selection planner, reliability (crashes, concurrency, fuzz findings, malformed input).

mod fixtures;
mod fixtures_tensorstore;
mod fixtures_v3;
mod npy;
mod object_fixtures;
mod reliability;
mod selection_props;
mod zarrs_interop;
mod zarrs_interop_v3;

//! Zarr v2 arrays and groups.

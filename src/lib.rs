//! tessera: chunked, compressed N-dimensional arrays in the Zarr v2 format.
//!
//! This facade re-exports the crates of the workspace.
pub use tessera_array as array;
pub use tessera_codec as codec;
pub use tessera_mmap as mmap;
pub use tessera_store as store;

//! The facade of the workspace: re-exports its crates. README.md follows; its Rust example runs as
//! this crate's doctest, so it stays correct as pasted.
#![doc = include_str!("../README.md")]
pub use tessera_array as array;
pub use tessera_codec as codec;
pub use tessera_mmap as mmap;
pub use tessera_store as store;

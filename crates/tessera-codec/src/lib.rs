//! numcodecs-compatible compressors and filters for tessera's Zarr v2 chunks.
//!
//! A Zarr v2 `.zarray` names a `compressor` and a list of `filters` as numcodecs JSON configs.
//! [`CodecChain::from_json`] builds them, [`CodecChain::encode`] and
//! [`CodecChain::decode_into`] run them over one chunk, and the configs are written back
//! exactly as read.
//!
//! ```
//! use tessera_codec::{CodecChain, Value};
//! let compressor: Value = serde_json::json!(
//!     {"id": "blosc", "cname": "zstd", "clevel": 3, "shuffle": -1, "blocksize": 0});
//! let chain = CodecChain::from_json(Some(&compressor), None)?;
//! let chunk: Vec<u8> = (0..4096u32).map(|i| (i as f32).sin()).flat_map(f32::to_le_bytes).collect();
//! let stored = chain.encode(&chunk, 4)?;
//! let mut back = vec![0u8; chunk.len()];
//! chain.decode_into(&stored, &mut back, 4)?;
//! assert_eq!(back, chunk);
//! # Ok::<(), tessera_codec::CodecError>(())
//! ```
//!
//! Compressors: `blosc` (via c-blosc), `zstd`, `zlib`, `gzip`, `bz2`, `lzma`, `lz4`, `pcodec`
//! (via pco; it stores the element type, so it encodes through [`CodecChain::encode_chunk`])
//! (see [`compressors`]). Filters: `delta` (booleans included), `fixedscaleoffset`, `quantize`,
//! `shuffle`, `packbits`, `astype`, `categorize`, `bitround`, `base64`, and the checksums
//! `crc32`, `adler32`, `crc32c`, `fletcher32`, `jenkins_lookup3` (see [`filters`]).
//!
//! A config field a codec does not know is refused ([`CodecErrorKind::InvalidConfig`] naming the
//! field and the ones the codec takes), so a misspelling never reaches `.zarray`.
//!
//! Decoding is bounded: the caller says how large the decoded chunk is, every stage decodes
//! into a buffer whose size follows from that, and data that decodes to more or fewer bytes
//! fails with a typed [`CodecError`] instead of allocating what a header claims.

mod chain;
mod codec;
pub mod compressors;
mod config;
mod error;
pub mod filters;
mod numeric;
pub mod object;

pub use chain::CodecChain;
pub use codec::{ChunkLayout, Codec, codec_from_json};
pub use error::{CodecError, CodecErrorKind, CodecResult, SIZE_SLACK};
pub use serde_json::Value;

use serde_json::json;

/// The compressor zarr-python 2 gives new arrays: blosc with lz4, clevel 5, byte shuffle,
/// automatic blocksize, in the field order numcodecs' `get_config` writes.
pub fn default_compressor_json() -> Value {
    blosc_json("lz4", 5, 1, 0)
}

/// A blosc config as numcodecs writes it. `shuffle`: 0 none, 1 byte, 2 bit, -1 automatic.
pub fn blosc_json(cname: &str, clevel: i32, shuffle: i32, blocksize: usize) -> Value {
    json!({"id": "blosc", "cname": cname, "clevel": clevel, "shuffle": shuffle, "blocksize": blocksize})
}

/// A zstd config as current numcodecs (0.16) writes it, `checksum` included.
pub fn zstd_json(level: i32, checksum: bool) -> Value {
    json!({"id": "zstd", "level": level, "checksum": checksum})
}

/// A zlib config (`level` 0..=9, -1 for zlib's default).
pub fn zlib_json(level: i32) -> Value {
    json!({"id": "zlib", "level": level})
}

/// A gzip config (`level` 0..=9).
pub fn gzip_json(level: i32) -> Value {
    json!({"id": "gzip", "level": level})
}

/// A bz2 config (`level` 1..=9).
pub fn bz2_json(level: i32) -> Value {
    json!({"id": "bz2", "level": level})
}

/// An lzma config writing xz with the default check and the given preset (0..=9).
pub fn lzma_json(preset: u32) -> Value {
    json!({"id": "lzma", "format": 1, "check": -1, "preset": preset, "filters": null})
}

/// An lz4 config (`acceleration` 1 is numcodecs' default).
pub fn lz4_json(acceleration: i32) -> Value {
    json!({"id": "lz4", "acceleration": acceleration})
}

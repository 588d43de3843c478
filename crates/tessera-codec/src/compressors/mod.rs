//! Compressors: the `compressor` of a `.zarray`. Their encoded size depends on the data.

pub mod blosc;
pub mod bz2;
mod deflate;
pub mod gzip;
pub mod lz4;
pub mod lzma;
pub mod pcodec;
mod stream;
#[cfg(feature = "zfp")]
pub mod zfpy;
pub mod zlib;
pub mod zstd;

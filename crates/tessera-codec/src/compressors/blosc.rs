//! `blosc`: c-blosc 1.x through `blosc-src`, with numcodecs' config and shuffle rules.
//!
//! Spec: <https://github.com/Blosc/c-blosc/blob/main/README_CHUNK_FORMAT.rst>;
//! numcodecs: `numcodecs/blosc.pyx`.
//!
//! ```
//! use tessera_codec::{CodecChain, Value};
//! let config: Value = serde_json::json!(
//!     {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0});
//! let chain = CodecChain::from_json(Some(&config), None)?;
//! let data: Vec<u8> = (0u32..1000).flat_map(|v| v.to_le_bytes()).collect();
//! let blob = chain.encode(&data, 4)?;
//! assert_eq!(chain.decode(&blob, data.len(), 4)?, data);
//! # Ok::<(), tessera_codec::CodecError>(())
//! ```
//!
//! # Threads
//! Encoding and decoding use the context functions `blosc_compress_ctx` and
//! `blosc_decompress_ctx`. These keep no global state (the plain `blosc_compress` reads global
//! settings and needs a lock), so any number of threads may call them at once. tessera decodes and
//! encodes whole chunks in parallel with rayon, one chunk per core, so each call uses one internal
//! thread, except when a read touches fewer chunks than there are cores: the caller then passes the
//! spare cores ([`Codec::decode_into_threaded`]) and a chunk of 1 MiB or more decompresses its
//! blocks on them.
//!
//! # Typesize
//! As numcodecs: the itemsize of the buffer handed to blosc, i.e. the array dtype's itemsize
//! unless a filter changed the element type (see [`crate::Codec::encoded_itemsize`]), or the
//! config's `typesize` when present. c-blosc itself treats a typesize above 255 as 1.
//! `shuffle: -1` (AUTOSHUFFLE) means bit-shuffle when the typesize is 1, byte-shuffle otherwise.

use std::ffi::{CString, c_int, c_void};

use serde_json::Value;

use crate::codec::Codec;
use crate::config::Config;
use crate::error::{CodecError, CodecResult};

/// The numcodecs id.
pub const ID: &str = "blosc";

/// The config fields besides `"id"`, as numcodecs' `get_config` writes them; others are refused.
/// (numcodecs' v2 `get_config` writes no `typesize`; the Zarr v3 blosc configuration does.)
pub const FIELDS: &[&str] = &["cname", "clevel", "shuffle", "blocksize", "typesize"];

/// Compressor names this build of c-blosc supports (snappy is not compiled in).
pub const CNAMES: [&str; 5] = ["blosclz", "lz4", "lz4hc", "zlib", "zstd"];

const MAX_OVERHEAD: usize = blosc_src::BLOSC_MAX_OVERHEAD as usize;
const MAX_BUFFERSIZE: usize = blosc_src::BLOSC_MAX_BUFFERSIZE as usize;
const MIN_HEADER_LENGTH: usize = blosc_src::BLOSC_MIN_HEADER_LENGTH as usize;

/// The blosc compressor.
#[derive(Debug, Clone)]
pub struct Blosc {
    cname: CString,
    clevel: c_int,
    shuffle: i64,
    blocksize: usize,
    typesize: Option<usize>,
}

impl Blosc {
    /// Reads a numcodecs blosc config. Defaults as numcodecs: cname `lz4`, clevel 5,
    /// shuffle 1 (SHUFFLE), blocksize 0 (automatic).
    pub fn from_json(config: &Value) -> CodecResult<Self> {
        let c = Config::new(ID, config, FIELDS)?;
        let cname = c.str_or("cname", "lz4")?;
        if cname == "snappy" {
            return Err(CodecError::unsupported(
                ID,
                "blosc cname \"snappy\" is not compiled into this build",
            ));
        }
        if !CNAMES.contains(&cname) {
            return Err(CodecError::invalid(
                ID,
                format!("unknown blosc cname {cname:?}; expected one of {CNAMES:?}"),
            ));
        }
        let clevel = c.int_or("clevel", 5)?;
        if !(0..=9).contains(&clevel) {
            return Err(CodecError::invalid(
                ID,
                format!("clevel must be 0..=9, got {clevel}"),
            ));
        }
        let shuffle = c.int_or("shuffle", 1)?;
        if !(-1..=2).contains(&shuffle) {
            return Err(CodecError::invalid(
                ID,
                format!("shuffle must be -1, 0, 1 or 2, got {shuffle}"),
            ));
        }
        let blocksize = c.int_or("blocksize", 0)?;
        if blocksize < 0 {
            return Err(CodecError::invalid(
                ID,
                format!("blocksize must be >= 0, got {blocksize}"),
            ));
        }
        let typesize = match c.opt_int("typesize")? {
            None => None,
            Some(t) if t >= 1 => Some(t as usize),
            Some(t) => {
                return Err(CodecError::invalid(
                    ID,
                    format!("typesize must be >= 1, got {t}"),
                ));
            }
        };
        Ok(Blosc {
            cname: CString::new(cname).expect("cname has no NUL"),
            clevel: clevel as c_int,
            shuffle,
            blocksize: blocksize as usize,
            typesize,
        })
    }

    /// The decoded size a blosc header states, after checking that the header is complete,
    /// that its `cbytes` is the blob's length and that `nbytes` is what the caller expects
    /// (so nothing is decompressed, let alone allocated, on a lying header).
    fn checked_nbytes(input: &[u8], expected: usize) -> CodecResult<usize> {
        if input.len() < MIN_HEADER_LENGTH {
            return Err(CodecError::corrupt(
                ID,
                format!("{} bytes is shorter than a blosc header", input.len()),
            ));
        }
        let (mut nbytes, mut cbytes, mut blocksize) = (0usize, 0usize, 0usize);
        // SAFETY: the buffer holds at least the 16 header bytes this function reads.
        unsafe {
            blosc_src::blosc_cbuffer_sizes(
                input.as_ptr().cast(),
                &mut nbytes,
                &mut cbytes,
                &mut blocksize,
            );
        }
        if cbytes != input.len() {
            return Err(CodecError::corrupt(
                ID,
                format!(
                    "blosc header claims {cbytes} compressed bytes, blob has {}",
                    input.len()
                ),
            ));
        }
        if nbytes != expected {
            return Err(CodecError::size(ID, expected, nbytes as u64));
        }
        let mut valid_nbytes = 0usize;
        // SAFETY: as above; the length passed is the true length of the buffer.
        let rc = unsafe {
            blosc_src::blosc_cbuffer_validate(input.as_ptr().cast(), input.len(), &mut valid_nbytes)
        };
        if rc < 0 {
            return Err(CodecError::corrupt(ID, "invalid blosc header"));
        }
        Ok(nbytes)
    }
}

impl Codec for Blosc {
    fn id(&self) -> &'static str {
        ID
    }

    fn encode(&self, input: &[u8], itemsize: usize) -> CodecResult<Vec<u8>> {
        if input.len() > MAX_BUFFERSIZE {
            return Err(CodecError::new(
                crate::CodecErrorKind::TooLarge,
                ID,
                format!(
                    "blosc cannot compress more than {MAX_BUFFERSIZE} bytes, got {}",
                    input.len()
                ),
            ));
        }
        let typesize = self.typesize.unwrap_or(itemsize).max(1);
        let shuffle = match self.shuffle {
            -1 if typesize == 1 => blosc_src::BLOSC_BITSHUFFLE as c_int,
            -1 => blosc_src::BLOSC_SHUFFLE as c_int,
            s => s as c_int,
        };
        let mut out = vec![0u8; input.len() + MAX_OVERHEAD];
        // SAFETY: `input` and `out` are valid for the lengths passed; the ctx function keeps no
        // global state; `cname` is NUL-terminated.
        let n = unsafe {
            blosc_src::blosc_compress_ctx(
                self.clevel,
                shuffle,
                typesize,
                input.len(),
                input.as_ptr().cast::<c_void>(),
                out.as_mut_ptr().cast::<c_void>(),
                out.len(),
                self.cname.as_ptr(),
                self.blocksize,
                1,
            )
        };
        if n <= 0 {
            return Err(CodecError::internal(
                ID,
                format!("blosc_compress_ctx failed with code {n}"),
            ));
        }
        out.truncate(n as usize);
        Ok(out)
    }

    fn decode_into(&self, input: &[u8], out: &mut [u8], itemsize: usize) -> CodecResult<()> {
        self.decode_into_threaded(input, out, itemsize, 1)
    }

    fn decode_into_threaded(
        &self,
        input: &[u8],
        out: &mut [u8],
        _itemsize: usize,
        threads: usize,
    ) -> CodecResult<()> {
        let nbytes = Self::checked_nbytes(input, out.len())?;
        // Below this, blosc has too few blocks (and too little work) to repay starting threads.
        const PARALLEL_MIN: usize = 1 << 20;
        let threads = if nbytes >= PARALLEL_MIN {
            threads.clamp(1, 16)
        } else {
            1
        };
        if nbytes == 0 {
            return Ok(());
        }
        // SAFETY: the header was validated against the blob's true length, `out` is exactly the
        // `nbytes` the header states, and c-blosc checks block offsets against `cbytes`.
        let n = unsafe {
            blosc_src::blosc_decompress_ctx(
                input.as_ptr().cast(),
                out.as_mut_ptr().cast(),
                out.len(),
                threads as c_int,
            )
        };
        if n < 0 || n as usize != out.len() {
            return Err(CodecError::corrupt(
                ID,
                format!("blosc_decompress_ctx failed with code {n}"),
            ));
        }
        Ok(())
    }

    fn encoded_len(&self, _decoded_len: usize, _itemsize: usize) -> CodecResult<Option<usize>> {
        Ok(None)
    }

    fn decode_unsized(
        &self,
        input: &[u8],
        max_len: usize,
        itemsize: usize,
    ) -> CodecResult<Vec<u8>> {
        if input.len() < MIN_HEADER_LENGTH {
            return Err(CodecError::corrupt(
                ID,
                format!("{} bytes is shorter than a blosc header", input.len()),
            ));
        }
        // Header bytes 4..8: the decoded size, little-endian; checked in full by decode_into.
        let nbytes = u32::from_le_bytes(input[4..8].try_into().expect("4 bytes")) as usize;
        if nbytes > max_len {
            return Err(crate::compressors::stream::over_limit(ID, max_len));
        }
        let mut out = vec![0u8; nbytes];
        self.decode_into(input, &mut out, itemsize)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CodecErrorKind;
    use serde_json::json;

    fn roundtrip(config: Value, data: &[u8], itemsize: usize) {
        let b = Blosc::from_json(&config).unwrap();
        let enc = b.encode(data, itemsize).unwrap();
        let mut out = vec![0u8; data.len()];
        b.decode_into(&enc, &mut out, itemsize).unwrap();
        assert_eq!(out, data, "{config}");
    }

    #[test]
    fn roundtrips_every_cname_and_shuffle() {
        let data: Vec<u8> = (0..10_007u32).map(|i| (i % 251) as u8).collect();
        for cname in CNAMES {
            for shuffle in -1..=2 {
                for itemsize in [1, 2, 4, 8] {
                    roundtrip(
                        json!({"id": "blosc", "cname": cname, "clevel": 5, "shuffle": shuffle, "blocksize": 0}),
                        &data,
                        itemsize,
                    );
                }
            }
        }
        roundtrip(json!({"id": "blosc"}), &[], 4);
    }

    #[test]
    fn decodes_large_chunks_on_several_threads() {
        // 3 MiB of u16 in blocks of 64 KiB: decoded on 1 and on 4 threads alike, and a truncated
        // blob is an error either way.
        let data: Vec<u8> = (0..(3u32 << 19))
            .flat_map(|i| ((i / 7 % 4099) as u16).to_le_bytes())
            .collect();
        for cname in ["lz4", "zstd"] {
            let b = Blosc::from_json(
                &json!({"id": "blosc", "cname": cname, "clevel": 5, "shuffle": 1, "blocksize": 65536}),
            )
            .unwrap();
            let mut enc = b.encode(&data, 2).unwrap();
            for threads in [1, 2, 4] {
                let mut out = vec![0u8; data.len()];
                b.decode_into_threaded(&enc, &mut out, 2, threads).unwrap();
                assert!(out == data, "{cname} on {threads} threads");
            }
            enc.truncate(enc.len() / 2);
            let mut out = vec![0u8; data.len()];
            assert!(
                b.decode_into_threaded(&enc, &mut out, 2, 4).is_err(),
                "{cname}"
            );
        }
    }

    #[test]
    fn refuses_huge_nbytes_without_allocating() {
        let b = Blosc::from_json(&json!({"id": "blosc"})).unwrap();
        let mut enc = b.encode(&[1u8; 64], 1).unwrap();
        enc[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        let mut out = vec![0u8; 64];
        assert_eq!(
            b.decode_into(&enc, &mut out, 1).unwrap_err().kind(),
            CodecErrorKind::TooLarge
        );
        enc[4..8].copy_from_slice(&65u32.to_le_bytes());
        assert_eq!(
            b.decode_into(&enc, &mut out, 1).unwrap_err().kind(),
            CodecErrorKind::SizeMismatch
        );
    }

    #[test]
    fn rejects_unknown_cname() {
        let e = Blosc::from_json(&json!({"id": "blosc", "cname": "brotli"})).unwrap_err();
        assert_eq!(e.kind(), CodecErrorKind::InvalidConfig);
        let e = Blosc::from_json(&json!({"id": "blosc", "cname": "snappy"})).unwrap_err();
        assert_eq!(e.kind(), CodecErrorKind::Unsupported);
    }
}

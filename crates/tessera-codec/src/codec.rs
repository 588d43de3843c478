//! The trait every codec implements, and the table from numcodecs id to implementation.

use std::fmt::Debug;
use std::sync::Arc;

use serde_json::Value;

use crate::compressors::{blosc, bz2, gzip, lz4, lzma, pcodec, zlib, zstd};
use crate::error::{CodecError, CodecErrorKind, CodecResult};
use crate::filters::{
    astype, base64, bitround, categorize, checksum32, delta, fixedscaleoffset, fletcher32,
    jenkins_lookup3, packbits, quantize, shuffle,
};

/// One numcodecs codec, built from its JSON config: a compressor or a filter.
///
/// Implementations are immutable after construction, so one value can encode and decode
/// from many threads at once.
pub trait Codec: Send + Sync + Debug {
    /// The numcodecs id (`"blosc"`, `"delta"`, ...).
    fn id(&self) -> &'static str;

    /// Encodes `input`, whose elements are `itemsize` bytes wide (what blosc uses as its
    /// typesize; filters that read a dtype from their config ignore it).
    fn encode(&self, input: &[u8], itemsize: usize) -> CodecResult<Vec<u8>>;

    /// Encodes `input` knowing the chunk as numcodecs receives it: its numpy dtype and shape.
    /// Codecs that store the element type (pcodec) or work on the shape need this; the
    /// default calls [`encode`](Self::encode) with the layout's itemsize.
    fn encode_chunk(&self, input: &[u8], layout: &ChunkLayout) -> CodecResult<Vec<u8>> {
        self.encode(input, layout.itemsize())
    }

    /// Decodes `input` into `out`, which must end up exactly full: data that decodes to more or
    /// fewer bytes is an error ([`CodecErrorKind::SizeMismatch`] or [`CodecErrorKind::TooLarge`]),
    /// and nothing is written or allocated beyond `out`'s length plus small scratch space.
    fn decode_into(&self, input: &[u8], out: &mut [u8], itemsize: usize) -> CodecResult<()>;

    /// As [`decode_into`](Self::decode_into), allowed to use up to `threads` threads inside this one
    /// call: callers decoding fewer chunks than there are cores pass the spare ones (blosc then
    /// decompresses its blocks in parallel); callers already running one chunk per core pass 1. The
    /// default ignores `threads`.
    fn decode_into_threaded(
        &self,
        input: &[u8],
        out: &mut [u8],
        itemsize: usize,
        threads: usize,
    ) -> CodecResult<()> {
        let _ = threads;
        self.decode_into(input, out, itemsize)
    }

    /// The encoded size of `decoded_len` bytes, when it depends only on that size (filters);
    /// `None` when it depends on the data (compressors).
    fn encoded_len(&self, decoded_len: usize, itemsize: usize) -> CodecResult<Option<usize>>;

    /// The element size of the encoded output: the itemsize the next codec in the chain sees
    /// (numcodecs passes on the output array's dtype, so e.g. `packbits` or `shuffle` yield 1).
    fn encoded_itemsize(&self, itemsize: usize) -> usize {
        itemsize
    }

    /// Decodes `input` whose decoded size is not known in advance (what a variable-length
    /// object codec such as `vlen-utf8` produced), refusing to produce more than `max_len` bytes
    /// ([`CodecErrorKind::TooLarge`]). Memory grows with the output actually produced, never with
    /// a size a header claims. Compressors implement it; filters, whose input size follows from
    /// their output size, do not ([`CodecErrorKind::Unsupported`]).
    fn decode_unsized(
        &self,
        input: &[u8],
        max_len: usize,
        itemsize: usize,
    ) -> CodecResult<Vec<u8>> {
        let _ = (input, max_len, itemsize);
        Err(CodecError::unsupported(
            self.id(),
            "this codec cannot follow a variable-length object codec (its decoded size is unknown)",
        ))
    }
}

/// A chunk as numcodecs' codecs see it: the numpy array zarr-python hands to the first codec
/// (the array's dtype and the chunk's shape), or the flat buffer a filter passes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkLayout {
    dtype: Option<String>,
    itemsize: usize,
    shape: Vec<usize>,
}

impl ChunkLayout {
    /// A chunk of numpy dtype `dtype` (a typestr such as `"<f4"`), `itemsize` bytes per
    /// element, of shape `shape` (C order).
    pub fn new(dtype: &str, itemsize: usize, shape: Vec<usize>) -> ChunkLayout {
        ChunkLayout {
            dtype: Some(dtype.to_owned()),
            itemsize,
            shape,
        }
    }

    /// A one-dimensional buffer of `len` bytes whose element type is unknown beyond its size:
    /// what [`CodecChain::encode`](crate::CodecChain::encode) passes, and what follows a filter.
    pub fn untyped(itemsize: usize, len: usize) -> ChunkLayout {
        ChunkLayout {
            dtype: None,
            itemsize,
            shape: vec![len / itemsize.max(1)],
        }
    }

    /// The numpy typestr, when known.
    pub fn dtype(&self) -> Option<&str> {
        self.dtype.as_deref()
    }

    /// Bytes per element.
    pub fn itemsize(&self) -> usize {
        self.itemsize
    }

    /// The chunk's shape in elements.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }
}

/// Builds the codec a numcodecs JSON config describes (`{"id": "zstd", "level": 3}`).
///
/// # Errors
/// [`CodecErrorKind::UnknownCodec`] for an id this crate does not know,
/// [`CodecErrorKind::InvalidConfig`] for a malformed config, [`CodecErrorKind::Unsupported`] for a
/// known codec or option that is not implemented.
pub fn codec_from_json(config: &Value) -> CodecResult<Arc<dyn Codec>> {
    let id = config.get("id").and_then(Value::as_str).ok_or_else(|| {
        CodecError::invalid(
            "chain",
            format!("codec config has no string \"id\": {config}"),
        )
    })?;
    Ok(match id {
        blosc::ID => Arc::new(blosc::Blosc::from_json(config)?),
        zstd::ID => Arc::new(zstd::Zstd::from_json(config)?),
        zlib::ID => Arc::new(zlib::Zlib::from_json(config)?),
        gzip::ID => Arc::new(gzip::GZip::from_json(config)?),
        bz2::ID => Arc::new(bz2::Bz2::from_json(config)?),
        lzma::ID => Arc::new(lzma::Lzma::from_json(config)?),
        lz4::ID => Arc::new(lz4::Lz4::from_json(config)?),
        pcodec::ID => Arc::new(pcodec::Pcodec::from_json(config)?),
        #[cfg(feature = "zfp")]
        crate::compressors::zfpy::ID => {
            Arc::new(crate::compressors::zfpy::Zfpy::from_json(config)?)
        }
        #[cfg(not(feature = "zfp"))]
        "zfpy" => {
            return Err(CodecError::unsupported(
                "zfpy",
                "this build of tessera-codec has no zfp: enable its `zfp` cargo feature \
                 (building the zfp C library's bindings needs libclang)",
            ));
        }
        delta::ID => Arc::new(delta::Delta::from_json(config)?),
        fixedscaleoffset::ID => Arc::new(fixedscaleoffset::FixedScaleOffset::from_json(config)?),
        quantize::ID => Arc::new(quantize::Quantize::from_json(config)?),
        shuffle::ID => Arc::new(shuffle::Shuffle::from_json(config)?),
        packbits::ID => Arc::new(packbits::PackBits::from_json(config)?),
        astype::ID => Arc::new(astype::AsType::from_json(config)?),
        categorize::ID => Arc::new(categorize::Categorize::from_json(config)?),
        bitround::ID => Arc::new(bitround::BitRound::from_json(config)?),
        checksum32::CRC32_ID | checksum32::ADLER32_ID | checksum32::CRC32C_ID => {
            Arc::new(checksum32::Checksum32::from_json(config)?)
        }
        fletcher32::ID => Arc::new(fletcher32::Fletcher32::from_json(config)?),
        jenkins_lookup3::ID => Arc::new(jenkins_lookup3::JenkinsLookup3::from_json(config)?),
        base64::ID => Arc::new(base64::Base64::from_json(config)?),
        "vlen-utf8" | "vlen-bytes" | "vlen-array" | "json2" | "msgpack2" | "pickle" => {
            return Err(CodecError::new(
                CodecErrorKind::Unsupported,
                id,
                "this numcodecs codec is not implemented by tessera",
            ));
        }
        other => {
            return Err(CodecError::new(
                CodecErrorKind::UnknownCodec,
                other,
                "no codec with this id",
            ));
        }
    })
}

//! [`ChunkCodecs`]: the codecs that turn one chunk's bytes into what is stored, in both formats.
//!
//! A Zarr v2 chunk is encoded by its filters and compressor ([`CodecChain`]). A Zarr v3 chunk is encoded
//! by a list of codecs; once `transpose` is read as the element order inside the chunk and `bytes` as the
//! stored byte order of the data type, the rest maps onto the same chain, except that v3 allows checksums
//! (`crc32c`) *after* a compressor. Those trailing checksums are kept apart here: on decode they are
//! verified and stripped first, so the chain below never has to guess the size a compressor produces.

use std::sync::Arc;

use std::borrow::Cow;

use tessera_codec::object::ObjectValues;
use tessera_codec::{
    ChunkLayout, Codec, CodecChain, CodecError, CodecErrorKind, CodecResult, Value, codec_from_json,
};

/// The encoding of one chunk: a [`CodecChain`] followed by checksums that wrap its output.
///
/// Immutable and cheap to clone; used from many threads at once.
#[derive(Clone, Debug)]
pub struct ChunkCodecs {
    chain: CodecChain,
    checksums: Vec<Arc<dyn Codec>>,
    checksum_configs: Vec<Value>,
}

impl ChunkCodecs {
    /// Raw bytes, no codec.
    pub fn identity() -> ChunkCodecs {
        ChunkCodecs::from_chain(CodecChain::identity())
    }

    /// The codecs of a v2 chain.
    pub fn from_chain(chain: CodecChain) -> ChunkCodecs {
        ChunkCodecs {
            chain,
            checksums: Vec::new(),
            checksum_configs: Vec::new(),
        }
    }

    /// A chain (numcodecs configs: `stages` in encoding order) followed by `checksums` (numcodecs configs
    /// of size-preserving-plus-constant codecs such as `crc32c`), applied after the chain on encode.
    ///
    /// # Errors
    /// As [`CodecChain::from_json`]; a checksum config whose codec's output size depends on the data.
    pub fn new(stages: &[Value], checksums: &[Value]) -> CodecResult<ChunkCodecs> {
        let chain = CodecChain::from_json(None, (!stages.is_empty()).then_some(stages))?;
        ChunkCodecs::with_checksums(chain, checksums)
    }

    /// The codecs of a variable-length chunk (Zarr v3 `string`/`bytes`): `object` (a numcodecs
    /// object codec config such as `{"id": "vlen-utf8"}`) turns the values into bytes, `compressor`
    /// (if any) compresses them, `checksums` wrap the result.
    ///
    /// # Errors
    /// As [`CodecChain::from_json`] and [`ChunkCodecs::new`].
    pub fn for_objects(
        object: &Value,
        compressor: Option<&Value>,
        checksums: &[Value],
    ) -> CodecResult<ChunkCodecs> {
        let chain = CodecChain::from_json(compressor, Some(std::slice::from_ref(object)))?;
        ChunkCodecs::with_checksums(chain, checksums)
    }

    fn with_checksums(chain: CodecChain, checksums: &[Value]) -> CodecResult<ChunkCodecs> {
        let built = checksums
            .iter()
            .map(|c| {
                let codec = codec_from_json(c)?;
                if codec.encoded_len(0, 1)?.is_none() {
                    return Err(CodecError::new(
                        CodecErrorKind::Unsupported,
                        codec.id(),
                        "only checksums may follow a compressor",
                    ));
                }
                Ok(codec)
            })
            .collect::<CodecResult<Vec<_>>>()?;
        Ok(ChunkCodecs {
            chain,
            checksums: built,
            checksum_configs: checksums.to_vec(),
        })
    }

    /// The chain (filters and compressor) inside the checksums.
    pub fn chain(&self) -> &CodecChain {
        &self.chain
    }

    /// The numcodecs configs of the trailing checksums, in encoding order.
    pub fn checksums_json(&self) -> &[Value] {
        &self.checksum_configs
    }

    /// True when stored bytes are the chunk's raw bytes.
    pub fn is_identity(&self) -> bool {
        self.chain.is_identity() && self.checksums.is_empty()
    }

    /// Encodes one chunk of elements `itemsize` bytes wide.
    ///
    /// # Errors
    /// Codec errors.
    pub fn encode(&self, decoded: &[u8], itemsize: usize) -> CodecResult<Vec<u8>> {
        self.encode_chunk(decoded, &ChunkLayout::untyped(itemsize, decoded.len()))
    }

    /// Encodes one chunk whose dtype and shape are known (`layout`; pcodec stores the dtype).
    ///
    /// # Errors
    /// Codec errors.
    pub fn encode_chunk(&self, decoded: &[u8], layout: &ChunkLayout) -> CodecResult<Vec<u8>> {
        let mut data = self.chain.encode_chunk(decoded, layout)?;
        for c in &self.checksums {
            data = c.encode(&data, 1)?;
        }
        Ok(data)
    }

    /// Encodes one chunk of an object array holding `shape`'s values (see
    /// [`CodecChain::encode_objects`]), then its checksums.
    ///
    /// # Errors
    /// Codec errors, as [`CodecChain::encode_objects`].
    pub fn encode_objects(&self, values: &ObjectValues, shape: &[usize]) -> CodecResult<Vec<u8>> {
        let mut data = self.chain.encode_objects(values, shape)?;
        for c in &self.checksums {
            data = c.encode(&data, 1)?;
        }
        Ok(data)
    }

    /// Verifies and strips the checksums, then decodes one chunk of an object array holding
    /// `shape`'s values (see [`CodecChain::decode_objects`]).
    ///
    /// # Errors
    /// Codec errors, as [`CodecChain::decode_objects`]; a checksum mismatch.
    pub fn decode_objects(&self, encoded: &[u8], shape: &[usize]) -> CodecResult<ObjectValues> {
        let inner = self.strip_checksums(encoded)?;
        self.chain.decode_objects(&inner, shape)
    }

    /// Decodes one chunk into `out` (exactly the decoded chunk's length).
    ///
    /// # Errors
    /// Codec errors: a checksum mismatch, data that decodes to the wrong size, corrupt input.
    pub fn decode_into(&self, encoded: &[u8], out: &mut [u8], itemsize: usize) -> CodecResult<()> {
        self.decode_into_threaded(encoded, out, itemsize, 1)
    }

    /// As [`decode_into`](Self::decode_into), letting the compressor use up to `threads` threads
    /// inside this chunk (for reads that touch fewer chunks than there are cores).
    ///
    /// # Errors
    /// As [`decode_into`](Self::decode_into).
    pub fn decode_into_threaded(
        &self,
        encoded: &[u8],
        out: &mut [u8],
        itemsize: usize,
        threads: usize,
    ) -> CodecResult<()> {
        let inner = self.strip_checksums(encoded)?;
        self.chain
            .decode_into_threaded(&inner, out, itemsize, threads)
    }

    /// The chain's output inside the trailing checksums, each verified.
    fn strip_checksums<'a>(&self, encoded: &'a [u8]) -> CodecResult<Cow<'a, [u8]>> {
        if self.checksums.is_empty() {
            return Ok(Cow::Borrowed(encoded));
        }
        let mut current = encoded.to_vec();
        for c in self.checksums.iter().rev() {
            // A checksum adds a fixed number of bytes: the decoded length is the input's less that.
            let overhead = c.encoded_len(0, 1)?.unwrap_or(0);
            let len = current.len().checked_sub(overhead).ok_or_else(|| {
                CodecError::new(
                    CodecErrorKind::Corrupt,
                    c.id(),
                    format!(
                        "{} bytes cannot hold its {overhead}-byte checksum",
                        current.len()
                    ),
                )
            })?;
            let mut next = vec![0u8; len];
            c.decode_into(&current, &mut next, 1)?;
            current = next;
        }
        Ok(Cow::Owned(current))
    }
}

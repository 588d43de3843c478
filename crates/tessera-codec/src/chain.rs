//! [`CodecChain`]: the filters and compressor of one Zarr v2 array.

use std::borrow::Cow;
use std::sync::Arc;

use serde_json::Value;

use crate::codec::{ChunkLayout, Codec, codec_from_json};
use crate::error::{CodecError, CodecResult};
use crate::object::{ObjectCodec, ObjectValues};

/// One codec with the exact config it was built from.
#[derive(Clone, Debug)]
struct Stage {
    config: Value,
    codec: Arc<dyn Codec>,
}

impl Stage {
    fn new(config: &Value) -> CodecResult<Stage> {
        Ok(Stage {
            config: config.clone(),
            codec: codec_from_json(config)?,
        })
    }
}

/// The filters and compressor of one Zarr v2 array, in `.zarray` order: encoding runs the
/// filters in order and then the compressor; decoding runs the compressor and then the
/// filters in reverse.
///
/// The chain keeps the JSON configs exactly as read, so a `.zarray` read and written back is
/// unchanged (fields, their order and values, including ones tessera does not interpret).
///
/// It is immutable, cheap to clone (the codecs are shared) and may be used from many threads at
/// once: tessera encodes and decodes chunks in parallel, one chunk per task.
///
/// ```
/// use tessera_codec::{CodecChain, Value, default_compressor_json};
/// let filters = [serde_json::json!({"id": "delta", "dtype": "<i8"})];
/// let chain = CodecChain::from_json(Some(&default_compressor_json()), Some(&filters))?;
/// let data: Vec<u8> = (0i64..1000).flat_map(|v| v.to_le_bytes()).collect();
/// let blob = chain.encode(&data, 8)?;
/// assert!(blob.len() < data.len() / 10);
/// let mut out = vec![0u8; data.len()];
/// chain.decode_into(&blob, &mut out, 8)?;
/// assert_eq!(out, data);
/// assert_eq!(chain.filters_json(), Some(filters.to_vec()));
/// # Ok::<(), tessera_codec::CodecError>(())
/// ```
#[derive(Clone, Debug)]
pub struct CodecChain {
    /// The object codec (`vlen-utf8`, ...) of an object array: always the first filter.
    object: Option<ObjectCodec>,
    /// The filters after the object codec, if any.
    filters: Option<Vec<Stage>>,
    compressor: Option<Stage>,
}

impl CodecChain {
    /// A chain with no filters and no compressor: chunks are stored as raw bytes.
    pub fn identity() -> CodecChain {
        CodecChain {
            object: None,
            filters: None,
            compressor: None,
        }
    }

    /// Builds the chain from `.zarray`'s `compressor` (JSON null or absent: `None`) and
    /// `filters` (null: `None`; an empty list is kept as an empty list).
    ///
    /// # Errors
    /// [`CodecErrorKind::UnknownCodec`](crate::CodecErrorKind::UnknownCodec) for an unknown id,
    /// [`CodecErrorKind::InvalidConfig`](crate::CodecErrorKind::InvalidConfig) for a malformed
    /// config, [`CodecErrorKind::Unsupported`](crate::CodecErrorKind::Unsupported) for a known
    /// but unimplemented codec or option, or a compressor used as a filter anywhere but last.
    pub fn from_json(
        compressor: Option<&Value>,
        filters: Option<&[Value]>,
    ) -> CodecResult<CodecChain> {
        let compressor = compressor.filter(|c| !c.is_null());
        let id_of = |c: &Value| c.get("id").and_then(Value::as_str).map(str::to_string);
        if let Some(id) = compressor
            .and_then(id_of)
            .filter(|id| ObjectCodec::is_object_id(id))
        {
            return Err(CodecError::unsupported(
                &id,
                "an object codec as the compressor: it must be the first filter",
            ));
        }
        let compressor = compressor.map(Stage::new).transpose()?;
        // An object codec turns the array's values into bytes, so it can only come first.
        let (object, filters) = match filters {
            Some([first, rest @ ..])
                if id_of(first).is_some_and(|id| ObjectCodec::is_object_id(&id)) =>
            {
                (Some(ObjectCodec::from_json(first)?), Some(rest))
            }
            other => (None, other),
        };
        let filters = filters
            .map(|fs| {
                fs.iter()
                    .map(
                        |f| match id_of(f).filter(|id| ObjectCodec::is_object_id(id)) {
                            Some(id) => Err(CodecError::unsupported(
                                &id,
                                "an object codec must be the first filter",
                            )),
                            None => Stage::new(f),
                        },
                    )
                    .collect::<CodecResult<Vec<_>>>()
            })
            .transpose()?;
        if let Some(o) = &object
            && filters.as_ref().is_some_and(|f| !f.is_empty())
        {
            return Err(CodecError::unsupported(
                o.id(),
                "filters after an object codec are not supported (only a compressor)",
            ));
        }
        let chain = CodecChain {
            object,
            filters,
            compressor,
        };
        // A codec whose output size depends on the data can only be decoded last, where the
        // input is the stored blob; anywhere else the stage before it would not know how much
        // to decode.
        let stages = chain.filter_stages();
        for (i, f) in stages.iter().enumerate() {
            let last = i + 1 == stages.len() && chain.compressor.is_none();
            if !last && is_compressor(f) {
                return Err(CodecError::unsupported(
                    f.codec.id(),
                    "a compressor in the filter list is supported only as the last codec of the chain",
                ));
            }
        }
        Ok(chain)
    }

    /// The compressor config exactly as read (`None` for no compressor).
    pub fn compressor_json(&self) -> Option<Value> {
        self.compressor.as_ref().map(|s| s.config.clone())
    }

    /// The filter configs exactly as read (`None` when `.zarray` had `filters: null`).
    pub fn filters_json(&self) -> Option<Vec<Value>> {
        let object = self.object.iter().map(|o| o.config().clone());
        self.filters
            .as_ref()
            .map(|fs| object.chain(fs.iter().map(|s| s.config.clone())).collect())
    }

    /// The object codec of an object (`|O`) array: the first filter, when it is one of
    /// `vlen-utf8`, `vlen-bytes`, `vlen-array`, `json2`, `msgpack2`.
    pub fn object_codec(&self) -> Option<&ObjectCodec> {
        self.object.as_ref()
    }

    /// Encodes one chunk of an object array: the object codec, then the compressor.
    ///
    /// # Errors
    /// [`CodecErrorKind::InvalidConfig`](crate::CodecErrorKind::InvalidConfig) when the chain
    /// has no object codec or the values do not fit it; compression errors.
    pub fn encode_objects(&self, values: &ObjectValues, shape: &[usize]) -> CodecResult<Vec<u8>> {
        let object = self.object.as_ref().ok_or_else(|| {
            CodecError::invalid("chain", "object values for a chain without an object codec")
        })?;
        let bytes = object.encode(values, shape)?;
        match &self.compressor {
            // numcodecs hands the compressor a uint8 buffer: blosc's typesize is 1.
            Some(c) => c.codec.encode(&bytes, 1),
            None => Ok(bytes),
        }
    }

    /// Decodes one chunk of an object array holding `shape`'s element count of values.
    ///
    /// The compressor's output size is not known in advance; it may be at most
    /// [`object::max_decoded_len`](crate::object::max_decoded_len) of the element count, and
    /// memory grows with what is actually decoded.
    ///
    /// # Errors
    /// [`CodecErrorKind::InvalidConfig`](crate::CodecErrorKind::InvalidConfig) without an object
    /// codec; [`CodecErrorKind::TooLarge`](crate::CodecErrorKind::TooLarge) past the limit;
    /// the object codec's and compressor's decoding errors.
    pub fn decode_objects(&self, encoded: &[u8], shape: &[usize]) -> CodecResult<ObjectValues> {
        let object = self.object.as_ref().ok_or_else(|| {
            CodecError::invalid(
                "chain",
                "object decoding for a chain without an object codec",
            )
        })?;
        let count = shape
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d))
            .unwrap_or(usize::MAX);
        match &self.compressor {
            Some(c) => {
                let bytes =
                    c.codec
                        .decode_unsized(encoded, crate::object::max_decoded_len(count), 1)?;
                object.decode(&bytes, shape)
            }
            None => object.decode(encoded, shape),
        }
    }

    fn refuse_objects(&self) -> CodecResult<()> {
        match &self.object {
            Some(o) => Err(CodecError::invalid(
                o.id(),
                "an object codec's chunks hold values, not fixed-size bytes: use encode_objects/decode_objects",
            )),
            None => Ok(()),
        }
    }

    /// True when there are no filters and no compressor: a chunk's stored bytes are its raw
    /// bytes, and the caller may copy them directly.
    pub fn is_identity(&self) -> bool {
        self.object.is_none() && self.compressor.is_none() && self.filter_stages().is_empty()
    }

    fn filter_stages(&self) -> &[Stage] {
        self.filters.as_deref().unwrap_or_default()
    }

    /// The itemsize each filter sees, and the compressor's last: `sizes[i]` is the input of
    /// filter `i`, `sizes[n]` the compressor's.
    fn itemsizes(&self, itemsize: usize) -> Vec<usize> {
        let mut sizes = vec![itemsize];
        for f in self.filter_stages() {
            let next = f.codec.encoded_itemsize(*sizes.last().expect("non-empty"));
            sizes.push(next);
        }
        sizes
    }

    /// The element size the compressor sees (blosc's typesize), given the array's itemsize:
    /// the itemsize after every filter's type change.
    pub fn compressor_itemsize(&self, itemsize: usize) -> usize {
        *self.itemsizes(itemsize).last().expect("non-empty")
    }

    /// Encodes one chunk: `decoded` is the chunk's raw bytes in the array's dtype, `itemsize`
    /// bytes per element (blosc's typesize unless a filter changes the element type first).
    ///
    /// # Errors
    /// [`CodecErrorKind::InvalidConfig`](crate::CodecErrorKind::InvalidConfig) when a filter's
    /// dtype does not divide the chunk, or a compression library error.
    pub fn encode(&self, decoded: &[u8], itemsize: usize) -> CodecResult<Vec<u8>> {
        self.encode_chunk(decoded, &ChunkLayout::untyped(itemsize, decoded.len()))
    }

    /// Encodes one chunk whose numpy dtype and shape are known (`layout`), as zarr-python hands
    /// a chunk to numcodecs: the first codec sees the dtype and shape, a codec after a filter a
    /// flat buffer of the filter's itemsize. pcodec needs the dtype; the other codecs encode as
    /// [`encode`](Self::encode) does.
    ///
    /// # Errors
    /// As [`encode`](Self::encode); [`CodecErrorKind::Unsupported`](crate::CodecErrorKind::Unsupported)
    /// for a dtype a codec cannot store.
    pub fn encode_chunk(&self, decoded: &[u8], layout: &ChunkLayout) -> CodecResult<Vec<u8>> {
        self.refuse_objects()?;
        let itemsizes = self.itemsizes(layout.itemsize());
        let mut data: Cow<'_, [u8]> = Cow::Borrowed(decoded);
        let mut first = true;
        let stage_layout = |first: bool, data: &[u8], isz: usize| {
            if first {
                layout.clone()
            } else {
                ChunkLayout::untyped(isz, data.len())
            }
        };
        for (f, &isz) in self.filter_stages().iter().zip(&itemsizes) {
            let l = stage_layout(first, &data, isz);
            data = Cow::Owned(f.codec.encode_chunk(&data, &l)?);
            first = false;
        }
        match &self.compressor {
            Some(c) => {
                let isz = *itemsizes.last().expect("non-empty");
                c.codec
                    .encode_chunk(&data, &stage_layout(first, &data, isz))
            }
            None => Ok(data.into_owned()),
        }
    }

    /// Decodes one chunk into `out`, whose length is exactly the decoded chunk size.
    ///
    /// Every intermediate buffer has the size the filters derive from `out.len()`; nothing is
    /// allocated from sizes the data claims, so a decompression bomb or a lying header costs
    /// at most a 64 KiB scratch buffer.
    ///
    /// # Errors
    /// [`CodecErrorKind::SizeMismatch`](crate::CodecErrorKind::SizeMismatch) when the data
    /// decodes to more or fewer bytes than `out.len()`,
    /// [`CodecErrorKind::TooLarge`](crate::CodecErrorKind::TooLarge) when it claims or produces
    /// far more, [`CodecErrorKind::Corrupt`](crate::CodecErrorKind::Corrupt) for truncated or
    /// garbage input or a checksum mismatch.
    pub fn decode_into(&self, encoded: &[u8], out: &mut [u8], itemsize: usize) -> CodecResult<()> {
        self.decode_into_threaded(encoded, out, itemsize, 1)
    }

    /// As [`decode_into`](Self::decode_into), letting the compressor use up to `threads` threads
    /// (see [`Codec::decode_into_threaded`]).
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
        self.refuse_objects()?;
        let filters = self.filter_stages();
        let itemsizes = self.itemsizes(itemsize);
        // sizes[i]: the decoded length filter i produces; sizes[n]: the compressor's output.
        let mut sizes: Vec<Option<usize>> = vec![Some(out.len())];
        for (f, &isz) in filters.iter().zip(&itemsizes) {
            let next = match sizes.last().copied().flatten() {
                Some(len) => f.codec.encoded_len(len, isz)?,
                None => None,
            };
            sizes.push(next);
        }
        let n = filters.len();
        // The compressor's output, or the stored blob when there is no compressor.
        let mut current: Cow<'_, [u8]> = match &self.compressor {
            None => Cow::Borrowed(encoded),
            Some(c) if n == 0 => {
                return c
                    .codec
                    .decode_into_threaded(encoded, out, itemsizes[n], threads);
            }
            Some(c) => {
                let len = sizes[n]
                    .ok_or_else(|| CodecError::internal("chain", "unknown intermediate size"))?;
                let mut buf = vec![0u8; len];
                c.codec
                    .decode_into_threaded(encoded, &mut buf, itemsizes[n], threads)?;
                Cow::Owned(buf)
            }
        };
        if n == 0 {
            if current.len() != out.len() {
                return Err(CodecError::size("chain", out.len(), current.len() as u64));
            }
            out.copy_from_slice(&current);
            return Ok(());
        }
        for i in (0..n).rev() {
            let f = &filters[i];
            if let Some(expected) = sizes[i + 1]
                && current.len() != expected
            {
                return Err(CodecError::size(
                    f.codec.id(),
                    expected,
                    current.len() as u64,
                ));
            }
            if i == 0 {
                return f.codec.decode_into(&current, out, itemsizes[0]);
            }
            let len = sizes[i]
                .ok_or_else(|| CodecError::internal("chain", "unknown intermediate size"))?;
            let mut buf = vec![0u8; len];
            f.codec.decode_into(&current, &mut buf, itemsizes[i])?;
            current = Cow::Owned(buf);
        }
        Ok(())
    }

    /// Decodes one chunk into a new buffer of `decoded_len` bytes; see
    /// [`decode_into`](Self::decode_into).
    pub fn decode(
        &self,
        encoded: &[u8],
        decoded_len: usize,
        itemsize: usize,
    ) -> CodecResult<Vec<u8>> {
        let mut out = vec![0u8; decoded_len];
        self.decode_into(encoded, &mut out, itemsize)?;
        Ok(out)
    }
}

fn is_compressor(stage: &Stage) -> bool {
    use crate::compressors::{blosc, bz2, gzip, lz4, lzma, pcodec, zlib, zstd};
    [
        blosc::ID,
        bz2::ID,
        gzip::ID,
        lz4::ID,
        lzma::ID,
        pcodec::ID,
        "zfpy",
        zlib::ID,
        zstd::ID,
    ]
    .contains(&stage.codec.id())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CodecErrorKind;
    use serde_json::json;

    #[test]
    fn keeps_configs_as_read() {
        let c = json!({"id": "zstd", "level": 1});
        let chain = CodecChain::from_json(Some(&c), Some(&[])).unwrap();
        assert_eq!(chain.compressor_json(), Some(c));
        assert_eq!(chain.filters_json(), Some(vec![]));
        assert!(!chain.is_identity());
        let chain = CodecChain::from_json(Some(&Value::Null), None).unwrap();
        assert!(chain.is_identity());
        assert_eq!(chain.compressor_json(), None);
        assert_eq!(chain.filters_json(), None);
    }

    #[test]
    fn unknown_and_misplaced_codecs() {
        let e = CodecChain::from_json(Some(&json!({"id": "nope"})), None).unwrap_err();
        assert_eq!(e.kind(), CodecErrorKind::UnknownCodec);
        let e = CodecChain::from_json(Some(&json!({"id": "zstd"})), Some(&[json!({"id": "zlib"})]))
            .unwrap_err();
        assert_eq!(e.kind(), CodecErrorKind::Unsupported);
        // A compressor as the only, last codec works.
        let chain = CodecChain::from_json(None, Some(&[json!({"id": "zlib"})])).unwrap();
        let blob = chain.encode(b"abc", 1).unwrap();
        assert_eq!(chain.decode(&blob, 3, 1).unwrap(), b"abc");
    }

    #[test]
    fn typesize_follows_filters() {
        let filters = [
            json!({"id": "delta", "dtype": "<i8", "astype": "<i2"}),
            json!({"id": "crc32"}),
        ];
        let chain = CodecChain::from_json(Some(&json!({"id": "blosc"})), Some(&filters)).unwrap();
        assert_eq!(chain.compressor_itemsize(8), 1);
        let chain =
            CodecChain::from_json(Some(&json!({"id": "blosc"})), Some(&filters[..1])).unwrap();
        assert_eq!(chain.compressor_itemsize(8), 2);
    }

    #[test]
    fn chain_is_shareable_across_threads() {
        fn check<T: Send + Sync + Clone + std::fmt::Debug>() {}
        check::<CodecChain>();
        let chain = CodecChain::from_json(Some(&crate::default_compressor_json()), None).unwrap();
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 97) as u8).collect();
        let blob = chain.encode(&data, 4).unwrap();
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    for _ in 0..20 {
                        assert_eq!(chain.encode(&data, 4).unwrap(), blob);
                        assert_eq!(chain.decode(&blob, data.len(), 4).unwrap(), data);
                    }
                });
            }
        });
    }

    #[test]
    fn identity_checks_size() {
        let chain = CodecChain::identity();
        assert_eq!(chain.decode(b"abc", 3, 1).unwrap(), b"abc");
        assert_eq!(
            chain.decode(b"abc", 4, 1).unwrap_err().kind(),
            CodecErrorKind::SizeMismatch
        );
    }
}

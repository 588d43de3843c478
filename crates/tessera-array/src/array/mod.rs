//! [`Array`]: reading and writing a Zarr v2 array, chunk by chunk, in parallel.

mod builder;
mod fancy;
mod fields;
mod objects;
mod read;
mod resize;
mod shard;
mod write;

pub use builder::{ArrayBuilder, default_compressor};
use write::Source;

use std::sync::Arc;

use ndarray::{ArrayBase, ArrayD, Data, Dimension};
use serde_json::{Map, Value};
use tessera_codec::CodecChain;
use tessera_store::{Bytes, Store, StoreKey};

use crate::access::{ArrayAccess, RawArray};
use crate::cache::{ChunkCache, ChunkCacheStats};
use crate::dtype::DataType;
use crate::element::Element;
use crate::error::{ArrayError, ArrayResult};
use crate::fill_value::FillValue;
use crate::metadata::{ArrayMetadata, KeyEncoding, ZarrFormat, parse_attributes, pretty_json};
use crate::node::NodePath;
use crate::pipeline::ChunkCodecs;
use crate::selection::{IntoSelection, ResolvedSelection};
use crate::v3::{ChunkEncoding, ShardCodec};

/// A Zarr array (v2 or v3) in a store.
///
/// Reads plan the chunks a selection touches, fetch them through the store's batch read and decode them in
/// parallel straight into the result (a chunk that maps onto a contiguous part of the result is decoded in
/// place; others are copied run by run). Writes encode in parallel; a chunk the write covers only in part
/// is read, modified and written back.
///
/// # Concurrency contract
/// - Any number of threads and processes may read at once, also while others write: each chunk is
///   replaced atomically by the store, so a reader sees the old chunk or the new one.
/// - Any number of threads, processes and (on object stores) machines may write at once, to any
///   regions, overlapping or not, partial chunks included: no write is lost. Where writes overlap,
///   each element ends up with the value of one of the writes covering it, and a write that ended
///   before another began is never seen over it. A chunk a write replaces whole is stored outright; a
///   chunk it covers in part is read, modified and written back through the store's
///   [`update`](tessera_store::WritableStore::update), which no other writer of that chunk can
///   interleave with:
///   - filesystem: under an advisory `flock` of the chunk's key (a hidden lock file beside it,
///     removed after), also taken by whole-chunk writes. Cost: one lock file created and removed per
///     chunk written; writers of one chunk take turns. Other programs (zarr-python) do not take the
///     lock; `flock` must work between the writers (local filesystems; NFS v4 emulates it);
///   - object stores (S3, GCS): optimistically, by a conditional put (`If-Match` the ETag read, or
///     `If-None-Match: *` for a new chunk), retried with backoff when another writer got in first
///     ([`DEFAULT_UPDATE_ATTEMPTS`](tessera_store::DEFAULT_UPDATE_ATTEMPTS) attempts by default).
///     Cost: nothing extra without contention (the chunk was read anyway); each collision repeats
///     a GET, the decode, the encode and the PUT. A chunk a partial write leaves equal to the fill
///     value is stored encoded rather than deleted there (S3 has no conditional delete in
///     `object_store`). Plain HTTP stores cannot update conditionally: partial writes to them fail
///     with `NotSupported`;
///   - memory: under a lock of the key.
///
///   Threads of one process also queue on a process-wide lock per chunk before the store's update,
///   so they do not collide with each other on object stores.
/// - A write is atomic per chunk, not as a whole: a reader (or a crash) may see some of its chunks
///   written and others not yet.
/// - [`resize`](Array::resize) and [`append`](Array::append) change the metadata. Each one is a
///   read-modify-write of the metadata document through the store's
///   [`update`](tessera_store::WritableStore::update), with its data written inside it, and starts
///   from the shape stored at that moment, not the handle's. On the filesystem (under the
///   document's `flock`) and in memory they are serialized across threads and processes: any number
///   of handles appending at once all land, one after the other, and no row is lost. On object
///   stores the update is optimistic: when another machine changed the shape first, the change is
///   not applied and [`ArrayError::ConcurrentShapeChange`] is returned, but the data it wrote
///   beyond the old shape may already have overwritten the other writer's new rows, so shape
///   changes of one array on S3/GCS need the caller's coordination. Other handles see the new shape
///   after [`reload`](Array::reload) (their reads and writes keep using the shape they have).
/// - Growing (by `resize` or `append`) writes the data first and the metadata last; shrinking writes
///   the metadata first and removes chunks after. A failure at any point leaves the array at its old
///   or its new shape, holding the right data, and the same call can simply be retried.
#[derive(Clone, Debug)]
pub struct Array {
    store: Arc<dyn Store>,
    path: NodePath,
    meta: ArrayMetadata,
    codecs: ChunkCodecs,
    shard: Option<Arc<ShardCodec>>,
    write_empty_chunks: bool,
    cache: Option<Arc<ChunkCache>>,
}

impl Array {
    /// Opens the array at `path` in `store`: Zarr v3 when there is a `zarr.json`, else Zarr v2.
    ///
    /// # Errors
    /// [`ArrayError::NotFound`] when there is neither a `zarr.json` nor a `.zarray` (or the `zarr.json` is
    /// a group's); [`ArrayError::Metadata`] when the metadata is invalid; [`ArrayError::Unsupported`] for
    /// v3 features tessera lacks; [`ArrayError::CodecConfig`] for unknown or malformed codecs; store
    /// errors.
    pub fn open(store: Arc<dyn Store>, path: &str) -> ArrayResult<Array> {
        let path = NodePath::new(path)?;
        let not_found = || ArrayError::NotFound {
            kind: "array (neither zarr.json nor .zarray)",
            path: path.as_str().to_string(),
        };
        let meta = match store.get(&path.key("zarr.json")?)? {
            Some(bytes) => {
                let doc: Value = serde_json::from_slice(&bytes).map_err(|e| {
                    ArrayError::metadata("zarr.json", format!("not valid JSON: {e}"))
                })?;
                if !crate::v3::is_array_doc(&doc)? {
                    return Err(not_found());
                }
                ArrayMetadata::from_v3_json(&doc)?
            }
            None => {
                let bytes = store.get(&path.key(".zarray")?)?.ok_or_else(not_found)?;
                ArrayMetadata::parse(&bytes)?
            }
        };
        Array::from_metadata(store, path, meta)
    }

    /// An array handle from metadata already read (e.g. from consolidated metadata).
    ///
    /// # Errors
    /// [`ArrayError::CodecConfig`] for unknown or malformed codecs.
    pub fn from_metadata(
        store: Arc<dyn Store>,
        path: NodePath,
        meta: ArrayMetadata,
    ) -> ArrayResult<Array> {
        let (codecs, shard) = match &meta.encoding {
            None => (
                ChunkCodecs::from_chain(
                    CodecChain::from_json(meta.compressor.as_ref(), meta.filters.as_deref())
                        .map_err(ArrayError::CodecConfig)?,
                ),
                None,
            ),
            Some(ChunkEncoding::Plain { codecs, .. }) => (codecs.clone(), None),
            Some(ChunkEncoding::Sharded(s)) => (ChunkCodecs::identity(), Some(s.clone())),
        };
        let object_codecs = meta
            .encoding
            .as_ref()
            .map_or(&codecs, |e| e.innermost_codecs());
        match (meta.dtype.is_object(), object_codecs.chain().object_codec()) {
            (true, None) => {
                return Err(ArrayError::metadata(
                    "filters",
                    "an object (|O) array needs an object codec as its first filter \
                     (vlen-utf8, vlen-bytes, vlen-array, json2 or msgpack2)",
                ));
            }
            (false, Some(c)) => {
                return Err(ArrayError::metadata(
                    "filters",
                    format!(
                        "the object codec {} needs dtype |O, not {}",
                        c.id(),
                        meta.dtype
                    ),
                ));
            }
            _ => {}
        }
        // bitround's config names no dtype: it rounds little-endian floats of the item size.
        let bitround = meta.filters.iter().flatten().any(|f| f["id"] == "bitround");
        if bitround && meta.dtype.byte_order() == Some(crate::dtype::ByteOrder::Big) {
            return Err(ArrayError::metadata(
                "filters",
                "bitround is only supported on little-endian floats",
            ));
        }
        Ok(Array {
            store,
            path,
            meta,
            codecs,
            shard,
            write_empty_chunks: false,
            cache: None,
        })
    }

    /// The metadata (`.zarray` or `zarr.json`) of the array.
    pub fn metadata(&self) -> &ArrayMetadata {
        &self.meta
    }

    /// The array's shape.
    pub fn shape(&self) -> &[u64] {
        &self.meta.shape
    }

    /// The chunk shape.
    pub fn chunks(&self) -> &[u64] {
        &self.meta.chunks
    }

    /// The stored element type.
    pub fn dtype(&self) -> &DataType {
        &self.meta.dtype
    }

    /// The fill value.
    pub fn fill_value(&self) -> &FillValue {
        &self.meta.fill_value
    }

    /// The path of the array in its store.
    pub fn path(&self) -> &NodePath {
        &self.path
    }

    /// The store holding the array.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The filters and compressor the chunks (v3 sharded arrays: none; see
    /// [`shard_codec`](Self::shard_codec)) are encoded with.
    pub fn codecs(&self) -> &CodecChain {
        self.codecs.chain()
    }

    /// All codecs of a chunk (of an inner chunk of a sharded array: see [`shard_codec`](Self::shard_codec)):
    /// the chain and, in v3, the checksums after it.
    pub fn chunk_codecs(&self) -> &ChunkCodecs {
        &self.codecs
    }

    /// The Zarr format of the array.
    pub fn zarr_format(&self) -> ZarrFormat {
        self.meta.format
    }

    /// The sharding codec of a sharded v3 array.
    pub fn shard_codec(&self) -> Option<&ShardCodec> {
        self.shard.as_deref()
    }

    /// Whether chunks equal to the fill value everywhere are stored (`true`) or removed (`false`, the
    /// default, as zarr-python 3's `write_empty_chunks=False`). Arrays whose fill value is `null` always
    /// store every chunk written: readers disagree on what a missing chunk holds there.
    pub fn set_write_empty_chunks(&mut self, yes: bool) -> &mut Self {
        self.write_empty_chunks = yes;
        self
    }

    /// Gives this handle a cache of decoded chunks holding up to `budget` bytes (least recently
    /// used evicted first), or turns caching off with 0. Off by default.
    ///
    /// Reads then keep each chunk they decode (each inner chunk, sharded) and serve it again from
    /// memory: repeated crops, training epochs and random samples that revisit chunks skip the fetch
    /// and the decode. Clones made from this handle afterwards share the cache, so threads and
    /// workers of one process warm it for each other. Writes through any of them remove the chunks
    /// they touch, and a resize, an append or a reload empties it. Writes made by other handles,
    /// processes or machines are not seen: use it on data that does not change while it is read.
    ///
    /// With the cache on, every touched chunk is decoded into a buffer of its own before it is
    /// copied out: a first read costs a little more than without it. Uncompressed chunks are not
    /// cached: copying them out of the cache costs what reading them does (on disk, from the page
    /// cache), and a cache would turn reads of a part of them into reads of all of them.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use tessera_array::{ArrayBuilder, DataType};
    /// # use tessera_store::MemoryStore;
    /// let mut a = ArrayBuilder::new(vec![100, 100], vec![10, 10], DataType::parse_typestr("<f8")?)
    ///     .create(Arc::new(MemoryStore::new()), "x")?;
    /// a.write((), &ndarray::Array2::<f64>::ones((100, 100)))?;
    /// a.set_chunk_cache(64 << 20);
    /// let epoch1 = a.read::<f64>("0:30, 0:30")?;
    /// let epoch2 = a.read::<f64>("0:30, 0:30")?; // 9 chunks from memory
    /// assert_eq!(epoch1, epoch2);
    /// let stats = a.chunk_cache_stats().unwrap();
    /// assert_eq!((stats.misses, stats.hits), (9, 9));
    /// # Ok::<(), tessera_array::ArrayError>(())
    /// ```
    pub fn set_chunk_cache(&mut self, budget: usize) -> &mut Self {
        self.cache = (budget > 0).then(|| ChunkCache::new(budget));
        self
    }

    /// What the decoded-chunk cache holds and how often it served; `None` when the handle has none
    /// (see [`set_chunk_cache`](Self::set_chunk_cache)).
    pub fn chunk_cache_stats(&self) -> Option<ChunkCacheStats> {
        self.cache.as_deref().map(ChunkCache::stats)
    }

    /// The cache reads use: none when the chunks need no decoding (uncompressed), whose bytes cost
    /// as much to copy out of the cache as out of the store's (the page cache, on disk), and whose
    /// reads in part (byte ranges) the cache would turn into whole reads.
    pub(super) fn read_cache(&self) -> Option<&ChunkCache> {
        let plain = match self.shard.as_deref() {
            None => self.codecs.is_identity(),
            Some(shard) => matches!(
                &shard.inner,
                ChunkEncoding::Plain { codecs, .. } if codecs.is_identity()
            ),
        };
        if plain { None } else { self.cache.as_deref() }
    }

    /// Removes the chunk (or shard) at `key` from the cache, after a write to it.
    pub(super) fn forget_chunk(&self, key: &StoreKey) {
        if let Some(cache) = &self.cache {
            let inner = self
                .shard
                .as_deref()
                .map_or(1, |s| s.chunks_per_shard.iter().product::<u64>());
            cache.remove(key, inner);
        }
    }

    /// The array's attributes (`.zattrs`, or `attributes` in `zarr.json`); empty when there are none.
    ///
    /// # Errors
    /// [`ArrayError::Metadata`] when `.zattrs` is not a JSON object or `zarr.json` is invalid; store
    /// errors.
    pub fn attributes(&self) -> ArrayResult<Map<String, Value>> {
        if self.meta.format == ZarrFormat::V3 {
            return Ok(self.current_v3_metadata()?.v3_attributes());
        }
        match self.store.get(&self.path.key(".zattrs")?)? {
            Some(bytes) => parse_attributes(&bytes),
            None => Ok(Map::new()),
        }
    }

    /// Replaces the array's attributes (and their copy in the consolidated metadata above it).
    ///
    /// # Errors
    /// Store errors.
    pub fn set_attributes(&self, attrs: &Map<String, Value>) -> ArrayResult<()> {
        if self.meta.format == ZarrFormat::V3 {
            let next = self.current_v3_metadata()?.with_v3_attributes(attrs);
            self.store
                .set(&self.path.key("zarr.json")?, Bytes::from(next.to_bytes()))?;
            return crate::consolidated::sync(&self.store, &self.path, false);
        }
        let bytes = pretty_json(&Value::Object(attrs.clone()));
        self.store
            .set(&self.path.key(".zattrs")?, Bytes::from(bytes))?;
        crate::consolidated::sync(&self.store, &self.path, false)
    }

    /// The array's `zarr.json` as stored now (attributes may have changed since it was opened), with this
    /// handle's shape.
    fn current_v3_metadata(&self) -> ArrayResult<ArrayMetadata> {
        let Some(bytes) = self.store.get(&self.path.key("zarr.json")?)? else {
            return Ok(self.meta.clone());
        };
        let mut meta = ArrayMetadata::parse_v3(&bytes)?;
        meta.shape = self.meta.shape.clone();
        Ok(meta)
    }

    /// The store key of the chunk at grid coordinates `chunk` (e.g. `path/1.0.3` or `path/1/0/3`).
    ///
    /// # Errors
    /// [`ArrayError::Selection`] when `chunk` has the wrong rank.
    pub fn chunk_key(&self, chunk: &[u64]) -> ArrayResult<StoreKey> {
        if chunk.len() != self.meta.rank() {
            return Err(ArrayError::selection(format!(
                "chunk index of rank {} for a {}-d array",
                chunk.len(),
                self.meta.rank()
            )));
        }
        let sep = self.meta.separator.as_char().to_string();
        let coords = chunk
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(&sep);
        let name = match (self.meta.key_encoding, chunk.is_empty()) {
            (KeyEncoding::V2, true) => "0".to_string(),
            (KeyEncoding::V2, false) => coords,
            (KeyEncoding::Default, true) => "c".to_string(),
            (KeyEncoding::Default, false) => format!("c{sep}{coords}"),
        };
        self.path.key(&name)
    }

    /// Parses a chunk key name relative to the array (`1.0.3` or `1/0/3`) into grid coordinates.
    pub fn parse_chunk_name(&self, name: &str) -> Option<Vec<u64>> {
        let name = match self.meta.key_encoding {
            KeyEncoding::V2 => name,
            KeyEncoding::Default if self.meta.rank() == 0 => {
                return (name == "c").then(Vec::new);
            }
            KeyEncoding::Default => name
                .strip_prefix('c')?
                .strip_prefix(self.meta.separator.as_char())?,
        };
        if self.meta.rank() == 0 {
            return (name == "0").then(Vec::new);
        }
        let coords: Option<Vec<u64>> = name
            .split(self.meta.separator.as_char())
            .map(|p| p.parse().ok())
            .collect();
        coords.filter(|c| c.len() == self.meta.rank())
    }

    /// Reads and decodes one whole chunk (full chunk shape, stored order and layout); `None` when it is not
    /// stored.
    ///
    /// # Errors
    /// Store and codec errors.
    pub fn read_chunk(&self, chunk: &[u64]) -> ArrayResult<Option<Vec<u8>>> {
        let key = self.chunk_key(chunk)?;
        let Some(encoded) = self.store.get(&key)? else {
            return Ok(None);
        };
        let mut out = vec![0u8; self.meta.chunk_bytes()];
        match &self.shard {
            Some(shard) => {
                shard::decode_shard(shard, self.shard_context(), &key, &encoded, &mut out)?
            }
            None => self.decode_chunk(&key, &encoded, &mut out)?,
        }
        Ok(Some(out))
    }

    /// Reads a selection as an `ndarray` of `T`, in native byte order (see [`ArrayAccess::read`]).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// use tessera_array::{ArrayBuilder, DataType};
    /// use tessera_store::MemoryStore;
    /// use ndarray::{array, s};
    ///
    /// let store = Arc::new(MemoryStore::new());
    /// let arr = ArrayBuilder::new(vec![4, 6], vec![2, 4], DataType::parse_typestr(">i4")?).create(store, "a")?;
    /// arr.write(s![1..3, 2..4], &array![[1, 2], [3, 4]])?;
    /// let got = arr.read::<i32>("1:3, 3")?;
    /// assert_eq!(got.into_raw_vec_and_offset().0, vec![2, 4]);
    /// assert!(arr.read::<f32>(()).is_err());
    /// # Ok::<(), tessera_array::ArrayError>(())
    /// ```
    ///
    /// # Errors
    /// [`ArrayError::DataTypeMismatch`] when `T` does not match the stored dtype; selection, store and
    /// codec errors.
    pub fn read<T: Element>(&self, selection: impl IntoSelection) -> ArrayResult<ArrayD<T>> {
        ArrayAccess::read(self, selection)
    }

    /// Reads a selection untyped: bytes in the stored dtype and byte order, C order.
    ///
    /// # Errors
    /// Selection, store and codec errors.
    pub fn read_raw(&self, selection: impl IntoSelection) -> ArrayResult<RawArray> {
        ArrayAccess::read_raw(self, selection)
    }

    /// Writes `data` (the selection's shape) into the selection, converting from native byte order.
    ///
    /// # Errors
    /// [`ArrayError::DataTypeMismatch`], [`ArrayError::ShapeMismatch`]; selection, store and codec errors.
    pub fn write<T: Element, S: Data<Elem = T>, D: Dimension>(
        &self,
        selection: impl IntoSelection,
        data: &ArrayBase<S, D>,
    ) -> ArrayResult<()> {
        ArrayAccess::write(self, selection, data)
    }

    /// Writes raw bytes (C order, stored dtype and byte order, the selection's shape) into the selection.
    ///
    /// # Errors
    /// [`ArrayError::ShapeMismatch`] when `bytes` is not exactly the selection's size; selection, store and
    /// codec errors.
    pub fn write_raw(&self, selection: impl IntoSelection, bytes: &[u8]) -> ArrayResult<()> {
        ArrayAccess::write_raw(self, selection, bytes)
    }

    /// Sets every element of the selection to the fill value (removing chunks that become empty).
    ///
    /// # Errors
    /// Selection, store and codec errors.
    pub fn fill(&self, selection: impl IntoSelection) -> ArrayResult<()> {
        let sel = ArrayAccess::resolve(self, selection)?;
        self.write_selection(&sel, Source::Fill, false)
    }

    /// Counts the chunks actually stored and their total size in bytes (lists the store; never enumerates
    /// the chunk grid).
    ///
    /// # Errors
    /// Store errors.
    pub fn stored_chunks(&self) -> ArrayResult<(u64, u64)> {
        let prefix = self.path.prefix();
        let mut count = 0;
        let mut bytes = 0;
        for (key, size) in self.store.list_prefix_sizes(&prefix)? {
            let name = &key.as_str()[prefix.as_str().len()..];
            if self
                .parse_chunk_name(name)
                .is_some_and(|c| c.iter().zip(self.meta.grid_shape()).all(|(i, g)| *i < g))
            {
                count += 1;
                bytes += size;
            }
        }
        Ok((count, bytes))
    }
}

impl ArrayAccess for Array {
    fn shape(&self) -> &[u64] {
        &self.meta.shape
    }

    fn dtype(&self) -> &DataType {
        &self.meta.dtype
    }

    fn read_into(&self, selection: &ResolvedSelection, out: &mut [u8]) -> ArrayResult<()> {
        self.read_selection(selection, out)
    }

    fn write_resolved(&self, selection: &ResolvedSelection, bytes: &[u8]) -> ArrayResult<()> {
        self.write_bytes(selection, bytes)
    }
}

//! [`Array`]: reading and writing a Zarr v2 array, chunk by chunk, in parallel.

use std::cell::RefCell;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

use ndarray::{ArrayBase, ArrayD, Data, Dimension};
use rayon::prelude::*;
use serde_json::{Map, Value};
use tessera_codec::CodecChain;
use tessera_store::{Bytes, RangeRequest, Store, StoreKey};

use crate::access::{ArrayAccess, RawArray, buffer_len};
use crate::copy::{self, Dim};
use crate::dtype::DataType;
use crate::element::Element;
use crate::error::{ArrayError, ArrayResult};
use crate::fill_value::FillValue;
use crate::metadata::{ArrayMetadata, Order, Separator, parse_attributes, pretty_json};
use crate::node::NodePath;
use crate::plan::{ChunkRegion, ReadPlan, strides};
use crate::selection::{AxisRange, IntoSelection, ResolvedSelection, Selection};

/// A Zarr v2 array in a store.
///
/// Reads plan the chunks a selection touches, fetch them through the store's batch read and decode them in
/// parallel straight into the result (a chunk that maps onto a contiguous part of the result is decoded in
/// place; others are copied run by run). Writes encode in parallel; a chunk the write covers only in part
/// is read, modified and written back.
///
/// # Concurrency contract
/// - Any number of threads and processes may read at once, also while others write: each chunk is
///   replaced atomically by the store, so a reader sees the old chunk or the new one.
/// - Writers to disjoint, chunk-aligned regions may run in parallel in threads or processes.
/// - Threads of one process may also write overlapping or partial-chunk regions at the same time: each
///   chunk's read-modify-write runs under a process-wide lock keyed by the chunk's store key, so no
///   thread's data is lost. Across processes, partial writes to the same chunk need the caller's
///   coordination (the last writer of a chunk wins).
/// - [`resize`](Array::resize) and [`append`](Array::append) change the metadata: other handles to the
///   same array must be reopened to see the new shape.
#[derive(Clone, Debug)]
pub struct Array {
    store: Arc<dyn Store>,
    path: NodePath,
    meta: ArrayMetadata,
    codecs: CodecChain,
    write_empty_chunks: bool,
}

/// Where the data of a write comes from.
#[derive(Clone, Copy)]
enum Source<'a> {
    /// C-order elements of the selection's shape, in the stored dtype and byte order.
    Bytes(&'a [u8]),
    /// The fill value everywhere.
    Fill,
}

/// A pointer to the result buffer that chunk callbacks on several threads write disjoint regions of.
#[derive(Clone, Copy)]
struct SharedOut {
    ptr: *mut u8,
    len: usize,
}
// SAFETY: the read plan gives each chunk a disjoint region of the buffer; see `read_into`.
unsafe impl Send for SharedOut {}
unsafe impl Sync for SharedOut {}

thread_local! {
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Scratch buffers larger than this are released after use instead of kept per thread.
const KEEP_SCRATCH: usize = 64 << 20;

/// Runs `f` with a thread-local scratch buffer of `len` bytes (contents unspecified).
fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [u8]) -> R) -> R {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            if buf.len() < len {
                buf.resize(len, 0);
            }
            let r = f(&mut buf[..len]);
            if buf.len() > KEEP_SCRATCH {
                *buf = Vec::new();
            }
            r
        }
        // Re-entered on this thread (a nested parallel section stole work): use a fresh buffer.
        Err(_) => f(&mut vec![0u8; len]),
    })
}

/// Process-wide locks serialising read-modify-write cycles of the same chunk.
static CHUNK_LOCKS: LazyLock<Vec<Mutex<()>>> =
    LazyLock::new(|| (0..1024).map(|_| Mutex::new(())).collect());

fn chunk_lock(key: &StoreKey) -> MutexGuard<'static, ()> {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    key.as_str().hash(&mut h);
    let lock = &CHUNK_LOCKS[(h.finish() % CHUNK_LOCKS.len() as u64) as usize];
    lock.lock().unwrap_or_else(|p| p.into_inner())
}

fn first_error(slot: &Mutex<Option<ArrayError>>, err: ArrayError) {
    slot.lock()
        .unwrap_or_else(|p| p.into_inner())
        .get_or_insert(err);
}

impl Array {
    /// Opens the array at `path` in `store`.
    ///
    /// # Errors
    /// [`ArrayError::NotFound`] when there is no `.zarray`; [`ArrayError::Metadata`] when it is invalid;
    /// [`ArrayError::CodecConfig`] for unknown or malformed codecs; store errors.
    pub fn open(store: Arc<dyn Store>, path: &str) -> ArrayResult<Array> {
        let path = NodePath::new(path)?;
        let key = path.key(".zarray")?;
        let bytes = store.get(&key)?.ok_or_else(|| ArrayError::NotFound {
            kind: "array",
            path: path.as_str().to_string(),
        })?;
        let meta = ArrayMetadata::parse(&bytes)?;
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
        let codecs = CodecChain::from_json(meta.compressor.as_ref(), meta.filters.as_deref())
            .map_err(ArrayError::CodecConfig)?;
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
            write_empty_chunks: false,
        })
    }

    /// The metadata (`.zarray`) of the array.
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

    /// The codecs the chunks are encoded with.
    pub fn codecs(&self) -> &CodecChain {
        &self.codecs
    }

    /// Whether chunks equal to the fill value everywhere are stored (`true`) or removed (`false`, the
    /// default, as zarr-python 3's `write_empty_chunks=False`). Arrays whose fill value is `null` always
    /// store every chunk written: readers disagree on what a missing chunk holds there.
    pub fn set_write_empty_chunks(&mut self, yes: bool) -> &mut Self {
        self.write_empty_chunks = yes;
        self
    }

    /// The array's attributes (`.zattrs`); empty when there are none.
    ///
    /// # Errors
    /// [`ArrayError::Metadata`] when `.zattrs` is not a JSON object; store errors.
    pub fn attributes(&self) -> ArrayResult<Map<String, Value>> {
        match self.store.get(&self.path.key(".zattrs")?)? {
            Some(bytes) => parse_attributes(&bytes),
            None => Ok(Map::new()),
        }
    }

    /// Replaces the array's attributes.
    ///
    /// # Errors
    /// Store errors.
    pub fn set_attributes(&self, attrs: &Map<String, Value>) -> ArrayResult<()> {
        let bytes = pretty_json(&Value::Object(attrs.clone()));
        self.store
            .set(&self.path.key(".zattrs")?, Bytes::from(bytes))?;
        Ok(())
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
        let name = if chunk.is_empty() {
            "0".to_string()
        } else {
            chunk
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(&sep)
        };
        self.path.key(&name)
    }

    /// Parses a chunk key name relative to the array (`1.0.3` or `1/0/3`) into grid coordinates.
    pub fn parse_chunk_name(&self, name: &str) -> Option<Vec<u64>> {
        if self.meta.rank() == 0 {
            return (name == "0").then(Vec::new);
        }
        let coords: Option<Vec<u64>> = name
            .split(self.meta.separator.as_char())
            .map(|p| p.parse().ok())
            .collect();
        coords.filter(|c| c.len() == self.meta.rank())
    }

    /// Reads a resolved selection into `out` (C order, stored dtype and byte order), which must hold
    /// exactly the selection's bytes.
    ///
    /// # Errors
    /// [`ArrayError::ShapeMismatch`] when `out` has the wrong length; store and codec errors.
    fn read_selection(&self, sel: &ResolvedSelection, out: &mut [u8]) -> ArrayResult<()> {
        let itemsize = self.meta.dtype.itemsize();
        let expected = buffer_len(sel.num_elements(), itemsize)?;
        if out.len() != expected {
            return Err(ArrayError::ShapeMismatch {
                expected: sel.shape(),
                found: vec![(out.len() / itemsize.max(1)) as u64],
            });
        }
        if sel.axes().len() != self.meta.rank() {
            return Err(ArrayError::selection(
                "selection resolved against another array",
            ));
        }
        let plan = ReadPlan::new(sel.clone(), &self.meta.chunks);
        if plan.is_empty() || expected == 0 {
            return Ok(());
        }
        let keys = plan
            .regions()
            .map(|r| self.chunk_key(&r.chunk))
            .collect::<ArrayResult<Vec<_>>>()?;
        let out_strides = strides(&sel.full_shape(), itemsize, Order::C);
        let chunk_strides = strides(&self.meta.chunks, itemsize, self.meta.order);
        let target = SharedOut {
            ptr: out.as_mut_ptr(),
            len: out.len(),
        };
        let error = Mutex::new(None);
        let fail = |e: ArrayError| first_error(&error, e);
        let failed = || error.lock().unwrap_or_else(|p| p.into_inner()).is_some();

        // Uncompressed chunks the selection needs only a small part of are read in part (a slab across
        // large chunks needs kilobytes of each, not the whole file); the others are read whole.
        let mut whole: Vec<usize> = Vec::with_capacity(keys.len());
        let mut partial: Vec<(usize, RangeRequest)> = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            match self.partial_ranges(&plan.region(i), &chunk_strides, &out_strides) {
                Some(ranges) => partial.push((i, (key.clone(), ranges))),
                None => whole.push(i),
            }
        }

        if !whole.is_empty() {
            let whole_keys: Vec<StoreKey> = whole.iter().map(|&i| keys[i].clone()).collect();
            self.store.get_many(&whole_keys, &|j, result| {
                if failed() {
                    return;
                }
                let i = whole[j];
                let placed = result.map_err(ArrayError::from).and_then(|chunk| {
                    self.place_chunk(
                        &keys[i],
                        chunk.as_deref(),
                        &plan.region(i),
                        &chunk_strides,
                        &out_strides,
                        target,
                    )
                });
                if let Err(e) = placed {
                    fail(e);
                }
            });
        }
        if !partial.is_empty() && !failed() {
            let (indices, requests): (Vec<usize>, Vec<_>) = partial.into_iter().unzip();
            self.store.get_many_ranges(&requests, &|j, result| {
                if failed() {
                    return;
                }
                let i = indices[j];
                let placed = result.map_err(ArrayError::from).and_then(|parts| {
                    self.place_parts(
                        parts.as_deref(),
                        &requests[j].1,
                        &plan.region(i),
                        &chunk_strides,
                        &out_strides,
                        target,
                    )
                });
                if let Err(e) = placed {
                    fail(e);
                }
            });
        }
        match error.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// The byte ranges to read of an uncompressed chunk when the selection needs only a small part of it;
    /// `None` when the whole chunk should be read (compressed, mostly needed, or too scattered).
    fn partial_ranges(
        &self,
        region: &ChunkRegion,
        chunk_strides: &[usize],
        out_strides: &[usize],
    ) -> Option<Vec<std::ops::Range<u64>>> {
        /// Ranges closer than this are read as one (a page is read from disk anyway).
        const GAP: usize = 4096;
        /// More ranges than this per chunk: read it whole.
        const MAX_RANGES: usize = 256;
        if !self.codecs.is_identity() || region.covers_chunk(&self.meta.chunks) {
            return None;
        }
        let itemsize = self.meta.dtype.itemsize();
        let (src_off, _, dims) = region.geometry(chunk_strides, out_strides);
        let ranges = copy::source_ranges(src_off, &dims, itemsize, GAP, MAX_RANGES)?;
        let needed: usize = ranges.iter().map(|r| r.len()).sum();
        (needed.saturating_mul(2) < self.meta.chunk_bytes()).then(|| {
            ranges
                .into_iter()
                .map(|r| r.start as u64..r.end as u64)
                .collect()
        })
    }

    /// Places the parts of an uncompressed chunk read by [`partial_ranges`](Self::partial_ranges) (or the
    /// fill value, when the chunk is missing) into the chunk's region of the result.
    fn place_parts(
        &self,
        parts: Option<&[Bytes]>,
        ranges: &[std::ops::Range<u64>],
        region: &ChunkRegion,
        chunk_strides: &[usize],
        out_strides: &[usize],
        out: SharedOut,
    ) -> ArrayResult<()> {
        let Some(parts) = parts else {
            return self.place_chunk(
                &self.chunk_key(&region.chunk)?,
                None,
                region,
                chunk_strides,
                out_strides,
                out,
            );
        };
        let itemsize = self.meta.dtype.itemsize();
        let (src_off, dst_off, dims) = region.geometry(chunk_strides, out_strides);
        // The parts go to their places in a buffer spanning the first to the last part; the copy then
        // reads only bytes that were read.
        let (Some(first), Some(last)) = (ranges.first(), ranges.last()) else {
            return Ok(());
        };
        let key = || self.chunk_key(&region.chunk).map(|k| k.to_string());
        if parts.len() != ranges.len() {
            return Err(ArrayError::ChunkSize {
                key: key()?,
                expected: ranges.len(),
                found: parts.len(),
            });
        }
        if let Some((r, part)) = ranges
            .iter()
            .zip(parts)
            .find(|(r, p)| p.len() as u64 != r.end - r.start)
        {
            return Err(ArrayError::ChunkSize {
                key: key()?,
                expected: (r.end - r.start) as usize,
                found: part.len(),
            });
        }
        let base = first.start as usize;
        with_scratch(last.end as usize - base, |span| {
            for (r, part) in ranges.iter().zip(parts) {
                span[r.start as usize - base..r.end as usize - base].copy_from_slice(part);
            }
            // SAFETY: the region belongs to this chunk alone and lies inside `out` (checked inside).
            unsafe {
                copy::copy_region_raw(
                    span,
                    src_off - base,
                    out.ptr,
                    out.len,
                    dst_off,
                    &dims,
                    itemsize,
                )
            };
        });
        Ok(())
    }

    /// Decodes one chunk (or the fill value, when it is missing) into its region of the result.
    fn place_chunk(
        &self,
        key: &StoreKey,
        chunk: Option<&[u8]>,
        region: &ChunkRegion,
        chunk_strides: &[usize],
        out_strides: &[usize],
        out: SharedOut,
    ) -> ArrayResult<()> {
        let itemsize = self.meta.dtype.itemsize();
        let (src_off, dst_off, dims) = region.geometry(chunk_strides, out_strides);
        let Some(encoded) = chunk else {
            // SAFETY: regions of different chunks are disjoint and lie within `out` (checked inside).
            unsafe {
                copy::fill_region_raw(
                    self.meta.fill_value.bytes(),
                    out.ptr,
                    out.len,
                    dst_off,
                    &dims,
                )
            };
            return Ok(());
        };
        let chunk_bytes = self.meta.chunk_bytes();
        if region.covers_chunk(&self.meta.chunks)
            && is_one_run(&dims, itemsize)
            && dst_off + chunk_bytes <= out.len
        {
            // The chunk is a contiguous piece of the result: decode straight into it.
            // SAFETY: this chunk's region is `dst_off..dst_off + chunk_bytes`, disjoint from every other
            // chunk's region, and inside `out`.
            let target =
                unsafe { std::slice::from_raw_parts_mut(out.ptr.add(dst_off), chunk_bytes) };
            return self.decode_chunk(key, encoded, target);
        }
        let place = |decoded: &[u8]| {
            // SAFETY: as above, the region belongs to this chunk alone.
            unsafe {
                copy::copy_region_raw(decoded, src_off, out.ptr, out.len, dst_off, &dims, itemsize)
            }
        };
        if self.codecs.is_identity() {
            self.check_raw_size(key, encoded)?;
            place(encoded);
            return Ok(());
        }
        with_scratch(chunk_bytes, |scratch| {
            self.decode_chunk(key, encoded, scratch)?;
            place(scratch);
            Ok(())
        })
    }

    fn check_raw_size(&self, key: &StoreKey, encoded: &[u8]) -> ArrayResult<()> {
        let expected = self.meta.chunk_bytes();
        if encoded.len() != expected {
            return Err(ArrayError::ChunkSize {
                key: key.to_string(),
                expected,
                found: encoded.len(),
            });
        }
        Ok(())
    }

    /// Decodes a stored chunk into `out` (exactly one chunk's bytes).
    fn decode_chunk(&self, key: &StoreKey, encoded: &[u8], out: &mut [u8]) -> ArrayResult<()> {
        if self.codecs.is_identity() {
            self.check_raw_size(key, encoded)?;
            out.copy_from_slice(encoded);
            return Ok(());
        }
        self.codecs
            .decode_into(encoded, out, self.meta.dtype.itemsize())
            .map_err(|source| ArrayError::Codec {
                key: key.to_string(),
                source,
            })
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
        self.decode_chunk(&key, &encoded, &mut out)?;
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

    fn write_bytes(&self, sel: &ResolvedSelection, bytes: &[u8]) -> ArrayResult<()> {
        let itemsize = self.meta.dtype.itemsize();
        if bytes.len() != buffer_len(sel.num_elements(), itemsize)? {
            return Err(ArrayError::ShapeMismatch {
                expected: sel.shape(),
                found: vec![(bytes.len() / itemsize.max(1)) as u64],
            });
        }
        if sel.axes().len() != self.meta.rank() {
            return Err(ArrayError::selection(
                "selection resolved against another array",
            ));
        }
        self.write_selection(sel, Source::Bytes(bytes), false)
    }

    fn write_selection(
        &self,
        sel: &ResolvedSelection,
        source: Source<'_>,
        only_existing: bool,
    ) -> ArrayResult<()> {
        let itemsize = self.meta.dtype.itemsize();
        let plan = ReadPlan::new(sel.clone(), &self.meta.chunks);
        if plan.is_empty() || sel.num_elements() == 0 {
            return Ok(());
        }
        let in_strides = strides(&sel.full_shape(), itemsize, Order::C);
        let chunk_strides = strides(&self.meta.chunks, itemsize, self.meta.order);
        (0..plan.len()).into_par_iter().try_for_each(|i| {
            let region = plan.region(i);
            self.write_chunk(&region, source, &in_strides, &chunk_strides, only_existing)
        })
    }

    fn write_chunk(
        &self,
        region: &ChunkRegion,
        source: Source<'_>,
        in_strides: &[usize],
        chunk_strides: &[usize],
        only_existing: bool,
    ) -> ArrayResult<()> {
        let itemsize = self.meta.dtype.itemsize();
        let key = self.chunk_key(&region.chunk)?;
        let (chunk_off, in_off, out_dims) = region.geometry(chunk_strides, in_strides);
        // Swap the roles: data flows from the input (dst side of the read geometry) into the chunk.
        let dims: Vec<Dim> = out_dims
            .iter()
            .map(|d| Dim {
                count: d.count,
                src: d.dst,
                dst: d.src,
            })
            .collect();
        let chunk_bytes = self.meta.chunk_bytes();
        let whole = region.covers_chunk(&self.meta.chunks);

        // Fast path: the write replaces a whole chunk that is one contiguous run of the input.
        if let (true, Source::Bytes(input), false) = (whole, source, only_existing) {
            let reversed: Vec<Dim> = dims
                .iter()
                .map(|d| Dim {
                    count: d.count,
                    src: d.src,
                    dst: d.dst,
                })
                .collect();
            if is_one_run(&reversed, itemsize) && in_off + chunk_bytes <= input.len() {
                let _guard = chunk_lock(&key);
                return self.store_chunk(&key, &input[in_off..in_off + chunk_bytes]);
            }
        }

        let _guard = chunk_lock(&key);
        let mut buf = vec![0u8; chunk_bytes];
        let fill = self.meta.fill_value.bytes();
        let fill_whole = |buf: &mut [u8]| {
            let whole_dims = [Dim {
                count: buf.len() / itemsize.max(1),
                src: 0,
                dst: itemsize,
            }];
            // SAFETY: `buf` is exclusively ours and the region is all of it.
            unsafe { copy::fill_region_raw(fill, buf.as_mut_ptr(), buf.len(), 0, &whole_dims) };
        };
        if region.covers_chunk_within(&self.meta.chunks, &self.meta.shape) && !only_existing {
            fill_whole(&mut buf);
        } else {
            match self.store.get(&key)? {
                Some(encoded) => self.decode_chunk(&key, &encoded, &mut buf)?,
                None if only_existing => return Ok(()),
                None => fill_whole(&mut buf),
            }
        }
        match source {
            Source::Bytes(input) => {
                copy::copy_region(input, in_off, &mut buf, chunk_off, &dims, itemsize)
            }
            // SAFETY: `buf` is exclusively ours; the region lies within it (checked inside).
            Source::Fill => unsafe {
                let fill_dims: Vec<Dim> = dims
                    .iter()
                    .map(|d| Dim {
                        count: d.count,
                        src: 0,
                        dst: d.dst,
                    })
                    .collect();
                copy::fill_region_raw(fill, buf.as_mut_ptr(), buf.len(), chunk_off, &fill_dims)
            },
        }
        self.store_chunk(&key, &buf)
    }

    /// Encodes and stores one chunk, or removes it when it holds only the fill value.
    fn store_chunk(&self, key: &StoreKey, decoded: &[u8]) -> ArrayResult<()> {
        // With a `null` fill value a missing chunk has no defined content (zarr-python 2 returns
        // uninitialised memory), so chunks are always stored.
        let fill = &self.meta.fill_value;
        if !self.write_empty_chunks && !fill.is_null() && fill.matches_chunk(decoded) {
            self.store.erase(key)?;
            return Ok(());
        }
        let encoded = if self.codecs.is_identity() {
            decoded.to_vec()
        } else {
            self.codecs
                .encode(decoded, self.meta.dtype.itemsize())
                .map_err(|source| ArrayError::Codec {
                    key: key.to_string(),
                    source,
                })?
        };
        self.store.set(key, Bytes::from(encoded))?;
        Ok(())
    }

    /// Changes the shape. Chunks that fall wholly outside the new shape are removed; where the array
    /// shrinks inside a chunk, the cut-off part of that chunk is reset to the fill value, so growing the
    /// array again later shows fill values there, not stale data.
    ///
    /// # Errors
    /// [`ArrayError::ShapeMismatch`] when the rank changes; store and codec errors.
    pub fn resize(&mut self, new_shape: &[u64]) -> ArrayResult<()> {
        let old = self.meta.shape.clone();
        if new_shape.len() != old.len() {
            return Err(ArrayError::ShapeMismatch {
                expected: old,
                found: new_shape.to_vec(),
            });
        }
        let mut next = self.meta.clone();
        next.shape = new_shape.to_vec();
        // Validate the new document before touching any chunk.
        let next = ArrayMetadata::from_json(&next.to_json())?;
        if new_shape.iter().zip(&old).any(|(n, o)| n < o) {
            self.drop_chunks_outside(&next.grid_shape())?;
            for axis in 0..old.len() {
                let c = self.meta.chunks[axis];
                let (n, o) = (new_shape[axis], old[axis]);
                if n < o && n % c != 0 {
                    let stop = o.min(n.div_ceil(c).saturating_mul(c));
                    let axes: Vec<AxisRange> = old
                        .iter()
                        .enumerate()
                        .map(|(a, &len)| {
                            if a == axis {
                                AxisRange {
                                    start: n,
                                    count: stop - n,
                                    step: 1,
                                    keep: true,
                                }
                            } else {
                                AxisRange {
                                    start: 0,
                                    count: len,
                                    step: 1,
                                    keep: true,
                                }
                            }
                        })
                        .collect();
                    let sel = ResolvedSelection::from_axes(axes, &old)?;
                    self.write_selection(&sel, Source::Fill, true)?;
                }
            }
        }
        self.store
            .set(&self.path.key(".zarray")?, Bytes::from(next.to_bytes()))?;
        self.meta = next;
        Ok(())
    }

    fn drop_chunks_outside(&self, grid: &[u64]) -> ArrayResult<()> {
        let prefix = self.path.prefix();
        let doomed: Vec<StoreKey> = self
            .store
            .list_prefix(&prefix)?
            .into_iter()
            .filter(|key| {
                let name = &key.as_str()[prefix.as_str().len()..];
                self.parse_chunk_name(name)
                    .is_some_and(|c| c.iter().zip(grid).any(|(i, g)| i >= g))
            })
            .collect();
        doomed
            .par_iter()
            .try_for_each(|key| self.store.erase(key).map_err(ArrayError::from))
    }

    /// Appends `data` along `axis`: grows the array and writes `data` into the new part.
    ///
    /// # Errors
    /// [`ArrayError::ShapeMismatch`] when `data` does not match the other axes; type, store and codec errors.
    pub fn append<T: Element, S: Data<Elem = T>, D: Dimension>(
        &mut self,
        data: &ArrayBase<S, D>,
        axis: usize,
    ) -> ArrayResult<()> {
        self.check_element::<T>()?;
        let sel = self.grow_for_append(data.shape(), axis)?;
        self.write(sel, data)
    }

    /// Appends raw bytes (stored dtype and byte order, C order, shape `shape`) along `axis`.
    ///
    /// # Errors
    /// As [`append`](Array::append).
    pub fn append_raw(&mut self, bytes: &[u8], shape: &[usize], axis: usize) -> ArrayResult<()> {
        let sel = self.grow_for_append(shape, axis)?;
        self.write_raw(sel, bytes)
    }

    fn grow_for_append(&mut self, shape: &[usize], axis: usize) -> ArrayResult<Selection> {
        let old = self.meta.shape.clone();
        let found: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
        let fits = found.len() == old.len()
            && axis < old.len()
            && found
                .iter()
                .zip(&old)
                .enumerate()
                .all(|(a, (f, o))| a == axis || f == o);
        if !fits {
            let mut expected = old.clone();
            if axis < expected.len() {
                expected[axis] = found.get(axis).copied().unwrap_or(0);
            }
            return Err(ArrayError::ShapeMismatch { expected, found });
        }
        let mut new_shape = old.clone();
        new_shape[axis] += found[axis];
        self.resize(&new_shape)?;
        let ranges: Vec<_> = (0..old.len())
            .map(|a| {
                if a == axis {
                    old[a]..new_shape[a]
                } else {
                    0..old[a]
                }
            })
            .collect();
        Ok(Selection::from_ranges(&ranges))
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

/// True when `dims` simplify to a single contiguous run on both sides.
fn is_one_run(dims: &[Dim], itemsize: usize) -> bool {
    match copy::simplify(dims) {
        None => false,
        Some(d) => d.is_empty() || (d.len() == 1 && d[0].src == itemsize && d[0].dst == itemsize),
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

/// Options for a new array; [`create`](ArrayBuilder::create) writes its `.zarray`.
///
/// ```
/// # use std::sync::Arc;
/// use tessera_array::{ArrayBuilder, DataType, Order};
/// use tessera_store::MemoryStore;
/// use serde_json::json;
///
/// let store = Arc::new(MemoryStore::new());
/// let arr = ArrayBuilder::new(vec![100, 100], vec![10, 100], DataType::parse_typestr("<f4")?)
///     .compressor(Some(json!({"id": "zstd", "level": 3})))
///     .fill_value(json!("NaN"))
///     .order(Order::F)
///     .create(store, "group/temperature")?;
/// assert!(arr.read::<f32>("0, 0")?.iter().all(|v| v.is_nan()));
/// # Ok::<(), tessera_array::ArrayError>(())
/// ```
#[derive(Clone, Debug)]
pub struct ArrayBuilder {
    shape: Vec<u64>,
    chunks: Vec<u64>,
    dtype: DataType,
    compressor: Option<Value>,
    filters: Option<Vec<Value>>,
    fill_value: Value,
    order: Order,
    separator: Separator,
    attributes: Option<Map<String, Value>>,
    overwrite: bool,
    write_empty_chunks: bool,
}

/// zarr-python 2's default compressor: blosc with lz4, level 5, byte shuffle.
pub fn default_compressor() -> Value {
    serde_json::json!({"blocksize": 0, "clevel": 5, "cname": "lz4", "id": "blosc", "shuffle": 1})
}

impl ArrayBuilder {
    /// A new array of `shape`, split into chunks of `chunks`, holding `dtype`. Defaults: zarr-python 2's
    /// blosc-lz4 compressor, no filters, fill value `null`, order C, separator `.`.
    pub fn new(shape: Vec<u64>, chunks: Vec<u64>, dtype: DataType) -> ArrayBuilder {
        ArrayBuilder {
            shape,
            chunks,
            dtype,
            compressor: Some(default_compressor()),
            filters: None,
            fill_value: Value::Null,
            order: Order::C,
            separator: Separator::Dot,
            attributes: None,
            overwrite: false,
            write_empty_chunks: false,
        }
    }

    /// The compressor config (`None` for uncompressed).
    pub fn compressor(mut self, config: Option<Value>) -> Self {
        self.compressor = config;
        self
    }

    /// The filter configs, applied in order before the compressor.
    pub fn filters(mut self, configs: Option<Vec<Value>>) -> Self {
        self.filters = configs.filter(|f| !f.is_empty());
        self
    }

    /// The fill value, in `.zarray`'s JSON encoding for the dtype.
    pub fn fill_value(mut self, value: Value) -> Self {
        self.fill_value = value;
        self
    }

    /// Element order inside chunks.
    pub fn order(mut self, order: Order) -> Self {
        self.order = order;
        self
    }

    /// Chunk key separator.
    pub fn separator(mut self, separator: Separator) -> Self {
        self.separator = separator;
        self
    }

    /// Attributes written to `.zattrs`.
    pub fn attributes(mut self, attrs: Map<String, Value>) -> Self {
        self.attributes = Some(attrs);
        self
    }

    /// Replace an existing array or group at the path (its keys are erased first).
    pub fn overwrite(mut self, yes: bool) -> Self {
        self.overwrite = yes;
        self
    }

    /// See [`Array::set_write_empty_chunks`].
    pub fn write_empty_chunks(mut self, yes: bool) -> Self {
        self.write_empty_chunks = yes;
        self
    }

    /// The metadata this builder describes, validated.
    ///
    /// # Errors
    /// [`ArrayError::Metadata`] naming the invalid field.
    pub fn metadata(&self) -> ArrayResult<ArrayMetadata> {
        let mut doc =
            ArrayMetadata::new(self.shape.clone(), self.chunks.clone(), self.dtype.clone())?
                .to_json();
        let obj = doc.as_object_mut().expect("metadata is an object");
        obj.insert(
            "compressor".into(),
            self.compressor.clone().unwrap_or(Value::Null),
        );
        obj.insert(
            "filters".into(),
            self.filters.clone().map_or(Value::Null, Value::from),
        );
        obj.insert("fill_value".into(), self.fill_value.clone());
        obj.insert(
            "order".into(),
            Value::from(if self.order == Order::C { "C" } else { "F" }),
        );
        obj.insert(
            "dimension_separator".into(),
            Value::from(self.separator.as_char().to_string()),
        );
        ArrayMetadata::from_json(&doc)
    }

    /// Creates the array at `path`, creating missing parent groups.
    ///
    /// # Errors
    /// [`ArrayError::AlreadyExists`] when a node is there and `overwrite` is off; metadata, codec and store
    /// errors.
    pub fn create(self, store: Arc<dyn Store>, path: &str) -> ArrayResult<Array> {
        let meta = self.metadata()?;
        let path = NodePath::new(path)?;
        let mut array = Array::from_metadata(store.clone(), path.clone(), meta)?;
        crate::group::prepare_node(&store, &path, self.overwrite)?;
        store.set(&path.key(".zarray")?, Bytes::from(array.meta.to_bytes()))?;
        if let Some(attrs) = &self.attributes {
            array.set_attributes(attrs)?;
        }
        array.write_empty_chunks = self.write_empty_chunks;
        Ok(array)
    }
}

//! Reads and writes of object (`|O`) arrays: each chunk decodes into owned values (strings,
//! byte strings, rows, JSON values) that are moved into the result one element at a time. The
//! fixed-size path's byte copies do not apply, so this path is separate and the fixed-size one
//! pays nothing for it.
//!
//! A sharded (Zarr v3) object array is read and written a whole shard at a time: its inner chunks
//! are decoded (in parallel) into one shard of values, which then stands for the chunk. Memory is
//! bounded by one shard's values per worker.

use std::sync::Mutex;

use ndarray::{ArrayBase, ArrayD, Data, Dimension, IxDyn};
use rayon::prelude::*;
use tessera_codec::object::{ObjectCodec, ObjectKind};
use tessera_store::{Bytes, StoreKey};

use super::Array;
use super::shard::{assemble_shard, inner_chunk, shard_index, unravel};
use super::write::chunk_lock;
use crate::access::{ArrayAccess, buffer_len};
use crate::copy::Dim;
use crate::error::{ArrayError, ArrayResult};
use crate::fancy::FancyPlan;
use crate::metadata::Order;
use crate::object::{ObjectElement, StoredObject};
use crate::par;
use crate::pipeline::ChunkCodecs;
use crate::plan::{ReadPlan, strides, strides_by_axes};
use crate::selection::{Fancy, IntoSelection, ResolvedSelection};
use crate::v3::{ChunkEncoding, ShardCodec};

/// Calls `f(source index, target index)` for every position of a region whose strides count
/// elements (the element-wise counterpart of the byte copies in [`crate::copy`]).
fn for_each_index(dims: &[Dim], mut f: impl FnMut(usize, usize)) {
    if dims.iter().any(|d| d.count == 0) {
        return;
    }
    let mut idx = vec![0usize; dims.len()];
    let (mut s, mut d) = (0usize, 0usize);
    loop {
        f(s, d);
        let mut k = dims.len();
        loop {
            if k == 0 {
                return;
            }
            k -= 1;
            idx[k] += 1;
            s += dims[k].src;
            d += dims[k].dst;
            if idx[k] < dims[k].count {
                break;
            }
            s -= dims[k].src * dims[k].count;
            d -= dims[k].dst * dims[k].count;
            idx[k] = 0;
        }
    }
}

/// `n` copies of `value`, or [`ArrayError::TooLarge`] when they cannot be allocated.
fn filled<T: Clone>(n: usize, value: &T) -> ArrayResult<Vec<T>> {
    buffer_len(n as u64, std::mem::size_of::<T>())?;
    let mut v = Vec::new();
    v.try_reserve_exact(n)
        .map_err(|_| ArrayError::TooLarge(format!("cannot allocate {n} object elements")))?;
    v.resize(n, value.clone());
    Ok(v)
}

fn codec_error(key: &StoreKey) -> impl FnOnce(tessera_codec::CodecError) -> ArrayError + '_ {
    move |source| ArrayError::Codec {
        key: key.to_string(),
        source,
    }
}

/// The codecs of a shard's inner chunks, when they are a plain encoding.
fn inner_codecs(shard: &ShardCodec) -> ArrayResult<&ChunkCodecs> {
    match &shard.inner {
        ChunkEncoding::Plain { codecs, .. } => Ok(codecs),
        ChunkEncoding::Sharded(_) => Err(ArrayError::unsupported(
            "sharding_indexed",
            "nested shards of variable-length values",
        )),
    }
}

impl Array {
    /// The codecs that encode an object array's values: the chunk's, or a shard's inner chunks'.
    pub(super) fn object_chunk_codecs(&self) -> &ChunkCodecs {
        match &self.meta.encoding {
            Some(encoding) => encoding.innermost_codecs(),
            None => &self.codecs,
        }
    }

    /// The object codec of an object (`|O`, or Zarr v3 `string`/`bytes`) array: `vlen-utf8`,
    /// `vlen-bytes`, ... (for a sharded array, its inner chunks'); `None` for other arrays.
    pub fn object_codec(&self) -> Option<&ObjectCodec> {
        self.object_chunk_codecs().chain().object_codec()
    }

    /// The object codec, when `T` is what it stores.
    fn object_codec_for<T: ObjectElement>(&self) -> ArrayResult<&ObjectCodec> {
        match self.object_codec() {
            Some(c) if T::matches(c) => Ok(c),
            Some(c) => Err(ArrayError::DataTypeMismatch {
                stored: format!("|O ({})", c.id()),
                requested: T::NAME.to_string(),
            }),
            None => Err(ArrayError::DataTypeMismatch {
                stored: self.meta.dtype.typestr(),
                requested: T::NAME.to_string(),
            }),
        }
    }

    /// The order of a chunk's values: json2 and msgpack2 nest them along the chunk shape in C
    /// order (numpy's `tolist()`); the vlen codecs write them in the array's memory order.
    fn object_order(&self, codec: &ObjectCodec) -> Vec<usize> {
        match codec.kind() {
            // A shard's values are assembled in C order (its inner chunks keep their own).
            _ if self.shard.is_some() => Order::C.axes(self.meta.rank()),
            ObjectKind::Json => Order::C.axes(self.meta.rank()),
            _ => self.meta.chunk_axis_order(),
        }
    }

    fn chunk_shape_usize(&self) -> Vec<usize> {
        self.meta.chunks.iter().map(|&c| c as usize).collect()
    }

    /// The values of one stored chunk (or shard), in [`object_order`](Self::object_order).
    fn decode_object_chunk<T: ObjectElement>(
        &self,
        key: &StoreKey,
        encoded: &[u8],
        codec: &ObjectCodec,
    ) -> ArrayResult<Vec<T>> {
        if let Some(shard) = &self.shard {
            return self.decode_object_shard(shard, key, encoded, codec);
        }
        let values = self
            .codecs
            .decode_objects(encoded, &self.chunk_shape_usize())
            .map_err(codec_error(key))?;
        T::from_values(values, codec)
    }

    /// One chunk's values encoded (a shard: its inner chunks and index); `None` when nothing is
    /// left to store (every inner chunk of a shard equal to the fill value).
    fn encode_object_chunk<T: ObjectElement>(
        &self,
        key: &StoreKey,
        chunk: Vec<T>,
        codec: &ObjectCodec,
        fill: &T,
    ) -> ArrayResult<Option<Vec<u8>>> {
        if let Some(shard) = &self.shard {
            return self.encode_object_shard(shard, key, &chunk, codec, fill);
        }
        let values = T::into_values(chunk, codec)?;
        self.codecs
            .encode_objects(&values, &self.chunk_shape_usize())
            .map(Some)
            .map_err(codec_error(key))
    }

    fn decode_object_shard<T: ObjectElement>(
        &self,
        shard: &ShardCodec,
        key: &StoreKey,
        encoded: &[u8],
        codec: &ObjectCodec,
    ) -> ArrayResult<Vec<T>> {
        let codecs = inner_codecs(shard)?;
        let inner_shape: Vec<usize> = shard.chunk_shape.iter().map(|&c| c as usize).collect();
        let index = shard_index(shard, key, encoded)?;
        let decoded: Vec<Option<Vec<T>>> = index
            .par_iter()
            .with_min_len(par::min_len())
            .map(|entry| {
                let Some(bytes) = inner_chunk(key, encoded, *entry)? else {
                    return Ok(None);
                };
                let values = codecs
                    .decode_objects(bytes, &inner_shape)
                    .map_err(codec_error(key))?;
                T::from_values(values, codec).map(Some)
            })
            .collect::<ArrayResult<_>>()?;
        let fill = T::from_fill(&self.meta.fill_value.to_json(), codec)?;
        let mut out = filled(buffer_len(self.meta.chunk_elements(), 1)?, &fill)?;
        for (i, items) in decoded.into_iter().enumerate() {
            let Some(items) = items else { continue };
            let (dst_off, dims) = shard.placement(&unravel(i as u64, &shard.chunks_per_shard), 1);
            let mut items: Vec<Option<T>> = items.into_iter().map(Some).collect();
            for_each_index(&dims, |s, d| {
                if let Some(v) = items[s].take() {
                    out[dst_off + d] = v;
                }
            });
        }
        Ok(out)
    }

    fn encode_object_shard<T: ObjectElement>(
        &self,
        shard: &ShardCodec,
        key: &StoreKey,
        items: &[T],
        codec: &ObjectCodec,
        fill: &T,
    ) -> ArrayResult<Option<Vec<u8>>> {
        let codecs = inner_codecs(shard)?;
        let inner_shape: Vec<usize> = shard.chunk_shape.iter().map(|&c| c as usize).collect();
        let inner_count = inner_shape.iter().product::<usize>();
        let keep_empty = self.write_empty_chunks || self.meta.fill_value.is_null();
        let encoded: Vec<Option<Vec<u8>>> = (0..shard.num_chunks() as usize)
            .into_par_iter()
            .with_min_len(par::min_len())
            .map(|i| {
                let (src_off, dims) =
                    shard.placement(&unravel(i as u64, &shard.chunks_per_shard), 1);
                let back: Vec<Dim> = dims.iter().map(|d| d.swapped()).collect();
                let mut inner = filled(inner_count, fill)?;
                for_each_index(&back, |s, d| inner[d] = items[src_off + s].clone());
                if !keep_empty && inner.iter().all(|v| v == fill) {
                    return Ok(None);
                }
                let values = T::into_values(inner, codec)?;
                codecs
                    .encode_objects(&values, &inner_shape)
                    .map(Some)
                    .map_err(codec_error(key))
            })
            .collect::<ArrayResult<_>>()?;
        assemble_shard(shard, key, encoded)
    }

    /// Reads a selection of an object (`|O`) array: `String` for `vlen-utf8`, `Vec<u8>` for
    /// `vlen-bytes`, `ndarray::Array1<T>` for `vlen-array`, `serde_json::Value` for `json2` and
    /// `msgpack2` (see [`ObjectElement`]). Chunks are fetched in one batch and decoded in parallel;
    /// missing chunks read as the fill value.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// use tessera_array::{ArrayBuilder, DataType};
    /// use tessera_store::MemoryStore;
    /// use ndarray::array;
    ///
    /// let store = Arc::new(MemoryStore::new());
    /// let names = ArrayBuilder::new(vec![3], vec![2], DataType::Object)
    ///     .filters(Some(vec![serde_json::json!({"id": "vlen-utf8"})]))
    ///     .create(store, "names")?;
    /// names.write_objects("1:3", &array!["Zürich".to_string(), "Oslo".to_string()])?;
    /// let got = names.read_objects::<String>(())?;
    /// assert_eq!(got.into_raw_vec_and_offset().0, ["", "Zürich", "Oslo"]);
    /// assert!(names.read::<f32>(()).is_err());
    /// # Ok::<(), tessera_array::ArrayError>(())
    /// ```
    ///
    /// # Errors
    /// [`ArrayError::DataTypeMismatch`] when `T` is not what the array's object codec stores (or the
    /// array is not an object array); [`ArrayError::Codec`] naming the chunk key for a chunk that
    /// does not decode (wrong item count, lengths past the end, invalid UTF-8, ...); selection and
    /// store errors.
    pub fn read_objects<T: ObjectElement>(
        &self,
        selection: impl IntoSelection,
    ) -> ArrayResult<ArrayD<T>> {
        let codec = self.object_codec_for::<T>()?;
        let sel = ArrayAccess::resolve(self, selection)?;
        let shape: Vec<usize> = sel.shape().iter().map(|&d| d as usize).collect();
        let data = self.read_objects_resolved::<T>(&sel, codec)?;
        Ok(ArrayD::from_shape_vec(IxDyn(&shape), data)
            .expect("the result has the selection's shape"))
    }

    fn read_objects_resolved<T: ObjectElement>(
        &self,
        sel: &ResolvedSelection,
        codec: &ObjectCodec,
    ) -> ArrayResult<Vec<T>> {
        let n = buffer_len(sel.num_elements(), 1)?;
        let fill = T::from_fill(&self.meta.fill_value.to_json(), codec)?;
        let out = filled(n, &fill)?;
        if let Some(fancy) = sel.fancy_positions() {
            return self.read_objects_fancy(sel, fancy, codec, out);
        }
        let plan = ReadPlan::new(sel.clone(), &self.meta.chunks);
        if plan.is_empty() || n == 0 {
            return Ok(out);
        }
        let keys = plan
            .regions()
            .map(|r| self.chunk_key(&r.chunk))
            .collect::<ArrayResult<Vec<_>>>()?;
        let out_strides = strides(&sel.full_shape(), 1, Order::C);
        let chunk_strides = strides_by_axes(&self.meta.chunks, 1, &self.object_order(codec));
        let out = Mutex::new(out);
        let error: Mutex<Option<ArrayError>> = Mutex::new(None);
        let failed = || error.lock().unwrap_or_else(|p| p.into_inner()).is_some();
        self.store.get_many(&keys, &|i, result| {
            if failed() {
                return;
            }
            let placed = result.map_err(ArrayError::from).and_then(|chunk| {
                // A missing chunk: the result already holds the fill value.
                let Some(encoded) = chunk else {
                    return Ok(());
                };
                let items = self.decode_object_chunk::<T>(&keys[i], &encoded, codec)?;
                let mut items: Vec<Option<T>> = items.into_iter().map(Some).collect();
                let (src_off, dst_off, dims) =
                    plan.region(i).geometry(&chunk_strides, &out_strides);
                let mut out = out.lock().unwrap_or_else(|p| p.into_inner());
                for_each_index(&dims, |s, d| {
                    if let Some(v) = items[src_off + s].take() {
                        out[dst_off + d] = v;
                    }
                });
                Ok(())
            });
            if let Err(e) = placed {
                error
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get_or_insert(e);
            }
        });
        match error.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(e) => Err(e),
            None => Ok(out.into_inner().unwrap_or_else(|p| p.into_inner())),
        }
    }

    /// Writes `data` (the selection's shape) into a selection of an object (`|O`) array; the
    /// element type is checked as for [`read_objects`](Self::read_objects). Chunks the write
    /// covers only in part are read, modified and written back; chunks are encoded in parallel.
    ///
    /// # Errors
    /// [`ArrayError::DataTypeMismatch`], [`ArrayError::ShapeMismatch`]; selection, store and codec
    /// errors (a value a codec cannot store, e.g. a row of the wrong length).
    pub fn write_objects<T: ObjectElement, S: Data<Elem = T>, D: Dimension>(
        &self,
        selection: impl IntoSelection,
        data: &ArrayBase<S, D>,
    ) -> ArrayResult<()> {
        let codec = self.object_codec_for::<T>()?;
        let sel = ArrayAccess::resolve(self, selection)?;
        let found: Vec<u64> = data.shape().iter().map(|&d| d as u64).collect();
        if found != sel.shape() {
            return Err(ArrayError::ShapeMismatch {
                expected: sel.shape(),
                found,
            });
        }
        // ndarray iterates in logical C order, the order the plan's input strides describe.
        let items: Vec<T> = data.iter().cloned().collect();
        self.write_objects_resolved(&sel, Some(&items), codec, false)
    }

    /// Sets a selection of an object array to the fill value (for `fill` and `resize`).
    pub(super) fn fill_objects(
        &self,
        sel: &ResolvedSelection,
        only_existing: bool,
    ) -> ArrayResult<()> {
        let codec = self.object_codec_for::<StoredObject>()?;
        self.write_objects_resolved::<StoredObject>(sel, None, codec, only_existing)
    }

    /// Writes `items` (C order, the selection's shape), or the fill value when `None`.
    fn write_objects_resolved<T: ObjectElement>(
        &self,
        sel: &ResolvedSelection,
        items: Option<&[T]>,
        codec: &ObjectCodec,
        only_existing: bool,
    ) -> ArrayResult<()> {
        if let Some(fancy) = sel.fancy_positions() {
            return self.write_objects_fancy(sel, fancy, items, codec, only_existing);
        }
        let plan = ReadPlan::new(sel.clone(), &self.meta.chunks);
        if plan.is_empty() || sel.num_elements() == 0 {
            return Ok(());
        }
        let fill = T::from_fill(&self.meta.fill_value.to_json(), codec)?;
        let count = buffer_len(self.meta.chunk_elements(), 1)?;
        let in_strides = strides(&sel.full_shape(), 1, Order::C);
        let chunk_strides = strides_by_axes(&self.meta.chunks, 1, &self.object_order(codec));
        (0..plan.len())
            .into_par_iter()
            .with_min_len(par::min_len())
            .try_for_each(|i| {
                let region = plan.region(i);
                let key = self.chunk_key(&region.chunk)?;
                let _guard = chunk_lock(&key);
                let whole = region.covers_chunk_within(&self.meta.chunks, &self.meta.shape);
                let mut chunk: Vec<T> = if whole && !only_existing {
                    filled(count, &fill)?
                } else {
                    match self.store.get(&key)? {
                        Some(encoded) => self.decode_object_chunk::<T>(&key, &encoded, codec)?,
                        None if only_existing => return Ok(()),
                        None => filled(count, &fill)?,
                    }
                };
                let (chunk_off, in_off, dims) = region.geometry(&chunk_strides, &in_strides);
                for_each_index(&dims, |c, s| {
                    chunk[chunk_off + c] = match items {
                        Some(items) => items[in_off + s].clone(),
                        None => fill.clone(),
                    };
                });
                self.store_object_chunk(&key, chunk, &fill, codec)
            })
    }

    /// Encodes and stores one chunk of objects, or removes it when it holds only the fill value.
    fn store_object_chunk<T: ObjectElement>(
        &self,
        key: &StoreKey,
        chunk: Vec<T>,
        fill: &T,
        codec: &ObjectCodec,
    ) -> ArrayResult<()> {
        // As for fixed-size chunks: with a `null` fill every chunk written is stored.
        let empty = !self.write_empty_chunks
            && !self.meta.fill_value.is_null()
            && chunk.iter().all(|v| v == fill);
        if empty {
            self.store.erase(key)?;
            return Ok(());
        }
        match self.encode_object_chunk(key, chunk, codec, fill)? {
            Some(encoded) => self.store.set(key, Bytes::from(encoded))?,
            None => self.store.erase(key)?,
        }
        Ok(())
    }

    /// A fancy selection of an object array: each touched chunk's box is read once, then scattered.
    fn read_objects_fancy<T: ObjectElement>(
        &self,
        sel: &ResolvedSelection,
        fancy: &Fancy,
        codec: &ObjectCodec,
        out: Vec<T>,
    ) -> ArrayResult<Vec<T>> {
        let plan = FancyPlan::new(fancy, &self.meta.chunks);
        let out_strides = plan.out_strides(sel);
        let out = Mutex::new(out);
        (0..plan.len())
            .into_par_iter()
            .with_min_len(par::min_len())
            .try_for_each(|i| {
                let chunk = plan.chunk(i);
                let bounds = chunk.bounding_selection(&self.meta.chunks, &self.meta.shape)?;
                let items = self.read_objects_resolved::<T>(&bounds, codec)?;
                let box_shape: Vec<u64> =
                    chunk.hi.iter().zip(&chunk.lo).map(|(h, l)| h - l).collect();
                let box_strides = strides(&box_shape, 1, Order::C);
                let mut out = out.lock().unwrap_or_else(|p| p.into_inner());
                chunk.for_each_run(
                    &plan,
                    &out_strides,
                    &box_strides,
                    &chunk.lo,
                    |o, l, len, os, ls| {
                        for k in 0..len {
                            out[o + k * os] = items[(l + k as isize * ls) as usize].clone();
                        }
                    },
                );
                Ok::<(), ArrayError>(())
            })?;
        Ok(out.into_inner().unwrap_or_else(|p| p.into_inner()))
    }

    /// Writes `items` (or the fill value) into a fancy selection of an object array: each touched
    /// chunk is read, modified and written back once.
    fn write_objects_fancy<T: ObjectElement>(
        &self,
        sel: &ResolvedSelection,
        fancy: &Fancy,
        items: Option<&[T]>,
        codec: &ObjectCodec,
        only_existing: bool,
    ) -> ArrayResult<()> {
        let fill = T::from_fill(&self.meta.fill_value.to_json(), codec)?;
        let count = buffer_len(self.meta.chunk_elements(), 1)?;
        let plan = FancyPlan::new(fancy, &self.meta.chunks);
        let in_strides = plan.out_strides(sel);
        let chunk_strides = strides_by_axes(&self.meta.chunks, 1, &self.object_order(codec));
        let origin = vec![0; self.meta.rank()];
        (0..plan.len())
            .into_par_iter()
            .with_min_len(par::min_len())
            .try_for_each(|i| {
                let touched = plan.chunk(i);
                let key = self.chunk_key(&touched.chunk)?;
                let _guard = chunk_lock(&key);
                let mut chunk: Vec<T> = match self.store.get(&key)? {
                    Some(encoded) => self.decode_object_chunk::<T>(&key, &encoded, codec)?,
                    None if only_existing => return Ok(()),
                    None => filled(count, &fill)?,
                };
                touched.for_each_run(
                    &plan,
                    &in_strides,
                    &chunk_strides,
                    &origin,
                    |o, l, len, os, ls| {
                        for k in 0..len {
                            chunk[(l + k as isize * ls) as usize] = match items {
                                Some(items) => items[o + k * os].clone(),
                                None => fill.clone(),
                            };
                        }
                    },
                );
                self.store_object_chunk(&key, chunk, &fill, codec)
            })
    }
}

//! The write path: encode in parallel; a chunk the write covers only in part is read, modified and
//! written back through the store's [`update`](tessera_store::WritableStore::update), which no other
//! writer of the chunk, in any process, can interleave with.

use std::sync::{LazyLock, Mutex, MutexGuard};

use rayon::prelude::*;

use tessera_store::{Bytes, StoreKey, Update};

use super::Array;
use super::read::is_one_run;
use crate::access::buffer_len;
use crate::copy::{self, Dim};
use crate::error::{ArrayError, ArrayResult};
use crate::metadata::Order;
use crate::par;
use crate::plan::{ChunkRegion, ReadPlan, strides, strides_by_axes};
use crate::selection::ResolvedSelection;

/// Where the data of a write comes from.
#[derive(Clone, Copy)]
pub(super) enum Source<'a> {
    /// C-order elements of the selection's shape, in the stored dtype and byte order.
    Bytes(&'a [u8]),
    /// The fill value everywhere.
    Fill,
}

/// Process-wide locks queueing the read-modify-write cycles of one chunk by threads of this process
/// (the store's update excludes other processes; this spares threads the retries of colliding).
static CHUNK_LOCKS: LazyLock<Vec<Mutex<()>>> =
    LazyLock::new(|| (0..1024).map(|_| Mutex::new(())).collect());

/// A held chunk lock. The thread's parallel loops run serially while it is held (see
/// [`crate::par`]): waiting for a parallel loop, a thread could steal a task that wants this lock.
pub(super) struct ChunkLock {
    _guard: MutexGuard<'static, ()>,
    _serial: par::Serial,
}

pub(super) fn chunk_lock(key: &StoreKey) -> ChunkLock {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    key.as_str().hash(&mut h);
    let lock = &CHUNK_LOCKS[(h.finish() % CHUNK_LOCKS.len() as u64) as usize];
    // Serial before blocking: nothing is stolen while waiting for the lock either.
    let serial = par::serial();
    ChunkLock {
        _guard: lock.lock().unwrap_or_else(|p| p.into_inner()),
        _serial: serial,
    }
}

impl Array {
    pub(super) fn write_bytes(&self, sel: &ResolvedSelection, bytes: &[u8]) -> ArrayResult<()> {
        self.refuse_object_bytes()?;
        let itemsize = self.meta.dtype.itemsize();
        if bytes.len() != buffer_len(sel.num_elements(), itemsize)? {
            return Err(ArrayError::ShapeMismatch {
                expected: sel.shape(),
                found: vec![(bytes.len() / itemsize.max(1)) as u64],
            });
        }
        sel.check_array_shape(&self.meta.shape)?;
        self.write_selection(sel, Source::Bytes(bytes), false)
    }

    pub(super) fn write_selection(
        &self,
        sel: &ResolvedSelection,
        source: Source<'_>,
        only_existing: bool,
    ) -> ArrayResult<()> {
        if self.meta.dtype.is_object() {
            return match source {
                Source::Fill => self.fill_objects(sel, only_existing),
                Source::Bytes(_) => self.refuse_object_bytes(),
            };
        }
        if let Some(fancy) = sel.fancy_positions() {
            return self.write_fancy(sel, fancy, source, only_existing);
        }
        let itemsize = self.meta.dtype.itemsize();
        let plan = ReadPlan::new(sel.clone(), &self.meta.chunks);
        if plan.is_empty() || sel.num_elements() == 0 {
            return Ok(());
        }
        let in_strides = strides(&sel.full_shape(), itemsize, Order::C);
        let chunk_strides =
            strides_by_axes(&self.meta.chunks, itemsize, &self.meta.chunk_axis_order());
        (0..plan.len())
            .into_par_iter()
            .with_min_len(par::min_len())
            .try_for_each(|i| {
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
        let dims: Vec<Dim> = out_dims.iter().map(|d| d.swapped()).collect();
        let chunk_bytes = self.meta.chunk_bytes();
        let whole = region.covers_chunk(&self.meta.chunks);

        // Fast path: the write replaces a whole chunk that is one contiguous run of the input. The
        // store replaces the value atomically, ordered with every update of the same key.
        if let (true, Source::Bytes(input), false) = (whole, source, only_existing)
            && is_one_run(&dims, itemsize)
            && in_off + chunk_bytes <= input.len()
        {
            return self.store_chunk(&key, &input[in_off..in_off + chunk_bytes]);
        }

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
        let write_region = |buf: &mut [u8]| match source {
            Source::Bytes(input) => {
                copy::copy_region(input, in_off, buf, chunk_off, &dims, itemsize)
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
        };
        // Everything of the chunk inside the array is written: nothing of the old value survives.
        if region.covers_chunk_within(&self.meta.chunks, &self.meta.shape) && !only_existing {
            let mut buf = vec![0u8; chunk_bytes];
            fill_whole(&mut buf);
            write_region(&mut buf);
            return self.store_chunk(&key, &buf);
        }

        self.modify_chunk(&key, only_existing, &write_region)
    }

    /// Reads, modifies (with `modify`, on the decoded chunk) and writes back one chunk, through the
    /// store's update, which no other writer of this chunk, in this process or another, can
    /// interleave with. A missing chunk starts as the fill value, or is left alone when
    /// `only_existing`.
    pub(super) fn modify_chunk(
        &self,
        key: &StoreKey,
        only_existing: bool,
        modify: &dyn Fn(&mut [u8]),
    ) -> ArrayResult<()> {
        let itemsize = self.meta.dtype.itemsize();
        let chunk_bytes = self.meta.chunk_bytes();
        let fill = self.meta.fill_value.bytes();
        // The process-wide lock first lets threads of one process queue instead of colliding (on
        // object stores a collision costs a retry).
        let _guard = chunk_lock(key);
        // Forgotten before (so no reader keeps the old chunk) and after (a reader that fetched it
        // meanwhile is refused by the cache's generation).
        self.forget_chunk(key);
        let mut failure = None;
        let result = self.store.update(key, &mut |current| {
            let mut buf = vec![0u8; chunk_bytes];
            let modified = (|| {
                match current {
                    Some(encoded) => self.decode_chunk(key, &encoded, &mut buf)?,
                    None if only_existing => return Ok(Update::Keep),
                    None => {
                        let whole_dims = [Dim {
                            count: buf.len() / itemsize.max(1),
                            src: 0,
                            dst: itemsize,
                        }];
                        // SAFETY: `buf` is exclusively ours and the region is all of it.
                        unsafe {
                            copy::fill_region_raw(fill, buf.as_mut_ptr(), buf.len(), 0, &whole_dims)
                        };
                    }
                }
                modify(&mut buf);
                self.chunk_update(key, &buf)
            })();
            modified.unwrap_or_else(|e| {
                failure = Some(e);
                Update::Keep
            })
        });
        self.forget_chunk(key);
        result?;
        failure.map_or(Ok(()), Err)
    }

    /// Whether a decoded chunk is left unstored: it holds only the fill value, empty chunks are not
    /// written, and the fill value is not `null` (with a `null` fill value a missing chunk has no
    /// defined content, zarr-python 2 returns uninitialised memory, so chunks are always stored).
    fn drops_chunk(&self, decoded: &[u8]) -> bool {
        let fill = &self.meta.fill_value;
        !self.write_empty_chunks && !fill.is_null() && fill.matches_chunk(decoded)
    }

    /// Encodes a decoded chunk (or shard) for storing; `None` for a shard whose inner chunks all hold
    /// the fill value (nothing to store).
    fn encode_chunk(&self, key: &StoreKey, decoded: &[u8]) -> ArrayResult<Option<Bytes>> {
        if let Some(shard) = &self.shard {
            let encoded = super::shard::encode_shard(shard, self.shard_context(), key, decoded)?;
            return Ok(encoded.map(Bytes::from));
        }
        if self.codecs.is_identity() {
            return Ok(Some(Bytes::copy_from_slice(decoded)));
        }
        // The dtype and chunk shape as zarr-python hands them to numcodecs: pcodec stores the
        // element type.
        let layout = tessera_codec::ChunkLayout::new(
            &self.meta.dtype.typestr(),
            self.meta.dtype.itemsize(),
            self.meta.chunks.iter().map(|&c| c as usize).collect(),
        );
        self.codecs
            .encode_chunk(decoded, &layout)
            .map(|encoded| Some(Bytes::from(encoded)))
            .map_err(|source| ArrayError::Codec {
                key: key.to_string(),
                source,
            })
    }

    /// What an update stores for a modified chunk: its encoding, or no value when it is dropped (with
    /// the encoding as the fallback for stores that cannot delete conditionally).
    fn chunk_update(&self, key: &StoreKey, decoded: &[u8]) -> ArrayResult<Update> {
        let encoded = self.encode_chunk(key, decoded)?;
        match encoded {
            Some(encoded) if !self.drops_chunk(decoded) => Ok(Update::Set(encoded)),
            fallback => Ok(Update::Erase { fallback }),
        }
    }

    /// Encodes and stores one chunk, or removes it when it holds only the fill value.
    pub(super) fn store_chunk(&self, key: &StoreKey, decoded: &[u8]) -> ArrayResult<()> {
        self.forget_chunk(key);
        let stored = self.store_chunk_uncached(key, decoded);
        self.forget_chunk(key);
        stored
    }

    fn store_chunk_uncached(&self, key: &StoreKey, decoded: &[u8]) -> ArrayResult<()> {
        if self.drops_chunk(decoded) {
            self.store.erase(key)?;
            return Ok(());
        }
        match self.encode_chunk(key, decoded)? {
            Some(encoded) => self.store.set(key, encoded)?,
            None => self.store.erase(key)?,
        }
        Ok(())
    }
}

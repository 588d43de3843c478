//! The write path: encode in parallel; a chunk the write covers only in part is read, modified and
//! written back under a process-wide lock for its key.

use std::sync::{LazyLock, Mutex, MutexGuard};

use rayon::prelude::*;

use tessera_store::{Bytes, StoreKey};

use super::Array;
use super::read::is_one_run;
use crate::access::buffer_len;
use crate::copy::{self, Dim};
use crate::error::{ArrayError, ArrayResult};
use crate::metadata::Order;
use crate::plan::{ChunkRegion, ReadPlan, strides};
use crate::selection::ResolvedSelection;

/// Where the data of a write comes from.
#[derive(Clone, Copy)]
pub(super) enum Source<'a> {
    /// C-order elements of the selection's shape, in the stored dtype and byte order.
    Bytes(&'a [u8]),
    /// The fill value everywhere.
    Fill,
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

impl Array {
    pub(super) fn write_bytes(&self, sel: &ResolvedSelection, bytes: &[u8]) -> ArrayResult<()> {
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

    pub(super) fn write_selection(
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
        let dims: Vec<Dim> = out_dims.iter().map(|d| d.swapped()).collect();
        let chunk_bytes = self.meta.chunk_bytes();
        let whole = region.covers_chunk(&self.meta.chunks);

        // Fast path: the write replaces a whole chunk that is one contiguous run of the input.
        if let (true, Source::Bytes(input), false) = (whole, source, only_existing)
            && is_one_run(&dims, itemsize)
            && in_off + chunk_bytes <= input.len()
        {
            let _guard = chunk_lock(&key);
            return self.store_chunk(&key, &input[in_off..in_off + chunk_bytes]);
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
    pub(super) fn store_chunk(&self, key: &StoreKey, decoded: &[u8]) -> ArrayResult<()> {
        // With a `null` fill value a missing chunk has no defined content (zarr-python 2 returns
        // uninitialised memory), so chunks are always stored.
        let fill = &self.meta.fill_value;
        if !self.write_empty_chunks && !fill.is_null() && fill.matches_chunk(decoded) {
            self.store.erase(key)?;
            return Ok(());
        }
        if let Some(shard) = &self.shard {
            return match super::shard::encode_shard(shard, self.shard_context(), key, decoded)? {
                Some(encoded) => Ok(self.store.set(key, Bytes::from(encoded))?),
                None => Ok(self.store.erase(key)?),
            };
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
}

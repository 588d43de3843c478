//! Changing an array's shape: [`resize`](Array::resize), [`append`](Array::append) and
//! [`reload`](Array::reload), ordered so that a failure at any step leaves a readable array and the
//! same call can be retried.
//!
//! - Growing writes data first and metadata last. Whatever lies beyond the old shape (a failed
//!   append's rows, a shrink that stopped before its clean-up, another writer's leftovers) is garbage,
//!   so `resize` resets it to the fill value before the new `.zarray` exposes it; `append` overwrites
//!   it with the new rows. Until the `.zarray` is written, readers see the old shape.
//! - Shrinking writes metadata first, then removes the chunks outside the new shape and resets the cut
//!   part of the boundary chunks (so other tools that grow the array later show fill values there).
//!   A failure after the `.zarray` leaves garbage beyond the shape, which the next grow clears.

use std::ops::Range;
use std::sync::{LazyLock, Mutex, MutexGuard};

use ndarray::{ArrayBase, Data, Dimension};
use rayon::prelude::*;
use tessera_store::{Bytes, StoreKey, Update};

use super::Array;
use super::write::Source;
use crate::access::ArrayAccess;
use crate::element::Element;
use crate::error::{ArrayError, ArrayResult};
use crate::metadata::{ArrayMetadata, ZarrFormat};
use crate::par;
use crate::selection::{AxisRange, ResolvedSelection, Selection};

/// Process-wide locks serialising shape changes of one array (striped by `.zarray` key; a separate
/// table from the chunk locks, which are taken while one of these is held).
static SHAPE_LOCKS: LazyLock<Vec<Mutex<()>>> =
    LazyLock::new(|| (0..64).map(|_| Mutex::new(())).collect());

fn shape_lock(key: &StoreKey) -> MutexGuard<'static, ()> {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    key.as_str().hash(&mut h);
    let lock = &SHAPE_LOCKS[(h.finish() % SHAPE_LOCKS.len() as u64) as usize];
    lock.lock().unwrap_or_else(|p| p.into_inner())
}

/// Whole ranges over `shape`.
fn full(shape: &[u64]) -> Vec<AxisRange> {
    shape
        .iter()
        .map(|&len| AxisRange {
            start: 0,
            count: len,
            step: 1,
            keep: true,
        })
        .collect()
}

impl Array {
    /// Re-reads the array's `.zarray` (its shape above all), for a handle that another handle or
    /// process may have resized.
    ///
    /// # Errors
    /// [`ArrayError::NotFound`] when the `.zarray` is gone; metadata, codec and store errors.
    pub fn reload(&mut self) -> ArrayResult<()> {
        let key = self.path.key(self.meta.document_name())?;
        let bytes = self.store.get(&key)?;
        *self = self.reopened_from(bytes.as_deref())?;
        Ok(())
    }

    /// A handle on the same array from its metadata document as stored (`None`: gone).
    fn reopened_from(&self, bytes: Option<&[u8]>) -> ArrayResult<Array> {
        let bytes = bytes.ok_or_else(|| ArrayError::NotFound {
            kind: "array",
            path: self.path.as_str().to_string(),
        })?;
        let meta = match self.meta.format {
            ZarrFormat::V2 => ArrayMetadata::parse(bytes)?,
            ZarrFormat::V3 => ArrayMetadata::parse_v3(bytes)?,
        };
        let mut fresh = Array::from_metadata(self.store.clone(), self.path.clone(), meta)?;
        fresh.write_empty_chunks = self.write_empty_chunks;
        // The same cache, emptied: the shape (or the data beyond it) may have changed.
        fresh.cache = self.cache.clone();
        if let Some(cache) = &fresh.cache {
            cache.clear();
        }
        Ok(fresh)
    }

    /// Runs one shape change as a read-modify-write of the metadata document through the store's
    /// [`update`](tessera_store::WritableStore::update): `change` gets a handle at the shape stored
    /// now, does the data part (writes beyond the old shape) and returns the handle at the new shape,
    /// whose document (after the consolidated metadata above it) is the update's value. On the
    /// filesystem and in memory the update holds the document's lock throughout, so shape changes
    /// from any number of processes take turns and each starts from the last one's shape. On object
    /// stores a second writer makes the conditional put fail; the change is then not applied and
    /// [`ArrayError::ConcurrentShapeChange`] is returned. Returns the handles before and after.
    fn change_shape(
        &self,
        mut change: impl FnMut(&Array) -> ArrayResult<Array>,
    ) -> ArrayResult<(Array, Array)> {
        let name = self.meta.document_name();
        let key = self.path.key(name)?;
        let mut runs = 0;
        let mut outcome: Option<ArrayResult<(Array, Array)>> = None;
        self.store.update(&key, &mut |stored| {
            runs += 1;
            if runs > 1 {
                outcome = Some(Err(ArrayError::ConcurrentShapeChange {
                    path: self.path.as_str().to_string(),
                }));
                return Update::Keep;
            }
            let result = self.reopened_from(stored.as_deref()).and_then(|before| {
                let after = change(&before)?;
                let pending = (name, after.meta.to_json());
                crate::consolidated::sync_with(&self.store, &self.path, false, Some(pending))?;
                Ok((before, after))
            });
            let update = match &result {
                Ok((_, after)) => Update::Set(Bytes::from(after.meta.to_bytes())),
                Err(_) => Update::Keep,
            };
            outcome = Some(result);
            update
        })?;
        outcome.unwrap_or_else(|| {
            Err(ArrayError::NotFound {
                kind: "array",
                path: self.path.as_str().to_string(),
            })
        })
    }

    /// Changes the shape, starting from the shape stored now (see the concurrency contract on
    /// [`Array`]). Growing resets whatever lies beyond the old shape to the fill value before the new
    /// metadata is written; shrinking writes the metadata, then removes the chunks wholly outside the
    /// new shape and resets the cut part of the chunks on its edge. Safe to retry after a failure.
    ///
    /// # Errors
    /// [`ArrayError::ShapeMismatch`] when the rank changes; store and codec errors.
    pub fn resize(&mut self, new_shape: &[u64]) -> ArrayResult<()> {
        let key = self.path.key(self.meta.document_name())?;
        let _guard = shape_lock(&key);
        let (before, after) = self.change_shape(|current| {
            let old = &current.meta.shape;
            if new_shape.len() != old.len() {
                return Err(ArrayError::ShapeMismatch {
                    expected: old.clone(),
                    found: new_shape.to_vec(),
                });
            }
            let next = current.with_shape(new_shape)?;
            if new_shape.iter().zip(old).any(|(n, o)| n > o) {
                current.clear_beyond(old, new_shape)?;
            }
            Ok(next)
        })?;
        *self = after;
        if new_shape.iter().zip(&before.meta.shape).any(|(n, o)| n < o) {
            // The clean-up after a shrink runs under the document's lock too, and only while the
            // document still holds this shape: another process may have grown the array since.
            let written = self.meta.to_bytes();
            let mut result = Ok(());
            self.store.update(&key, &mut |stored| {
                if stored.as_deref() == Some(&written[..]) {
                    result = before
                        .drop_chunks_outside(&self.meta.grid_shape())
                        .and_then(|()| before.reset_cut_edges(new_shape));
                }
                Update::Keep
            })?;
            result?;
        }
        Ok(())
    }

    /// Appends `data` along `axis`, after the rows stored now (see the concurrency contract on
    /// [`Array`]): the data is written first, the grown `.zarray` last. Safe to retry after a failure.
    ///
    /// # Errors
    /// [`ArrayError::ShapeMismatch`] when `data` does not match the other axes; type, store and codec
    /// errors.
    pub fn append<T: Element, S: Data<Elem = T>, D: Dimension>(
        &mut self,
        data: &ArrayBase<S, D>,
        axis: usize,
    ) -> ArrayResult<()> {
        self.check_element::<T>()?;
        let _guard = shape_lock(&self.path.key(self.meta.document_name())?);
        let (_, grown) = self.change_shape(|current| {
            let (grown, region) = current.grown_for_append(data.shape(), axis)?;
            grown.write(region, data)?;
            Ok(grown)
        })?;
        *self = grown;
        Ok(())
    }

    /// Appends raw bytes (stored dtype and byte order, C order, shape `shape`) along `axis`.
    ///
    /// # Errors
    /// As [`append`](Array::append).
    pub fn append_raw(&mut self, bytes: &[u8], shape: &[usize], axis: usize) -> ArrayResult<()> {
        let _guard = shape_lock(&self.path.key(self.meta.document_name())?);
        let (_, grown) = self.change_shape(|current| {
            let (grown, region) = current.grown_for_append(shape, axis)?;
            grown.write_raw(region, bytes)?;
            Ok(grown)
        })?;
        *self = grown;
        Ok(())
    }

    /// A handle with the array's metadata at `shape` (validated), not yet written.
    fn with_shape(&self, shape: &[u64]) -> ArrayResult<Array> {
        let mut next = self.meta.clone();
        next.shape = shape.to_vec();
        let next = match next.format {
            ZarrFormat::V2 => ArrayMetadata::from_json(&next.to_json())?,
            ZarrFormat::V3 => ArrayMetadata::from_v3_json(&next.to_json())?,
        };
        let mut array = self.clone();
        array.meta = next;
        Ok(array)
    }

    /// The grown handle and the region the appended data goes to.
    fn grown_for_append(&self, shape: &[usize], axis: usize) -> ArrayResult<(Array, Selection)> {
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
        new_shape[axis] = old[axis].checked_add(found[axis]).ok_or_else(|| {
            ArrayError::TooLarge(format!(
                "appending {} to axis {axis} of length {} overflows",
                found[axis], old[axis]
            ))
        })?;
        let ranges: Vec<Range<u64>> = (0..old.len())
            .map(|a| {
                if a == axis {
                    old[a]..new_shape[a]
                } else {
                    0..old[a]
                }
            })
            .collect();
        Ok((
            self.with_shape(&new_shape)?,
            Selection::from_ranges(&ranges),
        ))
    }

    /// Resets every stored element beyond `old` (and within `new`, a larger shape) to the fill value:
    /// chunks wholly beyond `old` are removed, chunks straddling it are rewritten.
    fn clear_beyond(&self, old: &[u64], new: &[u64]) -> ArrayResult<()> {
        let chunks = &self.meta.chunks;
        let prefix = self.path.prefix();
        let listing = self.store.list_prefix(&prefix)?;
        let mut doomed = Vec::new();
        let mut straddling = Vec::new();
        for key in listing {
            let name = &key.as_str()[prefix.as_str().len()..];
            let Some(coords) = self.parse_chunk_name(name) else {
                continue;
            };
            // Saturating: a stray key may name a chunk far beyond any shape.
            let start: Vec<u64> = coords
                .iter()
                .zip(chunks)
                .map(|(c, n)| c.saturating_mul(*n))
                .collect();
            let end: Vec<u64> = start
                .iter()
                .zip(chunks)
                .map(|(s, n)| s.saturating_add(*n))
                .collect();
            let visible = start.iter().zip(new).all(|(s, n)| s < n);
            if !visible || end.iter().zip(old).all(|(e, o)| e <= o) {
                continue;
            }
            if start.iter().zip(old).any(|(s, o)| s >= o) {
                doomed.push(key);
            } else {
                straddling.push((start, end));
            }
        }
        doomed
            .par_iter()
            .with_min_len(par::min_len())
            .try_for_each(|key| self.store.erase(key).map_err(ArrayError::from))?;
        // The part of a straddling chunk beyond `old`: for each axis, the slab past `old` on that
        // axis (the slabs overlap; resetting twice is harmless).
        let padded: Vec<u64> = old
            .iter()
            .zip(new)
            .zip(chunks)
            .map(|((o, n), c)| (*o).max(*n).div_ceil(*c).saturating_mul(*c))
            .collect();
        let mut pad = self.clone();
        pad.meta.shape = padded.clone();
        for (start, end) in straddling {
            for axis in 0..old.len() {
                if end[axis] <= old[axis] {
                    continue;
                }
                let mut axes = full(&padded);
                for (a, range) in axes.iter_mut().enumerate() {
                    let lo = if a == axis { old[a] } else { start[a] };
                    range.start = lo;
                    range.count = end[a] - lo;
                }
                let sel = ResolvedSelection::from_axes(axes, &padded)?;
                pad.write_selection(&sel, Source::Fill, true)?;
            }
        }
        Ok(())
    }

    /// Removes the stored chunks outside a grid of `grid` chunks.
    pub(super) fn drop_chunks_outside(&self, grid: &[u64]) -> ArrayResult<()> {
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
            .with_min_len(par::min_len())
            .try_for_each(|key| self.store.erase(key).map_err(ArrayError::from))
    }

    /// On this (old-shape) handle: resets the part of the chunks on the edge of `new_shape` that the
    /// shrink cut off, so growing again later shows fill values there, not stale data.
    fn reset_cut_edges(&self, new_shape: &[u64]) -> ArrayResult<()> {
        let old = &self.meta.shape;
        for axis in 0..old.len() {
            let c = self.meta.chunks[axis];
            let (n, o) = (new_shape[axis], old[axis]);
            if n < o && n % c != 0 {
                let stop = o.min(n.div_ceil(c).saturating_mul(c));
                let mut axes = full(old);
                axes[axis].start = n;
                axes[axis].count = stop - n;
                let sel = ResolvedSelection::from_axes(axes, old)?;
                self.write_selection(&sel, Source::Fill, true)?;
            }
        }
        Ok(())
    }
}

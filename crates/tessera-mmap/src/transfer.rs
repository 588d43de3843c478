//! Streaming import and export between raw/`.npy` files and Zarr arrays, with bounded memory.
//!
//! Both directions move the data in blocks of at most [`TransferOptions::memory_limit`] bytes (but never
//! less than one chunk), so an array far larger than memory converts with a small, fixed buffer:
//!
//! - **import** ([`import_into_zarr`]): the Zarr array is created from an [`ArrayBuilder`] and filled in
//!   chunk-aligned blocks, each read from the mapped file and written whole chunks at a time (no chunk is
//!   read back and rewritten). Blocks are cut along the file's slowest axis (the first for C order, the
//!   last for F order), so each block is one sequential stretch of the file where possible.
//! - **export** ([`export_selection_to_npy`], [`export_selection_to_raw`]): a selection of a Zarr array
//!   is read in slabs that are contiguous in the C-order output, aligned to chunk boundaries where the
//!   limit allows, and appended to the file in order. The file is written under a temporary name and
//!   renamed into place at the end, so a failed export leaves no half-written file behind.
//!
//! ```
//! use std::sync::Arc;
//! use tessera_array::{ArrayAccess, DataType};
//! use tessera_mmap::{MmapArray, RawLayout, TransferOptions, builder_for, export_selection_to_npy, import_into_zarr};
//! use tessera_store::MemoryStore;
//! use ndarray::Array2;
//!
//! let dir = tempfile::tempdir()?;
//! let layout = RawLayout::new(DataType::parse_typestr("<u2")?, vec![300, 40]);
//! // SAFETY: a fresh file in a private temporary directory.
//! let src = unsafe { MmapArray::create(dir.path().join("in.npy"), &layout) }?;
//! src.write((), &Array2::<u16>::from_shape_fn((300, 40), |(i, j)| (i * 40 + j) as u16))?;
//!
//! let options = TransferOptions::new(4096); // far smaller than the 24 000-byte array
//! let store = Arc::new(MemoryStore::new());
//! let zarr = import_into_zarr(&src, builder_for(&src, vec![32, 16]), store, "a", &options)?;
//! assert_eq!(zarr.read::<u16>("299, 39:")?.sum(), 11999);
//!
//! let sel = zarr.resolve("10:20, ::8")?;
//! export_selection_to_npy(&zarr, &sel, &dir.path().join("out.npy"), &options)?;
//! // SAFETY: as above.
//! let out = unsafe { MmapArray::open(dir.path().join("out.npy"), Default::default()) }?;
//! assert_eq!(out.read::<u16>(())?, zarr.read::<u16>("10:20, ::8")?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tessera_array::{
    Array, ArrayAccess, ArrayBuilder, ArrayError, AxisRange, Order, ResolvedSelection,
};
use tessera_store::Store;

use crate::array::MmapArray;
use crate::error::{MmapError, MmapResult};
use crate::layout::{RawLayout, default_sidecar_path};
use crate::npy::NpyHeader;

/// The memory limit when none is given: 64 MiB.
pub const DEFAULT_MEMORY_LIMIT: usize = 64 << 20;

/// Settings of an import or export.
#[derive(Clone, Copy)]
pub struct TransferOptions<'a> {
    memory_limit: usize,
    progress: Option<&'a dyn Fn(u64, u64)>,
    overwrite: bool,
}

impl std::fmt::Debug for TransferOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransferOptions")
            .field("memory_limit", &self.memory_limit)
            .field("progress", &self.progress.is_some())
            .field("overwrite", &self.overwrite)
            .finish()
    }
}

impl Default for TransferOptions<'_> {
    fn default() -> Self {
        TransferOptions::new(DEFAULT_MEMORY_LIMIT)
    }
}

impl<'a> TransferOptions<'a> {
    /// Blocks of at most `memory_limit` bytes (one chunk at least), no progress reports, no overwriting.
    pub fn new(memory_limit: usize) -> TransferOptions<'a> {
        TransferOptions {
            memory_limit: memory_limit.max(1),
            progress: None,
            overwrite: false,
        }
    }

    /// Calls `report(bytes_done, bytes_total)` after each block (and once at the start with 0).
    pub fn progress(mut self, report: &'a dyn Fn(u64, u64)) -> Self {
        self.progress = Some(report);
        self
    }

    /// Exports: replace an existing output file (and sidecar) instead of refusing. (An import replaces
    /// an existing Zarr array when its [`ArrayBuilder::overwrite`] says so.)
    pub fn overwrite(mut self, yes: bool) -> Self {
        self.overwrite = yes;
        self
    }

    /// The largest block, in bytes.
    pub fn memory_limit(&self) -> usize {
        self.memory_limit
    }

    fn report(&self, done: u64, total: u64) {
        if let Some(f) = self.progress {
            f(done, total);
        }
    }
}

/// A builder for a Zarr array with the shape and dtype of `src`, chunked as `chunks`, with the builder's
/// defaults otherwise (blosc-lz4, fill value `null`, C order).
pub fn builder_for(src: &MmapArray, chunks: Vec<u64>) -> ArrayBuilder {
    ArrayBuilder::new(src.shape().to_vec(), chunks, src.dtype().clone())
}

/// Creates a Zarr array at `path` in `store` from `builder` and copies `src` into it, block by block.
///
/// The builder's shape must equal the source's; its dtype must be the source's, byte order aside (a
/// big-endian file may become a little-endian array: values are converted, never reinterpreted).
///
/// # Errors
/// [`ArrayError::ShapeMismatch`] / [`ArrayError::DataTypeMismatch`] (as [`MmapError::Array`]) when the
/// builder does not describe the source; the errors of [`ArrayBuilder::create`] (an existing array is
/// refused unless the builder overwrites) and of the writes.
pub fn import_into_zarr(
    src: &MmapArray,
    builder: ArrayBuilder,
    store: Arc<dyn Store>,
    path: &str,
    options: &TransferOptions<'_>,
) -> MmapResult<Array> {
    let meta = builder.metadata()?;
    if meta.shape != src.shape() {
        return Err(ArrayError::ShapeMismatch {
            expected: src.shape().to_vec(),
            found: meta.shape,
        }
        .into());
    }
    let (from, to) = (src.dtype().clone(), meta.dtype.clone());
    if from.to_native() != to.to_native() {
        return Err(ArrayError::DataTypeMismatch {
            stored: from.typestr(),
            requested: format!("an array of {}", to.typestr()),
        }
        .into());
    }
    let convert = from != to;
    let array = builder.create(store, path)?;
    let itemsize = from.itemsize();
    let total = src.nbytes() as u64;
    options.report(0, total);
    if total == 0 && !src.shape().is_empty() {
        return Ok(array);
    }
    let block = import_block(
        src.shape(),
        array.chunks(),
        itemsize,
        options.memory_limit,
        src.order(),
    );
    let mut buf = Vec::new();
    let mut done = 0u64;
    for ranges in block_grid(src.shape(), &block) {
        let sel = ResolvedSelection::from_axes(ranges, src.shape())?;
        let n = (sel.num_elements() as usize) * itemsize;
        buf.resize(n, 0);
        src.read_into(&sel, &mut buf[..n])?;
        if convert {
            // Stored order -> native -> the array's order (each swap is its own inverse).
            from.swap_to_native(&mut buf[..n]);
            to.swap_to_native(&mut buf[..n]);
        }
        array.write_resolved(&sel, &buf[..n])?;
        done += n as u64;
        options.report(done, total);
    }
    Ok(array)
}

/// Block shape for an import: the whole array, cut along the file's slowest axes to multiples of the
/// chunk shape until a block fits `limit` (or is down to one chunk along every axis cut).
fn import_block(
    shape: &[u64],
    chunks: &[u64],
    itemsize: usize,
    limit: usize,
    order: Order,
) -> Vec<u64> {
    let mut block: Vec<u64> = shape.iter().map(|&d| d.max(1)).collect();
    let axes: Vec<usize> = match order {
        Order::C => (0..shape.len()).collect(),
        Order::F => (0..shape.len()).rev().collect(),
    };
    let bytes = |b: &[u64]| b.iter().fold(itemsize as u128, |a, &d| a * d as u128);
    for axis in axes {
        if bytes(&block) <= limit as u128 {
            break;
        }
        let inner = bytes(&block) / block[axis] as u128;
        let chunk = chunks[axis].min(block[axis]).max(1);
        let fit = (limit as u128 / inner.max(1)) as u64;
        if fit >= chunk {
            block[axis] = fit / chunk * chunk;
            break;
        }
        block[axis] = chunk;
    }
    block
}

/// Every block of `block` shape over `shape`, as per-axis ranges, in C order of the block grid.
fn block_grid(shape: &[u64], block: &[u64]) -> impl Iterator<Item = Vec<AxisRange>> {
    let grid: Vec<u64> = shape
        .iter()
        .zip(block)
        .map(|(&s, &b)| s.div_ceil(b))
        .collect();
    let total: u64 = grid.iter().product();
    let (shape, block) = (shape.to_vec(), block.to_vec());
    (0..total).map(move |mut index| {
        let mut ranges = vec![
            AxisRange {
                start: 0,
                count: 0,
                step: 1,
                keep: true
            };
            grid.len()
        ];
        for axis in (0..grid.len()).rev() {
            let i = index % grid[axis];
            index /= grid[axis];
            let start = i * block[axis];
            ranges[axis].start = start;
            ranges[axis].count = block[axis].min(shape[axis] - start);
        }
        ranges
    })
}

/// Writes a selection of a Zarr array to a new `.npy` file (C order, the array's dtype and byte order),
/// reading it slab by slab.
///
/// # Errors
/// [`MmapError::AlreadyExists`] when `out` exists and overwriting is off; array read errors (as
/// [`MmapError::Array`]); [`MmapError::Io`] / [`MmapError::PermissionDenied`] writing the file.
pub fn export_selection_to_npy(
    array: &Array,
    sel: &ResolvedSelection,
    out: &Path,
    options: &TransferOptions<'_>,
) -> MmapResult<()> {
    let header = NpyHeader::new(array.dtype().clone(), sel.shape(), false).to_bytes();
    export(array, sel, out, &header, options)
}

/// Writes a selection of a Zarr array to a new raw file (C order, the array's dtype and byte order) and
/// its sidecar `<out>.json`, reading it slab by slab. Returns the sidecar's path.
///
/// # Errors
/// As [`export_selection_to_npy`]; the sidecar is refused too when it exists and overwriting is off.
pub fn export_selection_to_raw(
    array: &Array,
    sel: &ResolvedSelection,
    out: &Path,
    options: &TransferOptions<'_>,
) -> MmapResult<PathBuf> {
    let sidecar = default_sidecar_path(out);
    if !options.overwrite && sidecar.exists() {
        return Err(MmapError::AlreadyExists { path: sidecar });
    }
    export(array, sel, out, &[], options)?;
    RawLayout::new(array.dtype().clone(), sel.shape()).write_sidecar(&sidecar)?;
    Ok(sidecar)
}

fn export(
    array: &Array,
    sel: &ResolvedSelection,
    out: &Path,
    header: &[u8],
    options: &TransferOptions<'_>,
) -> MmapResult<()> {
    if !options.overwrite && out.exists() {
        return Err(MmapError::AlreadyExists {
            path: out.to_path_buf(),
        });
    }
    // Resolve again against the array: a selection made for another shape is refused here, not midway.
    let sel = ResolvedSelection::from_axes(sel.axes().to_vec(), array.shape())?;
    let partial = partial_path(out);
    let result = (|| {
        let file = File::create(&partial)
            .map_err(|e| MmapError::io(&partial, "creating the output", e))?;
        let mut writer = BufWriter::with_capacity(1 << 20, file);
        let io = |e| MmapError::io(&partial, "writing the output", e);
        writer.write_all(header).map_err(io)?;
        let itemsize = array.dtype().itemsize();
        let total = sel.num_elements() * itemsize as u64;
        options.report(0, total);
        let mut done = 0u64;
        let mut buf = Vec::new();
        for slab in export_slabs(&sel, array.chunks(), itemsize, options.memory_limit) {
            let slab = ResolvedSelection::from_axes(slab, array.shape())?;
            let n = slab.num_elements() as usize * itemsize;
            buf.resize(n, 0);
            array.read_into(&slab, &mut buf[..n])?;
            writer.write_all(&buf[..n]).map_err(io)?;
            done += n as u64;
            options.report(done, total);
        }
        let file = writer.into_inner().map_err(|e| io(e.into_error()))?;
        file.sync_all().map_err(io)?;
        Ok(())
    })();
    match result {
        Ok(()) => std::fs::rename(&partial, out)
            .map_err(|e| MmapError::io(out, "renaming the finished output into place", e)),
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

fn partial_path(out: &Path) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    out.with_file_name(format!(".{name}.tessera-partial"))
}

/// Slabs of `sel` that are contiguous in its C-order output, in output order, each at most `limit` bytes
/// (one element at least): whole trailing axes from the first axis where they fit, with the cuts along
/// that axis placed on chunk boundaries when a slab spans at least one chunk.
fn export_slabs(
    sel: &ResolvedSelection,
    chunks: &[u64],
    itemsize: usize,
    limit: usize,
) -> Vec<Vec<AxisRange>> {
    let axes = sel.axes();
    if sel.num_elements() == 0 {
        return Vec::new();
    }
    let n = axes.len();
    // inner[k]: bytes of one position along axis k (everything after it).
    let mut inner = vec![itemsize as u128; n + 1];
    for k in (0..n).rev() {
        inner[k] = inner[k + 1] * axes[k].count as u128;
    }
    if inner[0] <= limit as u128 {
        return vec![axes.to_vec()];
    }
    // The split axis: the first whose trailing axes fit (the last axis always does, one element at least).
    let k = (0..n)
        .find(|&k| inner[k + 1] <= limit as u128)
        .unwrap_or(n - 1);
    let rows = ((limit as u128 / inner[k + 1]) as u64).max(1);
    let a = axes[k];
    let mut cuts = Vec::new();
    let mut i = 0;
    while i < a.count {
        let mut end = (i + rows).min(a.count);
        if end < a.count {
            // Pull the cut back to the first selected position of the chunk it falls in, if that keeps
            // the slab non-empty: whole chunks are then read once instead of twice.
            let pos = a.start + end * a.step;
            let boundary = pos / chunks[k] * chunks[k];
            let first = (boundary.saturating_sub(a.start)).div_ceil(a.step);
            if first > i && boundary >= a.start {
                end = first;
            }
        }
        cuts.push((i, end - i));
        i = end;
    }
    let outer: u64 = axes[..k].iter().map(|a| a.count).product();
    let mut slabs = Vec::with_capacity((outer as usize).saturating_mul(cuts.len()));
    for mut o in 0..outer {
        let mut prefix = vec![
            AxisRange {
                start: 0,
                count: 1,
                step: 1,
                keep: true
            };
            k
        ];
        for j in (0..k).rev() {
            let idx = o % axes[j].count;
            o /= axes[j].count;
            prefix[j] = AxisRange {
                start: axes[j].start + idx * axes[j].step,
                count: 1,
                step: 1,
                keep: axes[j].keep,
            };
        }
        for &(first, count) in &cuts {
            let mut slab = prefix.clone();
            slab.push(AxisRange {
                start: a.start + first * a.step,
                count,
                step: a.step,
                keep: a.keep,
            });
            slab.extend_from_slice(&axes[k + 1..]);
            slabs.push(slab);
        }
    }
    slabs
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_array::Selection;

    #[test]
    fn import_blocks_are_chunk_multiples_within_the_limit() {
        // 1000 x 64 f8 = 512 000 bytes, 64 KiB limit, chunks 100 x 64: 100 rows per block.
        assert_eq!(
            import_block(&[1000, 64], &[100, 64], 8, 64 << 10, Order::C),
            vec![100, 64]
        );
        // One chunk row exceeds the limit: cut the next axis too.
        assert_eq!(
            import_block(&[1000, 64], &[100, 16], 8, 20_000, Order::C),
            vec![100, 16]
        );
        // F order cuts the last axis first.
        assert_eq!(
            import_block(&[64, 1000], &[64, 100], 8, 64 << 10, Order::F),
            vec![64, 100]
        );
        // Everything fits.
        assert_eq!(
            import_block(&[10, 10], &[3, 3], 1, 1 << 20, Order::C),
            vec![10, 10]
        );
    }

    #[test]
    fn export_slabs_tile_the_selection_in_output_order() {
        let shape = [50u64, 7, 9];
        for (text, limit) in [
            ("", 100usize),
            ("3:47:3, 2, 1:", 40),
            ("::7, :, ::2", 1),
            (":, 1:6, 4", 24),
            ("", 1 << 20),
        ] {
            let sel = text.parse::<Selection>().unwrap().resolve(&shape).unwrap();
            let slabs = export_slabs(&sel, &[8, 4, 4], 8, limit);
            // Concatenated, the slabs' elements are exactly the selection's, in C order.
            let expand = |axes: &[AxisRange]| {
                let mut out = vec![vec![]];
                for a in axes {
                    out = out
                        .into_iter()
                        .flat_map(|p: Vec<u64>| {
                            (0..a.count)
                                .map(move |i| [p.clone(), vec![a.start + i * a.step]].concat())
                        })
                        .collect();
                }
                out
            };
            let all: Vec<Vec<u64>> = slabs.iter().flat_map(|s| expand(s)).collect();
            assert_eq!(all, expand(sel.axes()), "{text}");
            for s in &slabs {
                let bytes = s.iter().map(|a| a.count).product::<u64>() * 8;
                assert!(
                    bytes <= limit.max(8) as u64,
                    "{text}: slab {s:?} of {bytes} bytes"
                );
            }
        }
    }
}

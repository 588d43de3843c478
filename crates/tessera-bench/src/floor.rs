//! Floors: the least time a workload could take on this machine, so each result says how far it is from
//! the limit (`efficiency` = floor ÷ time, 1 at the limit).
//!
//! - **memcpy**: the bytes a workload delivers ÷ this machine's parallel memcpy rate, measured between two
//!   pre-touched buffers (the same allocation conditions as the workloads, whose memory is pre-touched
//!   too: see [`pre_touch`]).
//! - **decode**: every chunk of an array decoded from memory by tessera-codec's [`CodecChain`] alone (no
//!   store, no copy into an output), in parallel on every core, into pre-touched buffers. A workload's
//!   floor adds, per piece it reads (the whole array, a slab, each crop), the decode time of the chunks
//!   the piece touches spread over the cores — but never less than its slowest chunk.
//! - **device** (cold runs): the stored bytes a workload has to read (each touched chunk file once; for
//!   the raw file each touched page once) ÷ the device's read rate: measured by a cold parallel read of
//!   the raw file, or the throttle's rate in the `disk` scenario.
//! - **network** (the `s3` scenario): the stored bytes ÷ the proxy's bandwidth cap, plus one request's
//!   latency.
//!
//! The binding floor is the largest of them.

use std::collections::BTreeMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

use rayon::prelude::*;
use serde_json::Value;
use tessera_codec::CodecChain;

use crate::cache;
use crate::dataset::{ElementType, StoreConfig};
use crate::error::{BenchError, BenchResult};
use crate::workload::{Region, Workload};

/// Touches `bytes` bytes of fresh memory and frees them, so the memory a workload then allocates is
/// backed (a virtual machine's first touch of never-used memory can cost 10× a later one).
pub fn pre_touch(bytes: usize) {
    let mut buf = vec![0u8; bytes];
    touch(&mut buf);
    std::hint::black_box(&buf);
}

/// Writes every page of `buf` (a zeroed allocation is only mapped, not backed, until written).
pub fn touch(buf: &mut [u8]) {
    buf.par_chunks_mut(1 << 20).for_each(|part| part.fill(1));
}

/// This machine's parallel memcpy rate in bytes per second: the best of five copies of `bytes` bytes
/// (at least 8 MiB) between two pre-touched buffers, split over every core.
pub fn memcpy_rate(bytes: usize) -> f64 {
    let n = bytes.max(8 << 20);
    let mut src = vec![0u8; n];
    let mut dst = vec![0u8; n];
    touch(&mut src);
    touch(&mut dst);
    let piece = n.div_ceil(rayon::current_num_threads().max(1)).max(1 << 16);
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let t = Instant::now();
        dst.par_chunks_mut(piece)
            .zip(src.par_chunks(piece))
            .for_each(|(d, s)| d.copy_from_slice(s));
        best = best.min(t.elapsed().as_secs_f64());
        std::hint::black_box(&dst);
    }
    n as f64 / best.max(1e-9)
}

/// The device's cold read rate in bytes per second, measured on `file`: evicted from the page cache, then
/// read with one reader per core (4 MiB `pread`s into pre-touched buffers). Also returns the fraction of
/// the file that was resident before the read (above a few percent the eviction did not take and the rate
/// is the page cache's, not the device's).
///
/// # Errors
/// A file that cannot be evicted, opened or read.
pub fn device_rate(file: &Path) -> BenchResult<(f64, f64)> {
    cache::evict(&[file])?;
    let resident = cache::resident_fraction(&[file])?;
    let f = File::open(file).map_err(|e| BenchError::io("opening", file, e))?;
    let len = f
        .metadata()
        .map_err(|e| BenchError::io("inspecting", file, e))?
        .len();
    let readers = rayon::current_num_threads().max(1) as u64;
    let share = len.div_ceil(readers).max(1);
    const PIECE: usize = 4 << 20;
    let mut buffers: Vec<Vec<u8>> = (0..readers).map(|_| vec![0u8; PIECE]).collect();
    buffers.iter_mut().for_each(|b| touch(b));
    let t = Instant::now();
    buffers
        .par_iter_mut()
        .enumerate()
        .try_for_each(|(i, buf)| -> std::io::Result<()> {
            let (mut pos, end) = (i as u64 * share, ((i as u64 + 1) * share).min(len));
            while pos < end {
                let want = PIECE.min((end - pos) as usize);
                let n = f.read_at(&mut buf[..want], pos)?;
                if n == 0 {
                    break;
                }
                pos += n as u64;
            }
            Ok(())
        })
        .map_err(|e| BenchError::io("reading", file, e))?;
    Ok((len as f64 / t.elapsed().as_secs_f64().max(1e-9), resident))
}

/// What reading each chunk of one Zarr array costs: its stored size and the time the codec alone takes to
/// decode it (measured with every core decoding, so the times include the cores' contention).
#[derive(Clone, Debug)]
pub struct ChunkCosts {
    shape: Vec<u64>,
    chunks: Vec<u64>,
    grid: Vec<u64>,
    stored: Vec<u64>,
    decode_seconds: Vec<f64>,
    threads: usize,
    /// Uncompressed, unfiltered chunks: a reader may read just the bytes it needs, so the device floor
    /// counts touched pages of each chunk file, and there is no decode floor.
    identity: bool,
    itemsize: u64,
    /// Wall time of decoding every chunk in parallel.
    pub wall_seconds: f64,
}

impl ChunkCosts {
    /// Reads every chunk file of `config` into memory, then decodes them all in parallel with the
    /// array's [`CodecChain`] into pre-touched per-thread buffers, timing each.
    ///
    /// # Errors
    /// I/O errors reading `.zarray` or a chunk; a `.zarray` or chunk the codec refuses.
    pub fn measure(
        config: &StoreConfig,
        shape: &[u64],
        dtype: ElementType,
    ) -> BenchResult<ChunkCosts> {
        let zarray_path = config.path.join(".zarray");
        let text =
            std::fs::read(&zarray_path).map_err(|e| BenchError::io("reading", &zarray_path, e))?;
        let meta: Value = serde_json::from_slice(&text)?;
        let filters: Option<Vec<Value>> = meta["filters"].as_array().cloned();
        let chain = CodecChain::from_json(Some(&meta["compressor"]), filters.as_deref()).map_err(
            |source| BenchError::Codec {
                what: format!("the codecs of {}", zarray_path.display()),
                source,
            },
        )?;
        let separator = meta["dimension_separator"].as_str().unwrap_or(".");
        let grid = grid_of(shape, &config.chunks);
        let count: u64 = grid.iter().product();
        let mut blobs: Vec<Option<Vec<u8>>> = Vec::with_capacity(count as usize);
        for index in 0..count {
            let name = grid_position(&grid, index)
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(separator);
            let path = config.path.join(name);
            match std::fs::read(&path) {
                Ok(b) => blobs.push(Some(b)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => blobs.push(None),
                Err(e) => return Err(BenchError::io("reading", &path, e)),
            }
        }
        let itemsize = dtype.itemsize();
        let chunk_bytes = config.chunks.iter().product::<u64>() as usize * itemsize;
        let threads = rayon::current_num_threads().max(1);
        let buffers: Vec<Mutex<Vec<u8>>> = (0..threads)
            .map(|_| {
                let mut b = vec![0u8; chunk_bytes];
                touch(&mut b);
                Mutex::new(b)
            })
            .collect();
        let started = Instant::now();
        let timed: Vec<(u64, f64)> = blobs
            .par_iter()
            .map(|blob| -> BenchResult<(u64, f64)> {
                let Some(blob) = blob else {
                    return Ok((0, 0.0));
                };
                let slot = rayon::current_thread_index().unwrap_or(0) % threads;
                let mut out = buffers[slot].lock().unwrap_or_else(|e| e.into_inner());
                let t = Instant::now();
                chain
                    .decode_into(blob, &mut out, itemsize)
                    .map_err(|source| BenchError::Codec {
                        what: format!("decoding a chunk of {}", config.path.display()),
                        source,
                    })?;
                Ok((blob.len() as u64, t.elapsed().as_secs_f64()))
            })
            .collect::<BenchResult<_>>()?;
        let wall_seconds = started.elapsed().as_secs_f64();
        Ok(ChunkCosts {
            shape: shape.to_vec(),
            chunks: config.chunks.clone(),
            grid,
            stored: timed.iter().map(|t| t.0).collect(),
            decode_seconds: timed.iter().map(|t| t.1).collect(),
            threads,
            identity: chain.is_identity(),
            itemsize: itemsize as u64,
            wall_seconds,
        })
    }

    /// The linear indices (C order of the grid) of the chunks `region` touches.
    fn touched(&self, region: &Region) -> Vec<usize> {
        touched_chunks(&self.grid, &self.chunks, region)
    }

    /// The decode floor of `workload` reading `pieces`: one after another, per piece the decode time of
    /// its chunks over the cores, at least its slowest chunk; for a [one-batch](Workload::is_one_batch)
    /// workload, every distinct touched chunk once, all over the cores together; for `epochs`, each
    /// chunk only the first time a piece touches it. `None` for
    /// uncompressed chunks, which need no decoding (the memcpy floor covers moving their bytes).
    pub fn decode_floor(&self, pieces: &[Region], workload: Workload) -> Option<f64> {
        if self.identity {
            return None;
        }
        let floor = |chunks: &mut dyn Iterator<Item = usize>| {
            let times: Vec<f64> = chunks.map(|i| self.decode_seconds[i]).collect();
            let sum: f64 = times.iter().sum();
            let max = times.iter().copied().fold(0.0, f64::max);
            (sum / self.threads as f64).max(max)
        };
        if workload.is_one_batch() {
            let all: std::collections::BTreeSet<usize> =
                pieces.iter().flat_map(|p| self.touched(p)).collect();
            return Some(floor(&mut all.into_iter()));
        }
        if workload == Workload::Epochs {
            // Repeated crops at their limit: a chunk is decoded the first time a crop needs it,
            // never again (what a cache of decoded chunks reaches).
            let mut seen = std::collections::HashSet::new();
            return Some(
                pieces
                    .iter()
                    .map(|piece| {
                        floor(&mut self.touched(piece).into_iter().filter(|&i| seen.insert(i)))
                    })
                    .sum(),
            );
        }
        Some(
            pieces
                .iter()
                .map(|piece| floor(&mut self.touched(piece).into_iter()))
                .sum(),
        )
    }

    /// Stored bytes `pieces` need from the store: each touched chunk once; for uncompressed chunks only
    /// the pages of each chunk file that hold selected elements.
    pub fn stored_bytes_touched(&self, pieces: &[Region]) -> u64 {
        if self.identity {
            return self.pages_touched(pieces);
        }
        let mut seen = vec![false; self.stored.len()];
        let mut total = 0;
        for piece in pieces {
            for i in self.touched(piece) {
                if !std::mem::replace(&mut seen[i], true) {
                    total += self.stored[i];
                }
            }
        }
        total
    }

    /// Pages of the chunk files of an uncompressed array that `pieces` touch.
    fn pages_touched(&self, pieces: &[Region]) -> u64 {
        let mut per_chunk: BTreeMap<usize, Vec<Region>> = BTreeMap::new();
        for piece in pieces {
            for i in self.touched(piece) {
                let origin: Vec<u64> = grid_position(&self.grid, i as u64)
                    .iter()
                    .zip(&self.chunks)
                    .map(|(p, c)| p * c)
                    .collect();
                // The piece's part of this chunk, in the chunk's own coordinates.
                let (start, shape) = origin
                    .iter()
                    .zip(&self.chunks)
                    .zip(piece.start.iter().zip(&piece.shape))
                    .map(|((&o, &c), (&s, &n))| {
                        let lo = s.max(o);
                        let hi = (s + n).min(o + c);
                        (lo - o, hi.saturating_sub(lo))
                    })
                    .unzip();
                per_chunk
                    .entry(i)
                    .or_default()
                    .push(Region { start, shape });
            }
        }
        per_chunk
            .into_iter()
            .filter(|(i, _)| self.stored[*i] > 0)
            .map(|(_, regions)| raw_bytes_touched(&self.chunks, self.itemsize, &regions))
            .sum()
    }

    /// Stored bytes of the whole array.
    pub fn stored_bytes(&self) -> u64 {
        self.stored.iter().sum()
    }

    /// The array's shape.
    pub fn shape(&self) -> &[u64] {
        &self.shape
    }
}

/// The linear indices (C order of the grid) of the chunks of shape `chunks` that `region` touches.
fn touched_chunks(grid: &[u64], chunks: &[u64], region: &Region) -> Vec<usize> {
    let lo: Vec<u64> = region
        .start
        .iter()
        .zip(chunks)
        .map(|(s, c)| s / c)
        .collect();
    let hi: Vec<u64> = region
        .start
        .iter()
        .zip(&region.shape)
        .zip(chunks)
        .map(|((s, n), c)| (s + n.max(&1) - 1) / c)
        .collect();
    let mut out = Vec::new();
    let mut pos = lo.clone();
    loop {
        let linear = pos.iter().zip(grid).fold(0u64, |acc, (p, g)| acc * g + p);
        out.push(linear as usize);
        // Next position in C order inside lo..=hi.
        let mut axis = pos.len();
        loop {
            if axis == 0 {
                return out;
            }
            axis -= 1;
            if pos[axis] < hi[axis] {
                pos[axis] += 1;
                break;
            }
            pos[axis] = lo[axis];
        }
    }
}

/// The fraction of the chunks of an array of `shape` in `chunks` that `pieces` touch (each chunk once):
/// what part of a chunked file a reader has to fetch when only the file's size is known (HDF5).
pub fn touched_chunk_fraction(shape: &[u64], chunks: &[u64], pieces: &[Region]) -> f64 {
    let grid = grid_of(shape, chunks);
    let total = grid.iter().product::<u64>() as usize;
    let mut seen = vec![false; total];
    for piece in pieces {
        for i in touched_chunks(&grid, chunks, piece) {
            seen[i] = true;
        }
    }
    seen.iter().filter(|&&s| s).count() as f64 / total.max(1) as f64
}

/// Chunks per axis.
fn grid_of(shape: &[u64], chunks: &[u64]) -> Vec<u64> {
    shape
        .iter()
        .zip(chunks)
        .map(|(&s, &c)| s.div_ceil(c.max(1)))
        .collect()
}

/// The grid position of the `index`-th chunk in C order.
fn grid_position(grid: &[u64], mut index: u64) -> Vec<u64> {
    let mut pos = vec![0; grid.len()];
    for axis in (0..grid.len()).rev() {
        pos[axis] = index % grid[axis];
        index /= grid[axis];
    }
    pos
}

/// Bytes of the distinct pages of a C-order raw file of `shape` and `itemsize` that `pieces` touch.
pub fn raw_bytes_touched(shape: &[u64], itemsize: u64, pieces: &[Region]) -> u64 {
    const PAGE: u64 = 4096;
    let file_bytes = shape.iter().product::<u64>() * itemsize;
    let mut seen = vec![false; file_bytes.div_ceil(PAGE) as usize];
    let rank = shape.len();
    for piece in pieces {
        if piece.shape.contains(&0) {
            continue;
        }
        // The innermost axes the piece covers whole form one contiguous run with the next axis.
        let mut run_axis = rank - 1;
        while run_axis > 0 && piece.start[run_axis] == 0 && piece.shape[run_axis] == shape[run_axis]
        {
            run_axis -= 1;
        }
        let inner: u64 = shape[run_axis + 1..].iter().product::<u64>() * itemsize;
        let run_len = piece.shape[run_axis] * inner;
        let mut pos: Vec<u64> = piece.start[..run_axis].to_vec();
        loop {
            let mut offset = 0u64;
            for axis in 0..rank {
                let p = match axis.cmp(&run_axis) {
                    std::cmp::Ordering::Less => pos[axis],
                    std::cmp::Ordering::Equal => piece.start[axis],
                    std::cmp::Ordering::Greater => 0,
                };
                offset = offset * shape[axis] + p;
            }
            let first = offset * itemsize / PAGE;
            let last = (offset * itemsize + run_len - 1) / PAGE;
            for page in first..=last {
                seen[page as usize] = true;
            }
            // The next run: the outer axes in C order.
            let mut axis = run_axis;
            let advanced = loop {
                if axis == 0 {
                    break false;
                }
                axis -= 1;
                if pos[axis] + 1 < piece.start[axis] + piece.shape[axis] {
                    pos[axis] += 1;
                    break true;
                }
                pos[axis] = piece.start[axis];
            };
            if !advanced {
                break;
            }
        }
    }
    let pages = seen.iter().filter(|&&s| s).count() as u64;
    (pages * PAGE).min(file_bytes)
}

/// The pieces a workload reads one after another, for the floors: the whole array once (`whole`,
/// `whole-reused`, `chunks` and `copy`, whose pieces a reader may overlap), the slab, or each crop.
///
/// `points` reads each touched chunk once, so its pieces are those chunks, each once; `rows` reads
/// its rows' chunks whole: its pieces are the chunk-aligned blocks of rows holding them.
pub fn pieces(
    workload: Workload,
    shape: &[u64],
    chunks: &[u64],
    regions: &[Region],
) -> Vec<Region> {
    let whole = Region {
        start: vec![0; shape.len()],
        shape: shape.to_vec(),
    };
    match workload {
        Workload::Slab(_) | Workload::Crops | Workload::Epochs => regions.to_vec(),
        Workload::Rows => {
            let c = chunks.first().copied().unwrap_or(1).max(1);
            let blocks: std::collections::BTreeSet<u64> =
                regions.iter().map(|r| r.start[0] / c).collect();
            blocks
                .into_iter()
                .map(|b| {
                    let mut start = vec![0; shape.len()];
                    start[0] = b * c;
                    let mut len = shape.to_vec();
                    len[0] = c.min(shape[0] - start[0]);
                    Region { start, shape: len }
                })
                .collect()
        }
        Workload::Points => {
            let touched: std::collections::BTreeSet<Vec<u64>> = regions
                .iter()
                .map(|r| {
                    r.start
                        .iter()
                        .zip(chunks)
                        .map(|(s, c)| s / c.max(&1))
                        .collect()
                })
                .collect();
            touched
                .into_iter()
                .map(|grid| {
                    let start: Vec<u64> = grid.iter().zip(chunks).map(|(g, c)| g * c).collect();
                    let shape = start
                        .iter()
                        .zip(chunks)
                        .zip(shape)
                        .map(|((s, c), n)| (*c).min(n - s))
                        .collect();
                    Region { start, shape }
                })
                .collect()
        }
        _ => vec![whole],
    }
}

/// The floors of one result, in seconds; `None` where a floor does not apply.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Floors {
    /// Delivered bytes ÷ parallel memcpy rate.
    pub memcpy: Option<f64>,
    /// The codec alone decoding the touched chunks.
    pub decode: Option<f64>,
    /// Stored bytes touched ÷ the device's read rate (cold runs).
    pub device: Option<f64>,
    /// Stored bytes touched ÷ the network's bandwidth cap, plus one request's latency (`s3`).
    pub network: Option<f64>,
}

impl Floors {
    /// The binding (largest) floor's name and seconds; `None` when no floor applies.
    pub fn binding(&self) -> Option<(&'static str, f64)> {
        [
            ("memcpy", self.memcpy),
            ("decode", self.decode),
            ("device", self.device),
            ("network", self.network),
        ]
        .into_iter()
        .filter_map(|(name, s)| Some((name, s?)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
    }

    /// Every floor that applies, by name.
    pub fn to_map(&self) -> BTreeMap<String, f64> {
        [
            ("memcpy", self.memcpy),
            ("decode", self.decode),
            ("device", self.device),
            ("network", self.network),
        ]
        .into_iter()
        .filter_map(|(name, s)| Some((name.to_string(), s?)))
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(start: &[u64], shape: &[u64]) -> Region {
        Region {
            start: start.to_vec(),
            shape: shape.to_vec(),
        }
    }

    #[test]
    fn raw_pages_touched() {
        // 64 x 64 x 64 u16: a plane is 8 KiB (two pages), a row 128 bytes.
        let shape = [64u64, 64, 64];
        let all = 64 * 64 * 64 * 2;
        assert_eq!(
            raw_bytes_touched(&shape, 2, &[region(&[0, 0, 0], &shape)]),
            all
        );
        // One plane: two pages.
        assert_eq!(
            raw_bytes_touched(&shape, 2, &[region(&[5, 0, 0], &[1, 64, 64])]),
            8192
        );
        // One row in every plane: one page per plane.
        assert_eq!(
            raw_bytes_touched(&shape, 2, &[region(&[0, 3, 0], &[64, 1, 64])]),
            64 * 4096
        );
        // One column in every plane touches both pages of each plane: everything.
        assert_eq!(
            raw_bytes_touched(&shape, 2, &[region(&[0, 0, 7], &[64, 64, 1])]),
            all
        );
        // The same crop twice counts once.
        let crop = region(&[0, 0, 0], &[1, 1, 4]);
        assert_eq!(raw_bytes_touched(&shape, 2, &[crop.clone(), crop]), 4096);
    }

    #[test]
    fn touched_chunks_and_floors() {
        let costs = ChunkCosts {
            shape: vec![4, 4],
            chunks: vec![2, 2],
            grid: vec![2, 2],
            stored: vec![10, 20, 30, 40],
            decode_seconds: vec![1.0, 2.0, 3.0, 4.0],
            threads: 2,
            identity: false,
            itemsize: 2,
            wall_seconds: 5.0,
        };
        assert_eq!(costs.touched(&region(&[1, 1], &[2, 2])), vec![0, 1, 2, 3]);
        assert_eq!(costs.touched(&region(&[2, 0], &[1, 4])), vec![2, 3]);
        assert_eq!(costs.stored_bytes_touched(&[region(&[0, 0], &[4, 4])]), 100);
        // Whole: 10 s over 2 cores; a piece in one chunk: that chunk's time.
        assert_eq!(
            costs.decode_floor(&[region(&[0, 0], &[4, 4])], Workload::Crops),
            Some(5.0)
        );
        assert_eq!(
            costs.decode_floor(&[region(&[3, 3], &[1, 1])], Workload::Crops),
            Some(4.0)
        );
        // Two crops in the same chunk: decoded twice, stored bytes once.
        let crops = [region(&[0, 0], &[1, 1]), region(&[1, 1], &[1, 1])];
        assert_eq!(costs.decode_floor(&crops, Workload::Crops), Some(2.0));
        // In one batch (a points selection) the same chunk counts once, and distinct chunks share
        // the cores: chunks 0, 1 and 3 take 7 s over 2 cores, at least 4 s.
        assert_eq!(costs.decode_floor(&crops, Workload::Points), Some(1.0));
        let spread = [
            crops[0].clone(),
            region(&[0, 2], &[1, 1]),
            region(&[3, 3], &[1, 1]),
        ];
        assert_eq!(costs.decode_floor(&spread, Workload::Points), Some(4.0));
        assert_eq!(costs.decode_floor(&spread, Workload::Crops), Some(7.0));
        // Epochs: the spread crops three times over decode each chunk the first time only.
        let epochs: Vec<Region> = (0..3).flat_map(|_| spread.iter().cloned()).collect();
        assert_eq!(costs.decode_floor(&epochs, Workload::Epochs), Some(7.0));
        assert_eq!(costs.decode_floor(&epochs, Workload::Crops), Some(21.0));
        assert_eq!(costs.stored_bytes_touched(&crops), 10);
        assert_eq!(touched_chunk_fraction(&[4, 4], &[2, 2], &crops), 0.25);
        assert_eq!(
            touched_chunk_fraction(&[4, 4], &[2, 2], &[region(&[1, 0], &[2, 1])]),
            0.5
        );
    }

    #[test]
    fn uncompressed_chunks_count_pages() {
        // 2 x 2 chunks of 64 x 2048 u16 (256 KiB, 64 pages each; a row is one page).
        let costs = ChunkCosts {
            shape: vec![128, 4096],
            chunks: vec![64, 2048],
            grid: vec![2, 2],
            stored: vec![256 << 10; 4],
            decode_seconds: vec![0.0; 4],
            threads: 2,
            identity: true,
            itemsize: 2,
            wall_seconds: 0.0,
        };
        assert_eq!(
            costs.decode_floor(&[region(&[0, 0], &[128, 4096])], Workload::Crops),
            None
        );
        assert_eq!(
            costs.stored_bytes_touched(&[region(&[0, 0], &[128, 4096])]),
            1 << 20
        );
        // One row across both chunks of the first chunk row: a page from each.
        assert_eq!(
            costs.stored_bytes_touched(&[region(&[5, 0], &[1, 4096])]),
            2 * 4096
        );
        // One column through the first chunk column: a page per row of those chunks.
        assert_eq!(
            costs.stored_bytes_touched(&[region(&[0, 7], &[128, 1])]),
            128 * 4096
        );
    }

    #[test]
    fn the_binding_floor_is_the_largest() {
        let f = Floors {
            memcpy: Some(0.1),
            decode: Some(0.3),
            device: None,
            network: None,
        };
        assert_eq!(f.binding(), Some(("decode", 0.3)));
        assert_eq!(f.to_map().len(), 2);
        assert_eq!(Floors::default().binding(), None);
    }
}

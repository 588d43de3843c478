//! Workloads: what a backend is asked to do, and the checksum of what it delivered.
//!
//! Every backend runs the same workload the same way: the same selections in the same order, so the
//! CRC-32 of the delivered bytes (native byte order, C order, pieces in order) must be equal everywhere.

use std::fmt;
use std::ops::Range;

use serde::{Deserialize, Serialize};

/// A workload as named on the command line (`slabs` stands for one slab per axis).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum WorkloadKind {
    /// The whole array in one read, into a new buffer (what `read` returns).
    Whole,
    /// The whole array in one read into a buffer the caller allocated and touched beforehand
    /// (`read_into`), so the read pays no page faults for its output.
    WholeReused,
    /// A one-index slab across each axis.
    Slabs,
    /// Many small random crops.
    Crops,
    /// Chunk-by-chunk iteration over the whole array.
    Chunks,
    /// Writing the whole array from memory.
    Write,
    /// Reading, re-encoding and writing the whole array, one chunk-aligned slab at a time.
    Copy,
    /// 100,000 random single elements in one coordinate selection (zarr's `vindex`).
    Points,
    /// 1% of the rows (axis 0), random and sorted, in one integer-list selection (zarr's `oindex`).
    Rows,
    /// The crops read [`EPOCHS`] times over, as training epochs do: what a decoded-chunk cache
    /// (the `tessera-cache` backend) is for.
    Epochs,
}

/// One concrete workload; its [`name`](Workload::name) is what the JSON's `workload` field holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Workload {
    /// `whole`.
    Whole,
    /// `whole-reused`.
    WholeReused,
    /// `slab-axisK`: `a[.., i, ..]` with the index on axis K (a third of the way in).
    Slab(usize),
    /// `crops`.
    Crops,
    /// `chunks`.
    Chunks,
    /// `write`.
    Write,
    /// `copy`.
    Copy,
    /// `points`.
    Points,
    /// `rows`.
    Rows,
    /// `epochs`.
    Epochs,
}

impl Workload {
    /// The workloads a list of kinds expands to, for an array of `rank` axes.
    pub fn expand(kinds: &[WorkloadKind], rank: usize) -> Vec<Workload> {
        let mut out = Vec::new();
        for kind in kinds {
            match kind {
                WorkloadKind::Whole => out.push(Workload::Whole),
                WorkloadKind::WholeReused => out.push(Workload::WholeReused),
                WorkloadKind::Slabs => out.extend((0..rank).map(Workload::Slab)),
                WorkloadKind::Crops => out.push(Workload::Crops),
                WorkloadKind::Chunks => out.push(Workload::Chunks),
                WorkloadKind::Write => out.push(Workload::Write),
                WorkloadKind::Copy => out.push(Workload::Copy),
                WorkloadKind::Points => out.push(Workload::Points),
                WorkloadKind::Rows => out.push(Workload::Rows),
                WorkloadKind::Epochs => out.push(Workload::Epochs),
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// `whole`, `whole-reused`, `slab-axis0`, ..., `crops`, `chunks`, `write`, `copy`.
    pub fn name(self) -> String {
        match self {
            Workload::Whole => "whole".into(),
            Workload::WholeReused => "whole-reused".into(),
            Workload::Slab(axis) => format!("slab-axis{axis}"),
            Workload::Crops => "crops".into(),
            Workload::Chunks => "chunks".into(),
            Workload::Write => "write".into(),
            Workload::Copy => "copy".into(),
            Workload::Points => "points".into(),
            Workload::Rows => "rows".into(),
            Workload::Epochs => "epochs".into(),
        }
    }

    /// Parses [`name`](Workload::name).
    pub fn parse(name: &str) -> Option<Workload> {
        match name {
            "whole" => Some(Workload::Whole),
            "whole-reused" => Some(Workload::WholeReused),
            "crops" => Some(Workload::Crops),
            "chunks" => Some(Workload::Chunks),
            "write" => Some(Workload::Write),
            "copy" => Some(Workload::Copy),
            "points" => Some(Workload::Points),
            "rows" => Some(Workload::Rows),
            "epochs" => Some(Workload::Epochs),
            _ => name
                .strip_prefix("slab-axis")
                .and_then(|a| a.parse().ok())
                .map(Workload::Slab),
        }
    }

    /// True for the workloads a reader serves with one selection, decoding every chunk it touches
    /// in one parallel batch (`points`, `rows`): their floors count each touched chunk once, together.
    pub fn is_one_batch(self) -> bool {
        matches!(self, Workload::Points | Workload::Rows)
    }

    /// True for workloads that read many small regions one after another (`crops`, `epochs`).
    pub fn is_crops(self) -> bool {
        matches!(self, Workload::Crops | Workload::Epochs)
    }

    /// True for workloads that write a destination (whose checksum is taken by reading it back).
    pub fn writes(self) -> bool {
        matches!(self, Workload::Write | Workload::Copy)
    }

    /// True when the result depends on the chunk shape the backend reads with (the iteration order of
    /// `chunks`); raw mmap then runs once per chunk shape.
    pub fn depends_on_chunks(self) -> bool {
        matches!(self, Workload::Chunks)
    }
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl Serialize for Workload {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name())
    }
}

impl<'de> Deserialize<'de> for Workload {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Workload::parse(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown workload {name:?}")))
    }
}

/// The page-cache state a workload starts in.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Cache {
    /// The files were synced and evicted (`posix_fadvise(DONTNEED)`); a `write` or `copy` writes a new
    /// destination.
    Cold,
    /// The files were read into the page cache; a `write` or `copy` overwrites a resident destination.
    Warm,
}

impl Cache {
    /// `cold` or `warm`.
    pub fn name(self) -> &'static str {
        match self {
            Cache::Cold => "cold",
            Cache::Warm => "warm",
        }
    }
}

/// A box of the array: per axis, where it starts and how long it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Region {
    /// First position per axis.
    pub start: Vec<u64>,
    /// Length per axis.
    pub shape: Vec<u64>,
}

impl Region {
    /// The per-axis ranges.
    pub fn ranges(&self) -> Vec<Range<u64>> {
        self.start
            .iter()
            .zip(&self.shape)
            .map(|(&s, &n)| s..s + n)
            .collect()
    }

    /// Number of elements.
    pub fn elements(&self) -> u64 {
        self.shape.iter().product()
    }
}

/// A small deterministic generator (splitmix64) for crop positions: the same seed gives the same crops
/// in every language the peers are written in, because the positions are handed to them.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// How many times `epochs` reads the crops.
pub const EPOCHS: usize = 3;

/// `count` crops of edge 32 (or an eighth of the smallest axis for small arrays) at random positions.
pub fn crops(shape: &[u64], count: usize, seed: u64) -> Vec<Region> {
    let mut rng = Rng::new(seed ^ 0xC0FF_EE00);
    let edge = shape
        .iter()
        .map(|&n| (n / 8).max(1))
        .min()
        .unwrap_or(1)
        .min(32);
    (0..count)
        .map(|_| {
            let start = shape.iter().map(|&n| rng.below(n - edge + 1)).collect();
            Region {
                start,
                shape: vec![edge; shape.len()],
            }
        })
        .collect()
}

/// Number of coordinates of the `points` workload.
pub const POINTS: usize = 100_000;

/// `count` random single elements (regions of shape 1 on every axis), repeats possible: the
/// coordinates of the `points` workload.
pub fn points(shape: &[u64], count: usize, seed: u64) -> Vec<Region> {
    if shape.contains(&0) {
        return Vec::new();
    }
    let mut rng = Rng::new(seed ^ 0x9017_7500);
    (0..count)
        .map(|_| Region {
            start: shape.iter().map(|&n| rng.below(n)).collect(),
            shape: vec![1; shape.len()],
        })
        .collect()
}

/// The share of rows the `rows` workload selects.
pub const ROWS_PERCENT: u64 = 1;

/// `max(1, 1%)` distinct random rows (positions on axis 0), ascending, each as the full slab of that
/// row: the integer list of the `rows` workload.
pub fn rows(shape: &[u64], seed: u64) -> Vec<Region> {
    let Some(&n) = shape.first() else {
        return Vec::new();
    };
    if shape.contains(&0) {
        return Vec::new();
    }
    let want = (n * ROWS_PERCENT / 100).max(1);
    let mut rng = Rng::new(seed ^ 0x0_1207_5000);
    let mut picked = std::collections::BTreeSet::new();
    while (picked.len() as u64) < want {
        picked.insert(rng.below(n));
    }
    picked
        .into_iter()
        .map(|row| {
            let mut start = vec![0; shape.len()];
            start[0] = row;
            let mut len = shape.to_vec();
            len[0] = 1;
            Region { start, shape: len }
        })
        .collect()
}

/// The blocks of a chunk grid in C order, clipped to the array: what `chunks` iterates over.
pub fn blocks(shape: &[u64], block: &[u64]) -> Vec<Region> {
    let grid: Vec<u64> = shape
        .iter()
        .zip(block)
        .map(|(&s, &b)| s.div_ceil(b))
        .collect();
    let total: u64 = grid.iter().product();
    (0..total)
        .map(|mut index| {
            let mut start = vec![0; shape.len()];
            let mut len = vec![0; shape.len()];
            for axis in (0..shape.len()).rev() {
                let i = index % grid[axis];
                index /= grid[axis];
                start[axis] = i * block[axis];
                len[axis] = block[axis].min(shape[axis] - start[axis]);
            }
            Region { start, shape: len }
        })
        .collect()
}

/// The one-index slab across `axis`, as a region of extent 1 on that axis.
pub fn slab(shape: &[u64], axis: usize) -> Region {
    let mut start = vec![0; shape.len()];
    let mut len = shape.to_vec();
    start[axis] = shape[axis] / 3;
    len[axis] = 1;
    Region { start, shape: len }
}

/// Chunk-aligned slabs along axis 0 of thickness `chunks[0]`: the pieces a `copy` moves.
pub fn copy_blocks(shape: &[u64], chunks: &[u64]) -> Vec<Region> {
    let mut block = shape.to_vec();
    block[0] = chunks[0].max(1);
    blocks(shape, &block)
}

/// A running CRC-32 (IEEE, as zlib's `crc32`) over the pieces a workload delivers.
#[derive(Clone, Default)]
pub struct Checksum(crc32fast::Hasher);

impl Checksum {
    /// An empty checksum.
    pub fn new() -> Checksum {
        Checksum::default()
    }

    /// Adds the next piece.
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// The CRC so far.
    pub fn value(&self) -> u32 {
        self.0.clone().finalize()
    }
}

/// `0x1234abcd`-style text of a checksum, as in the JSON.
pub fn checksum_hex(value: u32) -> String {
    format!("{value:08x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for w in Workload::expand(
            &[
                WorkloadKind::Whole,
                WorkloadKind::WholeReused,
                WorkloadKind::Slabs,
                WorkloadKind::Crops,
                WorkloadKind::Chunks,
                WorkloadKind::Write,
                WorkloadKind::Copy,
                WorkloadKind::Points,
                WorkloadKind::Rows,
                WorkloadKind::Epochs,
            ],
            3,
        ) {
            assert_eq!(Workload::parse(&w.name()), Some(w));
        }
        assert_eq!(Workload::Slab(2).name(), "slab-axis2");
    }

    #[test]
    fn blocks_cover_the_array_once() {
        let b = blocks(&[5, 4], &[2, 3]);
        assert_eq!(b.len(), 6);
        assert_eq!(b.iter().map(Region::elements).sum::<u64>(), 20);
        assert_eq!(b[5].start, vec![4, 3]);
        assert_eq!(b[5].shape, vec![1, 1]);
    }

    #[test]
    fn crops_fit() {
        for c in crops(&[40, 50, 60], 50, 3) {
            for ((s, n), dim) in c.start.iter().zip(&c.shape).zip([40, 50, 60]) {
                assert!(s + n <= dim);
            }
        }
    }
}

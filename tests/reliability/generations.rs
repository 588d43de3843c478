//! Arrays whose every element says which write produced it: element `(i, j)` of generation `g` holds
//! `g << 32 | (i * cols + j)`. A chunk is whole when all its elements carry one generation and the
//! right positions; a torn chunk (old and new bytes mixed) or a chunk at the wrong place shows at once.

use std::ops::Range;
use std::sync::Arc;

use ndarray::Array2;
use serde_json::json;
use tessera_array::{Array, ArrayBuilder, DataType, Selection, Separator};
use tessera_store::Store;

/// The shape and chunking of a generation array (2-d, `<u8` elements).
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    /// Rows and columns.
    pub shape: [u64; 2],
    /// Chunk rows and columns (dividing the shape).
    pub chunks: [u64; 2],
}

/// The codecs of the crash and reader tests: a CRC32 checksum under blosc, so a chunk whose bytes were
/// damaged fails to decode instead of reading as wrong values.
pub fn checked_codecs() -> (serde_json::Value, Vec<serde_json::Value>) {
    (
        json!({"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0}),
        vec![json!({"id": "crc32"})],
    )
}

impl Layout {
    /// The element of generation `generation` at `(i, j)`.
    pub fn value(&self, generation: u32, i: u64, j: u64) -> u64 {
        (u64::from(generation) << 32) | (i * self.shape[1] + j)
    }

    /// The number of chunks along each axis.
    pub fn grid(&self) -> [u64; 2] {
        [
            self.shape[0] / self.chunks[0],
            self.shape[1] / self.chunks[1],
        ]
    }

    /// The number of chunks.
    pub fn chunk_count(&self) -> usize {
        let g = self.grid();
        (g[0] * g[1]) as usize
    }

    /// The chunk holding `(i, j)`, numbered in C order.
    pub fn chunk_of(&self, i: u64, j: u64) -> usize {
        ((i / self.chunks[0]) * self.grid()[1] + j / self.chunks[1]) as usize
    }

    /// The element ranges of chunk `c`.
    pub fn chunk_ranges(&self, c: usize) -> [Range<u64>; 2] {
        let g = self.grid();
        let (ci, cj) = (c as u64 / g[1], c as u64 % g[1]);
        [
            ci * self.chunks[0]..(ci + 1) * self.chunks[0],
            cj * self.chunks[1]..(cj + 1) * self.chunks[1],
        ]
    }

    /// Generation `generation` of the elements in `ranges`.
    pub fn block(&self, generation: u32, ranges: &[Range<u64>; 2]) -> Array2<u64> {
        let [r, c] = ranges;
        Array2::from_shape_fn(
            ((r.end - r.start) as usize, (c.end - c.start) as usize),
            |(i, j)| self.value(generation, r.start + i as u64, c.start + j as u64),
        )
    }

    /// Creates the array at `path` in `store` holding generation `generation`.
    pub fn create(&self, store: Arc<dyn Store>, path: &str, generation: u32) -> Array {
        let (compressor, filters) = checked_codecs();
        let arr = ArrayBuilder::new(
            self.shape.to_vec(),
            self.chunks.to_vec(),
            DataType::parse_typestr("<u8").unwrap(),
        )
        .compressor(Some(compressor))
        .filters(Some(filters))
        .fill_value(json!(0))
        .separator(Separator::Slash)
        .create(store, path)
        .unwrap();
        arr.write(
            (),
            &self.block(generation, &[0..self.shape[0], 0..self.shape[1]]),
        )
        .unwrap();
        arr
    }

    /// Writes generation `generation` of chunk `c` (one whole-chunk write).
    pub fn write_chunk(&self, arr: &Array, generation: u32, c: usize) {
        let ranges = self.chunk_ranges(c);
        arr.write(
            Selection::from_ranges(&ranges),
            &self.block(generation, &ranges),
        )
        .unwrap();
    }

    /// Writes generation `generation` of the whole array (one write, chunks encoded in parallel).
    pub fn write_all(&self, arr: &Array, generation: u32) {
        arr.write(
            (),
            &self.block(generation, &[0..self.shape[0], 0..self.shape[1]]),
        )
        .unwrap();
    }

    /// Reads the whole array through [`Array`] and returns each chunk's generation, or says what is
    /// wrong: a read error (a chunk that does not decode), a chunk mixing generations, an element at the
    /// wrong place.
    pub fn generations(&self, arr: &Array) -> Result<Vec<u32>, String> {
        let got = arr
            .read::<u64>(())
            .map_err(|e| format!("read failed: {e}"))?
            .into_dimensionality::<ndarray::Ix2>()
            .unwrap();
        let mut gens = vec![None; self.chunk_count()];
        for ((i, j), &v) in got.indexed_iter() {
            let (i, j) = (i as u64, j as u64);
            self.check_element(v, i, j, &mut gens)?;
        }
        Ok(gens.into_iter().map(|g| g.unwrap_or(0)).collect())
    }

    /// Reads rows `rows` with step `rs` and columns `cols` with step `cs`, checking every element and
    /// that each chunk's elements share a generation; returns the generations seen per chunk.
    pub fn check_strided(
        &self,
        arr: &Array,
        rows: Range<u64>,
        rs: u64,
        cols: Range<u64>,
        cs: u64,
    ) -> Result<Vec<Option<u32>>, String> {
        let text = format!(
            "{}:{}:{rs}, {}:{}:{cs}",
            rows.start, rows.end, cols.start, cols.end
        );
        let got = arr
            .read::<u64>(text.as_str())
            .map_err(|e| format!("read of {text} failed: {e}"))?
            .into_dimensionality::<ndarray::Ix2>()
            .unwrap();
        let mut gens = vec![None; self.chunk_count()];
        for ((a, b), &v) in got.indexed_iter() {
            let i = rows.start + a as u64 * rs;
            let j = cols.start + b as u64 * cs;
            self.check_element(v, i, j, &mut gens)
                .map_err(|e| format!("{text}: {e}"))?;
        }
        Ok(gens)
    }

    fn check_element(
        &self,
        v: u64,
        i: u64,
        j: u64,
        gens: &mut [Option<u32>],
    ) -> Result<(), String> {
        let generation = (v >> 32) as u32;
        if v & 0xFFFF_FFFF != i * self.shape[1] + j {
            return Err(format!(
                "element ({i}, {j}) holds {v:#x}: not generation data of this position"
            ));
        }
        let c = self.chunk_of(i, j);
        match gens[c] {
            None => gens[c] = Some(generation),
            Some(g) if g == generation => {}
            Some(g) => {
                return Err(format!(
                    "chunk {c} is torn: generation {g} and, at ({i}, {j}), generation {generation}"
                ));
            }
        }
        Ok(())
    }
}

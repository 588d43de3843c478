//! The benchmark's dataset: a smooth 3-D field plus noise, written once as a raw file (with a sidecar) and
//! once per [`StoreConfig`] as a Zarr v2 array.
//!
//! The field is separable (products of per-axis sine tables) so generating a few hundred MiB costs well
//! under a second, and the noise comes from a hash of the element's index, so every run with the same
//! seed and shape writes the same bytes.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tessera_array::{Array, ArrayBuilder, DataType, Element};
use tessera_mmap::{MmapArray, RawLayout};
use tessera_store::FilesystemStore;

use crate::error::{BenchError, BenchResult};

/// The element type of the generated field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ElementType {
    /// Unsigned 16-bit integers (a detector or a CT scan): the field spans most of the range.
    U16,
    /// 32-bit floats (a simulation output): the field lies in about -1..1.
    F32,
}

impl ElementType {
    /// Bytes per element.
    pub fn itemsize(self) -> usize {
        match self {
            ElementType::U16 => 2,
            ElementType::F32 => 4,
        }
    }

    /// The numpy type string stored in `.zarray` and the sidecar (little-endian).
    pub fn typestr(self) -> &'static str {
        match self {
            ElementType::U16 => "<u2",
            ElementType::F32 => "<f4",
        }
    }

    /// The tessera data type.
    pub fn data_type(self) -> DataType {
        DataType::parse_typestr(self.typestr()).expect("a valid typestr")
    }
}

/// The element types the harness runs with: tessera's, zarrs' and the field generator's views of one type.
pub trait Sample:
    Element + zarrs::array::ElementOwned + zarrs::array::Element + Default + Send + Sync + 'static
{
    /// The value of the smooth field `field` (in -1..1) plus the noise drawn from `noise` (uniform bits).
    fn from_field(field: f64, noise: u64) -> Self;

    /// The element from its little-endian bytes (`size_of::<Self>()` of them).
    fn from_le(bytes: &[u8]) -> Self;
}

impl Sample for u16 {
    fn from_field(field: f64, noise: u64) -> Self {
        // A detector-like signal: a field spanning ~7000 counts around 12000, plus +-8 counts of noise
        // (about 4 bits of entropy per value): the high bytes compress well, the low bytes hardly.
        let n = (noise % 17) as f64 - 8.0;
        (12000.0 + 3500.0 * field + n).clamp(0.0, 65535.0) as u16
    }

    fn from_le(bytes: &[u8]) -> Self {
        u16::from_le_bytes([bytes[0], bytes[1]])
    }
}

impl Sample for f32 {
    fn from_field(field: f64, noise: u64) -> Self {
        let n = ((noise >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0;
        (field + 1e-3 * n) as f32
    }

    fn from_le(bytes: &[u8]) -> Self {
        f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
    }
}

/// A Zarr compressor the harness writes with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Codec {
    /// No compressor.
    #[serde(rename = "none")]
    None,
    /// zstd level 3 (numcodecs' default level), written as `{"id": "zstd", "level": 3}` so that every
    /// reader accepts it (tensorstore refuses other members).
    #[serde(rename = "zstd")]
    Zstd,
    /// blosc with lz4, clevel 5, byte shuffle: zarr-python 2's default compressor.
    #[serde(rename = "blosc-lz4")]
    BloscLz4,
}

impl Codec {
    /// Every codec, in table order.
    pub const ALL: [Codec; 3] = [Codec::None, Codec::Zstd, Codec::BloscLz4];

    /// The name used in the table and the JSON (`none`, `zstd`, `blosc-lz4`).
    pub fn name(self) -> &'static str {
        match self {
            Codec::None => "none",
            Codec::Zstd => "zstd",
            Codec::BloscLz4 => "blosc-lz4",
        }
    }

    /// The `.zarray` compressor config.
    pub fn compressor(self) -> Option<Value> {
        match self {
            Codec::None => None,
            Codec::Zstd => Some(serde_json::json!({"id": "zstd", "level": 3})),
            Codec::BloscLz4 => Some(tessera_codec::blosc_json("lz4", 5, 1, 0)),
        }
    }
}

/// One Zarr array of the dataset: a codec and a chunk shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoreConfig {
    /// The compressor.
    pub codec: Codec,
    /// The chunk shape.
    pub chunks: Vec<u64>,
    /// `cubes` or `slabs` (v2), `cubes` or `sharded` (v3): how the chunk shape was chosen.
    pub layout: String,
    /// The Zarr format: 2 (`.zarray`) or 3 (`zarr.json`, see [`write_v3_arrays`]).
    #[serde(default = "format_2")]
    pub zarr_format: u8,
    /// The shard shape of a sharded v3 array (`chunks` is then the inner chunk shape).
    #[serde(default)]
    pub shards: Option<Vec<u64>>,
    /// The array's directory (a Zarr store with the array at its root).
    pub path: PathBuf,
    /// Bytes on disk (chunk files only).
    pub stored_bytes: u64,
}

fn format_2() -> u8 {
    2
}

impl StoreConfig {
    /// Whether the harness runs `workload` on this array: v3 arrays are only read (`whole`, slabs,
    /// crops, epochs, points, rows); their writes, copies and chunk iteration are not measured yet.
    pub fn runs(&self, workload: crate::workload::Workload) -> bool {
        use crate::workload::Workload;
        self.zarr_format == 2
            || matches!(
                workload,
                Workload::Whole
                    | Workload::Slab(_)
                    | Workload::Crops
                    | Workload::Epochs
                    | Workload::Points
                    | Workload::Rows
            )
    }

    /// `zstd cubes 64x64x64`-style label.
    pub fn label(&self) -> String {
        format!(
            "{} {} {}",
            self.codec.name(),
            self.layout,
            chunk_label(&self.chunks)
        )
    }
}

/// An HDF5 copy of the field for the h5py peer: one file holding dataset `data`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hdf5Array {
    /// `zstd-cubes`, `gzip-slabs`, ...: the Zarr array with the same codec and chunks has the same name.
    pub name: String,
    /// The HDF5 filter: `none`, `zstd` and `blosc-lz4` (hdf5plugin, the Zarr arrays' settings), or HDF5's
    /// own `gzip` (level 4) and `lzf`.
    pub filter: String,
    /// The chunk shape.
    pub chunks: Vec<u64>,
    /// The file.
    pub path: PathBuf,
    /// The file's size (filled in once it is written).
    pub stored_bytes: u64,
}

/// The HDF5 copies the h5py peer reads, under `root/hdf5`: per chunk layout of [`chunk_shapes`], the
/// Zarr arrays' codecs (`zstd` and `blosc-lz4` only with hdf5plugin) and HDF5's gzip and lzf.
pub fn hdf5_arrays(
    root: &Path,
    shape: &[u64],
    dtype: ElementType,
    plugins: bool,
) -> Vec<Hdf5Array> {
    let mut out = Vec::new();
    for (layout, chunks) in chunk_shapes(shape, dtype) {
        for filter in ["none", "zstd", "blosc-lz4", "gzip", "lzf"] {
            if !plugins && matches!(filter, "zstd" | "blosc-lz4") {
                continue;
            }
            let name = format!("{filter}-{layout}");
            out.push(Hdf5Array {
                path: root.join("hdf5").join(format!("{name}.h5")),
                name,
                filter: filter.into(),
                chunks: chunks.clone(),
                stored_bytes: 0,
            });
        }
    }
    out
}

/// `64x64x64`.
pub fn chunk_label(chunks: &[u64]) -> String {
    chunks
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join("x")
}

/// The generated data on disk.
#[derive(Debug)]
pub struct Dataset {
    /// The directory holding everything (removed on drop unless kept).
    pub root: PathBuf,
    /// The array shape.
    pub shape: Vec<u64>,
    /// The element type.
    pub dtype: ElementType,
    /// The raw C-order file (its sidecar is `<file>.json`).
    pub raw_path: PathBuf,
    /// The Zarr arrays, codecs × chunk layouts.
    pub configs: Vec<StoreConfig>,
}

impl Dataset {
    /// Decoded bytes of the whole array.
    pub fn nbytes(&self) -> u64 {
        self.shape.iter().product::<u64>() * self.dtype.itemsize() as u64
    }
}

/// A roughly cubic shape holding about `size` bytes of `dtype`: `[n0, n, n]` with `n` a multiple of 16.
pub fn shape_for(size: u64, dtype: ElementType) -> Vec<u64> {
    let elements = (size / dtype.itemsize() as u64).max(16 * 16 * 16);
    let mut n = ((elements as f64).cbrt().floor() as u64 / 16).max(1) * 16;
    while n * n * n > elements && n > 16 {
        n -= 16;
    }
    let n0 = (elements / (n * n)).max(1);
    vec![n0, n, n]
}

/// The two chunk shapes: cubes (64³ for large arrays, a quarter of the edge for small ones) and slabs
/// along axis 0 (whole planes, about 2 MiB per chunk, at least 8 chunks).
pub fn chunk_shapes(shape: &[u64], dtype: ElementType) -> Vec<(String, Vec<u64>)> {
    let edge = shape[1].min(shape[2]);
    let cube = if edge >= 256 { 64 } else { (edge / 4).max(4) };
    let plane = shape[1] * shape[2] * dtype.itemsize() as u64;
    let thickness = ((2u64 << 20) / plane).clamp(1, (shape[0] / 8).max(1));
    vec![
        (
            "cubes".into(),
            vec![cube.min(shape[0]), cube.min(shape[1]), cube.min(shape[2])],
        ),
        ("slabs".into(), vec![thickness, shape[1], shape[2]]),
    ]
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Fills `out` (C order, `shape`) with the field plus noise.
pub fn generate<T: Sample>(shape: &[u64], seed: u64, out: &mut [T]) {
    let [n0, n1, n2] = [shape[0] as usize, shape[1] as usize, shape[2] as usize];
    let table = |n: usize, period: f64, phase: f64, cos: bool| -> Vec<f64> {
        (0..n)
            .map(|i| {
                let t = std::f64::consts::TAU * i as f64 / (period * n as f64).max(1.0) + phase;
                if cos { t.cos() } else { t.sin() }
            })
            .collect()
    };
    let a = table(n0, 0.9, 0.0, false);
    let d = table(n0, 0.4, 0.5, true);
    let b = table(n1, 0.7, 0.2, true);
    let c = table(n2, 0.5, 0.3, false);
    let plane = n1 * n2;
    out.par_chunks_mut(plane.max(1))
        .enumerate()
        .for_each(|(i, slice)| {
            for j in 0..n1 {
                let row = &mut slice[j * n2..(j + 1) * n2];
                let ab = 0.45 * a[i] * b[j];
                for (k, v) in row.iter_mut().enumerate() {
                    let field = ab + 0.3 * c[k] * d[i] + 0.15 * b[j] * c[k];
                    let index = ((i * n1 + j) * n2 + k) as u64;
                    *v = T::from_field(field, splitmix(index ^ seed.rotate_left(32)));
                }
            }
        });
}

/// Writes the dataset into a new directory under `parent`: the raw file, then one Zarr array per codec
/// and chunk shape. Returns the dataset (its directory is `root`).
///
/// # Errors
/// I/O, mmap and array errors.
pub fn write_dataset(
    root: &Path,
    shape: &[u64],
    dtype: ElementType,
    seed: u64,
    codecs: &[Codec],
) -> BenchResult<Dataset> {
    match dtype {
        ElementType::U16 => write_typed::<u16>(root, shape, dtype, seed, codecs),
        ElementType::F32 => write_typed::<f32>(root, shape, dtype, seed, codecs),
    }
}

fn write_typed<T: Sample>(
    root: &Path,
    shape: &[u64],
    dtype: ElementType,
    seed: u64,
    codecs: &[Codec],
) -> BenchResult<Dataset> {
    let raw_path = root.join("field.raw");
    let layout = RawLayout::new(dtype.data_type(), shape.to_vec());
    // SAFETY: the file is created in the harness's own fresh directory; nothing else opens it while the
    // mapping lives (it is dropped at the end of this function).
    let raw = unsafe { MmapArray::create(&raw_path, &layout) }?;
    raw.view_mut::<T, _>(|mut view| {
        let slice = view
            .as_slice_mut()
            .expect("a C-order mapping is contiguous");
        generate(shape, seed, slice);
    })?;
    raw.flush()?;
    let mut configs = Vec::new();
    for (layout_name, chunks) in chunk_shapes(shape, dtype) {
        for &codec in codecs {
            let path = root
                .join("zarr")
                .join(format!("{}-{}", codec.name(), layout_name));
            std::fs::create_dir_all(&path)
                .map_err(|e| BenchError::io("creating", path.clone(), e))?;
            let store = Arc::new(FilesystemStore::open(&path)?);
            let array = builder(shape, &chunks, dtype, codec).create(store, "")?;
            raw.view::<T, _>(|view| array.write((), &view))??;
            let (_, stored_bytes) = array.stored_chunks()?;
            configs.push(StoreConfig {
                codec,
                chunks: chunks.clone(),
                layout: layout_name.clone(),
                zarr_format: 2,
                shards: None,
                path,
                stored_bytes,
            });
        }
    }
    Ok(Dataset {
        root: root.to_path_buf(),
        shape: shape.to_vec(),
        dtype,
        raw_path,
        configs,
    })
}

/// Adds the dataset's Zarr v3 arrays (`--zarr-v3`), written by tessera from the raw file, as
/// zarr-python 3's users would lay them out: `v3-zstd-cubes` (zstd level 3 cube chunks, as the v2
/// `zstd-cubes`) and `v3-zstd-sharded` (the same cubes as inner chunks of shards 4 cubes on a side,
/// 256³ for large arrays; index at the end with crc32c).
///
/// # Errors
/// I/O, mmap and array errors.
pub fn write_v3_arrays(dataset: &mut Dataset) -> BenchResult<()> {
    match dataset.dtype {
        ElementType::U16 => write_v3_typed::<u16>(dataset),
        ElementType::F32 => write_v3_typed::<f32>(dataset),
    }
}

fn write_v3_typed<T: Sample>(dataset: &mut Dataset) -> BenchResult<()> {
    let (shape, dtype) = (dataset.shape.clone(), dataset.dtype);
    let cube = chunk_shapes(&shape, dtype)[0].1.clone();
    let shard: Vec<u64> = cube
        .iter()
        .zip(&shape)
        .map(|(&c, &n)| (4 * c).min(n.div_ceil(c) * c))
        .collect();
    // SAFETY: the raw file is the harness's own, written before and not changed while mapped.
    let raw = unsafe { MmapArray::open(&dataset.raw_path, tessera_mmap::Mode::ReadOnly) }?;
    for (layout, shards) in [("cubes", None), ("sharded", Some(shard))] {
        let path = dataset
            .root
            .join("zarr")
            .join(format!("v3-{}-{layout}", Codec::Zstd.name()));
        std::fs::create_dir_all(&path).map_err(|e| BenchError::io("creating", path.clone(), e))?;
        let store = Arc::new(FilesystemStore::open(&path)?);
        let mut b = builder(&shape, &cube, dtype, Codec::Zstd).zarr_format(3);
        if let Some(s) = &shards {
            b = b.shards(s.clone());
        }
        let array = b.create(store, "")?;
        raw.view::<T, _>(|view| array.write((), &view))??;
        let (_, stored_bytes) = array.stored_chunks()?;
        dataset.configs.push(StoreConfig {
            codec: Codec::Zstd,
            chunks: cube.clone(),
            layout: layout.into(),
            zarr_format: 3,
            shards,
            path,
            stored_bytes,
        });
    }
    Ok(())
}

/// The builder of the dataset's arrays: fill value 0 (not `null`, so every reader agrees on missing
/// chunks), C order, `.` separator.
pub fn builder(shape: &[u64], chunks: &[u64], dtype: ElementType, codec: Codec) -> ArrayBuilder {
    ArrayBuilder::new(shape.to_vec(), chunks.to_vec(), dtype.data_type())
        .compressor(codec.compressor())
        .fill_value(serde_json::json!(0))
}

/// Prepares an empty destination array with the metadata of `source` (a copy of its `.zarray`): the
/// starting point of a cold `write` or `copy`.
///
/// # Errors
/// I/O errors.
pub fn prepare_destination(source: &Path, dest: &Path) -> BenchResult<()> {
    if dest.exists() {
        std::fs::remove_dir_all(dest).map_err(|e| BenchError::io("removing", dest, e))?;
    }
    std::fs::create_dir_all(dest).map_err(|e| BenchError::io("creating", dest, e))?;
    let from = source.join(".zarray");
    std::fs::copy(&from, dest.join(".zarray")).map_err(|e| BenchError::io("copying", from, e))?;
    Ok(())
}

/// Opens one of the dataset's arrays (a store rooted at `path`, the array at its root).
///
/// # Errors
/// Store and array errors.
pub fn open_array(path: &Path) -> BenchResult<Array> {
    let store = Arc::new(FilesystemStore::open(path)?);
    Ok(Array::open(store, "")?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_hold_about_the_size() {
        assert_eq!(shape_for(256 << 20, ElementType::U16), vec![512, 512, 512]);
        let s = shape_for(8 << 20, ElementType::U16);
        let bytes = s.iter().product::<u64>() * 2;
        assert!(bytes <= 8 << 20 && bytes > 7 << 20, "{s:?}");
        let chunks = chunk_shapes(&[512, 512, 512], ElementType::U16);
        assert_eq!(chunks[0].1, vec![64, 64, 64]);
        assert_eq!(chunks[1].1, vec![4, 512, 512]);
    }

    #[test]
    fn the_field_is_smooth_and_noisy() {
        let shape = [4u64, 16, 16];
        let mut v = vec![0u16; 4 * 16 * 16];
        generate(&shape, 1, &mut v);
        let mut w = vec![0u16; v.len()];
        generate(&shape, 1, &mut w);
        assert_eq!(v, w, "deterministic");
        let steps: Vec<i32> = v.windows(2).map(|p| p[1] as i32 - p[0] as i32).collect();
        assert!(steps.iter().any(|&s| s != 0));
        assert!(steps.iter().take(15).all(|s| s.abs() < 8000));
    }
}

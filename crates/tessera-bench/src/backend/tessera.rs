//! The workloads on tessera's Zarr arrays, through the public API a user would call: `read::<T>`,
//! `blocks::<T>` and `write`.

use ndarray::ArrayViewD;
use tessera_array::{ArrayAccess, AxisSelector, Selection};

use super::{Backend, Outcome, RunSpec, absorb, slice_of, whole_bytes};
use crate::dataset::{Sample, open_array};
use crate::error::{BenchError, BenchResult};
use crate::measure::Stopwatch;
use crate::workload::{Checksum, Region, Workload};

/// `a[.., i, ..]`: an index on `axis`, whole ranges elsewhere.
pub(crate) fn slab_selection(region: &Region, axis: usize) -> Selection {
    Selection::new(
        (0..region.start.len())
            .map(|a| {
                if a == axis {
                    AxisSelector::Index(region.start[a] as i64)
                } else {
                    AxisSelector::range(region.start[a], region.start[a] + region.shape[a])
                }
            })
            .collect(),
    )
}

/// The decoded-chunk cache of the `tessera-cache` backend: larger than any array the harness makes,
/// so nothing is evicted and a chunk is decoded once per run.
const CACHE_BYTES: usize = 4 << 30;

/// Opens the array `spec` reads (from its directory, or over S3 in the `s3` scenario), with a
/// decoded-chunk cache for the `tessera-cache` backend.
fn open_source(spec: &RunSpec) -> BenchResult<tessera_array::Array> {
    let mut array = open_uncached(spec)?;
    if spec.backend == Backend::TesseraCache {
        array.set_chunk_cache(CACHE_BYTES);
    }
    Ok(array)
}

fn open_uncached(spec: &RunSpec) -> BenchResult<tessera_array::Array> {
    match &spec.s3_endpoint {
        None => open_array(&spec.source),
        Some(endpoint) => {
            let prefix = spec
                .source
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let store = crate::s3::tessera_store(endpoint, &prefix)?;
            Ok(tessera_array::Array::open(store, "")?)
        }
    }
}

fn dest(spec: &RunSpec) -> BenchResult<&std::path::Path> {
    spec.dest.as_deref().ok_or_else(|| {
        BenchError::InvalidArgument(format!("{} needs a destination", spec.workload))
    })
}

/// Runs `spec` on tessera.
///
/// # Errors
/// Store, array and codec errors.
pub fn run<T: Sample>(
    spec: &RunSpec,
    input: Option<&[T]>,
    output: &mut [u8],
) -> BenchResult<Outcome> {
    let mut watch = Stopwatch::started();
    let mut sum = Checksum::new();
    let mut bytes = 0;
    let mut checksum = true;
    match spec.workload {
        Workload::Whole => {
            let a = open_source(spec)?;
            let data = a.read::<T>(())?;
            watch.stop();
            bytes = absorb(&mut sum, slice_of(&data));
        }
        Workload::WholeReused => {
            let a = open_source(spec)?;
            let all = a.resolve(())?;
            a.read_into(&all, output)?;
            watch.stop();
            sum.update(output);
            bytes = output.len() as u64;
        }
        Workload::Slab(axis) => {
            let a = open_source(spec)?;
            let data = a.read::<T>(slab_selection(&spec.regions[0], axis))?;
            watch.stop();
            bytes = absorb(&mut sum, slice_of(&data));
        }
        Workload::Crops | Workload::Epochs => {
            let a = open_source(spec)?;
            for region in &spec.regions {
                watch.start();
                let data = a.read::<T>(Selection::from_ranges(&region.ranges()))?;
                watch.stop();
                bytes += absorb(&mut sum, slice_of(&data));
            }
        }
        Workload::Points => {
            let a = open_source(spec)?;
            // One coordinate selection: each touched chunk is read once, in parallel.
            let coords: Vec<Vec<i64>> = (0..spec.shape.len())
                .map(|axis| spec.regions.iter().map(|r| r.start[axis] as i64).collect())
                .collect();
            let data = a.read::<T>(Selection::points(coords))?;
            watch.stop();
            bytes = absorb(&mut sum, slice_of(&data));
        }
        Workload::Rows => {
            let a = open_source(spec)?;
            // One integer-list selection on axis 0: each chunk holding a listed row is read once.
            let mut axes = vec![AxisSelector::List(
                spec.regions.iter().map(|r| r.start[0] as i64).collect(),
            )];
            axes.resize(spec.shape.len(), AxisSelector::FULL);
            let data = a.read::<T>(Selection::new(axes))?;
            watch.stop();
            bytes = absorb(&mut sum, slice_of(&data));
        }
        Workload::Chunks => {
            let a = open_source(spec)?;
            let mut blocks = a.blocks::<T>(None)?;
            loop {
                watch.start();
                let next = blocks.next();
                watch.stop();
                let Some(block) = next else { break };
                let (_, data) = block?;
                bytes += absorb(&mut sum, slice_of(&data));
            }
        }
        Workload::Write => {
            let input = input.expect("write runs get their input");
            let shape: Vec<usize> = spec.shape.iter().map(|&n| n as usize).collect();
            let view =
                ArrayViewD::from_shape(shape, input).expect("the input has the array's shape");
            let a = open_array(dest(spec)?)?;
            a.write((), &view)?;
            watch.stop();
            bytes = whole_bytes(spec);
            checksum = false;
        }
        Workload::Copy => {
            let src = open_source(spec)?;
            let dst = open_array(dest(spec)?)?;
            for region in &spec.regions {
                let sel = Selection::from_ranges(&region.ranges());
                let data = src.read::<T>(sel.clone())?;
                dst.write(sel, &data)?;
                bytes += region.elements() * spec.dtype.itemsize() as u64;
            }
            watch.stop();
            checksum = false;
        }
    }
    Ok(Outcome {
        seconds: watch.seconds(),
        bytes,
        checksum: checksum.then(|| sum.value()),
        peak_rss_bytes: None,
    })
}

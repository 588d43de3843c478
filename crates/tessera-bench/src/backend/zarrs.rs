//! The workloads on the `zarrs` crate (0.23), in-process, with its default codec options and
//! concurrency: `retrieve_array_subset`, `retrieve_chunk`, `store_array_subset`.

use std::sync::Arc;

use zarrs::array::{Array, ArrayBytes, ArraySubset};
use zarrs::filesystem::FilesystemStore;

use super::{Outcome, RunSpec, absorb, whole_bytes};
use crate::dataset::Sample;
use crate::error::{BenchError, BenchResult};
use crate::measure::Stopwatch;
use crate::workload::{Checksum, Region, Workload};

type ZArray = Array<FilesystemStore>;

fn open(path: &std::path::Path) -> BenchResult<ZArray> {
    let store = Arc::new(FilesystemStore::new(path).map_err(BenchError::zarrs)?);
    Array::open(store, "/").map_err(BenchError::zarrs)
}

fn subset(region: &Region) -> ArraySubset {
    ArraySubset::new_with_ranges(&region.ranges())
}

fn read<T: Sample>(a: &ZArray, region: &Region) -> BenchResult<Vec<T>> {
    a.retrieve_array_subset::<Vec<T>>(&subset(region))
        .map_err(BenchError::zarrs)
}

/// Runs `spec` on zarrs.
///
/// # Errors
/// zarrs' errors, boxed in [`BenchError::Zarrs`].
pub fn run<T: Sample>(spec: &RunSpec, input: Option<&[T]>) -> BenchResult<Outcome> {
    let mut watch = Stopwatch::started();
    let mut sum = Checksum::new();
    let mut bytes = 0;
    let mut checksum = true;
    let whole = Region {
        start: vec![0; spec.shape.len()],
        shape: spec.shape.clone(),
    };
    let dest = || {
        spec.dest.as_deref().ok_or_else(|| {
            BenchError::InvalidArgument(format!("{} needs a destination", spec.workload))
        })
    };
    match spec.workload {
        Workload::Whole => {
            let a = open(&spec.source)?;
            let data = read::<T>(&a, &whole)?;
            watch.stop();
            bytes = absorb(&mut sum, &data);
        }
        Workload::WholeReused => {
            return Err(BenchError::InvalidArgument(
                "zarrs is not run on whole-reused (see Backend::supports)".into(),
            ));
        }
        Workload::Slab(_) => {
            let a = open(&spec.source)?;
            let data = read::<T>(&a, &spec.regions[0])?;
            watch.stop();
            bytes = absorb(&mut sum, &data);
        }
        Workload::Crops => {
            let a = open(&spec.source)?;
            for region in &spec.regions {
                watch.start();
                let data = read::<T>(&a, region)?;
                watch.stop();
                bytes += absorb(&mut sum, &data);
            }
        }
        Workload::Chunks => {
            let a = open(&spec.source)?;
            for region in &spec.regions {
                watch.start();
                // Whole chunks through the chunk API; edge chunks (clipped to the array) as subsets.
                let data = if region.shape == spec.chunks {
                    let index: Vec<u64> = region
                        .start
                        .iter()
                        .zip(&spec.chunks)
                        .map(|(s, c)| s / c)
                        .collect();
                    a.retrieve_chunk::<Vec<T>>(&index)
                        .map_err(BenchError::zarrs)?
                } else {
                    read::<T>(&a, region)?
                };
                watch.stop();
                bytes += absorb(&mut sum, &data);
            }
        }
        Workload::Write => {
            let input = input.expect("write runs get their input");
            let a = open(dest()?)?;
            a.store_array_subset(&subset(&whole), ArrayBytes::from(T::as_bytes(input)))
                .map_err(BenchError::zarrs)?;
            watch.stop();
            bytes = whole_bytes(spec);
            checksum = false;
        }
        Workload::Copy => {
            let src = open(&spec.source)?;
            let dst = open(dest()?)?;
            for region in &spec.regions {
                let data = read::<T>(&src, region)?;
                dst.store_array_subset(&subset(region), data)
                    .map_err(BenchError::zarrs)?;
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

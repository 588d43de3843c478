//! The workloads on the `zarrs` crate (0.23), in-process, with its default codec options and
//! concurrency: `retrieve_array_subset`, `retrieve_chunk`, `store_array_subset`.

use std::sync::Arc;

use zarrs::array::{Array, ArrayBytes, ArraySubset};
use zarrs::filesystem::FilesystemStore;
use zarrs::storage::storage_adapter::async_to_sync::{
    AsyncToSyncBlockOn, AsyncToSyncStorageAdapter,
};
use zarrs_object_store::AsyncObjectStore;

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

fn read<T: Sample, S: ?Sized + zarrs::storage::ReadableStorageTraits + 'static>(
    a: &Array<S>,
    region: &Region,
) -> BenchResult<Vec<T>> {
    a.retrieve_array_subset::<Vec<T>>(&subset(region))
        .map_err(BenchError::zarrs)
}

/// Blocks on object_store's futures for zarrs' synchronous API.
struct TokioBlockOn(tokio::runtime::Handle);

impl AsyncToSyncBlockOn for TokioBlockOn {
    fn block_on<F: core::future::Future>(&self, future: F) -> F::Output {
        self.0.block_on(future)
    }
}

/// Requests zarrs keeps in flight over S3: its synchronous API fetches chunks from rayon's threads, one
/// request per thread, so the reads run in a pool this wide (as tessera keeps 64 requests in flight).
const S3_THREADS: usize = 64;

/// Runs a read workload of `spec` on zarrs over S3 (`zarrs_object_store`, through zarrs' async-to-sync
/// adapter on a tokio runtime), in a pool of [`S3_THREADS`] threads.
fn run_s3<T: Sample>(spec: &RunSpec, endpoint: &str) -> BenchResult<Outcome> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| BenchError::io("starting", "a tokio runtime", e))?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(S3_THREADS)
        .build()
        .map_err(|e| BenchError::S3(format!("starting zarrs' thread pool: {e}")))?;
    let prefix = spec
        .source
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let client = crate::s3::object_store_client(endpoint)?;
    let store = Arc::new(AsyncToSyncStorageAdapter::new(
        Arc::new(AsyncObjectStore::new(client)),
        TokioBlockOn(runtime.handle().clone()),
    ));
    pool.install(|| {
        let mut watch = Stopwatch::started();
        let mut sum = Checksum::new();
        let mut bytes = 0;
        let a = Array::open(store, &format!("/{prefix}")).map_err(BenchError::zarrs)?;
        match spec.workload {
            Workload::Whole => {
                let whole = Region {
                    start: vec![0; spec.shape.len()],
                    shape: spec.shape.clone(),
                };
                let data = read::<T, _>(&a, &whole)?;
                watch.stop();
                bytes = absorb(&mut sum, &data);
            }
            Workload::Slab(_) | Workload::Crops | Workload::Epochs => {
                watch.stop();
                for region in &spec.regions {
                    watch.start();
                    let data = read::<T, _>(&a, region)?;
                    watch.stop();
                    bytes += absorb(&mut sum, &data);
                }
            }
            other => {
                return Err(BenchError::InvalidArgument(format!(
                    "zarrs does not run {other} over S3"
                )));
            }
        }
        Ok(Outcome {
            seconds: watch.seconds(),
            bytes,
            checksum: Some(sum.value()),
            peak_rss_bytes: None,
        })
    })
}

/// Runs `spec` on zarrs.
///
/// # Errors
/// zarrs' errors, boxed in [`BenchError::Zarrs`].
pub fn run<T: Sample>(spec: &RunSpec, input: Option<&[T]>) -> BenchResult<Outcome> {
    if let Some(endpoint) = &spec.s3_endpoint {
        return run_s3::<T>(spec, endpoint);
    }
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
            let data = read::<T, _>(&a, &whole)?;
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
            let data = read::<T, _>(&a, &spec.regions[0])?;
            watch.stop();
            bytes = absorb(&mut sum, &data);
        }
        // zarrs has no list or coordinate selections: rows are read one by one; points are not asked
        // by the runner (see `Backend::supports`), and would be read one by one too.
        Workload::Crops | Workload::Epochs | Workload::Points | Workload::Rows => {
            let a = open(&spec.source)?;
            for region in &spec.regions {
                watch.start();
                let data = read::<T, _>(&a, region)?;
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
                    read::<T, _>(&a, region)?
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
                let data = read::<T, _>(&src, region)?;
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

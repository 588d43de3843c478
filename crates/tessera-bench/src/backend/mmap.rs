//! The workloads on the raw file, mapped with tessera-mmap: what `numpy.memmap` users do. Reads copy the
//! selection out of the mapping (as `np.array(mm[...])` does); pages come in by page faults.

use ndarray::ArrayViewD;
use tessera_array::{ArrayAccess, Selection};
use tessera_mmap::{MmapArray, Mode, RawLayout};

use super::tessera::slab_selection;
use super::{Outcome, RunSpec, absorb, slice_of, whole_bytes};
use crate::dataset::Sample;
use crate::error::{BenchError, BenchResult};
use crate::measure::Stopwatch;
use crate::workload::{Checksum, Workload};

/// Opens the raw file read-only.
///
/// # Errors
/// Mmap errors (missing sidecar, size mismatch, ...).
pub fn open(path: &std::path::Path) -> BenchResult<MmapArray> {
    // SAFETY: the harness owns the dataset directory; nothing truncates or writes the file while a
    // benchmark maps it.
    Ok(unsafe { MmapArray::open(path, Mode::ReadOnly) }?)
}

/// Opens the destination of a `write` or `copy`: the existing file read-write (warm), or a new one (cold).
fn open_dest(spec: &RunSpec) -> BenchResult<MmapArray> {
    let dest = spec.dest.as_deref().ok_or_else(|| {
        BenchError::InvalidArgument(format!("{} needs a destination", spec.workload))
    })?;
    // SAFETY: as in `open`: the destination is the harness's own file.
    let array = if dest.exists() {
        unsafe { MmapArray::open(dest, Mode::ReadWrite) }?
    } else {
        let layout = RawLayout::new(spec.dtype.data_type(), spec.shape.clone());
        unsafe { MmapArray::create(dest, &layout) }?
    };
    Ok(array)
}

/// Runs `spec` on the raw file.
///
/// # Errors
/// Mmap and selection errors.
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
            let a = open(&spec.source)?;
            let data = a.read::<T>(())?;
            watch.stop();
            bytes = absorb(&mut sum, slice_of(&data));
        }
        Workload::WholeReused => {
            let a = open(&spec.source)?;
            let all = a.resolve(())?;
            a.read_into(&all, output)?;
            watch.stop();
            sum.update(output);
            bytes = output.len() as u64;
        }
        Workload::Slab(axis) => {
            let a = open(&spec.source)?;
            let data = a.read::<T>(slab_selection(&spec.regions[0], axis))?;
            watch.stop();
            bytes = absorb(&mut sum, slice_of(&data));
        }
        Workload::Crops
        | Workload::Epochs
        | Workload::Chunks
        | Workload::Points
        | Workload::Rows => {
            let a = open(&spec.source)?;
            for region in &spec.regions {
                watch.start();
                let data = a.read::<T>(Selection::from_ranges(&region.ranges()))?;
                watch.stop();
                bytes += absorb(&mut sum, slice_of(&data));
            }
        }
        Workload::Write => {
            let input = input.expect("write runs get their input");
            let shape: Vec<usize> = spec.shape.iter().map(|&n| n as usize).collect();
            let view =
                ArrayViewD::from_shape(shape, input).expect("the input has the array's shape");
            let a = open_dest(spec)?;
            a.write((), &view)?;
            drop(a);
            watch.stop();
            bytes = whole_bytes(spec);
            checksum = false;
        }
        Workload::Copy => {
            let src = open(&spec.source)?;
            let dst = open_dest(spec)?;
            for region in &spec.regions {
                let sel = Selection::from_ranges(&region.ranges());
                let data = src.read::<T>(sel.clone())?;
                dst.write(sel, &data)?;
                bytes += region.elements() * spec.dtype.itemsize() as u64;
            }
            drop(dst);
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

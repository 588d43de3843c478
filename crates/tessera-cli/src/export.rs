//! `tessera export`: a selection of an array to a `.npy` file, streamed in slabs.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use tessera_array::{Array, ArrayAccess, AxisRange, ResolvedSelection, Selection};
use tessera_mmap::npy::NpyHeader;

use crate::bounded_store::BoundedStore;
use crate::cli::ExportArgs;
use crate::error::{CliError, CliResult, Context};
use crate::hierarchy::open_array;
use crate::memory::{memory_limit, plan_work, pool};
use crate::options::{node_path, open_existing};
use crate::progress;
use crate::slabs::Slabs;

/// Runs `tessera export`.
pub fn run(args: &ExportArgs) -> CliResult<()> {
    let limit = memory_limit(args.memory_limit.as_deref())?;
    let target = node_path(args.array.as_deref())?;
    let spec = args.select.as_deref().unwrap_or("");
    let selection: Selection = spec
        .parse()
        .map_err(|e| CliError::usage(format!("--select {spec:?}")).with_source(e))?;
    let store = open_existing(&args.store)?;
    let array = open_array(store.clone(), &args.store, &target)?;
    let (selection, flag) = match (&args.points, &args.mask) {
        (Some(path), _) => (
            crate::selection_files::points_selection(path, array.shape().len())?,
            format!("--points {}", path.display()),
        ),
        (None, Some(path)) => (
            crate::selection_files::mask_selection(path, array.shape())?,
            format!("--mask {}", path.display()),
        ),
        (None, None) => (selection, format!("--select {spec:?}")),
    };
    let resolved = selection.resolve(array.shape()).map_err(|e| {
        CliError::usage(format!(
            "{flag} does not fit {} of shape {:?}",
            target,
            array.shape()
        ))
        .with_source(e)
    })?;

    if let Some(names) = &args.field {
        return export_fields(args, &array, names, (&selection, &resolved), limit);
    }

    // JSON (any array) and object arrays are read whole, then written: no slab streaming.
    let json = args.output.extension().is_some_and(|e| e == "json");
    if json || array.dtype().is_object() {
        let mut bytes = Vec::new();
        if json {
            crate::export_json::write(&array, &selection, &resolved, limit, &mut bytes)?;
        } else {
            crate::objects::write_npy(&array, &selection, limit, &mut bytes)?;
        }
        let mut output = Output::open(&args.output)?;
        output.write_all(&bytes).context("writing the export")?;
        return output.finish();
    }

    let meta = array.metadata().clone();
    let itemsize = meta.dtype.itemsize();
    if !resolved.is_basic() {
        return export_fancy(args, &array, &resolved, limit);
    }
    let plan = plan_work(limit, meta.chunk_bytes() as u64);
    let array = Array::from_metadata(
        BoundedStore::wrap(store, plan.in_flight),
        array.path().clone(),
        meta.clone(),
    )
    .with_context(|| format!("opening {target}"))?;
    let budget = slab_budget(plan.buffer, resolved.axes(), &meta.chunks, itemsize);
    let slabs = Slabs::new(resolved.axes(), &meta.chunks, itemsize, budget);
    let header = NpyHeader::new(meta.dtype.clone(), resolved.shape(), false).to_bytes();
    let total = resolved
        .num_elements()
        .checked_mul(itemsize as u64)
        .ok_or_else(|| {
            CliError::new(format!(
                "the selection of {target} holds more than 2^64 bytes"
            ))
        })?;
    check_free_space(&args.output, total.saturating_add(header.len() as u64))?;

    let mut output = Output::open(&args.output)?;
    output
        .write_all(&header)
        .context("writing the .npy header")?;
    let bar = progress::bar(total, "export", true);
    let mut buffer =
        vec![0u8; usize::try_from(slabs.max_bytes(itemsize).min(total)).unwrap_or(usize::MAX)];
    pool(plan.threads)?.install(|| -> CliResult<()> {
        for slab in slabs {
            let sel =
                ResolvedSelection::from_axes(slab, array.shape()).context("planning the export")?;
            let len = usize::try_from(sel.num_elements())
                .unwrap_or(usize::MAX)
                .saturating_mul(itemsize);
            if buffer.len() < len {
                buffer.resize(len, 0);
            }
            array
                .read_into(&sel, &mut buffer[..len])
                .with_context(|| format!("reading {target}"))?;
            output
                .write_all(&buffer[..len])
                .context("writing the .npy data")?;
            bar.inc(len as u64);
        }
        Ok(())
    })?;
    bar.finish_and_clear();
    output.finish()
}

/// `--field a[,b...]`: only those fields, read in one piece (under the memory limit); one field
/// exports as its own dtype (its sub-array shape appended), several as a structured dtype.
fn export_fields(
    args: &ExportArgs,
    array: &Array,
    names: &str,
    (selection, resolved): (&Selection, &ResolvedSelection),
    limit: u64,
) -> CliResult<()> {
    if args.output.extension().is_some_and(|e| e == "json") {
        return Err(CliError::usage(
            "--field exports .npy only; write -o OUT.npy",
        ));
    }
    let fields: Vec<&str> = names.split(',').map(str::trim).collect();
    let bytes = resolved
        .num_elements()
        .saturating_mul(array.dtype().itemsize() as u64);
    if bytes > limit {
        return Err(CliError::new(format!(
            "the records of the selection of {} hold {bytes} bytes, more than the memory limit of \
             {limit}: select less, or raise --memory-limit",
            array.path()
        )));
    }
    let raw = array
        .read_fields(&fields, selection)
        .map_err(|e| CliError::usage(format!("--field {names:?}")).with_source(e))?;
    let (dtype, shape) = match &raw.dtype {
        tessera_array::DataType::Structured(f) if f.len() == 1 => {
            let mut shape = raw.shape.clone();
            shape.extend(f[0].shape.iter().map(|&d| d as u64));
            (f[0].dtype.clone(), shape)
        }
        other => (other.clone(), raw.shape.clone()),
    };
    let header = NpyHeader::new(dtype, shape, false).to_bytes();
    check_free_space(
        &args.output,
        (raw.bytes.len() as u64).saturating_add(header.len() as u64),
    )?;
    let mut output = Output::open(&args.output)?;
    output
        .write_all(&header)
        .context("writing the .npy header")?;
    output
        .write_all(&raw.bytes)
        .context("writing the .npy data")?;
    output.finish()
}

/// Lists, masks, negative steps and points: the result is read in one piece (each touched chunk is
/// decoded once), so it must fit under the memory limit, then written.
fn export_fancy(
    args: &ExportArgs,
    array: &Array,
    resolved: &ResolvedSelection,
    limit: u64,
) -> CliResult<()> {
    let itemsize = array.dtype().itemsize() as u64;
    let bytes = resolved.num_elements().saturating_mul(itemsize);
    if bytes > limit {
        return Err(CliError::new(format!(
            "the selection of {} holds {bytes} bytes, more than the memory limit of {limit}; a \
             selection with lists, masks, negative steps or points is read whole: select less, or \
             raise --memory-limit",
            array.path()
        )));
    }
    let mut data = vec![0u8; usize::try_from(bytes).unwrap_or(usize::MAX)];
    array
        .read_into(resolved, &mut data)
        .with_context(|| format!("reading {}", array.path()))?;
    let header = NpyHeader::new(array.dtype().clone(), resolved.shape(), false).to_bytes();
    check_free_space(&args.output, bytes.saturating_add(header.len() as u64))?;
    let mut output = Output::open(&args.output)?;
    output
        .write_all(&header)
        .context("writing the .npy header")?;
    output.write_all(&data).context("writing the .npy data")?;
    output.finish()
}

/// Slabs stay small even under a large memory limit, so the output streams (and its progress bar
/// moves) instead of arriving in one piece at the end.
const SLAB_TARGET: u64 = 64 << 20;

/// The byte budget of one slab: [`SLAB_TARGET`], or one row of chunks of the selection when that is
/// larger (a smaller slab would decode each chunk more than once), within the memory plan's buffer.
fn slab_budget(buffer: u64, axes: &[AxisRange], chunks: &[u64], itemsize: usize) -> u64 {
    let chunk_row = axes
        .iter()
        .zip(chunks)
        .enumerate()
        .map(|(a, (axis, &c))| {
            if a == 0 {
                u128::from(axis.count.min(c))
            } else {
                u128::from(axis.count)
            }
        })
        .product::<u128>()
        .saturating_mul(itemsize as u128);
    let target = u64::try_from(chunk_row)
        .unwrap_or(u64::MAX)
        .max(SLAB_TARGET);
    buffer.min(target)
}

/// Refuses an export that cannot fit on the output's filesystem, before writing a byte: a selection of a
/// huge array (mostly fill value, say) would otherwise fill the disk and fail at the end.
fn check_free_space(output: &Path, needed: u64) -> CliResult<()> {
    if output.as_os_str() == "-" {
        return Ok(());
    }
    let dir = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let Ok(c_dir) = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()) else {
        return Ok(());
    };
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c_dir` is a NUL-terminated path and `stat` a writable statvfs.
    if unsafe { libc::statvfs(c_dir.as_ptr(), &mut stat) } != 0 {
        // The directory's own error surfaces when the file is created.
        return Ok(());
    }
    let free = (stat.f_bavail as u64).saturating_mul(stat.f_frsize as u64);
    if needed > free {
        return Err(CliError::new(format!(
            "the export needs {needed} bytes but {} has only {free} bytes free",
            dir.display()
        )));
    }
    Ok(())
}

/// Where the `.npy` goes: standard output, or a file written under a temporary name and renamed into
/// place at the end, so a failed export never leaves a truncated file behind.
enum Output {
    Stdout(BufWriter<std::io::Stdout>),
    File {
        writer: BufWriter<File>,
        temp: TempFile,
        path: PathBuf,
    },
}

/// A temporary file removed on drop unless it was moved into place.
struct TempFile(Option<PathBuf>);

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

impl Output {
    fn open(path: &Path) -> CliResult<Output> {
        if path.as_os_str() == "-" {
            return Ok(Output::Stdout(BufWriter::with_capacity(
                1 << 20,
                std::io::stdout(),
            )));
        }
        let name = path
            .file_name()
            .ok_or_else(|| CliError::usage(format!("-o {}: not a file name", path.display())))?;
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(".tessera-{}.tmp", std::process::id()));
        let temp = path.with_file_name(temp_name);
        let file =
            File::create(&temp).with_context(|| format!("cannot create {}", path.display()))?;
        Ok(Output::File {
            writer: BufWriter::with_capacity(1 << 20, file),
            temp: TempFile(Some(temp)),
            path: path.to_path_buf(),
        })
    }

    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Output::Stdout(w) => w.write_all(bytes),
            Output::File { writer, .. } => writer.write_all(bytes),
        }
    }

    fn finish(self) -> CliResult<()> {
        match self {
            Output::Stdout(mut w) => w.flush().context("writing the .npy data"),
            Output::File {
                writer,
                mut temp,
                path,
            } => {
                let file = writer.into_inner().map_err(|e| {
                    CliError::new("writing the .npy data").with_source(e.into_error())
                })?;
                file.sync_all().context("writing the .npy data")?;
                drop(file);
                let from = temp.0.clone().unwrap_or_default();
                std::fs::rename(&from, &path).with_context(|| {
                    format!("cannot move the export into place at {}", path.display())
                })?;
                temp.0 = None;
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(shape: &[u64]) -> Vec<AxisRange> {
        shape
            .iter()
            .map(|&count| AxisRange {
                start: 0,
                count,
                step: 1,
                keep: true,
            })
            .collect()
    }

    #[test]
    fn slabs_stream_under_a_large_limit() {
        // 1 GiB of f8 in 1024 x 1024 chunks, under a 6 GiB limit: 64 MiB slabs, not one 1 GiB slab.
        let axes = full(&[16384, 8192]);
        let budget = slab_budget(6 << 30, &axes, &[1024, 1024], 8);
        assert_eq!(budget, 64 << 20);
        let slabs = Slabs::new(&axes, &[1024, 1024], 8, budget);
        assert_eq!(slabs.count(), 16);
        // A row of chunks larger than the target is kept whole; a small limit still wins.
        assert_eq!(
            slab_budget(6 << 30, &full(&[4096, 65536]), &[512, 512], 8),
            256 << 20
        );
        assert_eq!(slab_budget(8 << 20, &axes, &[1024, 1024], 8), 8 << 20);
        assert_eq!(slab_budget(8 << 20, &[], &[], 8), 8 << 20);
    }
}

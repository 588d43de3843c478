//! `export --mask FILE.npy` and `--points FILE.npy`: selections given as numpy arrays.
//!
//! A mask of the array's shape is a coordinate selection (numpy's `a[mask]`: the marked elements, C
//! order, 1-D); a 1-D mask as long as the first axis of an N-d array selects along that axis
//! (numpy's `a[mask1d]`: the other axes whole). Points are an `(n, ndim)` integer array, one row per
//! point (numpy's `a[tuple(points.T)]`); a 1-D array of `n` integers serves a 1-D array.

use std::path::Path;

use tessera_array::{AxisSelector, ByteOrder, DataType, Selection};
use tessera_mmap::npy::parse_header;

use crate::error::{CliError, CliResult};

/// The header and data of a small `.npy` file (the whole file is read: masks and point lists are
/// the size of the selection).
fn load(flag: &str, path: &Path) -> CliResult<(tessera_mmap::npy::NpyHeader, Vec<u8>)> {
    let bytes = std::fs::read(path).map_err(|e| {
        CliError::usage(format!("{flag} {}: cannot read it", path.display())).with_source(e)
    })?;
    let header = parse_header(&bytes).map_err(|e| {
        CliError::usage(format!(
            "{flag} {}: not a .npy file numpy wrote",
            path.display()
        ))
        .with_source(e)
    })?;
    let len = header
        .data_len()
        .and_then(|n| usize::try_from(n).ok())
        .filter(|&n| header.data_offset.saturating_add(n) <= bytes.len())
        .ok_or_else(|| {
            CliError::usage(format!(
                "{flag} {}: the file is shorter than its header's shape {:?} needs",
                path.display(),
                header.shape
            ))
        })?;
    let data = bytes[header.data_offset..header.data_offset + len].to_vec();
    Ok((header, data))
}

/// Builds the selection of `--mask FILE` for an array of `shape`.
pub fn mask_selection(path: &Path, shape: &[u64]) -> CliResult<Selection> {
    let (header, data) = load("--mask", path)?;
    if header.dtype != DataType::Bool {
        return Err(CliError::usage(format!(
            "--mask {}: holds {}, not booleans; save a numpy bool array (mask.astype(bool))",
            path.display(),
            header.dtype.typestr()
        )));
    }
    if header.fortran_order && header.shape.iter().filter(|&&d| d > 1).count() > 1 {
        return Err(CliError::usage(format!(
            "--mask {}: is in Fortran order; save numpy.ascontiguousarray(mask)",
            path.display()
        )));
    }
    let mask: Vec<bool> = data.iter().map(|&b| b != 0).collect();
    if header.shape == shape {
        return Ok(Selection::mask(mask));
    }
    if header.shape.len() == 1 && shape.len() > 1 && header.shape[0] == shape[0] {
        return Ok(Selection::new(vec![AxisSelector::Mask(mask)]));
    }
    Err(CliError::usage(format!(
        "--mask {}: of shape {:?} fits neither the array's shape {shape:?} nor its first axis",
        path.display(),
        header.shape
    )))
}

/// Builds the selection of `--points FILE` for an array of `ndim` dimensions.
pub fn points_selection(path: &Path, ndim: usize) -> CliResult<Selection> {
    let (header, data) = load("--points", path)?;
    let (size, signed, order) = match header.dtype {
        DataType::Int { size, order } => (size, true, order),
        DataType::UInt { size, order } => (size, false, order),
        ref other => {
            return Err(CliError::usage(format!(
                "--points {}: holds {}, not integers",
                path.display(),
                other.typestr()
            )));
        }
    };
    let n = match header.shape.as_slice() {
        [n, d] if *d as usize == ndim => *n as usize,
        [n] if ndim == 1 => *n as usize,
        other => {
            return Err(CliError::usage(format!(
                "--points {}: has shape {other:?}; an array of {ndim} dimensions needs (n, {ndim}), \
                 one row per point",
                path.display()
            )));
        }
    };
    let value = |k: usize| -> CliResult<i64> {
        let mut buf = [0u8; 8];
        let raw = &data[k * size..(k + 1) * size];
        match order {
            ByteOrder::Little => buf[..size].copy_from_slice(raw),
            ByteOrder::Big => buf[8 - size..].copy_from_slice(raw),
        }
        let v = match order {
            ByteOrder::Little => u64::from_le_bytes(buf),
            ByteOrder::Big => u64::from_be_bytes(buf),
        };
        if signed {
            // Sign-extend from `size` bytes.
            let shift = 64 - 8 * size as u32;
            Ok(((v << shift) as i64) >> shift)
        } else {
            i64::try_from(v).map_err(|_| {
                CliError::usage(format!(
                    "--points {}: coordinate {v} is out of range",
                    path.display()
                ))
            })
        }
    };
    let mut coords = vec![Vec::with_capacity(n); ndim];
    for i in 0..n {
        for (a, axis) in coords.iter_mut().enumerate() {
            let k = if header.fortran_order {
                a * n + i
            } else {
                i * ndim + a
            };
            axis.push(value(k)?);
        }
    }
    Ok(Selection::points(coords))
}

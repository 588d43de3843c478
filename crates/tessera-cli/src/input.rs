//! Import sources: a `.npy` file, or a raw file described by a tessera sidecar JSON.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use tessera_array::{DataType, Order};
use tessera_mmap::npy::{MAGIC, parse_header};
use tessera_mmap::{RawLayout, default_sidecar_path};

use crate::error::{CliError, CliResult, Context};

/// An array stored contiguously in a file: C or F order, starting at `offset`.
#[derive(Debug)]
pub struct RawInput {
    file: File,
    /// The file, for messages.
    pub path: PathBuf,
    /// The element type, byte order included.
    pub dtype: DataType,
    /// The shape.
    pub shape: Vec<u64>,
    /// The order of the elements in the file.
    pub order: Order,
    /// Where the data starts.
    pub offset: u64,
}

impl RawInput {
    /// Opens `path`: a `.npy` file (recognised by its magic bytes), a raw file with a sidecar
    /// (`path.json`, or `path` with its extension replaced by `.json`), or the sidecar itself.
    pub fn open(path: &Path) -> CliResult<RawInput> {
        let mut file =
            File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let mut magic = [0u8; 6];
        let got = read_up_to(&mut file, &mut magic)
            .with_context(|| format!("reading {}", path.display()))?;
        if got == magic.len() && &magic == MAGIC {
            return RawInput::open_npy(file, path);
        }
        if path.extension().is_some_and(|e| e == "json") {
            // The sidecar was named: the data file is the same name without `.json`.
            let data = path.with_extension("");
            let (dtype, shape, order, offset) = read_sidecar(path)?;
            let file = File::open(&data).with_context(|| {
                format!(
                    "cannot open {} (described by {})",
                    data.display(),
                    path.display()
                )
            })?;
            return RawInput::checked(file, data, dtype, shape, order, offset);
        }
        let mut candidates = vec![default_sidecar_path(path)];
        if !candidates.contains(&path.with_extension("json")) {
            candidates.push(path.with_extension("json"));
        }
        let Some(sidecar) = candidates.iter().find(|c| c.is_file()) else {
            let looked: Vec<String> = candidates.iter().map(|c| c.display().to_string()).collect();
            return Err(CliError::usage(format!(
                "{} is neither a .npy file nor a raw file with a sidecar (looked for {})",
                path.display(),
                looked.join(" and ")
            )));
        };
        let (dtype, shape, order, offset) = read_sidecar(sidecar)?;
        RawInput::checked(file, path.to_path_buf(), dtype, shape, order, offset)
    }

    fn open_npy(file: File, path: &Path) -> CliResult<RawInput> {
        let mut prefix = [0u8; 12];
        let got = file
            .read_at(&mut prefix, 0)
            .with_context(|| format!("reading {}", path.display()))?;
        let header_len = match prefix[6] {
            1 if got >= 10 => 10 + u16::from_le_bytes([prefix[8], prefix[9]]) as usize,
            2 | 3 if got >= 12 => {
                12 + u32::from_le_bytes([prefix[8], prefix[9], prefix[10], prefix[11]]) as usize
            }
            _ => got,
        };
        let mut header = vec![0u8; header_len.min(1 << 24)];
        let got = file
            .read_at(&mut header, 0)
            .with_context(|| format!("reading {}", path.display()))?;
        header.truncate(got);
        let h = parse_header(&header)
            .with_context(|| format!("{} is not a valid .npy file", path.display()))?;
        let order = if h.fortran_order { Order::F } else { Order::C };
        RawInput::checked(
            file,
            path.to_path_buf(),
            h.dtype,
            h.shape,
            order,
            h.data_offset as u64,
        )
    }

    fn checked(
        file: File,
        path: PathBuf,
        dtype: DataType,
        shape: Vec<u64>,
        order: Order,
        offset: u64,
    ) -> CliResult<RawInput> {
        let data = shape
            .iter()
            .try_fold(dtype.itemsize() as u64, |a, &d| a.checked_mul(d))
            .and_then(|d| d.checked_add(offset))
            .ok_or_else(|| {
                CliError::new(format!(
                    "{}: shape {shape:?} of {dtype} is too large",
                    path.display()
                ))
            })?;
        let len = file
            .metadata()
            .with_context(|| format!("reading {}", path.display()))?
            .len();
        if len != data {
            return Err(CliError::new(format!(
                "{}: the file holds {len} bytes but shape {shape:?} of {dtype} (from byte {offset}) needs {data}",
                path.display()
            )));
        }
        Ok(RawInput {
            file,
            path,
            dtype,
            shape,
            order,
            offset,
        })
    }

    /// Reads `buf.len()` bytes of data starting `at` bytes into the data.
    pub fn read_at(&self, buf: &mut [u8], at: u64) -> CliResult<()> {
        self.file
            .read_exact_at(buf, self.offset + at)
            .with_context(|| format!("reading {}", self.path.display()))
    }
}

fn read_up_to(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match file.read(&mut buf[got..])? {
            0 => break,
            n => got += n,
        }
    }
    Ok(got)
}

/// Reads a tessera raw sidecar (tessera-mmap's format, `{"tessera_raw": 1, "dtype": ..., "shape": [...],
/// "order": "C", "offset": 0}`).
fn read_sidecar(path: &Path) -> CliResult<(DataType, Vec<u64>, Order, u64)> {
    let layout = RawLayout::read_sidecar(path)
        .map_err(|e| CliError::new("cannot use the sidecar").with_source(e))?;
    Ok((layout.dtype, layout.shape, layout.order, layout.offset))
}

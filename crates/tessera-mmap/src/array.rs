//! [`MmapArray`]: a raw or `.npy` file mapped into memory, read and written through the same selection
//! and typed API as a Zarr array ([`ArrayAccess`]).
//!
//! # Safety design
//!
//! Mapping a file hands the process memory whose contents the file system owns: if another process (or
//! this one, through another handle) truncates the file, touching the vanished pages kills the process
//! with `SIGBUS`; if another process writes the file while we read it, our reads race with its writes.
//! Rust cannot check either, so **every call that maps a file is an `unsafe fn`**
//! ([`MmapArray::open`], [`MmapArray::create`], [`MmapOptions::open`], [`MmapOptions::create`]) and the
//! caller promises, for as long as the returned [`MmapArray`] lives:
//!
//! 1. nobody truncates or shrinks the file;
//! 2. nobody writes the part of the file this array maps, except through this `MmapArray` (or, across
//!    processes, with the caller's own coordination so that no region is written while another process
//!    reads or writes it).
//!
//! This follows ripgrep's choice (and `memmap2`'s own `unsafe fn map`): the unsafety is written at the
//! call that maps, where the caller knows where the file comes from, instead of being hidden behind a
//! safe constructor whose documentation nobody reads. Everything after that is safe: selections are
//! checked against the shape before any pointer is formed, the file's size is checked against the header
//! before mapping, and within the process every access to the mapped bytes goes through a reader-writer
//! lock, so reads never see a write half done and two writes never interleave.
//!
//! Copy-on-write mappings are private to this process: nothing another process does to the file
//! (beyond truncation) can reach us through the pages we changed, and nothing we change reaches the file.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use memmap2::{Mmap, MmapMut};
use ndarray::{ArrayBase, ArrayD, ArrayViewD, ArrayViewMutD, Data, Dimension, IxDyn, ShapeBuilder};
use tessera_array::copy::{self, Dim};
use tessera_array::{
    ArrayAccess, ArrayError, ArrayResult, DataType, Element, IntoSelection, Order, RawArray,
    ResolvedSelection,
};

use crate::error::{MmapError, MmapResult};
use crate::layout::{RawLayout, default_sidecar_path, strides};
use crate::npy::{self, NpyHeader};

/// How a file is mapped, as `numpy.memmap`'s `mode`. Creating a new file (numpy's `w+`) is
/// [`MmapArray::create`]; the array it returns is [`ReadWrite`](Mode::ReadWrite).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Mode {
    /// `r`: reads only; a write is a [`MmapError::PermissionDenied`].
    #[default]
    ReadOnly,
    /// `r+`: reads and writes; writes reach the file (other processes see them at once through the shared
    /// page cache, [`flush`](MmapArray::flush) makes them durable).
    ReadWrite,
    /// `c`: reads and writes, but writes stay in this process's private copy of the pages and **never
    /// reach the file**; [`flush`](MmapArray::flush) refuses, so the mistake of taking them for persistent
    /// shows up as an error.
    CopyOnWrite,
}

/// Where an array's description lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Format {
    /// A `.npy` file: the header at the start of the file describes the data after it.
    Npy {
        /// The header's format version, e.g. `(1, 0)`.
        version: (u8, u8),
    },
    /// A raw file described by a sidecar JSON document (see [`crate::layout`]).
    Raw {
        /// The sidecar file.
        sidecar: PathBuf,
    },
}

/// How to map (and, for [`create`](Self::create), write) a file: a builder in the style of
/// `std::fs::OpenOptions`.
///
/// ```
/// use tessera_mmap::{Mode, MmapOptions, MmapArray, RawLayout};
/// use tessera_array::{ArrayAccess, DataType};
/// use ndarray::array;
///
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("grid.raw");
/// let layout = RawLayout::new(DataType::parse_typestr("<i4")?, vec![2, 3]);
/// // SAFETY: the file is ours alone (a fresh temporary directory); nobody truncates or writes it.
/// let a = unsafe { MmapOptions::new().create(&path, &layout) }?;
/// a.write((), &array![[1, 2, 3], [4, 5, 6]])?;
/// a.flush()?;
/// assert!(dir.path().join("grid.raw.json").exists());
///
/// // SAFETY: as above.
/// let b = unsafe { MmapOptions::new().mode(Mode::ReadOnly).open(&path) }?;
/// assert_eq!(b.read::<i32>("1, 1:")?.into_raw_vec_and_offset().0, vec![5, 6]);
/// assert!(b.read::<f32>(()).is_err()); // the wrong element type never reinterprets bytes
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct MmapOptions {
    mode: Mode,
    sidecar: Option<PathBuf>,
    npy: Option<bool>,
    overwrite: bool,
}

impl MmapOptions {
    /// Read-only, format detected from the file, no overwriting.
    pub fn new() -> MmapOptions {
        MmapOptions::default()
    }

    /// How [`open`](Self::open) maps the file (ignored by [`create`](Self::create), which maps
    /// read-write).
    pub fn mode(&mut self, mode: Mode) -> &mut Self {
        self.mode = mode;
        self
    }

    /// Use this sidecar instead of `<file>.json`; the file is then raw, even if it starts like a `.npy`.
    pub fn sidecar(&mut self, path: impl Into<PathBuf>) -> &mut Self {
        self.sidecar = Some(path.into());
        self
    }

    /// For [`create`](Self::create): write a `.npy` header (`true`) or raw data with a sidecar (`false`).
    /// The default is a `.npy` file when the path ends in `.npy` and no sidecar was set.
    pub fn npy(&mut self, yes: bool) -> &mut Self {
        self.npy = Some(yes);
        self
    }

    /// For [`create`](Self::create): replace an existing file (and sidecar) instead of refusing.
    pub fn overwrite(&mut self, yes: bool) -> &mut Self {
        self.overwrite = yes;
        self
    }

    fn sidecar_for(&self, path: &Path) -> PathBuf {
        self.sidecar
            .clone()
            .unwrap_or_else(|| default_sidecar_path(path))
    }

    /// Opens and maps an existing file: a `.npy` file (detected by its magic bytes) or a raw file with a
    /// sidecar (the one set with [`sidecar`](Self::sidecar), else `<file>.json`).
    ///
    /// # Safety
    /// For as long as the returned array lives, nobody may truncate the file or write the mapped part of
    /// it other than through this array (see the [module documentation](self)).
    ///
    /// # Errors
    /// - [`MmapError::Header`]: a `.npy` file (by magic bytes or extension) with a missing, truncated or
    ///   malformed header;
    /// - [`MmapError::Sidecar`] / [`MmapError::SidecarVersion`]: no usable sidecar for a raw file;
    /// - [`MmapError::SizeMismatch`]: the file is not exactly header + shape × itemsize bytes (both
    ///   numbers in the message);
    /// - [`MmapError::PermissionDenied`]: [`Mode::ReadWrite`] on a file that is read-only (by its
    ///   permission bits, even for root, or because the system refuses);
    /// - [`MmapError::TooLarge`]: the data does not fit the address space; [`MmapError::Io`].
    pub unsafe fn open(&self, path: impl AsRef<Path>) -> MmapResult<MmapArray> {
        let path = path.as_ref();
        let mut file = open_file(path, self.mode)?;
        let found = file
            .metadata()
            .map_err(|e| MmapError::io(path, "reading the file size", e))?
            .len();
        let (layout, format) = if let Some(sidecar) = &self.sidecar {
            (
                RawLayout::read_sidecar(sidecar)?,
                Format::Raw {
                    sidecar: sidecar.clone(),
                },
            )
        } else if starts_with_magic(&mut file, path)?
            || path.extension().is_some_and(|e| e == "npy")
        {
            let header = read_npy_header(&mut file, path, found)?;
            let layout = RawLayout {
                dtype: header.dtype,
                shape: header.shape,
                order: if header.fortran_order {
                    Order::F
                } else {
                    Order::C
                },
                offset: header.data_offset as u64,
            };
            (
                layout,
                Format::Npy {
                    version: header.version,
                },
            )
        } else {
            let sidecar = default_sidecar_path(path);
            if !sidecar.exists() {
                return Err(MmapError::sidecar(
                    &sidecar,
                    format!(
                        "{} has no .npy header and no sidecar describes it",
                        path.display()
                    ),
                ));
            }
            (RawLayout::read_sidecar(&sidecar)?, Format::Raw { sidecar })
        };
        // SAFETY: forwarded to our caller.
        unsafe { MmapArray::map(file, path, layout, format, self.mode, found) }
    }

    /// Creates a file for `layout` and maps it read-write, zero-filled: a `.npy` file (header written at
    /// the start, `layout.offset` ignored) or a raw file with its sidecar (see [`npy`](Self::npy)).
    ///
    /// # Safety
    /// As [`open`](Self::open).
    ///
    /// # Errors
    /// [`MmapError::AlreadyExists`] when the file (or the sidecar) exists and
    /// [`overwrite`](Self::overwrite) is off; [`MmapError::PermissionDenied`], [`MmapError::TooLarge`],
    /// [`MmapError::Io`].
    pub unsafe fn create(
        &self,
        path: impl AsRef<Path>,
        layout: &RawLayout,
    ) -> MmapResult<MmapArray> {
        let path = path.as_ref();
        let npy_file = self.npy.unwrap_or_else(|| {
            self.sidecar.is_none() && path.extension().is_some_and(|e| e == "npy")
        });
        let data_len = layout.data_len().ok_or_else(|| {
            MmapError::TooLarge(format!(
                "{:?} x {} bytes overflows 64 bits",
                layout.shape,
                layout.dtype.itemsize()
            ))
        })?;
        let (layout, header, format) = if npy_file {
            let header = NpyHeader::new(
                layout.dtype.clone(),
                layout.shape.clone(),
                layout.order == Order::F,
            );
            let bytes = header.to_bytes();
            let layout = RawLayout {
                offset: bytes.len() as u64,
                ..layout.clone()
            };
            (
                layout,
                bytes,
                Format::Npy {
                    version: header.version,
                },
            )
        } else {
            let sidecar = self.sidecar_for(path);
            if !self.overwrite && sidecar.exists() {
                return Err(MmapError::AlreadyExists { path: sidecar });
            }
            (
                layout.clone(),
                vec![0u8; layout.offset as usize],
                Format::Raw { sidecar },
            )
        };
        let total = (header.len() as u64)
            .checked_add(data_len)
            .ok_or_else(|| MmapError::TooLarge("file size overflows 64 bits".into()))?;
        let mut options = OpenOptions::new();
        options.read(true).write(true);
        if self.overwrite {
            options.create(true).truncate(true);
        } else {
            options.create_new(true);
        }
        let mut file = options
            .open(path)
            .map_err(|e| MmapError::io(path, "creating the file", e))?;
        file.write_all(&header)
            .map_err(|e| MmapError::io(path, "writing the header", e))?;
        file.set_len(total)
            .map_err(|e| MmapError::io(path, "sizing the file", e))?;
        if let Format::Raw { sidecar } = &format {
            layout.write_sidecar(sidecar)?;
        }
        // SAFETY: forwarded to our caller.
        unsafe { MmapArray::map(file, path, layout, format, Mode::ReadWrite, total) }
    }
}

fn open_file(path: &Path, mode: Mode) -> MmapResult<File> {
    let writable = mode == Mode::ReadWrite;
    if writable {
        // The permission bits say read-only: refuse even where the system would let us (root), as numpy's
        // `r+` does for everyone else.
        let meta = std::fs::metadata(path).map_err(|e| MmapError::io(path, "opening", e))?;
        if meta.permissions().readonly() {
            return Err(MmapError::PermissionDenied {
                path: path.to_path_buf(),
                message: "the file is read-only; open it with Mode::ReadOnly or Mode::CopyOnWrite"
                    .into(),
                source: None,
            });
        }
    }
    OpenOptions::new()
        .read(true)
        .write(writable)
        .open(path)
        .map_err(|e| {
            MmapError::io(
                path,
                if writable {
                    "opening read-write"
                } else {
                    "opening"
                },
                e,
            )
        })
}

fn starts_with_magic(file: &mut File, path: &Path) -> MmapResult<bool> {
    let mut magic = [0u8; 6];
    let mut got = 0;
    while got < magic.len() {
        match file.read(&mut magic[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(MmapError::io(path, "reading the header", e)),
        }
    }
    Ok(got == magic.len() && &magic == npy::MAGIC)
}

/// Reads just the header: its fixed prefix says how long it is.
fn read_npy_header(file: &mut File, path: &Path, file_len: u64) -> MmapResult<NpyHeader> {
    let io = |e| MmapError::io(path, "reading the .npy header", e);
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    let mut prefix = vec![0u8; 12.min(file_len as usize)];
    file.read_exact(&mut prefix).map_err(io)?;
    let declared = match prefix.get(6) {
        Some(1) if prefix.len() >= 10 => 10 + u16::from_le_bytes([prefix[8], prefix[9]]) as u64,
        Some(2 | 3) if prefix.len() >= 12 => {
            12 + u32::from_le_bytes([prefix[8], prefix[9], prefix[10], prefix[11]]) as u64
        }
        // Too short or an unknown version: the parser names the problem.
        _ => return npy::parse_header(&prefix),
    };
    let mut bytes = vec![0u8; declared.min(file_len).min(1 << 25) as usize];
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    file.read_exact(&mut bytes).map_err(io)?;
    npy::parse_header(&bytes)
}

/// The mapping itself.
#[derive(Debug)]
enum Mapping {
    /// No data bytes: nothing to map.
    Empty,
    /// Only held: dropping it unmaps the pages `ptr` points into.
    ReadOnly(#[allow(dead_code)] Mmap),
    Writable(MmapMut),
}

/// An N-dimensional array in a memory-mapped raw or `.npy` file.
///
/// Opened only when the file's size matches its description exactly; reads and writes take the same
/// selections (`"0:10, 3"`, `s![..]`, [`Selection`](tessera_array::Selection)) and element types as a Zarr
/// [`Array`](tessera_array::Array) through [`ArrayAccess`], so code can run unchanged on either. Untyped
/// access returns bytes in the stored byte order, C order, whatever the file's order (F-order files are
/// transposed during the copy). [`view`](Self::view) and [`view_mut`](Self::view_mut) give zero-copy
/// `ndarray` views where the element type, byte order and alignment allow.
///
/// # Concurrency contract
/// Within a process the array is `Send + Sync`: any number of threads read at once; a write excludes
/// other reads and writes of the same `MmapArray` for its duration. Across processes, any number may map
/// the file read-only; a process writing it must make sure no other process reads or writes the same
/// region at the same time (the `# Safety` contract of [`open`](MmapOptions::open)). Written data is
/// visible to other processes at once (one page cache); [`flush`](Self::flush) makes it durable.
#[derive(Debug)]
pub struct MmapArray {
    path: PathBuf,
    layout: RawLayout,
    format: Format,
    mode: Mode,
    map: Mapping,
    /// Start of the data in the mapping (dangling for an empty array).
    ptr: *mut u8,
    /// Bytes of data.
    len: usize,
    /// Readers share, writers exclude: no access sees another's write half done.
    lock: RwLock<()>,
}

// SAFETY: `ptr` points into `map`, which lives as long as `self`; every access to the bytes goes through
// `lock`, so sharing the array between threads cannot race (the cross-process part is the caller's
// promise made at `open`).
unsafe impl Send for MmapArray {}
unsafe impl Sync for MmapArray {}

impl MmapArray {
    /// Opens and maps an existing `.npy` file or raw file with a `<file>.json` sidecar; see
    /// [`MmapOptions::open`] for other sidecars.
    ///
    /// # Safety
    /// For as long as the returned array lives, nobody may truncate the file or write the mapped part of
    /// it other than through this array (see the [module documentation](self)).
    ///
    /// # Errors
    /// As [`MmapOptions::open`].
    pub unsafe fn open(path: impl AsRef<Path>, mode: Mode) -> MmapResult<MmapArray> {
        // SAFETY: forwarded to our caller.
        unsafe { MmapOptions::new().mode(mode).open(path) }
    }

    /// Creates a new zero-filled file for `layout`, mapped read-write: a `.npy` file when `path` ends in
    /// `.npy`, else raw data with a `<file>.json` sidecar. Refuses to replace an existing file; see
    /// [`MmapOptions::create`] for more choices.
    ///
    /// # Safety
    /// As [`open`](Self::open).
    ///
    /// # Errors
    /// As [`MmapOptions::create`].
    pub unsafe fn create(path: impl AsRef<Path>, layout: &RawLayout) -> MmapResult<MmapArray> {
        // SAFETY: forwarded to our caller.
        unsafe { MmapOptions::new().create(path, layout) }
    }

    /// # Safety
    /// As [`MmapOptions::open`].
    unsafe fn map(
        file: File,
        path: &Path,
        layout: RawLayout,
        format: Format,
        mode: Mode,
        found: u64,
    ) -> MmapResult<MmapArray> {
        let expected = layout.file_len().ok_or_else(|| {
            MmapError::TooLarge(format!(
                "{}: shape {:?} overflows 64 bits",
                path.display(),
                layout.shape
            ))
        })?;
        if expected != found {
            return Err(MmapError::SizeMismatch {
                path: path.to_path_buf(),
                expected,
                found,
            });
        }
        let data_len = expected - layout.offset;
        let len = usize::try_from(data_len)
            .ok()
            .filter(|&n| n <= isize::MAX as usize)
            .ok_or_else(|| {
                MmapError::TooLarge(format!(
                    "{}: {data_len} bytes do not fit the address space",
                    path.display()
                ))
            })?;
        let mut options = memmap2::MmapOptions::new();
        options.offset(layout.offset).len(len);
        let map_err = |e| MmapError::io(path, "mapping the file", e);
        let (map, ptr) = if len == 0 {
            (Mapping::Empty, std::ptr::NonNull::<u8>::dangling().as_ptr())
        } else {
            // SAFETY: the caller promises nobody truncates or concurrently writes the file.
            match mode {
                Mode::ReadOnly => {
                    let m = unsafe { options.map(&file) }.map_err(map_err)?;
                    let ptr = m.as_ptr() as *mut u8;
                    (Mapping::ReadOnly(m), ptr)
                }
                Mode::ReadWrite => {
                    let mut m = unsafe { options.map_mut(&file) }.map_err(map_err)?;
                    let ptr = m.as_mut_ptr();
                    (Mapping::Writable(m), ptr)
                }
                Mode::CopyOnWrite => {
                    let mut m = unsafe { options.map_copy(&file) }.map_err(map_err)?;
                    let ptr = m.as_mut_ptr();
                    (Mapping::Writable(m), ptr)
                }
            }
        };
        Ok(MmapArray {
            path: path.to_path_buf(),
            layout,
            format,
            mode,
            map,
            ptr,
            len,
            lock: RwLock::new(()),
        })
    }

    /// The data file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The layout: dtype, shape, order, data offset.
    pub fn layout(&self) -> &RawLayout {
        &self.layout
    }

    /// Where the description comes from: a `.npy` header or a sidecar.
    pub fn format(&self) -> &Format {
        &self.format
    }

    /// How the file is mapped.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The element order of the file.
    pub fn order(&self) -> Order {
        self.layout.order
    }

    /// Bytes of data (shape × itemsize).
    pub fn nbytes(&self) -> usize {
        self.len
    }

    fn read_lock(&self) -> RwLockReadGuard<'_, ()> {
        self.lock.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write_lock(&self) -> MmapResult<RwLockWriteGuard<'_, ()>> {
        if self.mode == Mode::ReadOnly {
            return Err(MmapError::PermissionDenied {
                path: self.path.clone(),
                message: "the array is mapped read-only; open it with Mode::ReadWrite to write"
                    .into(),
                source: None,
            });
        }
        Ok(self.lock.write().unwrap_or_else(|p| p.into_inner()))
    }

    /// Writes changed pages back to the file and waits until they are on disk (`msync`). A no-op for a
    /// read-only mapping.
    ///
    /// # Errors
    /// [`MmapError::PermissionDenied`] for a [`Mode::CopyOnWrite`] array, whose changes never reach the
    /// file; [`MmapError::Io`] when the system fails to write.
    pub fn flush(&self) -> MmapResult<()> {
        self.flush_with(|m| m.flush())
    }

    /// Starts writing changed pages back to the file without waiting (`msync(MS_ASYNC)`); the data is
    /// already visible to other processes, this only hastens durability.
    ///
    /// # Errors
    /// As [`flush`](Self::flush).
    pub fn flush_async(&self) -> MmapResult<()> {
        self.flush_with(|m| m.flush_async())
    }

    fn flush_with(&self, f: impl FnOnce(&MmapMut) -> std::io::Result<()>) -> MmapResult<()> {
        match (&self.map, self.mode) {
            (_, Mode::CopyOnWrite) => Err(MmapError::PermissionDenied {
                path: self.path.clone(),
                message: "flush of a copy-on-write array: its changes never reach the file; open it with Mode::ReadWrite to persist writes".into(),
                source: None,
            }),
            (Mapping::Writable(m), _) => {
                // Flushing while a write is under way would persist half of it.
                let _guard = self.read_lock();
                f(m).map_err(|e| MmapError::io(&self.path, "flushing", e))
            }
            _ => Ok(()),
        }
    }

    /// Validates a selection against the shape and returns the file offset and copy geometry (file on the
    /// source side, a C-order buffer of the selection on the target side).
    fn geometry(&self, sel: &ResolvedSelection) -> ArrayResult<(usize, Vec<Dim>)> {
        let shape = &self.layout.shape;
        if !sel.is_basic() {
            return Err(ArrayError::Unsupported {
                feature: "fancy selection".into(),
                message:
                    "the raw mmap backend reads and writes strided ranges with positive steps; \
                          integer lists, masks, negative steps and points need a Zarr array"
                        .into(),
            });
        }
        if sel.axes().len() != shape.len() {
            return Err(ArrayError::Selection(format!(
                "{} axes selected for a {}-d array",
                sel.axes().len(),
                shape.len()
            )));
        }
        for (i, (a, &len)) in sel.axes().iter().zip(shape).enumerate() {
            let last = a.start as u128 + (a.count.max(1) as u128 - 1) * a.step as u128;
            if a.step == 0 || (a.count > 0 && last >= len as u128) {
                return Err(ArrayError::Selection(format!(
                    "axis {i}: {a:?} does not fit length {len}"
                )));
            }
        }
        let itemsize = self.layout.dtype.itemsize();
        let file_strides = self.layout.strides();
        let out_strides = strides(&sel.full_shape(), itemsize, Order::C);
        let mut offset = 0usize;
        let dims = sel
            .axes()
            .iter()
            .enumerate()
            .map(|(k, a)| {
                if a.count > 0 {
                    offset += a.start as usize * file_strides[k];
                }
                // With fewer than two positions the step is never taken (and may be huge).
                let src = if a.count > 1 {
                    a.step as usize * file_strides[k]
                } else {
                    file_strides[k]
                };
                Dim {
                    count: a.count as usize,
                    src,
                    dst: out_strides[k],
                }
            })
            .collect();
        Ok((offset, dims))
    }

    fn check_len(&self, sel: &ResolvedSelection, len: usize) -> ArrayResult<()> {
        let itemsize = self.layout.dtype.itemsize();
        let expected = sel.num_elements().checked_mul(itemsize as u64);
        if expected != Some(len as u64) {
            return Err(ArrayError::ShapeMismatch {
                expected: sel.shape(),
                found: vec![(len / itemsize.max(1)) as u64],
            });
        }
        Ok(())
    }

    /// Reads a selection as an `ndarray` of `T`, in native byte order (see [`ArrayAccess::read`]); the
    /// same call as on a Zarr [`Array`](tessera_array::Array).
    ///
    /// # Errors
    /// [`ArrayError::DataTypeMismatch`] when `T` does not match the stored dtype; selection errors.
    pub fn read<T: Element>(&self, selection: impl IntoSelection) -> ArrayResult<ArrayD<T>> {
        ArrayAccess::read(self, selection)
    }

    /// Reads a selection untyped: bytes in the stored dtype and byte order, C order.
    ///
    /// # Errors
    /// Selection errors.
    pub fn read_raw(&self, selection: impl IntoSelection) -> ArrayResult<RawArray> {
        ArrayAccess::read_raw(self, selection)
    }

    /// Writes `data` (the selection's shape) into the selection, converting from native byte order.
    ///
    /// # Errors
    /// [`ArrayError::DataTypeMismatch`], [`ArrayError::ShapeMismatch`], selection errors; a
    /// permission error (an [`ArrayError::Store`] of kind `PermissionDenied`) on a read-only array.
    pub fn write<T: Element, S: Data<Elem = T>, D: Dimension>(
        &self,
        selection: impl IntoSelection,
        data: &ArrayBase<S, D>,
    ) -> ArrayResult<()> {
        ArrayAccess::write(self, selection, data)
    }

    /// Writes raw bytes (C order, stored dtype and byte order, the selection's shape).
    ///
    /// # Errors
    /// As [`write`](Self::write).
    pub fn write_raw(&self, selection: impl IntoSelection, bytes: &[u8]) -> ArrayResult<()> {
        ArrayAccess::write_raw(self, selection, bytes)
    }

    /// A zero-copy view of the whole array as `T`, in the file's order, for the duration of `f`.
    ///
    /// ```
    /// # use tessera_mmap::{MmapArray, RawLayout};
    /// # use tessera_array::{ArrayAccess, DataType, Order};
    /// # let dir = tempfile::tempdir()?;
    /// let layout = RawLayout::new(DataType::parse_typestr("<f8")?, vec![3, 2]).with_order(Order::F);
    /// // SAFETY: a fresh file in a private temporary directory.
    /// let a = unsafe { MmapArray::create(dir.path().join("x.npy"), &layout) }?;
    /// a.view_mut::<f64, _>(|mut v| v[[2, 1]] = 7.5)?;
    /// let sum = a.view::<f64, _>(|v| v.sum())?;
    /// assert_eq!(sum, 7.5);
    /// assert_eq!(a.read::<f64>("2, 1")?.sum(), 7.5);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`MmapError::Array`] with [`ArrayError::DataTypeMismatch`] when `T` does not match the dtype, when
    /// the data is stored in the other byte order (use [`ArrayAccess::read`], which converts), when it is not
    /// aligned for `T` (a raw file with an odd offset), or for `bool` data holding bytes other than 0 and 1.
    pub fn view<T: Element, R>(&self, f: impl FnOnce(ArrayViewD<'_, T>) -> R) -> MmapResult<R> {
        let _guard = self.read_lock();
        self.check_view::<T>()?;
        let shape = self.view_shape();
        let n = self.len / std::mem::size_of::<T>().max(1);
        // SAFETY: `check_view` proved `T` is the plain-data type of the stored elements, in native order,
        // aligned, valid bit patterns; the mapping holds `n` of them and lives as long as `self`; the read
        // lock keeps writers of this array out while the view lives.
        let data: &[T] = if n == 0 {
            &[]
        } else {
            unsafe { std::slice::from_raw_parts(self.ptr as *const T, n) }
        };
        let view = ArrayViewD::from_shape(shape, data).expect("the mapping holds the whole shape");
        Ok(f(view))
    }

    /// A zero-copy mutable view of the whole array as `T`, in the file's order, for the duration of `f`.
    ///
    /// # Errors
    /// As [`view`](Self::view); [`MmapError::PermissionDenied`] for a read-only array.
    pub fn view_mut<T: Element, R>(
        &self,
        f: impl FnOnce(ArrayViewMutD<'_, T>) -> R,
    ) -> MmapResult<R> {
        let _guard = self.write_lock()?;
        self.check_view::<T>()?;
        let shape = self.view_shape();
        let n = self.len / std::mem::size_of::<T>().max(1);
        // SAFETY: as in `view`; the mapping is writable (not read-only, checked by `write_lock`) and the
        // write lock makes this the only access of this array while the view lives.
        let data: &mut [T] = if n == 0 {
            &mut []
        } else {
            unsafe { std::slice::from_raw_parts_mut(self.ptr as *mut T, n) }
        };
        let view =
            ArrayViewMutD::from_shape(shape, data).expect("the mapping holds the whole shape");
        Ok(f(view))
    }

    fn view_shape(&self) -> ndarray::StrideShape<IxDyn> {
        let dims: Vec<usize> = self.layout.shape.iter().map(|&d| d as usize).collect();
        match self.layout.order {
            Order::C => IxDyn(&dims).into(),
            Order::F => IxDyn(&dims).f().into(),
        }
    }

    fn check_view<T: Element>(&self) -> MmapResult<()> {
        self.check_element::<T>()?;
        let dtype = &self.layout.dtype;
        let refuse = |why: &str| {
            MmapError::Array(ArrayError::DataTypeMismatch {
                stored: dtype.typestr(),
                requested: format!("a zero-copy {} view ({why})", T::NAME),
            })
        };
        if dtype.needs_swap() {
            return Err(refuse(
                "the data is in the other byte order; read() converts it",
            ));
        }
        if std::mem::size_of::<T>() != dtype.itemsize() {
            return Err(refuse("the element sizes differ"));
        }
        if self.len > 0 && !(self.ptr as usize).is_multiple_of(std::mem::align_of::<T>()) {
            return Err(refuse(
                "the data offset is not aligned for the type; read() copies it",
            ));
        }
        if matches!(dtype, DataType::Bool) && self.len > 0 {
            // SAFETY: the mapping holds `len` bytes; the caller holds the lock.
            let bytes = unsafe { std::slice::from_raw_parts(self.ptr as *const u8, self.len) };
            if bytes.iter().any(|&b| b > 1) {
                return Err(refuse(
                    "bytes other than 0 and 1 are not Rust bools; read() normalises them",
                ));
            }
        }
        Ok(())
    }
}

impl ArrayAccess for MmapArray {
    fn shape(&self) -> &[u64] {
        &self.layout.shape
    }

    fn flush(&self) -> ArrayResult<()> {
        MmapArray::flush(self).map_err(|e| match e {
            MmapError::Array(inner) => inner,
            other => ArrayError::Store(
                tessera_store::StoreError::new(
                    tessera_store::StoreErrorKind::Io,
                    "flushing the mapped file failed",
                )
                .with_source(other),
            ),
        })
    }

    fn dtype(&self) -> &DataType {
        &self.layout.dtype
    }

    fn read_into(&self, selection: &ResolvedSelection, out: &mut [u8]) -> ArrayResult<()> {
        self.check_len(selection, out.len())?;
        let (offset, dims) = self.geometry(selection)?;
        if out.is_empty() {
            return Ok(());
        }
        let itemsize = self.layout.dtype.itemsize();
        assert!(
            offset + copy::extent(&dims, itemsize, |d| d.src) <= self.len,
            "selection outside the mapping"
        );
        let _guard = self.read_lock();
        // SAFETY: `geometry` checked every selected position against the shape, so the source region lies
        // inside the mapping; `out` holds exactly the selection in C order (checked); the read lock keeps
        // this array's writers out, the caller of `open` promised no one else writes.
        unsafe { copy::copy(self.ptr.add(offset), out.as_mut_ptr(), &dims, itemsize) };
        Ok(())
    }

    fn write_resolved(&self, selection: &ResolvedSelection, bytes: &[u8]) -> ArrayResult<()> {
        self.check_len(selection, bytes.len())?;
        let (offset, dims) = self.geometry(selection)?;
        let _guard = self.write_lock()?;
        if bytes.is_empty() {
            return Ok(());
        }
        let itemsize = self.layout.dtype.itemsize();
        assert!(
            offset + copy::extent(&dims, itemsize, |d| d.src) <= self.len,
            "selection outside the mapping"
        );
        let dims: Vec<Dim> = dims.iter().map(|d| d.swapped()).collect();
        // SAFETY: as in `read_into` with the roles swapped; the mapping is writable (`write_lock` refuses
        // read-only arrays) and the write lock excludes every other access of this array. Distinct
        // elements of a selection (positive steps) land on distinct file positions.
        unsafe { copy::copy(bytes.as_ptr(), self.ptr.add(offset), &dims, itemsize) };
        Ok(())
    }
}

//! Raw memory-mapped arrays that cannot be opened with the wrong dtype or shape: `numpy.memmap`, done
//! safely.
//!
//! A [`MmapArray`] maps a raw C- or F-order file described by a sidecar JSON ([`RawLayout`], see
//! [`layout`]) or by a `.npy` header ([`npy`]). It opens only when the file's size is exactly header +
//! shape × itemsize, refuses typed access with the wrong element type, and reads and writes through the
//! same selections and typed API as a Zarr array ([`tessera_array::ArrayAccess`]), so the two backends
//! can be swapped. Modes follow `numpy.memmap`: read-only, read-write, create, copy-on-write
//! ([`Mode`]); [`MmapArray::flush`] persists writes.
//!
//! Mapping a file is `unsafe`: the call that maps ([`MmapArray::open`], [`MmapArray::create`],
//! [`MmapOptions`]) is an `unsafe fn` whose `# Safety` section says what the caller guarantees (nobody
//! truncates the file or writes it behind our back); everything after that is safe. See [`array`](mod@array) for
//! the reasoning.
//!
//! ```
//! use tessera_array::{ArrayAccess, DataType, Order};
//! use tessera_mmap::{MmapArray, MmapError, Mode, RawLayout};
//! use ndarray::array;
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("temps.npy");
//! let layout = RawLayout::new(DataType::parse_typestr(">f4")?, vec![2, 3]).with_order(Order::F);
//! // SAFETY: the file lives in our own temporary directory; nobody else truncates or writes it.
//! let a = unsafe { MmapArray::create(&path, &layout) }?;
//! a.write((), &array![[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]])?;
//! a.flush()?;
//! drop(a);
//!
//! // SAFETY: as above.
//! let b = unsafe { MmapArray::open(&path, Mode::ReadOnly) }?;
//! assert_eq!(b.read::<f32>(":, 2")?.into_raw_vec_and_offset().0, vec![3.0, 6.0]);
//! assert!(b.read::<i32>(()).is_err()); // never reinterpreted
//! assert!(b.write_raw("0, 0", &[0; 4]).is_err()); // read-only
//!
//! drop(b);
//! let size = std::fs::metadata(&path)?.len();
//! std::fs::OpenOptions::new().write(true).open(&path)?.set_len(size - 4)?; // one element lost
//! // SAFETY: as above.
//! let err = unsafe { MmapArray::open(&path, Mode::ReadOnly) }.unwrap_err();
//! assert!(matches!(err, MmapError::SizeMismatch { expected, found, .. } if found == expected - 4));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Modules: [`array`](mod@array) (the mapped array, modes, the safety design), [`layout`] (dtype, shape, order,
//! offset and the sidecar format), [`npy`] (the `.npy` header), [`transfer`] (streaming import into and
//! export from Zarr arrays with bounded memory), [`error`].

pub mod array;
pub mod error;
pub mod layout;
pub mod npy;
pub mod transfer;

pub use array::{Format, MmapArray, MmapOptions, Mode};
pub use error::{MmapError, MmapResult};
pub use layout::{RawLayout, SIDECAR_VERSION, default_sidecar_path};
pub use npy::NpyHeader;
pub use transfer::{
    DEFAULT_MEMORY_LIMIT, TransferOptions, builder_for, export_selection_to_npy,
    export_selection_to_raw, import_into_zarr,
};

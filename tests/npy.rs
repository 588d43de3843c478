//! Reading expected `.npy` files in tests.

use std::path::Path;

use tessera::array::DataType;
use tessera::mmap::npy::parse_header;

/// An expected array: dtype, shape, C-order bytes.
pub struct Expected {
    pub dtype: DataType,
    pub shape: Vec<u64>,
    pub bytes: Vec<u8>,
}

pub fn read_npy(path: &Path) -> Expected {
    let raw = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header = parse_header(&raw).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        !header.fortran_order || header.shape.len() < 2,
        "{}: expected files are C order",
        path.display()
    );
    Expected {
        dtype: header.dtype,
        shape: header.shape,
        bytes: raw[header.data_offset..].to_vec(),
    }
}

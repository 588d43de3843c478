//! Reading expected `.npy` files in tests.

use std::path::Path;

use tessera::mmap::npy::parse_header;

/// An expected array: shape and C-order bytes (the dtype is the array's own, checked elsewhere).
pub struct Expected {
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
        shape: header.shape,
        bytes: raw[header.data_offset..].to_vec(),
    }
}

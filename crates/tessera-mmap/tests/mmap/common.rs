//! Shared helpers: deterministic data, a naive reference for selections, file creation.

use std::path::Path;

use tessera_array::{DataType, Order, Selection};
use tessera_mmap::{MmapArray, MmapOptions, Mode, RawLayout};

/// Deterministic pseudo-random bytes.
pub fn bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// C-order multi-indices of `shape`.
pub fn indices(shape: &[u64]) -> Vec<Vec<u64>> {
    let mut out = vec![vec![]];
    for &d in shape {
        out = out
            .into_iter()
            .flat_map(|p: Vec<u64>| (0..d).map(move |i| [p.clone(), vec![i]].concat()))
            .collect();
    }
    out
}

/// Byte offset of a multi-index in an array of `shape` stored in `order`.
pub fn offset(index: &[u64], shape: &[u64], itemsize: usize, order: Order) -> usize {
    let mut stride = itemsize;
    let mut off = 0;
    let axes: Vec<usize> = match order {
        Order::C => (0..shape.len()).rev().collect(),
        Order::F => (0..shape.len()).collect(),
    };
    for a in axes {
        off += index[a] as usize * stride;
        stride *= shape[a] as usize;
    }
    off
}

/// The naive reference: the selected elements of C-order `data`, one by one, in C order.
pub fn select(data: &[u8], shape: &[u64], itemsize: usize, sel: &str) -> Vec<u8> {
    let r = sel.parse::<Selection>().unwrap().resolve(shape).unwrap();
    let mut out = Vec::new();
    for idx in indices(&r.full_shape()) {
        let pos: Vec<u64> = idx
            .iter()
            .zip(r.axes())
            .map(|(&i, a)| a.start + i * a.step)
            .collect();
        let o = offset(&pos, shape, itemsize, Order::C);
        out.extend_from_slice(&data[o..o + itemsize]);
    }
    out
}

/// Rearranges C-order `data` into `order`.
pub fn to_order(data: &[u8], shape: &[u64], itemsize: usize, order: Order) -> Vec<u8> {
    let mut out = vec![0u8; data.len()];
    for (k, idx) in indices(shape).iter().enumerate() {
        let o = offset(idx, shape, itemsize, order);
        out[o..o + itemsize].copy_from_slice(&data[k * itemsize..(k + 1) * itemsize]);
    }
    out
}

/// Creates a file (a `.npy` if the name says so, else raw + sidecar) holding `data` (C order).
pub fn create_with(path: &Path, layout: &RawLayout, data: &[u8]) -> MmapArray {
    // SAFETY: test files live in private temporary directories; nothing else touches them.
    let a = unsafe { MmapOptions::new().create(path, layout) }.unwrap();
    tessera_array::ArrayAccess::write_raw(&a, (), data).unwrap();
    a.flush().unwrap();
    a
}

/// Opens a file.
pub fn open(path: &Path, mode: Mode) -> tessera_mmap::MmapResult<MmapArray> {
    // SAFETY: as in `create_with`.
    unsafe { MmapArray::open(path, mode) }
}

pub fn dt(s: &str) -> DataType {
    DataType::parse_typestr(s).unwrap()
}

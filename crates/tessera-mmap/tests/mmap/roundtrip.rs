//! Round trips: every primitive dtype and structured types, C and F order, `.npy` and sidecar; reads and
//! writes of selections against a naive reference; typed access.

use half::f16;
use ndarray::{ArrayD, IxDyn};
use num_complex::Complex;
use serde_json::json;
use tessera_array::{ArrayAccess, DataType, DateTime64, Element, Order, TimeDelta64};
use tessera_mmap::{Format, Mode, RawLayout};

use crate::common::{bytes, create_with, dt, indices, offset, open, select, to_order};

const PRIMITIVES: &[&str] = &[
    "|b1",
    "|i1",
    "<i2",
    ">i2",
    "<i4",
    ">i4",
    "<i8",
    ">i8",
    "|u1",
    "<u2",
    ">u2",
    "<u4",
    ">u4",
    "<u8",
    ">u8",
    "<f2",
    ">f2",
    "<f4",
    ">f4",
    "<f8",
    ">f8",
    "<c8",
    ">c8",
    "<c16",
    ">c16",
    "<M8[ns]",
    ">M8[D]",
    "<m8[s]",
    ">m8[10ms]",
    "|S1",
    "|S7",
    "<U1",
    "<U3",
    ">U2",
    "|V5",
];

fn structured() -> Vec<DataType> {
    [
        json!([["id", "<u2"], ["pos", ">f8", [3]], ["name", "|S3"]]),
        json!([
            ["a", "|i1"],
            ["n", [["b", ">i4"], ["c", "<U2", [2, 1]]]],
            ["flag", "|b1"]
        ]),
    ]
    .iter()
    .map(|v| DataType::from_json(v).unwrap())
    .collect()
}

const SHAPE: [u64; 3] = [5, 4, 3];
const SELECTIONS: &[&str] = &[
    "",
    "1",
    "::2",
    "1:4, 2",
    "4, :, 2",
    "1:5:2, ::3, ::2",
    "..., 0",
    "0:0",
    "-1, -1, -1",
    ":, 1:3, :",
    "2:4",
];

/// Writes, reopens and reads back one dtype in one order and format; checks the bytes on disk too.
fn round_trip(dtype: &DataType, order: Order, npy: bool, seed: u64) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(if npy { "a.npy" } else { "a.raw" });
    let itemsize = dtype.itemsize();
    let n = SHAPE.iter().product::<u64>() as usize;
    let data = bytes(n * itemsize, seed);
    let layout = RawLayout::new(dtype.clone(), SHAPE.to_vec()).with_order(order);
    drop(create_with(&path, &layout, &data));
    let what = format!("{} {order:?} npy={npy}", dtype.typestr());

    let a = open(&path, Mode::ReadOnly).unwrap();
    assert_eq!(a.dtype(), dtype, "{what}");
    assert_eq!(a.shape(), SHAPE, "{what}");
    assert_eq!(a.order(), order, "{what}");
    assert_eq!(matches!(a.format(), Format::Npy { .. }), npy, "{what}");
    // The file holds the elements in its own order.
    let on_disk = std::fs::read(&path).unwrap();
    let start = a.layout().offset as usize;
    assert_eq!(on_disk.len(), start + data.len(), "{what}");
    assert_eq!(
        &on_disk[start..],
        to_order(&data, &SHAPE, itemsize, order),
        "{what}"
    );
    for sel in SELECTIONS {
        let raw = a.read_raw(*sel).unwrap();
        assert_eq!(
            raw.bytes,
            select(&data, &SHAPE, itemsize, sel),
            "{what} [{sel}]"
        );
        assert_eq!(raw.dtype, *dtype);
    }
    drop(a);

    // Writes of strided selections land where the reference says.
    let a = open(&path, Mode::ReadWrite).unwrap();
    let mut expected = data.clone();
    for (k, sel) in ["1:5:2, ::3, ::2", "4, :, 2", "0, 0, 0"].iter().enumerate() {
        let r = a.resolve(*sel).unwrap();
        let new = bytes(r.num_elements() as usize * itemsize, seed + 100 + k as u64);
        a.write_raw(*sel, &new).unwrap();
        for (j, idx) in indices(&r.full_shape()).iter().enumerate() {
            let pos: Vec<u64> = idx
                .iter()
                .zip(r.axes())
                .map(|(&i, ax)| ax.start + i * ax.step)
                .collect();
            let o = offset(&pos, &SHAPE, itemsize, Order::C);
            expected[o..o + itemsize].copy_from_slice(&new[j * itemsize..(j + 1) * itemsize]);
        }
    }
    a.flush().unwrap();
    drop(a);
    let a = open(&path, Mode::ReadOnly).unwrap();
    assert_eq!(
        a.read_raw(()).unwrap().bytes,
        expected,
        "{what} after writes"
    );
}

#[test]
fn every_primitive_dtype_both_orders_both_formats() {
    for (k, s) in PRIMITIVES.iter().enumerate() {
        for order in [Order::C, Order::F] {
            for npy in [true, false] {
                round_trip(&dt(s), order, npy, k as u64);
            }
        }
    }
}

#[test]
fn structured_dtypes_both_orders_both_formats() {
    for (k, dtype) in structured().iter().enumerate() {
        for order in [Order::C, Order::F] {
            for npy in [true, false] {
                round_trip(dtype, order, npy, 1000 + k as u64);
            }
        }
    }
}

#[test]
fn zero_d_and_empty_arrays() {
    let dir = tempfile::tempdir().unwrap();
    for (i, shape) in [vec![], vec![0], vec![3, 0, 2]].into_iter().enumerate() {
        for npy in [true, false] {
            let path = dir
                .path()
                .join(format!("z{i}.{}", if npy { "npy" } else { "raw" }));
            let layout = RawLayout::new(dt("<f8"), shape.clone());
            let n = layout.num_elements().unwrap() as usize;
            let a = create_with(&path, &layout, &bytes(n * 8, 5));
            a.write(
                (),
                &ArrayD::from_elem(
                    IxDyn(&shape.iter().map(|&d| d as usize).collect::<Vec<_>>()),
                    2.5f64,
                ),
            )
            .unwrap();
            drop(a);
            let a = open(&path, Mode::ReadOnly).unwrap();
            assert_eq!(a.shape(), shape.as_slice());
            let got = a.read::<f64>(()).unwrap();
            assert_eq!(got.len(), n);
            assert!(got.iter().all(|&v| v == 2.5));
            assert_eq!(a.view::<f64, _>(|v| v.len()).unwrap(), n);
        }
    }
}

/// Typed write then typed read, native and swapped byte order, C and F; the file holds the stored order.
fn typed<T: Element + PartialEq + std::fmt::Debug>(typestr_le: &str, make: impl Fn(usize) -> T) {
    let dir = tempfile::tempdir().unwrap();
    let shape = [3usize, 5];
    let values = ArrayD::from_shape_fn(IxDyn(&shape), |ix| make(ix[0] * 5 + ix[1]));
    let be = typestr_le.replacen('<', ">", 1);
    for (k, s) in [typestr_le, be.as_str()].iter().enumerate() {
        for order in [Order::C, Order::F] {
            let path = dir.path().join(format!("t{k}{order:?}.npy"));
            let layout = RawLayout::new(dt(s), vec![3, 5]).with_order(order);
            // SAFETY: a private temporary directory.
            let a = unsafe { tessera_mmap::MmapArray::create(&path, &layout) }.unwrap();
            a.write((), &values).unwrap();
            a.flush().unwrap();
            drop(a);
            let a = open(&path, Mode::ReadOnly).unwrap();
            assert_eq!(a.read::<T>(()).unwrap(), values, "{s} {order:?}");
            assert_eq!(
                a.read::<T>("1:, ::2").unwrap(),
                values.slice(ndarray::s![1.., ..;2]).into_dyn(),
                "{s} {order:?}"
            );
            // The first element on disk is in the stored byte order.
            let first =
                &std::fs::read(&path).unwrap()[a.layout().offset as usize..][..dt(s).itemsize()];
            let mut native = T::as_bytes(&[values[[0, 0]]]).to_vec();
            dt(s).swap_to_native(&mut native);
            assert_eq!(first, native.as_slice(), "{s}");
            // Zero-copy views exist for native byte order only.
            let view = a.view::<T, _>(|v| v.to_owned());
            if dt(s).needs_swap() {
                assert!(view.is_err(), "{s}");
            } else {
                assert_eq!(view.unwrap(), values, "{s} {order:?}");
            }
        }
    }
}

#[test]
fn typed_access_for_every_element_type() {
    typed::<i8>("|i1", |i| i as i8 - 7);
    typed::<u8>("|u1", |i| i as u8 * 3);
    typed::<bool>("|b1", |i| i % 3 == 0);
    typed::<i16>("<i2", |i| -(i as i16) * 1000);
    typed::<u16>("<u2", |i| i as u16 * 4000);
    typed::<i32>("<i4", |i| -(i as i32) * 100_000);
    typed::<u32>("<u4", |i| i as u32 * 300_000_000);
    typed::<i64>("<i8", |i| -(i as i64) << 40);
    typed::<u64>("<u8", |i| (i as u64) << 60);
    typed::<f16>("<f2", |i| f16::from_f32(i as f32 * 0.5));
    typed::<f32>("<f4", |i| i as f32 / 3.0);
    typed::<f64>("<f8", |i| i as f64 / 7.0);
    typed::<Complex<f32>>("<c8", |i| Complex::new(i as f32, -(i as f32)));
    typed::<Complex<f64>>("<c16", |i| Complex::new(i as f64 * 0.25, 1e300));
    typed::<DateTime64>("<M8[ns]", |i| DateTime64(i as i64 * 1_000_000_007));
    typed::<TimeDelta64>("<m8[s]", |i| TimeDelta64(-(i as i64)));
}

#[test]
fn views_follow_the_file_order_and_write_through() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.npy");
    let layout = RawLayout::new(dt("<f8"), vec![4, 6]).with_order(Order::F);
    let data: Vec<u8> = (0..24).flat_map(|i| (i as f64).to_ne_bytes()).collect();
    let a = create_with(&path, &layout, &data);
    a.view::<f64, _>(|v| {
        assert_eq!(v.shape(), &[4, 6]);
        assert_eq!(v[[2, 3]], 15.0);
        assert!(v.t().is_standard_layout());
    })
    .unwrap();
    a.view_mut::<f64, _>(|mut v| v.slice_mut(ndarray::s![.., 5]).fill(-1.0))
        .unwrap();
    assert_eq!(
        a.read::<f64>(":, 5")
            .unwrap()
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        vec![-1.0; 4]
    );
    // A raw file whose data starts at an odd offset cannot be viewed as f64, but reads fine.
    let raw = dir.path().join("odd.raw");
    let layout = RawLayout::new(dt("<f8"), vec![3]).with_offset(3);
    let a = create_with(
        &raw,
        &layout,
        &[1.0f64, 2.0, 3.0]
            .iter()
            .flat_map(|v| v.to_ne_bytes())
            .collect::<Vec<_>>(),
    );
    assert!(a.view::<f64, _>(|_| ()).is_err());
    assert_eq!(
        a.read::<f64>("1:")
            .unwrap()
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        vec![2.0, 3.0]
    );
    // Views of bools refuse bytes that are not 0 or 1; reads normalise them as numpy does.
    let b = dir.path().join("b.raw");
    let a = create_with(&b, &RawLayout::new(dt("|b1"), vec![3]), &[0, 1, 7]);
    assert!(a.view::<bool, _>(|_| ()).is_err());
    assert_eq!(
        a.read::<bool>(())
            .unwrap()
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        vec![false, true, true]
    );
}

#[test]
fn large_arrays_copy_in_parallel_exactly() {
    // 6 MiB, above the parallel threshold: C-order rows, and an F-order transpose.
    let dir = tempfile::tempdir().unwrap();
    for order in [Order::C, Order::F] {
        let path = dir.path().join(format!("big{order:?}.npy"));
        let shape = [1024u64, 1536];
        let layout = RawLayout::new(dt("<u4"), shape.to_vec()).with_order(order);
        // SAFETY: a private temporary directory.
        let a = unsafe { tessera_mmap::MmapArray::create(&path, &layout) }.unwrap();
        let values = ndarray::Array2::from_shape_fn((1024, 1536), |(i, j)| (i * 1536 + j) as u32);
        a.write((), &values).unwrap();
        let got = a.read::<u32>(()).unwrap();
        assert_eq!(got, values.clone().into_dyn(), "{order:?}");
        let cols = a.read::<u32>(":, 100:1400:3").unwrap();
        assert_eq!(
            cols,
            values.slice(ndarray::s![.., 100..1400;3]).into_dyn(),
            "{order:?}"
        );
    }
}

//! numpy.memmap's modes: read-write persists after flush, copy-on-write never reaches the file.

use tessera_array::Order;
use tessera_mmap::{MmapError, MmapOptions, Mode, RawLayout};

use crate::common::{create_with, dt, open};

#[test]
fn copy_on_write_never_reaches_the_file() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["cow.npy", "cow.raw"] {
        let path = dir.path().join(name);
        let layout = RawLayout::new(dt("<i4"), vec![3, 4]).with_order(Order::F);
        let original: Vec<u8> = (0..12i32).flat_map(|v| v.to_le_bytes()).collect();
        drop(create_with(&path, &layout, &original));
        let before = std::fs::read(&path).unwrap();

        let c = open(&path, Mode::CopyOnWrite).unwrap();
        let r = open(&path, Mode::ReadOnly).unwrap();
        c.write((), &ndarray::Array2::<i32>::from_elem((3, 4), -5))
            .unwrap();
        c.view_mut::<i32, _>(|mut v| v[[0, 0]] = 77).unwrap();
        // The private copy sees its changes; another mapping of the file does not.
        assert_eq!(c.read::<i32>("0, 0").unwrap().sum(), 77);
        assert_eq!(c.read::<i32>("2, 3").unwrap().sum(), -5);
        assert_eq!(r.read_raw(()).unwrap().bytes, original);
        // flush would suggest persistence: it is refused.
        assert!(matches!(c.flush(), Err(MmapError::PermissionDenied { .. })));
        assert!(matches!(
            c.flush_async(),
            Err(MmapError::PermissionDenied { .. })
        ));
        drop(c);
        drop(r);
        assert_eq!(
            std::fs::read(&path).unwrap(),
            before,
            "{name}: the file is unchanged"
        );
        assert_eq!(
            open(&path, Mode::ReadOnly)
                .unwrap()
                .read_raw(())
                .unwrap()
                .bytes,
            original
        );
    }
}

#[test]
fn read_write_persists_and_flushes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rw.raw");
    drop(create_with(
        &path,
        &RawLayout::new(dt(">u2"), vec![6]),
        &[0u8; 12],
    ));
    let a = open(&path, Mode::ReadWrite).unwrap();
    a.write("1::2", &ndarray::array![0x0102u16, 0x0304, 0x0506])
        .unwrap();
    a.flush_async().unwrap();
    a.flush().unwrap();
    drop(a);
    // Big-endian on disk.
    assert_eq!(
        std::fs::read(&path).unwrap(),
        vec![0, 0, 1, 2, 0, 0, 3, 4, 0, 0, 5, 6]
    );
    // A read-only flush is a no-op.
    open(&path, Mode::ReadOnly).unwrap().flush().unwrap();
}

#[test]
fn create_writes_the_header_or_the_sidecar() {
    let dir = tempfile::tempdir().unwrap();
    let layout = RawLayout::new(dt("<c8"), vec![2, 3]).with_order(Order::F);
    // SAFETY: a private temporary directory.
    let a = unsafe { MmapOptions::new().create(dir.path().join("x.npy"), &layout) }.unwrap();
    assert_eq!(a.layout().offset % 64, 0);
    let head =
        tessera_mmap::npy::parse_header(&std::fs::read(dir.path().join("x.npy")).unwrap()).unwrap();
    assert!(head.fortran_order);
    assert_eq!(head.shape, vec![2, 3]);
    // Raw data with an explicit sidecar, and a .npy under another name.
    let side = dir.path().join("meta").with_extension("json");
    // SAFETY: as above.
    let b = unsafe {
        MmapOptions::new()
            .sidecar(&side)
            .create(dir.path().join("x.bin"), &layout)
    }
    .unwrap();
    assert_eq!(b.nbytes(), 48);
    assert_eq!(
        std::fs::metadata(dir.path().join("x.bin")).unwrap().len(),
        48
    );
    assert_eq!(RawLayout::read_sidecar(&side).unwrap(), layout);
    // SAFETY: as above.
    let c = unsafe {
        MmapOptions::new()
            .npy(true)
            .create(dir.path().join("y.dat"), &layout)
    }
    .unwrap();
    drop(c);
    assert!(matches!(
        open(&dir.path().join("y.dat"), Mode::ReadOnly)
            .unwrap()
            .format(),
        tessera_mmap::Format::Npy { .. }
    ));
}

#[test]
fn threads_read_and_write_one_array() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.npy");
    let a = create_with(
        &path,
        &RawLayout::new(dt("<u8"), vec![64, 1000]),
        &vec![0u8; 64 * 8000],
    );
    std::thread::scope(|s| {
        for t in 0..8u64 {
            let a = &a;
            s.spawn(move || {
                for round in 0..50u64 {
                    let row = (t * 8 + round % 8) as usize;
                    a.write(
                        format!("{row}").as_str(),
                        &ndarray::Array1::from_elem(1000, round),
                    )
                    .unwrap();
                    let got = a.read::<u64>(format!("{row}").as_str()).unwrap();
                    // Each row is written whole under the lock: never a mix of two writes.
                    assert!(got.iter().all(|&v| v == got[0]));
                }
            });
        }
    });
}

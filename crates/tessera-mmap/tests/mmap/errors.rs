//! Bad input gives typed errors, never a panic or garbage.

use std::os::unix::fs::PermissionsExt;

use serde_json::json;
use tessera_array::{ArrayAccess, ArrayError};
use tessera_mmap::{MmapError, MmapOptions, Mode, RawLayout, npy};
use tessera_store::StoreErrorKind;

use crate::common::{create_with, dt, open};

#[test]
fn size_mismatch_names_both_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("a.raw");
    std::fs::write(&raw, [0u8; 36]).unwrap();
    std::fs::write(
        dir.path().join("a.raw.json"),
        json!({"tessera_raw": 1, "dtype": "<f4", "shape": [10]}).to_string(),
    )
    .unwrap();
    let err = open(&raw, Mode::ReadOnly).unwrap_err();
    assert!(
        matches!(
            err,
            MmapError::SizeMismatch {
                expected: 40,
                found: 36,
                ..
            }
        ),
        "{err}"
    );
    let msg = err.to_string();
    assert!(msg.contains("40") && msg.contains("36"), "{msg}");

    // The classic mistake: the same file reopened as float64 (or with a wrong shape) is refused.
    std::fs::write(&raw, [0u8; 40]).unwrap();
    for (dtype, shape) in [
        ("<f8", json!([10])),
        ("<f4", json!([3, 3])),
        ("<f4", json!([11])),
    ] {
        std::fs::write(
            dir.path().join("a.raw.json"),
            json!({"tessera_raw": 1, "dtype": dtype, "shape": shape}).to_string(),
        )
        .unwrap();
        assert!(
            matches!(
                open(&raw, Mode::ReadOnly),
                Err(MmapError::SizeMismatch { found: 40, .. })
            ),
            "{dtype} {shape}"
        );
    }

    // A .npy file with data cut off, or with trailing bytes.
    let path = dir.path().join("b.npy");
    drop(create_with(
        &path,
        &RawLayout::new(dt("<i8"), vec![4]),
        &[1u8; 32],
    ));
    let full = std::fs::read(&path).unwrap();
    for len in [full.len() - 8, full.len() + 1] {
        let mut cut = full.clone();
        cut.resize(len, 0);
        std::fs::write(&path, &cut).unwrap();
        let err = open(&path, Mode::ReadOnly).unwrap_err();
        assert!(
            matches!(err, MmapError::SizeMismatch { found, .. } if found == len as u64),
            "{err}"
        );
    }
}

#[test]
fn wrong_element_type_is_refused_not_reinterpreted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.npy");
    let a = create_with(&path, &RawLayout::new(dt(">f4"), vec![2, 2]), &[0u8; 16]);
    for err in [
        a.read::<f64>(()).map(drop).unwrap_err(),
        a.read::<i32>(()).map(drop).unwrap_err(),
        a.read::<u32>("0").map(drop).unwrap_err(),
        a.write((), &ndarray::Array2::<f64>::zeros((2, 2)))
            .unwrap_err(),
    ] {
        assert!(matches!(err, ArrayError::DataTypeMismatch { .. }), "{err}");
    }
    assert!(matches!(
        a.view::<i32, _>(|_| ()),
        Err(MmapError::Array(ArrayError::DataTypeMismatch { .. }))
    ));
    assert_eq!(a.read::<f32>(()).unwrap().len(), 4);
}

#[test]
fn truncated_and_malformed_headers() {
    let dir = tempfile::tempdir().unwrap();
    let good = npy::NpyHeader::new(dt("<i4"), vec![3], false).to_bytes();
    let path = dir.path().join("h.npy");
    for cut in [0, 3, 6, 9, 11, 30, good.len() - 1] {
        std::fs::write(&path, &good[..cut]).unwrap();
        let err = open(&path, Mode::ReadOnly).unwrap_err();
        assert!(matches!(err, MmapError::Header(_)), "cut {cut}: {err}");
    }
    for (what, edit) in [
        (
            "version 9",
            Box::new(|b: &mut Vec<u8>| b[6] = 9) as Box<dyn Fn(&mut Vec<u8>)>,
        ),
        (
            "garbage in the dict",
            Box::new(|b: &mut Vec<u8>| b[15] = b'@'),
        ),
        (
            "huge declared length",
            Box::new(|b: &mut Vec<u8>| b[8..10].copy_from_slice(&u16::MAX.to_le_bytes())),
        ),
        (
            "unknown descr",
            Box::new(|b: &mut Vec<u8>| {
                let i = b.windows(3).position(|w| w == b"<i4").unwrap();
                b[i + 1] = b'q';
            }),
        ),
    ] {
        let mut bytes = good.clone();
        bytes.extend_from_slice(&[0u8; 12]);
        edit(&mut bytes);
        std::fs::write(&path, &bytes).unwrap();
        let err = open(&path, Mode::ReadOnly).unwrap_err();
        assert!(matches!(err, MmapError::Header(_)), "{what}: {err}");
    }
    // A shape whose byte count overflows: refused, not wrapped around.
    let mut huge = npy::NpyHeader::new(dt("<f8"), vec![1 << 40, 1 << 40], false).to_bytes();
    huge.extend_from_slice(&[0u8; 8]);
    std::fs::write(&path, &huge).unwrap();
    let err = open(&path, Mode::ReadOnly).unwrap_err();
    assert!(
        matches!(err, MmapError::TooLarge(_) | MmapError::SizeMismatch { .. }),
        "{err}"
    );
}

#[test]
fn sidecar_problems() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("a.raw");
    std::fs::write(&raw, [0u8; 8]).unwrap();
    // No sidecar at all.
    assert!(matches!(
        open(&raw, Mode::ReadOnly),
        Err(MmapError::Sidecar { .. })
    ));
    let side = dir.path().join("a.raw.json");
    for (doc, version) in [
        (
            json!({"tessera_raw": 2, "dtype": "<f8", "shape": [1]}),
            true,
        ),
        (
            json!({"tessera_raw": "1", "dtype": "<f8", "shape": [1]}),
            true,
        ),
        (json!({"dtype": "<f8", "shape": [1]}), false),
        (
            json!({"tessera_raw": 1, "dtype": "<f9", "shape": [1]}),
            false,
        ),
        (
            json!({"tessera_raw": 1, "dtype": "<f8", "shape": "1"}),
            false,
        ),
    ] {
        std::fs::write(&side, doc.to_string()).unwrap();
        let err = open(&raw, Mode::ReadOnly).unwrap_err();
        if version {
            assert!(
                matches!(err, MmapError::SidecarVersion { supported: 1, .. }),
                "{doc}: {err}"
            );
        } else {
            assert!(matches!(err, MmapError::Sidecar { .. }), "{doc}: {err}");
        }
    }
    std::fs::write(&side, "{not json").unwrap();
    assert!(matches!(
        open(&raw, Mode::ReadOnly),
        Err(MmapError::Sidecar { .. })
    ));
    // An explicit sidecar elsewhere.
    let other = dir.path().join("meta.json");
    std::fs::write(
        &other,
        json!({"tessera_raw": 1, "dtype": "<u2", "shape": [2, 2]}).to_string(),
    )
    .unwrap();
    // SAFETY: a private temporary directory.
    let a = unsafe { MmapOptions::new().sidecar(&other).open(&raw) }.unwrap();
    assert_eq!(a.shape(), &[2, 2]);
}

#[test]
fn read_only_files_refuse_read_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ro.npy");
    drop(create_with(
        &path,
        &RawLayout::new(dt("<u1"), vec![4]),
        &[1, 2, 3, 4],
    ));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
    let err = open(&path, Mode::ReadWrite).unwrap_err();
    assert!(matches!(err, MmapError::PermissionDenied { .. }), "{err}");
    // Read-only and copy-on-write still work.
    assert_eq!(
        open(&path, Mode::ReadOnly)
            .unwrap()
            .read::<u8>(())
            .unwrap()
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        vec![1, 2, 3, 4]
    );
    let c = open(&path, Mode::CopyOnWrite).unwrap();
    c.write_raw("0", &[9]).unwrap();
    assert_eq!(c.read::<u8>("0").unwrap().sum(), 9);

    // Writing through a read-only mapping is a permission error, typed all the way through ArrayAccess.
    let a = open(&path, Mode::ReadOnly).unwrap();
    let err = a.write_raw("1:3", &[0, 0]).unwrap_err();
    match &err {
        ArrayError::Store(e) => assert_eq!(e.kind(), StoreErrorKind::PermissionDenied, "{err}"),
        other => panic!("expected a permission error, got {other}"),
    }
    assert!(matches!(
        a.view_mut::<u8, _>(|_| ()),
        Err(MmapError::PermissionDenied { .. })
    ));
    assert_eq!(
        a.read::<u8>(())
            .unwrap()
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        vec![1, 2, 3, 4]
    );
}

#[test]
fn bad_selections_and_buffers_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let a = create_with(
        &dir.path().join("s.npy"),
        &RawLayout::new(dt("<i2"), vec![3, 4]),
        &[0u8; 24],
    );
    for sel in ["3", "0, 4", "0, 0, 0", "::0"] {
        assert!(
            matches!(
                a.read_raw(sel),
                Err(ArrayError::Selection(_) | ArrayError::IndexOutOfBounds { .. })
            ),
            "{sel}"
        );
    }
    // Fancy selections (negative steps, lists) are Zarr-only: named as unsupported, never misread.
    for sel in ["::-1", "[0, 2]"] {
        assert!(
            matches!(a.read_raw(sel), Err(ArrayError::Unsupported { .. })),
            "{sel}"
        );
    }
    // A step far larger than the axis selects one position, and overflows nothing.
    let huge = format!("0:3:{}, ::{}", i64::MAX, i64::MAX);
    assert_eq!(a.read_raw(huge.as_str()).unwrap().shape, vec![1, 1]);
    a.write_raw(huge.as_str(), &[1, 2]).unwrap();
    assert_eq!(
        a.read::<i16>("0, 0").unwrap().sum(),
        i16::from_le_bytes([1, 2])
    );
    // A selection resolved against another, larger shape never reads past the mapping.
    let elsewhere = "5:7"
        .parse::<tessera_array::Selection>()
        .unwrap()
        .resolve(&[10, 4])
        .unwrap();
    let mut out = vec![0u8; 16];
    assert!(matches!(
        a.read_into(&elsewhere, &mut out),
        Err(ArrayError::Selection(_))
    ));
    let sel = a.resolve("0:2").unwrap();
    assert!(matches!(
        a.read_into(&sel, &mut [0u8; 15]),
        Err(ArrayError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        a.write_raw("0:2", &[0u8; 17]),
        Err(ArrayError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        a.write("0", &ndarray::array![1i16, 2, 3]),
        Err(ArrayError::ShapeMismatch { .. })
    ));
}

#[test]
fn create_refuses_to_clobber_unless_told() {
    let dir = tempfile::tempdir().unwrap();
    let layout = RawLayout::new(dt("<f4"), vec![2]);
    for name in ["c.npy", "c.raw"] {
        let path = dir.path().join(name);
        drop(create_with(&path, &layout, &[1u8; 8]));
        // SAFETY: a private temporary directory.
        let err = unsafe { MmapOptions::new().create(&path, &layout) }.unwrap_err();
        assert!(
            matches!(err, MmapError::AlreadyExists { .. }),
            "{name}: {err}"
        );
        assert_eq!(
            open(&path, Mode::ReadOnly)
                .unwrap()
                .read_raw(())
                .unwrap()
                .bytes,
            vec![1u8; 8],
            "untouched"
        );
        // SAFETY: as above.
        let a = unsafe {
            MmapOptions::new()
                .overwrite(true)
                .create(&path, &RawLayout::new(dt("<f8"), vec![3]))
        }
        .unwrap();
        assert_eq!(a.read_raw(()).unwrap().bytes, vec![0u8; 24]);
    }
    // A raw file whose sidecar exists is refused too.
    let path = dir.path().join("d.raw");
    std::fs::write(dir.path().join("d.raw.json"), "{}").unwrap();
    // SAFETY: as above.
    assert!(matches!(
        unsafe { MmapOptions::new().create(&path, &layout) },
        Err(MmapError::AlreadyExists { .. })
    ));
}

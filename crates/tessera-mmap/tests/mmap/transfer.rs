//! Import into and export from Zarr arrays with a memory limit far below the array size.

use std::sync::{Arc, Mutex};

use serde_json::json;
use tessera_array::{Array, ArrayAccess, ArrayBuilder, ArrayError, Order};
use tessera_mmap::{
    MmapError, Mode, RawLayout, TransferOptions, builder_for, export_selection_to_npy,
    export_selection_to_raw, import_into_zarr,
};
use tessera_store::{FilesystemStore, MemoryStore, Store};

use crate::common::{bytes, create_with, dt, open, select};

const SHAPE: [u64; 3] = [37, 29, 11];
const LIMIT: usize = 1024;

/// Records progress and checks that no step exceeds the limit (or one chunk, when that is larger).
struct Progress {
    steps: Mutex<Vec<(u64, u64)>>,
}

impl Progress {
    fn new() -> Progress {
        Progress {
            steps: Mutex::new(Vec::new()),
        }
    }

    fn report(&self, done: u64, total: u64) {
        self.steps.lock().unwrap().push((done, total));
    }

    fn check(&self, total: u64, max_step: u64) {
        let steps = self.steps.lock().unwrap();
        assert_eq!(steps.first(), Some(&(0, total)));
        assert_eq!(steps.last().map(|s| s.0), Some(total));
        if total > 2 * max_step {
            assert!(steps.len() > 2, "streamed in several blocks: {steps:?}");
        }
        for w in steps.windows(2) {
            assert!(
                w[1].0 >= w[0].0 && w[1].0 - w[0].0 <= max_step,
                "a block of {} bytes",
                w[1].0 - w[0].0
            );
        }
    }
}

fn stores(dir: &std::path::Path) -> Vec<(&'static str, Arc<dyn Store>)> {
    vec![
        ("memory", Arc::new(MemoryStore::new())),
        (
            "filesystem",
            Arc::new(FilesystemStore::create(dir.join("store.zarr")).unwrap()),
        ),
    ]
}

fn round_trip(
    store: Arc<dyn Store>,
    dtype: &str,
    order: Order,
    chunks: Vec<u64>,
    compressor: Option<serde_json::Value>,
) {
    let dir = tempfile::tempdir().unwrap();
    let what = format!("{dtype} {order:?} {chunks:?} {compressor:?}");
    let itemsize = dt(dtype).itemsize();
    let n = SHAPE.iter().product::<u64>() as usize;
    let data = bytes(n * itemsize, 42);
    let src = create_with(
        &dir.path().join("src.npy"),
        &RawLayout::new(dt(dtype), SHAPE.to_vec()).with_order(order),
        &data,
    );
    assert!(src.nbytes() > 10 * LIMIT);

    let progress = Progress::new();
    let report = |d, t| progress.report(d, t);
    let options = TransferOptions::new(LIMIT).progress(&report);
    let path = format!("g/{}{order:?}", dtype.replace(['<', '>', '|'], "_"));
    let zarr = import_into_zarr(
        &src,
        builder_for(&src, chunks.clone()).compressor(compressor),
        store.clone(),
        &path,
        &options,
    )
    .unwrap();
    let chunk_bytes = chunks.iter().product::<u64>() * itemsize as u64;
    progress.check(data.len() as u64, (LIMIT as u64).max(chunk_bytes));
    // The Zarr array holds exactly the file's elements, also when reopened from the store.
    assert_eq!(zarr.read_raw(()).unwrap().bytes, data, "{what}");
    let reopened = Array::open(store, &path).unwrap();
    assert_eq!(reopened.read_raw(()).unwrap().bytes, data, "{what}");

    for sel in ["", "3:30:4, 2, ::3", "-1, :, 5:", "..., 7", "10:11"] {
        let r = reopened.resolve(sel).unwrap();
        let expected = select(&data, &SHAPE, itemsize, sel);
        for npy in [true, false] {
            let out = dir.path().join(format!(
                "out{}.{}",
                sel.len(),
                if npy { "npy" } else { "raw" }
            ));
            let progress = Progress::new();
            let report = |d, t| progress.report(d, t);
            let options = TransferOptions::new(LIMIT)
                .progress(&report)
                .overwrite(true);
            if npy {
                export_selection_to_npy(&reopened, &r, &out, &options).unwrap();
            } else {
                let side = export_selection_to_raw(&reopened, &r, &out, &options).unwrap();
                assert!(side.exists());
            }
            if expected.len() > 3 * LIMIT {
                progress.check(expected.len() as u64, LIMIT as u64);
            }
            let back = open(&out, Mode::ReadOnly).unwrap();
            assert_eq!(back.shape(), r.shape().as_slice(), "{what} [{sel}]");
            assert_eq!(back.dtype(), &dt(dtype));
            assert_eq!(
                back.read_raw(()).unwrap().bytes,
                expected,
                "{what} [{sel}] npy={npy}"
            );
        }
    }
}

#[test]
fn import_export_round_trips_with_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    for (name, store) in stores(dir.path()) {
        let _ = name;
        round_trip(store.clone(), "<f8", Order::C, vec![8, 8, 4], None);
        round_trip(
            store.clone(),
            ">i4",
            Order::F,
            vec![5, 29, 11],
            Some(json!({"id": "zstd", "level": 1})),
        );
        round_trip(store.clone(), "<u2", Order::C, vec![37, 29, 11], None);
        round_trip(store, "|u1", Order::F, vec![4, 3, 11], None);
    }
}

#[test]
fn import_structured_and_byte_order_conversion() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    // Structured records survive byte for byte.
    let rec =
        tessera_array::DataType::from_json(&json!([["id", "<u2"], ["v", ">f4", [2]]])).unwrap();
    let data = bytes(300 * rec.itemsize(), 3);
    let src = create_with(
        &dir.path().join("rec.raw"),
        &RawLayout::new(rec.clone(), vec![300]),
        &data,
    );
    let z = import_into_zarr(
        &src,
        builder_for(&src, vec![16]),
        store.clone(),
        "rec",
        &TransferOptions::new(100),
    )
    .unwrap();
    assert_eq!(z.read_raw(()).unwrap().bytes, data);

    // A big-endian file into a little-endian array: values converted, never reinterpreted.
    let src = create_with(
        &dir.path().join("be.npy"),
        &RawLayout::new(dt(">f8"), vec![50, 3]),
        &[0u8; 1200],
    );
    let values = ndarray::Array2::from_shape_fn((50, 3), |(i, j)| i as f64 - j as f64 / 4.0);
    src.write((), &values).unwrap();
    let builder = ArrayBuilder::new(vec![50, 3], vec![7, 3], dt("<f8"));
    let z = import_into_zarr(
        &src,
        builder,
        store.clone(),
        "le",
        &TransferOptions::new(64),
    )
    .unwrap();
    assert_eq!(z.dtype(), &dt("<f8"));
    assert_eq!(z.read::<f64>(()).unwrap(), values.into_dyn());

    // A builder that does not describe the source is refused before anything is written.
    for builder in [
        ArrayBuilder::new(vec![50, 4], vec![7, 3], dt(">f8")),
        ArrayBuilder::new(vec![50, 3], vec![7, 3], dt("<f4")),
    ] {
        let err = import_into_zarr(
            &src,
            builder,
            store.clone(),
            "bad",
            &TransferOptions::default(),
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                MmapError::Array(
                    ArrayError::ShapeMismatch { .. } | ArrayError::DataTypeMismatch { .. }
                )
            ),
            "{err}"
        );
    }
    assert!(Array::open(store.clone(), "bad").is_err());
    // An existing array is refused unless the builder overwrites.
    let err = import_into_zarr(
        &src,
        builder_for(&src, vec![10, 3]),
        store.clone(),
        "le",
        &TransferOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(err, MmapError::Array(ArrayError::AlreadyExists { .. })),
        "{err}"
    );
}

#[test]
fn export_refuses_to_clobber_and_leaves_nothing_behind_on_error() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let z = ArrayBuilder::new(vec![10, 10], vec![5, 5], dt("<i4"))
        .create(store, "a")
        .unwrap();
    z.write((), &ndarray::Array2::<i32>::ones((10, 10)))
        .unwrap();
    let out = dir.path().join("x.npy");
    std::fs::write(&out, b"keep me").unwrap();
    let sel = z.resolve(()).unwrap();
    let err = export_selection_to_npy(&z, &sel, &out, &TransferOptions::default()).unwrap_err();
    assert!(matches!(err, MmapError::AlreadyExists { .. }));
    assert_eq!(std::fs::read(&out).unwrap(), b"keep me");
    // A selection made for another shape is refused before any file is created.
    let other = "12:14"
        .parse::<tessera_array::Selection>()
        .unwrap()
        .resolve(&[20, 10])
        .unwrap();
    let fresh = dir.path().join("y.npy");
    assert!(export_selection_to_npy(&z, &other, &fresh, &TransferOptions::default()).is_err());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, vec![std::ffi::OsString::from("x.npy")]);
}

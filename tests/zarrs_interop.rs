//! Interoperability with the `zarrs` crate: zarrs reads what tessera writes, tessera reads what zarrs
//! writes, for the Zarr v2 features zarrs supports (numeric dtypes, C and F order, both separators,
//! blosc/zstd/zlib/gzip/bz2 or no compression).

use std::sync::Arc;

use ndarray::{ArrayD, Dimension};
use serde_json::{Value, json};
use tessera::array::{Array, ArrayBuilder, DataType, Order, Separator};
use tessera::store::FilesystemStore;
use zarrs::array::ArraySubset;

fn compressors() -> Vec<Value> {
    vec![
        Value::Null,
        json!({"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0}),
        json!({"id": "blosc", "cname": "zstd", "clevel": 3, "shuffle": 2, "blocksize": 0}),
        json!({"id": "zstd", "level": 3, "checksum": false}),
        json!({"id": "zlib", "level": 4}),
        json!({"id": "gzip", "level": 2}),
        json!({"id": "bz2", "level": 5}),
    ]
}

fn data(shape: &[usize]) -> ArrayD<f64> {
    ArrayD::from_shape_fn(shape, |idx| {
        idx.slice().iter().fold(0.5, |a, &i| a * 7.0 + i as f64)
    })
}

#[test]
fn zarrs_reads_what_tessera_writes() {
    let dir = tempfile::tempdir().unwrap();
    let ours = Arc::new(FilesystemStore::open(dir.path()).unwrap());
    let theirs = Arc::new(zarrs::filesystem::FilesystemStore::new(dir.path()).unwrap());
    let shape = [13usize, 9, 4];
    let expected = data(&shape);
    let mut n = 0;
    for (ci, compressor) in compressors().into_iter().enumerate() {
        for order in [Order::C, Order::F] {
            for (dt, sep) in [(">f8", Separator::Dot), ("<f8", Separator::Slash)] {
                let path = format!(
                    "c{ci}_{order:?}_{}",
                    &dt[..1].replace('<', "le").replace('>', "be")
                );
                let arr = ArrayBuilder::new(
                    vec![13, 9, 4],
                    vec![5, 4, 3],
                    DataType::parse_typestr(dt).unwrap(),
                )
                .compressor((!compressor.is_null()).then(|| compressor.clone()))
                .order(order)
                .separator(sep)
                .fill_value(json!("NaN"))
                .create(ours.clone(), &path)
                .unwrap();
                arr.write((), &expected).unwrap();
                let z = zarrs::array::Array::open(theirs.clone(), &format!("/{path}")).unwrap();
                let all = ArraySubset::new_with_ranges(&[0..13, 0..9, 0..4]);
                let got: Vec<f64> = z.retrieve_array_subset(&all).unwrap();
                assert_eq!(got, expected.iter().copied().collect::<Vec<_>>(), "{path}");
                n += 1;
            }
        }
    }
    assert_eq!(n, 28);
}

#[test]
fn tessera_reads_what_zarrs_writes() {
    let dir = tempfile::tempdir().unwrap();
    let ours = Arc::new(FilesystemStore::open(dir.path()).unwrap());
    let theirs = Arc::new(zarrs::filesystem::FilesystemStore::new(dir.path()).unwrap());
    let values: Vec<i32> = (0..(11 * 6)).map(|i| i * 3 - 50).collect();
    for (ci, compressor) in compressors().into_iter().enumerate() {
        for (order, sep, dt) in [("C", ".", "<i4"), ("F", "/", ">i4")] {
            let path = format!("z{ci}{order}");
            let meta = json!({
                "zarr_format": 2, "shape": [11, 6], "chunks": [4, 4], "dtype": dt,
                "compressor": compressor, "fill_value": -1, "order": order, "filters": null,
                "dimension_separator": sep,
            });
            let meta: zarrs::metadata::v2::ArrayMetadataV2 = serde_json::from_value(meta).unwrap();
            let z = zarrs::array::Array::new_with_metadata(
                theirs.clone(),
                &format!("/{path}"),
                meta.into(),
            )
            .unwrap();
            z.store_metadata().unwrap();
            // Leave the last chunk row unwritten: it must read as the fill value.
            let written = ArraySubset::new_with_ranges(&[0..8, 0..6]);
            z.store_array_subset(&written, values[..48].to_vec())
                .unwrap();

            let arr = Array::open(ours.clone(), &path).unwrap();
            let got = arr.read::<i32>(()).unwrap();
            let flat: Vec<i32> = got.iter().copied().collect();
            assert_eq!(&flat[..48], &values[..48], "{path}");
            assert!(
                flat[48..].iter().all(|&v| v == -1),
                "{path}: unwritten part is not the fill value"
            );
            let col = arr.read::<i32>("1:7:2, -1").unwrap();
            assert_eq!(
                col.iter().copied().collect::<Vec<_>>(),
                vec![values[11], values[23], values[35]],
                "{path}"
            );
        }
    }
}

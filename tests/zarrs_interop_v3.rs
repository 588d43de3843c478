//! Zarr v3 interoperability with the `zarrs` crate: zarrs reads the v3 arrays tessera writes (plain and
//! sharded, every codec both implement), and tessera reads the v3 arrays zarrs writes.

use std::sync::Arc;

use ndarray::{ArrayD, Dimension};
use serde_json::{Value, json};
use tessera::array::{Array, ArrayBuilder, DataType, Order};
use tessera::store::FilesystemStore;
use zarrs::array::ArraySubset;

fn data(shape: &[usize]) -> ArrayD<f64> {
    ArrayD::from_shape_fn(shape, |idx| {
        idx.slice().iter().fold(0.25, |a, &i| a * 7.0 + i as f64)
    })
}

fn compressors() -> Vec<Value> {
    vec![
        Value::Null,
        json!({"id": "zstd", "level": 3, "checksum": true}),
        json!({"id": "gzip", "level": 2}),
        json!({"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0}),
        json!({"id": "blosc", "cname": "zstd", "clevel": 3, "shuffle": 2, "blocksize": 0}),
    ]
}

#[test]
fn zarrs_reads_the_v3_arrays_tessera_writes() {
    let dir = tempfile::tempdir().unwrap();
    let ours = Arc::new(FilesystemStore::open(dir.path()).unwrap());
    let theirs = Arc::new(zarrs::filesystem::FilesystemStore::new(dir.path()).unwrap());
    let shape = [13usize, 9, 4];
    let expected = data(&shape);
    let mut n = 0;
    for (ci, compressor) in compressors().into_iter().enumerate() {
        for order in [Order::C, Order::F] {
            for (dt, shards) in [(">f8", None), ("<f8", Some(vec![10, 8, 3]))] {
                let path = format!(
                    "c{ci}_{order:?}_{}",
                    if shards.is_some() { "sharded" } else { "plain" }
                );
                let mut b = ArrayBuilder::new(
                    vec![13, 9, 4],
                    vec![5, 4, 3],
                    DataType::parse_typestr(dt).unwrap(),
                )
                .zarr_format(3)
                .compressor((!compressor.is_null()).then(|| compressor.clone()))
                .order(order)
                .fill_value(json!("NaN"))
                .dimension_names(vec![Some("t".into()), Some("y".into()), None]);
                if let Some(s) = shards {
                    b = b.shards(s);
                }
                let arr = b.create(ours.clone(), &path).unwrap();
                arr.write((), &expected).unwrap();
                let z = zarrs::array::Array::open(theirs.clone(), &format!("/{path}"))
                    .unwrap_or_else(|e| panic!("{path}: {e}"));
                let all = ArraySubset::new_with_ranges(&[0..13, 0..9, 0..4]);
                let got: Vec<f64> = z.retrieve_array_subset(&all).unwrap();
                assert_eq!(got, expected.iter().copied().collect::<Vec<_>>(), "{path}");
                n += 1;
            }
        }
    }
    assert_eq!(n, 20);
}

#[test]
fn tessera_reads_the_v3_arrays_zarrs_writes() {
    let dir = tempfile::tempdir().unwrap();
    let ours = Arc::new(FilesystemStore::open(dir.path()).unwrap());
    let theirs = Arc::new(zarrs::filesystem::FilesystemStore::new(dir.path()).unwrap());
    let values: Vec<i32> = (0..(11 * 6)).map(|i| i * 3 - 50).collect();
    let bytes_le = json!({"name": "bytes", "configuration": {"endian": "little"}});
    let bytes_be = json!({"name": "bytes", "configuration": {"endian": "big"}});
    let zstd = json!({"name": "zstd", "configuration": {"level": 1, "checksum": false}});
    let sharded = |location: &str, inner: Value| {
        json!([{"name": "sharding_indexed", "configuration": {
            "chunk_shape": [2, 2], "codecs": inner,
            "index_codecs": [bytes_le, {"name": "crc32c"}], "index_location": location}}])
    };
    let cases = [
        ("plain_le", json!([4, 4]), json!([bytes_le, zstd]), "/"),
        (
            "plain_be_dot",
            json!([4, 4]),
            json!([bytes_be, {"name": "gzip", "configuration": {"level": 5}}]),
            ".",
        ),
        (
            "transposed",
            json!([4, 4]),
            json!([{"name": "transpose", "configuration": {"order": [1, 0]}}, bytes_le]),
            "/",
        ),
        (
            "crc",
            json!([4, 4]),
            json!([bytes_le, zstd, {"name": "crc32c"}]),
            "/",
        ),
        (
            "shard_end",
            json!([4, 6]),
            sharded("end", json!([bytes_le, zstd])),
            "/",
        ),
        (
            "shard_start",
            json!([4, 6]),
            sharded("start", json!([bytes_be])),
            "/",
        ),
    ];
    for (path, grid, codecs, sep) in cases {
        let meta = json!({
            "zarr_format": 3, "node_type": "array", "shape": [11, 6], "data_type": "int32",
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": grid}},
            "chunk_key_encoding": {"name": "default", "configuration": {"separator": sep}},
            "fill_value": -1, "codecs": codecs, "attributes": {"by": "zarrs"},
        });
        let meta: zarrs::metadata::v3::ArrayMetadataV3 = serde_json::from_value(meta).unwrap();
        let z = zarrs::array::Array::new_with_metadata(
            theirs.clone(),
            &format!("/{path}"),
            meta.into(),
        )
        .unwrap_or_else(|e| panic!("{path}: {e}"));
        z.store_metadata().unwrap();
        // The last rows stay unwritten: they read as the fill value.
        let written = ArraySubset::new_with_ranges(&[0..8, 0..6]);
        z.store_array_subset(&written, values[..48].to_vec())
            .unwrap();

        let arr = Array::open(ours.clone(), path).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(arr.attributes().unwrap()["by"], "zarrs");
        let flat: Vec<i32> = arr.read::<i32>(()).unwrap().iter().copied().collect();
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

/// `transpose` by any permutation (tensorstore and zarrs write orders such as `[2, 0, 1]`): tessera
/// reads what zarrs writes, in plain chunks and inside shards, and zarrs reads tessera's partial
/// writes into the same arrays.
#[test]
fn any_transpose_permutation_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let ours = Arc::new(FilesystemStore::open(dir.path()).unwrap());
    let theirs = Arc::new(zarrs::filesystem::FilesystemStore::new(dir.path()).unwrap());
    let shape = [7usize, 5, 6];
    let values: Vec<i32> = (0..7 * 5 * 6).map(|i| i * 7 - 100).collect();
    let bytes = json!({"name": "bytes", "configuration": {"endian": "little"}});
    let transpose =
        |order: [u64; 3]| json!({"name": "transpose", "configuration": {"order": order}});
    let mut n = 0;
    for order in [[2, 0, 1], [1, 2, 0], [0, 2, 1], [1, 0, 2]] {
        for sharded in [false, true] {
            let codecs = if sharded {
                json!([{"name": "sharding_indexed", "configuration": {
                    "chunk_shape": [2, 3, 2], "codecs": [transpose(order), bytes],
                    "index_codecs": [bytes, {"name": "crc32c"}], "index_location": "end"}}])
            } else {
                json!([transpose(order), bytes, {"name": "gzip", "configuration": {"level": 1}}])
            };
            let path = format!("t{}{}{}_{sharded}", order[0], order[1], order[2]);
            let meta = json!({
                "zarr_format": 3, "node_type": "array", "shape": shape, "data_type": "int32",
                "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [4, 3, 4]}},
                "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
                "fill_value": 0, "codecs": codecs,
            });
            let meta: zarrs::metadata::v3::ArrayMetadataV3 = serde_json::from_value(meta).unwrap();
            let z = zarrs::array::Array::new_with_metadata(
                theirs.clone(),
                &format!("/{path}"),
                meta.into(),
            )
            .unwrap();
            z.store_metadata().unwrap();
            let all = ArraySubset::new_with_ranges(&[0..7, 0..5, 0..6]);
            z.store_array_subset(&all, values.clone()).unwrap();

            let arr = Array::open(ours.clone(), &path).unwrap_or_else(|e| panic!("{path}: {e}"));
            // A shard is assembled in C order; its inner chunks keep the transpose.
            let outer = if sharded {
                [0, 1, 2]
            } else {
                order.map(|a| a as usize)
            };
            assert_eq!(arr.metadata().chunk_axis_order(), outer, "{path}");
            let got: Vec<i32> = arr.read::<i32>(()).unwrap().iter().copied().collect();
            assert_eq!(got, values, "{path}");
            // A strided read across chunks, and a fancy one.
            let expected = |i: usize, j: usize, k: usize| values[(i * 5 + j) * 6 + k];
            let col: Vec<i32> = arr
                .read::<i32>("1:7:3, -1, ::-1")
                .unwrap()
                .iter()
                .copied()
                .collect();
            let want: Vec<i32> = [1, 4]
                .iter()
                .flat_map(|&i| (0..6).rev().map(move |k| expected(i, 4, k)))
                .collect();
            assert_eq!(col, want, "{path}");

            // tessera overwrites a block across chunk edges; zarrs reads the whole array back.
            let block = ndarray::Array3::from_shape_fn((3, 4, 3), |(i, j, k)| {
                -((i * 100 + j * 10 + k) as i32)
            });
            arr.write("2:5, 1:5, 2:5", &block).unwrap();
            let back: Vec<i32> = z.retrieve_array_subset(&all).unwrap();
            for ((i, j, k), &v) in ndarray::indices(shape).into_iter().zip(&back) {
                let inside = (2..5).contains(&i) && (1..5).contains(&j) && (2..5).contains(&k);
                let want = if inside {
                    block[[i - 2, j - 1, k - 2]]
                } else {
                    expected(i, j, k)
                };
                assert_eq!(v, want, "{path} at {:?}", (i, j, k));
            }
            n += 1;
        }
    }
    assert_eq!(n, 8);
}

//! Object (`|O`) arrays: text, bytes, ragged rows and JSON values through the selection API, partial
//! writes, fill values, resize, and chunks that lie.

use std::sync::Arc;

use ndarray::{Array1, ArrayD, IxDyn, array};
use serde_json::{Value, json};
use tessera_array::{Array, ArrayBuilder, ArrayError, DataType};
use tessera_store::{Bytes, MemoryStore, ReadableStore, StoreKey, WritableStore};

fn create(
    shape: Vec<u64>,
    chunks: Vec<u64>,
    codec: Value,
    fill: Value,
) -> (Arc<MemoryStore>, Array) {
    let store = Arc::new(MemoryStore::new());
    let a = ArrayBuilder::new(shape, chunks, DataType::Object)
        .filters(Some(vec![codec]))
        .compressor(Some(json!({"id": "zstd", "level": 1})))
        .fill_value(fill)
        .create(store.clone(), "a")
        .unwrap();
    (store, a)
}

/// The elements of a read result (standard layout), in C order.
fn flat<T>(a: ArrayD<T>) -> Vec<T> {
    a.into_raw_vec_and_offset().0
}

fn strings(values: &[&str], shape: &[usize]) -> ArrayD<String> {
    ArrayD::from_shape_vec(IxDyn(shape), values.iter().map(|s| s.to_string()).collect()).unwrap()
}

#[test]
fn text_round_trips_through_selections_and_partial_writes() {
    let (_, a) = create(
        vec![5, 7],
        vec![2, 3],
        json!({"id": "vlen-utf8"}),
        json!(""),
    );
    let all: Vec<String> = (0..35)
        .map(|i| format!("v{i}é{}", "x".repeat(i % 4)))
        .collect();
    let full = ArrayD::from_shape_vec(IxDyn(&[5, 7]), all.clone()).unwrap();
    a.write_objects((), &full).unwrap();
    assert_eq!(a.read_objects::<String>(()).unwrap(), full);
    // A strided selection across chunks.
    let got = a.read_objects::<String>("1:5:2, ::3").unwrap();
    assert_eq!(got.shape(), &[2, 3]);
    assert_eq!(got[[1, 2]], all[3 * 7 + 6]);
    // A partial write read-modify-writes the chunks it touches.
    a.write_objects("2, 1:5", &strings(&["a", "b", "c", "d"], &[4]))
        .unwrap();
    let row = a.read_objects::<String>("2, :").unwrap();
    assert_eq!(flat(row)[..6], ["v14éxx", "a", "b", "c", "d", "v19éxxx"]);
    assert_eq!(
        a.read_objects::<String>("3, :").unwrap(),
        full.slice(ndarray::s![3, ..]).to_owned().into_dyn()
    );
    // A wrong shape and a wrong element type are refused.
    assert!(matches!(
        a.write_objects("0, :", &strings(&["x"], &[1])).unwrap_err(),
        ArrayError::ShapeMismatch { .. }
    ));
    assert!(matches!(
        a.read_objects::<Value>(()).unwrap_err(),
        ArrayError::DataTypeMismatch { .. }
    ));
    assert!(matches!(
        a.read::<u64>(()).unwrap_err(),
        ArrayError::DataTypeMismatch { .. }
    ));
    assert!(matches!(
        a.write_raw((), &[0u8; 35 * 8]).unwrap_err(),
        ArrayError::DataTypeMismatch { .. }
    ));
}

#[test]
fn missing_chunks_read_as_the_fill_and_empty_chunks_are_not_stored() {
    for (fill, expected) in [
        (json!(null), ""),
        (json!(""), ""),
        (json!("0"), "0"),
        (json!("n/a"), "n/a"),
    ] {
        let (store, a) = create(vec![6], vec![2], json!({"id": "vlen-utf8"}), fill.clone());
        assert_eq!(
            flat(a.read_objects::<String>(()).unwrap()),
            vec![expected; 6],
            "{fill}"
        );
        a.write_objects("2:4", &strings(&["p", "q"], &[2])).unwrap();
        assert_eq!(
            flat(a.read_objects::<String>(()).unwrap()),
            [expected, expected, "p", "q", expected, expected],
            "{fill}"
        );
        // Writing the fill back removes the chunk, except with a null fill (as for numbers).
        a.write_objects("2:4", &strings(&[expected, expected], &[2]))
            .unwrap();
        let stored = store.get(&StoreKey::new("a/1").unwrap()).unwrap().is_some();
        assert_eq!(stored, fill.is_null(), "{fill}");
    }
}

#[test]
fn bytes_rows_and_json() {
    let (_, b) = create(vec![3], vec![2], json!({"id": "vlen-bytes"}), json!(null));
    let data = array![vec![0u8, 255], vec![], b"abc".to_vec()];
    b.write_objects((), &data).unwrap();
    assert_eq!(b.read_objects::<Vec<u8>>(()).unwrap(), data.into_dyn());
    assert!(b.read_objects::<String>(()).is_err());

    let (_, r) = create(
        vec![3],
        vec![2],
        json!({"id": "vlen-array", "dtype": ">f8"}),
        json!(null),
    );
    let rows = array![
        Array1::from(vec![1.5f64, -2.0]),
        Array1::from(vec![]),
        Array1::from(vec![7.0])
    ];
    r.write_objects((), &rows).unwrap();
    assert_eq!(r.read_objects::<Array1<f64>>(()).unwrap(), rows.into_dyn());
    assert!(r.read_objects::<Array1<f32>>(()).is_err());

    for id in ["json2", "msgpack2"] {
        let (_, j) = create(vec![2, 3], vec![2, 2], json!({"id": id}), json!(0));
        let values = array![
            [json!(null), json!({"k": [1, "x"]}), json!(2.5)],
            [json!(-1), json!("é"), json!(true)]
        ];
        j.write_objects((), &values).unwrap();
        assert_eq!(
            j.read_objects::<Value>(()).unwrap(),
            values.clone().into_dyn(),
            "{id}"
        );
        assert_eq!(
            flat(j.read_objects::<Value>("1, 2").unwrap()),
            [json!(true)]
        );
        // Unwritten elements of a partially written chunk read as the fill.
        j.fill("0, 1:").unwrap();
        assert_eq!(
            flat(j.read_objects::<Value>("0, :").unwrap()),
            [json!(null), json!(0), json!(0)]
        );
    }
}

#[test]
fn resize_resets_the_cut_part_to_the_fill() {
    let (_, mut a) = create(vec![5], vec![4], json!({"id": "vlen-utf8"}), json!("-"));
    a.write_objects((), &strings(&["a", "b", "c", "d", "e"], &[5]))
        .unwrap();
    a.resize(&[2]).unwrap();
    a.resize(&[6]).unwrap();
    assert_eq!(
        flat(a.read_objects::<String>(()).unwrap()),
        ["a", "b", "-", "-", "-", "-"]
    );
}

#[test]
fn lying_chunks_are_errors_naming_the_key() {
    let (store, a) = create(vec![4], vec![2], json!({"id": "vlen-utf8"}), json!(""));
    let compressor =
        tessera_codec::CodecChain::from_json(Some(&json!({"id": "zstd"})), None).unwrap();
    let zstd = |raw: &[u8]| compressor.encode(raw, 1).unwrap();
    let mut huge_count = Vec::from((1u32 << 31).to_le_bytes());
    huge_count.extend([0; 8]);
    let mut long_item = Vec::from(2u32.to_le_bytes());
    long_item.extend(u32::MAX.to_le_bytes());
    let mut bad_utf8 = Vec::from(2u32.to_le_bytes());
    bad_utf8.extend(1u32.to_le_bytes());
    bad_utf8.push(0xff);
    bad_utf8.extend(0u32.to_le_bytes());
    for raw in [huge_count, long_item, bad_utf8, vec![1, 2]] {
        store
            .set(&StoreKey::new("a/1").unwrap(), Bytes::from(zstd(&raw)))
            .unwrap();
        match a.read_objects::<String>(()).unwrap_err() {
            ArrayError::Codec { key, .. } => assert_eq!(key, "a/1"),
            other => panic!("{other}"),
        }
    }
}

#[test]
fn fancy_selections_of_text_follow_numpy() {
    use tessera_array::Selection;
    let (_, a) = create(
        vec![5, 7],
        vec![2, 3],
        json!({"id": "vlen-utf8"}),
        json!(""),
    );
    let name = |i: usize, j: usize| format!("r{i}c{j}");
    let all: Vec<String> = (0..5)
        .flat_map(|i| (0..7).map(move |j| name(i, j)))
        .collect();
    a.write_objects((), &ArrayD::from_shape_vec(IxDyn(&[5, 7]), all).unwrap())
        .unwrap();

    // Orthogonal: a list with a repeat and a negative entry, a reversed strided slice.
    let got = a.read_objects::<String>("[4,0,4,-2], 6:0:-3").unwrap();
    assert_eq!(got.shape(), &[4, 2]);
    let want: Vec<String> = [4, 0, 4, 3]
        .iter()
        .flat_map(|&i| [6, 3].map(|j| name(i, j)))
        .collect();
    assert_eq!(flat(got), want);

    // Coordinate: points read and written, the later of two writes to one point wins.
    let pts = Selection::points(vec![vec![0, 4, 2, 0], vec![6, 0, 3, 6]]);
    assert_eq!(
        flat(a.read_objects::<String>(&pts).unwrap()),
        vec![name(0, 6), name(4, 0), name(2, 3), name(0, 6)]
    );
    a.write_objects(&pts, &strings(&["a", "b", "c", "d"], &[4]))
        .unwrap();
    let back = a.read_objects::<String>(()).unwrap();
    assert_eq!(back[[0, 6]], "d");
    assert_eq!(back[[4, 0]], "b");
    assert_eq!(back[[2, 3]], "c");
    assert_eq!(back[[1, 1]], name(1, 1));

    // A mask of the wrong length names the axis.
    assert!(matches!(
        a.read_objects::<String>("[true, false]"),
        Err(ArrayError::MaskShape { axis: Some(0), .. })
    ));
}

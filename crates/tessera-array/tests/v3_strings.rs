//! Zarr v3 `string` and `bytes` arrays written and read by tessera: the `zarr.json` zarr-python 3
//! writes (`vlen-utf8`/`vlen-bytes` codecs, base64 bytes fill), plain and sharded, partial writes,
//! resize, and the object codecs v3 has no type for.

use std::sync::Arc;

use ndarray::{ArrayD, IxDyn, array};
use serde_json::{Value, json};
use tessera_array::{Array, ArrayBuilder, ArrayError, DataType, Selection};
use tessera_store::{MemoryStore, Store, StoreKey, StorePrefix};

fn doc(store: &dyn Store, key: &str) -> Value {
    serde_json::from_slice(&store.get(&StoreKey::new(key).unwrap()).unwrap().unwrap()).unwrap()
}

fn stored(store: &dyn Store, prefix: &str) -> Vec<String> {
    store
        .list_prefix(&StorePrefix::new(prefix).unwrap())
        .unwrap()
        .into_iter()
        .map(|k| k.as_str().to_string())
        .filter(|k| !k.ends_with("zarr.json"))
        .collect()
}

fn text_array(store: Arc<dyn Store>, path: &str, shards: Option<Vec<u64>>, fill: &str) -> Array {
    let mut b = ArrayBuilder::new(vec![6, 5], vec![2, 2], DataType::Object)
        .zarr_format(3)
        .filters(Some(vec![json!({"id": "vlen-utf8"})]))
        .fill_value(json!(fill));
    if let Some(s) = shards {
        b = b.shards(s);
    }
    b.create(store, path).unwrap()
}

fn words(shape: &[usize], tag: &str) -> ArrayD<String> {
    let n: usize = shape.iter().product();
    let v = (0..n).map(|i| format!("{tag}{i}é")).collect();
    ArrayD::from_shape_vec(IxDyn(shape), v).unwrap()
}

#[test]
fn v3_string_array_writes_zarr_python_metadata_and_reads_back() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let arr = text_array(store.clone(), "s", None, "");
    let meta = doc(store.as_ref(), "s/zarr.json");
    assert_eq!(meta["data_type"], "string");
    assert_eq!(meta["fill_value"], "");
    assert_eq!(
        meta["codecs"][0],
        json!({"name": "vlen-utf8", "configuration": {}})
    );
    assert_eq!(meta["codecs"][1]["name"], "zstd");
    let data = words(&[3, 3], "w");
    arr.write_objects("1:4, 2:5", &data).unwrap();
    let back = Array::open(store.clone(), "s").unwrap();
    assert_eq!(back.object_codec().unwrap().id(), "vlen-utf8");
    let got = back.read_objects::<String>(()).unwrap();
    assert_eq!(got[[0, 0]], "");
    assert_eq!(got[[1, 2]], "w0é");
    assert_eq!(got[[3, 4]], "w8é");
    let part = back.read_objects::<String>("2, 1:4").unwrap();
    assert_eq!(part.into_raw_vec_and_offset().0, ["", "w3é", "w4é"]);
    assert!(back.read::<u8>(()).is_err());
    assert!(back.read_objects::<Vec<u8>>(()).is_err());
}

#[test]
fn sharded_string_array_leaves_out_fill_inner_chunks_and_empty_shards() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let arr = text_array(store.clone(), "t", Some(vec![4, 4]), "-");
    let meta = doc(store.as_ref(), "t/zarr.json");
    assert_eq!(meta["codecs"][0]["name"], "sharding_indexed");
    assert_eq!(
        meta["codecs"][0]["configuration"]["codecs"][0]["name"],
        "vlen-utf8"
    );
    arr.write_objects("0:1, 0:1", &array![["a".to_string()]])
        .unwrap();
    arr.write_objects("5, 4", &ndarray::arr0("z".to_string()))
        .unwrap();
    assert_eq!(stored(store.as_ref(), "t/"), ["t/c/0/0", "t/c/1/1"]);
    let got = Array::open(store.clone(), "t")
        .unwrap()
        .read_objects::<String>(())
        .unwrap();
    let mut expected = ArrayD::from_elem(IxDyn(&[6, 5]), "-".to_string());
    expected[[0, 0]] = "a".into();
    expected[[5, 4]] = "z".into();
    assert_eq!(got, expected);
    // A shard with one inner chunk stored is smaller than one with all four.
    let one = store
        .get(&StoreKey::new("t/c/0/0").unwrap())
        .unwrap()
        .unwrap();
    arr.write_objects("0:4, 0:4", &words(&[4, 4], "x")).unwrap();
    let four = store
        .get(&StoreKey::new("t/c/0/0").unwrap())
        .unwrap()
        .unwrap();
    assert!(four.len() > one.len());
    // Back to fill everywhere in a shard: the shard is removed.
    arr.fill("0:4, 0:4").unwrap();
    arr.fill("4:6, 4:5").unwrap();
    assert!(stored(store.as_ref(), "t/").is_empty());
}

#[test]
fn sharded_string_writes_match_a_model() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let arr = text_array(store.clone(), "m", Some(vec![4, 2]), "");
    let writes = [
        ("0:6, 0:5", 0),
        ("1:3, 1:4", 1),
        ("5, 0:5", 2),
        ("0:6:2, 3", 3),
        ("2:6, 0:2", 4),
    ];
    let mut last = None;
    for (text, tag) in writes {
        let sel: Selection = text.parse().unwrap();
        let shape: Vec<usize> = sel
            .resolve(arr.shape())
            .unwrap()
            .shape()
            .iter()
            .map(|&d| d as usize)
            .collect();
        let data = words(&shape, &format!("{tag}:"));
        arr.write_objects(&sel, &data).unwrap();
        assert_eq!(arr.read_objects::<String>(&sel).unwrap(), data, "{text}");
        last = Some(arr.read_objects::<String>(()).unwrap());
    }
    // The whole array read through a fresh handle equals the last full read.
    let again = Array::open(store, "m")
        .unwrap()
        .read_objects::<String>(())
        .unwrap();
    assert_eq!(Some(&again), last.as_ref());
    assert_eq!(again[[5, 0]], "4:6é");
    assert_eq!(again[[4, 3]], "3:2é");
    assert_eq!(again[[1, 1]], "1:0é");
    assert_eq!(again[[0, 4]], "0:4é");
}

#[test]
fn v3_bytes_array_keeps_a_binary_fill_as_base64() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let arr = ArrayBuilder::new(vec![5], vec![2], DataType::Object)
        .zarr_format(3)
        .shards(vec![4])
        .filters(Some(vec![json!({"id": "vlen-bytes"})]))
        .fill_value(json!([0, 255, 122]))
        .create(store.clone(), "b")
        .unwrap();
    let meta = doc(store.as_ref(), "b/zarr.json");
    assert_eq!(meta["data_type"], "variable_length_bytes");
    assert_eq!(meta["fill_value"], "AP96");
    arr.write_objects("1:3", &array![b"\x00a".to_vec(), Vec::new()])
        .unwrap();
    let back = Array::open(store, "b").unwrap();
    let got = back.read_objects::<Vec<u8>>(()).unwrap();
    let fill = vec![0u8, 255, 122];
    assert_eq!(
        got.into_raw_vec_and_offset().0,
        [
            fill.clone(),
            b"\x00a".to_vec(),
            Vec::new(),
            fill.clone(),
            fill
        ]
    );
}

#[test]
fn v3_string_array_resizes() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let mut arr = text_array(store.clone(), "r", None, "");
    arr.write_objects((), &words(&[6, 5], "v")).unwrap();
    arr.resize(&[3, 5]).unwrap();
    arr.resize(&[4, 5]).unwrap();
    let got = Array::open(store.clone(), "r")
        .unwrap()
        .read_objects::<String>(())
        .unwrap();
    assert_eq!(got.shape(), [4, 5]);
    assert_eq!(got[[2, 4]], "v14é");
    assert_eq!(got[[3, 0]], "", "the row that came back reads as fill");
    assert_eq!(doc(store.as_ref(), "r/zarr.json")["shape"], json!([4, 5]));
}

#[test]
fn object_codecs_without_a_v3_type_are_refused_by_name() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let err = ArrayBuilder::new(vec![3], vec![2], DataType::Object)
        .zarr_format(3)
        .filters(Some(vec![json!({"id": "json2"})]))
        .create(store.clone(), "j")
        .unwrap_err();
    assert!(matches!(err, ArrayError::Unsupported { .. }), "{err}");
    assert!(err.to_string().contains("json2"), "{err}");
    // A `string` type stored with the bytes codec is invalid metadata, named.
    let bad = br#"{"zarr_format": 3, "node_type": "array", "shape": [4], "data_type": "string",
      "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [2]}},
      "chunk_key_encoding": {"name": "default"}, "fill_value": "",
      "codecs": [{"name": "vlen-bytes", "configuration": {}}]}"#;
    let err = tessera_array::ArrayMetadata::parse_v3(bad).unwrap_err();
    assert!(err.to_string().contains("vlen-utf8"), "{err}");
    let two = String::from_utf8(bad.to_vec()).unwrap().replace(
        r#"{"name": "vlen-bytes", "configuration": {}}"#,
        r#"{"name": "vlen-utf8"}, {"name": "zstd"}, {"name": "gzip"}"#,
    );
    let err = tessera_array::ArrayMetadata::parse_v3(two.as_bytes()).unwrap_err();
    assert!(matches!(err, ArrayError::Unsupported { .. }), "{err}");
}

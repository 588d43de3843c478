//! Zarr v3 inline consolidated metadata (`consolidated_metadata` in a group's `zarr.json`, as
//! zarr-python 3 writes it) stays true after tessera's creates, resizes, appends and attribute writes.

use std::sync::Arc;

use ndarray::Array2;
use serde_json::{Map, Value, json};
use tessera_array::{ArrayBuilder, DataType, Group};
use tessera_store::{MemoryStore, Store, StoreKey};

fn consolidated(store: &dyn Store) -> Map<String, Value> {
    let doc: Value = serde_json::from_slice(
        &store
            .get(&StoreKey::new("zarr.json").unwrap())
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    doc["consolidated_metadata"]["metadata"]
        .as_object()
        .unwrap()
        .clone()
}

#[test]
fn inline_consolidated_metadata_follows_every_metadata_write() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let root = Group::create_v3(store.clone(), "").unwrap();
    let i4 = DataType::parse_typestr("<i4").unwrap();
    let builder = |shape: Vec<u64>| ArrayBuilder::new(shape, vec![2, 2], i4.clone()).zarr_format(3);
    let mut a = root.create_array("g/a", builder(vec![2, 3])).unwrap();
    root.create_array("old/x", builder(vec![2, 2])).unwrap();
    root.consolidate().unwrap();
    assert_eq!(consolidated(store.as_ref())["g/a"]["shape"], json!([2, 3]));

    a.append(&Array2::<i32>::ones((3, 3)), 0).unwrap();
    let mut attrs = Map::new();
    attrs.insert("units".into(), json!("m"));
    a.set_attributes(&attrs).unwrap();
    Group::open(store.clone(), "g")
        .unwrap()
        .set_attributes(&attrs)
        .unwrap();
    root.create_array("late/y", builder(vec![4, 4])).unwrap();
    // Replacing a group drops what was below it from the consolidated metadata.
    ArrayBuilder::new(vec![1, 1], vec![1, 1], i4.clone())
        .zarr_format(3)
        .overwrite(true)
        .create(store.clone(), "old")
        .unwrap();

    let entries = consolidated(store.as_ref());
    let mut names: Vec<&str> = entries.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["g", "g/a", "late", "late/y", "old"]);
    assert_eq!(entries["g/a"]["shape"], json!([5, 3]));
    assert_eq!(entries["g/a"]["attributes"], json!({"units": "m"}));
    assert_eq!(entries["g"]["attributes"], json!({"units": "m"}));
    assert_eq!(entries["g"]["consolidated_metadata"]["metadata"], json!({}));
    assert_eq!(entries["old"]["node_type"], "array");
    // What a reader of the consolidated metadata alone sees.
    let cons = Group::open_consolidated(store.clone(), "").unwrap();
    assert!(cons.is_consolidated());
    let arr = cons.open_array("g/a").unwrap();
    assert_eq!(arr.shape(), [5, 3]);
    assert_eq!(arr.read::<i32>("4, :").unwrap().sum(), 3);
    assert_eq!(cons.open_array("late/y").unwrap().shape(), [4, 4]);
}

//! Fuzzes consolidated metadata: `.zmetadata` bytes in a memory store opened with
//! `Group::open_consolidated`, then walked, with every node's metadata and attributes looked up.
//! Nothing may panic; keys with `..` or other invalid paths must be typed errors.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use tessera_array::{Group, NodeKind, Selection};
use tessera_store::{MemoryStore, Store, StoreKey, WritableStore};

fuzz_target!(|data: &[u8]| {
    let store = Arc::new(MemoryStore::new());
    store
        .set(&StoreKey::new(".zmetadata").unwrap(), data.to_vec().into())
        .unwrap();
    let store: Arc<dyn Store> = store;
    let Ok(group) = Group::open_consolidated(store, "") else {
        return;
    };
    let _ = group.attributes();
    let Ok(nodes) = group.walk() else {
        return;
    };
    for (path, kind) in nodes {
        // Every path the walk returns is a valid node path relative to the root group.
        assert!(!path.as_str().split('/').any(|s| s == ".." || s == "."));
        let _ = group.node_attributes(path.as_str());
        if matches!(kind, NodeKind::Array) {
            if let Ok(array) = group.open_array(path.as_str()) {
                // Missing chunks read as the fill value; read at most one element.
                let first: Vec<_> = array.shape().iter().map(|&n| 0..n.min(1)).collect();
                let _ = array.read_raw(Selection::from_ranges(&first));
            }
        } else {
            let _ = group.open_group(path.as_str());
        }
    }
});

//! Keeping consolidated metadata (`.zmetadata`, and the `consolidated_metadata` zarr-python 3 writes
//! inline in a v3 group's `zarr.json`) true after tessera's own writes.
//!
//! zarr-python's `open_consolidated` reads every node's metadata from the `.zmetadata` of the group it
//! opens and never looks at the nodes' own documents, so a write that changes a `.zarray`, `.zgroup`
//! or `.zattrs` below a consolidated group must change that group's `.zmetadata` too, or readers keep
//! seeing the old shape (and an append is silently lost to them). Each write patches the entries of
//! the nodes it touched in every `.zmetadata` above them, from the nodes' own documents: one read and
//! one write per consolidated ancestor, never a walk of the hierarchy. Zarr v3 works the same way,
//! with each ancestor group's `zarr.json` in the place of `.zmetadata` and a node's `zarr.json` as its
//! one document.

use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

use serde_json::{Map, Value};
use tessera_store::{Bytes, Store};

use crate::error::ArrayResult;
use crate::metadata::pretty_json;
use crate::node::NodePath;

const DOCUMENTS: [&str; 3] = [".zarray", ".zgroup", ".zattrs"];

/// A node's documents by name; `None` for those it lacks.
type Documents = Vec<(&'static str, Option<Value>)>;

/// Process-wide locks serialising the read-modify-write of one `.zmetadata` (striped by key).
static LOCKS: LazyLock<Vec<Mutex<()>>> =
    LazyLock::new(|| (0..64).map(|_| Mutex::new(())).collect());

fn lock(key: &str) -> MutexGuard<'static, ()> {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut h);
    let lock = &LOCKS[(h.finish() % LOCKS.len() as u64) as usize];
    lock.lock().unwrap_or_else(|p| p.into_inner())
}

/// Brings every `.zmetadata` at or above `path` up to date with the documents of `path` and of the
/// groups between it and that `.zmetadata` (parents a create made). With `replaced`, entries below
/// `path` are dropped first (the node was overwritten, its old children erased).
///
/// A `.zmetadata` that is not valid JSON is left alone: it cannot be patched, and readers already
/// report it.
///
/// # Errors
/// Store errors.
pub(crate) fn sync(store: &Arc<dyn Store>, path: &NodePath, replaced: bool) -> ArrayResult<()> {
    sync_with(store, path, replaced, None)
}

/// As [`sync`], with `pending` (a document name and its value) taken as `path`'s document of that
/// name instead of the stored one: for a write that updates `.zmetadata` before the document itself
/// (a grow's `.zarray` is its commit point, so it is written last).
pub(crate) fn sync_with(
    store: &Arc<dyn Store>,
    path: &NodePath,
    replaced: bool,
    pending: Option<(&str, Value)>,
) -> ArrayResult<()> {
    let pending_v3 = pending
        .as_ref()
        .filter(|(name, _)| *name == "zarr.json")
        .map(|(_, v)| v);
    sync_v3(store, path, replaced, pending_v3)?;
    let mut chain = path.ancestors();
    chain.push(path.clone());
    // Each node's own documents, read once however many `.zmetadata` files need them.
    let mut own: Vec<Option<Documents>> = vec![None; chain.len()];
    for (depth, holder) in chain.iter().enumerate() {
        let key = holder.key(".zmetadata")?;
        let _guard = lock(key.as_str());
        let Some(bytes) = store.get(&key)? else {
            continue;
        };
        let Ok(mut doc) = serde_json::from_slice::<Value>(&bytes) else {
            continue;
        };
        let Some(entries) = doc.get_mut("metadata").and_then(Value::as_object_mut) else {
            continue;
        };
        if replaced && holder != path {
            let below = format!("{}/", relative(holder, path));
            entries.retain(|k, _| !k.starts_with(&below));
        }
        for (i, node) in chain.iter().enumerate().skip(depth) {
            if own[i].is_none() {
                let mut docs = read_documents(store.as_ref(), node)?;
                if let Some((name, value)) = pending.as_ref().filter(|_| node == path) {
                    for (doc, slot) in &mut docs {
                        if doc == name {
                            *slot = Some(value.clone());
                        }
                    }
                }
                own[i] = Some(docs);
            }
            let rel = relative(holder, node);
            for (name, value) in own[i].iter().flatten() {
                let entry = if rel.is_empty() {
                    (*name).to_string()
                } else {
                    format!("{rel}/{name}")
                };
                patch(entries, entry, value.clone());
            }
        }
        store.set(&key, Bytes::from(pretty_json(&doc)))?;
    }
    Ok(())
}

/// The v3 half of [`sync_with`]: patches the `consolidated_metadata` of every group `zarr.json`
/// strictly above `path` that has one.
fn sync_v3(
    store: &Arc<dyn Store>,
    path: &NodePath,
    replaced: bool,
    pending: Option<&Value>,
) -> ArrayResult<()> {
    let ancestors = path.ancestors();
    let mut chain = ancestors.clone();
    chain.push(path.clone());
    // Each node's zarr.json, read once however many groups above it hold consolidated metadata.
    let mut own: Vec<Option<Option<Value>>> = vec![None; chain.len()];
    for (depth, holder) in ancestors.iter().enumerate() {
        let key = holder.key("zarr.json")?;
        let _guard = lock(key.as_str());
        let Some(bytes) = store.get(&key)? else {
            continue;
        };
        let Ok(mut doc) = serde_json::from_slice::<Value>(&bytes) else {
            continue;
        };
        let Some(entries) = doc
            .get_mut("consolidated_metadata")
            .and_then(|c| c.get_mut("metadata"))
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        if replaced {
            let below = format!("{}/", relative(holder, path));
            entries.retain(|k, _| !k.starts_with(&below));
        }
        for (i, node) in chain.iter().enumerate().skip(depth + 1) {
            if own[i].is_none() {
                let value = match pending.filter(|_| node == path) {
                    Some(v) => Some(v.clone()),
                    None => store
                        .get(&node.key("zarr.json")?)?
                        .and_then(|b| serde_json::from_slice::<Value>(&b).ok()),
                };
                own[i] = Some(value.map(v3_entry));
            }
            patch(
                entries,
                relative(holder, node),
                own[i].clone().unwrap_or_default(),
            );
        }
        store.set(&key, Bytes::from(crate::metadata::pretty_json_v3(&doc)))?;
    }
    Ok(())
}

/// A node's `zarr.json` as zarr-python 3 consolidates it: without its own consolidated metadata,
/// except that a group gets an empty inline one (before `node_type`, where zarr-python puts it).
pub(crate) fn v3_entry(mut doc: Value) -> Value {
    if let Some(obj) = doc.as_object_mut() {
        obj.remove("consolidated_metadata");
        if obj.get("node_type").and_then(Value::as_str) == Some("group") {
            let node_type = obj.remove("node_type");
            obj.insert(
                "consolidated_metadata".into(),
                serde_json::json!({"kind": "inline", "must_understand": false, "metadata": {}}),
            );
            if let Some(n) = node_type {
                obj.insert("node_type".into(), n);
            }
        }
    }
    doc
}

fn patch(entries: &mut Map<String, Value>, key: String, value: Option<Value>) {
    match value {
        Some(v) => {
            entries.insert(key, v);
        }
        None => {
            entries.remove(&key);
        }
    }
}

/// The node's metadata documents as JSON; `None` for those it does not have (or that are not JSON,
/// which consolidated metadata cannot hold).
fn read_documents(store: &dyn Store, node: &NodePath) -> ArrayResult<Documents> {
    let mut out = Vec::with_capacity(DOCUMENTS.len());
    for name in DOCUMENTS {
        let value = store
            .get(&node.key(name)?)?
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok());
        out.push((name, value));
    }
    Ok(out)
}

/// `node`'s path relative to `holder` (an ancestor or the node itself).
fn relative(holder: &NodePath, node: &NodePath) -> String {
    if holder.is_root() {
        return node.as_str().to_string();
    }
    node.as_str()
        .strip_prefix(holder.as_str())
        .map(|r| r.trim_start_matches('/').to_string())
        .unwrap_or_default()
}

//! Groups: the hierarchy of a Zarr store (v2 or v3), its attributes and consolidated metadata.
//!
//! ```
//! # use std::sync::Arc;
//! use tessera_array::{ArrayBuilder, DataType, Group, NodeKind};
//! use tessera_store::MemoryStore;
//!
//! let store = Arc::new(MemoryStore::new());
//! let root = Group::create(store.clone(), "")?;
//! root.create_array("a/b/x", ArrayBuilder::new(vec![3], vec![3], DataType::parse_typestr("<i8")?))?;
//! root.consolidate()?;
//! let root = Group::open_consolidated(store, "")?;
//! assert_eq!(root.children()?, vec![("a".to_string(), NodeKind::Group)]);
//! assert_eq!(root.open_array("a/b/x")?.shape(), &[3]);
//! # Ok::<(), tessera_array::ArrayError>(())
//! ```

use std::sync::Arc;

use serde_json::{Map, Value};
use tessera_store::{Bytes, Store, StoreKey};

use crate::array::{Array, ArrayBuilder};
use crate::error::{ArrayError, ArrayResult};
use crate::metadata::{
    ArrayMetadata, ZarrFormat, check_group, parse_attributes, parse_group, pretty_json,
};
use crate::node::NodePath;

/// What a node of the hierarchy is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NodeKind {
    /// A group (`.zgroup`).
    Group,
    /// An array (`.zarray`).
    Array,
}

/// An opened node: an array or a group.
#[derive(Clone, Debug)]
pub enum Node {
    /// An array.
    Array(Box<Array>),
    /// A group.
    Group(Group),
}

/// The documents of a `.zmetadata` file (or of a v3 root's `consolidated_metadata`, as `<path>/zarr.json`),
/// keyed relative to the group holding it.
#[derive(Debug)]
struct Consolidated {
    root: NodePath,
    docs: Map<String, Value>,
}

impl Consolidated {
    fn parse(bytes: &[u8], root: NodePath) -> ArrayResult<Consolidated> {
        let bad = |msg: String| ArrayError::metadata(".zmetadata", msg);
        let value: Value =
            serde_json::from_slice(bytes).map_err(|e| bad(format!("not valid JSON: {e}")))?;
        let docs = value
            .get("metadata")
            .and_then(Value::as_object)
            .ok_or_else(|| bad("expected an object with a \"metadata\" object".into()))?;
        for (key, doc) in docs {
            // Every key must be a valid store key: `..` or absolute paths would point outside the group.
            StoreKey::new(key.as_str()).map_err(|e| bad(format!("key {key:?}: {e}")))?;
            let name = key.rsplit('/').next().unwrap_or("");
            if ![".zarray", ".zgroup", ".zattrs"].contains(&name) {
                return Err(bad(format!("key {key:?} is not a metadata document")));
            }
            if !doc.is_object() {
                return Err(bad(format!("{key:?} is not a JSON object")));
            }
        }
        Ok(Consolidated {
            root,
            docs: docs.clone(),
        })
    }

    /// The `consolidated_metadata` of a v3 group's `zarr.json`: `None` when it has none.
    fn from_v3(group_doc: &Value, root: NodePath) -> ArrayResult<Option<Consolidated>> {
        let bad = |msg: String| ArrayError::metadata("consolidated_metadata", msg);
        let Some(cm) = group_doc
            .get("consolidated_metadata")
            .filter(|v| !v.is_null())
        else {
            return Ok(None);
        };
        let entries = cm
            .get("metadata")
            .and_then(Value::as_object)
            .ok_or_else(|| bad("expected an object with a \"metadata\" object".into()))?;
        let mut docs = Map::new();
        docs.insert("zarr.json".into(), group_doc.clone());
        for (path, doc) in entries {
            StoreKey::new(path.as_str()).map_err(|e| bad(format!("key {path:?}: {e}")))?;
            if !doc.is_object() {
                return Err(bad(format!("{path:?} is not a JSON object")));
            }
            docs.insert(format!("{path}/zarr.json"), doc.clone());
        }
        Ok(Some(Consolidated { root, docs }))
    }

    /// The document `name` of the node at `path`, if `path` lies under this consolidated root.
    fn get(&self, path: &NodePath, name: &str) -> Option<Option<&Value>> {
        let rel = relative(&self.root, path)?;
        let key = if rel.is_empty() {
            name.to_string()
        } else {
            format!("{rel}/{name}")
        };
        Some(self.docs.get(&key))
    }
}

fn relative<'a>(root: &NodePath, path: &'a NodePath) -> Option<&'a str> {
    if root.is_root() {
        return Some(path.as_str());
    }
    let p = path.as_str();
    if p == root.as_str() {
        return Some("");
    }
    p.strip_prefix(root.as_str())
        .and_then(|r| r.strip_prefix('/'))
}

/// A Zarr group (v2 or v3).
#[derive(Clone, Debug)]
pub struct Group {
    store: Arc<dyn Store>,
    path: NodePath,
    consolidated: Option<Arc<Consolidated>>,
    format: ZarrFormat,
}

/// Checks that a node may be created at `path` (erasing what is there when `overwrite`), and creates the
/// missing parent groups.
pub(crate) fn prepare_node(
    store: &Arc<dyn Store>,
    path: &NodePath,
    overwrite: bool,
) -> ArrayResult<()> {
    prepare_node_in(store, path, overwrite, ZarrFormat::V2)
}

/// [`prepare_node`] creating missing parents in `format`.
pub(crate) fn prepare_node_in(
    store: &Arc<dyn Store>,
    path: &NodePath,
    overwrite: bool,
    format: ZarrFormat,
) -> ArrayResult<()> {
    if let Some(kind) = node_kind(store.as_ref(), path)? {
        if !overwrite {
            let kind = if kind == NodeKind::Array {
                "an array"
            } else {
                "a group"
            };
            return Err(ArrayError::AlreadyExists {
                kind,
                path: path.as_str().to_string(),
            });
        }
        store.erase_prefix(&path.prefix())?;
    }
    for ancestor in path.ancestors() {
        match node_kind(store.as_ref(), &ancestor)? {
            Some(NodeKind::Group) => {}
            Some(NodeKind::Array) => {
                return Err(ArrayError::AlreadyExists {
                    kind: "an array",
                    path: ancestor.as_str().to_string(),
                });
            }
            None => match format {
                ZarrFormat::V2 => store.set(&ancestor.key(".zgroup")?, group_doc())?,
                ZarrFormat::V3 => store.set(&ancestor.key("zarr.json")?, group_doc_v3())?,
            },
        }
    }
    Ok(())
}

fn group_doc() -> Bytes {
    Bytes::from(pretty_json(&serde_json::json!({"zarr_format": 2})))
}

fn group_doc_v3() -> Bytes {
    Bytes::from(crate::metadata::pretty_json_v3(&crate::v3::new_group_json(
        &Map::new(),
    )))
}

/// Reads a v3 `zarr.json` at `path`, if there is one.
fn read_zarr_json(store: &dyn Store, path: &NodePath) -> ArrayResult<Option<Value>> {
    let key = path.key("zarr.json")?;
    match store.get(&key)? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| ArrayError::metadata(key.to_string(), format!("not valid JSON: {e}"))),
    }
}

/// What is stored at `path`, looking at its metadata documents (`zarr.json` first, then `.zarray` and
/// `.zgroup`).
///
/// # Errors
/// Store errors; [`ArrayError::Metadata`] for a `zarr.json` that is not JSON or names no node type.
pub fn node_kind(store: &dyn Store, path: &NodePath) -> ArrayResult<Option<NodeKind>> {
    if let Some(doc) = read_zarr_json(store, path)? {
        return Ok(Some(if crate::v3::is_array_doc(&doc)? {
            NodeKind::Array
        } else {
            NodeKind::Group
        }));
    }
    if store.size(&path.key(".zarray")?)?.is_some() {
        Ok(Some(NodeKind::Array))
    } else if store.size(&path.key(".zgroup")?)?.is_some() {
        Ok(Some(NodeKind::Group))
    } else {
        Ok(None)
    }
}

/// Opens whatever is at `path`: an array or a group.
///
/// # Errors
/// [`ArrayError::NotFound`] when neither is there; metadata and store errors.
pub fn open_node(store: Arc<dyn Store>, path: &str) -> ArrayResult<Node> {
    let p = NodePath::new(path)?;
    match node_kind(store.as_ref(), &p)? {
        Some(NodeKind::Array) => Ok(Node::Array(Box::new(Array::open(store, path)?))),
        Some(NodeKind::Group) => Ok(Node::Group(Group::open(store, path)?)),
        None => Err(ArrayError::NotFound {
            kind: "array or group (neither zarr.json nor .zarray/.zgroup)",
            path: p.as_str().to_string(),
        }),
    }
}

impl Group {
    /// Opens the group at `path`.
    ///
    /// # Errors
    /// [`ArrayError::NotFound`] when there is no `.zgroup`; [`ArrayError::Metadata`] when it is invalid.
    pub fn open(store: Arc<dyn Store>, path: &str) -> ArrayResult<Group> {
        let path = NodePath::new(path)?;
        if let Some(doc) = read_zarr_json(store.as_ref(), &path)? {
            if crate::v3::is_array_doc(&doc)? {
                return Err(ArrayError::NotFound {
                    kind: "group",
                    path: path.as_str().to_string(),
                });
            }
            crate::v3::check_group_v3(&doc)?;
            return Ok(Group {
                store,
                path,
                consolidated: None,
                format: ZarrFormat::V3,
            });
        }
        let bytes = store
            .get(&path.key(".zgroup")?)?
            .ok_or_else(|| ArrayError::NotFound {
                kind: "group",
                path: path.as_str().to_string(),
            })?;
        parse_group(&bytes)?;
        Ok(Group {
            store,
            path,
            consolidated: None,
            format: ZarrFormat::V2,
        })
    }

    /// Opens the group at `path` using its consolidated metadata (`.zmetadata`) for every metadata lookup
    /// below it: one read instead of one per node, which matters on remote stores. Falls back to
    /// [`open`](Group::open) when there is no `.zmetadata`.
    ///
    /// Consolidated metadata is a snapshot: changes made after it was written are not seen through it.
    ///
    /// # Errors
    /// [`ArrayError::Metadata`] naming `.zmetadata` when it is malformed (including keys with `..`).
    pub fn open_consolidated(store: Arc<dyn Store>, path: &str) -> ArrayResult<Group> {
        let node = NodePath::new(path)?;
        if let Some(doc) = read_zarr_json(store.as_ref(), &node)? {
            let mut group = Group::open(store, path)?;
            group.consolidated = Consolidated::from_v3(&doc, node)?.map(Arc::new);
            return Ok(group);
        }
        let Some(bytes) = store.get(&node.key(".zmetadata")?)? else {
            return Group::open(store, path);
        };
        let consolidated = Consolidated::parse(&bytes, node.clone())?;
        match consolidated.get(&node, ".zgroup").flatten() {
            Some(doc) => {
                check_group(doc)?;
            }
            None => {
                return Err(ArrayError::metadata(
                    ".zmetadata",
                    "has no .zgroup for the group holding it",
                ));
            }
        }
        Ok(Group {
            store,
            path: node,
            consolidated: Some(Arc::new(consolidated)),
            format: ZarrFormat::V2,
        })
    }

    /// Creates a group at `path` (and missing parents).
    ///
    /// # Errors
    /// [`ArrayError::AlreadyExists`] when an array or group is already there.
    pub fn create(store: Arc<dyn Store>, path: &str) -> ArrayResult<Group> {
        let node = NodePath::new(path)?;
        prepare_node(&store, &node, false)?;
        store.set(&node.key(".zgroup")?, group_doc())?;
        crate::consolidated::sync(&store, &node, false)?;
        Ok(Group {
            store,
            path: node,
            consolidated: None,
            format: ZarrFormat::V2,
        })
    }

    /// Creates a Zarr v3 group at `path` (and missing parents, as v3 groups).
    ///
    /// # Errors
    /// [`ArrayError::AlreadyExists`] when an array or group is already there.
    pub fn create_v3(store: Arc<dyn Store>, path: &str) -> ArrayResult<Group> {
        let node = NodePath::new(path)?;
        prepare_node_in(&store, &node, false, ZarrFormat::V3)?;
        store.set(&node.key("zarr.json")?, group_doc_v3())?;
        crate::consolidated::sync(&store, &node, false)?;
        Ok(Group {
            store,
            path: node,
            consolidated: None,
            format: ZarrFormat::V3,
        })
    }

    /// Opens the group at `path`, creating it (and missing parents) when absent.
    ///
    /// # Errors
    /// [`ArrayError::AlreadyExists`] when an array is there.
    pub fn require(store: Arc<dyn Store>, path: &str) -> ArrayResult<Group> {
        match node_kind(store.as_ref(), &NodePath::new(path)?)? {
            Some(NodeKind::Group) => Group::open(store, path),
            _ => Group::create(store, path),
        }
    }

    /// The group's path in its store.
    pub fn path(&self) -> &NodePath {
        &self.path
    }

    /// The store holding the group.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The Zarr format of the group.
    pub fn zarr_format(&self) -> ZarrFormat {
        self.format
    }

    /// True when metadata lookups go through consolidated metadata.
    pub fn is_consolidated(&self) -> bool {
        self.consolidated.is_some()
    }

    fn doc(&self, path: &NodePath, name: &str) -> ArrayResult<Option<Value>> {
        if let Some(found) = self.consolidated.as_ref().and_then(|c| c.get(path, name)) {
            return Ok(found.cloned());
        }
        match self.store.get(&path.key(name)?)? {
            None => Ok(None),
            Some(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                ArrayError::metadata(
                    path.key(name).map(|k| k.to_string()).unwrap_or_default(),
                    format!("not valid JSON: {e}"),
                )
            }),
        }
    }

    /// The group's attributes (`.zattrs`); empty when there are none.
    ///
    /// # Errors
    /// [`ArrayError::Metadata`] when `.zattrs` is not a JSON object.
    pub fn attributes(&self) -> ArrayResult<Map<String, Value>> {
        self.attributes_of(&self.path)
    }

    fn attributes_of(&self, path: &NodePath) -> ArrayResult<Map<String, Value>> {
        if let Some(doc) = self.doc(path, "zarr.json")? {
            return match doc.get("attributes") {
                None => Ok(Map::new()),
                Some(Value::Object(m)) => Ok(m.clone()),
                Some(other) => Err(ArrayError::metadata(
                    "attributes",
                    format!("expected an object, found {other}"),
                )),
            };
        }
        match self.doc(path, ".zattrs")? {
            None => Ok(Map::new()),
            Some(Value::Object(m)) => Ok(m),
            Some(other) => parse_attributes(other.to_string().as_bytes()),
        }
    }

    /// Attributes of the node at `name` below this group.
    ///
    /// # Errors
    /// As [`attributes`](Group::attributes).
    pub fn node_attributes(&self, name: &str) -> ArrayResult<Map<String, Value>> {
        self.attributes_of(&self.path.child(name)?)
    }

    /// Replaces the group's attributes (and their copy in the consolidated metadata above it).
    ///
    /// # Errors
    /// Store errors.
    pub fn set_attributes(&self, attrs: &Map<String, Value>) -> ArrayResult<()> {
        if self.format == ZarrFormat::V3 {
            let mut doc = read_zarr_json(self.store.as_ref(), &self.path)?
                .unwrap_or_else(|| crate::v3::new_group_json(&Map::new()));
            if let Some(obj) = doc.as_object_mut() {
                obj.insert("attributes".into(), Value::Object(attrs.clone()));
            }
            self.store.set(
                &self.path.key("zarr.json")?,
                Bytes::from(crate::metadata::pretty_json_v3(&doc)),
            )?;
            return crate::consolidated::sync(&self.store, &self.path, false);
        }
        let bytes = pretty_json(&Value::Object(attrs.clone()));
        self.store
            .set(&self.path.key(".zattrs")?, Bytes::from(bytes))?;
        crate::consolidated::sync(&self.store, &self.path, false)
    }

    /// What the node `name` (a relative path) below this group is, if anything.
    ///
    /// # Errors
    /// Store errors.
    pub fn kind_of(&self, name: &str) -> ArrayResult<Option<NodeKind>> {
        let path = self.path.child(name)?;
        if let Some(c) = &self.consolidated {
            if let Some(doc) = c.get(&path, "zarr.json").flatten() {
                return crate::v3::is_array_doc(doc)
                    .map(|a| Some(if a { NodeKind::Array } else { NodeKind::Group }));
            }
            if c.get(&path, ".zarray").flatten().is_some() {
                return Ok(Some(NodeKind::Array));
            }
            if c.get(&path, ".zgroup").flatten().is_some() {
                return Ok(Some(NodeKind::Group));
            }
            if c.get(&path, ".zarray").is_some() {
                return Ok(None);
            }
        }
        node_kind(self.store.as_ref(), &path)
    }

    /// The direct children: names and kinds, sorted by name.
    ///
    /// # Errors
    /// Store errors.
    pub fn children(&self) -> ArrayResult<Vec<(String, NodeKind)>> {
        let mut out = Vec::new();
        if let Some(c) = &self.consolidated {
            let rel = relative(&c.root, &self.path).unwrap_or("");
            let base = if rel.is_empty() {
                String::new()
            } else {
                format!("{rel}/")
            };
            for key in c.docs.keys() {
                let Some(rest) = key.strip_prefix(&base) else {
                    continue;
                };
                let Some((name, doc)) = rest.split_once('/') else {
                    continue;
                };
                let kind = match doc {
                    ".zarray" => NodeKind::Array,
                    ".zgroup" => NodeKind::Group,
                    "zarr.json" => match crate::v3::is_array_doc(&c.docs[key]) {
                        Ok(true) => NodeKind::Array,
                        Ok(false) => NodeKind::Group,
                        Err(_) => continue,
                    },
                    _ => continue,
                };
                out.push((name.to_string(), kind));
            }
        } else {
            let (_, prefixes) = self.store.list_dir(&self.path.prefix())?;
            for prefix in prefixes {
                let name = prefix.as_str()[self.path.prefix().as_str().len()..]
                    .trim_end_matches('/')
                    .to_string();
                let Ok(child) = self.path.child(&name) else {
                    continue;
                };
                if let Some(kind) = node_kind(self.store.as_ref(), &child)? {
                    out.push((name, kind));
                }
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Every node below this group (depth first, sorted), with paths relative to the store root.
    ///
    /// # Errors
    /// Store and metadata errors.
    pub fn walk(&self) -> ArrayResult<Vec<(NodePath, NodeKind)>> {
        let mut out = Vec::new();
        for (name, kind) in self.children()? {
            let path = self.path.child(&name)?;
            out.push((path.clone(), kind));
            if kind == NodeKind::Group {
                let sub = Group {
                    store: self.store.clone(),
                    path,
                    consolidated: self.consolidated.clone(),
                    format: self.format,
                };
                out.extend(sub.walk()?);
            }
        }
        Ok(out)
    }

    /// Opens the array at `name` (a relative path) below this group.
    ///
    /// # Errors
    /// [`ArrayError::NotFound`], metadata, codec and store errors.
    pub fn open_array(&self, name: &str) -> ArrayResult<Array> {
        let path = self.path.child(name)?;
        if let Some(doc) = self.doc(&path, "zarr.json")? {
            if crate::v3::is_array_doc(&doc)? {
                let meta = ArrayMetadata::from_v3_json(&doc)?;
                return Array::from_metadata(self.store.clone(), path, meta);
            }
            return Err(ArrayError::NotFound {
                kind: "array",
                path: path.as_str().to_string(),
            });
        }
        match self.doc(&path, ".zarray")? {
            Some(doc) => {
                Array::from_metadata(self.store.clone(), path, ArrayMetadata::from_json(&doc)?)
            }
            None => Err(ArrayError::NotFound {
                kind: "array",
                path: path.as_str().to_string(),
            }),
        }
    }

    /// Opens the group at `name` (a relative path) below this group.
    ///
    /// # Errors
    /// [`ArrayError::NotFound`], metadata and store errors.
    pub fn open_group(&self, name: &str) -> ArrayResult<Group> {
        let path = self.path.child(name)?;
        if let Some(doc) = self.doc(&path, "zarr.json")?
            && !crate::v3::is_array_doc(&doc)?
        {
            crate::v3::check_group_v3(&doc)?;
            return Ok(Group {
                store: self.store.clone(),
                path,
                consolidated: self.consolidated.clone(),
                format: ZarrFormat::V3,
            });
        }
        match self.doc(&path, ".zgroup")? {
            Some(doc) => {
                check_group(&doc)?;
                Ok(Group {
                    store: self.store.clone(),
                    path,
                    consolidated: self.consolidated.clone(),
                    format: ZarrFormat::V2,
                })
            }
            None => Err(ArrayError::NotFound {
                kind: "group",
                path: path.as_str().to_string(),
            }),
        }
    }

    /// Creates an array at `name` (a relative path) below this group.
    ///
    /// # Errors
    /// As [`ArrayBuilder::create`].
    pub fn create_array(&self, name: &str, builder: ArrayBuilder) -> ArrayResult<Array> {
        builder.create(self.store.clone(), self.path.child(name)?.as_str())
    }

    /// Creates a group at `name` (a relative path) below this group.
    ///
    /// # Errors
    /// As [`Group::create`].
    pub fn create_group(&self, name: &str) -> ArrayResult<Group> {
        let path = self.path.child(name)?;
        match self.format {
            ZarrFormat::V2 => Group::create(self.store.clone(), path.as_str()),
            ZarrFormat::V3 => Group::create_v3(self.store.clone(), path.as_str()),
        }
    }

    /// Writes `.zmetadata` for this group: every `.zgroup`, `.zarray` and `.zattrs` below it, keyed
    /// relative to the group, as zarr-python's `consolidate_metadata` does. Reads the store, not a
    /// previous `.zmetadata`.
    ///
    /// # Errors
    /// Store and metadata errors.
    pub fn consolidate(&self) -> ArrayResult<()> {
        let fresh = Group {
            store: self.store.clone(),
            path: self.path.clone(),
            consolidated: None,
            format: self.format,
        };
        if self.format == ZarrFormat::V3 {
            return fresh.consolidate_v3();
        }
        let mut docs = Map::new();
        let mut nodes = vec![(self.path.clone(), NodeKind::Group)];
        nodes.extend(fresh.walk()?);
        for (path, _) in nodes {
            let rel = relative(&self.path, &path).unwrap_or("").to_string();
            for name in [".zarray", ".zgroup", ".zattrs"] {
                if let Some(doc) = fresh.doc(&path, name)? {
                    let key = if rel.is_empty() {
                        name.to_string()
                    } else {
                        format!("{rel}/{name}")
                    };
                    docs.insert(key, doc);
                }
            }
        }
        let mut out = Map::new();
        out.insert("metadata".into(), Value::Object(docs));
        out.insert("zarr_consolidated_format".into(), Value::from(1));
        self.store.set(
            &self.path.key(".zmetadata")?,
            Bytes::from(pretty_json(&Value::Object(out))),
        )?;
        Ok(())
    }
}

impl Group {
    /// Writes `consolidated_metadata` into this v3 group's `zarr.json`, as zarr-python 3 does: every
    /// node's `zarr.json` below it, keyed by its path relative to the group.
    fn consolidate_v3(&self) -> ArrayResult<()> {
        let mut entries = Map::new();
        for (path, _) in self.walk()? {
            let rel = relative(&self.path, &path).unwrap_or("").to_string();
            if let Some(doc) = read_zarr_json(self.store.as_ref(), &path)? {
                entries.insert(rel, crate::consolidated::v3_entry(doc));
            }
        }
        let mut doc = read_zarr_json(self.store.as_ref(), &self.path)?
            .unwrap_or_else(|| crate::v3::new_group_json(&Map::new()));
        let cm =
            serde_json::json!({"kind": "inline", "must_understand": false, "metadata": entries});
        if let Some(obj) = doc.as_object_mut() {
            // zarr-python puts it before node_type.
            let node_type = obj.remove("node_type");
            obj.insert("consolidated_metadata".into(), cm);
            if let Some(n) = node_type {
                obj.insert("node_type".into(), n);
            }
        }
        self.store.set(
            &self.path.key("zarr.json")?,
            Bytes::from(crate::metadata::pretty_json_v3(&doc)),
        )?;
        Ok(())
    }
}

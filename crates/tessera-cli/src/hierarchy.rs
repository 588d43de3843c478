//! Finding the nodes of a store and opening each one on its own, so that one node tessera cannot read
//! never hides the others.
//!
//! A node is a path, a kind and either what it holds (array metadata, attributes) or the reason it
//! could not be opened ([`NodeProblem`]). Nodes are found by listing the store group by group and,
//! where the root or the target group carries `.zmetadata`, from that consolidated metadata as well
//! (stores that cannot list, such as HTTP, are known only through it). Each node is then opened from
//! its own documents, never from the consolidated copy, so what `info` shows and `copy` copies is what
//! the store holds now, even when `.zmetadata` is stale.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};
use tessera_array::metadata::parse_group;
use tessera_array::{Array, ArrayError, ArrayMetadata, Group, NodeKind, NodePath, node_kind};
use tessera_codec::CodecErrorKind;
use tessera_store::{Store, StoreError, StoreErrorKind, StoreKey};

use crate::error::{CliError, CliResult, Context};

/// Why a node could not be opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProblemKind {
    /// The node is valid Zarr, but uses something tessera does not implement (named in the message).
    Unsupported,
    /// The node's data is broken (the message names the key).
    Invalid,
    /// The store failed to read or list it (permissions, I/O, network).
    Unreadable,
}

impl ProblemKind {
    /// The name used in `info --json` (`error.kind`).
    pub fn name(self) -> &'static str {
        match self {
            ProblemKind::Unsupported => "unsupported",
            ProblemKind::Invalid => "invalid",
            ProblemKind::Unreadable => "unreadable",
        }
    }
}

/// The reason a node could not be opened: its kind and a message naming the feature or the key.
#[derive(Clone, Debug)]
pub struct NodeProblem {
    /// Unsupported, invalid or unreadable.
    pub kind: ProblemKind,
    /// What is wrong, naming the unsupported feature or the broken key.
    pub message: String,
}

impl NodeProblem {
    /// Classifies an error met while reading `key`.
    pub fn from_error(err: &ArrayError, key: &str) -> NodeProblem {
        let (kind, message) = match err {
            ArrayError::Unsupported { .. } => (ProblemKind::Unsupported, format!("{key}: {err}")),
            ArrayError::CodecConfig(codec)
                if matches!(
                    codec.kind(),
                    CodecErrorKind::UnknownCodec | CodecErrorKind::Unsupported
                ) =>
            {
                (
                    ProblemKind::Unsupported,
                    format!("{key}: codec not supported by tessera: {codec}"),
                )
            }
            ArrayError::Store(store) => return NodeProblem::from_store(store, key),
            _ => (ProblemKind::Invalid, format!("{key}: {err}")),
        };
        NodeProblem { kind, message }
    }

    fn from_store(err: &StoreError, key: &str) -> NodeProblem {
        let kind = match err.kind() {
            StoreErrorKind::NotSupported => ProblemKind::Unsupported,
            StoreErrorKind::InvalidKey | StoreErrorKind::InvalidRange => ProblemKind::Invalid,
            _ => ProblemKind::Unreadable,
        };
        let mut message = format!("{key}: {err}");
        let mut source = std::error::Error::source(err);
        while let Some(cause) = source {
            let text = cause.to_string();
            if !message.contains(&text) {
                message.push_str(": ");
                message.push_str(&text);
            }
            source = cause.source();
        }
        NodeProblem { kind, message }
    }

    fn invalid(message: String) -> NodeProblem {
        NodeProblem {
            kind: ProblemKind::Invalid,
            message,
        }
    }
}

impl fmt::Display for NodeProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ProblemKind::Unsupported => write!(f, "unsupported by tessera: {}", self.message),
            ProblemKind::Invalid => write!(f, "invalid data: {}", self.message),
            ProblemKind::Unreadable => write!(f, "cannot read: {}", self.message),
        }
    }
}

/// A metadata document as one read of a batch returned it.
type Fetched = Result<Option<tessera_store::Bytes>, StoreError>;

/// What an opened node holds.
#[derive(Debug)]
pub struct Opened {
    /// The array, for an array node.
    pub array: Option<Array>,
    /// The node's attributes (`.zattrs`), empty when there are none.
    pub attributes: Map<String, Value>,
}

/// One node of the hierarchy.
#[derive(Debug)]
pub struct Node {
    /// Where it is.
    pub path: NodePath,
    /// What it is; `None` when even that could not be told.
    pub kind: Option<NodeKind>,
    /// What it holds, or why it could not be opened.
    pub state: Result<Opened, NodeProblem>,
}

/// A view of a store's hierarchy, with the consolidated metadata found at its root or at the target.
pub struct Hierarchy {
    store: Arc<dyn Store>,
    location: String,
    consolidated: Option<Group>,
    /// A `.zmetadata` that could not be used, and where it is.
    consolidated_problem: Option<(NodePath, NodeProblem)>,
}

impl Hierarchy {
    /// Opens the hierarchy of `store` (given on the command line as `location`) for reading nodes at
    /// or below `target`. Fails only when the store itself cannot be read.
    pub fn open(store: Arc<dyn Store>, location: &str, target: &NodePath) -> CliResult<Hierarchy> {
        let mut hierarchy = Hierarchy {
            store,
            location: location.to_string(),
            consolidated: None,
            consolidated_problem: None,
        };
        let mut bases = vec![NodePath::root()];
        if !target.is_root() {
            bases.push(target.clone());
        }
        for base in bases {
            let key = base.key(".zmetadata").context("the .zmetadata key")?;
            let present = hierarchy
                .store
                .size(&key)
                .with_context(|| format!("reading {key}"))?;
            if present.is_none() {
                continue;
            }
            match Group::open_consolidated(hierarchy.store.clone(), base.as_str()) {
                Ok(group) => {
                    hierarchy.consolidated = Some(group);
                    break;
                }
                Err(err) => {
                    let problem = NodeProblem::from_error(&err, key.as_str());
                    hierarchy.consolidated_problem = Some((base, problem));
                }
            }
        }
        Ok(hierarchy)
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// True when consolidated metadata (`.zmetadata`) was found and read.
    pub fn is_consolidated(&self) -> bool {
        self.consolidated.is_some()
    }

    /// The node at `target` and every node below it (depth first, sorted by path), each opened on its
    /// own. Fails only when nothing is at `target`, naming the nearest paths that do exist.
    pub fn nodes(&self, target: &NodePath) -> CliResult<Vec<Node>> {
        let mut found: BTreeMap<NodePath, (Option<NodeKind>, Option<NodeProblem>)> =
            BTreeMap::new();
        match self.kind(target)? {
            None => return Err(self.not_found(target)),
            Some(NodeKind::Array) => {
                found.insert(target.clone(), (Some(NodeKind::Array), None));
            }
            Some(NodeKind::Group) => {
                found.insert(target.clone(), (Some(NodeKind::Group), None));
                self.discover(target, &mut found);
            }
        }
        if let Some((path, problem)) = &self.consolidated_problem
            && let Some(entry) = found.get_mut(path)
        {
            entry.1.get_or_insert_with(|| problem.clone());
        }
        Ok(self.open_all(found))
    }

    /// What is at `path`: its own documents first, then the consolidated metadata.
    fn kind(&self, path: &NodePath) -> CliResult<Option<NodeKind>> {
        let own =
            node_kind(self.store.as_ref(), path).with_context(|| format!("reading {path}"))?;
        if own.is_some() {
            return Ok(own);
        }
        Ok(self.consolidated_kind(path))
    }

    fn consolidated_kind(&self, path: &NodePath) -> Option<NodeKind> {
        let group = self.consolidated.as_ref()?;
        let base = group.path().as_str();
        let rel = if base.is_empty() {
            path.as_str()
        } else if path.as_str() == base {
            ""
        } else {
            path.as_str().strip_prefix(base)?.strip_prefix('/')?
        };
        if rel.is_empty() {
            return Some(NodeKind::Group);
        }
        group.kind_of(rel).ok().flatten()
    }

    /// Every node below the group `top`: by listing the store (a listing that fails is a problem of
    /// the group it concerns), plus the nodes consolidated metadata names.
    fn discover(
        &self,
        top: &NodePath,
        found: &mut BTreeMap<NodePath, (Option<NodeKind>, Option<NodeProblem>)>,
    ) {
        let mut pending = vec![top.clone()];
        while let Some(group) = pending.pop() {
            let prefix = group.prefix();
            let children = match self.store.list_dir(&prefix) {
                Ok((_, children)) => children,
                // Stores that cannot list are known through their consolidated metadata.
                Err(err) if err.kind() == StoreErrorKind::NotSupported => continue,
                Err(err) => {
                    let problem = NodeProblem::from_store(&err, &format!("listing {prefix}"));
                    if let Some(entry) = found.get_mut(&group) {
                        entry.1.get_or_insert(problem);
                    }
                    continue;
                }
            };
            for child in children {
                let name = child.as_str()[prefix.as_str().len()..].trim_end_matches('/');
                // Names that cannot be nodes (`.zfoo`, invalid keys) are not Zarr nodes.
                let Ok(path) = group.child(name) else {
                    continue;
                };
                match node_kind(self.store.as_ref(), &path) {
                    Ok(None) => {}
                    Ok(Some(kind)) => {
                        if kind == NodeKind::Group {
                            pending.push(path.clone());
                        }
                        found.insert(path, (Some(kind), None));
                    }
                    Err(err) => {
                        let problem = NodeProblem::from_error(&err, &format!("{}", path.prefix()));
                        found.insert(path, (None, Some(problem)));
                    }
                }
            }
        }
        if let Some(group) = &self.consolidated
            && let Ok(listed) = group.walk()
        {
            for (path, kind) in listed {
                let below =
                    top.is_root() || path.as_str().starts_with(&format!("{}/", top.as_str()));
                if below && !found.contains_key(&path) {
                    found.insert(path, (Some(kind), None));
                }
            }
        }
    }

    /// Opens every node from its own documents, reading them in one batch.
    fn open_all(
        &self,
        found: BTreeMap<NodePath, (Option<NodeKind>, Option<NodeProblem>)>,
    ) -> Vec<Node> {
        let mut keys: Vec<StoreKey> = Vec::new();
        let mut plans = Vec::new();
        for (path, (kind, problem)) in found {
            let doc = match kind {
                Some(NodeKind::Array) => ".zarray",
                _ => ".zgroup",
            };
            // A v3 node's zarr.json holds its metadata and attributes; a v2 node has two documents.
            let slots = match (
                problem.is_none() && kind.is_some(),
                path.key("zarr.json"),
                path.key(doc),
                path.key(".zattrs"),
            ) {
                (true, Ok(v3_key), Ok(doc_key), Ok(attrs_key)) => {
                    keys.push(v3_key);
                    keys.push(doc_key);
                    keys.push(attrs_key);
                    Some(keys.len() - 3)
                }
                _ => None,
            };
            plans.push((path, kind, problem, slots));
        }
        let values: Vec<Mutex<Option<Fetched>>> = keys.iter().map(|_| Mutex::new(None)).collect();
        self.store.get_many(&keys, &|i, result| {
            *values[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(result);
        });
        let take = |i: usize| {
            values[i]
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take()
                .unwrap_or(Ok(None))
        };
        let mut nodes = Vec::with_capacity(plans.len());
        for (path, kind, problem, slots) in plans {
            let state = match (problem, slots, kind) {
                (Some(problem), _, _) => Err(problem),
                (None, Some(i), Some(kind)) => match take(i) {
                    Ok(None) => {
                        let doc = take(i + 1);
                        let attrs = take(i + 2);
                        self.open_node(&path, kind, doc, attrs, &keys[i + 1], &keys[i + 2])
                    }
                    v3 => self.open_node_v3(&path, kind, v3, &keys[i]),
                },
                _ => Err(NodeProblem::invalid(format!(
                    "{path}: not a valid node path"
                ))),
            };
            nodes.push(Node { path, kind, state });
        }
        nodes
    }

    fn open_node(
        &self,
        path: &NodePath,
        kind: NodeKind,
        doc: Fetched,
        attrs: Fetched,
        doc_key: &StoreKey,
        attrs_key: &StoreKey,
    ) -> Result<Opened, NodeProblem> {
        let doc = doc.map_err(|e| NodeProblem::from_store(&e, doc_key.as_str()))?;
        let Some(doc) = doc else {
            return Err(NodeProblem::invalid(format!(
                "{doc_key} is missing, but {}/.zmetadata lists it (the consolidated metadata is stale)",
                self.consolidated.as_ref().map_or("", |g| g.path().as_str())
            )));
        };
        let array = match kind {
            NodeKind::Array => Some(
                ArrayMetadata::parse(&doc)
                    .and_then(|meta| Array::from_metadata(self.store.clone(), path.clone(), meta))
                    .map_err(|e| NodeProblem::from_error(&e, doc_key.as_str()))?,
            ),
            NodeKind::Group => {
                parse_group(&doc).map_err(|e| NodeProblem::from_error(&e, doc_key.as_str()))?;
                None
            }
        };
        let attributes = match attrs.map_err(|e| NodeProblem::from_store(&e, attrs_key.as_str()))? {
            None => Map::new(),
            Some(bytes) => tessera_array::metadata::parse_attributes(&bytes)
                .map_err(|e| NodeProblem::from_error(&e, attrs_key.as_str()))?,
        };
        Ok(Opened { array, attributes })
    }

    /// Opens a Zarr v3 node from its `zarr.json` (metadata and attributes in one document).
    fn open_node_v3(
        &self,
        path: &NodePath,
        kind: NodeKind,
        doc: Fetched,
        key: &StoreKey,
    ) -> Result<Opened, NodeProblem> {
        let invalid = |e: &ArrayError| NodeProblem::from_error(e, key.as_str());
        let doc = doc
            .map_err(|e| NodeProblem::from_store(&e, key.as_str()))?
            .ok_or_else(|| NodeProblem::invalid(format!("{key} vanished while listing")))?;
        let json: Value = serde_json::from_slice(&doc).map_err(|e| {
            invalid(&ArrayError::Metadata {
                field: "zarr.json".into(),
                message: format!("not valid JSON: {e}"),
            })
        })?;
        let attributes = match json.get("attributes") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(map)) => map.clone(),
            Some(other) => {
                return Err(invalid(&ArrayError::Metadata {
                    field: "attributes".into(),
                    message: format!("expected a JSON object, found {other}"),
                }));
            }
        };
        let array = match kind {
            NodeKind::Array => Some(
                ArrayMetadata::parse_v3(&doc)
                    .and_then(|meta| Array::from_metadata(self.store.clone(), path.clone(), meta))
                    .map_err(|e| invalid(&e))?,
            ),
            NodeKind::Group => {
                if json.get("node_type").and_then(Value::as_str) != Some("group") {
                    return Err(invalid(&ArrayError::Metadata {
                        field: "node_type".into(),
                        message: "expected \"group\"".into(),
                    }));
                }
                None
            }
        };
        Ok(Opened { array, attributes })
    }

    /// The error for a `target` where nothing is: the store is not a Zarr store at all, or the
    /// nearest node paths that do exist.
    pub fn not_found(&self, target: &NodePath) -> CliError {
        let root_missing = matches!(self.kind(&NodePath::root()), Ok(None));
        if root_missing && !self.has_any_node() {
            return CliError::new(format!(
                "{} is not a Zarr store: found none of zarr.json, .zgroup, .zarray or .zmetadata at its root \
                 (nor any array or group below it)",
                self.location
            ));
        }
        let mut all: BTreeMap<NodePath, (Option<NodeKind>, Option<NodeProblem>)> = BTreeMap::new();
        self.discover(&NodePath::root(), &mut all);
        let nearest = nearest_paths(all.keys(), target.as_str(), 3);
        let hint = if nearest.is_empty() {
            String::new()
        } else {
            format!("; nearest: {}", nearest.join(", "))
        };
        CliError::new(format!("no array or group at {target}{hint}"))
    }

    /// True when some array or group lies anywhere in the store (a store whose root has no
    /// `.zgroup`, as some writers leave, still holds nodes).
    fn has_any_node(&self) -> bool {
        let mut all = BTreeMap::new();
        self.discover(&NodePath::root(), &mut all);
        !all.is_empty()
    }
}

/// Opens the array at `target` for reading: from its own `.zarray`, with a clear message when a group
/// or nothing is there.
pub fn open_array(store: Arc<dyn Store>, location: &str, target: &NodePath) -> CliResult<Array> {
    match node_kind(store.as_ref(), target).with_context(|| format!("reading {target}"))? {
        Some(NodeKind::Array) => Array::open(store.clone(), target.as_str()).map_err(|e| {
            let v3 = target.key("zarr.json").ok();
            let doc = if v3.is_some_and(|k| store.get(&k).ok().flatten().is_some()) {
                "zarr.json"
            } else {
                ".zarray"
            };
            let key = target.key(doc).map(|k| k.to_string()).unwrap_or_default();
            let problem = NodeProblem::from_error(&e, &key);
            CliError::new(format!("cannot open the array at {target}: {problem}"))
        }),
        Some(NodeKind::Group) => Err(CliError::usage(format!(
            "{target} is a group; name an array inside it with --array"
        ))),
        None => Err(Hierarchy::open(store, location, target)?.not_found(target)),
    }
}

/// Up to `count` of `paths` nearest to `wanted` (edit distance over the whole path, or over the last
/// name when that is closer), as `/a/b`, closest first.
fn nearest_paths<'a>(
    paths: impl Iterator<Item = &'a NodePath>,
    wanted: &str,
    count: usize,
) -> Vec<String> {
    let wanted_name = wanted.rsplit('/').next().unwrap_or(wanted);
    let mut scored: Vec<(usize, String)> = paths
        .filter(|p| !p.is_root())
        .map(|p| {
            let whole = strsim::levenshtein(p.as_str(), wanted);
            let name = strsim::levenshtein(p.name(), wanted_name);
            (whole.min(name), p.to_string())
        })
        .collect();
    scored.sort();
    let limit = wanted.chars().count().max(4) / 2 + 1;
    scored
        .into_iter()
        .filter(|(d, _)| *d <= limit)
        .take(count)
        .map(|(_, p)| p)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_names_rank_by_edit_distance() {
        let paths: Vec<NodePath> = ["temperature", "climate/temp", "pressure", "a/b/c"]
            .iter()
            .map(|p| NodePath::new(p).unwrap())
            .collect();
        assert_eq!(
            nearest_paths(paths.iter(), "tempratur", 3),
            vec!["/temperature".to_string(), "/climate/temp".to_string()]
        );
        assert!(nearest_paths(paths.iter(), "zzzzzzzzzzzzz", 3).is_empty());
    }
}

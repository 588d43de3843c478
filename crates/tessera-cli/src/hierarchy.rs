//! Finding nodes in a store: the root group (through consolidated metadata when there is some), the
//! node an `--array` flag names, and every node below it.

use std::sync::Arc;

use serde_json::{Map, Value};
use tessera_array::{Array, ArrayError, Group, NodeKind, NodePath, node_kind};
use tessera_store::Store;

use crate::error::{CliError, CliResult, Context};

/// A view of a store's hierarchy: metadata lookups go through the nearest group with consolidated
/// metadata when there is one (one read instead of one per node, which matters on remote stores).
pub struct Hierarchy {
    store: Arc<dyn Store>,
    base: Option<Group>,
}

impl Hierarchy {
    /// Opens the hierarchy of `store` for reading nodes at or below `target`.
    pub fn open(store: Arc<dyn Store>, target: &NodePath) -> CliResult<Hierarchy> {
        // The root group carries the .zmetadata zarr-python writes; a store whose root is an array, or
        // has no root group, is read through the target group itself, or node by node.
        let root_kind =
            node_kind(store.as_ref(), &NodePath::root()).context("reading the store root")?;
        let base = if root_kind == Some(NodeKind::Group) {
            Some(Group::open_consolidated(store.clone(), "").context("reading the root group")?)
        } else if !target.is_root()
            && node_kind(store.as_ref(), target).context("reading the store")?
                == Some(NodeKind::Group)
        {
            Some(
                Group::open_consolidated(store.clone(), target.as_str())
                    .with_context(|| format!("reading group {target}"))?,
            )
        } else {
            None
        };
        Ok(Hierarchy { store, base })
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// True when the metadata comes from `.zmetadata`.
    pub fn is_consolidated(&self) -> bool {
        self.base.as_ref().is_some_and(Group::is_consolidated)
    }

    fn relative<'a>(&self, path: &'a NodePath) -> Option<(&Group, &'a str)> {
        let base = self.base.as_ref()?;
        let b = base.path().as_str();
        let p = path.as_str();
        if b.is_empty() {
            return Some((base, p));
        }
        if p == b {
            return Some((base, ""));
        }
        p.strip_prefix(b)
            .and_then(|r| r.strip_prefix('/'))
            .map(|r| (base, r))
    }

    /// What is at `path`.
    pub fn kind(&self, path: &NodePath) -> CliResult<Option<NodeKind>> {
        let found = match self.relative(path) {
            Some((_, "")) => Ok(Some(NodeKind::Group)),
            Some((base, rel)) => base.kind_of(rel),
            None => node_kind(self.store.as_ref(), path),
        };
        found.with_context(|| format!("reading {path}"))
    }

    /// Opens the array at `path`.
    pub fn array(&self, path: &NodePath) -> CliResult<Array> {
        let opened = match self.relative(path) {
            Some((base, rel)) if !rel.is_empty() => base.open_array(rel),
            _ => Array::open(self.store.clone(), path.as_str()),
        };
        opened.map_err(|e| not_found_or(e, path, "array"))
    }

    /// Opens the group at `path`.
    pub fn group(&self, path: &NodePath) -> CliResult<Group> {
        let opened = match self.relative(path) {
            Some((base, "")) => Ok(base.clone()),
            Some((base, rel)) => base.open_group(rel),
            None => Group::open(self.store.clone(), path.as_str()),
        };
        opened.map_err(|e| not_found_or(e, path, "group"))
    }

    /// The attributes of the node at `path`.
    pub fn attributes(&self, path: &NodePath) -> CliResult<Map<String, Value>> {
        let attrs = match self.relative(path) {
            Some((base, "")) => base.attributes(),
            Some((base, rel)) => base.node_attributes(rel),
            None => match node_kind(self.store.as_ref(), path).context("reading the store")? {
                Some(NodeKind::Array) => {
                    Array::open(self.store.clone(), path.as_str()).and_then(|a| a.attributes())
                }
                _ => Group::open(self.store.clone(), path.as_str()).and_then(|g| g.attributes()),
            },
        };
        attrs.with_context(|| format!("reading the attributes of {path}"))
    }

    /// The node at `path` and every node below it (depth first, sorted), with their kinds.
    pub fn nodes(&self, path: &NodePath) -> CliResult<Vec<(NodePath, NodeKind)>> {
        match self.kind(path)? {
            None => Err(CliError::new(format!(
                "no array or group at {path} (neither zarr.json nor .zarray/.zgroup found)"
            ))),
            Some(NodeKind::Array) => Ok(vec![(path.clone(), NodeKind::Array)]),
            Some(NodeKind::Group) => {
                let group = self.group(path)?;
                let mut out = vec![(path.clone(), NodeKind::Group)];
                out.extend(
                    group
                        .walk()
                        .with_context(|| format!("listing the hierarchy below {path}"))?,
                );
                Ok(out)
            }
        }
    }
}

fn not_found_or(err: ArrayError, path: &NodePath, what: &str) -> CliError {
    match err {
        ArrayError::NotFound { .. } => CliError::new(format!("no {what} at {path}")),
        other => CliError::new(format!("cannot open the {what} at {path}")).with_source(other),
    }
}

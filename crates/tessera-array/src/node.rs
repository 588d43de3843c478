//! Node paths: where an array or group lives inside a store.

use std::fmt;

use tessera_store::{StoreKey, StorePrefix};

use crate::error::{ArrayError, ArrayResult};

/// The path of an array or group inside a store: `""` for the root, else `/`-separated names.
///
/// Paths follow the store's key rules (no empty, `.` or `..` segment, no backslash or NUL), so a node can
/// never name a location outside its store. Leading and trailing slashes are ignored.
///
/// ```
/// use tessera_array::NodePath;
/// assert_eq!(NodePath::new("/a/b/").unwrap().as_str(), "a/b");
/// assert!(NodePath::new("a/../b").is_err());
/// assert!(NodePath::new("").unwrap().is_root());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct NodePath(String);

impl NodePath {
    /// Validates a path.
    ///
    /// # Errors
    /// [`ArrayError::InvalidPath`] saying why the path was refused.
    pub fn new(path: &str) -> ArrayResult<NodePath> {
        let trimmed = path.trim_matches('/');
        if trimmed.is_empty() {
            return Ok(NodePath::root());
        }
        StoreKey::new(trimmed).map_err(|e| ArrayError::InvalidPath {
            path: path.to_string(),
            message: e.to_string(),
        })?;
        if trimmed.split('/').any(|seg| seg.starts_with(".z")) {
            return Err(ArrayError::InvalidPath {
                path: path.to_string(),
                message: "names starting with \".z\" are reserved for metadata".into(),
            });
        }
        Ok(NodePath(trimmed.to_string()))
    }

    /// The root of the store.
    pub fn root() -> NodePath {
        NodePath(String::new())
    }

    /// True for the root.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The path as text (`""` for the root).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last name, `""` for the root.
    pub fn name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or("")
    }

    /// The parent path; the root's parent is the root.
    pub fn parent(&self) -> NodePath {
        match self.0.rfind('/') {
            Some(i) => NodePath(self.0[..i].to_string()),
            None => NodePath::root(),
        }
    }

    /// A child path.
    ///
    /// # Errors
    /// [`ArrayError::InvalidPath`] when `name` is not a valid relative path.
    pub fn child(&self, name: &str) -> ArrayResult<NodePath> {
        if self.is_root() {
            NodePath::new(name)
        } else {
            NodePath::new(&format!("{}/{}", self.0, name.trim_matches('/')))
        }
    }

    /// The store prefix under which this node's keys live.
    pub fn prefix(&self) -> StorePrefix {
        if self.is_root() {
            StorePrefix::root()
        } else {
            StorePrefix::new(format!("{}/", self.0))
                .expect("a validated node path is a valid prefix")
        }
    }

    /// The key of `name` (a metadata document or a chunk key) under this node.
    ///
    /// # Errors
    /// [`ArrayError::InvalidPath`] when `name` does not form a valid key.
    pub fn key(&self, name: &str) -> ArrayResult<StoreKey> {
        let full = if self.is_root() {
            name.to_string()
        } else {
            format!("{}/{}", self.0, name)
        };
        StoreKey::new(full.clone()).map_err(|e| ArrayError::InvalidPath {
            path: full,
            message: e.to_string(),
        })
    }

    /// Every ancestor from the root down to (excluding) this node.
    pub fn ancestors(&self) -> Vec<NodePath> {
        let mut out = vec![NodePath::root()];
        if self.is_root() {
            return Vec::new();
        }
        let parts: Vec<&str> = self.0.split('/').collect();
        for i in 1..parts.len() {
            out.push(NodePath(parts[..i].join("/")));
        }
        out
    }
}

impl fmt::Display for NodePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "/{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_checked() {
        for bad in ["a/../b", "a//b", "./a", "a\\b", "a/.zarray", "x\0"] {
            assert!(NodePath::new(bad).is_err(), "{bad}");
        }
        let p = NodePath::new("a/b/c").unwrap();
        assert_eq!(p.name(), "c");
        assert_eq!(p.parent().as_str(), "a/b");
        assert_eq!(p.key(".zarray").unwrap().as_str(), "a/b/c/.zarray");
        assert_eq!(
            p.ancestors().iter().map(|a| a.as_str()).collect::<Vec<_>>(),
            vec!["", "a", "a/b"]
        );
        assert_eq!(NodePath::root().key("0.0").unwrap().as_str(), "0.0");
    }
}

//! Checked store keys and prefixes.

use std::fmt;

use crate::error::{StoreError, StoreResult};

/// The name of one value in a store: a checked, relative, `/`-separated path.
///
/// A key is accepted only when
/// - it is not empty;
/// - it is relative: it does not start with `/`;
/// - no segment is empty (no leading, trailing or doubled `/`);
/// - no segment is `.` or `..`;
/// - it contains no backslash `\`, no NUL byte and no other ASCII control character (tab,
///   newline, ...: object stores cannot name them).
///
/// These rules make it impossible for a key to name anything above the store's root on any
/// backend (the filesystem store additionally refuses keys that reach outside the root through a
/// symlink, see [`FilesystemStore`](crate::FilesystemStore)). Both Zarr v2 chunk key layouts are
/// plain keys: `0.0.1` (flat, `.`-separated) and `0/0/1` (nested).
///
/// Accepted keys:
/// ```
/// use tessera_store::StoreKey;
/// for ok in [".zarray", "0.0.1", "0/0/1", "group/array/.zattrs", "a..b", ".hidden/x"] {
///     assert_eq!(StoreKey::new(ok).unwrap().as_str(), ok);
/// }
/// ```
///
/// Refused keys, each with [`StoreErrorKind::InvalidKey`](crate::StoreErrorKind::InvalidKey):
/// ```
/// use tessera_store::{StoreErrorKind, StoreKey};
/// for bad in ["", "/abs", "a//b", "a/", "./a", "a/../b", "..", "a\\b", "a\0b", "a\nb"] {
///     let err = StoreKey::new(bad).unwrap_err();
///     assert_eq!(err.kind(), StoreErrorKind::InvalidKey, "{bad:?}");
/// }
/// // The error says why:
/// let err = StoreKey::new("a/../b").unwrap_err();
/// assert!(err.to_string().contains("'..'"), "{err}");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StoreKey(String);

/// Why `key` is not a valid [`StoreKey`], or `None` when it is.
fn key_problem(key: &str) -> Option<&'static str> {
    if key.is_empty() {
        return Some("a key must not be empty");
    }
    if key.starts_with('/') {
        return Some("a key must be relative: it must not start with '/'");
    }
    if key.contains('\\') {
        return Some("a key must not contain a backslash");
    }
    if key.contains('\0') {
        return Some("a key must not contain a NUL byte");
    }
    if key.chars().any(|c| c.is_ascii_control()) {
        // Object stores cannot name them; refusing them everywhere keeps backends alike.
        return Some("a key must not contain an ASCII control character");
    }
    for segment in key.split('/') {
        match segment {
            "" => return Some("a key must not contain an empty segment ('//' or a trailing '/')"),
            "." => return Some("a key must not contain a '.' segment"),
            ".." => return Some("a key must not contain a '..' segment"),
            _ => {}
        }
    }
    None
}

impl StoreKey {
    /// Checks `key` against the rules above.
    ///
    /// # Errors
    /// [`StoreErrorKind::InvalidKey`](crate::StoreErrorKind::InvalidKey), with a message naming
    /// the rule that `key` breaks.
    pub fn new(key: impl Into<String>) -> StoreResult<StoreKey> {
        let key = key.into();
        match key_problem(&key) {
            None => Ok(StoreKey(key)),
            Some(why) => Err(StoreError::invalid_key(key, why)),
        }
    }

    /// The key as text, exactly as it was given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key `self/child`; `child` may itself contain `/` (`"a/b"` joined with `"c/d"` is
    /// `"a/b/c/d"`).
    ///
    /// ```
    /// # use tessera_store::StoreKey;
    /// let k = StoreKey::new("a/b").unwrap().join("c/d").unwrap();
    /// assert_eq!(k.as_str(), "a/b/c/d");
    /// assert!(StoreKey::new("a").unwrap().join("../x").is_err());
    /// ```
    ///
    /// # Errors
    /// [`StoreErrorKind::InvalidKey`](crate::StoreErrorKind::InvalidKey) when the result is not a
    /// valid key (for instance when `child` is empty, absolute or contains `..`).
    pub fn join(&self, child: &str) -> StoreResult<StoreKey> {
        StoreKey::new(format!("{}/{}", self.0, child))
    }

    /// The last segment: `"c"` for `"a/b/c"`.
    pub fn name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }

    /// The prefix holding this key: `"a/b/"` for `"a/b/c"`, the root for `"c"`.
    pub fn parent(&self) -> StorePrefix {
        match self.0.rfind('/') {
            Some(i) => StorePrefix(self.0[..=i].to_owned()),
            None => StorePrefix::root(),
        }
    }

    /// Consumes the key, returning its text.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreKey({:?})", self.0)
    }
}

// Eq, Ord and Hash of a key are those of its text, so maps keyed by `StoreKey` can be searched
// with `&str`.
impl std::borrow::Borrow<str> for StoreKey {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for StoreKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl TryFrom<&str> for StoreKey {
    type Error = StoreError;
    fn try_from(value: &str) -> StoreResult<Self> {
        StoreKey::new(value)
    }
}

impl TryFrom<String> for StoreKey {
    type Error = StoreError;
    fn try_from(value: String) -> StoreResult<Self> {
        StoreKey::new(value)
    }
}

impl From<StoreKey> for String {
    fn from(key: StoreKey) -> String {
        key.0
    }
}

/// A directory-like prefix of keys: the root `""`, or a valid [`StoreKey`] followed by `/`.
///
/// ```
/// use tessera_store::StorePrefix;
/// assert_eq!(StorePrefix::root().as_str(), "");
/// assert_eq!(StorePrefix::new("group/array/").unwrap().as_str(), "group/array/");
/// // The trailing '/' may be left out:
/// assert_eq!(StorePrefix::new("group/array").unwrap().as_str(), "group/array/");
/// assert_eq!(StorePrefix::new("").unwrap(), StorePrefix::root());
/// for bad in ["/", "/abs/", "a//", "../", "a\\b/"] {
///     assert!(StorePrefix::new(bad).is_err(), "{bad:?}");
/// }
/// let key = StorePrefix::new("group/").unwrap().key("array/.zarray").unwrap();
/// assert_eq!(key.as_str(), "group/array/.zarray");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct StorePrefix(String);

impl StorePrefix {
    /// The root prefix `""`, under which every key lies.
    pub fn root() -> Self {
        StorePrefix(String::new())
    }

    /// Checks a prefix: `""`, or a valid key with an optional trailing `/` (added when missing).
    ///
    /// # Errors
    /// [`StoreErrorKind::InvalidKey`](crate::StoreErrorKind::InvalidKey) when the part before
    /// the trailing `/` is not a valid key.
    pub fn new(prefix: impl Into<String>) -> StoreResult<Self> {
        let mut prefix = prefix.into();
        if prefix.is_empty() {
            return Ok(StorePrefix::root());
        }
        let body = prefix.strip_suffix('/').unwrap_or(&prefix);
        if let Some(why) = key_problem(body) {
            return Err(StoreError::invalid_key(prefix, why));
        }
        if !prefix.ends_with('/') {
            prefix.push('/');
        }
        Ok(StorePrefix(prefix))
    }

    /// The prefix of keys under `key`: `"a/b/"` for the key `"a/b"`.
    pub fn from_key(key: &StoreKey) -> Self {
        StorePrefix(format!("{}/", key.as_str()))
    }

    /// The prefix as text: `""` or ending with `/`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is the root prefix `""`.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The key `name` under this prefix; `name` may contain `/`.
    ///
    /// # Errors
    /// [`StoreErrorKind::InvalidKey`](crate::StoreErrorKind::InvalidKey) when the result is not a
    /// valid key.
    pub fn key(&self, name: &str) -> StoreResult<StoreKey> {
        StoreKey::new(format!("{}{}", self.0, name))
    }

    /// The prefix `name/` under this prefix.
    ///
    /// # Errors
    /// [`StoreErrorKind::InvalidKey`](crate::StoreErrorKind::InvalidKey) when `name` is not a
    /// valid key.
    pub fn child(&self, name: &str) -> StoreResult<StorePrefix> {
        Ok(StorePrefix::from_key(&self.key(name)?))
    }

    /// Whether `key` lies under this prefix (at any depth).
    pub fn contains(&self, key: &StoreKey) -> bool {
        key.as_str().starts_with(&self.0)
    }

    /// The prefix as a key without its trailing `/`, or `None` for the root.
    pub fn as_key(&self) -> Option<StoreKey> {
        self.0
            .strip_suffix('/')
            .map(|body| StoreKey(body.to_owned()))
    }
}

impl fmt::Display for StorePrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for StorePrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StorePrefix({:?})", self.0)
    }
}

impl AsRef<str> for StorePrefix {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl TryFrom<&str> for StorePrefix {
    type Error = StoreError;
    fn try_from(value: &str) -> StoreResult<Self> {
        StorePrefix::new(value)
    }
}

impl TryFrom<String> for StorePrefix {
    type Error = StoreError;
    fn try_from(value: String) -> StoreResult<Self> {
        StorePrefix::new(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StoreErrorKind;

    #[test]
    fn names_and_parents() {
        let k = StoreKey::new("a/b/c").unwrap();
        assert_eq!(k.name(), "c");
        assert_eq!(k.parent().as_str(), "a/b/");
        assert_eq!(StoreKey::new("c").unwrap().parent(), StorePrefix::root());
        assert_eq!(
            StorePrefix::new("a/b/").unwrap().as_key().unwrap().as_str(),
            "a/b"
        );
        assert!(StorePrefix::root().as_key().is_none());
        assert!(StorePrefix::new("a/").unwrap().contains(&k));
        assert!(
            !StorePrefix::new("ab/")
                .unwrap()
                .contains(&StoreKey::new("a/x").unwrap())
        );
    }

    #[test]
    fn refused_keys_name_their_rule() {
        let cases = [
            ("", "empty"),
            ("/etc/passwd", "relative"),
            ("a\\..\\b", "backslash"),
            ("a\0", "NUL"),
            ("a//b", "empty segment"),
            ("a/./b", "'.'"),
            ("../x", "'..'"),
        ];
        for (key, why) in cases {
            let err = StoreKey::new(key).unwrap_err();
            assert_eq!(err.kind(), StoreErrorKind::InvalidKey);
            assert_eq!(err.key(), Some(key));
            assert!(err.to_string().contains(why), "{key:?}: {err}");
        }
    }

    #[test]
    fn conversions() {
        let k: StoreKey = "x/y".try_into().unwrap();
        assert_eq!(format!("{k}"), "x/y");
        assert_eq!(format!("{k:?}"), "StoreKey(\"x/y\")");
        assert!(StoreKey::try_from(String::from("..")).is_err());
        let s: String = k.into();
        assert_eq!(s, "x/y");
    }
}

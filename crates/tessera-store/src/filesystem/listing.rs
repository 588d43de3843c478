//! Listing a filesystem store: walking directories, skipping temporary files and links that
//! lead outside the root.

use std::fs;
use std::path::{Path, PathBuf};

use super::special::is_internal_name;
use super::{FilesystemStore, is_missing};
use crate::error::{StoreError, StoreResult};
use crate::key::{StoreKey, StorePrefix};
use crate::traits::ListableStore;

enum Listed {
    Key(StoreKey, fs::Metadata),
    Dir(StorePrefix),
}

impl FilesystemStore {
    /// Walks `dir` (the directory of `prefix`), calling `found` for every key file below it.
    fn walk(
        &self,
        dir: &Path,
        prefix: &str,
        found: &mut dyn FnMut(StoreKey, &fs::Metadata),
    ) -> StoreResult<()> {
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if is_missing(&e) => return Ok(()),
            Err(e) => return Err(StoreError::io(e, prefix, "listing a directory")),
        };
        for entry in entries {
            let entry = entry.map_err(|e| StoreError::io(e, prefix, "listing a directory"))?;
            let Some(child) = self.listed_entry(&entry, prefix)? else {
                continue;
            };
            match child {
                Listed::Key(key, meta) => found(key, &meta),
                Listed::Dir(sub) => self.walk(&entry.path(), sub.as_str(), found)?,
            }
        }
        Ok(())
    }

    /// What a directory entry holds for listings, or `None` for entries listings skip.
    fn listed_entry(&self, entry: &fs::DirEntry, prefix: &str) -> StoreResult<Option<Listed>> {
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            return Ok(None); // Not UTF-8: cannot be a key.
        };
        if is_internal_name(&name) {
            return Ok(None);
        }
        let Ok(key) = StoreKey::new(format!("{prefix}{name}")) else {
            return Ok(None);
        };
        let file_type = entry
            .file_type()
            .map_err(|e| StoreError::io(e, key.as_str(), "inspecting a directory entry"))?;
        if file_type.is_dir() {
            return Ok(Some(Listed::Dir(StorePrefix::from_key(&key))));
        }
        let path = entry.path();
        if file_type.is_symlink() {
            match fs::canonicalize(&path) {
                Ok(real) if real.starts_with(&self.root) => {}
                _ => return Ok(None),
            }
        }
        let meta = match fs::metadata(&path) {
            Ok(meta) if meta.is_file() => meta,
            Ok(_) => return Ok(None),
            Err(e) if is_missing(&e) => return Ok(None),
            Err(e) => {
                return Err(StoreError::io(
                    e,
                    key.as_str(),
                    "inspecting a directory entry",
                ));
            }
        };
        Ok(Some(Listed::Key(key, meta)))
    }

    /// Whether the directory `dir` holds at least one key at any depth.
    fn holds_keys(&self, dir: &Path, prefix: &str) -> StoreResult<bool> {
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if is_missing(&e) => return Ok(false),
            Err(e) => return Err(StoreError::io(e, prefix, "listing a directory")),
        };
        for entry in entries {
            let entry = entry.map_err(|e| StoreError::io(e, prefix, "listing a directory"))?;
            match self.listed_entry(&entry, prefix)? {
                Some(Listed::Key(..)) => return Ok(true),
                Some(Listed::Dir(sub)) if self.holds_keys(&entry.path(), sub.as_str())? => {
                    return Ok(true);
                }
                _ => {}
            }
        }
        Ok(false)
    }

    /// The directory of `prefix` (without a trailing `/`, so a symlink is itself, not its
    /// target), or `None` when there is no directory there. Refuses prefixes leading outside the
    /// root; a symlinked directory inside the root is a prefix like any other.
    pub(super) fn prefix_dir(&self, prefix: &StorePrefix) -> StoreResult<Option<PathBuf>> {
        let Some(as_key) = prefix.as_key() else {
            return Ok(Some(self.root.clone()));
        };
        let dir = self.path_of(&as_key);
        match fs::metadata(&dir) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => return Ok(None),
            Err(e) if is_missing(&e) => return Ok(None),
            Err(e) => return Err(StoreError::io(e, prefix.as_str(), "inspecting a directory")),
        }
        if self.check_inside(&dir, prefix.as_str())? {
            Ok(Some(dir))
        } else {
            Ok(None)
        }
    }
}

impl ListableStore for FilesystemStore {
    fn list_prefix(&self, prefix: &StorePrefix) -> StoreResult<Vec<StoreKey>> {
        let mut keys = Vec::new();
        if let Some(dir) = self.prefix_dir(prefix)? {
            self.walk(&dir, prefix.as_str(), &mut |key, _| keys.push(key))?;
        }
        keys.sort_unstable();
        Ok(keys)
    }

    fn list_dir(&self, prefix: &StorePrefix) -> StoreResult<(Vec<StoreKey>, Vec<StorePrefix>)> {
        let mut keys = Vec::new();
        let mut prefixes = Vec::new();
        let Some(dir) = self.prefix_dir(prefix)? else {
            return Ok((keys, prefixes));
        };
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if is_missing(&e) => return Ok((keys, prefixes)),
            Err(e) => return Err(StoreError::io(e, prefix.as_str(), "listing a directory")),
        };
        for entry in entries {
            let entry =
                entry.map_err(|e| StoreError::io(e, prefix.as_str(), "listing a directory"))?;
            match self.listed_entry(&entry, prefix.as_str())? {
                Some(Listed::Key(key, _)) => keys.push(key),
                // Directories left empty by erased keys are not prefixes of any key.
                Some(Listed::Dir(sub)) if self.holds_keys(&entry.path(), sub.as_str())? => {
                    prefixes.push(sub);
                }
                _ => {}
            }
        }
        keys.sort_unstable();
        prefixes.sort_unstable();
        Ok((keys, prefixes))
    }

    fn list_prefix_sizes(&self, prefix: &StorePrefix) -> StoreResult<Vec<(StoreKey, u64)>> {
        let mut sizes = Vec::new();
        if let Some(dir) = self.prefix_dir(prefix)? {
            self.walk(&dir, prefix.as_str(), &mut |key, meta| {
                sizes.push((key, meta.len()));
            })?;
        }
        sizes.sort_unstable();
        Ok(sizes)
    }
}

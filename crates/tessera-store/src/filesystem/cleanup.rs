//! Removing the temporary files that interrupted writes leave behind.

use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

use super::lock::remove_if_unheld;
use super::special::{LOCK_MARK, TEMP_MARK};
use super::{FilesystemStore, is_missing};
use crate::error::{StoreError, StoreResult};
use crate::key::StorePrefix;

impl FilesystemStore {
    /// Removes the temporary files of writes that never finished (a writer killed between writing its
    /// temporary file and renaming it over the key) under `prefix`, when they were last modified more
    /// than `older_than` ago. Returns how many were removed.
    ///
    /// Listings never show these files and reads never see them; they only take disk space. A write in
    /// progress keeps its temporary file for as long as writing the value takes, so `older_than` should
    /// exceed the longest write of any process using the store (a minute is plenty for chunks; zero is
    /// safe only when no other process writes). Symlinked directories are not followed, and only
    /// regular files whose names carry the temporary mark are touched.
    ///
    /// Key lock files (`.NAME.tessera-lock`) that a writer killed while holding the lock left behind
    /// are removed too when older than `older_than`, but only after taking the lock: one held by a
    /// live writer is never removed. They are counted with the temporary files.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tessera_store::{FilesystemStore, StorePrefix};
    /// let dir = tempfile::tempdir().unwrap();
    /// let store = FilesystemStore::open(dir.path()).unwrap();
    /// std::fs::write(dir.path().join(".0.0.tessera-tmp.4242.7"), b"half a chunk").unwrap();
    /// let removed = store.remove_stale_temp_files(&StorePrefix::root(), Duration::ZERO).unwrap();
    /// assert_eq!(removed, 1);
    /// ```
    ///
    /// # Errors
    /// [`Io`](crate::StoreErrorKind::Io) or
    /// [`PermissionDenied`](crate::StoreErrorKind::PermissionDenied) when a directory cannot be listed or
    /// a file removed (files removed before the error stay removed).
    pub fn remove_stale_temp_files(
        &self,
        prefix: &StorePrefix,
        older_than: Duration,
    ) -> StoreResult<usize> {
        let Some(dir) = self.prefix_dir(prefix)? else {
            return Ok(0);
        };
        let cutoff = SystemTime::now()
            .checked_sub(older_than)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let mut removed = 0;
        remove_below(&dir, prefix.as_str(), cutoff, &mut removed)?;
        Ok(removed)
    }
}

fn remove_below(
    dir: &Path,
    shown: &str,
    cutoff: SystemTime,
    removed: &mut usize,
) -> StoreResult<()> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if is_missing(&e) => return Ok(()),
        Err(e) => return Err(StoreError::io(e, shown, "listing a directory")),
    };
    for entry in entries {
        let entry = entry.map_err(|e| StoreError::io(e, shown, "listing a directory"))?;
        // The entry's own type: a symlink is never followed.
        let Ok(file_type) = entry.file_type() else {
            continue;
        };
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if file_type.is_dir() {
            remove_below(&entry.path(), &format!("{shown}{name}/"), cutoff, removed)?;
            continue;
        }
        let is_temp = name.contains(TEMP_MARK);
        let is_lock = name.ends_with(LOCK_MARK);
        if !(file_type.is_file() && name.starts_with('.') && (is_temp || is_lock)) {
            continue;
        }
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|modified| modified <= cutoff);
        if !stale {
            continue;
        }
        let removed_now = if is_temp {
            fs::remove_file(entry.path()).map(|()| true)
        } else {
            remove_if_unheld(&entry.path())
        };
        match removed_now.map(usize::from) {
            Ok(n) => *removed += n,
            Err(e) if is_missing(&e) => {} // Renamed or removed by someone else meanwhile.
            Err(e) => {
                return Err(StoreError::io(
                    e,
                    format!("{shown}{name}"),
                    "removing a temporary file",
                ));
            }
        }
    }
    Ok(())
}

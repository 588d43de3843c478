//! What may stand where a value should be: regular files only. A FIFO, socket, device or directory
//! is refused at once (a FIFO is opened without blocking), and the store's own temporary and lock
//! files are never keys.

use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use super::is_missing;
use crate::error::{StoreError, StoreErrorKind, StoreResult};
use crate::key::StoreKey;

/// Marks the temporary files of in-progress writes (`.NAME.tessera-tmp.PID.N`).
pub(super) const TEMP_MARK: &str = ".tessera-tmp.";
/// Ends the name of a key's lock file (`.NAME.tessera-lock`), present while the key is updated.
pub(super) const LOCK_MARK: &str = ".tessera-lock";

/// Whether a file name is one of the store's own files (temporary or lock), which listings skip and
/// no key may name.
pub(super) fn is_internal_name(name: &str) -> bool {
    name.starts_with('.') && (name.contains(TEMP_MARK) || name.ends_with(LOCK_MARK))
}

/// Refuses a key whose last segment names one of the store's own files: reading it would return a
/// half-written temporary file or a lock file as data.
pub(super) fn check_not_internal(key: &StoreKey) -> StoreResult<()> {
    if is_internal_name(key.name()) {
        return Err(StoreError::new(
            StoreErrorKind::InvalidKey,
            format!(
                "names of the form `.NAME{TEMP_MARK}...` and `.NAME{LOCK_MARK}` are the filesystem \
                 store's temporary and lock files, not keys"
            ),
        )
        .with_key(key.as_str()));
    }
    Ok(())
}

/// What a file type is, in words, when it is not a regular file.
fn describe(file_type: fs::FileType) -> Option<&'static str> {
    if file_type.is_file() {
        None
    } else if file_type.is_dir() {
        Some("a directory")
    } else if file_type.is_fifo() {
        Some("a FIFO (named pipe)")
    } else if file_type.is_socket() {
        Some("a socket")
    } else if file_type.is_char_device() {
        Some("a character device")
    } else if file_type.is_block_device() {
        Some("a block device")
    } else {
        Some("neither a regular file nor a directory")
    }
}

fn not_a_file(key: &StoreKey, what: &str) -> StoreError {
    StoreError::new(
        StoreErrorKind::NotAFile,
        format!(
            "{what} stands where the value's file should be; a filesystem store holds values only \
             in regular files (remove or rename it)"
        ),
    )
    .with_key(key.as_str())
}

/// Refuses metadata that is not a regular file's.
pub(super) fn check_regular(meta: &fs::Metadata, key: &StoreKey) -> StoreResult<()> {
    match describe(meta.file_type()) {
        None => Ok(()),
        Some(what) => Err(not_a_file(key, what)),
    }
}

/// Opens `path` for reading without ever blocking, or `None` when nothing is there: `O_NONBLOCK`
/// makes opening a FIFO that has no writer return at once (on a regular file it changes nothing). The
/// caller checks the opened file's type with [`check_regular`]. A socket cannot be opened at all
/// (`ENXIO`): that is [`StoreErrorKind::NotAFile`] here.
pub(super) fn open_nonblocking(path: &Path, key: &StoreKey) -> StoreResult<Option<File>> {
    match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
    {
        Ok(file) => Ok(Some(file)),
        Err(e) if is_missing(&e) => Ok(None),
        Err(e) if e.raw_os_error() == Some(libc::ENXIO) => {
            let what = fs::metadata(path)
                .ok()
                .and_then(|m| describe(m.file_type()))
                .unwrap_or("a socket or a device without a driver");
            Err(not_a_file(key, what).with_source(e))
        }
        Err(e) => Err(StoreError::io(e, key.as_str(), "opening the value's file")),
    }
}

//! Per-key advisory locks: what makes a filesystem store's read-modify-write safe across threads and
//! processes.
//!
//! The lock of key `dir/NAME` is an exclusive `flock` on the file `dir/.NAME.tessera-lock`. The file
//! exists only while the lock is held: the holder unlinks it before closing it. A process that opened
//! the old file and was waiting for its lock finds, once it has the lock, that the name no longer
//! points to the file it locked, and starts over; so removing the file never lets two holders in at
//! once. A holder that dies releases the lock with its descriptors (the kernel drops `flock`s) and
//! may leave the empty file behind; the next locker reuses it, and
//! [`remove_stale_temp_files`](super::FilesystemStore::remove_stale_temp_files) removes old ones it
//! can lock. Listings never show lock files and no key may name one.
//!
//! `flock` locks belong to an open file, not to a process, so threads of one process exclude each
//! other as processes do. They are advisory: other programs writing the store (zarr-python, say) do
//! not take them.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::special::LOCK_MARK;
use crate::error::{StoreError, StoreErrorKind, StoreResult};
use crate::key::StoreKey;

/// The longest part of a key's name kept in its lock file's name (within `NAME_MAX` with the marks).
/// Keys sharing these first bytes share a lock: correct, only less parallel.
const NAME_KEPT: usize = 200;

/// A held lock on one key; released (and its file removed) when dropped.
#[derive(Debug)]
pub(super) struct KeyLock {
    // Dropped after `drop` has unlinked `path`: the lock is released only once the name is gone.
    _file: File,
    path: PathBuf,
}

impl Drop for KeyLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// The lock file's name for a key named `name`.
pub(super) fn lock_file_name(name: &str) -> String {
    let mut kept = name.len().min(NAME_KEPT);
    while !name.is_char_boundary(kept) {
        kept -= 1;
    }
    format!(".{}{LOCK_MARK}", &name[..kept])
}

/// How `flock` answered.
enum Locked {
    Yes,
    HeldElsewhere,
}

fn try_flock(file: &File, how: libc::c_int) -> io::Result<Locked> {
    loop {
        // SAFETY: a plain syscall on a descriptor we own; it reads no memory of ours.
        if unsafe { libc::flock(file.as_raw_fd(), how | libc::LOCK_NB) } == 0 {
            return Ok(Locked::Yes);
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EWOULDBLOCK) => return Ok(Locked::HeldElsewhere),
            _ => return Err(err),
        }
    }
}

/// Whether `path` still names the file `file` (the holder before us may have unlinked it).
fn still_named(file: &File, path: &Path) -> io::Result<bool> {
    let held = file.metadata()?;
    match fs::symlink_metadata(path) {
        Ok(named) => Ok(named.dev() == held.dev() && named.ino() == held.ino()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Takes the lock of the key `key` whose value lives in `dir`, waiting at most `timeout` for other
/// holders (polling with a growing pause, so a holder that is stopped cannot hang us).
///
/// # Errors
/// [`Timeout`](StoreErrorKind::Timeout) when another holder kept it longer than `timeout`; the I/O
/// error's kind when the lock file cannot be created (a read-only store, for one).
pub(super) fn lock_key(dir: &Path, key: &StoreKey, timeout: Duration) -> StoreResult<KeyLock> {
    let path = dir.join(lock_file_name(key.name()));
    let io_error = |e: io::Error| StoreError::io(e, key.as_str(), "locking the key");
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_micros(50);
    loop {
        // `O_NOFOLLOW`: a symlink planted under the lock's name must not make us create files
        // elsewhere.
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
            .map_err(io_error)?;
        loop {
            match try_flock(&file, libc::LOCK_EX).map_err(io_error)? {
                Locked::Yes => break,
                Locked::HeldElsewhere if Instant::now() >= deadline => {
                    return Err(StoreError::new(
                        StoreErrorKind::Timeout,
                        format!(
                            "another writer held the key's lock ({}) for longer than {timeout:?}; \
                             raise the lock timeout if its writes are that slow",
                            path.display()
                        ),
                    )
                    .with_key(key.as_str()));
                }
                Locked::HeldElsewhere => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(10));
                }
            }
        }
        if still_named(&file, &path).map_err(io_error)? {
            return Ok(KeyLock { _file: file, path });
        }
        // The previous holder removed the file we waited on: lock the current one.
    }
}

/// Removes the lock file at `path` if nobody holds it (taking the lock first, so a holder's file is
/// never removed under it). Returns whether it was removed.
pub(super) fn remove_if_unheld(path: &Path) -> io::Result<bool> {
    let file = match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    match try_flock(&file, libc::LOCK_EX)? {
        Locked::Yes if still_named(&file, path)? => {
            fs::remove_file(path)?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

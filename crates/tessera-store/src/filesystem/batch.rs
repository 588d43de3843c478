//! Batch reads from local files with read-ahead: each rayon task walks a run of keys in order and
//! keeps the next few files open with the kernel already fetching them (`POSIX_FADV_WILLNEED`), so a
//! cold read has many requests in flight on the device while only as many threads as cores decode.

use std::collections::VecDeque;
use std::fs::File;
use std::ops::Range;

use rayon::prelude::*;

use super::FilesystemStore;
use crate::error::StoreResult;
use crate::key::StoreKey;

/// Files opened ahead of the one being read, per task, at most.
const READ_AHEAD: usize = 8;
/// Bytes hinted ahead per task at most (the file after the one being read is always opened):
/// eight chunks of a few MiB, but one shard of tens of MiB at a time. Hinting more has the device
/// fetch it all together, and the file being read waits behind the others.
const READ_AHEAD_BYTES: u64 = 32 << 20;
/// Keys per task at most: enough for read-ahead to pay, small enough for work stealing to balance.
const MAX_RUN: usize = 64;

/// An opened value: its file, its length and what the early step made of it; `None` when there is
/// no value.
pub(super) type Opened<A> = StoreResult<Option<(File, u64, A)>>;

/// Asks the kernel to start reading `ranges` of `file` (all of it when `None`) into the page cache
/// without waiting. Only a hint: errors are ignored, and it is a no-op off Linux.
pub(super) fn advise_will_need(file: &File, len: u64, ranges: Option<&[Range<u64>]>) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let fd = file.as_raw_fd();
        let whole = 0..len;
        for r in ranges.unwrap_or(std::slice::from_ref(&whole)) {
            let (Ok(start), Ok(length)) = (
                libc::off_t::try_from(r.start),
                libc::off_t::try_from(r.end.saturating_sub(r.start)),
            ) else {
                continue;
            };
            if length > 0 {
                // SAFETY: a plain syscall on an open descriptor; it reads no memory of ours.
                unsafe { libc::posix_fadvise(fd, start, length, libc::POSIX_FADV_WILLNEED) };
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (file, len, ranges);
}

/// A directory of the store opened by a batch task and found inside the root (the kernel's name
/// for it, `/proc/self/fd`, lies under the root): the task's next values in the same directory are
/// opened relative to it, refusing a symlink as the last component (`O_NOFOLLOW`), instead of
/// asking `/proc` about every file. Held for one batch only.
pub(super) struct VerifiedDir {
    /// The directory's part of the keys (`a/c/0` of `a/c/0/1`; empty for the root).
    prefix: String,
    file: File,
}

impl FilesystemStore {
    /// [`open_value`](Self::open_value) for a batch: values in the directory `dir` holds are opened
    /// relative to it; on Linux `dir` is replaced by the value's directory, opened and verified,
    /// when the value lies elsewhere. Any surprise (a symlink, a special file, an error) takes
    /// `open_value`'s path, which resolves, checks and names it.
    pub(super) fn open_value_in(
        &self,
        key: &StoreKey,
        dir: &mut Option<VerifiedDir>,
    ) -> StoreResult<Option<(File, u64)>> {
        #[cfg(target_os = "linux")]
        if let Some(opened) = self.open_in_verified_dir(key, dir) {
            return Ok(opened);
        }
        #[cfg(not(target_os = "linux"))]
        let _ = dir;
        self.open_value(key)
    }

    /// The fast path of [`open_value_in`](Self::open_value_in): `Some(result)` when it decided,
    /// `None` to take the full path.
    #[cfg(target_os = "linux")]
    fn open_in_verified_dir(
        &self,
        key: &StoreKey,
        dir: &mut Option<VerifiedDir>,
    ) -> Option<Option<(File, u64)>> {
        use std::ffi::CString;
        use std::os::fd::{AsRawFd, FromRawFd};
        use std::os::unix::fs::OpenOptionsExt;

        super::special::check_not_internal(key).ok()?;
        let (prefix, name) = key.as_str().rsplit_once('/').unwrap_or(("", key.as_str()));
        if name.is_empty() {
            return None;
        }
        if dir.as_ref().is_none_or(|d| d.prefix != prefix) {
            *dir = None;
            let path = self.root.join(prefix);
            let file = std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_DIRECTORY)
                .open(&path)
                .ok()?;
            // Refused or unresolvable: the full path says why.
            if !self.opened_inside(&file, &path, key.as_str()).ok()? {
                return None;
            }
            *dir = Some(VerifiedDir {
                prefix: prefix.to_string(),
                file,
            });
        }
        let parent = dir.as_ref()?;
        let name = CString::new(name).ok()?;
        // SAFETY: a plain syscall with a valid descriptor and a NUL-terminated name; the returned
        // descriptor, when valid, is owned by the `File` made from it alone.
        let fd = unsafe {
            libc::openat(
                parent.file.as_raw_fd(),
                name.as_ptr(),
                libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOFOLLOW | libc::O_CLOEXEC,
            )
        };
        if fd < 0 {
            return match std::io::Error::last_os_error().raw_os_error() {
                Some(libc::ENOENT) => Some(None),
                // A symlink (ELOOP), a socket (ENXIO), anything else: the full path.
                _ => None,
            };
        }
        // SAFETY: `fd` was just opened and is owned by nobody else.
        let file = unsafe { File::from_raw_fd(fd) };
        let meta = file.metadata().ok()?;
        // A FIFO, a device, a directory: the full path names it.
        if !meta.is_file() {
            return None;
        }
        Some(Some((file, meta.len())))
    }

    /// Reads `n` values in parallel: `key(i)` names the i-th; `ahead(i, file, len)` runs as soon as
    /// its file is opened, a few keys before it is read, to give the kernel a read-ahead hint (or
    /// to read what decides the rest first) and say how many bytes it hinted; `read(i, opened)`
    /// reads the value from the file opened ahead, with what `ahead` returned. Calls
    /// `on_result(i, ...)` from the reading thread.
    pub(super) fn read_batch<'k, A, T>(
        &self,
        n: usize,
        key: impl Fn(usize) -> &'k StoreKey + Sync,
        ahead: impl Fn(usize, &File, u64) -> (A, u64) + Sync,
        read: impl Fn(usize, Opened<A>) -> StoreResult<Option<T>> + Sync,
        on_result: &(dyn Fn(usize, StoreResult<Option<T>>) + Sync),
    ) {
        if n == 0 {
            return;
        }
        let tasks = self.concurrency.max(1);
        // Runs of at most MAX_RUN keys, as many as a multiple of `tasks` so that they share out
        // evenly (320 keys in five runs of 64 kept one of two threads busy for three of them).
        let runs = tasks * n.div_ceil(tasks * MAX_RUN);
        let run = n.div_ceil(runs).max(1);
        let open_ahead = |i: usize, dir: &mut Option<VerifiedDir>| -> (Opened<A>, u64) {
            match self.open_value_in(key(i), dir) {
                Ok(Some((file, len))) => {
                    let (early, hinted) = ahead(i, &file, len);
                    (Ok(Some((file, len, early))), hinted)
                }
                Ok(None) => (Ok(None), 0),
                Err(e) => (Err(e), 0),
            }
        };
        (0..n.div_ceil(run)).into_par_iter().for_each(|task| {
            let indices = task * run..((task + 1) * run).min(n);
            let mut queue: VecDeque<(usize, Opened<A>, u64)> =
                VecDeque::with_capacity(READ_AHEAD + 1);
            let mut queued_bytes = 0u64;
            let mut dir = None;
            let mut next = indices.start;
            for i in indices.clone() {
                while next < indices.end
                    && next <= i + READ_AHEAD
                    && (next <= i + 1 || queued_bytes < READ_AHEAD_BYTES)
                {
                    let (opened, hinted) = open_ahead(next, &mut dir);
                    queue.push_back((next, opened, hinted));
                    queued_bytes += hinted;
                    next += 1;
                }
                let (index, opened, hinted) =
                    queue.pop_front().expect("the current key was opened");
                debug_assert_eq!(index, i);
                queued_bytes -= hinted;
                on_result(i, read(i, opened));
            }
        });
    }
}

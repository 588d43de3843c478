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

/// Files opened ahead of the one being read, per task.
const READ_AHEAD: usize = 8;
/// Keys per task at most: enough for read-ahead to pay, small enough for work stealing to balance.
const MAX_RUN: usize = 64;

/// An opened value: its file and length, or `None` when there is no value.
pub(super) type Opened = StoreResult<Option<(File, u64)>>;

/// Asks the kernel to start reading `ranges` of `file` (all of it when `None`) into the page cache
/// without waiting. Only a hint: errors are ignored, and it is a no-op off Linux.
fn advise_will_need(file: &File, len: u64, ranges: Option<&[Range<u64>]>) {
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

impl FilesystemStore {
    /// Reads `n` values in parallel: `key(i)` names the i-th, `ranges(i)` the parts of it that will be
    /// read (for the read-ahead hint; `None` for all of it, empty for no hint), and `read(i, opened)` reads it from the
    /// file opened ahead. Calls `on_result(i, ...)` from the reading thread.
    pub(super) fn read_batch<'k, T>(
        &self,
        n: usize,
        key: impl Fn(usize) -> &'k StoreKey + Sync,
        ranges: impl Fn(usize) -> Option<&'k [Range<u64>]> + Sync,
        read: impl Fn(usize, Opened) -> StoreResult<Option<T>> + Sync,
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
        let open_ahead = |i: usize| -> Opened {
            let opened = self.open_value(key(i))?;
            if let Some((file, len)) = &opened {
                advise_will_need(file, *len, ranges(i));
            }
            Ok(opened)
        };
        (0..n.div_ceil(run)).into_par_iter().for_each(|task| {
            let indices = task * run..((task + 1) * run).min(n);
            let mut ahead: VecDeque<(usize, Opened)> = VecDeque::with_capacity(READ_AHEAD + 1);
            let mut next = indices.start;
            for i in indices.clone() {
                while next < indices.end && next <= i + READ_AHEAD {
                    ahead.push_back((next, open_ahead(next)));
                    next += 1;
                }
                let (index, opened) = ahead.pop_front().expect("the current key was opened");
                debug_assert_eq!(index, i);
                on_result(i, read(i, opened));
            }
        });
    }
}

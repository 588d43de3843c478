//! Page-cache control: evict files (`sync`, then `posix_fadvise(POSIX_FADV_DONTNEED)`), warm them (read
//! them through), and measure how much of them is resident (`mincore`).
//!
//! Eviction is advice: the kernel drops clean, unmapped pages, but pages another process maps or a file
//! system that ignores the advice (tmpfs, some overlay set-ups) keep them. That is why every cold run
//! checks residency afterwards and the table says when eviction did not take.

use std::fs::File;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use crate::error::{BenchError, BenchResult};

/// Every regular file at `path` (the path itself, or the files below a directory).
pub fn files(path: &Path) -> BenchResult<Vec<PathBuf>> {
    let mut out = Vec::new();
    collect(path, &mut out)?;
    Ok(out)
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> BenchResult<()> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(BenchError::io("inspecting", path, e)),
    };
    if meta.is_dir() {
        let entries = std::fs::read_dir(path).map_err(|e| BenchError::io("listing", path, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| BenchError::io("listing", path, e))?;
            collect(&entry.path(), out)?;
        }
    } else if meta.is_file() {
        out.push(path.to_path_buf());
    }
    Ok(())
}

/// Writes dirty pages of every file system to disk (`sync(2)`), so that eviction can drop them.
pub fn sync_all() {
    // SAFETY: sync takes no arguments and cannot fail.
    unsafe { libc::sync() };
}

/// Syncs, then asks the kernel to drop every page of the files under `paths` from the page cache.
///
/// # Errors
/// A file that cannot be opened or advised.
pub fn evict(paths: &[&Path]) -> BenchResult<()> {
    sync_all();
    for path in paths {
        for file in files(path)? {
            let f = File::open(&file).map_err(|e| BenchError::io("opening", &file, e))?;
            // SAFETY: a valid open descriptor; offset 0 and length 0 mean the whole file.
            let rc = unsafe { libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
            if rc != 0 {
                return Err(BenchError::io(
                    "evicting",
                    &file,
                    std::io::Error::from_raw_os_error(rc),
                ));
            }
        }
    }
    Ok(())
}

/// Reads every file under `paths` through, so its pages are in the page cache.
///
/// # Errors
/// A file that cannot be read.
pub fn warm(paths: &[&Path]) -> BenchResult<()> {
    let mut buf = vec![0u8; 1 << 20];
    for path in paths {
        for file in files(path)? {
            let mut f = File::open(&file).map_err(|e| BenchError::io("opening", &file, e))?;
            loop {
                match f.read(&mut buf) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(BenchError::io("reading", &file, e)),
                }
            }
        }
    }
    Ok(())
}

/// Bytes of the files under `paths` that are in the page cache, and their total size, by `mincore`.
///
/// # Errors
/// A file that cannot be opened, mapped or inspected.
pub fn residency(paths: &[&Path]) -> BenchResult<(u64, u64)> {
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as usize;
    let (mut resident, mut total) = (0u64, 0u64);
    for path in paths {
        for file in files(path)? {
            let f = File::open(&file).map_err(|e| BenchError::io("opening", &file, e))?;
            let len = f
                .metadata()
                .map_err(|e| BenchError::io("inspecting", &file, e))?
                .len() as usize;
            total += len as u64;
            if len == 0 {
                continue;
            }
            // SAFETY: a fresh read-only shared mapping of a file we opened; we never touch its pages
            // (mincore only asks whether they are resident), and unmap it below.
            let addr = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    libc::PROT_READ,
                    libc::MAP_SHARED,
                    f.as_raw_fd(),
                    0,
                )
            };
            if addr == libc::MAP_FAILED {
                return Err(BenchError::io(
                    "mapping",
                    &file,
                    std::io::Error::last_os_error(),
                ));
            }
            let pages = len.div_ceil(page);
            let mut vec = vec![0u8; pages];
            // SAFETY: `addr` is a mapping of `len` bytes; `vec` has one byte per page.
            let rc = unsafe { libc::mincore(addr, len, vec.as_mut_ptr()) };
            let err = std::io::Error::last_os_error();
            // SAFETY: unmapping the mapping made above.
            unsafe { libc::munmap(addr, len) };
            if rc != 0 {
                return Err(BenchError::io("checking residency of", &file, err));
            }
            let last = len - (pages - 1) * page;
            for (i, v) in vec.iter().enumerate() {
                if v & 1 == 1 {
                    resident += if i + 1 == pages { last } else { page } as u64;
                }
            }
        }
    }
    Ok((resident, total))
}

/// The resident fraction of the files under `paths` (0 when they hold no bytes).
///
/// # Errors
/// As [`residency`].
pub fn resident_fraction(paths: &[&Path]) -> BenchResult<f64> {
    let (resident, total) = residency(paths)?;
    Ok(if total == 0 {
        0.0
    } else {
        resident as f64 / total as f64
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warm_files_are_resident() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("x");
        std::fs::write(&file, vec![1u8; 1 << 20]).unwrap();
        warm(&[dir.path()]).unwrap();
        let (resident, total) = residency(&[dir.path()]).unwrap();
        assert_eq!(total, 1 << 20);
        assert_eq!(resident, total);
        // Eviction is advice (tmpfs ignores it), so only check that it runs.
        evict(&[dir.path()]).unwrap();
        assert!(resident_fraction(&[&file]).unwrap() <= 1.0);
    }
}

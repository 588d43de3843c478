//! A store in a directory of the local filesystem.

mod batch;
mod cleanup;
mod listing;
mod lock;
mod special;

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;

use crate::error::{StoreError, StoreErrorKind, StoreResult};
use crate::key::{StoreKey, StorePrefix};
use crate::range::{ByteRange, check_ranges};
use crate::traits::{DependentParts, ReadableStore, Update, WritableStore};

use self::lock::lock_key;
use self::special::{TEMP_MARK, check_not_internal, check_regular, open_nonblocking};

/// How long a [`FilesystemStore`] write waits for another writer's lock on the same key by default.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(60);

/// Makes temporary file names unique within this process; the pid makes them unique across
/// processes writing the same store.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A store whose values are files under a root directory.
///
/// The key `a/b/c` is the file `ROOT/a/b/c`: Zarr's nested chunk keys (`0/0/1`) become
/// directories, flat ones (`0.0.1`) plain file names, and both layouts work side by side.
///
/// # Writes are atomic
/// [`set`](WritableStore::set) writes the value to a temporary file in the key's directory
/// (`.NAME.tessera-tmp.PID.N`), optionally `fsync`s it, then renames it over the key, and with
/// `fsync` on also syncs the directory. Readers and crashes see the old value or the new one,
/// never a torn one. Listings skip the temporary files; a crash may leave one behind.
/// Missing parent directories are created.
///
/// # Keys never leave the root
/// [`StoreKey`]'s rules already stop `..` and absolute keys. Symlinks inside the root are
/// followed only while they resolve inside the root: a key that reaches outside through a symlink
/// (to a file or through a symlinked directory) is refused with
/// [`StoreErrorKind::PermissionDenied`], because the key itself is well-formed: it is the store's
/// contents that would lead the access elsewhere. Recursive listings skip such links and do not
/// descend into symlinked directories (this avoids cycles); a prefix naming a symlinked
/// directory inside the root lists and erases like any other (erasing removes the link). The check resolves the
/// path before the access; it protects against links present in the store, not against another
/// process swapping a link in between the check and the access.
///
/// # A FIFO, socket, device or directory is not a value
/// Reading a key whose path holds anything but a regular file (or a symlink to one inside the root)
/// fails at once with [`StoreErrorKind::NotAFile`]: a FIFO is opened without blocking and its type
/// checked on the opened descriptor, so a read never waits on it, and a directory never reads as a
/// missing value. Listings skip such entries (directories are prefixes, as always).
///
/// # Concurrency
/// Writes to different keys may run in parallel from threads or processes; two concurrent
/// writes to the same key leave one of the two values. [`update`](WritableStore::update),
/// [`set`](WritableStore::set) and [`erase`](WritableStore::erase) of one key take an advisory
/// lock of the key (an exclusive `flock` on the hidden file `.NAME.tessera-lock` beside the value,
/// removed when released), so a read-modify-write through `update` never loses another
/// thread's or process's write. The lock costs a file creation and removal per write. It is
/// advisory: programs that do not take it are not excluded; and it needs a filesystem where `flock`
/// works between all writers (local filesystems; NFS v4 emulates it with byte-range locks).
///
/// ```
/// use tessera_store::{FilesystemStore, ReadableStore, StoreKey, WritableStore};
/// let dir = tempfile::tempdir().unwrap();
/// let store = FilesystemStore::open(dir.path()).unwrap();
/// let key = StoreKey::new("array/0.0").unwrap();
/// store.set(&key, "chunk".into()).unwrap();
/// assert_eq!(std::fs::read(dir.path().join("array/0.0")).unwrap(), b"chunk");
/// assert_eq!(store.get(&key).unwrap().unwrap(), "chunk");
/// ```
#[derive(Debug, Clone)]
pub struct FilesystemStore {
    root: PathBuf,
    /// The root did not exist when the store was opened: it is created at the first write.
    create_root: bool,
    fsync: bool,
    concurrency: usize,
    lock_timeout: Duration,
}

/// Options for opening a [`FilesystemStore`].
///
/// ```
/// use tessera_store::FilesystemStoreBuilder;
/// let dir = tempfile::tempdir().unwrap();
/// let store = FilesystemStoreBuilder::new(dir.path().join("new/store"))
///     .create(true)
///     .fsync(true)
///     .concurrency(4)
///     .build()
///     .unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct FilesystemStoreBuilder {
    path: PathBuf,
    create: bool,
    create_on_write: bool,
    fsync: bool,
    concurrency: Option<usize>,
    lock_timeout: Duration,
}

impl FilesystemStoreBuilder {
    /// Options for the store rooted at `path`: not created when missing, no fsync, default
    /// concurrency.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FilesystemStoreBuilder {
            path: path.into(),
            create: false,
            create_on_write: false,
            fsync: false,
            concurrency: None,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
        }
    }

    /// Create the root directory (and its parents) when it does not exist. Default: off.
    pub fn create(&mut self, yes: bool) -> &mut Self {
        self.create = yes;
        self
    }

    /// When the root does not exist, open the store anyway and create the root (and its parents)
    /// at the first write; until then it reads as empty. Default: off.
    pub fn create_on_write(&mut self, yes: bool) -> &mut Self {
        self.create_on_write = yes;
        self
    }

    /// `fsync` every written file and its directory before a write returns, so the value
    /// survives a power loss. Default: off (the write is still atomic).
    pub fn fsync(&mut self, yes: bool) -> &mut Self {
        self.fsync = yes;
        self
    }

    /// How many reads [`get_many`](ReadableStore::get_many) runs in parallel at most. Default:
    /// the number of threads in the current rayon pool.
    pub fn concurrency(&mut self, n: usize) -> &mut Self {
        self.concurrency = Some(n.max(1));
        self
    }

    /// How long a write waits for another writer's lock on the same key before it fails with
    /// [`Timeout`](StoreErrorKind::Timeout). Default: [`DEFAULT_LOCK_TIMEOUT`]. A holder that
    /// dies releases its locks at once; only a live but stalled one makes others wait this long.
    pub fn lock_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.lock_timeout = timeout;
        self
    }

    /// Opens the store.
    ///
    /// # Errors
    /// [`NotFound`](StoreErrorKind::NotFound) when the root does not exist and `create` is off;
    /// [`InvalidUrl`](StoreErrorKind::InvalidUrl) when it is not a directory; the I/O error's
    /// kind when it cannot be created or resolved.
    pub fn build(&self) -> StoreResult<FilesystemStore> {
        let shown = self.path.display().to_string();
        if self.create {
            fs::create_dir_all(&self.path)
                .map_err(|e| StoreError::io(e, &shown, "creating the store's root directory"))?;
        }
        let root = match fs::canonicalize(&self.path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound && self.create_on_write => {
                if let Some(root) = missing_root(&self.path) {
                    return Ok(FilesystemStore {
                        root,
                        create_root: true,
                        fsync: self.fsync,
                        concurrency: self.concurrency.unwrap_or_else(rayon::current_num_threads),
                        lock_timeout: self.lock_timeout,
                    });
                }
                return Err(StoreError::io(
                    e,
                    &shown,
                    "opening the store's root directory",
                ));
            }
            other => other
                .map_err(|e| StoreError::io(e, &shown, "opening the store's root directory"))?,
        };
        let meta = fs::metadata(&root)
            .map_err(|e| StoreError::io(e, &shown, "opening the store's root directory"))?;
        if !meta.is_dir() {
            return Err(StoreError::new(
                StoreErrorKind::InvalidUrl,
                "the store's root is not a directory",
            )
            .with_key(shown));
        }
        Ok(FilesystemStore {
            root,
            create_root: false,
            fsync: self.fsync,
            concurrency: self.concurrency.unwrap_or_else(rayon::current_num_threads),
            lock_timeout: self.lock_timeout,
        })
    }
}

/// The absolute path a missing root will have: its nearest existing ancestor (a directory) with
/// symlinks resolved, then the missing names. `None` when there is no such ancestor or a missing
/// part is not a plain name (`..`).
fn missing_root(path: &Path) -> Option<PathBuf> {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().ok()?.join(path)
    };
    let mut missing = Vec::new();
    let mut existing = absolute.as_path();
    loop {
        match fs::canonicalize(existing) {
            Ok(real) if real.is_dir() => {
                return Some(missing.iter().rev().fold(real, |p, name| p.join(name)));
            }
            Ok(_) => return None,
            Err(_) => {
                let last = existing.components().next_back()?;
                let std::path::Component::Normal(name) = last else {
                    return None;
                };
                missing.push(name.to_os_string());
                existing = existing.parent()?;
            }
        }
    }
}

impl FilesystemStore {
    /// Opens the store rooted at the existing directory `path`.
    ///
    /// # Errors
    /// As [`FilesystemStoreBuilder::build`].
    pub fn open(path: impl AsRef<Path>) -> StoreResult<Self> {
        FilesystemStoreBuilder::new(path.as_ref()).build()
    }

    /// Opens the store rooted at `path`, creating the directory and its parents when missing.
    ///
    /// # Errors
    /// As [`FilesystemStoreBuilder::build`].
    pub fn create(path: impl AsRef<Path>) -> StoreResult<Self> {
        FilesystemStoreBuilder::new(path.as_ref())
            .create(true)
            .build()
    }

    /// Options for opening a store rooted at `path`.
    pub fn builder(path: impl Into<PathBuf>) -> FilesystemStoreBuilder {
        FilesystemStoreBuilder::new(path)
    }

    /// The root directory, resolved to an absolute path without symlinks.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The path `key` names, before symlinks are resolved.
    pub fn path_of(&self, key: &StoreKey) -> PathBuf {
        self.root.join(key.as_str())
    }

    /// Refuses `path` when, with symlinks resolved, it lies outside the root.
    /// Returns `Ok(false)` when it does not exist.
    fn check_inside(&self, path: &Path, key: &str) -> StoreResult<bool> {
        match fs::canonicalize(path) {
            Ok(real) if real.starts_with(&self.root) => Ok(true),
            Ok(_) => Err(StoreError::new(
                StoreErrorKind::PermissionDenied,
                "the key resolves outside the store's root through a symlink",
            )
            .with_key(key)),
            Err(e) if is_missing(&e) => Ok(false),
            Err(e) => Err(StoreError::io(e, key, "resolving the key's path")),
        }
    }

    /// Refuses an opened file that, with symlinks resolved, lies outside the root. On Linux the kernel
    /// names the file actually opened (`/proc/self/fd`): one syscall instead of resolving every path
    /// component, and no window between the check and the open. Elsewhere, or without `/proc`, the path
    /// is resolved as in [`check_inside`](Self::check_inside).
    fn opened_inside(&self, file: &File, path: &Path, key: &str) -> StoreResult<bool> {
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            if let Ok(real) = fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd())) {
                if real.starts_with(&self.root) {
                    return Ok(true);
                }
                return Err(StoreError::new(
                    StoreErrorKind::PermissionDenied,
                    "the key resolves outside the store's root through a symlink",
                )
                .with_key(key));
            }
        }
        let _ = file;
        self.check_inside(path, key)
    }

    /// Opens the file of `key` for reading, or `None` when there is no value.
    /// A FIFO, socket, device or directory there is [`StoreErrorKind::NotAFile`], found without
    /// blocking.
    fn open_value(&self, key: &StoreKey) -> StoreResult<Option<(File, u64)>> {
        check_not_internal(key)?;
        let path = self.path_of(key);
        let Some(file) = open_nonblocking(&path, key)? else {
            return Ok(None);
        };
        if !self.opened_inside(&file, &path, key.as_str())? {
            return Ok(None);
        }
        let meta = file
            .metadata()
            .map_err(|e| StoreError::io(e, key.as_str(), "reading the value's metadata"))?;
        check_regular(&meta, key)?;
        Ok(Some((file, meta.len())))
    }

    /// Makes sure the directories holding `key` exist inside the root, creating missing ones and
    /// refusing symlinks that lead outside. Returns the directory.
    fn prepare_parent(&self, key: &StoreKey) -> StoreResult<PathBuf> {
        if self.create_root && !self.root.is_dir() {
            fs::create_dir_all(&self.root).map_err(|e| {
                StoreError::io(e, key.as_str(), "creating the store's root directory")
            })?;
        }
        let mut dir = self.root.clone();
        let segments: Vec<&str> = key.as_str().split('/').collect();
        for segment in &segments[..segments.len() - 1] {
            dir.push(segment);
            match fs::symlink_metadata(&dir) {
                Ok(meta) if meta.is_dir() => {}
                Ok(meta) if meta.is_symlink() => {
                    self.check_inside(&dir, key.as_str())?;
                }
                Ok(_) => {
                    return Err(StoreError::new(
                        StoreErrorKind::AlreadyExists,
                        format!(
                            "cannot create the directory {:?}: a value is stored there",
                            dir.strip_prefix(&self.root).unwrap_or(&dir)
                        ),
                    )
                    .with_key(key.as_str()));
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => match fs::create_dir(&dir) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                    Err(e) => {
                        return Err(StoreError::io(
                            e,
                            key.as_str(),
                            "creating the key's directory",
                        ));
                    }
                },
                Err(e) => {
                    return Err(StoreError::io(
                        e,
                        key.as_str(),
                        "inspecting the key's directory",
                    ));
                }
            }
        }
        Ok(dir)
    }

    /// Writes `value` over the key's file (in `dir`, prepared by `prepare_parent`); the caller holds
    /// the key's lock.
    fn replace(&self, dir: &Path, key: &StoreKey, value: &[u8]) -> StoreResult<()> {
        let target = dir.join(key.name());
        match fs::symlink_metadata(&target) {
            // A directory left empty by erased keys gives way; one holding keys does not.
            Ok(meta) if meta.is_dir() && fs::remove_dir(&target).is_err() => {
                return Err(StoreError::new(
                    StoreErrorKind::AlreadyExists,
                    "a directory of other keys is in the way of this key",
                )
                .with_key(key.as_str()));
            }
            Ok(meta) if meta.is_symlink() => {
                // The rename would replace the link itself, but a link leading outside is
                // refused here as everywhere else.
                self.check_inside(&target, key.as_str())?;
            }
            _ => {}
        }
        self.write_atomically(dir, key, value)
            .map_err(|e| StoreError::io(e, key.as_str(), "writing the value's file"))
    }

    /// Removes the key's file; the caller holds the key's lock.
    fn remove(&self, key: &StoreKey) -> StoreResult<()> {
        let path = self.path_of(key);
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_dir() => Ok(()),
            Ok(_) => match fs::remove_file(&path) {
                Ok(()) => Ok(()),
                Err(e) if is_missing(&e) => Ok(()),
                Err(e) => Err(StoreError::io(e, key.as_str(), "removing the value's file")),
            },
            Err(e) if is_missing(&e) => Ok(()),
            Err(e) => Err(StoreError::io(
                e,
                key.as_str(),
                "inspecting the value's file",
            )),
        }
    }

    fn write_atomically(&self, dir: &Path, key: &StoreKey, value: &[u8]) -> io::Result<()> {
        let name = key.name();
        let target = dir.join(name);
        // Keep the temporary name within NAME_MAX even for long key names.
        let mut short = name.len().min(96);
        while !name.is_char_boundary(short) {
            short -= 1;
        }
        let temp_name = || {
            dir.join(format!(
                ".{}{}{}.{}",
                &name[..short],
                TEMP_MARK,
                std::process::id(),
                TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
            ))
        };
        // A file already holding the name was left by a crashed writer that had this process id
        // (ids are reused, e.g. by a restarted container's main process): take the next name.
        let mut temp = temp_name();
        let mut attempts = 0;
        let mut file = loop {
            match OpenOptions::new().write(true).create_new(true).open(&temp) {
                Ok(file) => break file,
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempts < 1 << 16 => {
                    attempts += 1;
                    temp = temp_name();
                }
                Err(e) => return Err(e),
            }
        };
        let result = (|| {
            file.write_all(value)?;
            if self.fsync {
                file.sync_all()?;
            }
            drop(file);
            fs::rename(&temp, &target)?;
            if self.fsync {
                File::open(dir)?.sync_all()?;
            }
            Ok(())
        })();
        if result.is_err() {
            let _ = fs::remove_file(&temp);
        }
        result
    }
}

/// Errors that mean "nothing stored there": the path or one of its parents is missing, or a
/// parent is a file.
fn is_missing(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

/// Reads all of an opened value's file.
fn read_whole(mut file: File, len: u64, key: &StoreKey) -> StoreResult<Bytes> {
    // One byte more than the length, so a file that grew since `fstat` is read whole and the
    // end-of-file probe needs no second allocation.
    let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0).saturating_add(1));
    file.read_to_end(&mut buf)
        .map_err(|e| StoreError::io(e, key.as_str(), "reading the value's file"))?;
    Ok(Bytes::from(buf))
}

/// Reads `ranges` (already checked against `len`) of an opened value's file.
fn read_ranges(file: &File, ranges: &[Range<u64>], key: &StoreKey) -> StoreResult<Vec<Bytes>> {
    ranges
        .iter()
        .map(|r| {
            let mut buf = vec![0; (r.end - r.start) as usize];
            file.read_exact_at(&mut buf, r.start).map_err(|e| {
                StoreError::io(e, key.as_str(), "reading a range of the value's file")
            })?;
            Ok(Bytes::from(buf))
        })
        .collect()
}

impl ReadableStore for FilesystemStore {
    fn get(&self, key: &StoreKey) -> StoreResult<Option<Bytes>> {
        let Some((file, len)) = self.open_value(key)? else {
            return Ok(None);
        };
        read_whole(file, len, key).map(Some)
    }

    fn get_range(&self, key: &StoreKey, range: ByteRange) -> StoreResult<Option<Bytes>> {
        let Some((file, len)) = self.open_value(key)? else {
            return Ok(None);
        };
        let r = range.resolve(len).map_err(|e| e.with_key(key.as_str()))?;
        Ok(read_ranges(&file, &[r], key)?.pop())
    }

    fn get_ranges(&self, key: &StoreKey, ranges: &[Range<u64>]) -> StoreResult<Option<Vec<Bytes>>> {
        let Some((file, len)) = self.open_value(key)? else {
            return Ok(None);
        };
        check_ranges(ranges, len).map_err(|e| e.with_key(key.as_str()))?;
        read_ranges(&file, ranges, key).map(Some)
    }

    fn get_many(
        &self,
        keys: &[StoreKey],
        on_result: &(dyn Fn(usize, StoreResult<Option<Bytes>>) + Sync),
    ) {
        self.read_batch(
            keys.len(),
            |i| &keys[i],
            |_, file, len| {
                batch::advise_will_need(file, len, None);
                ((), len)
            },
            |i, opened| match opened? {
                Some((file, len, ())) => read_whole(file, len, &keys[i]).map(Some),
                None => Ok(None),
            },
            on_result,
        );
    }

    fn get_many_ranges(
        &self,
        requests: &[crate::traits::RangeRequest],
        on_result: &(dyn Fn(usize, StoreResult<Option<Vec<Bytes>>>) + Sync),
    ) {
        self.read_batch(
            requests.len(),
            |i| &requests[i].0,
            |i, file, len| {
                let ranges = requests[i].1.as_slice();
                batch::advise_will_need(file, len, Some(ranges));
                (
                    (),
                    ranges.iter().map(|r| r.end.saturating_sub(r.start)).sum(),
                )
            },
            |i, opened| {
                let (key, ranges) = &requests[i];
                let Some((file, len, ())) = opened? else {
                    return Ok(None);
                };
                check_ranges(ranges, len).map_err(|e| e.with_key(key.as_str()))?;
                read_ranges(&file, ranges, key).map(Some)
            },
            on_result,
        );
    }

    fn get_many_dependent_ranges(
        &self,
        requests: &[(StoreKey, ByteRange)],
        then: &(dyn Fn(usize, &Bytes) -> Vec<Range<u64>> + Sync),
        on_result: &(dyn Fn(usize, StoreResult<Option<DependentParts>>) + Sync),
    ) {
        // Both reads go through one open file: a writer replaces the file by a rename, which
        // leaves this one's contents as they were. The first read, and with it the read-ahead hint
        // for the ranges it names, happens when the file is opened ahead: the kernel fetches the
        // next shard's chunks while this one decodes.
        self.read_batch(
            requests.len(),
            |i| &requests[i].0,
            |i, file, len| {
                let (key, first) = &requests[i];
                let early = || -> StoreResult<(Bytes, Vec<Range<u64>>)> {
                    let r = first.resolve(len).map_err(|e| e.with_key(key.as_str()))?;
                    let head = read_ranges(file, &[r], key)?.pop().unwrap_or_default();
                    let ranges = then(i, &head);
                    check_ranges(&ranges, len).map_err(|e| e.with_key(key.as_str()))?;
                    batch::advise_will_need(file, len, Some(&ranges));
                    Ok((head, ranges))
                };
                let early = early();
                let hinted = early.as_ref().map_or(0, |(_, ranges)| {
                    ranges.iter().map(|r| r.end.saturating_sub(r.start)).sum()
                });
                (early, hinted)
            },
            |i, opened| {
                let Some((file, _, early)) = opened? else {
                    return Ok(None);
                };
                let (head, ranges) = early?;
                Ok(Some((head, read_ranges(&file, &ranges, &requests[i].0)?)))
            },
            on_result,
        );
    }

    fn size(&self, key: &StoreKey) -> StoreResult<Option<u64>> {
        check_not_internal(key)?;
        let path = self.path_of(key);
        let meta = match fs::metadata(&path) {
            Ok(meta) => meta,
            Err(e) if is_missing(&e) => return Ok(None),
            Err(e) => {
                return Err(StoreError::io(
                    e,
                    key.as_str(),
                    "reading the value's metadata",
                ));
            }
        };
        if !self.check_inside(&path, key.as_str())? {
            return Ok(None);
        }
        check_regular(&meta, key)?;
        Ok(Some(meta.len()))
    }

    fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// 4 MiB: the batch reads ahead while the caller decodes; a 20 MB shard read in one request
    /// keeps its decoders waiting for the whole of it.
    fn pipelined_request_bytes(&self) -> Option<u64> {
        Some(4 << 20)
    }
}

impl WritableStore for FilesystemStore {
    fn set(&self, key: &StoreKey, value: Bytes) -> StoreResult<()> {
        check_not_internal(key)?;
        let dir = self.prepare_parent(key)?;
        let _lock = lock_key(&dir, key, self.lock_timeout)?;
        self.replace(&dir, key, &value)
    }

    fn erase(&self, key: &StoreKey) -> StoreResult<()> {
        check_not_internal(key)?;
        let path = self.path_of(key);
        let parent = path.parent().unwrap_or(&self.root);
        if !self.check_inside(parent, key.as_str())? || !parent.is_dir() {
            return Ok(());
        }
        let _lock = match lock_key(parent, key, self.lock_timeout) {
            Ok(lock) => lock,
            // The parent is a file or vanished meanwhile: nothing is stored under the key.
            Err(e) if matches!(e.kind(), StoreErrorKind::NotFound) => return Ok(()),
            Err(e) => return Err(e),
        };
        self.remove(key)
    }

    fn update(
        &self,
        key: &StoreKey,
        modify: &mut dyn FnMut(Option<Bytes>) -> Update,
    ) -> StoreResult<()> {
        check_not_internal(key)?;
        let dir = self.prepare_parent(key)?;
        let _lock = lock_key(&dir, key, self.lock_timeout)?;
        match modify(self.get(key)?) {
            Update::Keep => Ok(()),
            Update::Set(value) => self.replace(&dir, key, &value),
            Update::Erase { .. } => self.remove(key),
        }
    }

    fn erase_prefix(&self, prefix: &StorePrefix) -> StoreResult<()> {
        let Some(dir) = self.prefix_dir(prefix)? else {
            return Ok(());
        };
        if !prefix.is_root() {
            // A symlinked directory (inside the root, or `prefix_dir` refused it): remove the
            // link, not the keys it shares with its target.
            let is_link = fs::symlink_metadata(&dir).is_ok_and(|m| m.is_symlink());
            // `remove_dir_all` removes symlinks below without following them.
            let removed = if is_link {
                fs::remove_file(&dir)
            } else {
                fs::remove_dir_all(&dir)
            };
            return match removed {
                Ok(()) => Ok(()),
                Err(e) if is_missing(&e) => Ok(()),
                Err(e) => Err(StoreError::io(e, prefix.as_str(), "removing a directory")),
            };
        }
        // The root itself stays.
        let entries =
            fs::read_dir(&dir).map_err(|e| StoreError::io(e, "", "listing the root directory"))?;
        for entry in entries {
            let entry = entry.map_err(|e| StoreError::io(e, "", "listing the root directory"))?;
            let path = entry.path();
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            let removed = if is_dir {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
            match removed {
                Ok(()) => {}
                Err(e) if is_missing(&e) => {}
                Err(e) => {
                    return Err(StoreError::io(
                        e,
                        entry.file_name().to_string_lossy(),
                        "removing an entry of the root directory",
                    ));
                }
            }
        }
        Ok(())
    }
}

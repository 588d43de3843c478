//! The filesystem and memory stores: the shared suite, then what only the filesystem has.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::Path;

use tessera_store::{
    ByteRange, Bytes, FilesystemStore, ListableStore, MemoryStore, ReadableStore, ReadableStoreExt,
    StoreErrorKind, StoreKey, StorePrefix, Update, WritableStore, open_store,
};

use crate::suite;

fn k(key: &str) -> StoreKey {
    StoreKey::new(key).unwrap()
}

#[test]
fn memory_store_passes_the_shared_suite() {
    let store = MemoryStore::new();
    suite::check_store(&store, &StorePrefix::new("run/").unwrap());
    suite::check_store(&store, &StorePrefix::root());
    assert!(store.is_empty());
}

/// A store that implements only what a backend must (`get`, writes, listing): every other read
/// is the shared implementation, checked by the same suite.
#[derive(Debug, Default)]
struct Minimal(MemoryStore);

impl ReadableStore for Minimal {
    fn get(&self, key: &StoreKey) -> tessera_store::StoreResult<Option<Bytes>> {
        self.0.get(key)
    }
}

impl WritableStore for Minimal {
    fn set(&self, key: &StoreKey, value: Bytes) -> tessera_store::StoreResult<()> {
        self.0.set(key, value)
    }
    fn erase(&self, key: &StoreKey) -> tessera_store::StoreResult<()> {
        self.0.erase(key)
    }
    fn erase_prefix(&self, prefix: &StorePrefix) -> tessera_store::StoreResult<()> {
        self.0.erase_prefix(prefix)
    }
    fn update(
        &self,
        key: &StoreKey,
        modify: &mut dyn FnMut(Option<Bytes>) -> Update,
    ) -> tessera_store::StoreResult<()> {
        self.0.update(key, modify)
    }
}

impl ListableStore for Minimal {
    fn list_prefix(&self, prefix: &StorePrefix) -> tessera_store::StoreResult<Vec<StoreKey>> {
        self.0.list_prefix(prefix)
    }
    fn list_prefix_sizes(
        &self,
        prefix: &StorePrefix,
    ) -> tessera_store::StoreResult<Vec<(StoreKey, u64)>> {
        self.0.list_prefix_sizes(prefix)
    }
}

#[test]
fn shared_read_implementations_pass_the_shared_suite() {
    let store = Minimal::default();
    suite::check_store(&store, &StorePrefix::new("run/").unwrap());
    assert!(store.0.is_empty());
}

#[test]
fn filesystem_store_passes_the_shared_suite() {
    let dir = tempfile::tempdir().unwrap();
    let store = FilesystemStore::open(dir.path()).unwrap();
    suite::check_store(&store, &StorePrefix::new("run/").unwrap());
    suite::check_store(&store, &StorePrefix::root());
    let fsynced = FilesystemStore::builder(dir.path().join("synced"))
        .create(true)
        .fsync(true)
        .concurrency(3)
        .build()
        .unwrap();
    assert_eq!(fsynced.concurrency(), 3);
    suite::check_store(&fsynced, &StorePrefix::root());
}

#[test]
fn filesystem_keys_are_files_in_both_zarr_layouts() {
    let dir = tempfile::tempdir().unwrap();
    let store = FilesystemStore::open(dir.path()).unwrap();
    suite::seed(&store, &StorePrefix::root());
    for (name, value) in suite::seed_values() {
        assert_eq!(fs::read(dir.path().join(&name)).unwrap(), value, "{name}");
    }
    assert!(dir.path().join("nested/3").is_dir());
    assert!(dir.path().join("flat/3.2").is_file());
    // Writing leaves no temporary file behind.
    let leftovers: Vec<_> = walk(dir.path())
        .into_iter()
        .filter(|p| p.file_name().unwrap().to_string_lossy().contains("tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[test]
fn filesystem_listings_skip_temporary_files_and_empty_directories() {
    let dir = tempfile::tempdir().unwrap();
    let store = FilesystemStore::open(dir.path()).unwrap();
    store.set(&k("a/0.0"), Bytes::from_static(b"x")).unwrap();
    // What a writer that crashed between write and rename leaves behind.
    fs::write(dir.path().join("a/.0.1.tessera-tmp.99.7"), b"partial").unwrap();
    fs::create_dir_all(dir.path().join("a/empty/deeper")).unwrap();
    assert_eq!(
        store.list_prefix(&StorePrefix::root()).unwrap(),
        vec![k("a/0.0")]
    );
    let (keys, dirs) = store.list_dir(&StorePrefix::new("a/").unwrap()).unwrap();
    assert_eq!((keys, dirs), (vec![k("a/0.0")], vec![]));
    // Zarr's hidden metadata keys are not temporary files.
    store
        .set(&k("a/.zarray"), Bytes::from_static(b"{}"))
        .unwrap();
    assert_eq!(
        store.list_prefix(&StorePrefix::root()).unwrap(),
        vec![k("a/.zarray"), k("a/0.0")]
    );
    // An empty directory gives way to a value of the same name.
    store
        .set(&k("a/empty"), Bytes::from_static(b"now a value"))
        .unwrap_err();
    fs::remove_dir(dir.path().join("a/empty/deeper")).unwrap();
    store
        .set(&k("a/empty"), Bytes::from_static(b"now a value"))
        .unwrap();
    assert_eq!(store.get(&k("a/empty")).unwrap().unwrap(), "now a value");
    // A value cannot also be a directory.
    let err = store
        .set(&k("a/0.0/x"), Bytes::from_static(b"x"))
        .unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::AlreadyExists, "{err}");
}

#[test]
fn filesystem_refuses_symlinks_leading_outside_the_root() {
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("secret"), b"outside").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    symlink(outside.path().join("secret"), root.join("file-link")).unwrap();
    symlink(outside.path(), root.join("dir-link")).unwrap();
    // Links that stay inside the root are followed.
    fs::create_dir(root.join("real")).unwrap();
    fs::write(root.join("real/value"), b"inside").unwrap();
    symlink(root.join("real/value"), root.join("inside-link")).unwrap();
    symlink(root.join("real"), root.join("inside-dir-link")).unwrap();

    let store = FilesystemStore::open(root).unwrap();
    let refused = |what: &str, result: Result<(), tessera_store::StoreError>| {
        let err = result.expect_err(what);
        assert_eq!(
            err.kind(),
            StoreErrorKind::PermissionDenied,
            "{what}: {err}"
        );
        assert!(
            err.to_string().contains("outside the store's root"),
            "{what}: {err}"
        );
    };
    refused("get file-link", store.get(&k("file-link")).map(drop));
    refused("size file-link", store.size(&k("file-link")).map(drop));
    refused(
        "range file-link",
        store
            .get_range(&k("file-link"), tessera_store::ByteRange::ALL)
            .map(drop),
    );
    refused(
        "get dir-link/secret",
        store.get(&k("dir-link/secret")).map(drop),
    );
    refused(
        "set dir-link/new",
        store.set(&k("dir-link/new"), Bytes::from_static(b"x")),
    );
    refused(
        "set file-link",
        store.set(&k("file-link"), Bytes::from_static(b"x")),
    );
    refused("erase dir-link/secret", store.erase(&k("dir-link/secret")));
    refused(
        "list dir-link/",
        store
            .list_prefix(&StorePrefix::new("dir-link/").unwrap())
            .map(drop),
    );
    let batch = std::sync::Mutex::new(Vec::new());
    store.get_many(&[k("file-link")], &|_, r| {
        batch.lock().unwrap().push(r.map(drop))
    });
    refused(
        "get_many file-link",
        batch.into_inner().unwrap().pop().unwrap(),
    );

    // Nothing outside was read, written or removed.
    assert_eq!(fs::read(outside.path().join("secret")).unwrap(), b"outside");
    assert!(!outside.path().join("new").exists());
    refused(
        "erase_prefix dir-link/",
        store.erase_prefix(&StorePrefix::new("dir-link/").unwrap()),
    );
    assert!(outside.path().join("secret").exists());

    // A batch opens the values of one directory relative to it: the links are refused or followed
    // as by a single read, whatever their neighbours in the batch.
    let keys = [
        k("real/value"),
        k("file-link"),
        k("inside-link"),
        k("dir-link/secret"),
        k("inside-dir-link/value"),
        k("real/missing"),
        k("real/value"),
    ];
    let results = std::sync::Mutex::new(vec![None; keys.len()]);
    store.get_many(&keys, &|i, r| results.lock().unwrap()[i] = Some(r));
    let results: Vec<_> = results
        .into_inner()
        .unwrap()
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(results.len(), keys.len());
    for (i, r) in results.into_iter().enumerate() {
        let what = format!("get_many {}", keys[i]);
        match keys[i].as_str() {
            "file-link" | "dir-link/secret" => refused(&what, r.map(drop)),
            "real/missing" => assert!(r.unwrap().is_none(), "{what}"),
            _ => assert_eq!(r.unwrap().unwrap(), "inside", "{what}"),
        }
    }
    assert_eq!(store.get(&k("inside-link")).unwrap().unwrap(), "inside");
    assert_eq!(
        store.get(&k("inside-dir-link/value")).unwrap().unwrap(),
        "inside"
    );
    // Listings show the link to a file inside, skip the rest.
    assert_eq!(
        store.list_prefix(&StorePrefix::root()).unwrap(),
        vec![k("inside-link"), k("real/value")]
    );
    // A symlinked directory inside the root is a prefix; erasing it removes the link only.
    let linked = StorePrefix::new("inside-dir-link/").unwrap();
    assert_eq!(
        store.list_prefix(&linked).unwrap(),
        vec![k("inside-dir-link/value")]
    );
    store.erase_prefix(&linked).unwrap();
    assert!(!root.join("inside-dir-link").exists());
    assert_eq!(store.get(&k("real/value")).unwrap().unwrap(), "inside");
    // Erasing the whole store removes the links, not what they point to.
    store.erase_prefix(&StorePrefix::root()).unwrap();
    assert_eq!(fs::read(outside.path().join("secret")).unwrap(), b"outside");
    assert_eq!(fs::read_dir(root).unwrap().count(), 0);
}

/// Set by the test below when it re-runs itself as an unprivileged user.
const UNREADABLE_DIR_VAR: &str = "TESSERA_TEST_UNREADABLE_DIR";

#[test]
fn filesystem_unreadable_file_is_permission_denied() {
    if let Ok(dir) = std::env::var(UNREADABLE_DIR_VAR) {
        // The unprivileged re-run: the files are not readable for this user.
        return assert_unreadable(Path::new(&dir));
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::set_permissions(root, fs::Permissions::from_mode(0o755)).unwrap();
    fs::write(root.join("secret"), b"x").unwrap();
    fs::set_permissions(root.join("secret"), fs::Permissions::from_mode(0o000)).unwrap();
    fs::create_dir(root.join("locked")).unwrap();
    fs::write(root.join("locked/x"), b"x").unwrap();
    fs::set_permissions(root.join("locked"), fs::Permissions::from_mode(0o000)).unwrap();

    let euid = fs::metadata("/proc/self").unwrap().uid();
    if euid != 0 {
        return assert_unreadable(root);
    }
    // Root reads everything, so run this same test again as `nobody`.
    use std::os::unix::process::CommandExt;
    let exe = std::env::current_exe().unwrap();
    let output = std::process::Command::new(&exe)
        .args([
            "--exact",
            "local::filesystem_unreadable_file_is_permission_denied",
        ])
        .args(["--nocapture", "--test-threads=1"])
        .env(UNREADABLE_DIR_VAR, root)
        .uid(65534)
        .gid(65534)
        .output();
    match output {
        Ok(output) => {
            let stdout = String::from_utf8_lossy(&output.stdout);
            assert!(
                output.status.success() && stdout.contains("1 passed"),
                "the unprivileged re-run failed:\n{stdout}\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        // The binary or the user switch is unavailable here: say so rather than pass silently.
        Err(e) => println!(
            "skipped the PermissionDenied assertion: running as root and cannot re-run as nobody ({e})"
        ),
    }
}

fn assert_unreadable(root: &Path) {
    let store = FilesystemStore::open(root).unwrap();
    let err = store.get(&k("secret")).unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::PermissionDenied, "{err}");
    assert_eq!(err.key(), Some("secret"));
    assert!(
        std::error::Error::source(&err).is_some(),
        "the io::Error is kept"
    );
    let err = store.get(&k("locked/x")).unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::PermissionDenied, "{err}");
    let err = store.list_prefix(&StorePrefix::root()).unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::PermissionDenied, "{err}");
}

#[test]
fn opening_a_filesystem_store() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    let err = FilesystemStore::open(&missing).unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::NotFound, "{err}");
    fs::write(dir.path().join("file"), b"").unwrap();
    let err = FilesystemStore::open(dir.path().join("file")).unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::InvalidUrl, "{err}");

    let created = FilesystemStore::create(missing.join("deeper")).unwrap();
    assert!(missing.join("deeper").is_dir());
    assert_eq!(
        created.root(),
        fs::canonicalize(missing.join("deeper")).unwrap()
    );

    // Paths and file:// URLs open the filesystem store itself.
    for location in [
        dir.path().display().to_string(),
        format!("file://{}", dir.path().display()),
    ] {
        let store = open_store(&location).unwrap();
        store
            .set(&k("via/url"), Bytes::from_static(b"disk"))
            .unwrap();
        assert_eq!(fs::read(dir.path().join("via/url")).unwrap(), b"disk");
        assert!(
            format!("{store:?}").contains("FilesystemStore"),
            "{store:?}"
        );
    }
}

/// Temporary files of interrupted writes are removed once older than the given age, at any depth under the
/// prefix; keys, young temporary files, look-alikes that are not hidden, and files behind a symlinked
/// directory stay.
#[test]
fn filesystem_removes_stale_temporary_files() {
    use std::time::{Duration, SystemTime};
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let root = dir.path();
    let store = FilesystemStore::open(root).unwrap();
    store
        .set(&k("a/0.0"), Bytes::from_static(b"chunk"))
        .unwrap();
    store
        .set(&k("a/1/0"), Bytes::from_static(b"nested"))
        .unwrap();
    let hour_ago = SystemTime::now() - Duration::from_secs(3600);
    let make = |path: &Path, age: Option<SystemTime>| {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let f = fs::File::create(path).unwrap();
        if let Some(t) = age {
            f.set_modified(t).unwrap();
        }
    };
    make(&root.join("a/.0.0.tessera-tmp.99.1"), Some(hour_ago));
    make(&root.join("a/1/.0.tessera-tmp.99.2"), Some(hour_ago));
    make(&root.join("b/.x.tessera-tmp.99.3"), Some(hour_ago));
    make(&root.join("a/.0.1.tessera-tmp.99.4"), None); // a write in progress
    make(&root.join("a/x.tessera-tmp.99.5"), Some(hour_ago)); // a key that merely looks alike
    make(&outside.path().join(".y.tessera-tmp.1.1"), Some(hour_ago));
    symlink(outside.path(), root.join("a/link")).unwrap();

    // Under a prefix: only that subtree.
    let a = StorePrefix::new("a/").unwrap();
    assert_eq!(
        store
            .remove_stale_temp_files(&a, Duration::from_secs(60))
            .unwrap(),
        2
    );
    assert!(root.join("b/.x.tessera-tmp.99.3").exists());
    assert!(root.join("a/.0.1.tessera-tmp.99.4").exists());
    assert!(root.join("a/x.tessera-tmp.99.5").exists());
    assert!(outside.path().join(".y.tessera-tmp.1.1").exists());
    // The whole store; nothing left to do the second time.
    let all = StorePrefix::root();
    assert_eq!(
        store
            .remove_stale_temp_files(&all, Duration::from_secs(60))
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .remove_stale_temp_files(&all, Duration::from_secs(60))
            .unwrap(),
        0
    );
    // Age zero takes the young one too.
    assert_eq!(
        store.remove_stale_temp_files(&all, Duration::ZERO).unwrap(),
        1
    );
    assert_eq!(store.get(&k("a/0.0")).unwrap().unwrap(), "chunk");
    assert_eq!(store.get(&k("a/1/0")).unwrap().unwrap(), "nested");
    assert_eq!(store.get(&k("a/x.tessera-tmp.99.5")).unwrap().unwrap(), "");
    assert_eq!(
        store
            .remove_stale_temp_files(&StorePrefix::new("missing/").unwrap(), Duration::ZERO)
            .unwrap(),
        0
    );
}

/// A FIFO, a socket or a directory where a value should be is `NotAFile` at once for every kind of
/// read (a FIFO without a writer would block a plain `open` forever), never a missing value; listings
/// skip the FIFO and the socket and carry on.
#[test]
#[allow(clippy::single_range_in_vec_init)] // one-range requests are what is tested
fn filesystem_special_files_are_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let store = FilesystemStore::open(root).unwrap();
    store
        .set(&k("a/0.0"), Bytes::from_static(b"chunk"))
        .unwrap();
    let fifo = root.join("a/0.1");
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a plain syscall on a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o644) }, 0);
    let _socket = std::os::unix::net::UnixListener::bind(root.join("a/0.2")).unwrap();
    fs::create_dir_all(root.join("a/0.3/inside")).unwrap();
    fs::create_dir(root.join("a/0.4")).unwrap();

    suite::within(20, "reads of special files", || {
        for (name, what) in [
            ("a/0.1", "FIFO"),
            ("a/0.2", "socket"),
            ("a/0.3", "directory"),
            ("a/0.4", "directory"),
        ] {
            let key = k(name);
            let check = |op: &str, err: tessera_store::StoreError| {
                assert_eq!(err.kind(), StoreErrorKind::NotAFile, "{op} {name}: {err}");
                assert_eq!(err.key(), Some(name));
                assert!(err.to_string().contains(what), "{op} {name}: {err}");
            };
            check("get", store.get(&key).unwrap_err());
            check("size", store.size(&key).unwrap_err());
            check(
                "get_range",
                store.get_range(&key, ByteRange::Suffix(1)).unwrap_err(),
            );
            check("get_ranges", store.get_ranges(&key, &[0..1]).unwrap_err());
            let keys = [k("a/0.0"), key.clone()];
            let results = store.get_many_vec(&keys);
            assert_eq!(results[0].as_ref().unwrap().as_deref(), Some(&b"chunk"[..]));
            check("get_many", results[1].clone().unwrap_err());
            let requests = vec![(k("a/0.0"), vec![0..2]), (key.clone(), vec![0..1])];
            let seen = std::sync::Mutex::new(Vec::new());
            store.get_many_ranges(&requests, &|i, result| {
                seen.lock().unwrap().push((i, result));
            });
            for (i, result) in seen.into_inner().unwrap() {
                match i {
                    0 => assert_eq!(result.unwrap().unwrap(), vec![Bytes::from_static(b"ch")]),
                    _ => check("get_many_ranges", result.unwrap_err()),
                }
            }
        }
    });
    // Listings skip what is not a value; directories stay prefixes.
    assert_eq!(
        store.list_prefix(&StorePrefix::root()).unwrap(),
        vec![k("a/0.0")]
    );
    let (keys, prefixes) = store.list_dir(&StorePrefix::new("a/").unwrap()).unwrap();
    assert_eq!(keys, vec![k("a/0.0")]);
    assert!(prefixes.is_empty(), "{prefixes:?}");
    assert_eq!(
        store.list_prefix_sizes(&StorePrefix::root()).unwrap(),
        vec![(k("a/0.0"), 5)]
    );
    // Writing a value replaces a FIFO.
    store.set(&k("a/0.1"), Bytes::from_static(b"v")).unwrap();
    assert_eq!(store.get(&k("a/0.1")).unwrap().unwrap(), "v");
}

/// Lock files: never listed, never readable as keys; one left by a killed writer does not stop later
/// writes; `remove_stale_temp_files` removes old ones nobody holds and keeps a held one.
#[test]
fn filesystem_lock_files_stay_out_of_sight() {
    use std::os::fd::AsRawFd;
    use std::time::{Duration, SystemTime};
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let store = FilesystemStore::builder(root)
        .lock_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    store.set(&k("a/0.0"), Bytes::from_static(b"x")).unwrap();
    // Writes leave no lock file behind.
    let names: Vec<String> = fs::read_dir(root.join("a"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["0.0".to_string()]);
    // What a writer killed while holding the lock leaves behind.
    let stale = root.join("a/.0.0.tessera-lock");
    fs::File::create(&stale)
        .unwrap()
        .set_modified(SystemTime::now() - Duration::from_secs(3600))
        .unwrap();
    assert_eq!(
        store.list_prefix(&StorePrefix::root()).unwrap(),
        vec![k("a/0.0")]
    );
    for name in ["a/.0.0.tessera-lock", "a/.0.0.tessera-tmp.1.2"] {
        let err = store.get(&k(name)).unwrap_err();
        assert_eq!(err.kind(), StoreErrorKind::InvalidKey, "{err}");
        let err = store.set(&k(name), Bytes::new()).unwrap_err();
        assert_eq!(err.kind(), StoreErrorKind::InvalidKey, "{err}");
    }
    store
        .update(&k("a/0.0"), &mut |v| {
            Update::Set([&v.unwrap()[..], b"y"].concat().into())
        })
        .unwrap();
    assert_eq!(store.get(&k("a/0.0")).unwrap().unwrap(), "xy");
    assert!(!stale.exists(), "the stale lock file is reused and removed");

    // A held lock: writers of that key wait, then give up with Timeout; others carry on.
    let held_path = root.join("a/.0.1.tessera-lock");
    let held = fs::File::create(&held_path).unwrap();
    held.set_modified(SystemTime::now() - Duration::from_secs(3600))
        .unwrap();
    // SAFETY: a plain syscall on a descriptor we own.
    assert_eq!(unsafe { libc::flock(held.as_raw_fd(), libc::LOCK_EX) }, 0);
    let err = store
        .set(&k("a/0.1"), Bytes::from_static(b"z"))
        .unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Timeout, "{err}");
    store.set(&k("a/0.2"), Bytes::from_static(b"z")).unwrap();
    let orphan = root.join("a/.0.3.tessera-lock");
    fs::File::create(&orphan)
        .unwrap()
        .set_modified(SystemTime::now() - Duration::from_secs(3600))
        .unwrap();
    let removed = store
        .remove_stale_temp_files(&StorePrefix::root(), Duration::from_secs(60))
        .unwrap();
    assert_eq!(removed, 1);
    assert!(!orphan.exists());
    assert!(held_path.exists(), "a held lock file is never removed");
    drop(held);
    store.set(&k("a/0.1"), Bytes::from_static(b"z")).unwrap();
    assert_eq!(
        store.list_prefix(&StorePrefix::root()).unwrap(),
        vec![k("a/0.0"), k("a/0.1"), k("a/0.2")]
    );
}

//! Malformed stores through the `tessera` binary: every command ends with a non-zero exit and one
//! `tessera: error:` line (no panic text), within a 1 GiB address-space limit, a 256 MiB file-size limit
//! and 30 s, and writes nothing outside its target.
//!
//! # Finding the binary
//! `env!("CARGO_BIN_EXE_tessera")` exists only in tessera-cli's own tests. This test binary is
//! `TARGET/PROFILE/deps/tests-HASH`, so the CLI is `TARGET/PROFILE/tessera`; the first test that needs
//! it runs `cargo build -p tessera-cli --bin tessera` with the cargo that built the tests, for the same
//! profile and target directory (a no-op when `cargo test --workspace` has just built it). Set
//! `TESSERA_CLI` to test another binary.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use serde_json::json;
use tessera_array::{ArrayBuilder, DataType, Group};
use tessera_store::{Bytes, FilesystemStore, Store, StoreKey};

use super::bad_input::{hostile_store, snapshot, symlinked_store, zarray};
use super::process::{Running, is_child};

const CLI_TIMEOUT: Duration = Duration::from_secs(30);
const CLI_ADDRESS_SPACE: u64 = 1 << 30;
const CLI_FILE_SIZE: u64 = 256 << 20;

/// The `tessera` binary (see the module docs).
fn tessera_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(path) = std::env::var_os("TESSERA_CLI") {
            return PathBuf::from(path);
        }
        let exe = std::env::current_exe().unwrap();
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("the test binary lives in TARGET/PROFILE/deps");
        let target_dir = profile_dir.parent().expect("TARGET/PROFILE");
        let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") => "dev",
            Some(name) => name,
            None => panic!("no profile directory above {exe:?}"),
        };
        let status = Command::new(env!("CARGO"))
            .args([
                "build",
                "--quiet",
                "--package",
                "tessera-cli",
                "--bin",
                "tessera",
            ])
            .args(["--profile", profile])
            .env("CARGO_TARGET_DIR", target_dir)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building the tessera binary failed");
        let bin = profile_dir.join("tessera");
        assert!(bin.exists(), "{bin:?} missing after the build");
        bin
    })
}

/// What one run of the binary gave.
struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

/// Runs `tessera ARGS` with no cloud credentials, under the address-space limit, bounded in time.
fn run(args: &[&str]) -> Outcome {
    let mut cmd = Command::new(tessera_bin());
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for var in [
        "AWS_ENDPOINT",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_REGION",
        "AWS_ALLOW_HTTP",
    ] {
        cmd.env_remove(var);
    }
    // SAFETY: the closure only calls setrlimit, which is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: CLI_ADDRESS_SPACE,
                rlim_max: CLI_ADDRESS_SPACE,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // No file the binary writes may grow past this: a runaway export fails instead of
            // filling the disk.
            let size = libc::rlimit {
                rlim_cur: CLI_FILE_SIZE,
                rlim_max: CLI_FILE_SIZE,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &size) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let started = Instant::now();
    let (status, stdout, stderr) =
        Running::start(cmd, format!("tessera {args:?}")).outcome(CLI_TIMEOUT);
    Outcome {
        code: status.code(),
        stdout,
        stderr,
        elapsed: started.elapsed(),
    }
}

/// Asserts a clean failure: exit code 1 or 2, one `tessera: error:` line, no panic or abort text.
/// Returns stderr.
fn fails(args: &[&str]) -> String {
    let out = run(args);
    let show = format!(
        "tessera {args:?}: exit {:?} after {:?}\nstdout: {}\nstderr: {}",
        out.code, out.elapsed, out.stdout, out.stderr
    );
    assert!(matches!(out.code, Some(1 | 2)), "{show}");
    assert!(out.stderr.starts_with("tessera: error: "), "{show}");
    assert_eq!(out.stderr.trim_end().lines().count(), 1, "{show}");
    for bad in [
        "panicked",
        "RUST_BACKTRACE",
        "stack backtrace",
        "memory allocation",
        "internal error",
    ] {
        assert!(!out.stderr.contains(bad), "{show}");
    }
    out.stderr
}

/// Asserts success; returns stdout.
fn succeeds(args: &[&str]) -> String {
    let out = run(args);
    assert_eq!(
        out.code,
        Some(0),
        "tessera {args:?}: stderr: {}",
        out.stderr
    );
    out.stdout
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn fs_store(dir: &Path) -> Arc<dyn Store> {
    Arc::new(FilesystemStore::create(dir).unwrap())
}

/// A `.npy` file of 8 little-endian i4 values.
fn small_npy(path: &Path) {
    let header =
        tessera_mmap::npy::NpyHeader::new(DataType::parse_typestr("<i4").unwrap(), vec![8], false);
    let mut bytes = header.to_bytes();
    bytes.extend((0..8i32).flat_map(|v| v.to_le_bytes()));
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn cli_reports_malformed_metadata_cleanly() {
    if is_child() {
        return;
    }
    let base = tempfile::tempdir().unwrap();
    let root = base.path().join("json.zarr");
    let store = fs_store(&root);
    Group::create(store.clone(), "").unwrap();
    let good = zarray(json!({"id": "zstd", "level": 1})).to_string();
    let mut docs: Vec<(&str, String)> = vec![
        ("not_json", "{not json".into()),
        ("truncated", good[..good.len() / 2].to_string()),
        ("empty", String::new()),
        ("binary", "\u{0}\u{1}\u{fffd}".into()),
        ("nested", "[".repeat(100_000)),
        ("shape_string", good.replace("[64]", "\"64\"")),
        ("shape_negative", good.replace("[64]", "[-64]")),
        ("chunks_zero", good.replace("[32]", "[0]")),
        ("dtype_number", good.replace("\"<f8\"", "8")),
        ("dtype_unknown", good.replace("\"<f8\"", "\"<q9\"")),
        ("fill_object", good.replace("0.0", "{}")),
        ("codec_unknown", good.replace("\"zstd\"", "\"nope\"")),
        (
            "format_3",
            good.replace("\"zarr_format\":2", "\"zarr_format\":3"),
        ),
    ];
    docs.push(("bad_attrs", good.clone()));
    for (name, doc) in &docs {
        store
            .set(
                &StoreKey::new(format!("{name}/.zarray")).unwrap(),
                Bytes::from(doc.clone()),
            )
            .unwrap();
    }
    store
        .set(
            &StoreKey::new("bad_attrs/.zattrs").unwrap(),
            Bytes::from("[1, 2"),
        )
        .unwrap();
    let out = base.path().join("out.npy");
    let dst = base.path().join("dst.zarr");
    for (name, _) in &docs {
        let err = fails(&["info", s(&root), "--array", name]);
        if *name != "bad_attrs" {
            assert!(
                err.contains("metadata") || err.contains("codec"),
                "{name}: {err}"
            );
        }
        if *name == "bad_attrs" {
            // Export and copy do not read attributes (copy moves the document as stored).
            continue;
        }
        fails(&["export", s(&root), "--array", name, "-o", s(&out)]);
        assert!(!out.exists(), "{name}: a failed export left its output");
        fails(&["copy", s(&root), s(&dst), "--array", name]);
    }
    // The whole hierarchy, broken documents and all.
    fails(&["info", s(&root)]);
    fails(&["copy", s(&root), s(&dst)]);
    // A broken .zgroup and .zmetadata.
    std::fs::write(root.join(".zmetadata"), "{\"metadata\": [").unwrap();
    fails(&["info", s(&root)]);
    std::fs::write(root.join(".zgroup"), "{\"zarr_format\": \"two\"}").unwrap();
    std::fs::remove_file(root.join(".zmetadata")).unwrap();
    fails(&["info", s(&root)]);
}

#[test]
fn cli_reports_bad_chunks_and_bombs_cleanly_within_memory() {
    if is_child() {
        return;
    }
    let base = tempfile::tempdir().unwrap();
    let root = base.path().join("chunks.zarr");
    std::fs::create_dir(&root).unwrap();
    let mut names = hostile_store(&root);
    // Truncated, garbage and oversized chunks for a few codecs.
    let store = fs_store(&root);
    for (n, compressor) in [
        json!(null),
        json!({"id": "zstd", "level": 1}),
        json!({"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0}),
        json!({"id": "gzip", "level": 1}),
    ]
    .into_iter()
    .enumerate()
    {
        let arr = ArrayBuilder::new(
            vec![1024],
            vec![512],
            DataType::parse_typestr("<u8").unwrap(),
        )
        .compressor(Some(compressor).filter(|c| !c.is_null()))
        .create(store.clone(), &format!("c{n}"))
        .unwrap();
        arr.write((), &ndarray::Array1::from_shape_fn(1024, |i| i as u64))
            .unwrap();
        let k = arr.chunk_key(&[1]).unwrap();
        let good = store.get(&k).unwrap().unwrap().to_vec();
        for (what, bytes) in [
            ("truncated", good[..good.len() / 2].to_vec()),
            ("garbage", vec![0x5A; 333]),
            ("oversized", [good.clone(), vec![1; 8192]].concat()),
            ("empty", vec![]),
        ] {
            let name = format!("c{n}_{what}");
            let copy = ArrayBuilder::new(
                vec![1024],
                vec![512],
                DataType::parse_typestr("<u8").unwrap(),
            )
            .compressor(arr.metadata().compressor.clone())
            .create(store.clone(), &name)
            .unwrap();
            store
                .set(&copy.chunk_key(&[1]).unwrap(), Bytes::from(bytes))
                .unwrap();
            // Trailing junk after a complete stream may be ignored by some decoders.
            if what != "oversized" || n == 0 {
                names.push(name);
            }
        }
    }
    let out = base.path().join("out.npy");
    let mut slowest = Duration::ZERO;
    for name in &names {
        let started = Instant::now();
        let err = fails(&["export", s(&root), "--array", name, "-o", s(&out)]);
        assert!(err.contains(name.as_str()), "{name}: {err}");
        assert!(!out.exists(), "{name}: a failed export left its output");
        // Copying as stored moves bytes without decoding them; recompressing must decode.
        let dst = base.path().join(format!("dst-{name}.zarr"));
        fails(&[
            "copy",
            s(&root),
            s(&dst),
            "--array",
            name,
            "--compressor",
            if name.starts_with("c0_") {
                r#"{"id": "zlib", "level": 1}"#
            } else {
                "none"
            },
        ]);
        slowest = slowest.max(started.elapsed());
    }
    // Info does not decode chunks: it succeeds on the whole store.
    succeeds(&["info", s(&root)]);
    // The limit leaves room for honest work: a valid export and copy succeed under it.
    succeeds(&["export", s(&root), "--array", "c1", "-o", s(&out)]);
    println!(
        "{} bad chunks refused by export and copy; slowest pair {slowest:?}",
        names.len()
    );
}

#[test]
fn cli_refuses_to_leave_the_store_through_symlinks_and_dot_dot() {
    if is_child() {
        return;
    }
    let base = tempfile::tempdir().unwrap();
    let (root, outside) = symlinked_store(base.path());
    let before_outside = snapshot(&outside);
    let out = base.path().join("out.npy");
    for array in ["linked_chunk", "linked_dir", "linked_meta"] {
        fails(&["export", s(&root), "--array", array, "-o", s(&out)]);
        assert!(!out.exists());
    }
    for array in [
        "linked_dir",
        "linked_meta",
        "../outside/arr",
        "../../x",
        "a/../..",
    ] {
        fails(&["info", s(&root), "--array", array]);
    }
    let npy = base.path().join("in.npy");
    small_npy(&npy);
    for array in [
        "linked_group/new",
        "linked_dir/new",
        "../outside/new",
        "../evil",
    ] {
        fails(&[
            "import",
            s(&npy),
            s(&root),
            "--array",
            array,
            "--chunks",
            "4",
        ]);
    }
    // A copy whose source holds an array at a path that is a link to outside in the destination.
    let src = base.path().join("src.zarr");
    succeeds(&[
        "import",
        s(&npy),
        s(&src),
        "--array",
        "linked_group/x",
        "--chunks",
        "4",
    ]);
    fails(&["copy", s(&src), s(&root)]);
    // Consolidated metadata naming nodes outside the group.
    let sneaky = base.path().join("sneaky.zarr");
    let store = fs_store(&sneaky);
    Group::create(store.clone(), "").unwrap();
    for bad_key in ["../evil/.zarray", "a/../../evil/.zarray"] {
        let doc = json!({
            "zarr_consolidated_format": 1,
            "metadata": {".zgroup": {"zarr_format": 2}, bad_key: zarray(json!(null))}
        });
        std::fs::write(sneaky.join(".zmetadata"), doc.to_string()).unwrap();
        fails(&["info", s(&sneaky)]);
        fails(&["copy", s(&sneaky), s(&base.path().join("copied.zarr"))]);
        fails(&["export", s(&sneaky), "--array", "../evil", "-o", s(&out)]);
    }
    assert_eq!(
        snapshot(&outside),
        before_outside,
        "something outside changed"
    );
    let mut top: Vec<String> = std::fs::read_dir(base.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    top.sort();
    assert!(
        !top.iter().any(|n| n.contains("evil") || n == "out.npy"),
        "{top:?}"
    );
}

#[test]
fn cli_handles_huge_shapes_within_memory_and_time() {
    if is_child() {
        return;
    }
    let base = tempfile::tempdir().unwrap();
    let root = base.path().join("huge.zarr");
    let store = fs_store(&root);
    Group::create(store.clone(), "").unwrap();
    let u1 = DataType::parse_typestr("|u1").unwrap();
    let huge = ArrayBuilder::new(vec![1 << 62], vec![1000], u1.clone())
        .compressor(Some(json!({"id": "zstd", "level": 1})))
        .fill_value(json!(3))
        .create(store.clone(), "huge")
        .unwrap();
    huge.write("-5:", &ndarray::Array1::from_elem(5, 9u8))
        .unwrap();
    ArrayBuilder::new(vec![1 << 40; 3], vec![1; 3], u1.clone())
        .create(store.clone(), "wide")
        .unwrap()
        .write("0:2, 0:2, 0:2", &ndarray::Array3::from_elem((2, 2, 2), 1u8))
        .unwrap();
    ArrayBuilder::new(vec![u64::MAX], vec![1 << 20], u1)
        .create(store.clone(), "max")
        .unwrap();
    let info = succeeds(&["info", s(&root)]);
    assert!(info.contains("4611686018427387904"), "{info}");
    for array in ["huge", "wide", "max"] {
        succeeds(&["info", s(&root), "--array", array, "--json"]);
    }
    let out = base.path().join("out.npy");
    // More than 2^64 elements: refused before anything is written.
    let err = fails(&["export", s(&root), "--array", "wide", "-o", s(&out)]);
    assert!(!out.exists(), "{err}");
    succeeds(&[
        "export",
        s(&root),
        "--array",
        "huge",
        "--select",
        "-7:",
        "-o",
        s(&out),
    ]);
    let bytes = std::fs::read(&out).unwrap();
    assert!(bytes.ends_with(&[3, 3, 9, 9, 9, 9, 9]));
    // Copies move the stored chunks only, whatever the grid.
    let dst = base.path().join("copy.zarr");
    succeeds(&["copy", s(&root), s(&dst)]);
    let copied = tessera_array::Array::open(fs_store(&dst), "huge").unwrap();
    assert_eq!(copied.stored_chunks().unwrap().0, 1);
}

/// Exporting a whole 2^62-element (or 2^64-byte) array is refused up front, before a byte is written:
/// the output could never fit on the disk, and writing it would only end when the disk is full.
#[test]
fn cli_export_of_a_huge_array_fails_fast() {
    let base = tempfile::tempdir().unwrap();
    let root = base.path().join("huge.zarr");
    let store = fs_store(&root);
    let u1 = DataType::parse_typestr("|u1").unwrap();
    for (name, shape) in [("huge", 1u64 << 62), ("max", u64::MAX)] {
        ArrayBuilder::new(vec![shape], vec![1 << 20], u1.clone())
            .create(store.clone(), name)
            .unwrap();
        let out = base.path().join("out.npy");
        for limit in [None, Some("256M")] {
            let mut args = vec!["export", s(&root), "--array", name, "-o", s(&out)];
            if let Some(limit) = limit {
                args.extend(["--memory-limit", limit]);
            }
            let err = fails(&args);
            assert!(!out.exists(), "{name}: {err}");
        }
    }
}

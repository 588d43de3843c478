//! Several processes: readers map one file at once; a writer writes and flushes; a new process sees it.
//!
//! The children are this test binary again, running only [`child_role`] with the role in the
//! environment; each must finish within [`CHILD_TIMEOUT`].

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ndarray::Array2;
use tessera_mmap::{Mode, RawLayout};

use crate::common::{dt, open};

const ROLE: &str = "TESSERA_MMAP_CHILD";
const PATH: &str = "TESSERA_MMAP_CHILD_PATH";
const SEED: &str = "TESSERA_MMAP_CHILD_SEED";
const CHILD_TIMEOUT: Duration = Duration::from_secs(120);
const ROWS: usize = 256;
const COLS: usize = 1024;

fn pattern(seed: u32) -> Array2<u32> {
    Array2::from_shape_fn((ROWS, COLS), |(i, j)| {
        (i as u32).wrapping_mul(1_000_003) ^ (j as u32) ^ seed.wrapping_mul(0x9E37_79B9)
    })
}

/// The child's side: does nothing unless started by [`spawn`].
#[test]
fn child_role() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    let path = std::env::var(PATH).unwrap();
    let seed: u32 = std::env::var(SEED).unwrap().parse().unwrap();
    let path = Path::new(&path);
    match role.as_str() {
        "read" => {
            let a = open(path, Mode::ReadOnly).unwrap();
            let expected = pattern(seed);
            for round in 0..20 {
                assert_eq!(
                    a.read::<u32>(()).unwrap(),
                    expected.clone().into_dyn(),
                    "round {round}"
                );
                let r = round % 7;
                let got = a.read::<u32>(format!("{r}::7, {r}::13").as_str()).unwrap();
                assert_eq!(got, expected.slice(ndarray::s![r..;7, r..;13]).into_dyn());
            }
        }
        "write" => {
            let a = open(path, Mode::ReadWrite).unwrap();
            a.write((), &pattern(seed)).unwrap();
            a.flush().unwrap();
        }
        other => panic!("unknown child role {other}"),
    }
    println!("child {role} done");
}

fn spawn(role: &str, path: &Path, seed: u32) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "processes::child_role",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ROLE, role)
        .env(PATH, path)
        .env(SEED, seed.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for a child (killing it after the timeout) and checks it ran the role and succeeded.
fn finish(mut child: Child, what: &str) {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > CHILD_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: child still running after {CHILD_TIMEOUT:?}, killed");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("done") && stdout.contains("1 passed"),
        "{what}: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn processes_share_a_file() {
    if std::env::var(ROLE).is_ok() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.npy");
    // SAFETY: a private temporary directory; the children only read it while nobody writes.
    let a = unsafe {
        tessera_mmap::MmapArray::create(
            &path,
            &RawLayout::new(dt("<u4"), vec![ROWS as u64, COLS as u64]),
        )
    }
    .unwrap();
    a.write((), &pattern(1)).unwrap();
    a.flush().unwrap();
    drop(a);

    // Several readers map the file at the same time.
    let readers: Vec<Child> = (0..4).map(|_| spawn("read", &path, 1)).collect();
    for (i, child) in readers.into_iter().enumerate() {
        finish(child, &format!("reader {i}"));
    }
    // One process writes and flushes, then exits; a new process sees the new data, and so do we.
    finish(spawn("write", &path, 2), "writer");
    finish(spawn("read", &path, 2), "reader after the write");
    assert_eq!(
        open(&path, Mode::ReadOnly)
            .unwrap()
            .read::<u32>(())
            .unwrap(),
        pattern(2).into_dyn()
    );
}

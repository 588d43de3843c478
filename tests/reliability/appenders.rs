//! Eight processes appending to one array on the filesystem at once: every appended block lands,
//! once, whole, and the final shape counts them all (shape changes take turns under the lock of the
//! array's metadata document; without it two appends starting from one shape overwrite each other).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ndarray::Array2;
use serde_json::json;
use tessera_array::{Array, ArrayBuilder, DataType};
use tessera_store::{FilesystemStore, Store, open_store};

use super::Rng;
use super::process::{CHILD_TIMEOUT, Running, arg, child, is_child};

const LOCATION: &str = "TESSERA_RELIABILITY_LOCATION";
const INDEX: &str = "TESSERA_RELIABILITY_INDEX";
const SEED: &str = "TESSERA_RELIABILITY_BOX_SEED";
const GO: &str = "TESSERA_RELIABILITY_GO";
const PROCS: u32 = 8;
const APPENDS: u32 = 8;
const COLS: usize = 4;

/// Child role: process `INDEX` appends [`APPENDS`] blocks of 1 to 3 rows to `log` at `LOCATION`
/// once the file `GO` exists, through one handle opened before the first (so its shape is stale by
/// the time it appends); every element of a block holds the block's own value. Prints one
/// `append VALUE ROWS` line per block.
pub fn append_rows() {
    let store = open_store(&arg(LOCATION)).unwrap();
    let mut arr = Array::open(store, "log").unwrap();
    let p: u32 = arg(INDEX).parse().unwrap();
    let mut rng = Rng::new(arg(SEED).parse().unwrap());
    println!("ready");
    let go = arg(GO);
    let deadline = Instant::now() + CHILD_TIMEOUT;
    while !Path::new(&go).exists() {
        assert!(Instant::now() < deadline, "no go signal");
        std::thread::sleep(Duration::from_millis(1));
    }
    for n in 0..APPENDS {
        let rows = 1 + rng.below(3) as usize;
        let value = ((p + 1) << 16) | (n + 1);
        arr.append(&Array2::from_elem((rows, COLS), value), 0)
            .unwrap();
        println!("append {value} {rows}");
    }
}

#[test]
fn eight_processes_appending_to_one_array_lose_no_rows() {
    if is_child() {
        return;
    }
    let mut rng = Rng::from_env("eight_processes_appending_to_one_array_lose_no_rows");
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(FilesystemStore::open(dir.path()).unwrap());
    ArrayBuilder::new(
        vec![0, COLS as u64],
        vec![3, COLS as u64],
        DataType::parse_typestr("<u4").unwrap(),
    )
    .compressor(Some(json!({"id": "zlib", "level": 1})))
    .fill_value(json!(0))
    .create(store.clone(), "log")
    .unwrap();
    let go_dir = tempfile::tempdir().unwrap();
    let go = go_dir.path().join("go");
    let mut appenders: Vec<Running> = (0..PROCS)
        .map(|p| {
            let mut cmd = child("append-rows");
            cmd.env(LOCATION, dir.path())
                .env(INDEX, p.to_string())
                .env(SEED, rng.next_u64().to_string())
                .env(GO, &go);
            Running::start(cmd, format!("appender {p}"))
        })
        .collect();
    for a in &mut appenders {
        a.wait_for("ready");
    }
    std::fs::write(&go, b"go").unwrap();
    let mut blocks: Vec<(u32, usize)> = appenders
        .into_iter()
        .flat_map(|a| a.finish())
        .filter_map(|line| {
            let rest = line.strip_prefix("append ")?;
            let mut it = rest.split(' ').map(|t| t.parse::<u64>().unwrap());
            Some((it.next()? as u32, it.next()? as usize))
        })
        .collect();
    assert_eq!(blocks.len(), (PROCS * APPENDS) as usize);
    let arr = Array::open(store, "log").unwrap();
    let total: usize = blocks.iter().map(|b| b.1).sum();
    assert_eq!(arr.shape(), [total as u64, COLS as u64], "rows were lost");
    // Read back: runs of equal rows, each one block, each block exactly once.
    let data = arr.read::<u32>(()).unwrap();
    let mut found = Vec::new();
    let mut row = 0;
    while row < total {
        let value = data[[row, 0]];
        let mut len = 0;
        while row + len < total && data[[row + len, 0]] == value {
            assert!(
                (0..COLS).all(|c| data[[row + len, c]] == value),
                "a torn row"
            );
            len += 1;
        }
        found.push((value, len));
        row += len;
    }
    found.sort_unstable();
    blocks.sort_unstable();
    assert_eq!(found, blocks, "every block once, whole, in one place");
}

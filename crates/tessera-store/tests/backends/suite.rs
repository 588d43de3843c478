//! The shared suite: every backend runs these same checks.
//!
//! `check_reads` needs only reading and runs against stores seeded by other means (GCS through
//! its JSON API, HTTP through the served directory); `check_store` writes, lists and erases,
//! then runs the reads on what it wrote. Each run works under its own prefix, so a server shared
//! by several runs never mixes their keys.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rayon::prelude::*;
use tessera_store::{
    ByteRange, Bytes, ReadableStore, ReadableStoreExt, Store, StoreErrorKind, StoreKey,
    StorePrefix, Update,
};

/// Size of the large seeded value the range checks read from.
pub const BIG_LEN: usize = 70_000;

/// The values every read check expects, by key relative to the run's prefix: metadata, flat
/// (`0.1`) and nested (`0/1`) chunk keys side by side, an empty value and a large one.
pub fn seed_values() -> BTreeMap<String, Vec<u8>> {
    let mut values = BTreeMap::new();
    values.insert(".zgroup".to_owned(), br#"{"zarr_format": 2}"#.to_vec());
    values.insert(
        "flat/.zarray".to_owned(),
        br#"{"chunks": [4, 4], "dimension_separator": "."}"#.to_vec(),
    );
    values.insert(
        "nested/.zarray".to_owned(),
        br#"{"chunks": [4, 4], "dimension_separator": "/"}"#.to_vec(),
    );
    for i in 0..6 {
        for j in 0..4 {
            values.insert(format!("flat/{i}.{j}"), chunk_bytes(i, j));
            values.insert(format!("nested/{i}/{j}"), chunk_bytes(i + 100, j));
        }
    }
    values.insert("empty".to_owned(), Vec::new());
    values.insert("big.bin".to_owned(), big_value());
    values
}

fn chunk_bytes(i: usize, j: usize) -> Vec<u8> {
    (0..(40 + 7 * i + j))
        .map(|n| (n * 31 + i * 7 + j) as u8)
        .collect()
}

fn big_value() -> Vec<u8> {
    (0..BIG_LEN).map(|n| (n % 251) as u8).collect()
}

pub fn key(prefix: &StorePrefix, name: &str) -> StoreKey {
    prefix.key(name).unwrap()
}

/// Writes the seed values under `prefix` (all at once through `set_many`).
pub fn seed(store: &dyn Store, prefix: &StorePrefix) {
    let items = seed_values()
        .into_iter()
        .map(|(name, value)| (key(prefix, &name), Bytes::from(value)))
        .collect();
    store.set_many(items).unwrap();
}

/// A unique prefix for one run against a shared server.
#[cfg(feature = "cloud")]
pub fn run_prefix(label: &str) -> StorePrefix {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    StorePrefix::new(format!("{label}-{}-{nanos}/", std::process::id())).unwrap()
}

/// Runs `f`, aborting the whole test process if it has not returned after `secs` seconds:
/// a deadlocked batch read must fail the run, not hang it.
pub fn within<T: Send>(secs: u64, what: &str, f: impl FnOnce() -> T + Send) -> T {
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    std::thread::scope(move |scope| {
        scope.spawn(move || {
            // A send means done; a hang-up means `f` panicked, which fails the test anyway.
            if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                done_rx.recv_timeout(Duration::from_secs(secs))
            {
                eprintln!("{what} did not finish within {secs} s (deadlock?)");
                std::process::abort();
            }
        });
        let result = f();
        let _ = done_tx.send(());
        result
    })
}

/// Every read check, on values seeded under `prefix`.
pub fn check_reads(store: &dyn ReadableStore, prefix: &StorePrefix) {
    let values = seed_values();
    check_gets(store, prefix, &values);
    check_ranges(store, prefix);
    check_multi_ranges(store, prefix, &values);
    check_batches(store, prefix, &values);
}

fn check_gets(store: &dyn ReadableStore, prefix: &StorePrefix, values: &BTreeMap<String, Vec<u8>>) {
    for (name, value) in values {
        let k = key(prefix, name);
        let got = store.get(&k).unwrap_or_else(|e| panic!("get {k}: {e}"));
        assert_eq!(got.as_deref(), Some(&value[..]), "get {k}");
        assert_eq!(
            store.size(&k).unwrap(),
            Some(value.len() as u64),
            "size {k}"
        );
        assert!(store.exists(&k).unwrap());
    }
    for missing in [
        "missing",
        "flat/9.9",
        "nested/9/9",
        "no/such/dir/key",
        "big.bin/x",
    ] {
        let k = key(prefix, missing);
        assert_eq!(store.get(&k).unwrap(), None, "get {k}");
        assert_eq!(store.size(&k).unwrap(), None, "size {k}");
        assert!(!store.exists(&k).unwrap());
        assert_eq!(store.get_range(&k, ByteRange::Suffix(1)).unwrap(), None);
    }
}

fn check_ranges(store: &dyn ReadableStore, prefix: &StorePrefix) {
    let big = big_value();
    let k = key(prefix, "big.bin");
    let len = BIG_LEN as u64;
    let ok = |range: ByteRange, want: &[u8]| {
        let got = store
            .get_range(&k, range)
            .unwrap_or_else(|e| panic!("range {range:?}: {e}"))
            .expect("value exists");
        assert_eq!(got.len(), want.len(), "range {range:?}");
        assert!(got == want, "range {range:?}: wrong bytes");
    };
    ok(
        ByteRange::FromStart {
            offset: 0,
            length: Some(10),
        },
        &big[..10],
    );
    ok(
        ByteRange::FromStart {
            offset: 1234,
            length: Some(5000),
        },
        &big[1234..6234],
    );
    ok(
        ByteRange::FromStart {
            offset: 60_000,
            length: None,
        },
        &big[60_000..],
    );
    ok(
        ByteRange::FromStart {
            offset: len - 1,
            length: Some(1),
        },
        &big[BIG_LEN - 1..],
    );
    ok(
        ByteRange::FromStart {
            offset: len,
            length: None,
        },
        &[],
    );
    ok(
        ByteRange::FromStart {
            offset: 5,
            length: Some(0),
        },
        &[],
    );
    ok(ByteRange::Suffix(100), &big[BIG_LEN - 100..]);
    ok(ByteRange::Suffix(len), &big);
    ok(ByteRange::Suffix(0), &[]);
    ok(ByteRange::ALL, &big);
    ok(ByteRange::from_range(10..20), &big[10..20]);

    let past_end = [
        ByteRange::FromStart {
            offset: len - 10,
            length: Some(11),
        },
        ByteRange::FromStart {
            offset: len + 1,
            length: None,
        },
        ByteRange::FromStart {
            offset: len + 5,
            length: Some(3),
        },
        ByteRange::FromStart {
            offset: 0,
            length: Some(u64::MAX),
        },
        ByteRange::FromStart {
            offset: len + 1,
            length: Some(0),
        },
        ByteRange::Suffix(len + 1),
    ];
    for range in past_end {
        let err = store.get_range(&k, range).unwrap_err();
        assert_eq!(err.kind(), StoreErrorKind::InvalidRange, "{range:?}: {err}");
        assert_eq!(err.key(), Some(k.as_str()), "{range:?}: {err}");
        assert!(err.to_string().contains("does not lie within"), "{err}");
    }

    let empty = key(prefix, "empty");
    assert_eq!(
        store
            .get_range(&empty, ByteRange::ALL)
            .unwrap()
            .unwrap()
            .len(),
        0
    );
    let err = store.get_range(&empty, ByteRange::Suffix(1)).unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::InvalidRange);
}

/// `get_ranges` and `get_many_ranges`: several parts of a value in one call, in the order asked
/// (overlapping, unordered, empty parts included); missing values are `None`; a range past the end
/// fails the whole value.
#[allow(clippy::single_range_in_vec_init)] // one-range requests are what is tested
fn check_multi_ranges(
    store: &dyn ReadableStore,
    prefix: &StorePrefix,
    values: &BTreeMap<String, Vec<u8>>,
) {
    let big = big_value();
    let k = key(prefix, "big.bin");
    let len = BIG_LEN as u64;
    let ranges = vec![
        60_000..60_100,
        0..10,
        5..5,
        5..15,
        1000..21_000,
        len - 3..len,
    ];
    let got = store
        .get_ranges(&k, &ranges)
        .unwrap_or_else(|e| panic!("get_ranges: {e}"))
        .expect("value exists");
    assert_eq!(got.len(), ranges.len());
    for (r, part) in ranges.iter().zip(&got) {
        assert!(part[..] == big[r.start as usize..r.end as usize], "{r:?}");
    }
    assert_eq!(store.get_ranges(&k, &[]).unwrap(), Some(vec![]));
    assert_eq!(
        store.get_ranges(&key(prefix, "missing"), &[0..1]).unwrap(),
        None
    );
    for bad in [len - 1..len + 1, len + 1..len + 2] {
        let err = store.get_ranges(&k, &[0..1, bad.clone()]).unwrap_err();
        assert_eq!(err.kind(), StoreErrorKind::InvalidRange, "{bad:?}: {err}");
        assert_eq!(err.key(), Some(k.as_str()), "{bad:?}: {err}");
    }

    // A batch: every chunk key in two parts, missing keys, the big value, a bad range.
    let mut requests: Vec<(StoreKey, Vec<std::ops::Range<u64>>)> = values
        .iter()
        .filter(|(name, v)| name.contains('/') && !name.ends_with(".zarray") && v.len() >= 40)
        .map(|(name, _)| (key(prefix, name), vec![30..40, 0..3]))
        .collect();
    requests.push((key(prefix, "missing/1"), vec![0..1]));
    requests.push((k.clone(), ranges.clone()));
    requests.push((k.clone(), vec![0..len + 1]));
    let calls = Mutex::new(vec![0usize; requests.len()]);
    within(120, "get_many_ranges", || {
        store.get_many_ranges(&requests, &|index, result| {
            let (key, ranges) = &requests[index];
            let name = &key.as_str()[prefix.as_str().len()..];
            match values.get(name) {
                None => assert_eq!(result.unwrap(), None, "{key}"),
                Some(_) if ranges.iter().any(|r| r.end > len) => {
                    let err = result.unwrap_err();
                    assert_eq!(err.kind(), StoreErrorKind::InvalidRange, "{key}: {err}");
                }
                Some(value) => {
                    let parts = result
                        .unwrap_or_else(|e| panic!("get_many_ranges {key}: {e}"))
                        .expect("value exists");
                    assert_eq!(parts.len(), ranges.len(), "{key}");
                    for (r, part) in ranges.iter().zip(parts) {
                        assert!(
                            part[..] == value[r.start as usize..r.end as usize],
                            "{key} {r:?}"
                        );
                    }
                }
            }
            calls.lock().unwrap()[index] += 1;
        });
    });
    assert!(
        calls.into_inner().unwrap().iter().all(|&n| n == 1),
        "one call per request"
    );
}

fn check_batches(
    store: &dyn ReadableStore,
    prefix: &StorePrefix,
    values: &BTreeMap<String, Vec<u8>>,
) {
    // Every seeded key, with missing keys in between, some keys twice.
    let mut names: Vec<&str> = values.keys().map(String::as_str).collect();
    names.extend([
        "missing/1",
        "flat/7.7",
        "nested/0/0",
        "flat/0.0",
        "missing/2",
    ]);
    let keys: Vec<StoreKey> = names.iter().map(|n| key(prefix, n)).collect();

    let calls = Mutex::new(vec![0usize; keys.len()]);
    within(120, "get_many", || {
        store.get_many(&keys, &|index, result| {
            let value = result.unwrap_or_else(|e| panic!("get_many {}: {e}", keys[index]));
            assert_eq!(
                value.as_deref(),
                values.get(names[index]).map(Vec::as_slice),
                "{}",
                keys[index]
            );
            calls.lock().unwrap()[index] += 1;
        });
    });
    assert!(
        calls.into_inner().unwrap().iter().all(|&n| n == 1),
        "one call per key"
    );

    // The collected form keeps the order of the keys.
    let collected = store.get_many_vec(&keys);
    for (name, result) in names.iter().zip(collected) {
        assert_eq!(
            result.unwrap().as_deref(),
            values.get(*name).map(Vec::as_slice)
        );
    }

    // Nothing asked, nothing called.
    store.get_many(&[], &|_, _| panic!("called for no key"));

    // From inside a one-thread rayon pool, with a callback that uses rayon itself: must not
    // deadlock.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let total = AtomicUsize::new(0);
    within(120, "get_many inside a one-thread rayon pool", || {
        pool.install(|| {
            store.get_many(&keys, &|_, result| {
                if let Some(value) = result.unwrap() {
                    let sum: usize = value.par_iter().map(|&b| b as usize).sum();
                    total.fetch_add(sum, Ordering::Relaxed);
                }
            });
        });
    });
    let want: usize = names
        .iter()
        .filter_map(|n| values.get(*n))
        .flat_map(|v| v.iter().map(|&b| b as usize))
        .sum();
    assert_eq!(total.into_inner(), want);
}

/// The full suite: writes, overwrites, lists, erases, then every read check.
pub fn check_store(store: &dyn Store, prefix: &StorePrefix) {
    seed(store, prefix);
    check_reads(store, prefix);
    check_listing(store, prefix);
    check_overwrite(store, prefix);
    check_dependent_ranges(store, prefix);
    check_unusual_characters(store, prefix);
    check_erase(store, prefix);
    check_keys_are_checked();
    check_update(store, prefix);
    check_erase_prefix(store, prefix);
}

/// `update` sees the current value, applies what `modify` decides, and loses no update when
/// threads update one key at once (a counter incremented by every thread ends at the total).
pub fn check_update(store: &dyn Store, prefix: &StorePrefix) {
    let k = key(prefix, "updated/0.0");
    let mut seen = Vec::new();
    store
        .update(&k, &mut |current| {
            seen.push(current.clone());
            Update::Set(Bytes::from_static(b"first"))
        })
        .unwrap();
    assert_eq!(seen, vec![None], "a missing value is handed over as None");
    assert_eq!(store.get(&k).unwrap().as_deref(), Some(&b"first"[..]));
    store.update(&k, &mut |_| Update::Keep).unwrap();
    assert_eq!(store.get(&k).unwrap().as_deref(), Some(&b"first"[..]));
    store
        .update(&k, &mut |current| {
            let mut v = current.expect("stored").to_vec();
            v.extend_from_slice(b"+second");
            Update::Set(v.into())
        })
        .unwrap();
    assert_eq!(
        store.get(&k).unwrap().as_deref(),
        Some(&b"first+second"[..])
    );
    store
        .update(&k, &mut |_| Update::Erase { fallback: None })
        .unwrap();
    assert_eq!(store.get(&k).unwrap(), None);
    // Erasing nothing writes nothing, whatever the fallback.
    store
        .update(&k, &mut |_| Update::Erase {
            fallback: Some(Bytes::from_static(b"fallback")),
        })
        .unwrap();
    assert_eq!(store.get(&k).unwrap(), None);

    const THREADS: u64 = 8;
    const EACH: u64 = 12;
    let counter = key(prefix, "updated/counter");
    let calls = AtomicUsize::new(0);
    within(120, "concurrent updates", || {
        (0..THREADS).into_par_iter().for_each(|_| {
            for _ in 0..EACH {
                store
                    .update(&counter, &mut |current| {
                        calls.fetch_add(1, Ordering::Relaxed);
                        let n = current.map_or(0, |v| {
                            u64::from_le_bytes(v[..].try_into().expect("8 bytes"))
                        });
                        Update::Set(Bytes::copy_from_slice(&(n + 1).to_le_bytes()))
                    })
                    .unwrap();
            }
        });
    });
    let total = store.get(&counter).unwrap().expect("counter stored");
    assert_eq!(
        u64::from_le_bytes(total[..].try_into().unwrap()),
        THREADS * EACH,
        "updates were lost ({} calls of modify)",
        calls.into_inner()
    );
    store.erase(&counter).unwrap();
    // No lock or temporary file shows in listings.
    assert_eq!(
        store
            .list_prefix(&StorePrefix::new(format!("{}updated/", prefix.as_str())).unwrap())
            .unwrap(),
        Vec::<StoreKey>::new()
    );
}

fn check_listing(store: &dyn Store, prefix: &StorePrefix) {
    let values = seed_values();
    let want: Vec<StoreKey> = values.keys().map(|n| key(prefix, n)).collect();
    assert_eq!(store.list_prefix(prefix).unwrap(), want, "list_prefix");

    let sizes = store.list_prefix_sizes(prefix).unwrap();
    let want_sizes: Vec<(StoreKey, u64)> = values
        .iter()
        .map(|(n, v)| (key(prefix, n), v.len() as u64))
        .collect();
    assert_eq!(sizes, want_sizes, "list_prefix_sizes");

    let (keys, dirs) = store.list_dir(prefix).unwrap();
    assert_eq!(
        keys,
        vec![
            key(prefix, ".zgroup"),
            key(prefix, "big.bin"),
            key(prefix, "empty")
        ]
    );
    assert_eq!(
        dirs,
        vec![
            prefix.child("flat").unwrap(),
            prefix.child("nested").unwrap()
        ],
        "list_dir prefixes"
    );

    let nested = prefix.child("nested").unwrap();
    let (keys, dirs) = store.list_dir(&nested).unwrap();
    assert_eq!(keys, vec![key(prefix, "nested/.zarray")]);
    assert_eq!(dirs.len(), 6);
    assert_eq!(dirs[0], nested.child("0").unwrap());
    let (keys, dirs) = store.list_dir(&nested.child("5").unwrap()).unwrap();
    assert_eq!(keys.len(), 4);
    assert!(dirs.is_empty());

    let flat = prefix.child("flat").unwrap();
    let listed = store.list_prefix(&flat).unwrap();
    assert_eq!(listed.len(), 25);
    assert!(listed.windows(2).all(|w| w[0] < w[1]), "sorted");
    assert!(listed.iter().all(|k| flat.contains(k)));

    // A prefix matches whole segments only, and a missing prefix lists nothing.
    assert!(
        store
            .list_prefix(&prefix.child("fla").unwrap())
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.list_dir(&prefix.child("none").unwrap()).unwrap(),
        (vec![], vec![])
    );
}

fn check_overwrite(store: &dyn Store, prefix: &StorePrefix) {
    let k = key(prefix, "over/0.0");
    let a = Bytes::from(vec![b'a'; 3000]);
    let b = Bytes::from(vec![b'b'; 5000]);
    store.set(&k, a.clone()).unwrap();
    store.set(&k, b.clone()).unwrap();
    assert_eq!(store.get(&k).unwrap(), Some(b.clone()));
    assert_eq!(store.size(&k).unwrap(), Some(5000));

    // Readers racing a writer see one whole value or the other, never a mixture.
    let rounds = 30;
    std::thread::scope(|scope| {
        scope.spawn(|| {
            for i in 0..rounds {
                let v = if i % 2 == 0 { a.clone() } else { b.clone() };
                store.set(&k, v).unwrap();
            }
        });
        for _ in 0..rounds {
            let got = store
                .get(&k)
                .unwrap()
                .expect("never missing during overwrites");
            assert!(got == a || got == b, "torn read of {} bytes", got.len());
        }
    });
    store.erase(&k).unwrap();

    // Many values at once, read back as a batch.
    let items: Vec<(StoreKey, Bytes)> = (0..100)
        .map(|i| {
            (
                key(prefix, &format!("many/{i}")),
                Bytes::from(format!("value {i}")),
            )
        })
        .collect();
    store.set_many(items.clone()).unwrap();
    let keys: Vec<StoreKey> = items.iter().map(|(k, _)| k.clone()).collect();
    for ((_, want), got) in items.iter().zip(store.get_many_vec(&keys)) {
        assert_eq!(got.unwrap().as_ref(), Some(want));
    }
    store.erase_prefix(&prefix.child("many").unwrap()).unwrap();
    assert!(
        store
            .list_prefix(&prefix.child("many").unwrap())
            .unwrap()
            .is_empty()
    );
}

/// A value laid out like a shard: `offset` filler bytes, a payload of `version` bytes (its length
/// depends on the version), then a 24-byte index: the payload's offset, length and version.
fn indexed_value(version: u8, offset: usize) -> Bytes {
    let len = 100 + 37 * version as usize;
    let mut v = vec![0xEE; offset];
    v.extend(std::iter::repeat_n(version, len));
    for n in [offset as u64, len as u64, u64::from(version)] {
        v.extend_from_slice(&n.to_le_bytes());
    }
    Bytes::from(v)
}

/// The payload range an index names.
fn payload_range(index: &[u8]) -> Vec<std::ops::Range<u64>> {
    let n = |i: usize| u64::from_le_bytes(index[i * 8..i * 8 + 8].try_into().unwrap());
    let payload = n(0)..n(0) + n(1);
    vec![payload]
}

/// The payload is the version the index names, whole.
fn assert_one_version(head: &[u8], parts: &[Bytes], what: &str) {
    let version = head[16];
    assert_eq!(parts.len(), 1, "{what}");
    assert_eq!(parts[0].len(), 100 + 37 * version as usize, "{what}");
    assert!(
        parts[0].iter().all(|&b| b == version),
        "{what}: the index of version {version} with another version's bytes"
    );
}

/// `get_many_dependent_ranges` (a shard's index, then the chunks it locates) reads both from one
/// version of a value: also when the value is replaced right between the two reads, and while a
/// writer keeps replacing it.
pub fn check_dependent_ranges(store: &dyn Store, prefix: &StorePrefix) {
    let k = key(prefix, "dependent/c/0");
    let gone = key(prefix, "dependent/c/9");
    store.set(&k, indexed_value(1, 10)).unwrap();
    let index = ByteRange::Suffix(24);
    let read = |requests: &[(StoreKey, ByteRange)],
                then: &(dyn Fn(usize, &Bytes) -> Vec<std::ops::Range<u64>> + Sync)| {
        let results = Mutex::new(vec![None; requests.len()]);
        store.get_many_dependent_ranges(requests, then, &|i, r| {
            results.lock().unwrap()[i] = Some(r);
        });
        results
            .into_inner()
            .unwrap()
            .into_iter()
            .map(|r| r.expect("every request answered"))
            .collect::<Vec<_>>()
    };

    // Plain reads, a missing value, a first range and a named range outside the value.
    let got = read(&[(k.clone(), index), (gone.clone(), index)], &|_, head| {
        payload_range(head)
    });
    let (head, parts) = got[0].as_ref().unwrap().as_ref().unwrap();
    assert_one_version(head, parts, "plain");
    assert_eq!(head[16], 1);
    assert!(matches!(got[1], Ok(None)));
    let got = read(&[(k.clone(), ByteRange::Suffix(1 << 20))], &|_, _| {
        Vec::new()
    });
    assert_eq!(
        got[0].as_ref().unwrap_err().kind(),
        StoreErrorKind::InvalidRange
    );
    let past_end = 0..1 << 20;
    let got = read(&[(k.clone(), index)], &|_, _| vec![past_end.clone()]);
    assert_eq!(
        got[0].as_ref().unwrap_err().kind(),
        StoreErrorKind::InvalidRange
    );

    // Replaced between the index and the payload: the payload comes from the index's version,
    // whichever version that is, and never from the other.
    for (offset, next) in [(10, 2u8), (3000, 3), (0, 4)] {
        let calls = AtomicUsize::new(0);
        let got = read(&[(k.clone(), index)], &|_, head| {
            if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                store.set(&k, indexed_value(next, offset)).unwrap();
            }
            payload_range(head)
        });
        let (head, parts) = got[0].as_ref().unwrap().as_ref().unwrap();
        assert_one_version(head, parts, &format!("replaced by version {next}"));
    }

    // A writer replacing the value while readers read it.
    let rounds = 40;
    std::thread::scope(|scope| {
        scope.spawn(|| {
            for i in 0..rounds {
                let version = (i % 5) as u8;
                store
                    .set(&k, indexed_value(version, 977 * version as usize))
                    .unwrap();
            }
        });
        for round in 0..rounds {
            let got = read(&[(k.clone(), index)], &|_, head| payload_range(head));
            let (head, parts) = got[0].as_ref().unwrap().as_ref().unwrap();
            assert_one_version(head, parts, &format!("racing a writer, round {round}"));
        }
    });
    store.erase(&k).unwrap();
}

/// Keys keep their characters: what one tool writes under `a~b` another finds under `a~b`.
fn check_unusual_characters(store: &dyn Store, prefix: &StorePrefix) {
    let odd = key(prefix, "odd/a~b [1]#%x+y=z,é");
    store.set(&odd, Bytes::from_static(b"odd")).unwrap();
    assert_eq!(store.get(&odd).unwrap().as_deref(), Some(&b"odd"[..]));
    let listed = store.list_prefix(&prefix.child("odd").unwrap()).unwrap();
    assert_eq!(listed, vec![odd.clone()]);
    store.erase(&odd).unwrap();
    assert_eq!(store.get(&odd).unwrap(), None);
}

fn check_erase(store: &dyn Store, prefix: &StorePrefix) {
    let k = key(prefix, "flat/0.0");
    store.erase(&k).unwrap();
    assert_eq!(store.get(&k).unwrap(), None);
    // Erasing what is not there is not an error.
    store.erase(&k).unwrap();
    store.erase(&key(prefix, "never/was/here")).unwrap();
    // Put it back for the checks after.
    store
        .set(&k, Bytes::from(seed_values()["flat/0.0"].clone()))
        .unwrap();
}

fn check_keys_are_checked() {
    for bad in [
        "", "..", "../x", "a/../b", "/abs", "a\\b", "a\0b", "a//b", "a/", "./a",
    ] {
        let err = StoreKey::new(bad).unwrap_err();
        assert_eq!(err.kind(), StoreErrorKind::InvalidKey, "{bad:?}");
    }
    assert!(StorePrefix::root().key("../etc").is_err());
}

fn check_erase_prefix(store: &dyn Store, prefix: &StorePrefix) {
    // `nested/` goes, `nestedx` (a sibling with the same leading text) stays.
    let sibling = key(prefix, "nestedx");
    store.set(&sibling, Bytes::from_static(b"stay")).unwrap();
    store
        .erase_prefix(&prefix.child("nested").unwrap())
        .unwrap();
    assert!(
        store
            .list_prefix(&prefix.child("nested").unwrap())
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.get(&key(prefix, "nested/0/0")).unwrap(), None);
    assert_eq!(store.get(&sibling).unwrap().as_deref(), Some(&b"stay"[..]));
    let (_, dirs) = store.list_dir(prefix).unwrap();
    assert_eq!(dirs, vec![prefix.child("flat").unwrap()]);

    // A missing prefix is not an error; the run's whole prefix empties.
    store.erase_prefix(&prefix.child("none").unwrap()).unwrap();
    store.erase_prefix(prefix).unwrap();
    assert!(store.list_prefix(prefix).unwrap().is_empty());
    assert_eq!(store.get(&key(prefix, ".zgroup")).unwrap(), None);
}

//! S3 through `ObjectStoreBackend`, against the in-process server.

use std::sync::Arc;
use std::time::{Duration, Instant};

use object_store::path::Path;
use object_store::throttle::{ThrottleConfig, ThrottledStore};
use tessera_store::{
    Bytes, ObjectStoreBackend, ReadableStore, StoreErrorKind, StoreKey, StorePrefix, WritableStore,
};

use crate::s3_server::S3Server;
use crate::suite;

#[test]
fn s3_store_passes_the_shared_suite() {
    let server = S3Server::start();
    let store = ObjectStoreBackend::new(server.client(), Path::from("some/root"));
    suite::check_store(&store, &StorePrefix::new("run/").unwrap());
    suite::check_store(&store, &StorePrefix::root());
    // The keys lived under the backend's root path in the bucket.
    let top = ObjectStoreBackend::new(server.client(), Path::default());
    let key = StoreKey::new("x/0.0").unwrap();
    store.set(&key, Bytes::from_static(b"under root")).unwrap();
    let seen = top.get(&StoreKey::new("some/root/x/0.0").unwrap()).unwrap();
    assert_eq!(seen.as_deref(), Some(&b"under root"[..]));
}

#[test]
fn s3_requests_with_a_wrong_secret_are_refused() {
    let server = S3Server::start();
    let good = ObjectStoreBackend::new(server.client(), Path::default());
    let key = StoreKey::new("signed").unwrap();
    good.set(&key, Bytes::from_static(b"v")).unwrap();

    let bad = ObjectStoreBackend::new(server.client_with_secret("wrong-secret"), Path::default());
    let err = bad.get(&key).unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::PermissionDenied, "{err}");
    assert_eq!(err.key(), Some("signed"));
    // The object_store error is the source, not flattened into the message.
    let source = std::error::Error::source(&err).expect("source kept");
    assert!(
        source.downcast_ref::<object_store::Error>().is_some(),
        "{source:?}"
    );
    let err = bad.set(&key, Bytes::from_static(b"x")).unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::PermissionDenied, "{err}");
    assert_eq!(good.get(&key).unwrap().as_deref(), Some(&b"v"[..]));
}

#[test]
fn s3_batch_reads_keep_requests_in_flight() {
    const KEYS: usize = 256;
    const LATENCY: Duration = Duration::from_millis(20);
    let server = S3Server::start();
    let writer = ObjectStoreBackend::new(server.client(), Path::from("ratio"));
    let keys: Vec<StoreKey> = (0..KEYS)
        .map(|i| StoreKey::new(format!("c/{}.{}", i / 16, i % 16)).unwrap())
        .collect();
    writer
        .set_many(
            keys.iter()
                .map(|k| (k.clone(), Bytes::from(vec![7u8; 1024])))
                .collect(),
        )
        .unwrap();

    // Every GET waits 20 ms before it is sent, as a distant region would.
    let config = ThrottleConfig {
        wait_get_per_call: LATENCY,
        ..ThrottleConfig::default()
    };
    let throttled = Arc::new(ThrottledStore::new(server.client(), config));
    let store = ObjectStoreBackend::new(throttled, Path::from("ratio"));

    let start = Instant::now();
    for key in &keys {
        assert_eq!(store.get(key).unwrap().unwrap().len(), 1024);
    }
    let sequential = start.elapsed();
    assert!(
        sequential >= LATENCY * KEYS as u32,
        "the latency was injected"
    );

    // The best of three batches: the other tests of this binary share the two cores, and a
    // batch is short enough for their bursts to matter; 256 sequential sleeps are not.
    let batch = (0..3)
        .map(|_| {
            let start = Instant::now();
            let received = std::sync::atomic::AtomicUsize::new(0);
            store.get_many(&keys, &|_, result| {
                assert_eq!(result.unwrap().unwrap().len(), 1024);
                received.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            });
            assert_eq!(received.into_inner(), KEYS);
            start.elapsed()
        })
        .min()
        .unwrap();

    let ratio = sequential.as_secs_f64() / batch.as_secs_f64();
    println!(
        "{KEYS} GETs with {LATENCY:?} latency: sequential {sequential:?}, get_many {batch:?} \
         (concurrency {}): {ratio:.1}x faster",
        store.concurrency()
    );
    assert!(
        ratio >= 20.0,
        "get_many only {ratio:.1}x faster than sequential gets"
    );
}

#[test]
fn s3_batch_read_survives_a_panicking_callback() {
    let server = S3Server::start();
    let store = ObjectStoreBackend::new(server.client(), Path::from("panics")).with_concurrency(4);
    let keys: Vec<StoreKey> = (0..32)
        .map(|i| StoreKey::new(format!("k{i}")).unwrap())
        .collect();
    store
        .set_many(
            keys.iter()
                .map(|k| (k.clone(), Bytes::from_static(b"v")))
                .collect(),
        )
        .unwrap();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        suite::within(60, "get_many with a panicking callback", || {
            store.get_many(&keys, &|index, _| {
                assert_ne!(index, 3, "the caller's decoding failed");
            });
        })
    }));
    assert!(outcome.is_err(), "the callback's panic reaches the caller");
    // The backend still works afterwards.
    assert_eq!(store.get(&keys[3]).unwrap().as_deref(), Some(&b"v"[..]));
}

/// A value above the multipart threshold goes up in parts (the server's ETag of a multipart object
/// ends in `-PARTS`) and reads back byte for byte.
#[test]
fn s3_large_values_upload_in_parts() {
    use object_store::ObjectStoreExt;
    let server = S3Server::start();
    let client = server.client();
    let store = ObjectStoreBackend::new(client.clone(), Path::from("big"));
    let len = 100 << 20;
    assert!(len > tessera_store::MULTIPART_THRESHOLD);
    let value: Bytes = (0..len)
        .map(|i| (i % 251) as u8)
        .collect::<Vec<u8>>()
        .into();
    let key = StoreKey::new("chunk/0.0").unwrap();
    store.set(&key, value.clone()).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let head = runtime
        .block_on(client.head(&Path::from("big/chunk/0.0")))
        .unwrap();
    assert_eq!(head.size, len as u64);
    let e_tag = head.e_tag.expect("an ETag");
    assert!(
        e_tag.trim_matches('"').ends_with("-7"),
        "{e_tag}: 7 parts of 16 MiB"
    );
    let back = store.get(&key).unwrap().unwrap();
    assert!(back == value, "the value reads back unchanged");
    // Small values stay single PUTs.
    let small = StoreKey::new("chunk/0.1").unwrap();
    store.set(&small, Bytes::from_static(b"small")).unwrap();
    let head = runtime
        .block_on(client.head(&Path::from("big/chunk/0.1")))
        .unwrap();
    assert!(!head.e_tag.unwrap().contains('-'));
}

/// Ranges of one value far enough apart to be fetched by separate requests, read while another thread
/// keeps replacing the value with one of another content: every read returns ranges of one version.
#[test]
fn s3_ranged_reads_see_one_version() {
    let server = S3Server::start();
    let store = ObjectStoreBackend::new(server.client(), Path::from("pinned"));
    let len: u64 = 3 << 20;
    let key = StoreKey::new("chunk").unwrap();
    let version = |b: u8| Bytes::from(vec![b; len as usize]);
    store.set(&key, version(1)).unwrap();
    let stop = std::sync::atomic::AtomicBool::new(false);
    let (reads, writes) = std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            let mut writes = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && writes < 400 {
                writes += 1;
                store.set(&key, version(1 + (writes % 2) as u8)).unwrap();
            }
            writes
        });
        let started = Instant::now();
        let mut reads = 0;
        while started.elapsed() < Duration::from_secs(3) {
            let parts = store
                .get_ranges(&key, &[0..64, len / 2..len / 2 + 64, len - 64..len])
                .unwrap()
                .unwrap();
            let first = parts[0][0];
            for part in &parts {
                assert!(
                    part.iter().all(|&b| b == first),
                    "a read mixed two versions of the value"
                );
            }
            reads += 1;
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        (reads, writer.join().unwrap())
    });
    println!("{reads} ranged reads while {writes} writes replaced the value: none mixed");
    assert!(writes > 1 && reads > 1);
}

//! Decompression bombs: small blobs that inflate to a gigabyte are refused with
//! `TooLarge`, and decoding them allocates almost nothing.
//!
//! One test in its own binary, so that the counting allocator sees only this test's
//! allocations.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use tessera_codec::{CodecChain, CodecErrorKind, Value};

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
        PEAK.fetch_max(now, Ordering::SeqCst);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const GIB: usize = 1 << 30;
const MIB: usize = 1 << 20;

/// Feeds `total` zero bytes through a streaming encoder, 1 MiB at a time.
fn zeros(total: usize, mut feed: impl FnMut(&[u8], bool)) {
    let block = vec![0u8; MIB];
    let mut left = total;
    while left > 0 {
        let n = left.min(MIB);
        left -= n;
        feed(&block[..n], left == 0);
    }
}

/// 256 MiB of zeros as one zlib stream (or, for gzip, as one member's body).
fn zlib_bomb(gzip: bool) -> Vec<u8> {
    use flate2::{Compress, Compression, FlushCompress};
    let mut c = Compress::new(Compression::new(6), !gzip);
    let mut out = Vec::with_capacity(2 * MIB);
    zeros(GIB / 4, |chunk, last| {
        let mut pos = 0;
        loop {
            let before = c.total_in();
            if out.capacity() - out.len() < 1024 {
                out.reserve(MIB);
            }
            let flush = if last {
                FlushCompress::Finish
            } else {
                FlushCompress::None
            };
            let status = c.compress_vec(&chunk[pos..], &mut out, flush).unwrap();
            pos += (c.total_in() - before) as usize;
            if (!last && pos == chunk.len()) || status == flate2::Status::StreamEnd {
                break;
            }
        }
    });
    if gzip {
        let mut framed = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 255];
        framed.extend_from_slice(&out);
        framed.extend_from_slice(&[0; 4]); // CRC never reached
        framed.extend_from_slice(&((GIB / 4) as u32).to_le_bytes());
        // Python's GzipFile reads every member: four of them make 1 GiB.
        framed.repeat(4)
    } else {
        out
    }
}

fn bz2_bomb() -> Vec<u8> {
    use bzip2::{Action, Compress, Compression, Status};
    let mut c = Compress::new(Compression::new(9), 0);
    let mut out = Vec::with_capacity(MIB);
    zeros(GIB / 16, |chunk, last| {
        let mut pos = 0;
        loop {
            let before = c.total_in();
            if out.capacity() - out.len() < 1024 {
                out.reserve(MIB);
            }
            let action = if last { Action::Finish } else { Action::Run };
            let status = c.compress_vec(&chunk[pos..], &mut out, action).unwrap();
            pos += (c.total_in() - before) as usize;
            if (!last && pos == chunk.len()) || status == Status::StreamEnd {
                break;
            }
        }
    });
    out
}

fn xz_bomb() -> Vec<u8> {
    use liblzma::stream::{Action, Check, Status, Stream};
    let mut s = Stream::new_easy_encoder(0, Check::Crc64).unwrap();
    let mut out = Vec::with_capacity(MIB);
    zeros(GIB / 4, |chunk, last| {
        let mut pos = 0;
        loop {
            let before = s.total_in();
            if out.capacity() - out.len() < 1024 {
                out.reserve(MIB);
            }
            let action = if last { Action::Finish } else { Action::Run };
            let status = s.process_vec(&chunk[pos..], &mut out, action).unwrap();
            pos += (s.total_in() - before) as usize;
            if (!last && pos == chunk.len()) || status == Status::StreamEnd {
                break;
            }
        }
    });
    out
}

/// A zstd frame without a declared content size (as a streaming writer makes it).
fn zstd_stream_bomb() -> Vec<u8> {
    use std::io::Write;
    let mut enc = zstd::stream::Encoder::new(Vec::new(), 1).unwrap();
    enc.include_contentsize(false).unwrap();
    zeros(GIB, |chunk, _| enc.write_all(chunk).unwrap());
    enc.finish().unwrap()
}

/// The fuzz finding's pco stream (standalone version 2, u64 chunks) whose lookback window claims
/// 2^28 numbers.
fn pco_window_bomb() -> Vec<u8> {
    let hex = "70636f210249fa0304e803003100000000000000205b4000200000000080004000000000\
               0a0000000000000000001616161616161616161616161616161616161616161616161616\
               161616161616161616161616161616161616161616161616161616161616161616161616\
               16161616161616161616161616161616161616161616160000";
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

/// Decodes `blob` into `expected` bytes, expecting `TooLarge` and at most `limit` bytes of Rust
/// heap allocated meanwhile. (The C libraries allocate with malloc, which this allocator does
/// not see; their state is bounded by the format: zlib's 32 KiB window, zstd's one-shot decode
/// into the caller's buffer, liblzma's dictionary under the decoder's memory limit.)
fn check(name: &str, compressor: Value, blob: &[u8], expected: usize, limit: usize) {
    let chain = CodecChain::from_json(Some(&compressor), None).unwrap();
    let mut out = vec![0u8; expected];
    let base = CURRENT.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let err = chain.decode_into(blob, &mut out, 1).expect_err(name);
    let extra = PEAK.load(Ordering::SeqCst) - base;
    assert_eq!(err.kind(), CodecErrorKind::TooLarge, "{name}: {err}");
    assert!(
        extra < limit,
        "{name}: decoding a bomb allocated {extra} bytes"
    );
    println!(
        "{name:>12}: {} byte blob refused, {extra} bytes allocated while decoding: {err}",
        blob.len()
    );
}

#[test]
fn bombs_are_refused_within_bounded_memory() {
    let expected = MIB;
    // Our own buffers: the caller's chunk (not counted: allocated before) and a 64 KiB scratch.
    let small = 256 * 1024;
    check(
        "zlib",
        serde_json::json!({"id": "zlib"}),
        &zlib_bomb(false),
        expected,
        small,
    );
    check(
        "gzip",
        serde_json::json!({"id": "gzip"}),
        &zlib_bomb(true),
        expected,
        small,
    );
    // The Rust port of libbzip2 keeps its ~3.6 MB decoder state (900k blocks) on the Rust heap.
    check(
        "bz2",
        serde_json::json!({"id": "bz2"}),
        &bz2_bomb(),
        expected,
        4 * MIB,
    );
    check(
        "lzma",
        serde_json::json!({"id": "lzma"}),
        &xz_bomb(),
        expected,
        small,
    );
    // A pco chunk of 1001 numbers that claims a lookback window of 2^28: pco would allocate twice
    // the window (4 GiB of u64, lazily zeroed) before decoding a number. A fuzz finding.
    check(
        "pco-window",
        serde_json::json!({"id": "pcodec"}),
        &pco_window_bomb(),
        8008,
        small,
    );
    check(
        "zstd-stream",
        serde_json::json!({"id": "zstd"}),
        &zstd_stream_bomb(),
        expected,
        small,
    );

    // Formats whose header states the size: refused before decompressing anything.
    let zstd =
        CodecChain::from_json(Some(&serde_json::json!({"id": "zstd", "level": 1})), None).unwrap();
    let mut frame = zstd.encode(&[0u8; 64], 1).unwrap();
    // A frame header claiming 4 GiB of content (single segment, 8-byte content size), followed by
    // the blocks of a real frame.
    frame = {
        let mut f = vec![0x28, 0xB5, 0x2F, 0xFD, 0xE0];
        f.extend_from_slice(&(4u64 << 30).to_le_bytes());
        f.extend_from_slice(&frame[6..]);
        f
    };
    check(
        "zstd-header",
        serde_json::json!({"id": "zstd"}),
        &frame,
        expected,
        small,
    );

    let lz4 = CodecChain::from_json(Some(&serde_json::json!({"id": "lz4"})), None).unwrap();
    let mut blob = lz4.encode(&vec![0u8; 4 * MIB], 1).unwrap();
    blob[..4].copy_from_slice(&(i32::MAX).to_le_bytes());
    check(
        "lz4-header",
        serde_json::json!({"id": "lz4"}),
        &blob,
        expected,
        small,
    );

    let blosc = CodecChain::from_json(Some(&serde_json::json!({"id": "blosc"})), None).unwrap();
    let mut blob = blosc.encode(&vec![0u8; 4 * MIB], 1).unwrap();
    blob[4..8].copy_from_slice(&(2_000_000_000u32).to_le_bytes());
    check(
        "blosc-header",
        serde_json::json!({"id": "blosc"}),
        &blob,
        expected,
        small,
    );
}

//! Fuzzes the zfpy decoder on hostile zfp streams: the header must agree with the chunk, and
//! whatever follows it must decode to exactly the chunk's size or give a typed error, never make
//! zfp read past memory tessera owns (zfp's bit reader does no bounds checks; run under ASan).
//!
//! Input: byte 0 picks the chunk's element size (bit 0: 8 bytes, else 4) and its length (bit 1:
//! the u32 LE in bytes 1..5, modulo 1 MiB; else the element count the stream's header claims,
//! so that most inputs reach zfp's decoder), then the stream.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_codec::CodecChain;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let itemsize = if pick & 1 == 1 { 8 } else { 4 };
    let (len, stream) = if pick & 2 == 2 {
        let Some((len, stream)) = tessera_fuzz::split(rest) else {
            return;
        };
        (len, stream)
    } else {
        match header_elements(rest).and_then(|n| n.checked_mul(itemsize)) {
            Some(len) if len <= 1 << 20 => (len, rest),
            _ => return,
        }
    };
    let chain = CodecChain::from_json(Some(&serde_json::json!({"id": "zfpy"})), None).unwrap();
    if let Ok(out) = chain.decode(stream, len, itemsize) {
        assert_eq!(out.len(), len);
    }
});

/// The element count of the 52-bit field metadata that follows zfp's 32-bit magic: 2 bits of
/// type, 2 of dimensionality, then each extent minus one in 32 (1-d), 24, 16 or 12 bits.
fn header_elements(stream: &[u8]) -> Option<usize> {
    let mut head = [0u8; 16];
    let n = stream.len().min(16);
    head[..n].copy_from_slice(&stream[..n]);
    let meta = (u128::from_le_bytes(head) >> 32) as u64 & ((1 << 52) - 1);
    let dims = ((meta >> 2) & 3) as u32 + 1;
    let (bits, mask) = match dims {
        1 => (48, 0xffff_ffff),
        2 => (24, 0xff_ffff),
        3 => (16, 0xffff),
        _ => (12, 0xfff),
    };
    (0..dims).try_fold(1usize, |count, axis| {
        count.checked_mul(((meta >> (4 + bits * axis)) & mask) as usize + 1)
    })
}

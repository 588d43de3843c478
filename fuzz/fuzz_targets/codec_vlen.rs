//! Fuzzes the vlen-utf8, vlen-bytes and vlen-array decoders (lying counts and lengths, truncated
//! items, invalid UTF-8): typed errors or exactly the chunk's element count.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tessera_fuzz::decode_objects(&tessera_fuzz::OBJECT_CODECS[..3], data);
});

//! Fuzzes the json2 and msgpack2 decoders (nesting, lying lengths and shapes): typed errors or
//! exactly the chunk's element count, and what decodes round-trips.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tessera_fuzz::decode_objects(&tessera_fuzz::OBJECT_CODECS[3..], data);
});

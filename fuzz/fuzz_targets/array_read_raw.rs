//! Fuzzes the whole read path of one array in a memory store; the checks are [`checks::read_raw`]
//! (`fuzz/checks/read_raw.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks/read_raw.rs"]
mod checks;

fuzz_target!(|data: &[u8]| checks::read_raw(data));

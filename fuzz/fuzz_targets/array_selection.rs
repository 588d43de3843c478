//! Fuzzes selection text; the checks are [`checks::selection`] (`fuzz/checks/selection.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks/selection.rs"]
mod checks;

fuzz_target!(|data: &[u8]| checks::selection(data));

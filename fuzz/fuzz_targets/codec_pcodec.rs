//! Fuzzes the pcodec decoder: garbage, truncated and hostile pco streams (lying chunk counts,
//! unknown number types) must give typed errors, never more numbers than the chunk holds.
//!
//! The fuzz build turns overflow checks on in every crate, so pco's own arithmetic panics on some
//! hostile streams (release builds wrap instead). tessera-codec catches a panic inside pco and
//! reports the chunk as corrupt; libFuzzer's panic hook would abort first, so panics raised in
//! pco's sources are let through to that catch. A panic anywhere else still aborts: a finding.
#![no_main]

use std::sync::Once;

use libfuzzer_sys::fuzz_target;

static HOOK: Once = Once::new();

fuzz_target!(|data: &[u8]| {
    HOOK.call_once(|| {
        let fuzzer_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_pco = info
                .location()
                .is_some_and(|l| l.file().contains("/pco-"));
            if !in_pco {
                fuzzer_hook(info);
            }
        }));
    });
    tessera_fuzz::decode_with(&serde_json::json!({"id": "pcodec"}), data);
});

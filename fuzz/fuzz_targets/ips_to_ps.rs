//! Any input: an error or a document, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ncpeh::translate;

fuzz_target!(|data: &[u8]| {
    let term = translate::Terminology::builtin();
    let _ = translate::ips_to_ps(data, term, &translate::PsOptions { l1: true, ..Default::default() });
});

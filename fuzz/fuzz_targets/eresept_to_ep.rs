//! Any input: an error or a document, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ncpeh::translate;

fuzz_target!(|data: &[u8]| {
    let term = translate::Terminology::builtin();
    let _ = translate::eresept_to_ep(data, term, &Default::default());
});

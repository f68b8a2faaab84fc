//! libFuzzer target `hl7v2`: its body is `entries::hl7v2`, which tests/fuzz_corpus.rs replays.
#![no_main]

#[path = "../entries.rs"]
mod entries;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entries::hl7v2(data));

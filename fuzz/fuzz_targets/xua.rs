//! libFuzzer target `xua`: its body is `entries::xua`, which tests/fuzz_corpus.rs replays.
#![no_main]

#[path = "../entries.rs"]
mod entries;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entries::xua(data));

//! libFuzzer target `ebrim`: its body is `entries::ebrim`, which tests/fuzz_corpus.rs replays.
#![no_main]

#[path = "../entries.rs"]
mod entries;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entries::ebrim(data));

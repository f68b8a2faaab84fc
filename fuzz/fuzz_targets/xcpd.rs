//! libFuzzer target `xcpd`: its body is `entries::xcpd`, which tests/fuzz_corpus.rs replays.
#![no_main]

#[path = "../entries.rs"]
mod entries;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entries::xcpd(data));

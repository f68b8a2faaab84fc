//! libFuzzer target `pivot_to_nb`: its body is `entries::pivot_to_nb`, which tests/fuzz_corpus.rs replays.
#![no_main]

#[path = "../entries.rs"]
mod entries;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entries::pivot_to_nb(data));

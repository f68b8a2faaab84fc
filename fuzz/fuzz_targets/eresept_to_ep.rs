//! libFuzzer target `eresept_to_ep`: its body is `entries::eresept_to_ep`, which tests/fuzz_corpus.rs replays.
#![no_main]

#[path = "../entries.rs"]
mod entries;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entries::eresept_to_ep(data));

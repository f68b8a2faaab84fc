//! libFuzzer target `ed_to_m10`: its body is `entries::ed_to_m10`, which tests/fuzz_corpus.rs replays.
#![no_main]

#[path = "../entries.rs"]
mod entries;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entries::ed_to_m10(data));

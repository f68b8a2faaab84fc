//! libFuzzer target `pivot_to_html`: its body is `entries::pivot_to_html`, which tests/fuzz_corpus.rs replays.
#![no_main]

#[path = "../entries.rs"]
mod entries;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entries::pivot_to_html(data));

//! libFuzzer target `stored_query_params`: its body is `entries::stored_query_params`, which tests/fuzz_corpus.rs replays.
#![no_main]

#[path = "../entries.rs"]
mod entries;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entries::stored_query_params(data));

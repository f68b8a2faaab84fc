//! libFuzzer target `soap_request`: its body is `entries::soap_request`, which tests/fuzz_corpus.rs replays.
#![no_main]

#[path = "../entries.rs"]
mod entries;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entries::soap_request(data));

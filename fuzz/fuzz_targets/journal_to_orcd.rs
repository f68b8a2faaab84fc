//! libFuzzer target `journal_to_orcd`: its body is `entries::journal_to_orcd`, which tests/fuzz_corpus.rs replays.
#![no_main]

#[path = "../entries.rs"]
mod entries;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entries::journal_to_orcd(data));

//! libFuzzer target `xml_dom`: its body is `entries::xml_dom`, which tests/fuzz_corpus.rs replays.
#![no_main]

#[path = "../entries.rs"]
mod entries;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entries::xml_dom(data));

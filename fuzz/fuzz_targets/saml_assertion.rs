//! libFuzzer target `saml_assertion`: its body is `entries::saml_assertion`, which tests/fuzz_corpus.rs replays.
#![no_main]

#[path = "../entries.rs"]
mod entries;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entries::saml_assertion(data));

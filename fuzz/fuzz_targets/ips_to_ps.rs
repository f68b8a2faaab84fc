//! libFuzzer target `ips_to_ps`: its body is `entries::ips_to_ps`, which tests/fuzz_corpus.rs replays.
#![no_main]

#[path = "../entries.rs"]
mod entries;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entries::ips_to_ps(data));

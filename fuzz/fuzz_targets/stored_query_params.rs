#![no_main]
//! Stored-query value syntax ('a', ('a','b'), numbers) and LIKE patterns.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let _ = ncpeh::registry::query::params::split_values(&s);
    if let Some((p, v)) = s.split_once('\u{0}') {
        let _ = ncpeh::registry::query::params::like(p, v);
    }
});

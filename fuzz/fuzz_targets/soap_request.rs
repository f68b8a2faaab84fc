#![no_main]
//! Any bytes as a SOAP 1.2 request envelope.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ncpeh::soap::decode_request(data, Some("urn:x"), Default::default());
});

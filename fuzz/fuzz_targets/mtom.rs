#![no_main]
//! Any body (the first line is taken as the Content-Type) into the MTOM decoder.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let ct = String::from_utf8_lossy(&data[..split]);
    let ct = ncpeh::soap::mtom::ContentType::parse(&ct);
    let body = bytes::Bytes::copy_from_slice(data.get(split + 1..).unwrap_or_default());
    let _ = ncpeh::soap::mtom::decode(&ct, body);
});

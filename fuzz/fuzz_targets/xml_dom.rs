#![no_main]
//! Any bytes into the safe XML reader, and what parses into the ebRIM readers.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(root) = ncpeh::xml::parse(data, Default::default()) {
        let _ = ncpeh::ebxml::parse_submit_objects(&root);
        let _ = ncpeh::ebxml::query::parse_adhoc_query(&root);
        let _ = ncpeh::xml::write::serialize(&root, &|_| None);
    }
});

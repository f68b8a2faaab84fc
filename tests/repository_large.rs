//! A 50 MiB document through ITI-41 (MTOM) and back through ITI-43, byte-identical, with the
//! node's peak memory reported and bounded.

mod common;
use bytes::Bytes;
use common::xdsb::{self, Content, REPO_UID};
use common::{answer, meta, TestNode};
use std::time::Instant;

const MIB: u64 = 1024 * 1024;

/// Pseudo-random bytes (xorshift), so nothing along the way can shortcut repeated content.
fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut v = Vec::with_capacity(len);
    while v.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(len);
    v
}

#[tokio::test]
async fn fifty_mib_document_round_trip_with_bounded_memory() {
    let node = TestNode::start();
    let pid = common::new_pid();
    node.add_patient(&pid);
    let size = 50 * MIB as usize;
    let data = Bytes::from(noise(size));

    // Warm up the node (pools, TLS, first transaction) so the baseline is its steady state.
    let small = xdsb::doc("Small", &pid, "text/plain");
    let body = xdsb::pnr_body(
        &meta::simple_submission(&pid, &[small]),
        &[("Small", Content::Inline(b"s"))],
    );
    let r = node.call("/xds/repository", xdsb::PROVIDE, &body).await;
    assert_eq!(answer::status(&r.body), answer::SUCCESS);
    let base = node.peak_rss_kib().expect("VmHWM of the node");

    let d = xdsb::doc("Big", &pid, "application/octet-stream");
    let body = xdsb::pnr_body(
        &meta::simple_submission(&pid, std::slice::from_ref(&d)),
        &[("Big", Content::Cid("big@test"))],
    );
    let t = Instant::now();
    let r = xdsb::provide_mtom(&node, &body, vec![("big@test".into(), data.clone())]).await;
    let provide_secs = t.elapsed().as_secs_f64();
    assert_eq!(
        answer::status(&r.body),
        answer::SUCCESS,
        "{:?}",
        answer::error_codes(&r.body)
    );
    let after_provide = node.peak_rss_kib().expect("VmHWM");

    let t = Instant::now();
    let r = xdsb::retrieve(&node, &[(REPO_UID, &d.uid)]).await;
    let retrieve_secs = t.elapsed().as_secs_f64();
    assert_eq!(
        answer::status(xdsb::registry_response(&r.body)),
        answer::SUCCESS
    );
    let docs = xdsb::documents(&r);
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].2.len(), size);
    assert!(
        docs[0].2 == data,
        "retrieved bytes differ from the submitted ones"
    );
    let peak = node.peak_rss_kib().expect("VmHWM");

    let mib = |k: u64| k as f64 / 1024.0;
    println!(
        "50 MiB document: provide {provide_secs:.2}s, retrieve {retrieve_secs:.2}s; node peak RSS (VmHWM) baseline {:.1} MiB, after ITI-41 {:.1} MiB, after ITI-43 {:.1} MiB (growth {:.1} MiB)",
        mib(base),
        mib(after_provide),
        mib(peak),
        mib(peak.saturating_sub(base))
    );
    // One copy of the document per direction is unavoidable (request body / answer buffer);
    // a bound of 1.75 copies above the baseline catches any extra whole copy on either path.
    let bound_kib = base + (size as u64 * 7 / 4) / 1024;
    assert!(
        peak < bound_kib,
        "node peak RSS {:.1} MiB exceeds {:.1} MiB (baseline + 1.75 x 50 MiB)",
        mib(peak),
        mib(bound_kib)
    );
}

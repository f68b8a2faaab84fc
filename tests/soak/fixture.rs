//! What the soak asks about, stored before the load starts: patients whose answers stay the
//! same size all run long (so latency and memory can be compared across the run), the 1 MiB
//! documents, and Sweden's patients with their assertions.

use crate::common::TestNode;
use crate::load::{Client, Fixture, BIG, READ_DOCS, XCA_DOCS};
use bytes::Bytes;
use ncpeh::saml::issue::{ehdsi_security, Professional, Signer};
use ncpeh::transport::tls::client_config;
use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::Duration;

const READ_PATIENTS: usize = 20;
/// Enough that no patient gathers thousands of entries in an hour of ITI-42.
const WRITE_PATIENTS: usize = 200;
const BIG_DOCS: usize = 8;
const XCA_PATIENTS: usize = 10;
/// Assertions live five minutes (the default); they are renewed well before that.
pub const HEADER_RENEWAL: Duration = Duration::from_secs(60);

/// One wsse:Security per patient, as Sweden's contact point sends them (HCP + TRC).
pub fn headers(pki: &Path, pids: &[String]) -> Vec<String> {
    let signer = Signer::from_files(&pki.join("issuer-se.pem"), &pki.join("issuer-se.key"))
        .expect("SE issuer");
    let now = time::OffsetDateTime::now_utc();
    pids.iter()
        .map(|p| {
            ehdsi_security(&signer, &Professional::default(), Some(p), None, now)
                .expect("assertions")
        })
        .collect()
}

/// 1 MiB that does not compress to nothing.
fn payload() -> Bytes {
    let mut x: u32 = 0x9e37_79b9;
    let v: Vec<u8> = (0..BIG)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    Bytes::from(v)
}

fn tls(pki: &Path, name: &str) -> Arc<rustls::ClientConfig> {
    client_config(
        &pki.join("ca.pem"),
        Some((
            &pki.join(format!("{name}.pem")),
            &pki.join(format!("{name}.key")),
        )),
    )
    .expect("client TLS")
}

/// Adds the patients and stores their documents, four clients at once (which also grows the
/// node's database pool to its steady size before the "before" figures are read).
pub async fn build(node: &TestNode) -> Arc<Fixture> {
    let pids = |n: usize| -> Vec<String> { (0..n).map(|_| crate::common::new_pid()).collect() };
    let (read_pids, write_pids, xca) = (
        pids(READ_PATIENTS),
        pids(WRITE_PATIENTS),
        pids(XCA_PATIENTS),
    );
    for p in read_pids.iter().chain(&write_pids).chain(&xca) {
        node.add_patient(p);
    }
    let mut fx = Fixture {
        registry: node.url("/xds/registry"),
        repository: node.url("/xds/repository"),
        xca: node.url("/xca"),
        headers: RwLock::new(headers(&node.pki, &xca)),
        read_pids,
        write_pids,
        big: Vec::new(),
        xca_pids: Vec::new(),
        payload: payload(),
        national: tls(&node.pki, "client"),
        foreign: tls(&node.pki, "foreign-se"),
    };
    let clients: Vec<Client> = (0..4).map(|c| Client::new(&fx, c)).collect();
    for chunk in fx.read_pids.chunks(clients.len()) {
        let regs = chunk
            .iter()
            .zip(&clients)
            .map(|(p, c)| c.register(&fx, p, READ_DOCS));
        for r in join_all(regs).await {
            r.expect("preload ITI-42");
        }
    }
    let big_pid = fx.write_pids[0].clone();
    for _ in 0..BIG_DOCS / clients.len() {
        let provides = clients
            .iter()
            .map(|c| c.provide(&fx, &big_pid, fx.payload.clone()));
        for uid in join_all(provides).await {
            fx.big.push(uid.expect("preload ITI-41 (1 MiB)"));
        }
    }
    for chunk in xca.chunks(clients.len()) {
        let provides = chunk
            .iter()
            .zip(&clients)
            .map(|(p, c)| c.provide_small(&fx, p, XCA_DOCS));
        let done = join_all(provides).await;
        for (p, uids) in chunk.iter().zip(done) {
            fx.xca_pids
                .push((p.clone(), uids.expect("preload ITI-41 (XCA)")));
        }
    }
    Arc::new(fx)
}

/// Runs futures at once on this task (no 'static bound, so they may borrow).
async fn join_all<F: std::future::Future>(futs: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut futs: Vec<_> = futs.map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = futs.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, o) in futs.iter_mut().zip(out.iter_mut()) {
            if o.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *o = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter()
        .map(|o| o.expect("polled to the end"))
        .collect()
}

/// Renews the assertions every HEADER_RENEWAL until aborted.
pub fn renew_headers(fx: Arc<Fixture>, pki: std::path::PathBuf) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(HEADER_RENEWAL).await;
            let pids: Vec<String> = fx.xca_pids.iter().map(|(p, _)| p.clone()).collect();
            let pki = pki.clone();
            let fresh = tokio::task::spawn_blocking(move || headers(&pki, &pids))
                .await
                .expect("signing assertions");
            *fx.headers.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        }
    })
}

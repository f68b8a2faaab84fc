//! What XUA costs. First the verification of one wsse:Security header (an HCP and a TRC
//! assertion: structure, times, signer chain, two XML signatures) in process; then ITI-18
//! FindDocuments throughput over real mTLS with and without an assertion on every request,
//! from several keep-alive connections: without assertions, with one header per client (as a
//! consumer sends for its assertion's lifetime, so the node's verified-header cache answers), and
//! with a different header on every request (more than the cache holds, so each is verified in
//! full). Run: `cargo bench --bench xua` (NCPEH_BENCH_SECS sets the length of each throughput
//! run, default 10).

#[path = "../tests/common/meta.rs"]
#[allow(dead_code)]
mod meta;

use meta::Doc;
use ncpeh::config::Config;
use ncpeh::ebxml::parse_submit_objects;
use ncpeh::ids::action::STORED_QUERY;
use ncpeh::registry::query::FIND_DOCUMENTS;
use ncpeh::saml::issue::{ehdsi_security, Professional, Signer};
use ncpeh::soap::envelope::encode_secured_request;
use ncpeh::transport::client::HttpsClient;
use ncpeh::trust::anchors::Anchors;
use ncpeh::trust::xua::{verify_header, Settings};
use ncpeh::xds::validate::Expect;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PATIENTS: usize = 200;
const CONNECTIONS: usize = 4;

fn pid(i: usize) -> String {
    format!(
        "{:011}^^^&2.16.578.1.12.4.1.4.1&ISO",
        20_000_000_000u64 + i as u64
    )
}

fn verification_median(header: &str, anchors: &Anchors) -> Duration {
    let settings = Settings {
        clock_skew: time::Duration::MINUTE,
        audiences: Vec::new(),
    };
    let now = time::OffsetDateTime::now_utc();
    let mut lat = Vec::with_capacity(2000);
    for _ in 0..2000 {
        let t = Instant::now();
        let report = verify_header(header, anchors, &settings, now);
        lat.push(t.elapsed());
        assert!(report.failure().is_none(), "{:?}", report.failure());
    }
    lat.sort();
    lat[lat.len() / 2]
}

/// FindDocuments per second from `CONNECTIONS` clients for `secs`, the requests carrying the
/// headers of `security` in turn (none when it is empty).
async fn throughput(
    url: &str,
    tls: Arc<rustls::ClientConfig>,
    security: Arc<Vec<String>>,
    secs: u64,
) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for c in 0..CONNECTIONS {
        let (url, tls, security, done) =
            (url.to_string(), tls.clone(), security.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let client = HttpsClient::new(tls, Duration::from_secs(60));
            let mut i = c;
            while Instant::now() < until {
                let q = meta::query(
                    FIND_DOCUMENTS,
                    true,
                    &[
                        (
                            "$XDSDocumentEntryPatientId",
                            &format!("'{}'", pid(i % PATIENTS)),
                        ),
                        (
                            "$XDSDocumentEntryStatus",
                            "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')",
                        ),
                    ],
                );
                let header = (!security.is_empty()).then(|| security[i % security.len()].as_str());
                let env = encode_secured_request(STORED_QUERY, &url, "urn:uuid:bench", header, &q);
                let r = client.soap(&url, STORED_QUERY, env).await.expect("query");
                assert!(r.fault.is_none(), "{:?}", r.fault);
                done.fetch_add(1, Ordering::Relaxed);
                i += CONNECTIONS;
            }
        }));
    }
    for t in tasks {
        t.await.expect("client task");
    }
    done.load(Ordering::Relaxed) as f64 / secs as f64
}

#[tokio::main]
async fn main() {
    let secs: u64 = std::env::var("NCPEH_BENCH_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cfg = Config {
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    cfg.server.listen = "127.0.0.1:0".into();
    cfg.server.admin_listen = "127.0.0.1:0".into();
    cfg.feed.enabled = false;
    cfg.registry.allow_unknown_patients = true;
    cfg.log.level = "warn".into();
    let running = ncpeh::node::start(cfg.clone()).await.expect("node");
    let store = ncpeh::node::open_store(&cfg).expect("store");
    let reg = ncpeh::registry::node_registry_for_tests(&cfg, store);
    for p in 0..PATIENTS {
        let pid = pid(p);
        let docs: Vec<Doc> = (0..10).map(|i| Doc::new(&format!("D{i}"), &pid)).collect();
        let xml = meta::simple_submission(&pid, &docs);
        let dom = ncpeh::xml::parse(xml.as_bytes(), Default::default()).expect("xml");
        reg.register(
            parse_submit_objects(&dom).expect("objects"),
            Expect::default(),
        )
        .await
        .expect("register");
    }

    let pki = cfg.pki_dir();
    let signer =
        Signer::from_files(&pki.join("issuer-no.pem"), &pki.join("issuer-no.key")).expect("issuer");
    let who = Professional {
        valid_secs: 3600,
        ..Professional::default()
    };
    let now = time::OffsetDateTime::now_utc();
    let header = ehdsi_security(&signer, &who, Some(&pid(0)), None, now).expect("assertions");
    let anchors =
        Anchors::load("issuers", &pki.join("issuer-no.pem"), Default::default()).expect("anchors");
    let verify = verification_median(&header, &anchors);

    let url = format!("https://{}/xds/registry", running.soap);
    let tls = ncpeh::transport::tls::client_config(
        &pki.join("ca.pem"),
        Some((&pki.join("client.pem"), &pki.join("client.key"))),
    )
    .expect("tls");
    // More distinct headers than the node's cache keeps (4096), so none is found there.
    let fresh: Vec<String> = (0..5000)
        .map(|_| ehdsi_security(&signer, &who, Some(&pid(0)), None, now).expect("assertions"))
        .collect();
    let plain = throughput(&url, tls.clone(), Arc::new(Vec::new()), secs).await;
    let with_xua = throughput(&url, tls.clone(), Arc::new(vec![header.clone()]), secs).await;
    let uncached = throughput(&url, tls, Arc::new(fresh), secs).await;

    println!("| measurement | value |");
    println!("|---|---|");
    println!("| verify one wsse:Security (HCP + TRC), median of 2000 | {verify:.2?} ({:.2?} per assertion) |", verify / 2);
    println!(
        "| ITI-18 FindDocuments, {CONNECTIONS} connections, no assertion | {plain:.0} req/s |"
    );
    println!("| ITI-18 FindDocuments, {CONNECTIONS} connections, one HCP + TRC header per client | {with_xua:.0} req/s |");
    println!("| ITI-18 FindDocuments, {CONNECTIONS} connections, a new HCP + TRC header on every request | {uncached:.0} req/s |");
    println!();
    println!(
        "throughput with XUA / without: {:.2} (same header), {:.2} (new header each time)",
        with_xua / plain,
        uncached / plain
    );
}

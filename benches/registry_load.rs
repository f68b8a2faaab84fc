//! Load generator for the registry over real mTLS: preloads many DocumentEntries, then measures
//! FindDocuments and ITI-42 latency through the HTTPS endpoint at a small and a large registry
//! size. Run: `cargo bench --bench registry_load` (NCPEH_BENCH_DOCS sets the large size, default
//! 20000; NCPEH_BENCH_PG_URL runs it on PostgreSQL instead of SQLite).

#[path = "../tests/common/meta.rs"]
#[allow(dead_code)]
mod meta;

use meta::Doc;
use ncpeh::config::Config;
use ncpeh::ebxml::parse_submit_objects;
use ncpeh::ids::action::{REGISTER, STORED_QUERY};
use ncpeh::registry::query::FIND_DOCUMENTS;
use ncpeh::soap::envelope::encode_request;
use ncpeh::transport::client::HttpsClient;
use ncpeh::xds::validate::Expect;
use std::time::{Duration, Instant};

const DOCS_PER_PATIENT: usize = 10;

fn pid(i: usize) -> String {
    format!(
        "{:011}^^^&2.16.578.1.12.4.1.4.1&ISO",
        10_000_000_000u64 + i as u64
    )
}

fn median(mut v: Vec<Duration>) -> (Duration, Duration) {
    v.sort();
    (v[v.len() / 2], v[(v.len() * 95 / 100).min(v.len() - 1)])
}

async fn preload(reg: &ncpeh::registry::Registry, from: usize, to: usize) {
    for p in from..to {
        let pid = pid(p);
        let docs: Vec<Doc> = (0..DOCS_PER_PATIENT)
            .map(|i| Doc::new(&format!("D{i}"), &pid))
            .collect();
        let xml = meta::simple_submission(&pid, &docs);
        let dom = ncpeh::xml::parse(xml.as_bytes(), Default::default()).expect("xml");
        reg.register(
            parse_submit_objects(&dom).expect("objects"),
            Expect::default(),
        )
        .await
        .expect("register");
    }
}

async fn find_latency(
    client: &HttpsClient,
    url: &str,
    patients: usize,
    n: usize,
) -> (Duration, Duration) {
    let mut lat = Vec::with_capacity(n);
    for i in 0..n {
        let p = pid((i * 7919) % patients);
        let q = meta::query(
            FIND_DOCUMENTS,
            true,
            &[
                ("$XDSDocumentEntryPatientId", &format!("'{p}'")),
                (
                    "$XDSDocumentEntryStatus",
                    "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')",
                ),
            ],
        );
        let env = encode_request(STORED_QUERY, url, "urn:uuid:bench", &q);
        let t = Instant::now();
        let r = client.soap(url, STORED_QUERY, env).await.expect("query");
        lat.push(t.elapsed());
        assert!(r.fault.is_none());
    }
    median(lat)
}

#[tokio::main]
async fn main() {
    let large: usize = std::env::var("NCPEH_BENCH_DOCS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
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
    if let Ok(url) = std::env::var("NCPEH_BENCH_PG_URL") {
        cfg.database.url = Some(url);
    }
    let store = ncpeh::node::open_store(&cfg).expect("store");
    let reg = ncpeh::registry::node_registry_for_tests(&cfg, store);
    let running = ncpeh::node::start(cfg.clone()).await.expect("node");
    let url = format!("https://{}/xds/registry", running.soap);
    let pki = cfg.pki_dir();
    let tls = ncpeh::transport::tls::client_config(
        &pki.join("ca.pem"),
        Some((&pki.join("client.pem"), &pki.join("client.key"))),
    )
    .expect("tls");
    let client = HttpsClient::new(tls, Duration::from_secs(60));

    let small_patients = 100;
    let t = Instant::now();
    preload(&reg, 0, small_patients).await;
    let small_docs = small_patients * DOCS_PER_PATIENT;
    println!("preloaded {small_docs} documents in {:.1?}", t.elapsed());
    let (m_small, p95_small) = find_latency(&client, &url, small_patients, 300).await;

    let large_patients = (large / DOCS_PER_PATIENT).max(small_patients);
    let t = Instant::now();
    preload(&reg, small_patients, large_patients).await;
    let secs = t.elapsed().as_secs_f64();
    let added = (large_patients - small_patients) * DOCS_PER_PATIENT;
    println!(
        "preloaded {added} more documents in {secs:.1}s ({:.0} docs/s through the registry API)",
        added as f64 / secs
    );
    let (m_large, p95_large) = find_latency(&client, &url, large_patients, 300).await;

    // ITI-42 over the wire, one document per submission.
    let mut reg_lat = Vec::new();
    for i in 0..200 {
        let p = pid(i % large_patients);
        let body = meta::simple_submission(&p, &[Doc::new("New", &p)]);
        let env = encode_request(REGISTER, &url, "urn:uuid:bench", &body);
        let t = Instant::now();
        let r = client.soap(&url, REGISTER, env).await.expect("register");
        reg_lat.push(t.elapsed());
        assert!(r
            .body
            .attr("status")
            .unwrap_or_default()
            .ends_with("Success"));
    }
    let (m_reg, p95_reg) = median(reg_lat);

    println!();
    println!("| measurement | median | p95 |");
    println!("|---|---|---|");
    println!("| FindDocuments LeafClass, {small_docs} docs | {m_small:.2?} | {p95_small:.2?} |");
    println!(
        "| FindDocuments LeafClass, {} docs | {m_large:.2?} | {p95_large:.2?} |",
        large_patients * DOCS_PER_PATIENT
    );
    println!("| ITI-42 register, 1 doc | {m_reg:.2?} | {p95_reg:.2?} |");
    println!();
    println!(
        "FindDocuments median ratio large/small registry: {:.2} (index-driven: stays near 1 as the registry grows {}x)",
        m_large.as_secs_f64() / m_small.as_secs_f64(),
        large_patients / small_patients
    );
}

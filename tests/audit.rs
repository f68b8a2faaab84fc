//! The audit trail on a real database (SQLite, or PostgreSQL when NCPEH_TEST_PG_URL is set):
//! `ncpeh audit verify` finds an edited and a deleted record, concurrent appends keep one chain,
//! and a real node forwards every record exactly once, in order, to a TLS syslog collector that
//! goes away and comes back.

mod common;

use common::{fresh_db, init_pki, TestNode, BIN};
use diesel::RunQueryDsl;
use ncpeh::audit::{append, AuditEvent, EventType, Outcome, Peer, User};
use ncpeh::store::{Store, StoreError};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn event(i: usize) -> AuditEvent {
    let mut ev = AuditEvent::new(
        EventType::RetrieveDocumentSet,
        "NO-1",
        "/xds/repository",
        "urn:ihe:iti:2007:RetrieveDocumentSet",
    );
    ev.message_id = Some(format!("urn:uuid:00000000-0000-4000-8000-{i:012}"));
    ev.peer = Some(Peer {
        subject: "C=NO, O=Helse Dev HF, CN=Helse Dev HF".into(),
        issuer: "C=NO, O=ncpeh development, CN=ncpeh dev CA".into(),
        common_name: Some("Helse Dev HF".into()),
        country: Some("NO".into()),
        remote_addr: Some("127.0.0.1:40000".into()),
    });
    ev.user = Some(User {
        subject_id: Some("HPR 9144900".into()),
        role: Some("LE".into()),
        purpose_of_use: Some("TREATMENT".into()),
        ..User::default()
    });
    ev.patient_ids = vec![format!(
        "{:011}^^^&2.16.578.1.12.4.1.4.1&ISO",
        10_000 + i % 3
    )];
    ev.document_ids = vec![format!("1.2.999.{i}")];
    if i % 4 == 3 {
        ev.outcome = Outcome::SeriousFailure;
        ev.reason = Some("XDSDocumentUniqueIdError".into());
    }
    ev
}

fn append_n(store: &Store, from: usize, n: usize) {
    for i in from..from + n {
        let ev = event(i);
        store
            .blocking_write(|c| append(c, &ev))
            .expect("append audit record");
    }
}

fn sql(store: &Store, statement: &str) {
    store
        .blocking_write(|c| {
            diesel::sql_query(statement)
                .execute(c)
                .map_err(StoreError::from)
        })
        .expect("raw SQL");
}

/// A config naming only the database, for the CLI.
fn cli_config(dir: &Path, db: &str) -> PathBuf {
    let path = dir.join("cli.toml");
    let toml = format!(
        "data_dir = \"{}\"\n[database]\nurl = \"{db}\"\n[log]\nlevel = \"warn\"\n",
        dir.display()
    );
    std::fs::write(&path, toml).expect("write config");
    path
}

/// `ncpeh audit ARGS`: (exit code, stdout).
fn audit(config: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(BIN)
        .arg("--config")
        .arg(config)
        .arg("audit")
        .args(args)
        .output()
        .expect("run ncpeh audit");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.is_empty() || out.status.code() != Some(0),
        "{stderr}"
    );
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn fresh_store(dir: &Path) -> (Store, String) {
    let db = fresh_db(dir);
    (Store::open(&db, 4).expect("open store"), db)
}

/// A chain of `n` records in a fresh database, and a CLI config for it.
fn chain(n: usize) -> (tempfile::TempDir, Store, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, db) = fresh_store(dir.path());
    let cfg = cli_config(dir.path(), &db);
    append_n(&store, 1, n);
    (dir, store, cfg)
}

fn delete_record(store: &Store, seq: i64) {
    sql(
        store,
        &format!("DELETE FROM audit_patients WHERE record_seq = {seq}"),
    );
    sql(
        store,
        &format!("DELETE FROM audit_records WHERE seq = {seq}"),
    );
}

/// SQL for `column` with its first hex digit changed ('0' unless it was '0').
fn flip_first(column: &str) -> String {
    format!("CASE WHEN substr({column}, 1, 1) = '0' THEN '1' ELSE '0' END || substr({column}, 2)")
}

/// `audit verify` fails naming record `seq` and saying `why`; returns its report.
fn assert_broken_at(cfg: &Path, seq: i64, why: &str) -> String {
    let (code, out) = audit(cfg, &["verify"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("BROKEN at record {seq}:")) && out.contains(why),
        "{out}"
    );
    out
}

#[test]
fn verify_finds_an_edited_and_a_deleted_record() {
    let (_dir, store, cfg) = chain(10);
    let (code, out) = audit(&cfg, &["verify"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("intact: 10 records"), "{out}");

    // An edited field: the record no longer hashes to its stored hash.
    sql(
        &store,
        "UPDATE audit_records SET peer_subject = 'CN=someone else' WHERE seq = 4",
    );
    assert_broken_at(&cfg, 4, "altered");

    // Put back, the record verifies again: the hash is over content, not over the row.
    sql(
        &store,
        "UPDATE audit_records SET peer_subject = 'C=NO, O=Helse Dev HF, CN=Helse Dev HF' WHERE seq = 4",
    );
    assert_eq!(audit(&cfg, &["verify"]).0, 0);

    // A deleted record: the sequence jumps over it.
    delete_record(&store, 7);
    let out = assert_broken_at(&cfg, 7, "missing");
    assert!(out.contains("6 records before it are intact"), "{out}");
}

#[test]
fn verify_finds_a_deleted_last_record_and_rewritten_hashes() {
    let (_dir, store, cfg) = chain(5);
    delete_record(&store, 5);
    assert_broken_at(&cfg, 5, "missing");

    // A stored hash rewritten no longer matches the record; a link rewritten no longer
    // matches the predecessor. The first hex digit is always changed (a fixed prefix would
    // leave 1 hash in 256 as it was, and the test would fail at random).
    let (_dir, store, cfg) = chain(5);
    sql(
        &store,
        &format!(
            "UPDATE audit_records SET hash = {} WHERE seq = 2",
            flip_first("hash")
        ),
    );
    assert_broken_at(&cfg, 2, "altered");
    let (_dir, store, cfg) = chain(5);
    sql(
        &store,
        &format!(
            "UPDATE audit_records SET prev_hash = {} WHERE seq = 3",
            flip_first("prev_hash")
        ),
    );
    assert_broken_at(&cfg, 3, "does not carry the hash of record 2");
}

#[test]
fn concurrent_appends_keep_one_unbroken_chain() {
    const THREADS: usize = 6;
    const EACH: usize = 25;
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, db) = fresh_store(dir.path());
    // Each thread has a pool of its own, so nothing in-process lines the writers up: only the
    // database does (the chain head's row lock, SQLite's write lock).
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let db = db.clone();
            std::thread::spawn(move || {
                let own = Store::open(&db, 2).expect("open store");
                append_n(&own, t * 1000, EACH);
            })
        })
        .collect();
    for t in threads {
        t.join().expect("appending thread");
    }
    let cfg = cli_config(dir.path(), &db);
    let (code, out) = audit(&cfg, &["verify"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!("intact: {} records", THREADS * EACH)),
        "{out}"
    );
    drop(store);
}

#[test]
fn list_answers_who_looked_at_a_patient() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, db) = fresh_store(dir.path());
    let cfg = cli_config(dir.path(), &db);
    append_n(&store, 0, 9);
    let pid = "00000010001^^^&2.16.578.1.12.4.1.4.1&ISO";
    let (code, out) = audit(&cfg, &["list", "--patient", pid, "--json"]);
    assert_eq!(code, 0, "{out}");
    let all: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let records = all.as_array().expect("array");
    // Events 1, 4 and 7 name patient 10001.
    let docs: Vec<&str> = records
        .iter()
        .filter_map(|r| r["documents"][0].as_str())
        .collect();
    assert_eq!(docs, ["1.2.999.1", "1.2.999.4", "1.2.999.7"]);
    let first = &records[0];
    assert_eq!(first["peer"]["cn"], "Helse Dev HF");
    assert_eq!(first["user"]["purpose_of_use"], "TREATMENT");
    assert_eq!(first["event"], "ITI-43");
    assert_eq!(records[1]["outcome"], "success");
    assert_eq!(records[2]["outcome"], "serious-failure");

    let (code, out) = audit(
        &cfg,
        &[
            "list",
            "--peer",
            "Helse Dev HF",
            "--since",
            "2000-01-01T00:00:00Z",
        ],
    );
    assert_eq!(code, 0);
    assert_eq!(out.matches(" ITI-43 ").count(), 9, "{out}");
    assert!(
        out.contains("HPR 9144900") && out.contains("TREATMENT"),
        "{out}"
    );
    let (code, out) = audit(&cfg, &["list", "--peer", "nobody"]);
    assert_eq!((code, out.trim()), (0, "no audit records match"));
    assert_eq!(audit(&cfg, &["list", "--since", "yesterday"]).0, 2);
}

/// A TLS syslog collector: requires a client certificate from the dev CA, reads octet-counted
/// frames, keeps the MSG of each in arrival order.
struct Collector {
    rt: tokio::runtime::Runtime,
    port: u16,
    tls: Arc<rustls::ServerConfig>,
    messages: Arc<Mutex<Vec<String>>>,
    clients: Arc<Mutex<Vec<String>>>,
    tasks: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Collector {
    fn new(pki: &Path) -> Collector {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let mut tls =
            (*ncpeh::transport::tls::server_config(&ncpeh::transport::tls::ServerFiles {
                ca: pki.join("ca.pem"),
                cert: pki.join("foreign-se.pem"),
                key: pki.join("foreign-se.key"),
                crls: Vec::new(),
            })
            .expect("collector TLS"))
            .clone();
        tls.alpn_protocols.clear();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        Collector {
            rt,
            port,
            tls: Arc::new(tls),
            messages: Arc::default(),
            clients: Arc::default(),
            tasks: Arc::default(),
        }
    }

    fn start(&self) {
        let listener = self
            .rt
            .block_on(tokio::net::TcpListener::bind(("127.0.0.1", self.port)))
            .expect("bind collector");
        let acceptor = tokio_rustls::TlsAcceptor::from(self.tls.clone());
        let (messages, clients, tasks) = (
            self.messages.clone(),
            self.clients.clone(),
            self.tasks.clone(),
        );
        let conns = tasks.clone();
        let accept = self.rt.spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, messages, clients) =
                    (acceptor.clone(), messages.clone(), clients.clone());
                let conn = tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let who = tls
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|c| c.first())
                        .and_then(|c| ncpeh::pki::PeerIdentity::from_der(c.as_ref()).ok())
                        .and_then(|p| p.common_name)
                        .unwrap_or_default();
                    clients.lock().expect("lock").push(who);
                    read_frames(tls, &messages).await;
                });
                conns.lock().expect("lock").push(conn);
            }
        });
        tasks.lock().expect("lock").push(accept);
    }

    /// Closes the listener and every connection, as a collector going down does.
    fn stop(&self) {
        for t in self.tasks.lock().expect("lock").drain(..) {
            t.abort();
        }
    }

    fn received(&self) -> Vec<String> {
        self.messages.lock().expect("lock").clone()
    }

    fn wait_for(&self, n: usize, within: Duration) -> Vec<String> {
        let start = Instant::now();
        while self.received().len() < n && start.elapsed() < within {
            std::thread::sleep(Duration::from_millis(100));
        }
        self.received()
    }
}

/// RFC 5425 octet counting: `MSG-LEN SP SYSLOG-MSG`, repeated.
async fn read_frames(
    mut conn: tokio_rustls::server::TlsStream<tokio::net::TcpStream>,
    out: &Mutex<Vec<String>>,
) {
    use tokio::io::AsyncReadExt;
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        match conn.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        while let Some(sp) = buf.iter().position(|b| *b == b' ') {
            let len: usize = std::str::from_utf8(&buf[..sp])
                .ok()
                .and_then(|s| s.parse().ok())
                .expect("MSG-LEN");
            if buf.len() < sp + 1 + len {
                break;
            }
            let msg = String::from_utf8(buf[sp + 1..sp + 1 + len].to_vec()).expect("UTF-8");
            out.lock().expect("lock").push(msg);
            buf.drain(..sp + 1 + len);
        }
    }
}

/// The document uniqueId an audit message names (each test record names one).
fn document_of(msg: &str) -> String {
    let (header, xml) = msg.split_once('\u{FEFF}').expect("BOM before the XML");
    assert!(
        header.starts_with("<85>1 ") || header.starts_with("<84>1 "),
        "{header}"
    );
    assert!(
        header.contains(" ncpeh ") && header.ends_with(" IHE+RFC-3881 - "),
        "{header}"
    );
    let root = ncpeh::xml::parse(xml.as_bytes(), Default::default()).expect("AuditMessage XML");
    root.descendants()
        .into_iter()
        .find(|e| e.attr("ParticipantObjectTypeCodeRole") == Some("3"))
        .and_then(|e| e.attr("ParticipantObjectID"))
        .expect("document object")
        .to_string()
}

#[test]
fn records_reach_the_collector_once_and_in_order_across_an_outage() {
    let pki_dir = tempfile::tempdir().expect("tempdir");
    let pki = pki_dir.path().join("pki");
    init_pki(&pki);
    let collector = Collector::new(&pki);
    collector.start();
    let node = TestNode::start_in_pki(
        &pki,
        "server",
        &format!(
            "[audit]\nsyslog_url = \"tls://127.0.0.1:{}\"\n",
            collector.port
        ),
    );
    // The services do not audit yet: records go into the node's database through the library.
    let store = Store::open(&node.db_url, 2).expect("open the node's database");
    append_n(&store, 1, 5);
    assert_eq!(collector.wait_for(5, Duration::from_secs(30)).len(), 5);

    collector.stop();
    std::thread::sleep(Duration::from_millis(500));
    append_n(&store, 6, 5);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        collector.received().len(),
        5,
        "nothing arrives while it is down"
    );
    let cursor = store
        .blocking_write(|c| ncpeh::audit::store::forwarded(c).map_err(StoreError::from))
        .expect("cursor");
    assert_eq!(cursor, 5, "the records wait in the database");

    collector.start();
    let got = collector.wait_for(10, Duration::from_secs(90));
    // A late duplicate would arrive right after: give it the time to.
    std::thread::sleep(Duration::from_secs(2));
    let got_then = collector.received();
    assert_eq!(got, got_then, "nothing arrives twice");
    let docs: Vec<String> = got.iter().map(|m| document_of(m)).collect();
    let want: Vec<String> = (1..=10).map(|i| format!("1.2.999.{i}")).collect();
    assert_eq!(docs, want, "every record once, in order");
    let clients = collector.clients.lock().expect("lock").clone();
    assert!(
        clients.len() >= 2 && clients.iter().all(|c| c == "localhost"),
        "the node presents its own certificate: {clients:?}"
    );
    collector.stop();
}

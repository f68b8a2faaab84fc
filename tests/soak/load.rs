//! The soak load: the six kinds of request, how each answer is judged, and the two ways of
//! driving them (closed loop for the peak, paced for the soak). Every client keeps its
//! connections alive between requests.

use crate::common::answer::{self, RIM, RS, SUCCESS};
use crate::common::{meta, xdsb};
use bytes::Bytes;
use hyper::Method;
use ncpeh::ids::action::{
    PROVIDE_AND_REGISTER, REGISTER, RETRIEVE, STORED_QUERY, XC_QUERY, XC_RETRIEVE,
};
use ncpeh::ids::ehdsi::NO_HOME_COMMUNITY as HOME;
use ncpeh::registry::query::FIND_DOCUMENTS;
use ncpeh::soap::envelope::encode_secured_request;
use ncpeh::transport::client::{decode_soap_reply, HttpsClient, SoapResponse};
use ncpeh::xml::Element;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// Size of the ITI-41 and ITI-43 documents.
pub const BIG: usize = 1024 * 1024;
/// DocumentEntries of each patient that FindDocuments asks about.
pub const READ_DOCS: usize = 10;
/// DocumentEntries of each patient asked about over XCA.
pub const XCA_DOCS: usize = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Find,
    Register,
    Provide,
    Retrieve,
    XcaQuery,
    XcaRetrieve,
}

/// The share of each request in the load (out of 100). Every request leaves an audit record
/// (about 5 KiB) and each ITI-42 about 15 KiB of entries, so the mix leans on the 1 MiB ITI-43,
/// which costs CPU but no disk; ITI-41 is rarer still (each one keeps 1 MiB).
pub const MIX: [(Op, f64); 6] = [
    (Op::Find, 33.0),
    (Op::Register, 10.0),
    (Op::Provide, 2.0),
    (Op::Retrieve, 30.0),
    (Op::XcaQuery, 15.0),
    (Op::XcaRetrieve, 10.0),
];

/// Smooth weighted round robin: exact shares, evenly spread, no randomness to replay.
pub struct Mix {
    weights: Vec<(Op, f64)>,
    credit: Vec<f64>,
}

impl Mix {
    /// `provide` replaces the ITI-41 weight (see the disk budget in the test).
    pub fn new(provide: f64) -> Mix {
        let weights: Vec<(Op, f64)> = MIX
            .iter()
            .map(|&(op, w)| (op, if op == Op::Provide { provide } else { w }))
            .collect();
        let credit = vec![0.0; weights.len()];
        Mix { weights, credit }
    }

    pub fn next_op(&mut self) -> Op {
        let total: f64 = self.weights.iter().map(|w| w.1).sum();
        let mut best = 0;
        for (i, (_, w)) in self.weights.iter().enumerate() {
            self.credit[i] += w;
            if self.credit[i] > self.credit[best] {
                best = i;
            }
        }
        self.credit[best] -= total;
        self.weights[best].0
    }
}

/// What the requests are about, made by `fixture::build`.
pub struct Fixture {
    pub registry: String,
    pub repository: String,
    pub xca: String,
    /// Patients with READ_DOCS entries each, never written to during the run.
    pub read_pids: Vec<String>,
    /// Patients that ITI-42 and ITI-41 submit to.
    pub write_pids: Vec<String>,
    /// uniqueIds of the 1 MiB documents that ITI-43 retrieves.
    pub big: Vec<String>,
    /// (patient, uniqueIds of its XCA_DOCS documents) for Sweden's questions over XCA.
    pub xca_pids: Vec<(String, Vec<String>)>,
    /// One wsse:Security (HCP + TRC) per XCA patient, renewed while the run lasts.
    pub headers: RwLock<Vec<String>>,
    pub payload: Bytes,
    pub national: Arc<rustls::ClientConfig>,
    pub foreign: Arc<rustls::ClientConfig>,
}

/// One load client: a keep-alive connection as the national consumer and one as Sweden.
pub struct Client {
    national: HttpsClient,
    foreign: HttpsClient,
    turn: usize,
}

fn uuid() -> String {
    format!("urn:uuid:{}", uuid::Uuid::new_v4())
}

/// Any fault, any status but Success, is an error.
fn success(r: &SoapResponse, status_of: Option<&Element>) -> Result<(), String> {
    if let Some(f) = &r.fault {
        return Err(format!("SOAP fault: {f}"));
    }
    let body = status_of.unwrap_or(&r.body);
    let status = answer::status(body);
    if status != SUCCESS {
        return Err(format!("{status} {:?}", answer::error_codes(body)));
    }
    Ok(())
}

fn expect_count(what: &str, got: usize, want: usize) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: {got} instead of {want}"))
    }
}

fn find_query(pid: &str, home: bool) -> String {
    let q = meta::query(
        FIND_DOCUMENTS,
        true,
        &[
            ("$XDSDocumentEntryPatientId", &format!("'{pid}'")),
            (
                "$XDSDocumentEntryStatus",
                "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')",
            ),
        ],
    );
    if home {
        q.replacen(
            "<rim:AdhocQuery id=",
            &format!("<rim:AdhocQuery home=\"{HOME}\" id="),
            1,
        )
    } else {
        q
    }
}

fn retrieve_body(uid: &str) -> String {
    format!(
        "<xdsb:RetrieveDocumentSetRequest xmlns:xdsb=\"{}\"><xdsb:DocumentRequest><xdsb:HomeCommunityId>{HOME}</xdsb:HomeCommunityId><xdsb:RepositoryUniqueId>{}</xdsb:RepositoryUniqueId><xdsb:DocumentUniqueId>{uid}</xdsb:DocumentUniqueId></xdsb:DocumentRequest></xdsb:RetrieveDocumentSetRequest>",
        xdsb::XDSB,
        xdsb::REPO_UID
    )
}

/// The documents of a retrieve answer and their total size (attachments or inline base64).
fn retrieved(r: &SoapResponse) -> (usize, usize) {
    let docs = r
        .body
        .children_named(xdsb::XDSB, "DocumentResponse")
        .count();
    let inline: usize = r
        .body
        .children_named(xdsb::XDSB, "DocumentResponse")
        .filter_map(|d| d.child(xdsb::XDSB, "Document"))
        .map(|d| d.text().trim().len() * 3 / 4)
        .sum();
    let attached: usize = r.parts.values().map(|p| p.body.len()).sum();
    (docs, inline + attached)
}

impl Client {
    pub fn new(fx: &Fixture, seed: usize) -> Client {
        Client {
            national: HttpsClient::new(fx.national.clone(), Duration::from_secs(60)),
            foreign: HttpsClient::new(fx.foreign.clone(), Duration::from_secs(60)),
            turn: seed,
        }
    }

    async fn soap(
        &self,
        url: &str,
        action: &str,
        sec: Option<&str>,
        body: &str,
    ) -> Result<SoapResponse, String> {
        let client = if sec.is_some() {
            &self.foreign
        } else {
            &self.national
        };
        let env = encode_secured_request(action, url, &uuid(), sec, body);
        client
            .soap(url, action, env)
            .await
            .map_err(|e| format!("transport: {e}"))
    }

    /// ITI-41 of one document of `payload` bytes, sent as MTOM.
    pub async fn provide(&self, fx: &Fixture, pid: &str, payload: Bytes) -> Result<String, String> {
        let doc = xdsb::doc("Doc01", pid, "application/octet-stream");
        let body = xdsb::pnr_body(
            &meta::simple_submission(pid, std::slice::from_ref(&doc)),
            &[("Doc01", xdsb::Content::Cid("doc@soak"))],
        );
        let env =
            encode_secured_request(PROVIDE_AND_REGISTER, &fx.repository, &uuid(), None, &body);
        let (ct, chunks) = xdsb::mtom_body(
            PROVIDE_AND_REGISTER,
            env,
            vec![("doc@soak".into(), payload)],
        );
        let reply = self
            .national
            .request(Method::POST, &fx.repository, Some(&ct), chunks)
            .await
            .map_err(|e| format!("transport: {e}"))?;
        let r = decode_soap_reply(reply).map_err(|e| format!("answer: {e}"))?;
        success(&r, None)?;
        Ok(doc.uid)
    }

    /// ITI-42 of `docs` DocumentEntries for `pid`.
    pub async fn register(&self, fx: &Fixture, pid: &str, docs: usize) -> Result<(), String> {
        let entries: Vec<meta::Doc> = (0..docs)
            .map(|i| meta::Doc::new(&format!("Doc{i:02}"), pid))
            .collect();
        let body = meta::simple_submission(pid, &entries);
        let r = self.soap(&fx.registry, REGISTER, None, &body).await?;
        success(&r, None)
    }

    /// ITI-41 of small inline documents for `pid` (the XCA patients): their uniqueIds.
    pub async fn provide_small(
        &self,
        fx: &Fixture,
        pid: &str,
        n: usize,
    ) -> Result<Vec<String>, String> {
        let docs: Vec<meta::Doc> = (0..n)
            .map(|i| xdsb::doc(&format!("Doc{i:02}"), pid, "text/plain"))
            .collect();
        let text: Vec<String> = docs
            .iter()
            .map(|d| format!("soak document {}", d.uid))
            .collect();
        let contents: Vec<(&str, xdsb::Content)> = docs
            .iter()
            .zip(&text)
            .map(|(d, t)| (d.id.as_str(), xdsb::Content::Inline(t.as_bytes())))
            .collect();
        let body = xdsb::pnr_body(&meta::simple_submission(pid, &docs), &contents);
        let r = self
            .soap(&fx.repository, PROVIDE_AND_REGISTER, None, &body)
            .await?;
        success(&r, None)?;
        Ok(docs.into_iter().map(|d| d.uid).collect())
    }

    /// Sends one request of kind `op` and judges the answer.
    pub async fn run(&mut self, fx: &Fixture, op: Op) -> Result<(), String> {
        self.turn += 1;
        let k = self.turn;
        match op {
            Op::Find => {
                let pid = &fx.read_pids[k % fx.read_pids.len()];
                let r = self
                    .soap(&fx.registry, STORED_QUERY, None, &find_query(pid, false))
                    .await?;
                success(&r, None)?;
                expect_count(
                    "entries",
                    answer::count(&r.body, "ExtrinsicObject"),
                    READ_DOCS,
                )
            }
            Op::Register => {
                let pid = &fx.write_pids[k % fx.write_pids.len()];
                self.register(fx, pid, 1).await
            }
            Op::Provide => {
                let pid = &fx.write_pids[k % fx.write_pids.len()];
                self.provide(fx, pid, fx.payload.clone()).await.map(drop)
            }
            Op::Retrieve => {
                let uid = &fx.big[k % fx.big.len()];
                let r = self
                    .soap(&fx.repository, RETRIEVE, None, &retrieve_body(uid))
                    .await?;
                success(&r, r.body.child(RS, "RegistryResponse"))?;
                let (docs, bytes) = retrieved(&r);
                expect_count("documents", docs, 1)?;
                expect_count("bytes", bytes, BIG)
            }
            Op::XcaQuery | Op::XcaRetrieve => {
                let i = k % fx.xca_pids.len();
                let (pid, uids) = &fx.xca_pids[i];
                let sec = fx.headers.read().unwrap_or_else(|p| p.into_inner())[i].clone();
                if op == Op::XcaQuery {
                    let r = self
                        .soap(&fx.xca, XC_QUERY, Some(&sec), &find_query(pid, true))
                        .await?;
                    success(&r, None)?;
                    let homes = r
                        .body
                        .child(RIM, "RegistryObjectList")
                        .map(|l| {
                            l.elements()
                                .filter(|e| e.attr("home") == Some(HOME))
                                .count()
                        })
                        .unwrap_or(0);
                    expect_count("entries naming our community", homes, XCA_DOCS)
                } else {
                    let uid = &uids[(k / fx.xca_pids.len()) % uids.len()];
                    let r = self
                        .soap(&fx.xca, XC_RETRIEVE, Some(&sec), &retrieve_body(uid))
                        .await?;
                    success(&r, r.body.child(RS, "RegistryResponse"))?;
                    expect_count("documents", retrieved(&r).0, 1)
                }
            }
        }
    }
}

/// Latencies and errors since the last `take`.
#[derive(Default)]
pub struct Interval {
    pub latencies_ms: Vec<f64>,
    pub errors: u64,
}

/// Where the clients report; the sampler empties it every interval.
#[derive(Default)]
pub struct Recorder {
    interval: Mutex<Interval>,
    pub errors: AtomicU64,
    pub requests: AtomicU64,
    /// Requests the pacer has issued that no client has picked up yet.
    pub backlog: AtomicI64,
    first_errors: Mutex<Vec<String>>,
}

impl Recorder {
    fn record(&self, op: Op, took: Duration, result: Result<(), String>) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let mut i = self.interval.lock().unwrap_or_else(|p| p.into_inner());
        i.latencies_ms.push(took.as_secs_f64() * 1000.0);
        if let Err(e) = result {
            i.errors += 1;
            self.errors.fetch_add(1, Ordering::Relaxed);
            let mut first = self.first_errors.lock().unwrap_or_else(|p| p.into_inner());
            if first.len() < 20 {
                first.push(format!("{op:?}: {e}"));
            }
        }
    }

    pub fn take(&self) -> Interval {
        std::mem::take(&mut *self.interval.lock().unwrap_or_else(|p| p.into_inner()))
    }

    pub fn first_errors(&self) -> Vec<String> {
        self.first_errors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

async fn timed(client: &mut Client, fx: &Fixture, rec: &Recorder, op: Op) {
    let t = Instant::now();
    let r = client.run(fx, op).await;
    rec.record(op, t.elapsed(), r);
}

/// Every client sends its next request as soon as the last is answered, until `until`.
pub async fn closed_loop(
    fx: Arc<Fixture>,
    rec: Arc<Recorder>,
    clients: usize,
    provide: f64,
    until: Instant,
) {
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..clients {
        let (fx, rec) = (fx.clone(), rec.clone());
        tasks.spawn(async move {
            let mut client = Client::new(&fx, c);
            let mut mix = Mix::new(provide);
            // Different clients start at different points of the mix.
            for _ in 0..c * 7 {
                mix.next_op();
            }
            while Instant::now() < until {
                let op = mix.next_op();
                timed(&mut client, &fx, &rec, op).await;
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.expect("load client");
    }
}

/// Requests issued at `rate` per second on a fixed timetable (open loop: a slow answer delays
/// no later request's issue), served by `clients` keep-alive clients, until `until`.
pub async fn paced(
    fx: Arc<Fixture>,
    rec: Arc<Recorder>,
    clients: usize,
    provide: f64,
    rate: f64,
    until: Instant,
) {
    let (tx, rx) = tokio::sync::mpsc::channel::<Op>(4096);
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..clients {
        let (fx, rec, rx) = (fx.clone(), rec.clone(), rx.clone());
        tasks.spawn(async move {
            let mut client = Client::new(&fx, c);
            loop {
                let next = rx.lock().await.recv().await;
                let Some(op) = next else { break };
                rec.backlog.fetch_sub(1, Ordering::Relaxed);
                timed(&mut client, &fx, &rec, op).await;
            }
        });
    }
    let start = tokio::time::Instant::now();
    let mut mix = Mix::new(provide);
    for n in 0u64.. {
        let at = start + Duration::from_secs_f64(n as f64 / rate);
        if at.into_std() >= until {
            break;
        }
        tokio::time::sleep_until(at).await;
        rec.backlog.fetch_add(1, Ordering::Relaxed);
        if tx.send(mix.next_op()).await.is_err() {
            break;
        }
    }
    drop(tx);
    while let Some(r) = tasks.join_next().await {
        r.expect("load client");
    }
}

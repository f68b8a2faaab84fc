//! Closed-loop load: `connections` clients, each on one keep-alive mTLS connection, send the
//! next request as soon as the last is answered. A warm-up runs first and is not counted. The
//! raw-store baseline runs the same stored queries through the registry's store layer, in
//! this process, with no TLS, HTTP or XML; the empty baseline posts an empty body.

use super::entries::{find_documents, get_documents, loaded_unique_id, patient_id, submission};
use super::report::Measured;
use crate::ebxml::query::{parse_adhoc_query, AdhocQueryRequest};
use crate::ids::action;
use crate::registry::Registry;
use crate::soap::envelope::encode_request;
use crate::transport::client::HttpsClient;
use crate::xds::confidentiality::Viewer;
use bytes::Bytes;
use hyper::Method;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Workload {
    /// ITI-18 FindDocuments, LeafClass.
    W1,
    /// ITI-18 FindDocuments ObjectRef and GetDocuments by uniqueId, in turn.
    W2,
    /// ITI-42 with 10 entries per submission.
    W3,
    /// ITI-41 with a 100 KiB document by MTOM, then ITI-43 for it (one request of the report).
    W4,
    /// ITI-18 FindDocuments through /xca/initiating, which asks every configured peer (ITI-38).
    W5,
    /// The eHDSI Patient Summary query on /xca as a foreign contact point sends it (its
    /// certificate, HCP and TRC assertions): the patient's IPS translated on demand.
    W6,
}

/// Which loaded patients (and documents) the requests are about.
#[derive(Debug, Clone, Copy)]
pub struct Population {
    pub first: u64,
    pub patients: u64,
    pub docs_per_patient: u64,
}

/// A small generator per client: no shared state, nothing to replay.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

pub struct Target {
    /// The node's SOAP base URL (https://host:port).
    pub base: String,
    pub registry_url: String,
    pub repository_url: String,
    pub repository_uid: String,
    pub tls: Arc<rustls::ClientConfig>,
}

/// One request of the workload: (action, body).
fn request(
    w: Workload,
    pop: &Population,
    repo: &str,
    rng: &mut Rng,
    turn: u64,
) -> (&'static str, String) {
    let p = pop.first + rng.below(pop.patients);
    match w {
        Workload::W1 => (action::STORED_QUERY, find_documents(&patient_id(p), true)),
        Workload::W2 if turn.is_multiple_of(2) => {
            (action::STORED_QUERY, find_documents(&patient_id(p), false))
        }
        Workload::W2 => {
            let j = rng.below(pop.docs_per_patient);
            (action::STORED_QUERY, get_documents(&loaded_unique_id(p, j)))
        }
        // W4, W5 and W6 have drivers of their own (documents, xca.rs, ehdsi.rs).
        Workload::W3 | Workload::W4 | Workload::W5 | Workload::W6 => {
            let fresh = |_| format!("2.25.{}", uuid::Uuid::new_v4().as_u128());
            (
                action::REGISTER,
                submission(&patient_id(p), 10, rng.below(1 << 20), repo, fresh),
            )
        }
    }
}

/// Runs the workload against the node for `warmup` then `duration`.
pub async fn node(
    t: &Target,
    w: Workload,
    pop: Population,
    connections: usize,
    warmup: Duration,
    duration: Duration,
) -> Measured {
    if w == Workload::W4 {
        return documents(t, pop, connections, warmup, duration).await;
    }
    let url = t.registry_url.clone();
    run(connections, warmup, duration, |i| {
        let client = HttpsClient::new(t.tls.clone(), Duration::from_secs(60));
        let url = url.clone();
        let repo = t.repository_uid.clone();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (i as u64 + 1));
        let mut turn = 0u64;
        move || {
            turn += 1;
            let (act, body) = request(w, &pop, &repo, &mut rng, turn);
            let env = encode_request(
                act,
                &url,
                &format!("urn:uuid:{}", uuid::Uuid::new_v4()),
                &body,
            );
            let client = client.clone();
            let url = url.clone();
            async move { post(&client, &url, &soap_type(act), vec![Bytes::from(env)]).await }
        }
    })
    .await
    .labelled(&format!("{w:?} node"))
}

/// W4: each turn provides a new 100 KiB document and retrieves it.
async fn documents(
    t: &Target,
    pop: Population,
    connections: usize,
    warmup: Duration,
    duration: Duration,
) -> Measured {
    let doc = super::documents::document(100 * 1024);
    run(connections, warmup, duration, |i| {
        let client = HttpsClient::new(t.tls.clone(), Duration::from_secs(60));
        let url = t.repository_url.clone();
        let repo = t.repository_uid.clone();
        let doc = doc.clone();
        let mut rng = Rng(0x2545_f491_4f6c_dd1d ^ (i as u64 + 1));
        move || {
            let p = pop.first + rng.below(pop.patients);
            let uid = format!("2.25.{}", uuid::Uuid::new_v4().as_u128());
            let (ct, chunks) = super::documents::provide(
                &url,
                &patient_id(p),
                rng.below(1 << 20),
                &repo,
                &uid,
                &doc,
                &super::documents::PDF,
            );
            let get = super::documents::retrieve(&url, &repo, &uid);
            let (client, url) = (client.clone(), url.clone());
            async move {
                post(&client, &url, &ct, chunks).await
                    && post(
                        &client,
                        &url,
                        &soap_type(action::RETRIEVE),
                        vec![Bytes::from(get)],
                    )
                    .await
            }
        }
    })
    .await
    .labelled("W4 node")
}

pub(super) fn soap_type(act: &str) -> String {
    format!("application/soap+xml; charset=UTF-8; action=\"{act}\"")
}

pub(super) async fn post(client: &HttpsClient, url: &str, ct: &str, body: Vec<Bytes>) -> bool {
    let reply = client.request(Method::POST, url, Some(ct), body).await;
    reply.is_ok_and(|r| r.status == 200 && succeeded(&r.body))
}

/// Whether a registry answer says Success. The status attribute comes in the first bytes of
/// the body: the load generator shares the cores with the node, so it reads no more.
pub(super) fn succeeded(body: &[u8]) -> bool {
    let head = &body[..body.len().min(4096)];
    memchr::memmem::find(head, b"ResponseStatusType:Success\"").is_some()
}

/// An empty POST to the registry endpoint: a TLS connection and an HTTP exchange, nothing
/// else (the node answers with a SOAP fault without touching the database).
pub async fn empty(
    t: &Target,
    connections: usize,
    warmup: Duration,
    duration: Duration,
) -> Measured {
    let url = t.registry_url.clone();
    run(connections, warmup, duration, |_| {
        let client = HttpsClient::new(t.tls.clone(), Duration::from_secs(60));
        let url = url.clone();
        move || {
            let client = client.clone();
            let url = url.clone();
            async move {
                client
                    .request(
                        Method::POST,
                        &url,
                        Some("application/soap+xml"),
                        vec![Bytes::new()],
                    )
                    .await
                    .is_ok()
            }
        }
    })
    .await
    .labelled("empty request")
}

/// The W1/W2 stored queries run through the registry in this process.
pub async fn raw(
    reg: &Registry,
    w: Workload,
    pop: Population,
    connections: usize,
    warmup: Duration,
    duration: Duration,
) -> Option<Measured> {
    if !matches!(w, Workload::W1 | Workload::W2) {
        return None;
    }
    let template = |xml: String| -> Option<AdhocQueryRequest> {
        let root = crate::xml::parse(xml.as_bytes(), Default::default()).ok()?;
        parse_adhoc_query(&root).ok()
    };
    let find = Arc::new(template(find_documents(
        &patient_id(pop.first),
        w == Workload::W1,
    ))?);
    let get = Arc::new(template(get_documents(&loaded_unique_id(pop.first, 0)))?);
    let m = run(connections, warmup, duration, |i| {
        let reg = reg.clone();
        let (find, get) = (find.clone(), get.clone());
        let mut rng = Rng(0x2545_f491_4f6c_dd1d ^ (i as u64 + 1));
        let mut turn = 0u64;
        move || {
            turn += 1;
            let p = pop.first + rng.below(pop.patients);
            // Only the parameter value changes, as it would after parsing.
            let req = if w == Workload::W2 && turn % 2 == 1 {
                let j = rng.below(pop.docs_per_patient);
                with_value(&get, &format!("('{}')", loaded_unique_id(p, j)))
            } else {
                with_value(&find, &format!("'{}'", patient_id(p)))
            };
            let reg = reg.clone();
            async move {
                reg.query_rows(&req, Viewer::national())
                    .await
                    .is_ok_and(|f| !f.is_empty())
            }
        }
    })
    .await;
    Some(m.labelled(&format!("{w:?} raw store")))
}

/// The request with its first parameter set to `value`.
fn with_value(req: &AdhocQueryRequest, value: &str) -> AdhocQueryRequest {
    let mut r = req.clone();
    if let Some(s) = r.params.first_mut() {
        s.values = vec![value.to_string()];
    }
    r
}

pub(super) struct Run {
    elapsed: Duration,
    micros: Vec<u32>,
    errors: u64,
    connections: usize,
}

impl Run {
    pub(super) fn labelled(self, label: &str) -> Measured {
        Measured::new(
            label,
            self.connections,
            self.elapsed,
            self.micros,
            self.errors,
        )
    }
}

/// Drives `connections` closed loops; `make(i)` gives client i its request function.
pub(super) async fn run<M, F, Fut>(
    connections: usize,
    warmup: Duration,
    duration: Duration,
    make: M,
) -> Run
where
    M: Fn(usize) -> F,
    F: FnMut() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let start = Instant::now() + warmup;
    let end = start + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..connections.max(1) {
        let mut call = make(i);
        tasks.spawn(async move {
            let mut micros = Vec::new();
            let mut errors = 0u64;
            loop {
                let t = Instant::now();
                if t >= end {
                    break;
                }
                let ok = call().await;
                if t >= start {
                    if ok {
                        micros.push(u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX));
                    } else {
                        errors += 1;
                    }
                }
            }
            (micros, errors)
        });
    }
    let mut micros = Vec::new();
    let mut errors = 0;
    while let Some(done) = tasks.join_next().await {
        if let Ok((m, e)) = done {
            micros.extend(m);
            errors += e;
        }
    }
    Run {
        elapsed: Instant::now()
            .saturating_duration_since(start)
            .min(duration + Duration::from_secs(60)),
        micros,
        errors,
        connections: connections.max(1),
    }
}

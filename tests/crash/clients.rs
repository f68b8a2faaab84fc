//! The submitting side of the crash test: what each client sends and what it was told.

use crate::common::xdsb::{self, Content};
use crate::common::{answer, meta, TestNode};
use bytes::Bytes;
use hyper::Method;
use ncpeh::ids::action::{PROVIDE_AND_REGISTER, REGISTER};
use ncpeh::soap::envelope::encode_request;
use ncpeh::transport::client::{decode_soap_reply, ClientError, HttpsClient, SoapResponse};
use ncpeh::xds::ids;
use sha1::{Digest, Sha1};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The repositoryUniqueId ITI-42 entries name: another repository, so that every entry naming
/// this node's repository must have bytes here.
pub const OTHER_REPO: &str = "2.16.578.1.12.4.5.10.1.99";
/// The MsgId of the M1 sample, which is its prescription id.
const M1_MSG_ID: &str = "c2883dc2-8eef-4b8e-a80f-167f858425f7";
/// The prescription the eD sample dispenses.
const ED_PRESCRIPTION: &str = "462617619087101";

/// Where the clients send: the node as last started.
#[derive(Clone)]
pub struct Target {
    pub soap: String,
    pub client: HttpsClient,
}

impl Target {
    pub fn of(node: &TestNode) -> Target {
        Target {
            soap: node.soap.clone(),
            client: node.client(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.soap)
    }

    /// Plain SOAP 1.2 to `path`.
    pub async fn soap(
        &self,
        path: &str,
        action: &str,
        body: &str,
    ) -> Result<SoapResponse, ClientError> {
        let url = self.url(path);
        let env = encode_request(action, &url, &message_id(), body);
        self.client.soap(&url, action, env).await
    }

    /// MTOM to `path`, with `parts` as attachments.
    pub async fn mtom(
        &self,
        path: &str,
        action: &str,
        body: &str,
        parts: Vec<(String, Bytes)>,
    ) -> Result<SoapResponse, ClientError> {
        let url = self.url(path);
        let env = encode_request(action, &url, &message_id(), body);
        let (ct, chunks) = xdsb::mtom_body(action, env, parts);
        let reply = self
            .client
            .request(Method::POST, &url, Some(&ct), chunks)
            .await?;
        decode_soap_reply(reply)
    }
}

fn message_id() -> String {
    format!("urn:uuid:{}", uuid::Uuid::new_v4())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// ITI-41 to /xds/repository.
    Provide,
    /// ITI-42 to /xds/registry: metadata only.
    Register,
    /// An eDispensation over XDR (ITI-41 to /xdr).
    Dispense,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Acked,
    /// No answer: the node died first.
    Unanswered,
    /// A Failure or a fault (the XDS error codes); never expected here.
    Refused(Vec<String>),
}

#[derive(Clone, Debug)]
pub struct Doc {
    pub uid: String,
    pub sha1: String,
    pub size: u64,
}

#[derive(Clone, Debug)]
pub struct Submission {
    pub kind: Kind,
    pub pid: String,
    pub set_uid: String,
    pub docs: Vec<Doc>,
    /// The ePrescription an eD dispenses.
    pub prescription: Option<String>,
    pub outcome: Outcome,
}

impl Submission {
    /// Whether the repository holds bytes for it (not for ITI-42).
    pub fn has_bytes(&self) -> bool {
        self.kind != Kind::Register
    }
}

/// xorshift64*: reproducible from the printed seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x2545_f491_4f6c_dd1d | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut v = Vec::with_capacity(len + 8);
        while v.len() < len {
            v.extend_from_slice(&self.next().to_le_bytes());
        }
        v.truncate(len);
        v
    }
}

pub fn sha1_hex(b: &[u8]) -> String {
    hex::encode(Sha1::digest(b))
}

/// The Norwegian ePrescription (M1) and the eHDSI eDispensation samples from `shared`.
#[derive(Clone)]
pub struct EpSamples {
    m1: Arc<String>,
    ed: Arc<String>,
}

impl EpSamples {
    pub fn load(shared: &Path) -> EpSamples {
        let read = |p: &str| std::fs::read_to_string(shared.join(p)).expect(p);
        let samples = EpSamples {
            m1: Arc::new(read("reference/norway/eresept/M1_Resept.xml")),
            ed: Arc::new(read("reference/ehdsi/pivot-ed/dispensation1.xml")),
        };
        // A fresh MsgId makes a fresh prescription: the test relies on that.
        let (m1, rx) = samples.m1();
        let ep = ncpeh::translate::eresept_to_ep(
            m1.as_bytes(),
            ncpeh::translate::Terminology::builtin(),
            &Default::default(),
        )
        .expect("the M1 sample translates");
        assert_eq!(ep.len(), 1, "one prescription in the M1 sample");
        assert_eq!(
            ep[0].prescription_id, rx,
            "the MsgId is the prescription id"
        );
        assert!(samples.ed.contains(ED_PRESCRIPTION), "eD sample changed");
        samples
    }

    /// An M1 with a new MsgId, and that prescription id.
    fn m1(&self) -> (String, String) {
        assert!(self.m1.contains(M1_MSG_ID), "M1 sample changed");
        let rx = uuid::Uuid::new_v4().to_string();
        (self.m1.replace(M1_MSG_ID, &rx), rx)
    }

    fn ed(&self, prescription: &str) -> String {
        self.ed.replace(ED_PRESCRIPTION, prescription)
    }
}

/// What an answer (or its absence) means.
fn outcome(r: Result<SoapResponse, ClientError>) -> Outcome {
    match r {
        Err(_) => Outcome::Unanswered,
        Ok(r) if r.fault.is_some() => Outcome::Refused(r.fault.into_iter().collect()),
        Ok(r) if answer::status(&r.body) == answer::SUCCESS => Outcome::Acked,
        Ok(r) => Outcome::Refused(answer::error_codes(&r.body)),
    }
}

/// One client: submits `kind` until told to stop or until a submission goes unanswered (the
/// node is gone), and returns what it sent and was told.
pub async fn run(
    t: Target,
    kind: Kind,
    seed: u64,
    stop: Arc<AtomicBool>,
    ep: EpSamples,
) -> Vec<Submission> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        match kind {
            Kind::Provide => out.push(provide(&t, &mut rng).await),
            Kind::Register => out.push(register(&t, &mut rng).await),
            Kind::Dispense => {
                let (m1, rx) = ep.m1();
                let source = provide_m1(&t, m1).await;
                let ok = source.outcome == Outcome::Acked;
                let pid = source.pid.clone();
                out.push(source);
                if ok {
                    out.push(dispense(&t, &pid, &rx, &ep.ed(&rx)).await);
                }
            }
        }
        if out.last().is_some_and(|s| s.outcome != Outcome::Acked) {
            break;
        }
    }
    out
}

/// A SubmissionSet with a HasMember association to each document.
fn submission(pid: &str, set_uid: &str, docs: &[meta::Doc]) -> String {
    let mut objs = vec![meta::submission_set("SubmissionSet01", pid, set_uid)];
    for (i, d) in docs.iter().enumerate() {
        objs.push(d.xml());
        objs.push(meta::assoc(
            &format!("as{i}"),
            ids::HAS_MEMBER,
            "SubmissionSet01",
            &d.id,
            Some("Original"),
        ));
    }
    meta::submit(&objs)
}

/// ITI-41 over MTOM: one to three documents, now and then one over 1 MiB (several chunks).
async fn provide(t: &Target, rng: &mut Rng) -> Submission {
    let pid = crate::common::new_pid();
    let set_uid = meta::new_uid();
    let n = 1 + rng.below(3) as usize;
    let mut entries = Vec::new();
    let mut parts = Vec::new();
    let mut docs = Vec::new();
    for i in 0..n {
        let d = xdsb::doc(&format!("Document{i}"), &pid, "application/octet-stream");
        let len = if rng.below(4) == 0 {
            1024 * 1024 + rng.below(512 * 1024)
        } else {
            1 + rng.below(256 * 1024)
        } as usize;
        let data = rng.bytes(len);
        docs.push(Doc {
            uid: d.uid.clone(),
            sha1: sha1_hex(&data),
            size: len as u64,
        });
        parts.push((format!("doc{i}@crash"), Bytes::from(data)));
        entries.push(d);
    }
    let refs: Vec<(&str, Content)> = entries
        .iter()
        .zip(&parts)
        .map(|(d, (cid, _))| (d.id.as_str(), Content::Cid(cid)))
        .collect();
    let body = xdsb::pnr_body(&submission(&pid, &set_uid, &entries), &refs);
    let r = t
        .mtom("/xds/repository", PROVIDE_AND_REGISTER, &body, parts)
        .await;
    Submission {
        kind: Kind::Provide,
        pid,
        set_uid,
        docs,
        prescription: None,
        outcome: outcome(r),
    }
}

/// ITI-42: one to three entries of another repository, with their hash and size.
async fn register(t: &Target, rng: &mut Rng) -> Submission {
    let pid = crate::common::new_pid();
    let set_uid = meta::new_uid();
    let n = 1 + rng.below(3) as usize;
    let mut entries = Vec::new();
    let mut docs = Vec::new();
    for i in 0..n {
        let mut d = meta::Doc::new(&format!("Document{i}"), &pid);
        d.repo = OTHER_REPO.into();
        d.hash = sha1_hex(&rng.bytes(16));
        d.size = (1 + rng.below(1 << 30)).to_string();
        docs.push(Doc {
            uid: d.uid.clone(),
            sha1: d.hash.clone(),
            size: d.size.parse().unwrap_or_default(),
        });
        entries.push(d);
    }
    let r = t
        .soap(
            "/xds/registry",
            REGISTER,
            &submission(&pid, &set_uid, &entries),
        )
        .await;
    Submission {
        kind: Kind::Register,
        pid,
        set_uid,
        docs,
        prescription: None,
        outcome: outcome(r),
    }
}

/// The Norwegian ePrescription an eD will dispense, as an inline ITI-41.
async fn provide_m1(t: &Target, m1: String) -> Submission {
    let pid = crate::common::new_pid();
    let set_uid = meta::new_uid();
    let mut d = xdsb::doc("Resept", &pid, "text/xml");
    d.format = (
        "urn:no:kith:xmlstds:eresept:m1".into(),
        "1.3.6.1.4.1.19376.1.2.3".into(),
    );
    let body = xdsb::pnr_body(
        &submission(&pid, &set_uid, std::slice::from_ref(&d)),
        &[("Resept", Content::Inline(m1.as_bytes()))],
    );
    let r = t.soap("/xds/repository", PROVIDE_AND_REGISTER, &body).await;
    Submission {
        kind: Kind::Provide,
        pid,
        set_uid,
        docs: vec![Doc {
            uid: d.uid,
            sha1: sha1_hex(m1.as_bytes()),
            size: m1.len() as u64,
        }],
        prescription: None,
        outcome: outcome(r),
    }
}

/// An eDispensation of `prescription` over XDR, from a national caller.
async fn dispense(t: &Target, pid: &str, prescription: &str, ed: &str) -> Submission {
    let set_uid = meta::new_uid();
    let mut d = xdsb::doc("Ed", pid, "text/xml");
    d.class = ("60593-1".into(), "2.16.840.1.113883.6.1".into());
    d.type_code = ("60593-1".into(), "2.16.840.1.113883.6.1".into());
    d.format = ("urn:epSOS:ep:dis:2010".into(), "eHDSI formatCodes".into());
    let body = xdsb::pnr_body(
        &submission(pid, &set_uid, std::slice::from_ref(&d)),
        &[("Ed", Content::Inline(ed.as_bytes()))],
    );
    let r = t.soap("/xdr", PROVIDE_AND_REGISTER, &body).await;
    Submission {
        kind: Kind::Dispense,
        pid: pid.to_string(),
        set_uid,
        docs: vec![Doc {
            uid: d.uid,
            sha1: sha1_hex(ed.as_bytes()),
            size: ed.len() as u64,
        }],
        prescription: Some(prescription.to_string()),
        outcome: outcome(r),
    }
}

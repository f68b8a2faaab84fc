//! Checking one peer, endpoint by endpoint: the TLS handshake (chain and pinned subject), the
//! certificate's expiry, `?wsdl`, and the harmless call through the gateways' outbound path.

use super::calls::{harmless, read_answer, Kind};
use crate::gateway::peers::{call_peer, Peer, PeerError, PeerRequest};
use crate::pki::PeerIdentity;
use crate::transport::client::{ClientError, HttpsClient};
use crate::trust::Outbound;
use hyper::Method;
use std::time::Instant;

/// A certificate this close to its end is reported as a warning.
pub const WARN_DAYS: i64 = 30;
const WSDL_NS: &str = "http://schemas.xmlsoap.org/wsdl/";

/// What every peer's check shares.
pub struct Context {
    /// This node's homeCommunityId (the sender of XCPD queries, the organisation of assertions).
    pub home: String,
    pub outbound: Outbound,
}

pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    /// RFC 3339.
    pub not_after: String,
    pub days_left: i64,
    /// Certificates the server sent, its own included.
    pub chain_len: usize,
}

pub struct QueryOutcome {
    pub ok: bool,
    pub rtt_ms: u128,
    /// What the peer answered (its status and first error code, or queryResponseCode).
    pub answer: Option<String>,
}

pub struct EndpointReport {
    pub kind: Kind,
    pub url: String,
    pub tls_ok: bool,
    /// None when no subject is pinned or there was no handshake.
    pub subject_ok: Option<bool>,
    pub cert: Option<CertInfo>,
    /// None when not tried.
    pub wsdl_ok: Option<bool>,
    /// None when not tried (or, for XDR, when there is no harmless call).
    pub query: Option<QueryOutcome>,
    pub problems: Vec<String>,
    pub warnings: Vec<String>,
}

impl EndpointReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

pub struct PeerReport {
    pub name: String,
    pub home_community_id: String,
    pub timeout_secs: u64,
    pub endpoints: Vec<EndpointReport>,
}

impl PeerReport {
    pub fn ok(&self) -> bool {
        self.endpoints.iter().all(EndpointReport::ok)
    }
}

pub async fn check_peer(peer: Peer, name: String, ctx: std::sync::Arc<Context>) -> PeerReport {
    let urls = [
        (Kind::Xcpd, &peer.cfg.xcpd_url),
        (Kind::Xca, &peer.cfg.xca_url),
        (Kind::Xdr, &peer.cfg.xdr_url),
    ];
    let mut endpoints = Vec::new();
    for (kind, url) in urls {
        if let Some(url) = url {
            endpoints.push(check_endpoint(&peer, kind, url, &ctx).await);
        }
    }
    PeerReport {
        name,
        home_community_id: peer.cfg.home_community_id.clone(),
        timeout_secs: peer.timeout.as_secs(),
        endpoints,
    }
}

async fn check_endpoint(peer: &Peer, kind: Kind, url: &str, ctx: &Context) -> EndpointReport {
    let mut r = EndpointReport {
        kind,
        url: url.to_string(),
        tls_ok: false,
        subject_ok: None,
        cert: None,
        wsdl_ok: None,
        query: None,
        problems: Vec::new(),
        warnings: Vec::new(),
    };
    let hs = match peer.client.handshake(url).await {
        Ok(h) => h,
        Err(e) => {
            r.problems.push(client_problem(&e));
            return r;
        }
    };
    r.tls_ok = true;
    if peer.cfg.expected_subject.is_some() {
        r.subject_ok = Some(hs.subject_mismatch.is_none());
    }
    if let Some(leaf) = hs.chain.first() {
        r.cert = cert_info(leaf, hs.chain.len(), &mut r.problems, &mut r.warnings);
    }
    if let Some(why) = hs.subject_mismatch {
        // The gateways refuse this server, so nothing more can be asked of it.
        r.problems.push(format!("subject mismatch: {why}"));
        return r;
    }
    let wsdl = wsdl(&peer.client, url).await;
    r.wsdl_ok = Some(wsdl.is_ok());
    if let Err(why) = wsdl {
        r.problems.push(why);
    }
    if let Some(call) = harmless(kind, &ctx.home, &peer.cfg.home_community_id) {
        let security = ctx
            .outbound
            .check_security(&ctx.home, call.patient.as_deref());
        let sent_assertions = security.is_some();
        let req = PeerRequest {
            url: url.to_string(),
            action: call.action,
            security,
            body: call.body,
        };
        let started = Instant::now();
        let answer = call_peer(peer.client.clone(), req, peer.timeout).await;
        let rtt_ms = started.elapsed().as_millis();
        let read = match answer {
            Ok(resp) => read_answer(kind, &resp.body),
            Err(PeerError::Fault(f)) if !sent_assertions => Err(format!(
                "SOAP fault {f} (no assertions were sent: the node issues them only with [xua] issue = true)"
            )),
            Err(PeerError::Client(e)) => Err(client_problem(&e)),
            Err(e) => Err(e.to_string()),
        };
        let (ok, answer) = match read {
            Ok(a) => (true, Some(a)),
            Err(why) => {
                r.problems.push(format!("{}: {why}", kind.label()));
                (false, None)
            }
        };
        r.query = Some(QueryOutcome { ok, rtt_ms, answer });
    }
    r
}

/// The leaf's names and days left; an expired one is a problem, one near its end a warning.
fn cert_info(
    leaf: &[u8],
    chain_len: usize,
    problems: &mut Vec<String>,
    warnings: &mut Vec<String>,
) -> Option<CertInfo> {
    let id = PeerIdentity::from_der(leaf).ok()?;
    let (_, not_after) = crate::pki::validity(leaf)?;
    let days_left = (not_after - time::OffsetDateTime::now_utc()).whole_days();
    let not_after = not_after
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    if days_left < 0 {
        problems.push(format!("certificate expired on {not_after}"));
    } else if days_left < WARN_DAYS {
        warnings.push(format!(
            "certificate expires in {days_left} days ({not_after})"
        ));
    }
    Some(CertInfo {
        subject: id.subject,
        issuer: id.issuer,
        not_after,
        days_left,
        chain_len,
    })
}

/// `GET <url>?wsdl` must answer 200 with a WSDL 1.1 `definitions` document.
async fn wsdl(client: &HttpsClient, url: &str) -> Result<(), String> {
    let sep = if url.contains('?') { '&' } else { '?' };
    let wsdl_url = format!("{url}{sep}wsdl");
    let reply = client
        .request(Method::GET, &wsdl_url, None, Vec::new())
        .await
        .map_err(|e| format!("?wsdl: {}", client_problem(&e)))?;
    if reply.status != 200 {
        return Err(format!("?wsdl answered HTTP {}", reply.status));
    }
    let root = crate::xml::parse(&reply.body, crate::xml::Limits::default())
        .map_err(|e| format!("?wsdl is not XML: {e}"))?;
    if !root.is(WSDL_NS, "definitions") {
        return Err(format!("?wsdl is not a WSDL (its root is {})", root.name));
    }
    Ok(())
}

/// A transport failure in an operator's words.
fn client_problem(e: &ClientError) -> String {
    match e {
        ClientError::Connect(addr, why) => format!("cannot connect to {addr}: {why}"),
        ClientError::Tls(addr, why) => format!("TLS with {addr} failed: {why}"),
        ClientError::Timeout(d) => format!("no answer within {} s", d.as_secs()),
        other => other.to_string(),
    }
}

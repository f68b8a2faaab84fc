//! The configured peer communities, each with its own pinned, pooled mTLS client, and the
//! bounded outbound call the initiating gateways make to them.

use crate::config::{Config, PeerConfig};
use crate::metrics::peers::{PeerSlot, PeerStatus, PeerWatch};
use crate::metrics::unix_ms;
use crate::soap::envelope::encode_secured_request;
use crate::transport::client::{HttpsClient, SoapResponse};
use crate::transport::tls::{ClientTls, TlsError};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

pub struct Peer {
    pub cfg: PeerConfig,
    pub client: HttpsClient,
    pub timeout: Duration,
    /// What the console shows of it: outcomes of the gateways' calls, its certificate.
    pub status: Arc<PeerSlot>,
}

#[derive(Default)]
pub struct Peers {
    pub list: Vec<Peer>,
    /// The node's outbound identity, shared by every peer's client; SIGHUP renews it.
    pub tls: Option<Arc<ClientTls>>,
}

impl Peers {
    pub fn from_config(cfg: &Config) -> Result<Peers, TlsError> {
        if cfg.peers.is_empty() {
            return Ok(Peers::default());
        }
        let tls = ClientTls::load(&cfg.ca_path(), &cfg.cert_path(), &cfg.key_path())?;
        let list = cfg
            .peers
            .iter()
            .zip(peer_names(&cfg.peers))
            .map(|(p, name)| {
                let timeout = p.timeout.unwrap_or(cfg.gateway.peer_timeout);
                let status = PeerSlot::new(PeerStatus {
                    name,
                    home_community_id: p.home_community_id.clone(),
                    country: p.country.clone(),
                    services: [
                        (p.xcpd_url.is_some(), "XCPD"),
                        (p.xca_url.is_some(), "XCA"),
                        (p.xdr_url.is_some(), "XDR"),
                    ]
                    .into_iter()
                    .filter_map(|(on, s)| on.then_some(s))
                    .collect(),
                    ..PeerStatus::default()
                });
                Peer {
                    cfg: p.clone(),
                    client: HttpsClient::renewable(tls.clone(), timeout)
                        .with_expected_subject(p.expected_subject.clone())
                        .with_status(status.clone()),
                    timeout,
                    status,
                }
            })
            .collect();
        Ok(Peers {
            list,
            tls: Some(tls),
        })
    }

    /// Every peer's status, for the console.
    pub fn watch(&self) -> PeerWatch {
        PeerWatch {
            slots: self.list.iter().map(|p| p.status.clone()).collect(),
        }
    }

    pub fn by_home(&self, home: &str) -> Option<&Peer> {
        self.list.iter().find(|p| p.cfg.home_community_id == home)
    }

    /// Peers that answer XCA.
    pub fn xca(&self) -> impl Iterator<Item = &Peer> {
        self.list.iter().filter(|p| p.cfg.xca_url.is_some())
    }
}

/// Why a peer gave no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    #[error("no answer within {} s", .0.as_secs())]
    Timeout(Duration),
    #[error(transparent)]
    Client(#[from] crate::transport::client::ClientError),
    #[error("SOAP fault {0}")]
    Fault(String),
}

/// One outbound call: where, which action, the consumer's wsse:Security header to forward
/// unchanged (when it had one), and the body.
pub struct PeerRequest {
    pub url: String,
    pub action: &'static str,
    pub security: Option<Arc<str>>,
    pub body: String,
}

/// One call to a peer, bounded by the peer's timeout.
pub async fn call_peer(
    client: HttpsClient,
    req: PeerRequest,
    limit: Duration,
) -> Result<SoapResponse, PeerError> {
    let message_id = format!("urn:uuid:{}", uuid::Uuid::new_v4());
    let env = encode_secured_request(
        req.action,
        &req.url,
        &message_id,
        req.security.as_deref(),
        &req.body,
    );
    let (url, action) = (req.url, req.action);
    match tokio::time::timeout(limit, client.soap(&url, action, env)).await {
        Err(_) => Err(PeerError::Timeout(limit)),
        Ok(Err(e)) => Err(e.into()),
        Ok(Ok(r)) => match r.fault {
            Some(f) => Err(PeerError::Fault(f)),
            None => Ok(r),
        },
    }
}

/// Answers from several peers, each tagged with the peer's homeCommunityId.
pub type PeerCalls = JoinSet<(String, Result<SoapResponse, PeerError>)>;

/// Starts `call_peer` for `p` in `set`, noting its outcome in the peer's status.
pub fn spawn_call(set: &mut PeerCalls, p: &Peer, req: PeerRequest) {
    let home = p.cfg.home_community_id.clone();
    let fut = call_peer(p.client.clone(), req, p.timeout);
    let status = p.status.clone();
    set.spawn(async move {
        let started = Instant::now();
        let answer = fut.await;
        note(&status, &answer, started);
        (home, answer)
    });
}

/// One call's outcome in the peer's status: a fault's text stays out (it may name the patient).
pub fn note(status: &PeerSlot, answer: &Result<SoapResponse, PeerError>, started: Instant) {
    match answer {
        Ok(_) => status.success(unix_ms(), started.elapsed().as_millis() as u64),
        Err(PeerError::Fault(_)) => status.failure(unix_ms(), "SOAP fault"),
        Err(e) => status.failure(unix_ms(), &e.to_string()),
    }
}

/// Each peer's name: `name` when set, else its country when no other peer has that country,
/// else its homeCommunityId.
pub fn peer_names(peers: &[PeerConfig]) -> Vec<String> {
    peers
        .iter()
        .map(|p| {
            if let Some(n) = &p.name {
                return n.clone();
            }
            match &p.country {
                Some(c)
                    if peers
                        .iter()
                        .filter(|q| q.country.as_ref() == Some(c))
                        .count()
                        == 1 =>
                {
                    c.clone()
                }
                _ => p.home_community_id.clone(),
            }
        })
        .collect()
}

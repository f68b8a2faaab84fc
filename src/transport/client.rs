//! Outbound HTTPS with mutual TLS (for peers, remote registries, the conformance runner and
//! tests), with a small keep-alive pool per host.

use super::body::Chunks;
use super::tls::ClientTls;
use crate::metrics::peers::PeerSlot;
use crate::soap::mtom::{self, ContentType, Part};
use crate::soap::SOAP12;
use crate::xml::{self, Element};
use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Method, Request, Uri};
use hyper_util::rt::TokioIo;
use rustls_pki_types::ServerName;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("bad URL {0}")]
    Url(String),
    #[error("connect to {0}: {1}")]
    Connect(String, String),
    #[error("TLS with {0}: {1}")]
    Tls(String, String),
    #[error("HTTP: {0}")]
    Http(String),
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    #[error("response: {0}")]
    Response(String),
}

type TlsStream = tokio_rustls::client::TlsStream<TcpStream>;

/// What `HttpsClient::handshake` saw.
#[derive(Debug)]
pub struct Handshake {
    /// The server's certificates, its own first.
    pub chain: Vec<rustls_pki_types::CertificateDer<'static>>,
    /// Why the pinned subject does not match, when it does not.
    pub subject_mismatch: Option<String>,
}

#[derive(Debug)]
pub struct HttpReply {
    pub status: u16,
    pub content_type: String,
    pub body: Bytes,
}

/// Answers up to this size are decoded where they arrive; larger ones on a blocking thread.
pub const INLINE_DECODE_BYTES: usize = 64 * 1024;

/// A decoded SOAP response.
#[derive(Debug)]
pub struct SoapResponse {
    pub http_status: u16,
    pub action: Option<String>,
    pub relates_to: Option<String>,
    /// The first element of the Body (a Fault element when the peer faulted).
    pub body: Element,
    pub fault: Option<String>,
    pub parts: HashMap<String, Part>,
}

/// Where a client's TLS configuration comes from: fixed, or renewed by SIGHUP.
#[derive(Clone)]
enum Identity {
    Fixed(Arc<rustls::ClientConfig>),
    Renewable(Arc<ClientTls>),
}

impl Identity {
    fn current(&self) -> (u64, Arc<rustls::ClientConfig>) {
        match self {
            Identity::Fixed(c) => (0, c.clone()),
            Identity::Renewable(t) => t.current(),
        }
    }
}

/// Kept-alive connections per host, each with the identity generation it was made with.
type Pool = HashMap<String, Vec<(u64, SendRequest<Chunks>)>>;

#[derive(Clone)]
pub struct HttpsClient {
    identity: Identity,
    timeout: Duration,
    max_response: usize,
    pool: Arc<Mutex<Pool>>,
    /// When set, the server certificate's subject must be exactly this (peer pinning).
    expected_subject: Option<String>,
    /// Where each new connection notes the expiry of the server's certificate.
    status: Option<Arc<PeerSlot>>,
}

impl HttpsClient {
    pub fn new(tls: Arc<rustls::ClientConfig>, timeout: Duration) -> HttpsClient {
        HttpsClient::with_identity(Identity::Fixed(tls), timeout)
    }

    /// A client whose certificate a reload of `tls` renews: new connections use the new one,
    /// and connections kept alive from before are not used again.
    pub fn renewable(tls: Arc<ClientTls>, timeout: Duration) -> HttpsClient {
        HttpsClient::with_identity(Identity::Renewable(tls), timeout)
    }

    fn with_identity(identity: Identity, timeout: Duration) -> HttpsClient {
        HttpsClient {
            identity,
            timeout,
            max_response: 256 * 1024 * 1024,
            pool: Arc::default(),
            expected_subject: None,
            status: None,
        }
    }

    /// Note the server certificate's expiry in `status` at each new connection.
    pub fn with_status(mut self, status: Arc<PeerSlot>) -> HttpsClient {
        self.status = Some(status);
        self
    }

    /// Refuse servers whose certificate subject is not `subject` (as PeerIdentity prints it).
    pub fn with_expected_subject(mut self, subject: Option<String>) -> HttpsClient {
        self.expected_subject = subject;
        self
    }

    /// One request within the client's timeout.
    pub async fn request(
        &self,
        method: Method,
        url: &str,
        content_type: Option<&str>,
        body: Vec<Bytes>,
    ) -> Result<HttpReply, ClientError> {
        let exchange = async move {
            let (uri, host, port) = https_target(url)?;
            let authority = format!("{host}:{port}");
            let generation = self.identity.current().0;
            let (mut sender, reused) = match self.pooled(&authority, generation) {
                Some(s) => (s, true),
                None => (self.connect(&host, port).await?, false),
            };
            let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
            let mut builder = Request::builder()
                .method(method)
                .uri(path)
                .header(hyper::header::HOST, &authority);
            if let Some(ct) = content_type {
                builder = builder.header(hyper::header::CONTENT_TYPE, ct);
            }
            let req = builder
                .body(Chunks::many(body))
                .map_err(|e| ClientError::Http(e.to_string()))?;
            let resp = match sender.try_send_request(req).await {
                Ok(r) => r,
                Err(mut e) => match e.take_message() {
                    // A kept-alive connection the server closed just then (idle, or at its
                    // lifetime): the request never left, so it goes once more on a new one.
                    Some(req) if reused => {
                        sender = self.connect(&host, port).await?;
                        sender
                            .send_request(req)
                            .await
                            .map_err(|e| ClientError::Http(e.to_string()))?
                    }
                    _ => return Err(ClientError::Http(e.into_error().to_string())),
                },
            };
            let status = resp.status().as_u16();
            let ct = resp
                .headers()
                .get(hyper::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let keep = !resp
                .headers()
                .get(hyper::header::CONNECTION)
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"));
            let body = Limited::new(resp.into_body(), self.max_response)
                .collect()
                .await
                .map_err(|e| ClientError::Http(e.to_string()))?
                .to_bytes();
            if keep {
                self.pool
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .entry(authority)
                    .or_default()
                    .push((generation, sender));
            }
            Ok(HttpReply {
                status,
                content_type: ct,
                body,
            })
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| ClientError::Timeout(self.timeout))?
    }

    /// A kept-alive connection made with the identity of `generation`; older ones are dropped.
    fn pooled(&self, authority: &str, generation: u64) -> Option<SendRequest<Chunks>> {
        let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        let list = pool.get_mut(authority)?;
        while let Some((made_with, s)) = list.pop() {
            if made_with == generation && !s.is_closed() && s.is_ready() {
                return Some(s);
            }
        }
        None
    }

    /// TCP, then the TLS handshake; the server's chain is checked against the trust anchors
    /// but not yet against the expected subject.
    async fn tls_connect(&self, host: &str, port: u16) -> Result<TlsStream, ClientError> {
        let addr = format!("{host}:{port}");
        let tcp = TcpStream::connect(&addr)
            .await
            .map_err(|e| ClientError::Connect(addr.clone(), e.to_string()))?;
        let _ = tcp.set_nodelay(true);
        let name = ServerName::try_from(host.to_string())
            .map_err(|e| ClientError::Url(format!("{host}: {e}")))?;
        TlsConnector::from(self.identity.current().1)
            .connect(name, tcp)
            .await
            .map_err(|e| ClientError::Tls(addr, e.to_string()))
    }

    /// The pinned subject, when one is set and the server's leaf differs from it.
    fn subject_mismatch(&self, tls: &TlsStream) -> Option<String> {
        let want = self.expected_subject.as_ref()?;
        let got = tls
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|c| c.first())
            .and_then(|c| crate::pki::PeerIdentity::from_der(c).ok())
            .map(|p| p.subject)
            .unwrap_or_default();
        (&got != want)
            .then(|| format!("server certificate subject '{got}' is not the expected '{want}'"))
    }

    async fn connect(&self, host: &str, port: u16) -> Result<SendRequest<Chunks>, ClientError> {
        let addr = format!("{host}:{port}");
        let tls = self.tls_connect(host, port).await?;
        if let Some(status) = &self.status {
            let leaf = tls.get_ref().1.peer_certificates().and_then(|c| c.first());
            if let Some((_, not_after)) = leaf.and_then(|c| crate::pki::validity(c)) {
                status.certificate(not_after.unix_timestamp());
            }
        }
        if let Some(why) = self.subject_mismatch(&tls) {
            return Err(ClientError::Tls(addr, why));
        }
        let (sender, conn) = http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|e| ClientError::Tls(addr.clone(), e.to_string()))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(sender)
    }

    /// A TLS handshake with the server of `url` alone, within the client's timeout, for an
    /// operator's check: the chain the server presented (leaf first) and, when a subject is
    /// pinned and differs, why it would be refused.
    pub async fn handshake(&self, url: &str) -> Result<Handshake, ClientError> {
        let (_, host, port) = https_target(url)?;
        let tls = tokio::time::timeout(self.timeout, self.tls_connect(&host, port))
            .await
            .map_err(|_| ClientError::Timeout(self.timeout))??;
        let chain = tls
            .get_ref()
            .1
            .peer_certificates()
            .map(|c| c.iter().map(|d| d.clone().into_owned()).collect())
            .unwrap_or_default();
        Ok(Handshake {
            chain,
            subject_mismatch: self.subject_mismatch(&tls),
        })
    }

    /// Posts a SOAP 1.2 envelope and decodes the answer (plain or MTOM).
    pub async fn soap(
        &self,
        url: &str,
        action: &str,
        envelope: String,
    ) -> Result<SoapResponse, ClientError> {
        let ct = format!("application/soap+xml; charset=UTF-8; action=\"{action}\"");
        let reply = self
            .request(Method::POST, url, Some(&ct), vec![Bytes::from(envelope)])
            .await?;
        // A peer's answer may be hundreds of megabytes: parse it off the async workers.
        if reply.body.len() <= INLINE_DECODE_BYTES {
            return decode_soap_reply(reply);
        }
        tokio::task::spawn_blocking(move || decode_soap_reply(reply))
            .await
            .map_err(|e| ClientError::Response(format!("decoding the answer failed: {e}")))?
    }
}

/// The URI, host and port of an https URL; any other scheme is refused.
fn https_target(url: &str) -> Result<(Uri, String, u16), ClientError> {
    let uri: Uri = url.parse().map_err(|_| ClientError::Url(url.to_string()))?;
    if uri.scheme_str() != Some("https") {
        return Err(ClientError::Url(format!("{url} (only https is allowed)")));
    }
    let host = uri
        .host()
        .ok_or_else(|| ClientError::Url(url.to_string()))?
        .to_string();
    let port = uri.port_u16().unwrap_or(443);
    Ok((uri, host, port))
}

pub fn decode_soap_reply(reply: HttpReply) -> Result<SoapResponse, ClientError> {
    let ct = ContentType::parse(&reply.content_type);
    let (root, parts) = if ct.is_multipart() {
        let m = mtom::decode(&ct, reply.body).map_err(|e| ClientError::Response(e.to_string()))?;
        (m.root, m.parts)
    } else {
        (reply.body, HashMap::new())
    };
    let mut env = xml::parse(&root, xml::Limits::default())
        .map_err(|e| ClientError::Response(format!("HTTP {}: {e}", reply.status)))?;
    if !env.is(SOAP12, "Envelope") {
        return Err(ClientError::Response(format!(
            "HTTP {}: not a SOAP 1.2 envelope",
            reply.status
        )));
    }
    let body = crate::soap::envelope::take_body(&mut env)
        .map_err(|why| ClientError::Response(format!("HTTP {}: {why}", reply.status)))?;
    let header = env.child(SOAP12, "Header");
    let wsa = |n: &str| {
        header
            .and_then(|h| h.child(crate::soap::WSA, n))
            .map(|e| e.text().trim().to_string())
    };
    let fault = body.is(SOAP12, "Fault").then(|| {
        let code = body
            .child(SOAP12, "Code")
            .map(|c| {
                let v = c
                    .child(SOAP12, "Value")
                    .map(|v| v.text())
                    .unwrap_or_default();
                let sub = c
                    .child(SOAP12, "Subcode")
                    .and_then(|s| s.child(SOAP12, "Value"))
                    .map(|v| format!("/{}", v.text()))
                    .unwrap_or_default();
                format!("{v}{sub}")
            })
            .unwrap_or_default();
        let reason = body
            .child(SOAP12, "Reason")
            .and_then(|r| r.child(SOAP12, "Text"))
            .map(|t| t.text())
            .unwrap_or_default();
        format!("{code}: {reason}")
    });
    Ok(SoapResponse {
        http_status: reply.status,
        action: wsa("Action"),
        relates_to: wsa("RelatesTo"),
        body,
        fault,
        parts,
    })
}

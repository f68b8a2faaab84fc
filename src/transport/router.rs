//! Routing by path to the registered SOAP services, and the HTTP side of SOAP: content types,
//! size and time limits, MTOM, envelopes, and the per-transaction log line. The router knows no
//! service by name: `node.rs` registers them.

use super::admission::{Admission, Busy};
use super::body::{read_limited, Chunks, ReadBodyError};
use super::rest::{RestReply, RestRequest, RestService};
use crate::metrics::Metrics;
use crate::pki::PeerIdentity;
use crate::soap::mtom::{self, ContentType, Part};
use crate::soap::wsdl::{self, Described};
use crate::soap::{
    self, Authorizer, Endpoint, Fault, SoapCall, SoapReply, SoapRequest, SoapService,
};
use hyper::body::Incoming;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Limits on one SOAP request.
#[derive(Debug, Clone, Copy)]
pub struct SoapLimits {
    pub max_body_bytes: usize,
    /// Time for the whole body to arrive.
    pub body_timeout: Duration,
}

/// Why no service answered: the trust layer refused the caller, or the call faulted.
enum NotServed {
    Refused(Fault),
    Failed(Fault),
}
use NotServed::{Failed, Refused};

/// Bodies up to this size are decoded where they arrive; larger ones on a blocking thread.
const INLINE_DECODE_BYTES: usize = 64 * 1024;

/// The metrics label of an action no service answers (keeps the label set closed).
const OTHER_ACTION: &str = "other";

pub struct Router {
    services: HashMap<&'static str, Arc<dyn SoapService>>,
    /// Plain HTTPS services by path prefix (few: a linear search).
    rest: Vec<Arc<dyn RestService>>,
    authorizer: Arc<dyn Authorizer>,
    limits: SoapLimits,
    /// Written into served WSDLs for `{{BASE_URL}}`.
    public_url: String,
    metrics: Arc<Metrics>,
    admission: Arc<Admission>,
}

#[derive(Debug, thiserror::Error)]
#[error("two services registered for {0}")]
pub struct DuplicatePath(pub &'static str);

impl Router {
    pub fn new(
        limits: SoapLimits,
        public_url: String,
        metrics: Arc<Metrics>,
        authorizer: Arc<dyn Authorizer>,
        admission: Arc<Admission>,
    ) -> Router {
        Router {
            services: HashMap::new(),
            rest: Vec::new(),
            authorizer,
            limits,
            public_url,
            metrics,
            admission,
        }
    }

    /// Serves `service` at its path.
    pub fn register(&mut self, service: Arc<dyn SoapService>) -> Result<(), DuplicatePath> {
        let path = service.endpoint().path;
        if self.services.insert(path, service).is_some() {
            return Err(DuplicatePath(path));
        }
        Ok(())
    }

    /// Serves `service` at every path below its endpoint's path.
    pub fn register_rest(&mut self, service: Arc<dyn RestService>) -> Result<(), DuplicatePath> {
        let path = service.endpoint().path;
        if self.services.contains_key(path) || self.rest.iter().any(|r| r.endpoint().path == path) {
            return Err(DuplicatePath(path));
        }
        self.rest.push(service);
        Ok(())
    }

    pub fn paths(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.services
            .keys()
            .copied()
            .chain(self.rest.iter().map(|r| r.endpoint().path))
    }

    fn rest_service(&self, path: &str) -> Option<Arc<dyn RestService>> {
        self.rest
            .iter()
            .find(|r| {
                let p = r.endpoint().path;
                path.strip_prefix(p)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
            })
            .cloned()
    }

    pub async fn handle(
        self: Arc<Self>,
        peer: Arc<PeerIdentity>,
        req: Request<Incoming>,
    ) -> Result<Response<Chunks>, Infallible> {
        let path = req.uri().path();
        if let Some(svc) = self.rest_service(path) {
            let resp = match self.admission.admit(&peer) {
                Ok(_ticket) => self.rest_call(peer, svc, req).await,
                Err(busy) => {
                    self.note_busy(&peer, &busy);
                    let accept = req.headers().get(hyper::header::ACCEPT);
                    let accept = accept.and_then(|v| v.to_str().ok());
                    let reason = format!("The node is busy: {busy}");
                    let mut r = svc.refusal(503, &reason, accept);
                    r.headers.push(("retry-after", "1".into()));
                    closing(rest_response(r))
                }
            };
            return Ok(resp);
        }
        let service = self.services.get(path.trim_end_matches('/')).cloned();
        let resp = match (req.method(), service) {
            (&Method::GET, Some(svc)) if req.uri().query().is_some_and(is_description) => {
                let query = req.uri().query().unwrap_or_default();
                self.description(svc.endpoint(), query)
            }
            (&Method::POST, Some(svc)) => match self.admission.admit(&peer) {
                Ok(_ticket) => self.soap_call(peer, svc, req).await,
                Err(busy) => self.busy(&peer, busy),
            },
            (&Method::POST, None) => {
                let f = Fault::sender(format!("There is no SOAP endpoint at {path}"));
                fault_with_status(&f, StatusCode::NOT_FOUND)
            }
            (_, Some(_)) => plain(
                StatusCode::METHOD_NOT_ALLOWED,
                "text/plain",
                "use POST for SOAP, GET ?wsdl for the WSDL and ?xsd=<name> for its schemas\n"
                    .into(),
            ),
            (_, None) => plain(StatusCode::NOT_FOUND, "text/plain", "not found\n".into()),
        };
        Ok(resp)
    }

    /// The WSDL or one of its schemas (404 for a schema the endpoint does not serve).
    fn description(&self, endpoint: &Endpoint, query: &str) -> Response<Chunks> {
        let text = match Described::from_query(query) {
            Some(Described::Wsdl) => Some(wsdl::wsdl(endpoint, &self.public_url)),
            Some(Described::Xsd(name)) => wsdl::schema(endpoint, name, &self.public_url),
            None => None,
        };
        match text {
            Some(t) => plain(StatusCode::OK, "text/xml; charset=UTF-8", t),
            None => plain(
                StatusCode::NOT_FOUND,
                "text/plain",
                "no such schema at this endpoint\n".into(),
            ),
        }
    }

    async fn soap_call(
        &self,
        peer: Arc<PeerIdentity>,
        svc: Arc<dyn SoapService>,
        req: Request<Incoming>,
    ) -> Response<Chunks> {
        let started = Instant::now();
        let endpoint = svc.endpoint();
        let (ct, body) = match self.read_body(req).await {
            Ok(v) => v,
            Err(refused) => return closing(refused),
        };
        let _trim = super::memory::TrimAfter::for_body(body.len());
        let mtom_in = ct.is_multipart();
        let max = self.limits.max_body_bytes;
        // MTOM splitting and parsing megabytes is CPU work: off the async workers, so that
        // one large request cannot stall the connections that share them.
        let decoded = if body.len() <= INLINE_DECODE_BYTES {
            decode(&ct, body, max)
        } else {
            tokio::task::spawn_blocking(move || decode(&ct, body, max))
                .await
                .unwrap_or_else(|e| {
                    tracing::error!(error = %e, "request decoding task failed");
                    Err(Fault::receiver("The request could not be decoded"))
                })
        };
        let (soap_req, parts) = match decoded {
            Ok(v) => v,
            Err(f) => {
                self.done(endpoint.path, "-", None, &peer, "Fault", started);
                return fault_response(&f, None);
            }
        };
        let known = endpoint
            .actions
            .iter()
            .copied()
            .find(|a| *a == soap_req.action);
        let action = soap_req.action.clone();
        let message_id = soap_req.message_id.clone();
        // Who is calling is settled before anything of the request is processed.
        let result = match self.authorizer.authorize(&peer, endpoint, &soap_req).await {
            Err(refused) => Err(Refused(refused)),
            Ok(principal) => {
                let call = SoapCall {
                    request: soap_req,
                    parts,
                    principal: Arc::new(principal),
                };
                match known {
                    Some(_) => svc.call(call).await.map_err(Failed),
                    None => Err(Failed(Fault::action_not_supported(&action))),
                }
            }
        };
        let outcome = match &result {
            Ok(r) => r.outcome,
            Err(Refused(_)) => "Refused",
            Err(Failed(_)) => "Fault",
        };
        let result = result.map_err(|(Refused(f) | Failed(f))| f);
        // Metrics label unknown actions as one "other": clients cannot grow the label set.
        let label = known.unwrap_or(OTHER_ACTION);
        if known.is_none() {
            let shown: String = action.chars().take(200).collect();
            tracing::info!(endpoint = endpoint.path, action = %shown, "action not supported");
        }
        self.done(
            endpoint.path,
            label,
            message_id.as_deref(),
            &peer,
            outcome,
            started,
        );
        match result {
            Ok(reply) => reply_response(reply, message_id.as_deref(), mtom_in),
            Err(f) => fault_response(&f, message_id.as_deref()),
        }
    }

    /// The immediate answer to a caller over its limits: 503 with Retry-After, before its body
    /// is read (the connection closes, so the unread body goes with it).
    fn busy(&self, peer: &PeerIdentity, busy: Busy) -> Response<Chunks> {
        self.note_busy(peer, &busy);
        let f = Fault::receiver(format!("The node is busy: {busy}"));
        let mut r = closing(fault_with_status(&f, StatusCode::SERVICE_UNAVAILABLE));
        r.headers_mut().insert(
            hyper::header::RETRY_AFTER,
            hyper::header::HeaderValue::from_static("1"),
        );
        r
    }

    fn note_busy(&self, peer: &PeerIdentity, busy: &Busy) {
        let counter = match busy {
            Busy::InFlight(_) => &self.metrics.refused_in_flight,
            Busy::Rate(_) => &self.metrics.refused_rate,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(subject = %peer.subject, %busy, "request turned away");
    }

    /// The whole body within the size and time limits, or the SOAP fault that refuses it.
    async fn read_body(
        &self,
        req: Request<Incoming>,
    ) -> Result<(ContentType, bytes::Bytes), Response<Chunks>> {
        self.read_raw(req).await.map_err(|r| {
            let f = if r.status.is_server_error() {
                Fault::receiver(r.reason)
            } else {
                Fault::sender(r.reason)
            };
            fault_with_status(&f, r.status)
        })
    }

    /// The whole body within the size and time limits.
    async fn read_raw(
        &self,
        req: Request<Incoming>,
    ) -> Result<(ContentType, bytes::Bytes), BodyRefused> {
        let max = self.limits.max_body_bytes;
        let too_large = || {
            self.metrics
                .refused_oversize
                .fetch_add(1, Ordering::Relaxed);
            BodyRefused::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("The message is larger than the limit of {max} bytes"),
            )
        };
        let declared = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > max as u64) {
            return Err(too_large());
        }
        let ct = ContentType::parse(
            req.headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or(""),
        );
        let read = read_limited(req.into_body(), max, declared);
        match tokio::time::timeout(self.limits.body_timeout, read).await {
            Ok(Ok(b)) => Ok((ct, b)),
            Ok(Err(ReadBodyError::TooLarge(_))) => Err(too_large()),
            Ok(Err(e @ ReadBodyError::NoMemory(_))) => {
                tracing::error!(error = %e, "request body refused");
                Err(BodyRefused::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The node cannot take a message of this size now",
                ))
            }
            Ok(Err(e)) => Err(BodyRefused::new(
                StatusCode::BAD_REQUEST,
                format!("The request body could not be read: {e}"),
            )),
            Err(_) => Err(BodyRefused::new(
                StatusCode::REQUEST_TIMEOUT,
                "The request body did not arrive in time",
            )),
        }
    }

    /// A plain HTTPS call: body within limits, the caller's certificate checked, then the
    /// service. Refusals come back in the service's own error format.
    async fn rest_call(
        &self,
        peer: Arc<PeerIdentity>,
        svc: Arc<dyn RestService>,
        req: Request<Incoming>,
    ) -> Response<Chunks> {
        let started = Instant::now();
        let endpoint = svc.endpoint();
        let header = |n: hyper::header::HeaderName| {
            req.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let accept = header(hyper::header::ACCEPT);
        let content_type = header(CONTENT_TYPE);
        let method = req.method().clone();
        let path = req.uri().path()[endpoint.path.len()..]
            .trim_end_matches('/')
            .to_string();
        let query = req.uri().query().unwrap_or_default().to_string();
        let refused = |status: StatusCode, reason: &str| {
            let r = svc.refusal(status.as_u16(), reason, accept.as_deref());
            self.done(endpoint.path, r.action, None, &peer, "Refused", started);
            rest_response(r)
        };
        let body = match self.read_raw(req).await {
            Ok((_, b)) => b,
            Err(r) => return closing(refused(r.status, &r.reason)),
        };
        let principal = match self
            .authorizer
            .authorize_plain(&peer, endpoint, "fhir")
            .await
        {
            Ok(p) => p,
            Err(f) => return refused(StatusCode::FORBIDDEN, &f.reason),
        };
        let reply = svc
            .call(RestRequest {
                method,
                path,
                query,
                accept,
                content_type,
                body,
                principal: Arc::new(principal),
            })
            .await;
        self.done(
            endpoint.path,
            reply.action,
            None,
            &peer,
            reply.outcome,
            started,
        );
        rest_response(reply)
    }

    /// The transaction's log line and metrics.
    fn done(
        &self,
        endpoint: &'static str,
        action: &str,
        message_id: Option<&str>,
        peer: &PeerIdentity,
        outcome: &str,
        started: Instant,
    ) {
        tracing::info!(
            endpoint,
            action,
            message_id = message_id.unwrap_or("-"),
            peer_subject = %peer.subject,
            peer_issuer = %peer.issuer,
            peer_country = peer.country.as_deref().unwrap_or("-"),
            outcome,
            ms = started.elapsed().as_millis() as u64,
            "transaction"
        );
        let secs = started.elapsed().as_secs_f64();
        self.metrics.request(endpoint, action, outcome, secs);
        self.metrics
            .transaction(crate::metrics::recent::Transaction {
                at_ms: crate::metrics::unix_ms(),
                endpoint: endpoint.to_string(),
                action: action.to_string(),
                caller: peer
                    .common_name
                    .clone()
                    .unwrap_or_else(|| peer.subject.clone()),
                country: peer.country.clone(),
                outcome: outcome.to_string(),
                millis: (secs * 1000.0) as u64,
            });
    }
}

/// Why a body was not read, before any service saw it.
struct BodyRefused {
    status: StatusCode,
    reason: String,
}

impl BodyRefused {
    fn new(status: StatusCode, reason: impl Into<String>) -> BodyRefused {
        BodyRefused {
            status,
            reason: reason.into(),
        }
    }
}

fn rest_response(r: RestReply) -> Response<Chunks> {
    let mut resp = Response::new(Chunks::one(r.body));
    *resp.status_mut() =
        StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    if let Ok(v) = r.content_type.parse() {
        h.insert(CONTENT_TYPE, v);
    }
    for (name, value) in r.headers {
        if let Ok(v) = value.parse() {
            h.insert(name, v);
        }
    }
    resp
}

/// `?wsdl` or `?xsd=<name>`.
fn is_description(query: &str) -> bool {
    Described::from_query(query).is_some()
}

fn decode(
    ct: &ContentType,
    body: bytes::Bytes,
    max_bytes: usize,
) -> Result<(SoapRequest, HashMap<String, Part>), Fault> {
    let limits = crate::xml::Limits {
        max_bytes,
        ..Default::default()
    };
    let (root, parts, action) = match ct.media_type.as_str() {
        "multipart/related" => {
            let msg = mtom::decode(ct, body).map_err(|e| Fault::sender(format!("MTOM: {e}")))?;
            let inner = msg.root_content_type.as_deref().map(ContentType::parse);
            let action = ct.param("action").map(str::to_string).or_else(|| {
                inner
                    .as_ref()
                    .and_then(|i| i.param("action").map(str::to_string))
            });
            if ct
                .param("start-info")
                .is_some_and(|s| s.eq_ignore_ascii_case("text/xml"))
            {
                return Err(Fault::version_mismatch());
            }
            (msg.root, msg.parts, action)
        }
        "application/soap+xml" => (body, HashMap::new(), ct.param("action").map(str::to_string)),
        "text/xml" => return Err(Fault::version_mismatch()),
        other => {
            let mut f = Fault::sender(format!(
                "Content-Type '{other}' is not SOAP 1.2 (application/soap+xml) or MTOM (multipart/related)"
            ));
            f.http_status = 415;
            return Err(f);
        }
    };
    let req = soap::decode_request(&root, action.as_deref(), limits)?;
    Ok((req, parts))
}

fn reply_response(reply: SoapReply, relates_to: Option<&str>, mtom_in: bool) -> Response<Chunks> {
    let envelope = soap::encode_response(reply.action, relates_to, &reply.body);
    if reply.attachments.is_empty() && !mtom_in {
        let ct = format!(
            "application/soap+xml; charset=UTF-8; action=\"{}\"",
            reply.action
        );
        return plain(StatusCode::OK, &ct, envelope);
    }
    let (ct, chunks) = mtom::encode(reply.action, envelope, reply.attachments);
    let mut resp = Response::new(Chunks::many(chunks));
    if let Ok(v) = ct.parse() {
        resp.headers_mut().insert(CONTENT_TYPE, v);
    }
    resp
}

/// A fault with the HTTP status it carries.
fn fault_response(f: &Fault, relates_to: Option<&str>) -> Response<Chunks> {
    let status = StatusCode::from_u16(f.http_status).unwrap_or(StatusCode::BAD_REQUEST);
    fault_envelope(f, relates_to, status)
}

/// A fault answered before the envelope was read, with its own status.
fn fault_with_status(f: &Fault, status: StatusCode) -> Response<Chunks> {
    fault_envelope(f, None, status)
}

fn fault_envelope(f: &Fault, relates_to: Option<&str>, status: StatusCode) -> Response<Chunks> {
    plain(
        status,
        "application/soap+xml; charset=UTF-8; action=\"http://www.w3.org/2005/08/addressing/fault\"",
        f.to_envelope(relates_to),
    )
}

fn closing(mut r: Response<Chunks>) -> Response<Chunks> {
    r.headers_mut().insert(
        hyper::header::CONNECTION,
        hyper::header::HeaderValue::from_static("close"),
    );
    r
}

fn plain(status: StatusCode, ctype: &str, body: String) -> Response<Chunks> {
    let mut resp = Response::new(Chunks::one(body));
    *resp.status_mut() = status;
    if let Ok(v) = ctype.parse() {
        resp.headers_mut().insert(CONTENT_TYPE, v);
    }
    resp
}

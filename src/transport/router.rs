//! Routing by path, the HTTP side of SOAP (content types, size and time limits, MTOM),
//! and the per-transaction log line.

use super::body::{read_limited, Chunks, ReadBodyError};
use crate::config::Config;
use crate::metrics::Metrics;
use crate::registry::Registry;
use crate::repository::Repository;
use crate::soap::mtom::{self, ContentType, Part};
use crate::soap::{self, Fault, SoapRequest};
use crate::trust::PeerIdentity;
use bytes::Bytes;
use hyper::body::Incoming;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

/// Everything a request handler may need.
pub struct App {
    pub cfg: Arc<Config>,
    pub registry: Registry,
    pub repository: Repository,
    pub peers: Arc<crate::gateway::peers::Peers>,
    pub terminology: &'static crate::translate::Terminology,
    pub metrics: Arc<Metrics>,
}

/// The SOAP endpoints by path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Registry,
    Repository,
    Xca,
    /// ITI-18/43 from local consumers, answered by the peer communities.
    XcaInitiating,
    /// ITI-55 Cross Gateway Patient Discovery, responding.
    Xcpd,
    /// ITI-41 Document Recipient for eDispensations.
    Xdr,
    /// ITI-55 from local consumers, asked of the peer communities.
    XcpdInitiating,
}

impl Endpoint {
    pub fn from_path(path: &str) -> Option<Endpoint> {
        match path.trim_end_matches('/') {
            "/xds/registry" => Some(Endpoint::Registry),
            "/xds/repository" => Some(Endpoint::Repository),
            "/xca" => Some(Endpoint::Xca),
            "/xca/initiating" => Some(Endpoint::XcaInitiating),
            "/xcpd" => Some(Endpoint::Xcpd),
            "/xdr" => Some(Endpoint::Xdr),
            "/xcpd/initiating" => Some(Endpoint::XcpdInitiating),
            _ => None,
        }
    }

    pub fn path(self) -> &'static str {
        match self {
            Endpoint::Registry => "/xds/registry",
            Endpoint::Repository => "/xds/repository",
            Endpoint::Xca => "/xca",
            Endpoint::XcaInitiating => "/xca/initiating",
            Endpoint::Xcpd => "/xcpd",
            Endpoint::Xdr => "/xdr",
            Endpoint::XcpdInitiating => "/xcpd/initiating",
        }
    }

    fn wsdl(self) -> &'static str {
        match self {
            Endpoint::Registry => include_str!("../../wsdl/registry.wsdl"),
            Endpoint::Repository => include_str!("../../wsdl/repository.wsdl"),
            Endpoint::Xca => include_str!("../../wsdl/xca.wsdl"),
            Endpoint::XcaInitiating => include_str!("../../wsdl/xca-initiating.wsdl"),
            Endpoint::Xcpd => include_str!("../../wsdl/xcpd.wsdl"),
            Endpoint::Xdr => include_str!("../../wsdl/xdr.wsdl"),
            Endpoint::XcpdInitiating => include_str!("../../wsdl/xcpd-initiating.wsdl"),
        }
    }
}

/// A handler's answer: the body element, its action, and MTOM attachments if any.
pub struct SoapReply {
    pub action: String,
    pub body: String,
    pub attachments: Vec<(String, String, Bytes)>,
    /// Short outcome label for metrics and logs ("Success", "Failure", ...).
    pub outcome: &'static str,
}

/// The decoded request handed to handlers, with MTOM parts by Content-ID.
pub struct SoapCall {
    pub soap: SoapRequest,
    pub parts: HashMap<String, Part>,
    pub peer: Arc<PeerIdentity>,
}

pub async fn handle(
    app: Arc<App>,
    peer: Arc<PeerIdentity>,
    req: Request<Incoming>,
) -> Result<Response<Chunks>, Infallible> {
    let path = req.uri().path().to_string();
    let endpoint = Endpoint::from_path(&path);
    let resp = match (req.method(), endpoint) {
        (&Method::GET, Some(ep))
            if req
                .uri()
                .query()
                .is_some_and(|q| q.eq_ignore_ascii_case("wsdl")) =>
        {
            let base = app.cfg.public_url();
            plain(
                StatusCode::OK,
                "text/xml; charset=UTF-8",
                ep.wsdl().replace("{{BASE_URL}}", &base),
            )
        }
        (&Method::POST, Some(ep)) => soap_call(&app, peer, ep, req).await,
        (&Method::POST, None) => {
            let f = Fault::sender(format!("There is no SOAP endpoint at {path}"));
            fault_response(&f, None, StatusCode::NOT_FOUND)
        }
        (_, Some(_)) => plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            "use POST for SOAP, GET ?wsdl for the WSDL\n".into(),
        ),
        (_, None) => plain(StatusCode::NOT_FOUND, "text/plain", "not found\n".into()),
    };
    Ok(resp)
}

async fn soap_call(
    app: &App,
    peer: Arc<PeerIdentity>,
    ep: Endpoint,
    req: Request<Incoming>,
) -> Response<Chunks> {
    let started = Instant::now();
    let max = app.cfg.server.max_body_bytes;
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        app.metrics
            .refused_oversize
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let f = Fault::sender(format!(
            "The message is larger than the limit of {max} bytes"
        ));
        return closing(fault_response(&f, None, StatusCode::PAYLOAD_TOO_LARGE));
    }
    let ct = ContentType::parse(
        req.headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or(""),
    );
    let timeout = app.cfg.server.body_timeout;
    let body =
        match tokio::time::timeout(timeout, read_limited(req.into_body(), max, declared)).await {
            Ok(Ok(b)) => b,
            Ok(Err(ReadBodyError::TooLarge(_))) => {
                app.metrics
                    .refused_oversize
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let f = Fault::sender(format!(
                    "The message is larger than the limit of {max} bytes"
                ));
                return closing(fault_response(&f, None, StatusCode::PAYLOAD_TOO_LARGE));
            }
            Ok(Err(e @ ReadBodyError::NoMemory(_))) => {
                tracing::error!(error = %e, "request body refused");
                let f = Fault::receiver("The node cannot take a message of this size now");
                return closing(fault_response(&f, None, StatusCode::SERVICE_UNAVAILABLE));
            }
            Ok(Err(e)) => {
                let f = Fault::sender(format!("The request body could not be read: {e}"));
                return closing(fault_response(&f, None, StatusCode::BAD_REQUEST));
            }
            Err(_) => {
                let f = Fault::sender("The request body did not arrive in time");
                return closing(fault_response(&f, None, StatusCode::REQUEST_TIMEOUT));
            }
        };
    let mtom_in = ct.is_multipart();
    let decoded = decode(&ct, body, app);
    let (soap_req, parts) = match decoded {
        Ok(v) => v,
        Err(f) => {
            log_done(ep, "-", None, &peer, "Fault", started);
            app.metrics
                .request(ep.path(), "-", "Fault", started.elapsed().as_secs_f64());
            let status = StatusCode::from_u16(f.http_status).unwrap_or(StatusCode::BAD_REQUEST);
            return fault_response(&f, None, status);
        }
    };
    let action = soap_req.action.clone();
    let message_id = soap_req.message_id.clone();
    let incoming = SoapCall {
        soap: soap_req,
        parts,
        peer: peer.clone(),
    };
    let result = match ep {
        Endpoint::Registry => crate::registry::endpoint::handle(&app.registry, incoming).await,
        Endpoint::Xdr => {
            crate::gateway::xdr::handle(&app.repository, app.terminology, incoming).await
        }
        Endpoint::XcpdInitiating => {
            crate::gateway::xcpd_initiating::handle(
                &app.peers,
                &app.cfg.node.home_community_id,
                incoming,
            )
            .await
        }
        Endpoint::XcaInitiating => crate::gateway::initiating::handle(&app.peers, incoming).await,
        Endpoint::Xca => {
            let responder = crate::gateway::xca_responding::Responder {
                home: &app.cfg.node.home_community_id,
                registry: &app.registry,
                repository: &app.repository,
                ehdsi: &app.cfg.ehdsi,
                terminology: app.terminology,
            };
            responder.handle(incoming).await
        }
        Endpoint::Repository => {
            crate::repository::endpoint::handle(&app.repository, incoming).await
        }
        Endpoint::Xcpd => {
            crate::gateway::endpoint::handle(
                &app.registry,
                &app.cfg.node.home_community_id,
                incoming,
            )
            .await
        }
    };
    let outcome = match &result {
        Ok(r) => r.outcome,
        Err(_) => "Fault",
    };
    log_done(ep, &action, message_id.as_deref(), &peer, outcome, started);
    app.metrics
        .request(ep.path(), &action, outcome, started.elapsed().as_secs_f64());
    match result {
        Ok(reply) => reply_response(reply, message_id.as_deref(), mtom_in),
        Err(f) => {
            let status = StatusCode::from_u16(f.http_status).unwrap_or(StatusCode::BAD_REQUEST);
            fault_response(&f, message_id.as_deref(), status)
        }
    }
}

fn decode(
    ct: &ContentType,
    body: Bytes,
    app: &App,
) -> Result<(SoapRequest, HashMap<String, Part>), Fault> {
    let limits = crate::xml::Limits {
        max_bytes: app.cfg.server.max_body_bytes,
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

fn log_done(
    ep: Endpoint,
    action: &str,
    message_id: Option<&str>,
    peer: &PeerIdentity,
    outcome: &str,
    started: Instant,
) {
    tracing::info!(
        endpoint = ep.path(),
        action,
        message_id = message_id.unwrap_or("-"),
        peer_subject = %peer.subject,
        peer_issuer = %peer.issuer,
        peer_country = peer.country.as_deref().unwrap_or("-"),
        outcome,
        ms = started.elapsed().as_millis() as u64,
        "transaction"
    );
}

fn reply_response(reply: SoapReply, relates_to: Option<&str>, mtom_in: bool) -> Response<Chunks> {
    let envelope = soap::encode_response(&reply.action, relates_to, &reply.body);
    if reply.attachments.is_empty() && !mtom_in {
        let ct = format!(
            "application/soap+xml; charset=UTF-8; action=\"{}\"",
            reply.action
        );
        return plain(StatusCode::OK, &ct, envelope);
    }
    let (ct, chunks) = mtom::encode(&reply.action, envelope, reply.attachments);
    let mut resp = Response::new(Chunks::many(chunks));
    if let Ok(v) = ct.parse() {
        resp.headers_mut().insert(CONTENT_TYPE, v);
    }
    resp
}

pub fn fault_response(f: &Fault, relates_to: Option<&str>, status: StatusCode) -> Response<Chunks> {
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

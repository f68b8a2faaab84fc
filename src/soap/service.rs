//! The service boundary: what a SOAP service receives ([`SoapCall`]), what it answers
//! ([`SoapReply`]) and the trait it implements ([`SoapService`]). The router decodes envelopes and
//! MTOM and hands calls to the service registered for the path; a service never sees HTTP.

use super::envelope::SoapRequest;
use super::fault::Fault;
use super::mtom::{Attachment, Part};
use super::principal::Principal;
use crate::pki::PeerIdentity;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// A decoded request, with its MTOM parts by Content-ID and who is calling.
pub struct SoapCall {
    pub request: SoapRequest,
    pub parts: HashMap<String, Part>,
    pub principal: Arc<Principal>,
}

impl SoapCall {
    pub fn action(&self) -> &str {
        &self.request.action
    }

    pub fn body(&self) -> &crate::xml::Element {
        &self.request.body
    }
}

/// A service's answer: the body element, its action, MTOM attachments if any, and a short
/// outcome label for logs and metrics ("Success", "PartialSuccess", "Failure", "OK", ...).
#[derive(Debug)]
pub struct SoapReply {
    pub action: &'static str,
    pub body: String,
    pub attachments: Vec<Attachment>,
    pub outcome: &'static str,
}

impl SoapReply {
    pub fn new(action: &'static str, body: String, outcome: &'static str) -> SoapReply {
        SoapReply {
            action,
            body,
            attachments: Vec::new(),
            outcome,
        }
    }

    pub fn with_attachments(mut self, attachments: Vec<Attachment>) -> SoapReply {
        self.attachments = attachments;
        self
    }
}

pub type ServiceFuture<'a> = Pin<Box<dyn Future<Output = Result<SoapReply, Fault>> + Send + 'a>>;

/// Who may call an endpoint, for the trust layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// National callers only. `xds`: an XDS endpoint, where XUA is required when the node is
    /// configured so (`[xua] require_on_xds`).
    National { xds: bool },
    /// National callers, and foreign contact points with eHDSI assertions: an identity (HCP)
    /// assertion holding `permissions`, and a treatment relationship (TRC) assertion when `trc`.
    CrossBorder {
        trc: bool,
        permissions: &'static [&'static str],
    },
}

/// Where and what a service answers.
#[derive(Debug)]
pub struct Endpoint {
    /// The path it is served at, e.g. `/xds/registry`.
    pub path: &'static str,
    /// The WSDL answered at `path?wsdl`; `{{BASE_URL}}` stands for the node's public URL.
    pub wsdl: &'static str,
    /// The schemas the WSDL imports (and they each other), answered at `path?xsd=<name>`.
    pub schemas: &'static [super::wsdl::Schema],
    /// The request actions it answers. The router refuses others with
    /// `wsa:ActionNotSupported` and counts them under one "other" metrics label.
    pub actions: &'static [&'static str],
    pub access: Access,
}

/// A SOAP endpoint. `node.rs` builds each service with the state it needs and registers it
/// with the router; the router names none of them.
pub trait SoapService: Send + Sync {
    fn endpoint(&self) -> &'static Endpoint;
    /// Answers one call whose action is one of the endpoint's actions.
    fn call(&self, call: SoapCall) -> ServiceFuture<'_>;
}

pub type AuthFuture<'a> = Pin<Box<dyn Future<Output = Result<Principal, Fault>> + Send + 'a>>;

/// Decides, before any service runs, who is calling and whether they may call this endpoint:
/// the trust layer's policy. A refusal is a SOAP fault and the request goes no further.
pub trait Authorizer: Send + Sync {
    fn authorize<'a>(
        &'a self,
        peer: &'a PeerIdentity,
        endpoint: &'static Endpoint,
        request: &'a SoapRequest,
    ) -> AuthFuture<'a>;

    /// The same decision for a request without an envelope (the REST endpoints), where the
    /// client certificate is all there is; `action` names the transaction in the audit.
    fn authorize_plain<'a>(
        &'a self,
        peer: &'a PeerIdentity,
        endpoint: &'static Endpoint,
        action: &'a str,
    ) -> AuthFuture<'a>;
}

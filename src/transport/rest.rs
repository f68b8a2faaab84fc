//! The boundary for plain HTTPS services (FHIR): what such a service receives and answers. The
//! router reads the body within the SOAP listener's limits, asks the trust layer about the
//! caller's certificate, and hands the request over; the service never sees hyper.

use crate::soap::{Endpoint, Principal};
use bytes::Bytes;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// One request below a service's path prefix.
#[derive(Debug)]
pub struct RestRequest {
    pub method: http::Method,
    /// The path after the prefix, without a trailing slash: "" or "/DocumentReference/x".
    pub path: String,
    /// The raw query string, without '?'.
    pub query: String,
    pub accept: Option<String>,
    pub content_type: Option<String>,
    pub body: Bytes,
    pub principal: Arc<Principal>,
}

/// A service's answer, with a short label of the transaction for logs and metrics and an
/// outcome label ("OK", "Failure").
#[derive(Debug)]
pub struct RestReply {
    pub status: u16,
    pub content_type: String,
    pub body: Bytes,
    pub headers: Vec<(&'static str, String)>,
    pub action: &'static str,
    pub outcome: &'static str,
}

pub type RestFuture<'a> = Pin<Box<dyn Future<Output = RestReply> + Send + 'a>>;

/// A service answering every path below `endpoint().path`.
pub trait RestService: Send + Sync {
    fn endpoint(&self) -> &'static Endpoint;
    fn call(&self, req: RestRequest) -> RestFuture<'_>;
    /// The answer to a request that never reached the service (refused caller, body over the
    /// limit, ...), in the service's own error format.
    fn refusal(&self, status: u16, reason: &str, accept: Option<&str>) -> RestReply;
}

//! The seam between the runner and the wire. The runner builds SOAP bodies and HL7 messages;
//! an implementation of [`Transport`] (the SOAP 1.2 + MTOM + mTLS client, MLLP for the feed)
//! puts them on the wire. The runner never assumes which product answers.
//!
//! Synchronous on purpose: test steps run strictly one after another, and a sync trait is
//! object-safe. An async client implements it with `Handle::block_on` from a thread outside
//! the runtime (run the runner in `tokio::task::spawn_blocking`).

use std::fmt;

/// Which configured endpoint a request goes to; the site file maps each to a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// ITI-42, ITI-18, ITI-57, ITI-62.
    Registry,
    /// ITI-41, ITI-43, ITI-86.
    Repository,
    /// ITI-18/43 through an initiating gateway.
    InitiatingGateway,
    /// ITI-38/39 responding gateway.
    RespondingGateway,
    /// The FHIR base of an MHD Document Recipient/Responder (ITI-65, ITI-67, ITI-68).
    Fhir,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Endpoint::Registry => "registry",
            Endpoint::Repository => "repository",
            Endpoint::InitiatingGateway => "initiating gateway",
            Endpoint::RespondingGateway => "responding gateway",
            Endpoint::Fhir => "fhir",
        })
    }
}

/// One SOAP request. `body` is the single child of `soap:Body`, complete with its namespace
/// declarations. Documents (ITI-41) are inline base64 in `<xdsb:Document>`; a client that
/// sends MTOM moves them into parts itself (`use_mtom` says the toolkit would).
#[derive(Debug, Clone, PartialEq)]
pub struct SoapRequest {
    pub endpoint: Endpoint,
    /// Resolved from the site file.
    pub url: String,
    /// WS-Addressing Action.
    pub action: String,
    pub body: String,
    pub use_mtom: bool,
    /// A wsse:Security header (standalone XML) to put in the SOAP header: the XUA tests' SAML
    /// assertions.
    pub security: Option<String>,
}

/// A SOAP fault, as received.
#[derive(Debug, Clone, PartialEq)]
pub struct SoapFault {
    pub code: String,
    pub reason: String,
}

/// One SOAP response. `body` is the child of `soap:Body` with any `xop:Include` already
/// replaced by the base64 text of its part, so the runner sees one XML document.
#[derive(Debug, Clone, PartialEq)]
pub struct SoapResponse {
    /// WS-Addressing Action of the response, when present.
    pub action: Option<String>,
    pub body: String,
    pub fault: Option<SoapFault>,
}

impl SoapResponse {
    pub fn ok(action: &str, body: impl Into<String>) -> Self {
        SoapResponse {
            action: Some(action.to_string()),
            body: body.into(),
            fault: None,
        }
    }
    pub fn fault(code: &str, reason: &str) -> Self {
        SoapResponse {
            action: None,
            body: String::new(),
            fault: Some(SoapFault {
                code: code.to_string(),
                reason: reason.to_string(),
            }),
        }
    }
}

/// Anything below the message level: connection, TLS, HTTP status without a SOAP body.
#[derive(Debug, thiserror::Error)]
#[error("{endpoint}: {message}")]
pub struct TransportError {
    pub endpoint: String,
    pub message: String,
}

/// One plain HTTP request of the FHIR (MHD) steps.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    /// `GET` or `POST`.
    pub method: &'static str,
    pub url: String,
    pub accept: String,
    /// With a body only.
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// Any answer with a status line, 4xx and 5xx included: the step judges it.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpResponse {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

pub trait Transport {
    /// Send one SOAP request and wait for its response (a fault is a response, not an error).
    fn send(&self, request: &SoapRequest) -> Result<SoapResponse, TransportError>;

    /// Send one HL7 v2 message over MLLP to `host:port`; returns the ACK message text.
    fn patient_feed(&self, address: &str, message: &str) -> Result<String, TransportError>;

    /// One HTTP exchange (the FHIR steps). A default, so that SOAP-only transports need not
    /// know about it.
    fn http(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        Err(TransportError {
            endpoint: request.url.clone(),
            message: "this transport does not send plain HTTP (FHIR) requests".into(),
        })
    }
}

/// One MTOM attachment cut out of a request body.
#[derive(Debug, Clone, PartialEq)]
pub struct XopPart {
    /// Content-ID without angle brackets; the body refers to it as `cid:<content_id>`.
    pub content_id: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum XopError {
    #[error(transparent)]
    Xml(#[from] super::xml::XmlError),
    #[error("Document {0} is not base64: {1}")]
    Base64(String, String),
}

/// For a client that sends MTOM: replace the base64 text of every `xdsb:Document` in `body`
/// with `<xop:Include href="cid:..."/>` and return the decoded parts, in document order.
pub fn to_xop(body: &str) -> Result<(String, Vec<XopPart>), XopError> {
    use base64::Engine;
    const XOP: &str = "http://www.w3.org/2004/08/xop/include";
    let mut root = super::xml::parse(body)?;
    let mut parts = Vec::new();
    let mut failure = None;
    root.walk_mut(&mut |e| {
        if e.name != "Document" || e.ns.as_deref() != Some(ncpeh::ebxml::XDSB) {
            return;
        }
        let id = e.attr("id").unwrap_or_default().to_string();
        let text: String = e
            .deep_text()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        match base64::engine::general_purpose::STANDARD.decode(text.as_bytes()) {
            Ok(bytes) => {
                let cid = format!("doc{}@conformance.ncpeh", parts.len() + 1);
                let inc = super::xml::Element::new(Some("xop"), "Include", Some(XOP))
                    .with_attr("href", &format!("cid:{cid}"));
                e.children.clear();
                e.push(inc);
                parts.push(XopPart {
                    content_id: cid,
                    bytes,
                });
            }
            Err(err) => failure = Some(XopError::Base64(id, err.to_string())),
        }
    });
    if let Some(f) = failure {
        return Err(f);
    }
    super::xml::fix_namespaces(&mut root);
    Ok((root.to_xml(), parts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_xop_cuts_documents_into_parts() {
        let body = r#"<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb="urn:ihe:iti:xds-b:2007"><x/><xdsb:Document id="d1">aGVs
bG8=</xdsb:Document></xdsb:ProvideAndRegisterDocumentSetRequest>"#;
        let (xml, parts) = to_xop(body).unwrap();
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].bytes, b"hello");
        let back = crate::xml::parse(&xml).unwrap();
        let inc = back
            .child_local("Document")
            .unwrap()
            .child_local("Include")
            .unwrap();
        assert_eq!(
            inc.ns.as_deref(),
            Some("http://www.w3.org/2004/08/xop/include")
        );
        assert_eq!(inc.attr("href"), Some("cid:doc1@conformance.ncpeh"));
    }
}

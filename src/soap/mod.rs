//! SOAP 1.2 envelopes, WS-Addressing, faults and the MTOM/XOP codec. No XDS knowledge lives here.

pub mod envelope;
pub mod fault;
pub mod mtom;
pub mod principal;
pub mod service;
pub mod wsdl;
pub mod wss;

pub use envelope::{decode_request, encode_response, SoapRequest};
pub use fault::{Fault, FaultCode};
pub use mtom::Attachment;
pub use principal::{Caller, Principal, User};
pub use service::{
    Access, AuthFuture, Authorizer, Endpoint, ServiceFuture, SoapCall, SoapReply, SoapService,
};

pub const SOAP12: &str = "http://www.w3.org/2003/05/soap-envelope";
pub const SOAP11: &str = "http://schemas.xmlsoap.org/soap/envelope/";
pub const WSA: &str = "http://www.w3.org/2005/08/addressing";
pub const WSSE: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
pub const XOP: &str = "http://www.w3.org/2004/08/xop/include";

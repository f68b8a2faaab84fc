//! SAML 2.0 assertions on the wire (XUA, ITI-40): reading them into typed values, the XSPA and
//! eHDSI attribute names, building assertions to issue, and XML signatures over them (xmlsec).
//! Whether an assertion is to be trusted is decided in `trust`, not here.

pub mod assertion;
pub mod build;
pub mod dsig;
pub mod issue;
pub mod xspa;

pub use assertion::{Assertion, AttributeValue, SamlError};

pub const SAML2: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
pub const DS: &str = "http://www.w3.org/2000/09/xmldsig#";
pub const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
pub const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
pub const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
pub const CM_BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
pub const CM_SENDER_VOUCHES: &str = "urn:oasis:names:tc:SAML:2.0:cm:sender-vouches";

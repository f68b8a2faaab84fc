//! XML signatures over assertions with libxmlsec1 (the `xmlsec` crate). Its types are not Send,
//! so each call does all its work in one go; callers on the async runtime run it on a blocking
//! thread. The caller has already read the XML with the node's reader (which refuses DOCTYPEs),
//! and decides which certificate to trust; here only the cryptography is checked.

use super::{DS, SAML2};
use libxml::parser::Parser;
use libxml::tree::Document;
use libxml::xpath::Context;
use xmlsec::{XmlSecDocumentExt, XmlSecKey, XmlSecKeyFormat, XmlSecSignatureContext};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DsigError {
    #[error("the XML could not be read for signature processing")]
    Parse,
    #[error("assertion ID '{0}' is not an XML name")]
    BadId(String),
    #[error("assertion IDs are not unique: {0}")]
    DuplicateId(String),
    #[error("no ds:Signature inside the assertion with ID '{0}'")]
    NoSignature(String),
    #[error("the signing key or certificate cannot be used: {0}")]
    Key(String),
    #[error("the signature does not verify")]
    Invalid,
    #[error("signature processing failed: {0}")]
    Failed(String),
}

/// An XML NCName (what an ID attribute may hold); anything else is refused before it is used in
/// an XPath.
pub fn is_ncname(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

// libxmlsec1 prints every failed check to stderr by default. Refusals are reported by this
// module's errors and logged by the node, so its own printing is switched off once.
#[allow(unsafe_code)]
mod quiet {
    use std::os::raw::{c_char, c_int};

    type Callback = extern "C" fn(
        *const c_char,
        c_int,
        *const c_char,
        *const c_char,
        *const c_char,
        c_int,
        *const c_char,
    );

    extern "C" {
        fn xmlSecErrorsSetCallback(callback: Callback);
    }

    extern "C" fn ignore(
        _: *const c_char,
        _: c_int,
        _: *const c_char,
        _: *const c_char,
        _: *const c_char,
        _: c_int,
        _: *const c_char,
    ) {
    }

    pub fn once() {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            // Initialising the library first, so that its start-up does not put the default
            // callback back.
            drop(xmlsec::XmlSecSignatureContext::new());
            // SAFETY: sets a process-wide callback that touches none of its arguments.
            unsafe { xmlSecErrorsSetCallback(ignore) }
        });
    }
}

fn parse(xml: &str) -> Result<Document, DsigError> {
    quiet::once();
    Parser::default()
        .parse_string(xml)
        .map_err(|_| DsigError::Parse)
}

/// Registers the ID attributes of every assertion (refusing duplicates) and finds the
/// ds:Signature that is a direct child of the assertion with `id`.
fn signature_node(doc: &Document, id: &str) -> Result<libxml::tree::Node, DsigError> {
    if !is_ncname(id) {
        return Err(DsigError::BadId(id.to_string()));
    }
    let ns = [("saml2", SAML2), ("ds", DS)];
    doc.specify_idattr("//saml2:Assertion[@ID]", "ID", Some(&ns))
        .map_err(|e| DsigError::DuplicateId(e.to_string()))?;
    let ctx = Context::new(doc).map_err(|_| DsigError::Parse)?;
    for (p, u) in ns {
        ctx.register_namespace(p, u).map_err(|_| DsigError::Parse)?;
    }
    let found = ctx
        .evaluate(&format!("//saml2:Assertion[@ID='{id}']/ds:Signature"))
        .map_err(|_| DsigError::Parse)?
        .get_nodes_as_vec();
    match found.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(DsigError::NoSignature(id.to_string())),
    }
}

/// Verifies the enveloped signature of the assertion `id` in `xml` with the public key of
/// `signer_cert` (DER).
pub fn verify(xml: &str, id: &str, signer_cert: &[u8]) -> Result<(), DsigError> {
    verify_all(xml, &[(id, signer_cert)]).remove(0)
}

/// Verifies the signatures of several assertions of one document, reading it once: one result
/// per (assertion ID, signer certificate), in order.
pub fn verify_all(xml: &str, signed: &[(&str, &[u8])]) -> Vec<Result<(), DsigError>> {
    let doc = match parse(xml) {
        Ok(d) => d,
        Err(e) => return signed.iter().map(|_| Err(e.clone())).collect(),
    };
    signed
        .iter()
        .map(|(id, cert)| verify_in(&doc, id, cert))
        .collect()
}

fn verify_in(doc: &Document, id: &str, signer_cert: &[u8]) -> Result<(), DsigError> {
    let sig = signature_node(doc, id)?;
    let key = XmlSecKey::from_memory(signer_cert, XmlSecKeyFormat::CertDer, None)
        .map_err(|e| DsigError::Key(e.to_string()))?;
    let mut ctx = XmlSecSignatureContext::new();
    ctx.insert_key(key);
    match ctx.verify_node(&sig) {
        Ok(true) => Ok(()),
        Ok(false) => Err(DsigError::Invalid),
        Err(e) => Err(DsigError::Failed(e.to_string())),
    }
}

/// Fills the signature template of the assertion `id` in `xml` (see
/// [`super::build::write_assertion`]) with `key_pem`, and returns the signed assertion element.
pub fn sign(xml: &str, id: &str, key_pem: &[u8]) -> Result<String, DsigError> {
    let doc = parse(xml)?;
    let sig = signature_node(&doc, id)?;
    let key = XmlSecKey::from_memory(key_pem, XmlSecKeyFormat::Pem, None)
        .map_err(|e| DsigError::Key(e.to_string()))?;
    let mut ctx = XmlSecSignatureContext::new();
    ctx.insert_key(key);
    ctx.sign_node(&sig)
        .map_err(|e| DsigError::Failed(e.to_string()))?;
    let root = doc.get_root_element().ok_or(DsigError::Parse)?;
    Ok(doc.node_to_string(&root))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::saml::build::{write_assertion, AssertionSpec, ECDSA_SHA256};

    fn key_and_cert() -> (String, Vec<u8>) {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["issuer".into()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        (key.serialize_pem(), cert.der().to_vec())
    }

    #[test]
    fn signs_and_verifies_and_notices_tampering() {
        let (key, cert) = key_and_cert();
        let spec = AssertionSpec::new("C=NO", "dr", time::OffsetDateTime::now_utc(), 300);
        let id = spec.id.clone().unwrap();
        let xml = write_assertion(&spec, &cert, ECDSA_SHA256);
        let signed = sign(&xml, &id, key.as_bytes()).unwrap();
        verify(&signed, &id, &cert).unwrap();
        let tampered = signed.replace(">dr<", ">mallory<");
        assert_eq!(verify(&tampered, &id, &cert), Err(DsigError::Invalid));
        let (_, other) = key_and_cert();
        assert!(verify(&signed, &id, &other).is_err());
        assert!(matches!(
            verify(&signed, "x']|//*['", &cert),
            Err(DsigError::BadId(_))
        ));
        let twice = format!("<w>{signed}{signed}</w>");
        assert!(matches!(
            verify(&twice, &id, &cert),
            Err(DsigError::DuplicateId(_))
        ));
    }
}

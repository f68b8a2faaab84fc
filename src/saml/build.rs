//! Writing an assertion to issue: the node's outbound assertions, `ncpeh xua issue`, and the
//! conformance runner's XUA variants. Every part is explicit (raw strings), so that a tester
//! can also write the defective variants a service provider must refuse.

use super::{xspa, CM_SENDER_VOUCHES, DS, ENVELOPED, EXC_C14N, SAML2};
use crate::xml::{esc_attr, esc_text};
use base64::Engine;
use std::fmt::Write;

pub const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
pub const ECDSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256";
pub const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
pub const X509_SUBJECT: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName";
pub const UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";
pub const AC_PASSWORD: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport";

/// An assertion to write. `None` leaves an element or attribute out.
#[derive(Debug, Clone)]
pub struct AssertionSpec {
    pub id: Option<String>,
    pub version: Option<String>,
    pub issue_instant: Option<String>,
    pub issuer: Option<String>,
    pub issuer_format: Option<String>,
    pub subject: Option<String>,
    pub subject_format: Option<String>,
    /// The SubjectConfirmation Method; `Some(None)` writes one without a Method.
    pub confirmation: Option<Option<String>>,
    pub not_before: Option<String>,
    pub not_on_or_after: Option<String>,
    pub audiences: Vec<String>,
    /// AuthnInstant (None: no AuthnStatement) and one AuthnContext per class ref.
    pub authn_instant: Option<String>,
    pub authn_contexts: Vec<String>,
    pub attributes: Vec<(String, Vec<String>)>,
    pub advice_refs: Vec<String>,
    /// An AuthzDecisionStatement naming this resource (a BPPC consent document).
    pub authz_consent: Option<String>,
    /// Write a signature template (to be filled by [`super::dsig::sign`]).
    pub signed: bool,
}

impl AssertionSpec {
    /// A sender-vouches assertion valid from `now` for `valid_secs`, with a fresh ID.
    pub fn new(issuer: &str, subject: &str, now: time::OffsetDateTime, valid_secs: i64) -> Self {
        AssertionSpec {
            id: Some(format!("_{}", uuid::Uuid::new_v4())),
            version: Some("2.0".into()),
            issue_instant: Some(instant(now)),
            issuer: Some(issuer.to_string()),
            issuer_format: Some(X509_SUBJECT.into()),
            subject: Some(subject.to_string()),
            subject_format: Some(UNSPECIFIED.into()),
            confirmation: Some(Some(CM_SENDER_VOUCHES.into())),
            not_before: Some(instant(now)),
            not_on_or_after: Some(instant(now + time::Duration::seconds(valid_secs))),
            audiences: Vec::new(),
            authn_instant: Some(instant(now)),
            authn_contexts: vec![AC_PASSWORD.into()],
            attributes: Vec::new(),
            advice_refs: Vec::new(),
            authz_consent: None,
            signed: true,
        }
    }

    pub fn attribute(mut self, name: &str, values: &[&str]) -> Self {
        self.attributes.push((
            name.to_string(),
            values.iter().map(|v| v.to_string()).collect(),
        ));
        self
    }
}

/// `2026-12-01T10:00:00.000Z`
pub fn instant(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.format(&fmt).unwrap_or_default()
}

/// `<qname>value</qname>` for each value.
fn leaves(out: &mut String, qname: &str, values: &[String]) {
    for v in values {
        let _ = write!(out, "<{qname}>{}</{qname}>", esc_text(v));
    }
}

fn opt_attr(out: &mut String, name: &str, v: &Option<String>) {
    if let Some(v) = v {
        let _ = write!(out, " {name}=\"{}\"", esc_attr(v));
    }
}

/// The assertion as XML, with a signature template after the Issuer when `signed`
/// (`signer_cert` is the DER certificate written into its KeyInfo).
pub fn write_assertion(spec: &AssertionSpec, signer_cert: &[u8], method: &str) -> String {
    let mut out = format!(r#"<saml2:Assertion xmlns:saml2="{SAML2}""#);
    opt_attr(&mut out, "ID", &spec.id);
    opt_attr(&mut out, "IssueInstant", &spec.issue_instant);
    opt_attr(&mut out, "Version", &spec.version);
    out.push('>');
    if let Some(issuer) = &spec.issuer {
        out.push_str("<saml2:Issuer");
        opt_attr(&mut out, "Format", &spec.issuer_format);
        let _ = write!(out, ">{}</saml2:Issuer>", esc_text(issuer));
    }
    if spec.signed {
        write_signature_template(
            &mut out,
            spec.id.as_deref().unwrap_or_default(),
            signer_cert,
            method,
        );
    }
    write_subject(&mut out, spec);
    write_conditions(&mut out, spec);
    if !spec.advice_refs.is_empty() {
        out.push_str("<saml2:Advice>");
        leaves(&mut out, "saml2:AssertionIDRef", &spec.advice_refs);
        out.push_str("</saml2:Advice>");
    }
    if spec.authn_instant.is_some() || !spec.authn_contexts.is_empty() {
        out.push_str("<saml2:AuthnStatement");
        opt_attr(&mut out, "AuthnInstant", &spec.authn_instant);
        out.push('>');
        for c in &spec.authn_contexts {
            out.push_str("<saml2:AuthnContext>");
            leaves(
                &mut out,
                "saml2:AuthnContextClassRef",
                std::slice::from_ref(c),
            );
            out.push_str("</saml2:AuthnContext>");
        }
        out.push_str("</saml2:AuthnStatement>");
    }
    write_attributes(&mut out, spec);
    if let Some(doc) = &spec.authz_consent {
        // The consent document is the Resource. No Evidence: it may only name assertions
        // (AssertionIDRef is an NCName), and a schema-checking provider would refuse a URN there.
        let _ = write!(
            out,
            r#"<saml2:AuthzDecisionStatement Decision="Permit" Resource="{}"><saml2:Action Namespace="urn:oasis:names:tc:SAML:1.0:action:rwedc">Execute</saml2:Action></saml2:AuthzDecisionStatement>"#,
            esc_attr(doc)
        );
    }
    out.push_str("</saml2:Assertion>");
    out
}

fn write_signature_template(out: &mut String, id: &str, cert: &[u8], method: &str) {
    let b64 = base64::engine::general_purpose::STANDARD.encode(cert);
    let _ = write!(
        out,
        concat!(
            r#"<ds:Signature xmlns:ds="{ds}"><ds:SignedInfo>"#,
            r#"<ds:CanonicalizationMethod Algorithm="{c14n}"/><ds:SignatureMethod Algorithm="{method}"/>"#,
            r##"<ds:Reference URI="#{id}"><ds:Transforms><ds:Transform Algorithm="{env}"/>"##,
            r#"<ds:Transform Algorithm="{c14n}"/></ds:Transforms><ds:DigestMethod Algorithm="{sha}"/>"#,
            r#"<ds:DigestValue></ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue></ds:SignatureValue>"#,
            r#"<ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>"#
        ),
        ds = DS,
        c14n = EXC_C14N,
        method = esc_attr(method),
        id = esc_attr(id),
        env = ENVELOPED,
        sha = SHA256,
        cert = b64
    );
}

fn write_subject(out: &mut String, spec: &AssertionSpec) {
    if spec.subject.is_none() && spec.confirmation.is_none() {
        return;
    }
    out.push_str("<saml2:Subject>");
    if let Some(s) = &spec.subject {
        out.push_str("<saml2:NameID");
        opt_attr(out, "Format", &spec.subject_format);
        let _ = write!(out, ">{}</saml2:NameID>", esc_text(s));
    }
    if let Some(method) = &spec.confirmation {
        out.push_str("<saml2:SubjectConfirmation");
        opt_attr(out, "Method", method);
        out.push_str("/>");
    }
    out.push_str("</saml2:Subject>");
}

fn write_conditions(out: &mut String, spec: &AssertionSpec) {
    out.push_str("<saml2:Conditions");
    opt_attr(out, "NotBefore", &spec.not_before);
    opt_attr(out, "NotOnOrAfter", &spec.not_on_or_after);
    out.push('>');
    if !spec.audiences.is_empty() {
        out.push_str("<saml2:AudienceRestriction>");
        leaves(out, "saml2:Audience", &spec.audiences);
        out.push_str("</saml2:AudienceRestriction>");
    }
    out.push_str("</saml2:Conditions>");
}

fn write_attributes(out: &mut String, spec: &AssertionSpec) {
    if spec.attributes.is_empty() {
        return;
    }
    out.push_str("<saml2:AttributeStatement>");
    for (name, values) in &spec.attributes {
        let _ = write!(
            out,
            r#"<saml2:Attribute Name="{}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri">"#,
            esc_attr(name)
        );
        leaves(out, "saml2:AttributeValue", values);
        out.push_str("</saml2:Attribute>");
    }
    out.push_str("</saml2:AttributeStatement>");
}

/// The attributes of an eHDSI HCP identity assertion.
pub fn hcp_attributes(
    spec: AssertionSpec,
    subject: &str,
    role: &str,
    organization: &str,
    organization_id: &str,
    purpose: &str,
    permissions: &[&str],
) -> AssertionSpec {
    spec.attribute(xspa::SUBJECT_ID, &[subject])
        .attribute(xspa::ROLE, &[role])
        .attribute(xspa::ORGANIZATION, &[organization])
        .attribute(xspa::ORGANIZATION_ID, &[organization_id])
        .attribute(xspa::FACILITY_TYPE, &["Hospital"])
        .attribute(xspa::PURPOSE_OF_USE, &[purpose])
        .attribute(xspa::PERMISSION, permissions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_consent_decision_names_its_document_as_the_resource_only() {
        let mut spec = AssertionSpec::new("CN=issuer", "dr", time::OffsetDateTime::UNIX_EPOCH, 60);
        spec.signed = false;
        spec.authz_consent = Some("urn:oid:1.2.3.4".into());
        let xml = write_assertion(&spec, &[], RSA_SHA256);
        let root = crate::xml::parse(xml.as_bytes(), Default::default()).unwrap();
        let st = root.child(SAML2, "AuthzDecisionStatement").unwrap();
        assert_eq!(st.attr("Resource"), Some("urn:oid:1.2.3.4"));
        assert_eq!(st.attr("Decision"), Some("Permit"));
        assert!(st.child(SAML2, "Action").is_some());
        assert!(st.child(SAML2, "Evidence").is_none(), "{xml}");
    }
}

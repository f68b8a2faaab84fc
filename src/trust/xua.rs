//! Verifying the SAML assertions of a wsse:Security header (XUA, ITI-40). Every check is named
//! and reports why it failed, so that the same code answers a request and tells an operator
//! (`ncpeh xua verify`) line by line what is wrong with an assertion.

use super::anchors::{unix_time, Anchors};
use crate::pki::PeerIdentity;
use crate::saml::assertion::{ids_in, SignatureInfo};
use crate::saml::build::SHA256;
use crate::saml::{
    dsig, xspa, Assertion, CM_BEARER, CM_SENDER_VOUCHES, ENVELOPED, EXC_C14N, SAML2,
};
use crate::soap::{SOAP12, WSSE};
use crate::xml::{parse, Element, Limits};
use rustls_pki_types::CertificateDer;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

const EXC_C14N_COMMENTS: &str = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments";
const SIGNATURE_METHODS: &[&str] = &[
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512",
];
const DIGEST_METHODS: &[&str] = &[
    SHA256,
    "http://www.w3.org/2001/04/xmldsig-more#sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512",
];
/// Attributes that must not have more than one value: a second role or purpose would leave it
/// open which one the access decision was made for.
const SINGLE_VALUED: &[&str] = &[xspa::SUBJECT_ID, xspa::ROLE, xspa::PURPOSE_OF_USE];

/// What kind of failure a check reports, which decides the WS-Security fault code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The header or an assertion is malformed or incomplete: `wsse:InvalidSecurity`.
    Invalid,
    /// The assertion is well-formed but not acceptable (form of token): `wsse:InvalidSecurityToken`.
    Token,
    /// Signature, signer or validity time: `wsse:FailedAuthentication`.
    Authentication,
}

impl Failure {
    pub fn subcode(self) -> &'static str {
        match self {
            Failure::Invalid => "wsse:InvalidSecurity",
            Failure::Token => "wsse:InvalidSecurityToken",
            Failure::Authentication => "wsse:FailedAuthentication",
        }
    }
}

/// One named check and its outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub name: &'static str,
    pub result: Result<(), (Failure, String)>,
}

/// What the checks need besides the assertion.
#[derive(Debug, Clone)]
pub struct Settings {
    pub clock_skew: time::Duration,
    /// Accepted audiences; an AudienceRestriction must name one of them.
    pub audiences: Vec<String>,
}

/// An assertion with its checks; `signer` is set when its signature verified against a
/// trusted certificate.
#[derive(Debug, Clone)]
pub struct Checked {
    pub assertion: Assertion,
    pub checks: Vec<Check>,
    pub signer: Option<PeerIdentity>,
    /// The signer chains to the anchors (the signature is then checked).
    signer_trusted: bool,
}

impl Checked {
    /// The first failed check.
    pub fn failure(&self) -> Option<(&'static str, Failure, &str)> {
        self.checks.iter().find_map(|c| match &c.result {
            Err((f, why)) => Some((c.name, *f, why.as_str())),
            Ok(()) => None,
        })
    }
}

/// Every check of a header: its own, then each assertion's.
#[derive(Debug, Clone, Default)]
pub struct HeaderReport {
    pub checks: Vec<Check>,
    pub assertions: Vec<Checked>,
    /// The header is marked mustUnderstand and holds tokens other than SAML assertions (and a
    /// Timestamp), which the node does not process.
    pub not_understood: bool,
}

impl HeaderReport {
    /// The first failure anywhere: (check, kind, reason).
    pub fn failure(&self) -> Option<(&'static str, Failure, String)> {
        let own = self.checks.iter().find_map(|c| match &c.result {
            Err((f, why)) => Some((c.name, *f, why.clone())),
            Ok(()) => None,
        });
        own.or_else(|| {
            self.assertions.iter().find_map(|a| {
                let (name, f, why) = a.failure()?;
                let id = a.assertion.id.as_deref().unwrap_or("(no ID)");
                Some((name, f, format!("assertion {id}: {why}")))
            })
        })
    }
}

type Outcome = Result<(), (Failure, String)>;

/// A signer's certificate chain (DER) and whether it leads to the anchors.
type CheckedChain = (Vec<Vec<u8>>, Outcome);

fn check(name: &'static str, result: Result<(), (Failure, String)>) -> Check {
    Check { name, result }
}

fn fail<T>(f: Failure, why: impl Into<String>) -> Result<T, (Failure, String)> {
    Err((f, why.into()))
}

fn show(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// Parses an xs:dateTime (with its time zone, as SAML requires).
pub fn instant(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s.trim(), &Rfc3339).ok()
}

/// The SAML assertions of a wsse:Security header (or any element holding them), checked.
/// `anchors` decide which signers are trusted.
pub fn verify_header(
    xml: &str,
    anchors: &Anchors,
    s: &Settings,
    now: OffsetDateTime,
) -> HeaderReport {
    let mut report = HeaderReport::default();
    let root = match parse(xml.as_bytes(), Limits::default()) {
        Ok(r) => r,
        Err(e) => {
            report
                .checks
                .push(check("readable", fail(Failure::Invalid, e.to_string())));
            return report;
        }
    };
    let mut ids = Vec::new();
    ids_in(&root, &mut ids);
    ids.sort();
    let dup = ids.windows(2).find(|w| w[0] == w[1]).map(|w| w[0].clone());
    report.checks.push(check(
        "unique IDs",
        match dup {
            // Two elements with one ID is how signature wrapping hides a forged assertion.
            Some(id) => fail(
                Failure::Invalid,
                format!("ID '{id}' appears more than once"),
            ),
            None => Ok(()),
        },
    ));
    let assertions = assertions_in(&root);
    if root.is(WSSE, "Security") {
        let must = matches!(
            root.attr_ns(SOAP12, "mustUnderstand"),
            Some("true") | Some("1")
        );
        let others = root
            .elements()
            .any(|e| !(e.is(SAML2, "Assertion") || e.name == "Timestamp"));
        report.not_understood = must && others;
        let encrypted = root.elements().any(|e| e.is(SAML2, "EncryptedAssertion"));
        report.checks.push(check(
            "no encrypted assertions",
            if encrypted {
                fail(Failure::Token, "encrypted assertions are not supported")
            } else {
                Ok(())
            },
        ));
    }
    // Assertions of one header usually share their signer: its chain is checked once.
    let mut chains: Vec<CheckedChain> = Vec::new();
    for e in assertions {
        report
            .assertions
            .push(check_assertion(e, anchors, s, now, &mut chains));
    }
    // The signatures of every assertion whose signer is trusted, with one read of the XML.
    let pending: Vec<(usize, String, Vec<u8>)> = report
        .assertions
        .iter()
        .enumerate()
        .filter(|(_, c)| c.signer_trusted)
        .map(|(i, c)| {
            let id = c.assertion.id.clone().unwrap_or_default();
            (i, id, c.assertion.signatures[0].certificates[0].clone())
        })
        .collect();
    let signed: Vec<(&str, &[u8])> = pending
        .iter()
        .map(|(_, id, cert)| (id.as_str(), cert.as_slice()))
        .collect();
    let results = dsig::verify_all(xml, &signed);
    for ((i, _, cert), result) in pending.iter().zip(results) {
        let c = &mut report.assertions[*i];
        if result.is_ok() {
            c.signer = PeerIdentity::from_der(cert).ok();
        }
        let valid = result.or_else(|e| fail(Failure::Authentication, e.to_string()));
        c.checks.push(check("signature", valid));
    }
    report
}

/// The assertions of a Security header, or the element itself when it is an assertion, or
/// those found anywhere below it (a SOAP Header or whole envelope, for `xua verify`).
fn assertions_in(root: &Element) -> Vec<&Element> {
    if root.is(SAML2, "Assertion") {
        return vec![root];
    }
    if root.is(WSSE, "Security") {
        return root.children_named(SAML2, "Assertion").collect();
    }
    root.descendants_named(SAML2, "Assertion")
}

/// Every check of one assertion but the signature itself (made for all at once).
fn check_assertion(
    e: &Element,
    anchors: &Anchors,
    s: &Settings,
    now: OffsetDateTime,
    chains: &mut Vec<CheckedChain>,
) -> Checked {
    let assertion = match Assertion::read(e) {
        Ok(a) => a,
        Err(err) => {
            return Checked {
                assertion: Assertion::default(),
                checks: vec![check("readable", fail(Failure::Invalid, err.to_string()))],
                signer: None,
                signer_trusted: false,
            }
        }
    };
    let mut checks = vec![
        check("structure", structure(&assertion)),
        check("subject confirmation", confirmation(&assertion)),
        check("authentication statement", authn(&assertion)),
        check("single-valued attributes", single_valued(&assertion)),
        check("validity period", validity(&assertion, s, now)),
        check("audience", audience(&assertion, s)),
    ];
    let form = signature_form(&assertion);
    let signed = form.is_ok();
    checks.push(check("signature form", form));
    let mut signer_trusted = false;
    if signed {
        let certs = &assertion.signatures[0].certificates;
        let trusted = match chains.iter().find(|(c, _)| c == certs) {
            Some((_, r)) => r.clone(),
            None => {
                let chain: Vec<CertificateDer<'_>> = certs
                    .iter()
                    .map(|c| CertificateDer::from(c.as_slice()))
                    .collect();
                let r = anchors
                    .verify(&chain, unix_time(now))
                    .or_else(|why| fail(Failure::Authentication, why));
                chains.push((certs.clone(), r.clone()));
                r
            }
        };
        signer_trusted = trusted.is_ok();
        checks.push(check("signer trusted", trusted));
    }
    Checked {
        assertion,
        checks,
        signer: None,
        signer_trusted,
    }
}

fn structure(a: &Assertion) -> Result<(), (Failure, String)> {
    if a.version.as_deref() != Some("2.0") {
        return fail(Failure::Invalid, "Version must be 2.0");
    }
    match a.id.as_deref() {
        Some(id) if dsig::is_ncname(id) => {}
        Some(id) => return fail(Failure::Invalid, format!("ID '{id}' is not an XML name")),
        None => return fail(Failure::Invalid, "the assertion has no ID"),
    }
    match a.issue_instant.as_deref() {
        None => return fail(Failure::Invalid, "the assertion has no IssueInstant"),
        Some(t) if instant(t).is_none() => {
            return fail(
                Failure::Invalid,
                format!("IssueInstant '{t}' is not a dateTime with a time zone"),
            )
        }
        Some(_) => {}
    }
    match &a.issuer {
        // The Format says how to read the issuer's name (an X.509 subject, an entity id).
        Some(i) if !i.value.is_empty() && i.format.as_deref().is_some_and(|f| !f.is_empty()) => {}
        Some(i) if !i.value.is_empty() => {
            return fail(Failure::Invalid, "the Issuer has no Format")
        }
        _ => return fail(Failure::Invalid, "the assertion has no Issuer"),
    }
    match &a.subject {
        Some(sub) if sub.name_id.as_deref().is_some_and(|n| !n.is_empty()) => Ok(()),
        Some(_) => fail(Failure::Invalid, "the Subject has no NameID"),
        None => fail(Failure::Invalid, "the assertion has no Subject"),
    }
}

fn confirmation(a: &Assertion) -> Result<(), (Failure, String)> {
    let methods = a
        .subject
        .as_ref()
        .map(|s| s.confirmations.as_slice())
        .unwrap_or(&[]);
    if methods.is_empty() {
        return fail(Failure::Invalid, "the Subject has no SubjectConfirmation");
    }
    for m in methods {
        match m.as_deref() {
            Some(CM_BEARER) | Some(CM_SENDER_VOUCHES) => {}
            Some(other) => {
                return fail(
                    Failure::Token,
                    format!(
                    "SubjectConfirmation method {other} is not accepted (bearer or sender-vouches)"
                ),
                )
            }
            None => return fail(Failure::Invalid, "a SubjectConfirmation has no Method"),
        }
    }
    Ok(())
}

fn authn(a: &Assertion) -> Result<(), (Failure, String)> {
    for st in &a.authn_statements {
        match st.instant.as_deref() {
            Some(t) if instant(t).is_some() => {}
            Some(t) => {
                return fail(
                    Failure::Invalid,
                    format!("AuthnInstant '{t}' is not a dateTime with a time zone"),
                )
            }
            None => return fail(Failure::Invalid, "an AuthnStatement has no AuthnInstant"),
        }
        if st.contexts != 1 {
            return fail(
                Failure::Invalid,
                format!(
                    "an AuthnStatement has {} AuthnContexts; it must have one",
                    st.contexts
                ),
            );
        }
        if st.class_refs.len() != 1 || st.class_refs[0].is_empty() {
            return fail(
                Failure::Invalid,
                "the AuthnContext must name one AuthnContextClassRef",
            );
        }
    }
    Ok(())
}

fn single_valued(a: &Assertion) -> Result<(), (Failure, String)> {
    for name in SINGLE_VALUED {
        let n = a.attribute(name).len();
        if n > 1 {
            return fail(
                Failure::Token,
                format!("{name} has {n} values; it may have one"),
            );
        }
    }
    Ok(())
}

fn validity(a: &Assertion, s: &Settings, now: OffsetDateTime) -> Result<(), (Failure, String)> {
    let skew = s.clock_skew;
    if let Some(issued) = a.issue_instant.as_deref().and_then(instant) {
        if issued > now + skew {
            return fail(
                Failure::Authentication,
                format!("IssueInstant {} is in the future", show(issued)),
            );
        }
    }
    let Some(c) = &a.conditions else {
        return fail(
            Failure::Invalid,
            "the assertion has no Conditions (NotBefore, NotOnOrAfter)",
        );
    };
    let bound = |v: &Option<String>, which: &str| -> Result<OffsetDateTime, (Failure, String)> {
        match v.as_deref() {
            None => fail(Failure::Invalid, format!("Conditions have no {which}")),
            Some(t) => instant(t).ok_or((
                Failure::Invalid,
                format!("{which} '{t}' is not a dateTime with a time zone"),
            )),
        }
    };
    let not_before = bound(&c.not_before, "NotBefore")?;
    let not_after = bound(&c.not_on_or_after, "NotOnOrAfter")?;
    if now + skew < not_before {
        return fail(
            Failure::Authentication,
            format!("not valid before {}", show(not_before)),
        );
    }
    if now - skew >= not_after {
        return fail(
            Failure::Authentication,
            format!("expired at {}", show(not_after)),
        );
    }
    Ok(())
}

fn audience(a: &Assertion, s: &Settings) -> Result<(), (Failure, String)> {
    let Some(c) = &a.conditions else {
        return Ok(());
    };
    for restriction in &c.audience_restrictions {
        let ours = restriction.iter().any(|aud| {
            s.audiences
                .iter()
                .any(|mine| aud == mine || aud.starts_with(&format!("{mine}/")))
        });
        if !ours {
            return fail(
                Failure::Token,
                format!(
                    "the assertion is for {}, not for this node",
                    restriction.join(", ")
                ),
            );
        }
    }
    Ok(())
}

/// The signature must be the enveloped signature of this very assertion, in a form without
/// room for surprises: one reference, to this assertion's ID, with only the enveloped and
/// exclusive canonicalisation transforms, and a modern algorithm.
fn signature_form(a: &Assertion) -> Result<(), (Failure, String)> {
    let sig: &SignatureInfo = match a.signatures.as_slice() {
        [] => return fail(Failure::Authentication, "the assertion is not signed"),
        [one] => one,
        _ => {
            return fail(
                Failure::Invalid,
                "the assertion has more than one ds:Signature",
            )
        }
    };
    let id = a.id.as_deref().unwrap_or_default();
    match sig.references.as_slice() {
        [r] if r.uri.as_deref() == Some(&format!("#{id}")) => {
            if let Some(t) = r
                .transforms
                .iter()
                .find(|t| ![ENVELOPED, EXC_C14N].contains(&t.as_str()))
            {
                return fail(Failure::Token, format!("transform {t} is not accepted"));
            }
            if !r
                .digest_method
                .as_deref()
                .is_some_and(|d| DIGEST_METHODS.contains(&d))
            {
                return fail(
                    Failure::Token,
                    format!(
                        "digest method {} is not accepted",
                        r.digest_method.as_deref().unwrap_or("(none)")
                    ),
                );
            }
        }
        [r] => {
            return fail(
                Failure::Invalid,
                format!(
                    "the signature covers {}, not this assertion (#{id})",
                    r.uri.as_deref().unwrap_or("(no URI)")
                ),
            )
        }
        _ => {
            return fail(
                Failure::Invalid,
                "the signature must have exactly one Reference",
            )
        }
    }
    if !matches!(
        sig.c14n_method.as_deref(),
        Some(EXC_C14N) | Some(EXC_C14N_COMMENTS)
    ) {
        return fail(
            Failure::Token,
            "the canonicalization method must be exclusive C14N",
        );
    }
    if !sig
        .signature_method
        .as_deref()
        .is_some_and(|m| SIGNATURE_METHODS.contains(&m))
    {
        return fail(
            Failure::Token,
            format!(
                "signature method {} is not accepted (RSA or ECDSA with SHA-2)",
                sig.signature_method.as_deref().unwrap_or("(none)")
            ),
        );
    }
    if !sig.has_key_info || sig.certificates.is_empty() {
        return fail(
            Failure::Invalid,
            "the signature has no KeyInfo with an X509Certificate",
        );
    }
    Ok(())
}

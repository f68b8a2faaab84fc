//! Issuing eHDSI assertions: an HCP identity assertion and, for a patient, a TRC assertion that
//! refers to it, signed and wrapped in a wsse:Security header. Used by `ncpeh xua issue`, the
//! initiating gateways when they issue for national consumers, the tests and the NIST runner.
//! A [`Defect`] makes one of the variants a service provider must refuse (XUA-VARIANTS.txt).

use super::build::{write_assertion, AssertionSpec, ECDSA_SHA256, RSA_SHA256};
use super::{dsig, xspa};
use crate::soap::WSSE;
use base64::Engine;
use std::path::Path;
use time::OffsetDateTime;

#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error(transparent)]
    Pki(#[from] crate::pki::PkiError),
    #[error("{0}: {1}")]
    Read(String, std::io::Error),
    #[error(transparent)]
    Sign(#[from] dsig::DsigError),
    #[error("unknown defect '{0}'")]
    UnknownDefect(String),
}

/// A signing key with its certificate.
#[derive(Debug, Clone)]
pub struct Signer {
    pub cert_der: Vec<u8>,
    pub key_pem: String,
    /// The certificate's subject, written as the assertion's Issuer.
    pub subject: String,
    /// The XML signature method for the key's type.
    pub method: &'static str,
}

impl Signer {
    pub fn from_files(cert: &Path, key: &Path) -> Result<Signer, IssueError> {
        let der = crate::pki::load_certs(cert)?.remove(0).to_vec();
        let key_pem = std::fs::read_to_string(key)
            .map_err(|e| IssueError::Read(key.display().to_string(), e))?;
        Signer::new(der, key_pem)
    }

    pub fn new(cert_der: Vec<u8>, key_pem: String) -> Result<Signer, IssueError> {
        let id = crate::pki::PeerIdentity::from_der(&cert_der)?;
        let method = if crate::pki::is_ec_key(&cert_der) {
            ECDSA_SHA256
        } else {
            RSA_SHA256
        };
        Ok(Signer {
            cert_der,
            key_pem,
            subject: id.subject,
            method,
        })
    }

    /// The assertion written and signed (or only written, when `spec.signed` is false).
    pub fn sign(&self, spec: &AssertionSpec) -> Result<String, IssueError> {
        let xml = write_assertion(spec, &self.cert_der, self.method);
        if !spec.signed {
            return Ok(xml);
        }
        let id = spec.id.clone().unwrap_or_default();
        Ok(dsig::sign(&xml, &id, self.key_pem.as_bytes())?)
    }
}

/// Who the HCP assertion says the health professional is.
#[derive(Debug, Clone)]
pub struct Professional {
    pub subject: String,
    /// ISCO-08 code (221: medical doctor; 2262: pharmacist).
    pub role: String,
    pub organization: String,
    pub organization_id: String,
    pub purpose: String,
    pub permissions: Vec<String>,
    pub audiences: Vec<String>,
    pub valid_secs: i64,
    /// Where the professional works (XSPA locality), e.g. a country code.
    pub locality: Option<String>,
}

impl Default for Professional {
    /// A doctor with every eHDSI permission, for treatment, valid for five minutes.
    fn default() -> Self {
        Professional {
            subject: "Dr. Test Testesen".into(),
            role: "221".into(),
            organization: "Test Hospital".into(),
            organization_id: "urn:oid:1.2.3.4.5".into(),
            purpose: xspa::TREATMENT.into(),
            permissions: xspa::permissions::ALL
                .iter()
                .map(|p| p.to_string())
                .collect(),
            audiences: Vec::new(),
            valid_secs: 300,
            locality: None,
        }
    }
}

/// The variants of XUA-VARIANTS.txt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Defect {
    Expired,
    NotYetValid,
    Unsigned,
    UnknownAudience,
    InvalidAuthnStatement,
    SecondAuthnContext,
    SecondRole,
    SecondPurposeOfUse,
    WithAuthzConsent,
    InvalidSignature,
    MissingKeyInfo,
    MissingKeyValue,
    MissingRsaKeyValue,
    InvalidX509Certificate,
    InvalidAuthnContext,
    MissingIssuerFormat,
    InvalidVersion,
    MissingVersion,
    InvalidId,
    MissingId,
    MissingSubject,
    MissingSubjectNameId,
    MissingSubjectConfirmation,
    MissingSubjectConfirmationMethod,
    MissingIssuer,
    MissingIssueInstant,
    InvalidIssueInstant,
    LateIssueInstant,
}

impl Defect {
    pub const ALL: &'static [(&'static str, Defect)] = &[
        ("expired", Defect::Expired),
        ("notyetvalid", Defect::NotYetValid),
        ("unsigned", Defect::Unsigned),
        ("unknownaudience", Defect::UnknownAudience),
        ("invalidauthnstatement", Defect::InvalidAuthnStatement),
        ("secondauthncontext", Defect::SecondAuthnContext),
        ("secondrole", Defect::SecondRole),
        ("secondpurposeofuse", Defect::SecondPurposeOfUse),
        ("withauthzconsent", Defect::WithAuthzConsent),
        ("invalidsignature", Defect::InvalidSignature),
        ("missingkeyinfo", Defect::MissingKeyInfo),
        ("missingkeyvalue", Defect::MissingKeyValue),
        ("missingrsakeyvalue", Defect::MissingRsaKeyValue),
        ("invalidx509certificate", Defect::InvalidX509Certificate),
        ("invalidauthncontext", Defect::InvalidAuthnContext),
        ("missingissuerformat", Defect::MissingIssuerFormat),
        ("invalidversion", Defect::InvalidVersion),
        ("missingversion", Defect::MissingVersion),
        ("invalidid", Defect::InvalidId),
        ("missingid", Defect::MissingId),
        ("missingsubject", Defect::MissingSubject),
        ("missingsubjectnameid", Defect::MissingSubjectNameId),
        (
            "missingsubjectconfirmation",
            Defect::MissingSubjectConfirmation,
        ),
        (
            "missingsubjectconfirmationmethod",
            Defect::MissingSubjectConfirmationMethod,
        ),
        ("missingissuer", Defect::MissingIssuer),
        ("missingissueinstant", Defect::MissingIssueInstant),
        ("invalidissueinstant", Defect::InvalidIssueInstant),
        ("lateissueinstant", Defect::LateIssueInstant),
    ];

    pub fn parse(name: &str) -> Result<Defect, IssueError> {
        Defect::ALL
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, d)| *d)
            .ok_or_else(|| IssueError::UnknownDefect(name.to_string()))
    }

    /// Whether a service provider must still accept the assertion.
    pub fn acceptable(self) -> bool {
        self == Defect::WithAuthzConsent
    }

    fn apply(self, spec: &mut AssertionSpec, now: OffsetDateTime) {
        use super::build::instant;
        let at = |secs: i64| Some(instant(now + time::Duration::seconds(secs)));
        match self {
            Defect::Expired => {
                spec.not_before = at(-3600);
                spec.not_on_or_after = at(-1800);
                spec.issue_instant = at(-3600);
            }
            Defect::NotYetValid => {
                spec.not_before = at(1800);
                spec.not_on_or_after = at(3600);
            }
            Defect::Unsigned => spec.signed = false,
            Defect::UnknownAudience => spec.audiences = vec!["urn:unknown:audience".into()],
            Defect::InvalidAuthnStatement => spec.authn_instant = Some("yesterday".into()),
            Defect::SecondAuthnContext => spec
                .authn_contexts
                .push("urn:oasis:names:tc:SAML:2.0:ac:classes:X509".into()),
            Defect::SecondRole => add_value(spec, xspa::ROLE, "2262"),
            Defect::SecondPurposeOfUse => add_value(spec, xspa::PURPOSE_OF_USE, xspa::EMERGENCY),
            Defect::WithAuthzConsent => {
                spec.authz_consent = Some("urn:oid:1.2.3.4.5.6.7.8".into());
            }
            Defect::InvalidVersion => spec.version = Some("1.1".into()),
            Defect::MissingVersion => spec.version = None,

            Defect::MissingSubject => {
                spec.subject = None;
                spec.confirmation = None;
            }
            Defect::MissingSubjectNameId => spec.subject = None,
            Defect::MissingSubjectConfirmation => spec.confirmation = None,
            Defect::MissingSubjectConfirmationMethod => spec.confirmation = Some(None),
            Defect::MissingIssuer => spec.issuer = None,
            Defect::MissingIssuerFormat => spec.issuer_format = None,
            Defect::InvalidAuthnContext => spec.authn_contexts = vec![String::new()],
            Defect::MissingIssueInstant => spec.issue_instant = None,
            Defect::InvalidIssueInstant => spec.issue_instant = Some("not a time".into()),
            Defect::LateIssueInstant => spec.issue_instant = at(3600),
            // Applied to the signed text.
            Defect::InvalidSignature
            | Defect::MissingKeyInfo
            | Defect::MissingKeyValue
            | Defect::MissingRsaKeyValue
            | Defect::InvalidX509Certificate
            | Defect::InvalidId
            | Defect::MissingId => {}
        }
    }

    /// Defects that can only be made after signing (`id`: the assertion's ID).
    fn apply_signed(self, xml: String, id: &str) -> String {
        let id_attr = format!(" ID=\"{id}\"");
        match self {
            Defect::InvalidSignature => corrupt_signature_value(&xml),
            Defect::MissingKeyInfo => cut_element(&xml, "ds:KeyInfo"),
            // The key material goes; an empty KeyInfo stays.
            Defect::MissingKeyValue | Defect::MissingRsaKeyValue => {
                cut_element(&xml, "ds:X509Data")
            }
            Defect::InvalidX509Certificate => {
                let open = "<ds:X509Certificate>";
                match xml.find(open) {
                    Some(i) => format!("{}{open}AAAA{}", &xml[..i], &xml[i + open.len() + 4..]),
                    None => xml,
                }
            }
            Defect::InvalidId => xml.replacen(&id_attr, " ID=\"1-not-an-xml-name\"", 1),
            Defect::MissingId => xml.replacen(&id_attr, "", 1),
            _ => xml,
        }
    }
}

fn add_value(spec: &mut AssertionSpec, name: &str, value: &str) {
    if let Some((_, values)) = spec.attributes.iter_mut().find(|(n, _)| n == name) {
        values.push(value.to_string());
    }
}

/// The signature value with its first bytes changed (still base64).
fn corrupt_signature_value(xml: &str) -> String {
    let Some(start) = xml
        .find("<ds:SignatureValue>")
        .map(|i| i + "<ds:SignatureValue>".len())
    else {
        return xml.to_string();
    };
    let end = xml[start..].find('<').map_or(xml.len(), |e| start + e);
    let b64: String = xml[start..end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let engine = base64::engine::general_purpose::STANDARD;
    let mut raw = engine.decode(b64).unwrap_or_default();
    if let Some(b) = raw.get_mut(8) {
        *b ^= 0xff;
    }
    format!("{}{}{}", &xml[..start], engine.encode(raw), &xml[end..])
}

fn cut_element(xml: &str, qname: &str) -> String {
    let open = format!("<{qname}");
    let close = format!("</{qname}>");
    match (xml.find(&open), xml.find(&close)) {
        (Some(a), Some(b)) if b > a => format!("{}{}", &xml[..a], &xml[b + close.len()..]),
        _ => xml.to_string(),
    }
}

/// The HCP assertion spec for `who`, issued by `signer` at `now`.
pub fn hcp_spec(signer: &Signer, who: &Professional, now: OffsetDateTime) -> AssertionSpec {
    let mut spec = AssertionSpec::new(&signer.subject, &who.subject, now, who.valid_secs);
    spec.audiences = who.audiences.clone();
    if let Some(l) = &who.locality {
        spec = spec.attribute(xspa::LOCALITY, &[l]);
    }
    let permissions: Vec<&str> = who.permissions.iter().map(String::as_str).collect();
    super::build::hcp_attributes(
        spec,
        &who.subject,
        &who.role,
        &who.organization,
        &who.organization_id,
        &who.purpose,
        &permissions,
    )
}

/// The TRC assertion for `patient` (CX form), referring to the HCP assertion `hcp_id`.
pub fn trc_spec(
    signer: &Signer,
    hcp_id: &str,
    patient: &str,
    purpose: &str,
    now: OffsetDateTime,
    valid_secs: i64,
) -> AssertionSpec {
    let mut spec = AssertionSpec::new(&signer.subject, patient, now, valid_secs)
        .attribute(xspa::RESOURCE_ID, &[patient])
        .attribute(xspa::PURPOSE_OF_USE, &[purpose]);
    spec.authn_instant = None;
    spec.authn_contexts.clear();
    spec.advice_refs = vec![hcp_id.to_string()];
    spec
}

/// A wsse:Security header holding the given (signed) assertions.
pub fn security_header(assertions: &[String]) -> String {
    format!(
        r#"<wsse:Security xmlns:wsse="{WSSE}">{}</wsse:Security>"#,
        assertions.concat()
    )
}

/// A wsse:Security header with an HCP assertion for `who` and, for `patient`, a TRC assertion;
/// `defect` applies to the HCP assertion.
pub fn ehdsi_security(
    signer: &Signer,
    who: &Professional,
    patient: Option<&str>,
    defect: Option<Defect>,
    now: OffsetDateTime,
) -> Result<String, IssueError> {
    let mut hcp = hcp_spec(signer, who, now);
    if let Some(d) = defect {
        d.apply(&mut hcp, now);
    }
    let hcp_id = hcp.id.clone().unwrap_or_default();
    let mut hcp_xml = signer.sign(&hcp)?;
    if let Some(d) = defect {
        hcp_xml = d.apply_signed(hcp_xml, &hcp_id);
    }
    let mut parts = vec![hcp_xml];
    if let Some(p) = patient {
        let trc = trc_spec(signer, &hcp_id, p, &who.purpose, now, who.valid_secs);
        parts.push(signer.sign(&trc)?);
    }
    Ok(security_header(&parts))
}

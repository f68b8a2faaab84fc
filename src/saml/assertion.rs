//! A SAML 2.0 Assertion read into typed values. Reading is lenient (everything present is
//! collected, counted where a count matters); the trust layer decides what is acceptable.

use super::{DS, SAML2};
use crate::xml::{Element, Node};
use base64::Engine;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SamlError {
    #[error("not a SAML 2.0 Assertion")]
    NotAnAssertion,
    #[error("ds:X509Certificate is not base64")]
    BadCertificate,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Issuer {
    pub value: String,
    pub format: Option<String>,
    pub name_qualifier: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Subject {
    pub name_id: Option<String>,
    pub name_id_format: Option<String>,
    /// The Method of each SubjectConfirmation (None where it has none).
    pub confirmations: Vec<Option<String>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Conditions {
    pub not_before: Option<String>,
    pub not_on_or_after: Option<String>,
    /// The audiences of each AudienceRestriction.
    pub audience_restrictions: Vec<Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuthnStatement {
    pub instant: Option<String>,
    /// How many AuthnContext elements it holds (exactly one is valid).
    pub contexts: usize,
    pub class_refs: Vec<String>,
}

/// One AttributeValue: its text, or the code of the HL7 coded value it holds (XSPA role and
/// purpose of use are often `<Role code=".." codeSystem=".."/>`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AttributeValue {
    pub text: String,
    pub code: Option<String>,
    pub code_system: Option<String>,
}

impl AttributeValue {
    /// The code when it is a coded value, else the text.
    pub fn value(&self) -> &str {
        self.code.as_deref().unwrap_or(&self.text)
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Attribute {
    pub name: String,
    pub values: Vec<AttributeValue>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reference {
    pub uri: Option<String>,
    pub transforms: Vec<String>,
    pub digest_method: Option<String>,
}

/// The enveloped ds:Signature of the assertion, as far as the trust checks need it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SignatureInfo {
    pub c14n_method: Option<String>,
    pub signature_method: Option<String>,
    pub references: Vec<Reference>,
    /// ds:KeyInfo/ds:X509Data/ds:X509Certificate, in order (the signer first), as DER.
    pub certificates: Vec<Vec<u8>>,
    pub has_key_info: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Assertion {
    pub id: Option<String>,
    pub version: Option<String>,
    pub issue_instant: Option<String>,
    pub issuer: Option<Issuer>,
    pub subject: Option<Subject>,
    pub conditions: Option<Conditions>,
    pub authn_statements: Vec<AuthnStatement>,
    pub attributes: Vec<Attribute>,
    pub authz_decision_statements: usize,
    /// Advice/AssertionIDRef: assertions this one refers to (the TRC names its HCP assertion).
    pub advice_refs: Vec<String>,
    /// ds:Signature children of the assertion (one is valid).
    pub signatures: Vec<SignatureInfo>,
}

fn attr(e: &Element, name: &str) -> Option<String> {
    e.attr(name).map(str::to_string)
}

fn text(e: &Element) -> String {
    e.text().trim().to_string()
}

impl Assertion {
    pub fn read(e: &Element) -> Result<Assertion, SamlError> {
        if !e.is(SAML2, "Assertion") {
            return Err(SamlError::NotAnAssertion);
        }
        let mut a = Assertion {
            id: attr(e, "ID"),
            version: attr(e, "Version"),
            issue_instant: attr(e, "IssueInstant"),
            ..Default::default()
        };
        for c in e.elements() {
            match (c.ns.as_deref(), c.name.as_str()) {
                (Some(SAML2), "Issuer") => {
                    a.issuer = Some(Issuer {
                        value: text(c),
                        format: attr(c, "Format"),
                        name_qualifier: attr(c, "NameQualifier"),
                    })
                }
                (Some(SAML2), "Subject") => a.subject = Some(read_subject(c)),
                (Some(SAML2), "Conditions") => a.conditions = Some(read_conditions(c)),
                (Some(SAML2), "AuthnStatement") => a.authn_statements.push(read_authn(c)),
                (Some(SAML2), "AttributeStatement") => a
                    .attributes
                    .extend(c.children_named(SAML2, "Attribute").map(read_attribute)),
                (Some(SAML2), "AuthzDecisionStatement") => a.authz_decision_statements += 1,
                (Some(SAML2), "Advice") => a
                    .advice_refs
                    .extend(c.children_named(SAML2, "AssertionIDRef").map(text)),
                (Some(DS), "Signature") => a.signatures.push(read_signature(c)?),
                _ => {}
            }
        }
        Ok(a)
    }

    /// The values of the attribute `name` (compared without case: deployments differ in
    /// `purposeofuse` / `purposeOfUse`).
    pub fn attribute(&self, name: &str) -> Vec<&AttributeValue> {
        self.attributes
            .iter()
            .filter(|a| a.name.eq_ignore_ascii_case(name))
            .flat_map(|a| a.values.iter())
            .collect()
    }

    /// The single value of `name`, if there is exactly one.
    pub fn single(&self, name: &str) -> Option<&str> {
        match self.attribute(name).as_slice() {
            [v] => Some(v.value()),
            _ => None,
        }
    }
}

fn read_subject(e: &Element) -> Subject {
    let name_id = e.child(SAML2, "NameID");
    Subject {
        name_id: name_id.map(text),
        name_id_format: name_id.and_then(|n| attr(n, "Format")),
        confirmations: e
            .children_named(SAML2, "SubjectConfirmation")
            .map(|c| attr(c, "Method"))
            .collect(),
    }
}

fn read_conditions(e: &Element) -> Conditions {
    Conditions {
        not_before: attr(e, "NotBefore"),
        not_on_or_after: attr(e, "NotOnOrAfter"),
        audience_restrictions: e
            .children_named(SAML2, "AudienceRestriction")
            .map(|r| r.children_named(SAML2, "Audience").map(text).collect())
            .collect(),
    }
}

fn read_authn(e: &Element) -> AuthnStatement {
    let contexts: Vec<&Element> = e.children_named(SAML2, "AuthnContext").collect();
    AuthnStatement {
        instant: attr(e, "AuthnInstant"),
        contexts: contexts.len(),
        class_refs: contexts
            .iter()
            .flat_map(|c| c.children_named(SAML2, "AuthnContextClassRef"))
            .map(text)
            .collect(),
    }
}

fn read_attribute(e: &Element) -> Attribute {
    let values = e
        .children_named(SAML2, "AttributeValue")
        .map(|v| match v.elements().next() {
            Some(coded) => AttributeValue {
                text: coded.attr("displayName").unwrap_or_default().to_string(),
                code: attr(coded, "code"),
                code_system: attr(coded, "codeSystem"),
            },
            None => AttributeValue {
                text: text(v),
                ..Default::default()
            },
        })
        .collect();
    Attribute {
        name: e.attr("Name").unwrap_or_default().to_string(),
        values,
    }
}

fn read_signature(e: &Element) -> Result<SignatureInfo, SamlError> {
    let alg = |e: Option<&Element>| e.and_then(|e| attr(e, "Algorithm"));
    let signed_info = e.child(DS, "SignedInfo");
    let references = signed_info
        .into_iter()
        .flat_map(|s| s.children_named(DS, "Reference"))
        .map(|r| Reference {
            uri: attr(r, "URI"),
            transforms: r
                .child(DS, "Transforms")
                .into_iter()
                .flat_map(|t| t.children_named(DS, "Transform"))
                .filter_map(|t| attr(t, "Algorithm"))
                .collect(),
            digest_method: alg(r.child(DS, "DigestMethod")),
        })
        .collect();
    let key_info = e.child(DS, "KeyInfo");
    let mut certificates = Vec::new();
    for data in key_info
        .into_iter()
        .flat_map(|k| k.children_named(DS, "X509Data"))
    {
        for c in data.children_named(DS, "X509Certificate") {
            let b64: String = c.text().chars().filter(|c| !c.is_whitespace()).collect();
            let der = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|_| SamlError::BadCertificate)?;
            certificates.push(der);
        }
    }
    Ok(SignatureInfo {
        c14n_method: alg(signed_info.and_then(|s| s.child(DS, "CanonicalizationMethod"))),
        signature_method: alg(signed_info.and_then(|s| s.child(DS, "SignatureMethod"))),
        references,
        certificates,
        has_key_info: key_info.is_some(),
    })
}

/// Every value of an ID-like attribute in the tree (`ID`, `Id` in any namespace such as
/// wsu:Id, `AssertionID`), so that the caller can insist they are unique.
pub fn ids_in(e: &Element, out: &mut Vec<String>) {
    for a in e.attrs.iter().filter(|a| !a.is_ns_decl()) {
        if matches!(a.name.as_str(), "ID" | "Id" | "AssertionID") {
            out.push(a.value.clone());
        }
    }
    for c in &e.children {
        if let Node::Element(c) = c {
            ids_in(c, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::{parse, Limits};

    #[test]
    fn reads_the_openncp_sample_shape() {
        let x = format!(
            r##"<s:Assertion xmlns:s="{SAML2}" xmlns:d="{DS}" ID="_a" Version="2.0" IssueInstant="2026-01-01T00:00:00Z">
            <s:Issuer Format="f">C=SE</s:Issuer>
            <d:Signature><d:SignedInfo><d:CanonicalizationMethod Algorithm="c"/><d:SignatureMethod Algorithm="m"/>
              <d:Reference URI="#_a"><d:Transforms><d:Transform Algorithm="t1"/></d:Transforms><d:DigestMethod Algorithm="dg"/></d:Reference></d:SignedInfo>
              <d:KeyInfo><d:X509Data><d:X509Certificate>AQID</d:X509Certificate></d:X509Data></d:KeyInfo></d:Signature>
            <s:Subject><s:NameID>dr</s:NameID><s:SubjectConfirmation Method="cm"/></s:Subject>
            <s:Conditions NotBefore="a" NotOnOrAfter="b"><s:AudienceRestriction><s:Audience>x</s:Audience></s:AudienceRestriction></s:Conditions>
            <s:AuthnStatement AuthnInstant="i"><s:AuthnContext><s:AuthnContextClassRef>k</s:AuthnContextClassRef></s:AuthnContext></s:AuthnStatement>
            <s:AttributeStatement><s:Attribute Name="urn:x:purposeOfUse"><s:AttributeValue><P xmlns="urn:hl7-org:v3" code="TREATMENT"/></s:AttributeValue></s:Attribute>
              <s:Attribute Name="perm"><s:AttributeValue>PRD-006</s:AttributeValue><s:AttributeValue>PRD-004</s:AttributeValue></s:Attribute></s:AttributeStatement>
            <s:Advice><s:AssertionIDRef>_h</s:AssertionIDRef></s:Advice>
            </s:Assertion>"##
        );
        let a = Assertion::read(&parse(x.as_bytes(), Limits::default()).unwrap()).unwrap();
        assert_eq!(a.id.as_deref(), Some("_a"));
        assert_eq!(a.issuer.as_ref().unwrap().value, "C=SE");
        assert_eq!(
            a.subject.as_ref().unwrap().confirmations,
            [Some("cm".into())]
        );
        assert_eq!(
            a.conditions.as_ref().unwrap().audience_restrictions,
            [["x"]]
        );
        assert_eq!(a.authn_statements[0].contexts, 1);
        assert_eq!(a.single("urn:x:purposeofuse"), Some("TREATMENT"));
        assert_eq!(a.attribute("perm").len(), 2);
        assert_eq!(a.advice_refs, ["_h"]);
        let sig = &a.signatures[0];
        assert_eq!(sig.references[0].uri.as_deref(), Some("#_a"));
        assert_eq!(sig.certificates, [vec![1u8, 2, 3]]);
    }
}

//! Code systems between FHIR and XDS: a FHIR Coding names its system by URI, an XDS code by
//! its codingScheme (an OID, or a name in older affinity domains). MHD says `urn:oid:` URIs
//! carry the OID; the systems below are known by both names.

use crate::xds::cx::is_oid;
use crate::xds::model::Code;

/// (FHIR system URI, XDS codingScheme) of the code systems that have a canonical URI.
const KNOWN: [(&str, &str); 8] = [
    ("http://loinc.org", "2.16.840.1.113883.6.1"),
    ("http://snomed.info/sct", "2.16.840.1.113883.6.96"),
    (
        "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
        "2.16.840.1.113883.5.25",
    ),
    ("urn:ietf:bcp:13", "urn:ietf:bcp:13"),
    ("http://hl7.org/fhir/sid/icd-10", "2.16.840.1.113883.6.3"),
    ("http://www.whocc.no/atc", "2.16.840.1.113883.6.73"),
    (
        "http://terminology.hl7.org/CodeSystem/v3-ActCode",
        "2.16.840.1.113883.5.4",
    ),
    (
        "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
        "2.16.840.1.113883.5.111",
    ),
];

/// The codingScheme of a FHIR system URI.
pub fn scheme_of(system: &str) -> String {
    if let Some(oid) = system.strip_prefix("urn:oid:") {
        return oid.to_string();
    }
    KNOWN
        .iter()
        .find(|(uri, _)| *uri == system)
        .map(|(_, oid)| oid.to_string())
        .unwrap_or_else(|| system.to_string())
}

/// The FHIR system URI of a codingScheme: the canonical URI when there is one, `urn:oid:`
/// for other OIDs, and the scheme as it is otherwise (names and URIs pass through).
pub fn system_of(scheme: &str) -> String {
    if let Some((uri, _)) = KNOWN.iter().find(|(_, oid)| *oid == scheme) {
        return uri.to_string();
    }
    if is_oid(scheme) {
        format!("urn:oid:{scheme}")
    } else {
        scheme.to_string()
    }
}

/// A search token `system|code` or `code` (any system) as XDS codes to match; XDS queries
/// need the scheme, so a token without one matches nothing rather than everything.
pub fn token(value: &str) -> Option<Code> {
    let (system, code) = value.split_once('|')?;
    if system.is_empty() || code.is_empty() {
        return None;
    }
    Some(Code {
        code: code.to_string(),
        scheme: scheme_of(system),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn systems_and_schemes_map_both_ways() {
        assert_eq!(scheme_of("http://loinc.org"), "2.16.840.1.113883.6.1");
        assert_eq!(system_of("2.16.840.1.113883.6.1"), "http://loinc.org");
        assert_eq!(
            scheme_of("urn:oid:2.16.578.1.12.4.1.1.9602"),
            "2.16.578.1.12.4.1.1.9602"
        );
        assert_eq!(
            system_of("2.16.578.1.12.4.1.1.9602"),
            "urn:oid:2.16.578.1.12.4.1.1.9602"
        );
        assert_eq!(
            system_of("Connect-a-thon classCodes"),
            "Connect-a-thon classCodes"
        );
        assert_eq!(
            scheme_of("http://connectathon.ihe"),
            "http://connectathon.ihe"
        );
        assert!(token("34133-9").is_none());
        let t = token("http://loinc.org|34133-9").unwrap();
        assert_eq!(
            (t.code.as_str(), t.scheme.as_str()),
            ("34133-9", "2.16.840.1.113883.6.1")
        );
    }
}

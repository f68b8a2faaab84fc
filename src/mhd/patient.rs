//! Patients between FHIR and XDS. An XDS patient id is a CX (`ID^^^&OID&ISO`); its FHIR
//! Patient id is `OID-ID`, so that a Patient reference names the affinity-domain id without
//! a lookup. A subject may also be given by identifier (fødselsnummer, D-nummer, any OID).

use super::fhir::{self, Issue};
use crate::store::patients::PatientRow;
use crate::xds::cx;
use fhirbolt::model::r4::resources::Patient;
use fhirbolt::model::r4::types::{self, Reference};

const MAX_ID: usize = 64;

/// The Patient id of a CX, when the id part fits FHIR's id syntax.
pub fn fhir_id(pid: &str) -> Option<String> {
    let (value, oid) = split(pid)?;
    let id = format!("{oid}-{value}");
    let ok = id.len() <= MAX_ID
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    ok.then_some(id)
}

/// The CX a Patient id stands for.
pub fn cx_of_id(id: &str) -> Option<String> {
    let (oid, value) = id.split_once('-')?;
    let pid = format!("{value}^^^&{oid}&ISO");
    cx::validate(&pid).ok()?;
    Some(pid)
}

/// The CX of an identifier with an `urn:oid:` system.
pub fn cx_of_identifier(system: &str, value: &str) -> Result<String, String> {
    let oid = system
        .strip_prefix("urn:oid:")
        .filter(|o| cx::is_oid(o))
        .ok_or_else(|| {
            format!(
                "the patient identifier system '{system}' is not an urn:oid: assigning authority"
            )
        })?;
    let pid = format!("{}^^^&{oid}&ISO", value.trim());
    cx::validate(&pid)?;
    Ok(pid)
}

/// (id, authority OID) of a valid CX.
fn split(pid: &str) -> Option<(&str, &str)> {
    cx::validate(pid).ok()?;
    let (value, rest) = pid.split_once("^^^&")?;
    Some((value, rest.strip_suffix("&ISO")?))
}

/// The identifier element of a CX.
pub fn identifier(pid: &str) -> Option<types::Identifier> {
    let (value, oid) = split(pid)?;
    Some(fhir::identifier(&format!("urn:oid:{oid}"), value))
}

/// The subject of a DocumentReference or List, as the CX it names. A reference must be
/// relative (`Patient/ID`) or under this server's base: the node fetches nothing from
/// elsewhere.
pub fn subject_cx(subject: Option<&Reference>, base: &str, at: &str) -> Result<String, Issue> {
    let subject = subject
        .ok_or_else(|| Issue::error("required", "the subject (patient) is missing").at(at))?;
    if let Some(r) = fhir::text(subject.reference.as_ref()) {
        let local = r
            .strip_prefix(base)
            .map(|rest| rest.trim_start_matches('/'))
            .unwrap_or(&r);
        let id = local.strip_prefix("Patient/").ok_or_else(|| {
            Issue::error(
                "invalid",
                format!(
                    "the subject reference '{}' is not a Patient of this server ({base}/Patient/<id>); give subject.identifier instead",
                    shown(&r)
                ),
            )
            .at(at)
        })?;
        return cx_of_id(id).ok_or_else(|| {
            Issue::error(
                "invalid",
                format!("'{}' is not a Patient id of this server", shown(id)),
            )
            .at(at)
        });
    }
    let ident = subject.identifier.as_deref().ok_or_else(|| {
        Issue::error(
            "required",
            "the subject has neither reference nor identifier",
        )
        .at(at)
    })?;
    let system = fhir::text(ident.system.as_ref()).unwrap_or_default();
    let value = fhir::text(ident.value.as_ref()).unwrap_or_default();
    cx_of_identifier(&system, &value).map_err(|why| Issue::error("invalid", why).at(at))
}

fn shown(s: &str) -> String {
    s.chars().take(120).collect()
}

/// The Patient resource of a patient the identity feed registered.
pub fn resource(row: &PatientRow) -> Patient {
    let name = (row.family.is_some() || row.given.is_some()).then(|| types::HumanName {
        family: row.family.clone().map(fhir::string),
        given: row.given.clone().into_iter().map(fhir::string).collect(),
        ..Default::default()
    });
    Patient {
        id: fhir_id(&row.pid).map(fhir::id),
        identifier: identifier(&row.pid).into_iter().collect(),
        name: name.into_iter().collect(),
        gender: row.gender.as_deref().and_then(gender).map(fhir::code),
        birth_date: row
            .birth_date
            .as_deref()
            .and_then(birth_date)
            .map(|d| types::Date {
                value: Some(d),
                ..Default::default()
            }),
        ..Default::default()
    }
}

/// HL7 v2 administrative sex to FHIR.
fn gender(v2: &str) -> Option<&'static str> {
    match v2 {
        "M" => Some("male"),
        "F" => Some("female"),
        "O" | "A" => Some("other"),
        "U" => Some("unknown"),
        _ => None,
    }
}

/// `YYYYMMDD...` (HL7 v2 TS) to `YYYY-MM-DD`.
fn birth_date(ts: &str) -> Option<String> {
    let d = ts.get(..8)?;
    d.bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| format!("{}-{}-{}", &d[..4], &d[4..6], &d[6..8]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patient_ids_round_trip() {
        let pid = "12345678901^^^&2.16.578.1.12.4.1.4.1&ISO";
        let id = fhir_id(pid).unwrap();
        assert_eq!(id, "2.16.578.1.12.4.1.4.1-12345678901");
        assert_eq!(cx_of_id(&id).as_deref(), Some(pid));
        assert!(fhir_id("a b^^^&1.2&ISO").is_none());
        assert!(cx_of_id("nodash").is_none());
        assert_eq!(
            cx_of_identifier("urn:oid:2.16.578.1.12.4.1.4.2", "41234567890").unwrap(),
            "41234567890^^^&2.16.578.1.12.4.1.4.2&ISO"
        );
        assert!(cx_of_identifier("http://example.org", "1").is_err());
    }

    #[test]
    fn subject_references_outside_this_server_are_refused() {
        let base = "https://node.example/fhir";
        let r = |s: &str| fhir::reference(s);
        let pid = "1^^^&1.2.3&ISO";
        assert_eq!(
            subject_cx(Some(&r("Patient/1.2.3-1")), base, "x").unwrap(),
            pid
        );
        assert_eq!(
            subject_cx(
                Some(&r("https://node.example/fhir/Patient/1.2.3-1")),
                base,
                "x"
            )
            .unwrap(),
            pid
        );
        assert!(subject_cx(
            Some(&r("https://elsewhere/fhir/Patient/1.2.3-1")),
            base,
            "x"
        )
        .is_err());
        assert!(subject_cx(None, base, "x").is_err());
    }
}

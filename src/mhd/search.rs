//! ITI-67 and ITI-66 search parameters as XDS stored queries, so that MHD searches run on the
//! same indexed queries as ITI-18 (FindDocuments, FindSubmissionSets, FindFolders, GetDocuments).

use super::codes;
use super::fhir::Issue;
use super::patient;
use crate::ebxml::query::{AdhocQueryRequest, ReturnType};
use crate::ebxml::{Slot, APPROVED, DEPRECATED};
use crate::registry::query as sq;

/// Parameters every search takes and that select nothing.
const GENERAL: [&str; 3] = ["_format", "_count", "_pretty"];

/// `name=value` pairs of a query string, percent-decoded.
pub fn pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn quoted(v: &str) -> String {
    format!("'{}'", v.replace('\'', "''"))
}

fn list(values: &[String]) -> String {
    let q: Vec<String> = values.iter().map(|v| quoted(v)).collect();
    format!("({})", q.join(","))
}

fn slot(name: &str, value: String) -> Slot {
    Slot {
        name: name.into(),
        slot_type: None,
        values: vec![value],
    }
}

fn unsupported(name: &str) -> Issue {
    Issue::error(
        "not-supported",
        format!("search parameter '{name}' is not supported; see /fhir/metadata"),
    )
    .at(name.to_string())
}

fn bad(name: &str, why: impl Into<String>) -> Issue {
    Issue::error("invalid", why.into()).at(name.to_string())
}

/// The patient of `patient=` (a Patient reference) or `patient.identifier=system|value`.
fn patient_cx(name: &str, value: &str, base: &str) -> Result<String, Issue> {
    if name == "patient" {
        let r = fhirbolt::model::r4::types::Reference {
            reference: Some(super::fhir::string(value)),
            ..Default::default()
        };
        return patient::subject_cx(Some(&r), base, name);
    }
    let (system, id) = value
        .split_once('|')
        .ok_or_else(|| bad(name, "patient.identifier takes system|value"))?;
    patient::cx_of_identifier(system, id).map_err(|why| bad(name, why))
}

/// `ge2004-12-23` and the like as (from, to) DTM bounds; XDS ranges are [from, to).
fn time_bound(name: &str, value: &str) -> Result<(Option<String>, Option<String>), Issue> {
    let (prefix, v) = match value.get(..2) {
        Some(p @ ("ge" | "le" | "gt" | "lt" | "eq")) => (p, &value[2..]),
        _ => ("eq", value),
    };
    let d = super::dtm::to_dtm(v)
        .ok_or_else(|| bad(name, format!("'{v}' is not a FHIR date or dateTime")))?;
    Ok(match prefix {
        "ge" | "gt" => (Some(d), None),
        "le" | "lt" => (None, Some(d)),
        _ => (Some(d.clone()), Some(d)),
    })
}

/// FindDocuments (or GetDocuments by id) for an ITI-67 search.
pub fn find_documents(query: &str, base: &str) -> Result<AdhocQueryRequest, Vec<Issue>> {
    let mut issues = Vec::new();
    let mut params = Vec::new();
    let mut patient = None;
    let mut statuses: Vec<String> = Vec::new();
    let mut by_id: Option<(&str, Vec<String>)> = None;
    let mut authors = (None::<String>, None::<String>);
    for (name, value) in pairs(query) {
        let values: Vec<String> = value.split(',').map(str::to_string).collect();
        let codes = |xds: &str, params: &mut Vec<Slot>, issues: &mut Vec<Issue>| {
            let mut ce = Vec::new();
            for v in &values {
                match codes::token(v) {
                    Some(c) => ce.push(format!("{}^^{}", c.code, c.scheme)),
                    None => issues.push(bad(&name, format!("'{v}' must be system|code"))),
                }
            }
            params.push(slot(xds, list(&ce)));
        };
        match name.as_str() {
            "patient" | "patient.identifier" => match patient_cx(&name, &value, base) {
                Ok(p) => patient = Some(p),
                Err(i) => issues.push(i),
            },
            "status" => {
                for v in &values {
                    match v.as_str() {
                        "current" => statuses.push(APPROVED.into()),
                        "superseded" => statuses.push(DEPRECATED.into()),
                        // Never stored: matches nothing, as an XDS status it does not hold.
                        "entered-in-error" => {}
                        other => issues.push(bad(
                            &name,
                            format!(
                                "status '{other}' is not current, superseded or entered-in-error"
                            ),
                        )),
                    }
                }
            }
            "_id" => {
                by_id = Some((
                    "$XDSDocumentEntryEntryUUID",
                    values.iter().map(|v| format!("urn:uuid:{v}")).collect(),
                ))
            }
            "identifier" => {
                let v: Vec<String> = values
                    .iter()
                    .map(|v| v.split_once('|').map(|(_, x)| x).unwrap_or(v).to_string())
                    .collect();
                if v.iter().all(|x| x.starts_with("urn:uuid:")) {
                    by_id = Some(("$XDSDocumentEntryEntryUUID", v));
                } else {
                    by_id = Some((
                        "$XDSDocumentEntryUniqueId",
                        v.iter().map(|x| super::to_rim::unique_id_of(x)).collect(),
                    ));
                }
            }
            "category" => codes("$XDSDocumentEntryClassCode", &mut params, &mut issues),
            "type" => codes("$XDSDocumentEntryTypeCode", &mut params, &mut issues),
            "setting" => codes(
                "$XDSDocumentEntryPracticeSettingCode",
                &mut params,
                &mut issues,
            ),
            "facility" => codes(
                "$XDSDocumentEntryHealthcareFacilityTypeCode",
                &mut params,
                &mut issues,
            ),
            "event" => codes("$XDSDocumentEntryEventCodeList", &mut params, &mut issues),
            "security-label" => codes(
                "$XDSDocumentEntryConfidentialityCode",
                &mut params,
                &mut issues,
            ),
            "format" => codes("$XDSDocumentEntryFormatCode", &mut params, &mut issues),
            "creation" | "date" | "period" => {
                let (from, to) = if name == "period" {
                    (
                        "$XDSDocumentEntryServiceStartTimeFrom",
                        "$XDSDocumentEntryServiceStopTimeTo",
                    )
                } else {
                    (
                        "$XDSDocumentEntryCreationTimeFrom",
                        "$XDSDocumentEntryCreationTimeTo",
                    )
                };
                match time_bound(&name, &value) {
                    Ok((f, t)) => {
                        params.extend(f.map(|f| slot(from, f)));
                        // XDS upper bounds are exclusive: the whole day or instant named is in.
                        params.extend(t.map(|t| slot(to, format!("{t:9<14}"))));
                    }
                    Err(i) => issues.push(i),
                }
            }
            "author.family" => authors.0 = Some(value.clone()),
            "author.given" => authors.1 = Some(value.clone()),
            n if GENERAL.contains(&n) => {}
            other => issues.push(unsupported(other)),
        }
    }
    if authors.0.is_some() || authors.1.is_some() {
        let pattern = format!(
            "%^{}^{}%",
            authors.0.as_deref().unwrap_or("%"),
            authors.1.as_deref().unwrap_or("%")
        );
        params.push(slot("$XDSDocumentEntryAuthorPerson", list(&[pattern])));
    }
    if !issues.is_empty() {
        return Err(issues);
    }
    if let Some((name, ids)) = by_id {
        return Ok(request(sq::GET_DOCUMENTS, vec![slot(name, list(&ids))]));
    }
    let Some(patient) = patient else {
        return Err(vec![Issue::error(
            "required",
            "a search needs patient or patient.identifier",
        )
        .at("patient")]);
    };
    if statuses.is_empty() && !query.contains("status=") {
        statuses = vec![APPROVED.into(), DEPRECATED.into()];
    }
    params.push(slot("$XDSDocumentEntryPatientId", quoted(&patient)));
    params.push(slot("$XDSDocumentEntryStatus", list(&statuses)));
    Ok(request(sq::FIND_DOCUMENTS, params))
}

/// FindSubmissionSets or FindFolders for an ITI-66 search (`code=submissionset|folder`).
pub fn find_lists(query: &str, base: &str) -> Result<(AdhocQueryRequest, bool), Vec<Issue>> {
    let mut issues = Vec::new();
    let mut patient = None;
    let mut folders = false;
    let mut statuses = vec![APPROVED.to_string()];
    for (name, value) in pairs(query) {
        match name.as_str() {
            "patient" | "patient.identifier" => match patient_cx(&name, &value, base) {
                Ok(p) => patient = Some(p),
                Err(i) => issues.push(i),
            },
            "code" => {
                let c = value.rsplit('|').next().unwrap_or_default();
                match c {
                    "submissionset" => folders = false,
                    "folder" => folders = true,
                    other => issues.push(bad(
                        &name,
                        format!("code '{other}' is not submissionset or folder"),
                    )),
                }
            }
            "status" => {
                statuses = value
                    .split(',')
                    .filter_map(|s| match s {
                        "current" => Some(APPROVED.to_string()),
                        _ => None,
                    })
                    .collect();
            }
            n if GENERAL.contains(&n) => {}
            other => issues.push(unsupported(other)),
        }
    }
    let Some(patient) = patient else {
        issues.push(
            Issue::error("required", "a search needs patient or patient.identifier").at("patient"),
        );
        return Err(issues);
    };
    if !issues.is_empty() {
        return Err(issues);
    }
    let (id, pid, status) = if folders {
        (sq::FIND_FOLDERS, "$XDSFolderPatientId", "$XDSFolderStatus")
    } else {
        (
            sq::FIND_SUBMISSION_SETS,
            "$XDSSubmissionSetPatientId",
            "$XDSSubmissionSetStatus",
        )
    };
    let params = vec![slot(pid, quoted(&patient)), slot(status, list(&statuses))];
    Ok((request(id, params), folders))
}

fn request(id: &str, params: Vec<Slot>) -> AdhocQueryRequest {
    AdhocQueryRequest {
        return_type: ReturnType::LeafClass,
        query_id: id.to_string(),
        home: None,
        params,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iti67_parameters_become_find_documents() {
        let q = "patient.identifier=urn:oid:2.16.578.1.12.4.1.4.1%7C12345678901&status=current&type=http://loinc.org%7C34133-9&creation=ge2020-01-01";
        let r = find_documents(q, "https://n/fhir").unwrap();
        assert_eq!(r.query_id, sq::FIND_DOCUMENTS);
        let get = |n: &str| {
            r.params
                .iter()
                .find(|s| s.name == n)
                .map(|s| s.values[0].clone())
        };
        assert_eq!(
            get("$XDSDocumentEntryPatientId").unwrap(),
            "'12345678901^^^&2.16.578.1.12.4.1.4.1&ISO'"
        );
        assert_eq!(
            get("$XDSDocumentEntryTypeCode").unwrap(),
            "('34133-9^^2.16.840.1.113883.6.1')"
        );
        assert_eq!(
            get("$XDSDocumentEntryCreationTimeFrom").unwrap(),
            "20200101"
        );
        assert!(get("$XDSDocumentEntryStatus").unwrap().contains("Approved"));
        assert!(find_documents("status=current", "b").is_err());
        assert!(find_documents("patient.identifier=x%7C1&bogus=1", "b").is_err());
    }
}

//! A Norwegian CDA document as an OrCD source: NHN's CDA Level 1 (the original as a PDF or a
//! picture in nonXMLBody) is the common case. Its header facts replace the registry's where it
//! has them.

use crate::ids::oid::{DNR, FNR};
use crate::translate::TranslateError;
use crate::xml::Element;

use super::header::{norwegian, Facts, Ii, Org, Person};
use super::Body;

const V3: &str = "urn:hl7-org:v3";

pub fn is_cda(root: &Element) -> bool {
    root.is(V3, "ClinicalDocument")
}

/// The body of an L1 CDA (None for a structured body) and the header's facts over `base`.
pub fn read(root: &Element, base: &Facts) -> Result<(Facts, Option<Body>), TranslateError> {
    let mut f = base.clone();
    if let Some(id) = root.child(V3, "id").and_then(ii) {
        f.source_id = id;
    }
    if let Some(t) = root.child(V3, "title").map(|t| t.deep_text()) {
        let t = t.trim();
        if !t.is_empty() {
            f.title = Some(t.to_string());
        }
    }
    if let Some(t) = root
        .child(V3, "effectiveTime")
        .and_then(|e| e.attr("value"))
    {
        f.effective = norwegian(t);
    }
    if let Some(role) = root.path(V3, &["recordTarget", "patientRole"]) {
        read_patient(role, &mut f);
    }
    if let Some(a) = root.path(V3, &["author", "assignedAuthor"]) {
        f.author = person(a, "assignedPerson").unwrap_or(f.author);
        if let Some(o) = a.child(V3, "representedOrganization").map(org) {
            f.author_org = o;
        }
        if let Some(t) = root
            .path(V3, &["author", "time"])
            .and_then(|t| t.attr("value"))
        {
            f.author_time = Some(norwegian(t));
        }
    }
    if let Some(c) = root.path(
        V3,
        &[
            "custodian",
            "assignedCustodian",
            "representedCustodianOrganization",
        ],
    ) {
        f.custodian = org(c);
    }
    if let Some(l) = root.child(V3, "legalAuthenticator") {
        let t = l.child(V3, "time").and_then(|t| t.attr("value"));
        let p = l
            .child(V3, "assignedEntity")
            .and_then(|e| person(e, "assignedPerson"));
        if let (Some(t), Some(p)) = (t, p) {
            f.legal = Some((p, norwegian(t)));
        }
    }
    if let Some(e) = root.path(V3, &["documentationOf", "serviceEvent", "effectiveTime"]) {
        let at = |n: &str| e.child(V3, n).and_then(|x| x.attr("value")).map(norwegian);
        f.service_start = at("low").or(f.service_start);
        f.service_stop = at("high").or(f.service_stop);
    }
    let body = match root.path(V3, &["component", "nonXMLBody", "text"]) {
        Some(text) => Some(non_xml_body(text)?),
        None => None,
    };
    Ok((f, body))
}

/// The patient stays the one the registry filed the document under (the one asked for);
/// the CDA's demographics are taken only when it names that same patient, or when the
/// registry gave none (the command line).
fn read_patient(role: &Element, f: &mut Facts) {
    let ids: Vec<Ii> = role.children_local("id").filter_map(ii).collect();
    let national = ids
        .iter()
        .find(|i| i.root == FNR || i.root == DNR)
        .or(ids.first());
    let unknown = f.patient.id.root.is_empty();
    match national {
        Some(id) if unknown => f.patient.id = id.clone(),
        Some(id) if *id == f.patient.id => {}
        _ => return,
    }
    let Some(p) = role.child(V3, "patient") else {
        return;
    };
    if let Some((family, given)) = p.child(V3, "name").map(name_parts) {
        f.patient.family = family.or(f.patient.family.take());
        f.patient.given = given.or(f.patient.given.take());
    }
    if let Some(g) = p
        .child(V3, "administrativeGenderCode")
        .and_then(|g| g.attr("code"))
    {
        // Volven 3101 (1 man, 2 woman) as NHN writes it, or HL7's own M/F.
        f.patient.gender = match g {
            "1" | "M" => Some("M".into()),
            "2" | "F" => Some("F".into()),
            _ => f.patient.gender.take(),
        };
    }
    if let Some(b) = p.child(V3, "birthTime").and_then(|b| b.attr("value")) {
        f.patient.birth = Some(b.to_string());
    }
}

fn ii(e: &Element) -> Option<Ii> {
    let root = e.attr("root")?.trim();
    if root.is_empty() {
        return None;
    }
    Some(Ii {
        root: root.to_string(),
        extension: e
            .attr("extension")
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(str::to_string),
    })
}

fn name_parts(n: &Element) -> (Option<String>, Option<String>) {
    let part = |tag: &str| {
        let s: Vec<String> = n
            .children_local(tag)
            .map(|p| p.deep_text().trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        (!s.is_empty()).then(|| s.join(" "))
    };
    (part("family"), part("given"))
}

fn person(holder: &Element, elem: &str) -> Option<Person> {
    let (family, given) = holder.child(V3, elem)?.child(V3, "name").map(name_parts)?;
    Some(Person {
        id: holder.child(V3, "id").and_then(ii),
        family,
        given,
    })
}

fn org(e: &Element) -> Org {
    Org {
        id: e.child(V3, "id").and_then(ii),
        name: e
            .child(V3, "name")
            .map(|n| n.deep_text().trim().to_string())
            .filter(|s| !s.is_empty()),
    }
}

/// The original carried by a nonXMLBody: base64 text (whitespace dropped) of a PDF or picture.
fn non_xml_body(text: &Element) -> Result<Body, TranslateError> {
    let media = text.attr("mediaType").unwrap_or("text/plain").to_string();
    if text.attr("representation").is_some_and(|r| r != "B64") {
        return Err(TranslateError::InvalidValue {
            element: "nonXMLBody/text".into(),
            reason: "only base64 (representation B64) originals can be carried".into(),
        });
    }
    let b64: String = text
        .deep_text()
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    Body::from_base64(&media, b64)
}

//! The PS CDA header from the IPS Composition: patient, author, custodian, legal authenticator,
//! contact persons, documentationOf and the XFRM link to the source document.

use serde_json::Value;

use crate::translate::cda::{self, uuid_from};
use crate::translate::coded::{Ctx, Src};
use crate::translate::fhir::{arr, codings, str_at, ts, Bundle};
use crate::translate::TranslateError;
use crate::xml::XmlWriter;

pub struct Header<'a> {
    pub bundle: &'a Bundle<'a>,
    pub comp: &'a Value,
    pub patient: &'a Value,
    /// languageCode when the Composition has none (or one outside eHDSILanguage)
    pub language: &'a str,
    /// country of addresses that carry none
    pub country: &'a str,
    pub seed: &'a str,
}

pub fn write_header(
    w: &mut XmlWriter,
    cx: &mut Ctx,
    h: &Header,
    template: &str,
) -> Result<(), TranslateError> {
    let comp = h.comp;
    cda::open_document(w, template);
    let doc_id = ii(comp.get("identifier"), &format!("{}#doc", h.seed));
    cda::id(w, &doc_id.0, doc_id.1.as_deref());
    cda::loinc_code(w, crate::ids::ehdsi::PS_CLASS, "Patient summary Document");
    w.leaf(
        "title",
        &[],
        str_at(comp, "title").unwrap_or("Patient Summary"),
    );
    let date = str_at(comp, "date")
        .ok_or_else(|| TranslateError::MissingElement("Composition.date".into()))?;
    let when = ts(date).ok_or_else(|| TranslateError::InvalidValue {
        element: "Composition.date".into(),
        reason: "not a FHIR dateTime".into(),
    })?;
    w.empty("effectiveTime", &[("value", &when)]);
    cda::confidentiality(w, str_at(comp, "confidentiality").unwrap_or("N"));
    let lang = str_at(comp, "language")
        .filter(|l| {
            cx.term
                .lookup(
                    "1.3.6.1.4.1.12559.11.10.1.3.1.42.6",
                    "2.16.840.1.113883.6.121",
                    l,
                )
                .is_some()
        })
        .unwrap_or(h.language);
    w.empty("languageCode", &[("code", lang)]);
    patient(w, cx, h);
    let author = arr(comp, "author")
        .first()
        .and_then(|a| h.bundle.resolve(a));
    let author_time = when.clone();
    write_author(w, h, author, &author_time);
    // custodian
    let cust = comp.get("custodian").and_then(|c| h.bundle.resolve(c));
    w.open("custodian", &[]);
    w.open("assignedCustodian", &[]);
    org(w, h, cust, "representedCustodianOrganization", "#custodian");
    w.close("assignedCustodian");
    w.close("custodian");
    // legal authenticator: a legal attester who is a person, else any attesting person, else the author
    let attesters = arr(comp, "attester");
    let pick = attesters
        .iter()
        .filter(|a| str_at(a, "mode") == Some("legal"))
        .chain(attesters.iter())
        .find_map(|a| {
            let party = a.get("party").and_then(|p| h.bundle.resolve(p));
            let (person, organization) = person_and_org(h, party);
            person.map(|p| (p, organization, str_at(a, "time").and_then(ts)))
        })
        .or_else(|| {
            let (person, organization) = person_and_org(h, author);
            person.map(|p| (p, organization, None))
        });
    w.open("legalAuthenticator", &[("typeCode", "LA")]);
    let t = pick
        .as_ref()
        .and_then(|p| p.2.clone())
        .unwrap_or_else(|| when.clone());
    w.empty("time", &[("value", &t)]);
    w.empty("signatureCode", &[("code", "S")]);
    w.open("assignedEntity", &[]);
    assigned_person_parts(
        w,
        h,
        pick.as_ref().map(|p| p.0),
        pick.as_ref().and_then(|p| p.1),
        "#legal",
    );
    w.close("assignedEntity");
    w.close("legalAuthenticator");
    contacts(w, cx, h);
    // documentationOf: the provision of care that the summary covers
    w.open("documentationOf", &[("typeCode", "DOC")]);
    w.open(
        "serviceEvent",
        &[("classCode", "PCPR"), ("moodCode", "EVN")],
    );
    let end = arr(comp, "event")
        .first()
        .and_then(|e| e.get("period"))
        .and_then(|p| str_at(p, "end"))
        .and_then(ts)
        .unwrap_or_else(|| when.clone());
    w.open("effectiveTime", &[]);
    w.empty("high", &[("value", &end)]);
    w.close("effectiveTime");
    w.close("serviceEvent");
    w.close("documentationOf");
    // this pivot is a transformation of the national (IPS) document
    cda::transformed_from(w, &doc_id.0, doc_id.1.as_deref());
    Ok(())
}

/// An identifier as II; systems that are not OIDs get a 2.25 OID derived from their URI.
fn write_ii(w: &mut XmlWriter, ident: Option<&Value>, fallback_seed: &str) {
    let (root, ext) = ii(ident, fallback_seed);
    cda::id(w, &root, ext.as_deref());
}

/// (root, extension) of an identifier; without a usable one, a root derived from `fallback_seed`.
fn ii(ident: Option<&Value>, fallback_seed: &str) -> (String, Option<String>) {
    match ident_root(ident) {
        (Some(r), e) => (r, e),
        (None, _) => (uuid_from(fallback_seed), None),
    }
}

fn ident_root(ident: Option<&Value>) -> (Option<String>, Option<String>) {
    let Some(i) = ident else { return (None, None) };
    let value = str_at(i, "value").map(str::to_string);
    let root = str_at(i, "system").map(oid_for_uri);
    match (root, value) {
        (Some(r), v) => (Some(r), v),
        (None, Some(v)) if v.starts_with("urn:uuid:") => (Some(v[9..].to_string()), None),
        (None, Some(v)) if v.starts_with("urn:oid:") => (Some(v[8..].to_string()), None),
        _ => (None, None),
    }
}

fn oid_for_uri(uri: &str) -> String {
    if let Some(o) = uri.strip_prefix("urn:oid:") {
        return o.to_string();
    }
    // a URI naming an identifier system: a 2.25 (UUID-derived) OID keeps it distinct and stable
    let u = uuid_from(uri).replace('-', "");
    let n = u128::from_str_radix(&u, 16).unwrap_or(0);
    format!("2.25.{n}")
}

/// Contact persons (Patient.contact) as participant IND; PS requires at least one, so with
/// none known a participant with null-flavoured parts says so.
fn contacts(w: &mut XmlWriter, cx: &mut Ctx, h: &Header) {
    let cs = arr(h.patient, "contact");
    for (i, c) in cs.iter().enumerate() {
        let rels: Vec<Src> = arr(c, "relationship")
            .iter()
            .flat_map(|r| codings(cx.term, Some(r)))
            .collect();
        let emergency = rels.iter().any(|r| r.code == "C" || r.code == "ECON");
        let class = if emergency { "ECON" } else { "NOK" };
        let personal: Vec<Src> = rels
            .iter()
            .filter(|r| r.system.as_deref() == Some("2.16.840.1.113883.5.111"))
            .cloned()
            .collect();
        w.open("participant", &[("typeCode", "IND")]);
        w.template("1.3.6.1.4.1.19376.1.5.3.1.2.4");
        w.open("associatedEntity", &[("classCode", class)]);
        if !rels.is_empty() {
            cx.write_cd(
                w,
                "code",
                &[],
                "1.3.6.1.4.1.12559.11.10.1.3.1.42.38",
                if personal.is_empty() {
                    &rels
                } else {
                    &personal
                },
                None,
                &format!("participant[{}]/code", i + 1),
            );
        }
        addr(w, c.get("address"), None);
        telecoms(w, arr(c, "telecom"));
        w.open("associatedPerson", &[]);
        name(w, c.get("name"));
        w.close("associatedPerson");
        w.close("associatedEntity");
        w.close("participant");
    }
    if cs.is_empty() {
        w.open("participant", &[("typeCode", "IND")]);
        w.template("1.3.6.1.4.1.19376.1.5.3.1.2.4");
        w.open("associatedEntity", &[("classCode", "ECON")]);
        w.empty("addr", &[("nullFlavor", "NI")]);
        w.empty("telecom", &[("nullFlavor", "NI")]);
        w.open("associatedPerson", &[]);
        name(w, None);
        w.close("associatedPerson");
        w.close("associatedEntity");
        w.close("participant");
    }
}

fn patient(w: &mut XmlWriter, cx: &mut Ctx, h: &Header) {
    let p = h.patient;
    w.open("recordTarget", &[]);
    w.open("patientRole", &[]);
    let ids = arr(p, "identifier");
    if ids.is_empty() {
        w.empty("id", &[("nullFlavor", "NI")]);
    }
    for i in ids {
        write_ii(w, Some(i), "#patient");
    }
    addr(w, arr(p, "address").first(), None);
    telecoms(w, arr(p, "telecom"));
    w.open("patient", &[]);
    name(w, arr(p, "name").first());
    let gender = match str_at(p, "gender") {
        Some("male") => "M",
        Some("female") => "F",
        _ => "UN",
    };
    cda::gender(w, gender);
    let birth = str_at(p, "birthDate").and_then(ts);
    cda::time_or_unk(w, "birthTime", birth.as_deref());
    for c in arr(p, "communication") {
        let lang: Vec<Src> = codings(cx.term, c.get("language"));
        if let Some(l) = lang.first() {
            w.open("languageCommunication", &[]);
            w.empty("languageCode", &[("code", &l.code)]);
            w.close("languageCommunication");
        }
    }
    w.close("patient");
    w.close("patientRole");
    w.close("recordTarget");
}

fn name(w: &mut XmlWriter, n: Option<&Value>) {
    let Some(n) = n else {
        w.open("name", &[]);
        w.empty("family", &[("nullFlavor", "NI")]);
        w.empty("given", &[("nullFlavor", "NI")]);
        w.close("name");
        return;
    };
    w.open("name", &[]);
    match str_at(n, "family") {
        Some(f) => w.leaf("family", &[], f),
        None => w.empty("family", &[("nullFlavor", "NI")]),
    }
    let given = arr(n, "given");
    if given.is_empty() {
        w.empty("given", &[("nullFlavor", "NI")]);
    }
    for g in given.iter().filter_map(Value::as_str) {
        w.leaf("given", &[], g);
    }
    w.close("name");
}

fn addr(w: &mut XmlWriter, a: Option<&Value>, default_country: Option<&str>) {
    let Some(a) = a else {
        match default_country {
            Some(c) => {
                w.open("addr", &[]);
                w.leaf("country", &[], c);
                w.close("addr");
            }
            None => w.empty("addr", &[("nullFlavor", "NI")]),
        }
        return;
    };
    w.open("addr", &[]);
    for l in arr(a, "line").iter().filter_map(Value::as_str) {
        w.leaf("streetAddressLine", &[], l);
    }
    if let Some(v) = str_at(a, "postalCode") {
        w.leaf("postalCode", &[], v);
    }
    if let Some(v) = str_at(a, "city") {
        w.leaf("city", &[], v);
    }
    if let Some(v) = str_at(a, "country").or(default_country) {
        w.leaf("country", &[], v);
    }
    w.close("addr");
}

fn telecoms(w: &mut XmlWriter, ts: &[Value]) {
    let mut n = 0;
    for t in ts {
        let Some(v) = str_at(t, "value") else {
            continue;
        };
        let scheme = match str_at(t, "system") {
            Some("email") => "mailto:",
            Some("fax") => "fax:",
            Some("url") => "",
            _ => "tel:",
        };
        let v = v.trim();
        let value = if v.contains(':') {
            v.to_string()
        } else {
            format!("{scheme}{}", v.replace(' ', ""))
        };
        let use_ = match str_at(t, "use") {
            Some("home") => Some("H"),
            Some("work") => Some("WP"),
            Some("mobile") => Some("MC"),
            _ => None,
        };
        match use_ {
            Some(u) => w.empty("telecom", &[("value", &value), ("use", u)]),
            None => w.empty("telecom", &[("value", &value)]),
        }
        n += 1;
    }
    if n == 0 {
        w.empty("telecom", &[("nullFlavor", "NI")]);
    }
}

/// Splits a party (Practitioner, PractitionerRole or Organization) into person and organization.
fn person_and_org<'a>(
    h: &Header<'a>,
    party: Option<&'a Value>,
) -> (Option<&'a Value>, Option<&'a Value>) {
    let Some(p) = party else { return (None, None) };
    match str_at(p, "resourceType") {
        Some("Practitioner") => (Some(p), None),
        Some("PractitionerRole") => (
            p.get("practitioner").and_then(|r| h.bundle.resolve(r)),
            p.get("organization").and_then(|r| h.bundle.resolve(r)),
        ),
        Some("Organization") => (None, Some(p)),
        _ => (None, None),
    }
}

fn write_author(w: &mut XmlWriter, h: &Header, author: Option<&Value>, time: &str) {
    let (person, mut organization) = person_and_org(h, author);
    if organization.is_none() {
        organization = h.comp.get("custodian").and_then(|c| h.bundle.resolve(c));
    }
    w.open("author", &[]);
    w.empty("time", &[("value", time)]);
    w.open("assignedAuthor", &[]);
    if person.is_some() {
        assigned_person_parts(w, h, person, organization, "#author");
    } else {
        // an organization as author: the system that produced the summary on its behalf
        write_ii(
            w,
            organization.and_then(|o| arr(o, "identifier").first()),
            "#author",
        );
        addr(
            w,
            organization.and_then(|o| arr(o, "address").first()),
            Some(h.country),
        );
        telecoms(w, organization.map(|o| arr(o, "telecom")).unwrap_or(&[]));
        w.open("assignedAuthoringDevice", &[]);
        w.leaf("softwareName", &[], "ncpeh");
        w.close("assignedAuthoringDevice");
        org(w, h, organization, "representedOrganization", "#author-org");
    }
    w.close("assignedAuthor");
    w.close("author");
}

/// id, addr, telecom, assignedPerson and representedOrganization of an assigned entity.
fn assigned_person_parts(
    w: &mut XmlWriter,
    h: &Header,
    person: Option<&Value>,
    organization: Option<&Value>,
    seed: &str,
) {
    let p = person;
    write_ii(
        w,
        p.and_then(|p| arr(p, "identifier").first()),
        &format!("{}{seed}", h.seed),
    );
    let a = p.and_then(|p| arr(p, "address").first());
    let a = a.or_else(|| organization.and_then(|o| arr(o, "address").first()));
    addr(w, a, Some(h.country));
    let t = p.map(|p| arr(p, "telecom")).filter(|t| !t.is_empty());
    let t = t
        .or_else(|| organization.map(|o| arr(o, "telecom")))
        .unwrap_or(&[]);
    telecoms(w, t);
    w.open("assignedPerson", &[]);
    name(w, p.and_then(|p| arr(p, "name").first()));
    w.close("assignedPerson");
    let organization =
        organization.or_else(|| h.comp.get("custodian").and_then(|c| h.bundle.resolve(c)));
    org(
        w,
        h,
        organization,
        "representedOrganization",
        &format!("{seed}-org"),
    );
}

fn org(w: &mut XmlWriter, h: &Header, o: Option<&Value>, elem: &str, seed: &str) {
    w.open(elem, &[]);
    write_ii(
        w,
        o.and_then(|o| arr(o, "identifier").first()),
        &format!("{}{seed}", h.seed),
    );
    match o.and_then(|o| str_at(o, "name")) {
        Some(n) => w.leaf("name", &[], n),
        None => w.empty("name", &[("nullFlavor", "NI")]),
    }
    telecoms(w, o.map(|o| arr(o, "telecom")).unwrap_or(&[]));
    addr(
        w,
        o.and_then(|o| arr(o, "address").first()),
        Some(h.country),
    );
    w.close(elem);
}

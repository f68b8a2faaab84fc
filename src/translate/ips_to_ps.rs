//! FHIR IPS document Bundle -> eHDSI Patient Summary pivot CDA L3 (templateId ...1.1.3).
//! The header comes from Composition/Patient/author/custodian; each Composition section is placed
//! by its LOINC code, its entries written with the PS entry templates and a generated narrative.
//! The five sections PS requires are always present, with the IPS absent/unknown form when empty.

use serde_json::Value;

use super::coded::{Ctx, Src};
use super::fhir::{arr, str_at, ts, Bundle};
use super::ps_entries::{self, Section};
use super::terminology::{vs, Terminology};
use super::xmlw::XmlW;
use super::{TranslateError, Translated, WarningKind};

pub const PS_TEMPLATE: &str = "1.3.6.1.4.1.12559.11.10.1.3.1.1.3";
pub const PS_L1_TEMPLATE: &str = "1.3.6.1.4.1.12559.11.10.1.3.1.1.7";

#[derive(Debug, Clone)]
pub struct PsOptions {
    /// Also produce the L1 (PDF) variant.
    pub l1: bool,
    /// languageCode of the document when the Composition has none (or one outside eHDSILanguage).
    pub language: String,
    /// Country of the custodian/author addresses when the source has none (ISO 3166 alpha-2).
    pub country: String,
}

impl Default for PsOptions {
    fn default() -> Self {
        PsOptions {
            l1: false,
            language: "en-GB".into(),
            country: "NO".into(),
        }
    }
}

/// Kinds of PS sections, keyed by LOINC code. (code, section templateIds, title)
pub(crate) const SECTIONS: &[(&str, &[&str], &str)] = &[
    (
        "10160-0",
        &[
            "1.3.6.1.4.1.12559.11.10.1.3.1.2.3",
            "2.16.840.1.113883.10.20.1.8",
        ],
        "History of Medication use",
    ),
    (
        "48765-2",
        &["1.3.6.1.4.1.12559.11.10.1.3.1.2.12"],
        "Allergies and adverse reactions",
    ),
    (
        "47519-4",
        &["1.3.6.1.4.1.12559.11.10.1.3.1.2.11"],
        "History of Procedures",
    ),
    (
        "11450-4",
        &[
            "1.3.6.1.4.1.12559.11.10.1.3.1.2.9",
            "2.16.840.1.113883.10.20.1.11",
        ],
        "Problem list",
    ),
    (
        "46264-8",
        &[
            "1.3.6.1.4.1.12559.11.10.1.3.1.2.4",
            "2.16.840.1.113883.10.20.1.7",
        ],
        "History of medical device use",
    ),
    (
        "11348-0",
        &["1.3.6.1.4.1.12559.11.10.1.3.1.2.10"],
        "History of past illness",
    ),
    (
        "11369-6",
        &[
            "1.3.6.1.4.1.12559.11.10.1.3.1.2.15",
            "2.16.840.1.113883.10.20.1.6",
        ],
        "History of immunization",
    ),
    (
        "10162-6",
        &["1.3.6.1.4.1.12559.11.10.1.3.1.2.7"],
        "History of pregnancies",
    ),
    (
        "29762-2",
        &[
            "1.3.6.1.4.1.12559.11.10.1.3.1.2.13",
            "2.16.840.1.113883.10.20.1.15",
        ],
        "Social history",
    ),
    (
        "8716-3",
        &["1.3.6.1.4.1.12559.11.10.1.3.1.2.6"],
        "Physical findings",
    ),
    (
        "30954-2",
        &["1.3.6.1.4.1.12559.11.10.1.3.1.2.5"],
        "Relevant diagnostic tests/laboratory data",
    ),
    (
        "18776-5",
        &["1.3.6.1.4.1.12559.11.10.1.3.1.2.8"],
        "Plan of care",
    ),
    (
        "47420-5",
        &["1.3.6.1.4.1.12559.11.10.1.3.1.2.14"],
        "Functional status assessment",
    ),
    (
        "42348-3",
        &["1.3.6.1.4.1.12559.11.10.1.3.1.2.16"],
        "Advance directives",
    ),
];
/// Sections PS requires (medication, allergies, procedures, problems, devices).
const REQUIRED: &[&str] = &["10160-0", "48765-2", "47519-4", "11450-4", "46264-8"];
/// IPS vital signs section: carried in PS physical findings.
const VITAL_SIGNS: &str = "8716-3";

/// Translates an IPS document Bundle (JSON) to a PS pivot CDA.
pub fn ips_to_ps(
    json: &[u8],
    term: &Terminology,
    opts: &PsOptions,
) -> Result<Translated, TranslateError> {
    if json.len() > super::MAX_INPUT {
        return Err(TranslateError::TooLarge(format!(
            "more than {} bytes",
            super::MAX_INPUT
        )));
    }
    let root: Value =
        serde_json::from_slice(json).map_err(|e| TranslateError::NotJson(e.to_string()))?;
    let bundle = Bundle::index(&root)?;
    let comp = bundle.composition;
    let patient = comp
        .get("subject")
        .and_then(|s| bundle.resolve(s))
        .filter(|p| str_at(p, "resourceType") == Some("Patient"))
        .ok_or_else(|| {
            TranslateError::MissingElement("Composition.subject (a Patient in the Bundle)".into())
        })?;
    let mut cx = Ctx::new(term);
    let seed = str_at(&root, "id")
        .or_else(|| str_at(comp, "id"))
        .unwrap_or("ips")
        .to_string();
    let mut w = XmlW::new();
    let hdr = header::Header {
        bundle: &bundle,
        comp,
        patient,
        opts,
        seed: &seed,
    };
    header::write_header(&mut w, &mut cx, &hdr, PS_TEMPLATE)?;

    // sections by kind, in PS order; sections without a PS template are noted and carried as narrative
    let mut found: Vec<(usize, &Value)> = Vec::new();
    let mut extra_narrative: Vec<String> = Vec::new();
    for s in arr(comp, "section") {
        let code = super::fhir::cc_code(s.get("code")).unwrap_or("");
        let code = if code == "8716-3" || code == VITAL_SIGNS {
            "8716-3"
        } else {
            code
        };
        match SECTIONS.iter().position(|(c, _, _)| *c == code) {
            Some(i) => found.push((i, s)),
            None => {
                cx.warn(
                    WarningKind::SectionWithoutTemplate,
                    "structuredBody",
                    format!("section LOINC {code} has no PS template; its text is kept in the plan of care section"),
                );
                extra_narrative.push(section_plain_text(s));
            }
        }
    }
    w.open("component", &[]);
    w.open("structuredBody", &[]);
    let mut counter = 0usize;
    for (i, (code, tids, title)) in SECTIONS.iter().enumerate() {
        let mine: Vec<&Value> = found
            .iter()
            .filter(|(k, _)| *k == i)
            .map(|(_, s)| *s)
            .collect();
        let has_extra = *code == "18776-5" && !extra_narrative.is_empty();
        if mine.is_empty() && !REQUIRED.contains(code) && !has_extra {
            continue;
        }
        let mut sec = Section::new(code, &seed, i);
        for s in &mine {
            for e in arr(s, "entry") {
                let Some(res) = bundle.resolve(e) else {
                    cx.warn(
                        WarningKind::Dropped,
                        code,
                        "an entry reference does not resolve in the Bundle".into(),
                    );
                    continue;
                };
                counter += 1;
                ps_entries::write_entry(&mut cx, &bundle, &mut sec, res, counter);
            }
        }
        if has_extra {
            for t in &extra_narrative {
                sec.narrative_line(t);
            }
        }
        if sec.entries.is_empty() && REQUIRED.contains(code) {
            let reason = mine
                .iter()
                .find_map(|s| super::fhir::cc_code(s.get("emptyReason")));
            ps_entries::write_absent(&mut sec, code, reason);
        }
        sec.write(&mut w, tids, title);
    }
    w.close("structuredBody");
    w.close("component");
    w.close("ClinicalDocument");

    let l1_xml = if opts.l1 {
        let mut lines = patient_lines(patient, comp);
        lines.extend(hdr_l1_text(&w.s));
        Some(super::pdf::l1_document(&w.s, &lines, PS_L1_TEMPLATE)?)
    } else {
        None
    };
    Ok(Translated {
        xml: w.s,
        l1_xml,
        warnings: cx.warnings,
    })
}

/// Identification lines at the top of the L1 rendering.
fn patient_lines(p: &Value, comp: &Value) -> Vec<String> {
    let mut out = vec!["PATIENT SUMMARY".to_string()];
    if let Some(n) = arr(p, "name").first() {
        let given: Vec<&str> = arr(n, "given").iter().filter_map(Value::as_str).collect();
        out.push(format!(
            "Patient: {} {}",
            given.join(" "),
            str_at(n, "family").unwrap_or("")
        ));
    }
    if let Some(b) = str_at(p, "birthDate") {
        out.push(format!("Date of birth: {b}"));
    }
    if let Some(g) = str_at(p, "gender") {
        out.push(format!("Gender: {g}"));
    }
    for i in arr(p, "identifier") {
        out.push(format!(
            "Identifier: {} ({})",
            str_at(i, "value").unwrap_or(""),
            str_at(i, "system").unwrap_or("")
        ));
    }
    if let Some(d) = str_at(comp, "date") {
        out.push(format!("Document date: {d}"));
    }
    out
}

fn hdr_l1_text(xml: &str) -> Vec<String> {
    super::pdf::narrative_lines(xml)
}

fn section_plain_text(s: &Value) -> String {
    let title = str_at(s, "title").unwrap_or("Section");
    let div = s.get("text").and_then(|t| str_at(t, "div")).unwrap_or("");
    let mut text = String::new();
    let mut in_tag = false;
    for c in div.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text: Vec<&str> = text.split_whitespace().collect();
    format!("{title}: {}", text.join(" "))
}

pub(crate) mod header {
    use super::*;

    pub struct Header<'a> {
        pub bundle: &'a Bundle<'a>,
        pub comp: &'a Value,
        pub patient: &'a Value,
        pub opts: &'a PsOptions,
        pub seed: &'a str,
    }

    pub fn write_header(
        w: &mut XmlW,
        cx: &mut Ctx,
        h: &Header,
        template: &str,
    ) -> Result<(), TranslateError> {
        let comp = h.comp;
        w.open(
            "ClinicalDocument",
            &[
                ("xmlns", "urn:hl7-org:v3"),
                ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
                ("xmlns:pharm", "urn:hl7-org:pharm"),
            ],
        );
        w.empty(
            "typeId",
            &[
                ("root", "2.16.840.1.113883.1.3"),
                ("extension", "POCD_HD000040"),
            ],
        );
        w.template(template);
        write_ii(w, comp.get("identifier"), &format!("{}#doc", h.seed));
        w.empty(
            "code",
            &[
                ("code", "60591-5"),
                ("codeSystem", vs::LOINC),
                ("codeSystemName", "LOINC"),
                ("displayName", "Patient summary Document"),
            ],
        );
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
        let conf = str_at(comp, "confidentiality")
            .filter(|c| matches!(*c, "N" | "R" | "V"))
            .unwrap_or("N");
        let conf_name = match conf {
            "R" => "restricted",
            "V" => "very restricted",
            _ => "normal",
        };
        w.empty(
            "confidentialityCode",
            &[
                ("code", conf),
                ("codeSystem", "2.16.840.1.113883.5.25"),
                ("displayName", conf_name),
            ],
        );
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
            .unwrap_or(&h.opts.language);
        w.empty("languageCode", &[("code", lang)]);
        patient(w, cx, h);
        let author = arr(comp, "author")
            .first()
            .and_then(|a| h.bundle.resolve(a));
        let author_time = when.clone();
        write_author(w, cx, h, author, &author_time);
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
        // relatedDocument XFRM: this pivot is a transformation of the national (IPS) document
        w.open("relatedDocument", &[("typeCode", "XFRM")]);
        w.open("parentDocument", &[]);
        write_ii(w, comp.get("identifier"), &format!("{}#doc", h.seed));
        w.close("parentDocument");
        w.close("relatedDocument");
        Ok(())
    }

    /// An identifier as II; systems that are not OIDs get a 2.25 OID derived from their URI.
    pub fn write_ii(w: &mut XmlW, ident: Option<&Value>, fallback_seed: &str) {
        let (root, ext) = ident_root(ident);
        match (root, ext) {
            (Some(r), Some(e)) => w.empty("id", &[("root", &r), ("extension", &e)]),
            (Some(r), None) => w.empty("id", &[("root", &r)]),
            _ => w.empty(
                "id",
                &[("root", &super::super::ps_entries::uuid_from(fallback_seed))],
            ),
        }
    }

    pub fn ident_root(ident: Option<&Value>) -> (Option<String>, Option<String>) {
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

    pub fn oid_for_uri(uri: &str) -> String {
        if let Some(o) = uri.strip_prefix("urn:oid:") {
            return o.to_string();
        }
        // a URI naming an identifier system: a 2.25 (UUID-derived) OID keeps it distinct and stable
        let u = super::super::ps_entries::uuid_from(uri).replace('-', "");
        let n = u128::from_str_radix(&u, 16).unwrap_or(0);
        format!("2.25.{n}")
    }

    /// Contact persons (Patient.contact) as participant IND; PS requires at least one, so with
    /// none known a participant with null-flavoured parts says so.
    fn contacts(w: &mut XmlW, cx: &mut Ctx, h: &Header) {
        let cs = arr(h.patient, "contact");
        for (i, c) in cs.iter().enumerate() {
            let rels: Vec<Src> = arr(c, "relationship")
                .iter()
                .flat_map(|r| super::super::fhir::codings(cx.term, Some(r)))
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

    fn patient(w: &mut XmlW, cx: &mut Ctx, h: &Header) {
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
        let (g, gd) = match str_at(p, "gender") {
            Some("male") => ("M", "Male"),
            Some("female") => ("F", "Female"),
            _ => ("UN", "Undifferentiated"),
        };
        w.empty(
            "administrativeGenderCode",
            &[
                ("code", g),
                ("codeSystem", "2.16.840.1.113883.5.1"),
                ("displayName", gd),
            ],
        );
        match str_at(p, "birthDate").and_then(ts) {
            Some(b) => w.empty("birthTime", &[("value", &b)]),
            None => w.empty("birthTime", &[("nullFlavor", "UNK")]),
        }
        for c in arr(p, "communication") {
            let lang: Vec<Src> = super::super::fhir::codings(cx.term, c.get("language"));
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

    pub fn name(w: &mut XmlW, n: Option<&Value>) {
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

    pub fn addr(w: &mut XmlW, a: Option<&Value>, default_country: Option<&str>) {
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

    pub fn telecoms(w: &mut XmlW, ts: &[Value]) {
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
    pub fn person_and_org<'a>(
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

    fn write_author(w: &mut XmlW, _cx: &mut Ctx, h: &Header, author: Option<&Value>, time: &str) {
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
                Some(&h.opts.country),
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
    pub fn assigned_person_parts(
        w: &mut XmlW,
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
        addr(w, a, Some(&h.opts.country));
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

    pub fn org(w: &mut XmlW, h: &Header, o: Option<&Value>, elem: &str, seed: &str) {
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
            Some(&h.opts.country),
        );
        w.close(elem);
    }
}

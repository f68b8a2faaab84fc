//! e-resept M1 (KITH XML inside MsgHead) -> eHDSI ePrescription pivot CDA L3 (templateId ...1.1.1),
//! one document per prescription, with the XDS eventCodeList values that go with it.
//! Product parts use the HL7 pharmacy extension namespace (urn:hl7-org:pharm) that both the eP
//! schematron and the shared XSD read.

use super::coded::{Ctx, Src};
use super::parse_xml;
use super::cda::uuid_from;
use super::terminology::Terminology;
use super::{TranslateError, TranslationWarning, WarningKind};
use crate::ids::oid;
use crate::xml::Element;
use crate::xml::XmlWriter;

pub const EP_TEMPLATE: &str = "1.3.6.1.4.1.12559.11.10.1.3.1.1.1";
const MSGHEAD: &str = "http://www.kith.no/xmlstds/msghead/2006-05-24";
const M1: &str = "http://www.kith.no/xmlstds/eresept/m1/2013-10-08";
const FORSKR: &str = "http://www.kith.no/xmlstds/eresept/forskrivning/2013-10-08";
const V9060: &str = "2.16.578.1.12.4.1.1.9060";
const V7477: &str = "2.16.578.1.12.4.1.1.7477";
const V7452: &str = "2.16.578.1.12.4.1.1.7452";

#[derive(Debug, Clone)]
pub struct EpOptions {
    /// Country of addresses that carry none (ISO 3166 alpha-2).
    pub country: String,
    /// languageCode of the produced documents.
    pub language: String,
}

impl Default for EpOptions {
    fn default() -> Self {
        EpOptions {
            country: "NO".into(),
            language: "nb-NO".into(),
        }
    }
}

/// One eP pivot document and the XDS metadata values that belong with it.
#[derive(Debug, Clone)]
pub struct TranslatedEp {
    pub xml: String,
    /// The Norwegian prescription id (ReseptId = the M1 message id).
    pub prescription_id: String,
    /// eventCodeList entries: (codeSystem OID, code, display) - open/closed state, ATC, dose form.
    pub event_codes: Vec<(String, String, String)>,
    pub warnings: Vec<TranslationWarning>,
}

fn txt(el: Option<&Element>) -> Option<&str> {
    el.and_then(Element::value_text)
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// A Volven-coded element (V, S, DN) as a source code; `default_system` when S is absent.
fn volven(el: Option<&Element>, default_system: Option<&str>) -> Vec<Src> {
    let Some(el) = el else { return Vec::new() };
    let Some(code) = el.attr("V") else {
        return Vec::new();
    };
    let system = el.attr("S").or(default_system).map(str::to_string);
    vec![Src {
        system,
        code: code.to_string(),
        display: el.attr("DN").map(str::to_string),
    }]
}

/// `2019-07-16+02:00` / `2019-07-16T14:25:01.52+02:00` -> HL7 TS (a date keeps no zone).
fn kith_ts(s: &str) -> Option<String> {
    let s = s.trim();
    if s.contains('T') {
        return super::fhir::ts(s);
    }
    super::fhir::ts(s.get(..10).unwrap_or(s))
}

/// Birth date from a fødselsnummer or D-nummer (the individual number fixes the century).
pub fn birth_from_fnr(id: &str) -> Option<String> {
    if id.len() != 11 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let d: u32 = id[0..2].parse().ok()?;
    let d = if d > 40 { d - 40 } else { d }; // D-nummer
    let m: u32 = id[2..4].parse().ok()?;
    let yy: u32 = id[4..6].parse().ok()?;
    let ind: u32 = id[6..9].parse().ok()?;
    let century = match ind {
        0..=499 => 1900,
        500..=749 if yy >= 54 => 1800,
        500..=999 if yy <= 39 => 2000,
        900..=999 if yy >= 40 => 1900,
        _ => return None,
    };
    if !(1..=31).contains(&d) || !(1..=12).contains(&m) {
        return None;
    }
    Some(format!("{:04}{:02}{:02}", century + yy, m, d))
}

/// Translates an M1 message to one eP pivot CDA per prescription it holds.
pub fn eresept_to_ep(
    xml: &[u8],
    term: &Terminology,
    opts: &EpOptions,
) -> Result<Vec<TranslatedEp>, TranslateError> {
    let root = parse_xml(xml)?;
    if !root.is(MSGHEAD, "MsgHead") {
        return Err(TranslateError::WrongDocument {
            expected: "KITH MsgHead",
            found: format!("{{{}}}{}", root.ns.as_deref().unwrap_or(""), root.name),
        });
    }
    let info = root
        .child(MSGHEAD, "MsgInfo")
        .ok_or_else(|| TranslateError::MissingElement("MsgHead/MsgInfo".into()))?;
    let msg_id = txt(info.child(MSGHEAD, "MsgId"))
        .ok_or_else(|| TranslateError::MissingElement("MsgHead/MsgInfo/MsgId".into()))?;
    let patient = info
        .child(MSGHEAD, "Patient")
        .ok_or_else(|| TranslateError::MissingElement("MsgHead/MsgInfo/Patient".into()))?;
    let sender_org = info
        .path(MSGHEAD, &["Sender", "Organisation"])
        .ok_or_else(|| {
            TranslateError::MissingElement("MsgHead/MsgInfo/Sender/Organisation".into())
        })?;
    let hcp = sender_org.child(MSGHEAD, "HealthcareProfessional");
    let resepter = root.descendants_named(M1, "Resept");
    if resepter.is_empty() {
        return Err(TranslateError::MissingElement(
            "Resept (m1/2013-10-08) in MsgHead/Document/RefDoc/Content".into(),
        ));
    }
    let many = resepter.len() > 1;
    let mut out = Vec::new();
    for (i, resept) in resepter.iter().enumerate() {
        let id = if many {
            format!("{msg_id}-{}", i + 1)
        } else {
            msg_id.to_string()
        };
        out.push(one(
            term, opts, info, patient, sender_org, hcp, resept, &id,
        )?);
    }
    Ok(out)
}

fn id_root(type_v: &str) -> Option<&'static str> {
    match type_v {
        "FNR" => Some(oid::FNR),
        "DNR" => Some(oid::DNR),
        "HPR" => Some(oid::HPR),
        "ENH" => Some(oid::ORGNR),
        "HER" => Some(oid::HER),
        "RSH" => Some(oid::RESH),
        _ => None,
    }
}

/// One `<id>`: the first Ident of a known type in order of preference (CDA allows one here).
fn idents(w: &mut XmlWriter, el: &Element, ns: &str) -> usize {
    let mut found: Vec<(usize, &'static str, String)> = Vec::new();
    let pref = ["FNR", "DNR", "HPR", "ENH", "HER", "RSH"];
    for ident in el.children_named(ns, "Ident") {
        let (Some(id), Some(t)) = (
            txt(ident.child(ns, "Id")),
            ident.child(ns, "TypeId").and_then(|t| t.attr("V")),
        ) else {
            continue;
        };
        if let (Some(root), Some(rank)) = (id_root(t), pref.iter().position(|p| *p == t)) {
            if id != "0" {
                found.push((rank, root, id.to_string()));
            }
        }
    }
    found.sort_by_key(|f| f.0);
    match found.first() {
        Some((_, root, id)) => {
            w.empty("id", &[("root", root), ("extension", id)]);
            1
        }
        None => 0,
    }
}

#[allow(dead_code)]
fn all_idents(w: &mut XmlWriter, el: &Element, ns: &str) -> usize {
    let mut n = 0;
    for ident in el.children_named(ns, "Ident") {
        let (Some(id), Some(t)) = (
            txt(ident.child(ns, "Id")),
            ident.child(ns, "TypeId").and_then(|t| t.attr("V")),
        ) else {
            continue;
        };
        if let Some(root) = id_root(t) {
            if id == "0" {
                continue; // an unset RESH/HER number
            }
            w.empty("id", &[("root", root), ("extension", id)]);
            n += 1;
        }
    }
    n
}

fn addr(w: &mut XmlWriter, a: Option<&Element>, ns: &str, country: &str) {
    w.open("addr", &[]);
    if let Some(a) = a {
        if let Some(v) = txt(a.child(ns, "StreetAdr")) {
            w.leaf("streetAddressLine", &[], v);
        }
        if let Some(v) = txt(a.child(ns, "PostalCode")) {
            w.leaf("postalCode", &[], v);
        }
        if let Some(v) = txt(a.child(ns, "City")) {
            w.leaf("city", &[], v);
        }
    }
    w.leaf("country", &[], country);
    w.close("addr");
}

fn telecoms(w: &mut XmlWriter, el: Option<&Element>, ns: &str) {
    let mut n = 0;
    if let Some(el) = el {
        for t in el.children_named(ns, "TeleCom") {
            if let Some(v) = t.child(ns, "TeleAddress").and_then(|a| a.attr("V")) {
                w.empty("telecom", &[("value", v), ("use", "WP")]);
                n += 1;
            }
        }
    }
    if n == 0 {
        w.empty("telecom", &[("nullFlavor", "NI")]);
    }
}

fn person_name(w: &mut XmlWriter, el: Option<&Element>, ns: &str) {
    w.open("name", &[]);
    match el.and_then(|e| txt(e.child(ns, "FamilyName"))) {
        Some(f) => w.leaf("family", &[], f),
        None => w.empty("family", &[("nullFlavor", "NI")]),
    }
    match el.and_then(|e| txt(e.child(ns, "GivenName"))) {
        Some(g) => {
            for part in g.split_whitespace() {
                w.leaf("given", &[], part);
            }
        }
        None => w.empty("given", &[("nullFlavor", "NI")]),
    }
    w.close("name");
}

fn organisation(w: &mut XmlWriter, elem: &str, org: &Element, country: &str, seed: &str) {
    w.open(elem, &[]);
    if idents(w, org, MSGHEAD) == 0 {
        w.empty("id", &[("root", &uuid_from(seed))]);
    }
    match txt(org.child(MSGHEAD, "OrganisationName")) {
        Some(n) => w.leaf("name", &[], n),
        None => w.empty("name", &[("nullFlavor", "NI")]),
    }
    telecoms(w, Some(org), MSGHEAD);
    addr(w, org.child(MSGHEAD, "Address"), MSGHEAD, country);
    w.close(elem);
}

/// id, functionCode-less parts of the prescriber: id, addr, telecom, assignedPerson, organization.
fn prescriber_parts(
    w: &mut XmlWriter,
    org: &Element,
    hcp: Option<&Element>,
    country: &str,
    seed: &str,
) {
    let written = hcp.map(|h| idents(w, h, MSGHEAD)).unwrap_or(0);
    if written == 0 {
        w.empty("id", &[("nullFlavor", "NI")]);
    }
    addr(
        w,
        hcp.and_then(|h| h.child(MSGHEAD, "Address"))
            .or(org.child(MSGHEAD, "Address")),
        MSGHEAD,
        country,
    );
    telecoms(w, Some(org), MSGHEAD);
    w.open("assignedPerson", &[]);
    person_name(w, hcp, MSGHEAD);
    w.close("assignedPerson");
    organisation(w, "representedOrganization", org, country, seed);
}

#[allow(clippy::too_many_arguments)]
fn one(
    term: &Terminology,
    opts: &EpOptions,
    info: &Element,
    patient: &Element,
    org: &Element,
    hcp: Option<&Element>,
    resept: &Element,
    rid: &str,
) -> Result<TranslatedEp, TranslateError> {
    let mut cx = Ctx::new(term);
    let c = opts.country.as_str();
    let dok = resept
        .child(M1, "ReseptDokLegemiddel")
        .ok_or_else(|| TranslateError::MissingElement("Resept/ReseptDokLegemiddel".into()))?;
    let forskr = dok
        .child(FORSKR, "Forskrivning")
        .ok_or_else(|| TranslateError::MissingElement("ReseptDokLegemiddel/Forskrivning".into()))?;
    let written = txt(resept.child(M1, "Forskrivningsdato"))
        .ok_or_else(|| TranslateError::MissingElement("Resept/Forskrivningsdato".into()))?;
    let written_ts = kith_ts(written).ok_or_else(|| TranslateError::InvalidValue {
        element: "Resept/Forskrivningsdato".into(),
        reason: "not a date".into(),
    })?;
    let gen = txt(info.child(MSGHEAD, "GenDate"))
        .and_then(kith_ts)
        .unwrap_or_else(|| written_ts.clone());
    let doc_root = uuid_from(&format!("ep#{rid}"));
    let rx_root = if rid.len() == 36 {
        rid.to_uppercase()
    } else {
        uuid_from(rid)
    };

    let mut w = XmlWriter::new();
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
    w.template(EP_TEMPLATE);
    w.empty("id", &[("root", &doc_root)]);
    w.empty(
        "code",
        &[
            ("code", "57833-6"),
            ("codeSystem", oid::LOINC),
            ("codeSystemName", "LOINC"),
            ("displayName", "Prescription for medication"),
        ],
    );
    w.leaf("title", &[], "ePrescription");
    w.empty("effectiveTime", &[("value", &gen)]);
    w.empty(
        "confidentialityCode",
        &[
            ("code", "N"),
            ("codeSystem", "2.16.840.1.113883.5.25"),
            ("displayName", "normal"),
        ],
    );
    w.empty("languageCode", &[("code", &opts.language)]);
    // patient
    w.open("recordTarget", &[]);
    w.open("patientRole", &[]);
    let mut fnr = None;
    for ident in patient.children_named(MSGHEAD, "Ident") {
        if let (Some(id), Some(t)) = (
            txt(ident.child(MSGHEAD, "Id")),
            ident.child(MSGHEAD, "TypeId").and_then(|t| t.attr("V")),
        ) {
            if matches!(t, "FNR" | "DNR") {
                fnr = Some(id);
            }
        }
    }
    if idents(&mut w, patient, MSGHEAD) == 0 {
        return Err(TranslateError::MissingElement(
            "MsgInfo/Patient/Ident (fødselsnummer or D-nummer)".into(),
        ));
    }
    addr(&mut w, patient.child(MSGHEAD, "Address"), MSGHEAD, c);
    w.empty("telecom", &[("nullFlavor", "NI")]);
    w.open("patient", &[]);
    person_name(&mut w, Some(patient), MSGHEAD);
    let (g, gd) = match patient.child(MSGHEAD, "Sex").and_then(|s| s.attr("V")) {
        Some("1") => ("M", "Male"),
        Some("2") => ("F", "Female"),
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
    match fnr.and_then(birth_from_fnr) {
        Some(b) => w.empty("birthTime", &[("value", &b)]),
        None => w.empty("birthTime", &[("nullFlavor", "UNK")]),
    }
    w.close("patient");
    w.close("patientRole");
    w.close("recordTarget");
    // author: the prescriber
    write_prescriber(&mut w, &mut cx, "author", org, hcp, c, &written_ts, rid);
    w.open("custodian", &[]);
    w.open("assignedCustodian", &[]);
    organisation(
        &mut w,
        "representedCustodianOrganization",
        org,
        c,
        &format!("{rid}#org"),
    );
    w.close("assignedCustodian");
    w.close("custodian");
    w.open("legalAuthenticator", &[("typeCode", "LA")]);
    w.empty("time", &[("value", &written_ts)]);
    w.empty("signatureCode", &[("code", "S")]);
    w.open("assignedEntity", &[]);
    prescriber_parts(&mut w, org, hcp, c, &format!("{rid}#org"));
    w.close("assignedEntity");
    w.close("legalAuthenticator");
    w.open("relatedDocument", &[("typeCode", "XFRM")]);
    w.open("parentDocument", &[]);
    w.empty("id", &[("root", &rx_root)]);
    w.close("parentDocument");
    w.close("relatedDocument");

    let body = super::ep_body::Body {
        dok,
        forskr,
        rid,
        rx_root: &rx_root,
        written: &written_ts,
        country: c,
        org,
        hcp,
    };
    let event_codes = super::ep_body::write_body(&mut w, &mut cx, &body);
    w.close("ClinicalDocument");
    Ok(TranslatedEp {
        xml: w.s,
        prescription_id: rid.to_string(),
        event_codes,
        warnings: cx.warnings,
    })
}

/// author (document or entry level) for the prescriber, with the ISCO function from the HPR category.
#[allow(clippy::too_many_arguments)]
pub(crate) fn write_prescriber(
    w: &mut XmlWriter,
    cx: &mut Ctx,
    elem: &str,
    org: &Element,
    hcp: Option<&Element>,
    country: &str,
    time: &str,
    rid: &str,
) {
    w.open(elem, &[]);
    let mut cat = volven(
        hcp.and_then(|h| h.child(MSGHEAD, "TypeHealthcareProfessional")),
        Some(V9060),
    );
    if cat.is_empty() {
        // eP requires a coded function; with no HPR category the broadest true one is used
        cat.push(Src::new(
            "2.16.840.1.113883.2.9.6.2.7",
            "22",
            Some("Health professionals"),
        ));
        if elem == "author"
            && !cx
                .warnings
                .iter()
                .any(|w| w.element == "author/functionCode")
        {
            cx.warn(
                WarningKind::Dropped,
                "author/functionCode",
                "prescriber category absent; ISCO 22 Health professionals used".into(),
            );
        }
    }
    cx.write_cd(
        w,
        "functionCode",
        &[],
        "1.3.6.1.4.1.12559.11.10.1.3.1.42.1",
        &cat,
        None,
        "author/functionCode",
    );
    w.empty("time", &[("value", time)]);
    w.open("assignedAuthor", &[]);
    prescriber_parts(w, org, hcp, country, &format!("{rid}#org"));
    w.close("assignedAuthor");
    w.close(elem);
}

pub(crate) fn src_volven(el: Option<&Element>, default_system: Option<&str>) -> Vec<Src> {
    volven(el, default_system)
}

pub(crate) fn text_of(el: Option<&Element>) -> Option<&str> {
    txt(el)
}

pub(crate) const NS_FORSKR: &str = FORSKR;
pub(crate) const NS_M1: &str = M1;
pub(crate) const VOLVEN_ROUTE: &str = V7477;
pub(crate) const VOLVEN_UNIT: &str = V7452;

pub(crate) fn warn_uncoded(cx: &mut Ctx, path: &str, what: &str) {
    cx.warn(
        WarningKind::NoMapping,
        path,
        format!("{what} has no code in the source; sent as text"),
    );
}

#[cfg(test)]
mod tests {
    use super::birth_from_fnr;
    #[test]
    fn birth_dates_from_fnr() {
        assert_eq!(birth_from_fnr("21014605158").as_deref(), Some("19460121"));
        assert_eq!(birth_from_fnr("61014605158").as_deref(), Some("19460121"));
        assert_eq!(birth_from_fnr("0101"), None);
    }
}

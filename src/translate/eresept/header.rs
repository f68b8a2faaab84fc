//! The eP CDA header from the MsgHead: patient, the prescriber as author and legal authenticator,
//! the prescriber's organisation as custodian, and the XFRM link to the Norwegian prescription.
//! The prescriber's author element is also written at entry level by the body.

use super::m1::{self, Address, Message, Person, Prescription};
use crate::translate::cda::{self, uuid_from};
use crate::translate::coded::{Ctx, Src};
use crate::translate::{TranslateError, WarningKind};
use crate::xml::XmlWriter;

pub const EP_TEMPLATE: &str = "1.3.6.1.4.1.12559.11.10.1.3.1.1.1";

/// One eP document being written: the message, the prescription and its ids, and the options.
pub struct Doc<'a> {
    pub msg: &'a Message<'a>,
    pub rx: &'a Prescription<'a>,
    /// The Norwegian prescription id
    pub rid: &'a str,
    /// Root of the prescription's id in the pivot
    pub rx_root: String,
    /// Country of addresses (ISO 3166 alpha-2)
    pub country: &'a str,
    pub language: &'a str,
}

/// Writes the document start and header, up to the body.
pub fn write_header(w: &mut XmlWriter, cx: &mut Ctx, d: &Doc) -> Result<(), TranslateError> {
    let generated = d.msg.generated.and_then(m1::kith_ts);
    cda::open_document(w, EP_TEMPLATE);
    w.empty("id", &[("root", &uuid_from(&format!("ep#{}", d.rid)))]);
    cda::loinc_code(
        w,
        crate::ids::ehdsi::EP_CLASS,
        "Prescription for medication",
    );
    w.leaf("title", &[], "ePrescription");
    let when = generated.as_deref().unwrap_or(&d.rx.written);
    w.empty("effectiveTime", &[("value", when)]);
    cda::confidentiality(w, "N");
    w.empty("languageCode", &[("code", d.language)]);
    let patient = &d.msg.patient;
    w.open("recordTarget", &[]);
    w.open("patientRole", &[]);
    if !write_ident(w, &patient.person.idents) {
        return Err(TranslateError::MissingElement(
            "MsgInfo/Patient/Ident (fødselsnummer or D-nummer)".into(),
        ));
    }
    addr(w, patient.person.address.as_ref(), d.country);
    w.empty("telecom", &[("nullFlavor", "NI")]);
    w.open("patient", &[]);
    name(w, Some(&patient.person));
    let gender = match patient.sex {
        Some("1") => "M",
        Some("2") => "F",
        _ => "UN",
    };
    cda::gender(w, gender);
    let birth = patient.fnr().and_then(m1::birth_from_fnr);
    cda::time_or_unk(w, "birthTime", birth.as_deref());
    w.close("patient");
    w.close("patientRole");
    w.close("recordTarget");
    write_author(w, cx, d);
    w.open("custodian", &[]);
    w.open("assignedCustodian", &[]);
    organisation(w, "representedCustodianOrganization", d);
    w.close("assignedCustodian");
    w.close("custodian");
    w.open("legalAuthenticator", &[("typeCode", "LA")]);
    w.empty("time", &[("value", &d.rx.written)]);
    w.empty("signatureCode", &[("code", "S")]);
    w.open("assignedEntity", &[]);
    prescriber_parts(w, d);
    w.close("assignedEntity");
    w.close("legalAuthenticator");
    cda::transformed_from(w, &d.rx_root, None);
    Ok(())
}

/// The prescriber as author (of the document and of the prescription entry), with the ISCO
/// function from the HPR category.
pub fn write_author(w: &mut XmlWriter, cx: &mut Ctx, d: &Doc) {
    const PATH: &str = "author/functionCode";
    w.open("author", &[]);
    let category = d.msg.prescriber.as_ref().and_then(|p| p.category);
    let mut cat = m1::volven(category, m1::V9060);
    if cat.is_empty() {
        // eP requires a coded function; with no HPR category the broadest true one is used
        cat.push(Src::new(
            "2.16.840.1.113883.2.9.6.2.7",
            "22",
            Some("Health professionals"),
        ));
        if !cx.warnings.iter().any(|w| w.element == PATH) {
            let detail = "prescriber category absent; ISCO 22 Health professionals used";
            cx.warn(WarningKind::Dropped, PATH, detail.into());
        }
    }
    let vs = "1.3.6.1.4.1.12559.11.10.1.3.1.42.1";
    cx.write_cd(w, "functionCode", &[], vs, &cat, None, PATH);
    w.empty("time", &[("value", &d.rx.written)]);
    w.open("assignedAuthor", &[]);
    prescriber_parts(w, d);
    w.close("assignedAuthor");
    w.close("author");
}

/// Writes the preferred identifier as `<id>`; false when there is none to write.
fn write_ident(w: &mut XmlWriter, idents: &[m1::Ident]) -> bool {
    match m1::preferred_id(idents) {
        Some((root, id)) => {
            w.empty("id", &[("root", root), ("extension", id)]);
            true
        }
        None => false,
    }
}

/// The parts of the prescriber as an assigned entity: id, addr, telecom, assignedPerson and
/// representedOrganization.
fn prescriber_parts(w: &mut XmlWriter, d: &Doc) {
    let person = d.msg.prescriber.as_ref().map(|p| &p.person);
    if !person.is_some_and(|p| write_ident(w, &p.idents)) {
        w.empty("id", &[("nullFlavor", "NI")]);
    }
    let org = &d.msg.organisation;
    let a = person.and_then(|p| p.address.as_ref());
    addr(w, a.or(org.address.as_ref()), d.country);
    telecoms(w, &org.telecoms);
    w.open("assignedPerson", &[]);
    name(w, person);
    w.close("assignedPerson");
    organisation(w, "representedOrganization", d);
}

/// The prescriber's organisation (the message sender) as `elem`.
fn organisation(w: &mut XmlWriter, elem: &str, d: &Doc) {
    let org = &d.msg.organisation;
    w.open(elem, &[]);
    if !write_ident(w, &org.idents) {
        w.empty("id", &[("root", &uuid_from(&format!("{}#org", d.rid)))]);
    }
    match org.name {
        Some(n) => w.leaf("name", &[], n),
        None => w.empty("name", &[("nullFlavor", "NI")]),
    }
    telecoms(w, &org.telecoms);
    addr(w, org.address.as_ref(), d.country);
    w.close(elem);
}

fn addr(w: &mut XmlWriter, a: Option<&Address>, country: &str) {
    w.open("addr", &[]);
    if let Some(a) = a {
        if let Some(v) = a.street {
            w.leaf("streetAddressLine", &[], v);
        }
        if let Some(v) = a.postal_code {
            w.leaf("postalCode", &[], v);
        }
        if let Some(v) = a.city {
            w.leaf("city", &[], v);
        }
    }
    w.leaf("country", &[], country);
    w.close("addr");
}

fn telecoms(w: &mut XmlWriter, values: &[&str]) {
    for v in values {
        w.empty("telecom", &[("value", v), ("use", "WP")]);
    }
    if values.is_empty() {
        w.empty("telecom", &[("nullFlavor", "NI")]);
    }
}

fn name(w: &mut XmlWriter, person: Option<&Person>) {
    w.open("name", &[]);
    match person.and_then(|p| p.family) {
        Some(f) => w.leaf("family", &[], f),
        None => w.empty("family", &[("nullFlavor", "NI")]),
    }
    match person.and_then(|p| p.given) {
        Some(g) => {
            for part in g.split_whitespace() {
                w.leaf("given", &[], part);
            }
        }
        None => w.empty("given", &[("nullFlavor", "NI")]),
    }
    w.close("name");
}

//! Synthetic Norwegian registry content for the load generator: patients with
//! fødselsnummer-shaped ids and DocumentEntries coded as the Norwegian XDS metadata profile codes
//! them (Volven 9602 class and type, 1303 facility, 8653 practice setting, 9603
//! confidentiality), with varied authors and dates. The same submissions feed the loader and
//! the ITI-42 workload, so a loaded registry looks like one filled over the wire.

use crate::ids::oid::FNR;
use crate::registry::query::FIND_DOCUMENTS;
use crate::xds::ids;
use std::fmt::Write;

/// The first patient number: bench patients are 11-digit ids from here on.
const FIRST_PATIENT: u64 = 10_000_000_000;

/// Patient `i` of a bench load.
pub fn patient_id(i: u64) -> String {
    format!("{}^^^&{FNR}&ISO", FIRST_PATIENT + i)
}

/// The uniqueId of document `j` of patient `i` as the loader stores it (so that GetDocuments
/// can name it without asking first).
pub fn loaded_unique_id(i: u64, j: u64) -> String {
    format!("2.25.{}", 900_000_000_000_000 + i * 1000 + j)
}

const CLASS_TYPE: [(&str, &str, &str, &str); 6] = [
    ("A00-1", "Epikriser og sammenfatninger", "A01-1", "Epikrise"),
    (
        "A00-1",
        "Epikriser og sammenfatninger",
        "A01-2",
        "Kriseplan",
    ),
    ("A00-2", "Henvisninger", "A02-1", "Henvisning"),
    (
        "A00-3",
        "Polikliniske notater",
        "A03-1",
        "Poliklinisk notat",
    ),
    ("A00-5", "Prøvesvar", "A05-1", "Laboratoriesvar"),
    ("A00-6", "Bildediagnostikk", "A06-1", "Radiologisvar"),
];
const FACILITIES: [&str; 4] = ["86.211", "86.221", "86.101", "86.903"];
const AUTHORS: [(&str, &str, &str); 5] = [
    ("Hansen", "Ola", "565505933"),
    ("Johansen", "Kari", "565501872"),
    ("Olsen", "Per", "9144889"),
    ("Larsen", "Ingrid", "565527465"),
    ("Andersen", "Lars", "565516233"),
];
const INSTITUTIONS: [(&str, &str); 3] = [
    ("Helse Bergen HF", "983974724"),
    ("Oslo universitetssykehus HF", "993467049"),
    ("Universitetssykehuset Nord-Norge HF", "983974899"),
];
const VOLVEN: &str = "2.16.578.1.12.4.1.1";

fn slot(out: &mut String, name: &str, values: &[&str]) {
    let _ = write!(out, "<rim:Slot name=\"{name}\"><rim:ValueList>");
    for v in values {
        let _ = write!(out, "<rim:Value>{}</rim:Value>", crate::xml::esc_text(v));
    }
    out.push_str("</rim:ValueList></rim:Slot>");
}

fn code(out: &mut String, id: &str, scheme: &str, on: &str, code: &str, system: &str, name: &str) {
    let _ = write!(
        out,
        "<rim:Classification id=\"{id}\" classificationScheme=\"{scheme}\" classifiedObject=\"{on}\" nodeRepresentation=\"{code}\">"
    );
    slot(out, "codingScheme", &[system]);
    let _ = write!(
        out,
        "<rim:Name><rim:LocalizedString value=\"{}\"/></rim:Name></rim:Classification>",
        crate::xml::esc_attr(name)
    );
}

fn ext(out: &mut String, id: &str, scheme: &str, on: &str, value: &str, name: &str) {
    let _ = write!(
        out,
        "<rim:ExternalIdentifier id=\"{id}\" identificationScheme=\"{scheme}\" registryObject=\"{on}\" value=\"{}\"><rim:Name><rim:LocalizedString value=\"{name}\"/></rim:Name></rim:ExternalIdentifier>",
        crate::xml::esc_attr(value)
    );
}

/// An ITI-42 SubmitObjectsRequest for patient `pid` with `docs` DocumentEntries. `seed` varies
/// the codes, authors and dates; `unique_id(j)` names document j.
pub fn submission(
    pid: &str,
    docs: u64,
    seed: u64,
    repository: &str,
    unique_id: impl Fn(u64) -> String,
) -> String {
    let mut out = String::with_capacity(4096 + docs as usize * 6144);
    out.push_str("<lcm:SubmitObjectsRequest xmlns:lcm=\"urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0\" xmlns:rim=\"urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0\"><rim:RegistryObjectList>");
    let (inst, orgnr) = INSTITUTIONS[(seed % 3) as usize];
    let institution = format!("{inst}^^^^^^^^^{orgnr}");
    let ss = "SubmissionSet01";
    let _ = write!(out, "<rim:RegistryPackage id=\"{ss}\">");
    slot(&mut out, "submissionTime", &[&dtm(seed, 0)]);
    out.push_str("<rim:Name><rim:LocalizedString value=\"Innsending\"/></rim:Name>");
    let _ = write!(
        out,
        "<rim:Classification id=\"{ss}-a\" classificationScheme=\"{}\" classifiedObject=\"{ss}\" nodeRepresentation=\"\">",
        ids::SS_AUTHOR
    );
    slot(&mut out, "authorInstitution", &[&institution]);
    out.push_str("</rim:Classification>");
    let (class, class_name, _, _) = CLASS_TYPE[(seed % 6) as usize];
    code(
        &mut out,
        &format!("{ss}-ct"),
        ids::SS_CONTENT_TYPE,
        ss,
        class,
        &format!("{VOLVEN}.9602"),
        class_name,
    );
    ext(
        &mut out,
        &format!("{ss}-u"),
        ids::SS_UNIQUE_ID,
        ss,
        &format!("2.25.{}", uuid::Uuid::new_v4().as_u128()),
        "XDSSubmissionSet.uniqueId",
    );
    ext(
        &mut out,
        &format!("{ss}-s"),
        ids::SS_SOURCE_ID,
        ss,
        &format!("2.16.578.1.12.4.1.2.{orgnr}"),
        "XDSSubmissionSet.sourceId",
    );
    ext(
        &mut out,
        &format!("{ss}-p"),
        ids::SS_PATIENT_ID,
        ss,
        pid,
        "XDSSubmissionSet.patientId",
    );
    out.push_str("</rim:RegistryPackage>");
    let _ = write!(
        out,
        "<rim:Classification id=\"{ss}-c\" classifiedObject=\"{ss}\" classificationNode=\"{}\"/>",
        ids::SUBMISSION_SET_NODE
    );
    for j in 0..docs {
        let id = format!("Document{j:03}");
        entry(
            &mut out,
            &id,
            pid,
            seed.wrapping_add(j),
            repository,
            &unique_id(j),
            &institution,
        );
        let _ = write!(
            out,
            "<rim:Association id=\"HasMember{j:03}\" associationType=\"{}\" sourceObject=\"{ss}\" targetObject=\"{id}\">",
            ids::HAS_MEMBER
        );
        slot(&mut out, "SubmissionSetStatus", &["Original"]);
        out.push_str("</rim:Association>");
    }
    out.push_str("</rim:RegistryObjectList></lcm:SubmitObjectsRequest>");
    out
}

/// A DTM some days and hours before 2026-06-01, varied by `seed`.
fn dtm(seed: u64, shift: u64) -> String {
    let day = (seed.wrapping_mul(7919) + shift) % 3650;
    let t = time::macros::datetime!(2026-06-01 0:00 UTC)
        - time::Duration::hours(day as i64 * 24 + (seed % 24) as i64);
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn entry(
    out: &mut String,
    id: &str,
    pid: &str,
    seed: u64,
    repository: &str,
    uid: &str,
    institution: &str,
) {
    let _ = write!(
        out,
        "<rim:ExtrinsicObject id=\"{id}\" mimeType=\"application/pdf\" objectType=\"{}\">",
        ids::DE_STABLE
    );
    let created = dtm(seed, 1);
    slot(out, "creationTime", &[&created]);
    slot(out, "serviceStartTime", &[&dtm(seed, 3)]);
    slot(out, "serviceStopTime", &[&dtm(seed, 2)]);
    slot(out, "languageCode", &["nb-NO"]);
    slot(out, "sourcePatientId", &[pid]);
    slot(
        out,
        "hash",
        &[&format!(
            "{:040x}",
            u128::from(seed) * 0x9e37_79b9_7f4a_7c15
        )],
    );
    slot(out, "size", &[&(40_000 + seed % 200_000).to_string()]);
    slot(out, "repositoryUniqueId", &[repository]);
    let (class, class_name, ty, ty_name) = CLASS_TYPE[(seed % 6) as usize];
    let _ = write!(
        out,
        "<rim:Name><rim:LocalizedString xml:lang=\"nb-NO\" value=\"{ty_name}\"/></rim:Name>"
    );
    let (family, given, hpr) = AUTHORS[(seed % 5) as usize];
    let _ = write!(
        out,
        "<rim:Classification id=\"{id}-a\" classificationScheme=\"{}\" classifiedObject=\"{id}\" nodeRepresentation=\"\">",
        ids::DE_AUTHOR
    );
    let person = format!("{hpr}^{family}^{given}^^^^^^&2.16.578.1.12.4.1.4.4&ISO");
    slot(out, "authorPerson", &[&person]);
    slot(out, "authorInstitution", &[institution]);
    slot(out, "authorRole", &["Lege"]);
    out.push_str("</rim:Classification>");
    let volven = |n: &str| format!("{VOLVEN}.{n}");
    code(
        out,
        &format!("{id}-cl"),
        ids::DE_CLASS_CODE,
        id,
        class,
        &volven("9602"),
        class_name,
    );
    code(
        out,
        &format!("{id}-ty"),
        ids::DE_TYPE_CODE,
        id,
        ty,
        &volven("9602"),
        ty_name,
    );
    code(
        out,
        &format!("{id}-fo"),
        ids::DE_FORMAT_CODE,
        id,
        "urn:ihe:iti:xds:2017:mimeTypeSufficient",
        "1.3.6.1.4.1.19376.1.2.3",
        "mimeTypeSufficient",
    );
    let facility = FACILITIES[(seed % 4) as usize];
    code(
        out,
        &format!("{id}-hf"),
        ids::DE_FACILITY_TYPE,
        id,
        facility,
        &volven("1303"),
        facility,
    );
    let practice = (1 + seed % 9).to_string();
    code(
        out,
        &format!("{id}-ps"),
        ids::DE_PRACTICE_SETTING,
        id,
        &practice,
        &volven("8653"),
        &practice,
    );
    code(
        out,
        &format!("{id}-cf"),
        ids::DE_CONFIDENTIALITY,
        id,
        "N",
        &volven("9603"),
        "Normal",
    );
    ext(
        out,
        &format!("{id}-p"),
        ids::DE_PATIENT_ID,
        id,
        pid,
        "XDSDocumentEntry.patientId",
    );
    ext(
        out,
        &format!("{id}-u"),
        ids::DE_UNIQUE_ID,
        id,
        uid,
        "XDSDocumentEntry.uniqueId",
    );
    out.push_str("</rim:ExtrinsicObject>");
}

/// ITI-18 FindDocuments for the patient's Approved entries.
pub fn find_documents(pid: &str, leaf: bool) -> String {
    let rt = if leaf { "LeafClass" } else { "ObjectRef" };
    format!(
        "<query:AdhocQueryRequest xmlns:query=\"urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0\" xmlns:rim=\"urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0\"><query:ResponseOption returnComposedObjects=\"true\" returnType=\"{rt}\"/><rim:AdhocQuery id=\"{FIND_DOCUMENTS}\"><rim:Slot name=\"$XDSDocumentEntryPatientId\"><rim:ValueList><rim:Value>'{}'</rim:Value></rim:ValueList></rim:Slot><rim:Slot name=\"$XDSDocumentEntryStatus\"><rim:ValueList><rim:Value>('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')</rim:Value></rim:ValueList></rim:Slot></rim:AdhocQuery></query:AdhocQueryRequest>",
        crate::xml::esc_text(pid)
    )
}

/// ITI-18 GetDocuments by uniqueId, LeafClass.
pub fn get_documents(uid: &str) -> String {
    format!(
        "<query:AdhocQueryRequest xmlns:query=\"urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0\" xmlns:rim=\"urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0\"><query:ResponseOption returnComposedObjects=\"true\" returnType=\"LeafClass\"/><rim:AdhocQuery id=\"{}\"><rim:Slot name=\"$XDSDocumentEntryUniqueId\"><rim:ValueList><rim:Value>('{uid}')</rim:Value></rim:ValueList></rim:Slot></rim:AdhocQuery></query:AdhocQueryRequest>",
        crate::registry::query::GET_DOCUMENTS
    )
}

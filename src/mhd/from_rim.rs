//! Stored XDS metadata as FHIR (ITI-67/66/68 answers): a DocumentEntry as a DocumentReference,
//! a SubmissionSet or Folder as a List. The inverse of `to_rim`, by the same MHD tables.

use super::actors;
use super::dtm;
use super::fhir;
use super::rim::{self, concept};
use super::to_rim::{EXT_DESIGNATION, EXT_SOURCE_ID};
use super::{bare, patient};
use crate::ebxml::RegistryObject;
use crate::xds::{ids, AvailabilityStatus, EntryKind};
use base64::Engine;
use fhirbolt::model::r4::resources::{
    DocumentReference, DocumentReferenceContent, DocumentReferenceContext, List, ListEntry,
};
use fhirbolt::model::r4::types::{self, Attachment, Extension, ExtensionValue, Identifier};

const RFC3986: &str = "urn:ietf:rfc:3986";

/// The MHD list types (List.code).
const LIST_TYPES: &str = "https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes";

fn status_code(s: AvailabilityStatus) -> &'static str {
    match s {
        AvailabilityStatus::Approved => "current",
        AvailabilityStatus::Deprecated => "superseded",
    }
}

fn uid_value(uid: &str) -> String {
    if crate::xds::cx::is_oid(uid) {
        format!("urn:oid:{uid}")
    } else {
        uid.to_string()
    }
}

fn ids_of(o: &RegistryObject, unique_scheme: &str) -> (Option<Identifier>, Identifier) {
    let unique = o
        .external_id(unique_scheme)
        .and_then(|e| e.value.as_deref())
        .map(|u| Identifier {
            r#use: Some(fhir::code("usual")),
            ..fhir::identifier(RFC3986, uid_value(u))
        });
    let entry = Identifier {
        r#use: Some(fhir::code("official")),
        ..fhir::identifier(RFC3986, o.id.clone())
    };
    (unique, entry)
}

fn subject(o: &RegistryObject, scheme: &str) -> Option<Box<types::Reference>> {
    let pid = o.external_id(scheme)?.value.as_deref()?;
    Some(Box::new(match patient::fhir_id(pid) {
        Some(id) => fhir::reference(format!("Patient/{id}")),
        None => types::Reference {
            identifier: patient::identifier(pid).map(Box::new),
            ..Default::default()
        },
    }))
}

/// Authors as contained resources, and the references to them.
fn contained_authors(
    o: &RegistryObject,
    scheme: &str,
    out: &mut Vec<fhirbolt::model::r4::Resource>,
) -> Vec<types::Reference> {
    rim::authors(o, scheme)
        .iter()
        .enumerate()
        .filter_map(|(n, a)| {
            let id = format!("author{}", n + 1);
            out.push(actors::author_resource(a, &id)?);
            Some(fhir::reference(format!("#{id}")))
        })
        .collect()
}

fn first_concept(o: &RegistryObject, scheme: &str) -> Option<Box<types::CodeableConcept>> {
    rim::codings(o, scheme)
        .into_iter()
        .next()
        .map(|c| Box::new(concept(c)))
}

/// A DocumentEntry as a DocumentReference; `base` is this server's FHIR base (for the Binary).
pub fn document_reference(
    o: &RegistryObject,
    status: AvailabilityStatus,
    base: &str,
) -> DocumentReference {
    let (unique, entry) = ids_of(o, ids::DE_UNIQUE_ID);
    let mut contained = Vec::new();
    let author = contained_authors(o, ids::DE_AUTHOR, &mut contained);
    let slot = |n: &str| o.first_slot_value(n).map(str::to_string);
    let time = |n: &str| slot(n).as_deref().and_then(dtm::from_dtm);
    let hash = slot("hash")
        .and_then(|h| hex::decode(h).ok())
        .map(|raw| types::Base64Binary {
            value: Some(base64::engine::general_purpose::STANDARD.encode(raw)),
            ..Default::default()
        });
    let attachment = Attachment {
        content_type: o.mime_type.clone().map(fhir::code),
        language: slot("languageCode").map(fhir::code),
        url: Some(types::Url {
            value: Some(format!("{base}/Binary/{}", bare(&o.id))),
            ..Default::default()
        }),
        size: slot("size")
            .and_then(|s| s.parse().ok())
            .map(|v| types::UnsignedInt {
                value: Some(v),
                ..Default::default()
            }),
        hash,
        title: o.name.first().map(|n| fhir::string(n.value.clone())),
        creation: time("creationTime").map(fhir::date_time),
        ..Default::default()
    };
    let period =
        (time("serviceStartTime").is_some() || time("serviceStopTime").is_some()).then(|| {
            Box::new(types::Period {
                start: time("serviceStartTime").map(fhir::date_time),
                end: time("serviceStopTime").map(fhir::date_time),
                ..Default::default()
            })
        });
    let context = DocumentReferenceContext {
        event: rim::codings(o, ids::DE_EVENT_CODE)
            .into_iter()
            .map(concept)
            .collect(),
        period,
        facility_type: first_concept(o, ids::DE_FACILITY_TYPE),
        practice_setting: first_concept(o, ids::DE_PRACTICE_SETTING),
        ..Default::default()
    };
    DocumentReference {
        id: Some(fhir::id(bare(&o.id))),
        contained,
        master_identifier: unique.map(Box::new),
        identifier: vec![entry],
        status: fhir::code(status_code(status)),
        r#type: first_concept(o, ids::DE_TYPE_CODE),
        category: rim::codings(o, ids::DE_CLASS_CODE)
            .into_iter()
            .map(concept)
            .collect(),
        subject: subject(o, ids::DE_PATIENT_ID),
        author,
        description: o.description.first().map(|d| fhir::string(d.value.clone())),
        security_label: rim::codings(o, ids::DE_CONFIDENTIALITY)
            .into_iter()
            .map(concept)
            .collect(),
        content: vec![DocumentReferenceContent {
            attachment: Box::new(attachment),
            format: rim::codings(o, ids::DE_FORMAT_CODE)
                .into_iter()
                .next()
                .map(Box::new),
            ..Default::default()
        }],
        context: Some(context),
        ..Default::default()
    }
}

/// A SubmissionSet or Folder as a List, with its members (entryUUIDs of DocumentEntries).
pub fn list(
    o: &RegistryObject,
    kind: EntryKind,
    status: AvailabilityStatus,
    members: &[String],
) -> List {
    let (scheme_unique, scheme_patient, code) = match kind {
        EntryKind::Folder => (ids::FOLDER_UNIQUE_ID, ids::FOLDER_PATIENT_ID, "folder"),
        _ => (ids::SS_UNIQUE_ID, ids::SS_PATIENT_ID, "submissionset"),
    };
    let (unique, entry) = ids_of(o, scheme_unique);
    let mut contained = Vec::new();
    let mut extension = Vec::new();
    let mut source = None;
    let mut date = o.first_slot_value("lastUpdateTime").and_then(dtm::from_dtm);
    if kind == EntryKind::SubmissionSet {
        let authors = contained_authors(o, ids::SS_AUTHOR, &mut contained);
        source = authors.into_iter().next().map(Box::new);
        date = o.first_slot_value("submissionTime").and_then(dtm::from_dtm);
        if let Some(s) = o
            .external_id(ids::SS_SOURCE_ID)
            .and_then(|e| e.value.clone())
        {
            extension.push(Extension {
                url: EXT_SOURCE_ID.into(),
                value: Some(ExtensionValue::Identifier(Box::new(fhir::identifier(
                    RFC3986,
                    uid_value(&s),
                )))),
                ..Default::default()
            });
        }
        if let Some(c) = rim::codings(o, ids::SS_CONTENT_TYPE).into_iter().next() {
            extension.push(Extension {
                url: EXT_DESIGNATION.into(),
                value: Some(ExtensionValue::CodeableConcept(Box::new(concept(c)))),
                ..Default::default()
            });
        }
    }
    List {
        id: Some(fhir::id(bare(&o.id))),
        contained,
        extension,
        identifier: unique.into_iter().chain([entry]).collect(),
        status: fhir::code(if status == AvailabilityStatus::Approved {
            "current"
        } else {
            "retired"
        }),
        mode: fhir::code("working"),
        title: o.name.first().map(|n| fhir::string(n.value.clone())),
        code: Some(Box::new(concept(types::Coding {
            system: Some(fhir::uri(LIST_TYPES)),
            code: Some(fhir::code(code)),
            ..Default::default()
        }))),
        subject: subject(o, scheme_patient),
        date: date.map(fhir::date_time),
        source,
        entry: members
            .iter()
            .map(|m| ListEntry {
                item: Box::new(fhir::reference(format!("DocumentReference/{}", bare(m)))),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

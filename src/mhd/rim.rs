//! Building and reading the ebRIM parts of XDS metadata that MHD maps to: coded
//! classifications, external identifiers, slots.

use super::codes;
use super::fhir;
use crate::ebxml::{LocalizedString, RegistryObject, RimTag};
use crate::xds::ids;
use fhirbolt::model::r4::types::{CodeableConcept, Coding};

pub fn new_uuid() -> String {
    format!("urn:uuid:{}", uuid::Uuid::new_v4())
}

pub fn localized(v: impl Into<String>) -> Vec<LocalizedString> {
    vec![LocalizedString {
        value: v.into(),
        lang: None,
        charset: None,
    }]
}

/// A coded classification (classCode, typeCode, ...) on `owner`.
pub fn coded(owner: &str, scheme_uuid: &str, c: &Coding) -> Option<RegistryObject> {
    let code = fhir::text(c.code.as_ref())?;
    let system = fhir::text(c.system.as_ref())?;
    let mut cl = RegistryObject::new(RimTag::Classification, new_uuid());
    cl.object_type = Some(ids::CLASSIFICATION_TYPE.into());
    cl.classification_scheme = Some(scheme_uuid.into());
    cl.classified_object = Some(owner.into());
    cl.node_representation = Some(code.clone());
    cl.set_slot("codingScheme", vec![codes::scheme_of(&system)]);
    cl.name = localized(fhir::text(c.display.as_ref()).unwrap_or(code));
    Some(cl)
}

/// The first coding of a concept that has both system and code.
pub fn first_coding(cc: &CodeableConcept) -> Option<&Coding> {
    cc.coding
        .iter()
        .find(|c| fhir::text(c.code.as_ref()).is_some() && fhir::text(c.system.as_ref()).is_some())
}

/// The classification node that makes a RegistryPackage a SubmissionSet or Folder.
pub fn node(owner: &str, node: &str) -> RegistryObject {
    let mut cl = RegistryObject::new(RimTag::Classification, new_uuid());
    cl.object_type = Some(ids::CLASSIFICATION_TYPE.into());
    cl.classified_object = Some(owner.into());
    cl.classification_node = Some(node.into());
    cl
}

/// An author classification carrying XCN/XON slots.
pub fn author(owner: &str, scheme_uuid: &str, a: &Author) -> RegistryObject {
    let mut cl = RegistryObject::new(RimTag::Classification, new_uuid());
    cl.object_type = Some(ids::CLASSIFICATION_TYPE.into());
    cl.classification_scheme = Some(scheme_uuid.into());
    cl.classified_object = Some(owner.into());
    cl.node_representation = Some(String::new());
    if let Some(p) = &a.person {
        cl.set_slot("authorPerson", vec![p.clone()]);
    }
    if !a.institutions.is_empty() {
        cl.set_slot("authorInstitution", a.institutions.clone());
    }
    if !a.roles.is_empty() {
        cl.set_slot("authorRole", a.roles.clone());
    }
    cl
}

pub fn external_id(owner: &str, scheme_uuid: &str, name: &str, value: &str) -> RegistryObject {
    let mut e = RegistryObject::new(RimTag::ExternalIdentifier, new_uuid());
    e.object_type = Some(ids::EXTERNAL_ID_TYPE.into());
    e.identification_scheme = Some(scheme_uuid.into());
    e.registry_object = Some(owner.into());
    e.value = Some(value.into());
    e.name = localized(name);
    e
}

pub fn association(kind: &str, source: &str, target: &str) -> RegistryObject {
    let mut a = RegistryObject::new(RimTag::Association, new_uuid());
    a.object_type = Some(ids::ASSOCIATION_TYPE.into());
    a.association_type = Some(kind.into());
    a.source_object = Some(source.into());
    a.target_object = Some(target.into());
    a
}

/// An author as XDS holds it.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Author {
    pub person: Option<String>,
    pub institutions: Vec<String>,
    pub roles: Vec<String>,
}

/// The authors of an object's classifications of `scheme_uuid`.
pub fn authors(o: &RegistryObject, scheme_uuid: &str) -> Vec<Author> {
    o.classifications
        .iter()
        .filter(|c| c.classification_scheme.as_deref() == Some(scheme_uuid))
        .map(|c| Author {
            person: c.first_slot_value("authorPerson").map(str::to_string),
            institutions: c.slot_values("authorInstitution").to_vec(),
            roles: c.slot_values("authorRole").to_vec(),
        })
        .collect()
}

/// The codes of an object's classifications of `scheme_uuid`, as FHIR codings.
pub fn codings(o: &RegistryObject, scheme_uuid: &str) -> Vec<Coding> {
    o.classifications
        .iter()
        .filter(|c| c.classification_scheme.as_deref() == Some(scheme_uuid))
        .filter_map(|c| {
            let code = c.node_representation.clone()?;
            let scheme = c.first_slot_value("codingScheme").unwrap_or_default();
            Some(Coding {
                system: Some(fhir::uri(codes::system_of(scheme))),
                code: Some(fhir::code(code)),
                display: c.name.first().map(|n| fhir::string(n.value.clone())),
                ..Default::default()
            })
        })
        .collect()
}

pub fn concept(coding: Coding) -> CodeableConcept {
    CodeableConcept {
        coding: vec![coding],
        ..Default::default()
    }
}

//! People and organisations between FHIR and XDS: contained Practitioner, PractitionerRole,
//! Organization and Patient resources as XCN/XON values and sourcePatientInfo, and back.

use super::fhir::{self, Issue};
use super::rim::Author;
use fhirbolt::model::r4::resources::{Organization, Patient, Practitioner};
use fhirbolt::model::r4::types::{HumanName, Identifier, Reference};
use fhirbolt::model::r4::Resource;

/// The contained resource a `#id` reference names.
pub fn contained<'a>(list: &'a [Resource], r: &Reference) -> Option<&'a Resource> {
    let target = fhir::text(r.reference.as_ref())?;
    let id = target.strip_prefix('#')?;
    list.iter().find(|c| resource_id(c).as_deref() == Some(id))
}

fn resource_id(r: &Resource) -> Option<String> {
    let id = match r {
        Resource::Practitioner(p) => p.id.as_ref(),
        Resource::PractitionerRole(p) => p.id.as_ref(),
        Resource::Organization(o) => o.id.as_ref(),
        Resource::Patient(p) => p.id.as_ref(),
        _ => None,
    };
    fhir::text(id)
}

/// XDS components may not hold the HL7 v2 delimiters.
fn clean(s: &str) -> String {
    s.chars().filter(|c| !"^&~|\\".contains(*c)).collect()
}

fn oid_identifier(ids: &[Identifier]) -> Option<(String, String)> {
    ids.iter().find_map(|i| {
        let system = fhir::text(i.system.as_ref())?;
        let oid = system.strip_prefix("urn:oid:")?.to_string();
        Some((clean(&fhir::text(i.value.as_ref())?), oid))
    })
}

/// XCN: `id^family^given^^^^^^&oid&ISO`, or `^family^given` without an identifier.
fn xcn(names: &[HumanName], ids: &[Identifier]) -> Option<String> {
    let name = names.first();
    let family = name
        .and_then(|n| fhir::text(n.family.as_ref()))
        .map(|f| clean(&f))
        .unwrap_or_default();
    let given = name
        .and_then(|n| n.given.first())
        .and_then(|g| fhir::text(Some(g)))
        .map(|g| clean(&g))
        .unwrap_or_default();
    match oid_identifier(ids) {
        Some((id, oid)) => Some(format!("{id}^{family}^{given}^^^^^^&{oid}&ISO")),
        None if family.is_empty() && given.is_empty() => None,
        None => Some(format!("^{family}^{given}")),
    }
}

/// XON: `name^^^^^^^^^oid` with an `urn:oid:` identifier, else the name alone.
fn xon(o: &Organization) -> Option<String> {
    let name = clean(&fhir::text(o.name.as_ref())?);
    let oid = o.identifier.iter().find_map(|i| {
        let v = fhir::text(i.value.as_ref())?;
        v.strip_prefix("urn:oid:").map(str::to_string)
    });
    Some(match oid {
        Some(oid) => format!("{name}^^^^^^^^^{}", clean(&oid)),
        None => name,
    })
}

/// The XDS author of one `author` reference, which must name a contained resource.
pub fn author(list: &[Resource], r: &Reference, at: &str) -> Result<Author, Issue> {
    let not_contained = || {
        Issue::error(
            "not-supported",
            "an author must be a contained Practitioner, PractitionerRole or Organization (#id)",
        )
        .at(at)
    };
    let mut a = Author::default();
    match contained(list, r).ok_or_else(not_contained)? {
        Resource::Practitioner(p) => a.person = xcn(&p.name, &p.identifier),
        Resource::Organization(o) => a.institutions.extend(xon(o)),
        Resource::PractitionerRole(role) => {
            if let Some(Resource::Practitioner(p)) = role
                .practitioner
                .as_deref()
                .and_then(|p| contained(list, p))
            {
                a.person = xcn(&p.name, &p.identifier);
            }
            if let Some(Resource::Organization(o)) = role
                .organization
                .as_deref()
                .and_then(|o| contained(list, o))
            {
                a.institutions.extend(xon(o));
            }
            a.roles = role
                .code
                .iter()
                .flat_map(|c| c.coding.iter())
                .filter_map(|c| fhir::text(c.code.as_ref()))
                .map(|c| clean(&c))
                .collect();
        }
        _ => return Err(not_contained()),
    }
    Ok(a)
}

/// A contained Practitioner (XCN) for a legalAuthenticator.
pub fn person(list: &[Resource], r: &Reference) -> Option<String> {
    match contained(list, r)? {
        Resource::Practitioner(p) => xcn(&p.name, &p.identifier),
        _ => None,
    }
}

/// sourcePatientId and sourcePatientInfo (PID-3, PID-5, PID-7, PID-8) of a contained Patient.
pub fn source_patient(p: &Patient) -> (Option<String>, Vec<String>) {
    let id = oid_identifier(&p.identifier).map(|(v, oid)| format!("{v}^^^&{oid}&ISO"));
    let mut info = Vec::new();
    if let Some(id) = &id {
        info.push(format!("PID-3|{id}"));
    }
    if let Some(n) = p.name.first() {
        let family = fhir::text(n.family.as_ref()).unwrap_or_default();
        let given = n
            .given
            .first()
            .and_then(|g| fhir::text(Some(g)))
            .unwrap_or_default();
        info.push(format!("PID-5|{}^{}", clean(&family), clean(&given)));
    }
    if let Some(b) = fhir::text(p.birth_date.as_ref()) {
        info.push(format!("PID-7|{}", b.replace('-', "")));
    }
    if let Some(g) = fhir::text(p.gender.as_ref()) {
        let v2 = match g.as_str() {
            "male" => "M",
            "female" => "F",
            "other" => "O",
            _ => "U",
        };
        info.push(format!("PID-8|{v2}"));
    }
    (id, info)
}

/// A contained resource for an XDS author, with the local id `id`.
pub fn author_resource(a: &Author, id: &str) -> Option<Resource> {
    if let Some(p) = &a.person {
        let f: Vec<&str> = p.split('^').collect();
        let part = |i: usize| f.get(i).copied().filter(|s| !s.is_empty());
        let name = HumanName {
            family: part(1).map(fhir::string),
            given: part(2).map(fhir::string).into_iter().collect(),
            ..Default::default()
        };
        let ident = part(0).zip(
            part(8)
                .and_then(|aa| aa.split('&').nth(1))
                .filter(|o| !o.is_empty()),
        );
        return Some(Resource::Practitioner(Box::new(Practitioner {
            id: Some(fhir::id(id)),
            name: vec![name],
            identifier: ident
                .map(|(v, oid)| fhir::identifier(&format!("urn:oid:{oid}"), v))
                .into_iter()
                .collect(),
            ..Default::default()
        })));
    }
    let inst = a.institutions.first()?;
    let mut f = inst.split('^');
    let name = f.next().unwrap_or_default();
    let oid = f.nth(8).filter(|o| !o.is_empty());
    Some(Resource::Organization(Box::new(Organization {
        id: Some(fhir::id(id)),
        name: Some(fhir::string(name)),
        identifier: oid
            .map(|o| fhir::identifier("urn:ietf:rfc:3986", format!("urn:oid:{o}")))
            .into_iter()
            .collect(),
        ..Default::default()
    })))
}

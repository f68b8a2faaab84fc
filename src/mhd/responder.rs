//! The Document Responder: ITI-67 Find Document References and reads, ITI-66 Find Document
//! Lists, ITI-68 Retrieve Document; also the identity feed's patients and the
//! CapabilityStatement. Every search runs as the XDS stored query it maps to.

use super::fhir::{self, Format, Issue};
use super::recipient::xds_issues;
use super::{
    bare, error_reply, from_rim, label, patient, resource_reply, search, Asked, MhdService,
};
use crate::audit::{fill_principal, EventType};
use crate::ebxml::parse::parse_stored_object;
use crate::ebxml::query::{AdhocQueryRequest, ReturnType};
use crate::ebxml::response::RegistryError;
use crate::ebxml::retrieve::DocumentRequest;
use crate::ebxml::Slot;
use crate::registry::query::{self as sq, Found};
use crate::store::patients;
use crate::transport::rest::RestReply;
use crate::xds::confidentiality::Viewer;
use crate::xds::{ids, EntryKind};
use fhirbolt::model::r4::resources::{Binary, Bundle, BundleEntry, BundleEntrySearch};
use fhirbolt::model::r4::types;
use fhirbolt::model::r4::Resource;
use std::collections::HashMap;

pub fn capability(svc: &MhdService, a: &Asked<'_>) -> RestReply {
    let text = include_str!("capability.json")
        .replace("{{BASE}}", &svc.base)
        .replace("{{VERSION}}", env!("CARGO_PKG_VERSION"));
    match fhir::read(text.as_bytes(), Format::Json) {
        Ok(r) => resource_reply(200, &r, a.format, label::METADATA),
        Err(e) => {
            tracing::error!(error = %e, "the CapabilityStatement does not parse");
            error_reply(
                500,
                &[Issue::error("exception", "no CapabilityStatement")],
                a.format,
                label::METADATA,
            )
        }
    }
}

fn searchset(svc: &MhdService, kind: &str, resources: Vec<(String, Resource)>) -> Resource {
    let total = resources.len() as u32;
    let entry = resources
        .into_iter()
        .map(|(id, r)| BundleEntry {
            full_url: Some(fhir::uri(format!("{}/{kind}/{id}", svc.base))),
            resource: Some(r),
            search: Some(BundleEntrySearch {
                mode: Some(fhir::code("match")),
                ..Default::default()
            }),
            ..Default::default()
        })
        .collect();
    Resource::Bundle(Box::new(Bundle {
        id: Some(fhir::id(uuid::Uuid::new_v4().to_string())),
        r#type: fhir::code("searchset"),
        total: Some(types::UnsignedInt {
            value: Some(total),
            ..Default::default()
        }),
        entry,
        ..Default::default()
    }))
}

/// Runs a stored query for a national caller; XDS errors become issues.
async fn query(svc: &MhdService, req: &AdhocQueryRequest) -> Result<Found, (u16, Vec<Issue>)> {
    svc.registry
        .query_rows(req, Viewer::national())
        .await
        .map_err(|f| {
            let errors: Vec<RegistryError> =
                f.into_errors().iter().map(RegistryError::from).collect();
            let internal = errors.iter().any(|e| e.error_code == "XDSRegistryError");
            (if internal { 500 } else { 400 }, xds_issues(&errors))
        })
}

fn event(svc: &MhdService, a: &Asked<'_>, t: EventType, action: &str) -> crate::audit::AuditEvent {
    let mut ev = svc.auditor.plain_event(t, "/fhir", action);
    fill_principal(&mut ev, &a.req.principal);
    ev
}

/// DocumentReferences of the DocumentEntries found.
fn references(svc: &MhdService, found: &Found) -> Vec<(String, Resource, String, String)> {
    found
        .objects
        .iter()
        .filter(|o| o.kind == EntryKind::DocumentEntry)
        .filter_map(|o| {
            let ro = parse_stored_object(&o.xml)?;
            let dr = from_rim::document_reference(&ro, o.status, &svc.base);
            let id = bare(&o.uuid).to_string();
            Some((
                id,
                Resource::DocumentReference(Box::new(dr)),
                o.patient_id.clone(),
                o.unique_id.clone(),
            ))
        })
        .collect()
}

pub async fn find_references(svc: &MhdService, a: &Asked<'_>, query_string: &str) -> RestReply {
    let f = a.format;
    let req = match search::find_documents(query_string, &svc.base) {
        Ok(r) => r,
        Err(issues) => return error_reply(400, &issues, f, label::FIND_REFERENCES),
    };
    let found = match query(svc, &req).await {
        Ok(found) => found,
        Err((status, issues)) => return error_reply(status, &issues, f, label::FIND_REFERENCES),
    };
    let refs = references(svc, &found);
    let mut ev = event(
        svc,
        a,
        EventType::FindDocumentReferences,
        label::FIND_REFERENCES,
    );
    ev.query_id = Some(req.query_id.clone());
    for (_, _, pid, _) in &refs {
        if !ev.patient_ids.contains(pid) {
            ev.patient_ids.push(pid.clone());
        }
    }
    svc.auditor.record(ev).await;
    let set = searchset(
        svc,
        "DocumentReference",
        refs.into_iter().map(|(id, r, _, _)| (id, r)).collect(),
    );
    resource_reply(200, &set, f, label::FIND_REFERENCES)
}

fn uuid_of(id: &str) -> Option<String> {
    uuid::Uuid::parse_str(id)
        .ok()
        .map(|_| format!("urn:uuid:{id}"))
}

fn not_found(what: &str, f: Format, action: &'static str) -> RestReply {
    error_reply(
        404,
        &[Issue::error("not-found", format!("no {what} with this id"))],
        f,
        action,
    )
}

fn get(query_id: &str, param: &str, uuid: &str) -> AdhocQueryRequest {
    AdhocQueryRequest {
        return_type: ReturnType::LeafClass,
        query_id: query_id.to_string(),
        home: None,
        params: vec![Slot {
            name: param.into(),
            slot_type: None,
            values: vec![format!("('{uuid}')")],
        }],
    }
}

pub async fn reference(svc: &MhdService, a: &Asked<'_>, id: &str) -> RestReply {
    let f = a.format;
    let Some(uuid) = uuid_of(id) else {
        return not_found("DocumentReference", f, label::FIND_REFERENCES);
    };
    let found = match query(
        svc,
        &get(sq::GET_DOCUMENTS, "$XDSDocumentEntryEntryUUID", &uuid),
    )
    .await
    {
        Ok(found) => found,
        Err((status, issues)) => return error_reply(status, &issues, f, label::FIND_REFERENCES),
    };
    let Some((_, r, pid, _)) = references(svc, &found).into_iter().next() else {
        return not_found("DocumentReference", f, label::FIND_REFERENCES);
    };
    let mut ev = event(
        svc,
        a,
        EventType::FindDocumentReferences,
        label::FIND_REFERENCES,
    );
    ev.patient_ids.push(pid);
    svc.auditor.record(ev).await;
    resource_reply(200, &r, f, label::FIND_REFERENCES)
}

/// Lists of the SubmissionSets and Folders found, with members from their HasMember
/// associations (one query for all).
async fn lists(
    svc: &MhdService,
    found: &Found,
) -> Result<Vec<(String, Resource, String)>, (u16, Vec<Issue>)> {
    let packages: Vec<_> = found
        .objects
        .iter()
        .filter(|o| o.kind != EntryKind::DocumentEntry)
        .collect();
    let mut members: HashMap<String, Vec<String>> = HashMap::new();
    let mut assocs = found.assocs.clone();
    if assocs.is_empty() && !packages.is_empty() {
        let ids: Vec<String> = packages.iter().map(|o| format!("'{}'", o.uuid)).collect();
        let req = AdhocQueryRequest {
            return_type: ReturnType::LeafClass,
            query_id: sq::GET_ASSOCIATIONS.into(),
            home: None,
            params: vec![Slot {
                name: "$uuid".into(),
                slot_type: None,
                values: vec![format!("({})", ids.join(","))],
            }],
        };
        assocs = query(svc, &req).await?.assocs;
    }
    let documents: std::collections::HashSet<&str> = found
        .objects
        .iter()
        .filter(|o| o.kind == EntryKind::DocumentEntry)
        .map(|o| o.uuid.as_str())
        .collect();
    // Members that are folders or associations are not documents.
    let not_documents: std::collections::HashSet<&str> = packages
        .iter()
        .map(|o| o.uuid.as_str())
        .chain(assocs.iter().map(|a| a.uuid.as_str()))
        .collect();
    for r in &assocs {
        let ok = r.assoc_type == ids::HAS_MEMBER
            && !not_documents.contains(r.target.as_str())
            && (documents.is_empty() || documents.contains(r.target.as_str()));
        if ok {
            members
                .entry(r.source.clone())
                .or_default()
                .push(r.target.clone());
        }
    }
    Ok(packages
        .iter()
        .filter_map(|o| {
            let ro = parse_stored_object(&o.xml)?;
            let m = members.remove(&o.uuid).unwrap_or_default();
            let l = from_rim::list(&ro, o.kind, o.status, &m);
            Some((
                bare(&o.uuid).to_string(),
                Resource::List(Box::new(l)),
                o.patient_id.clone(),
            ))
        })
        .collect())
}

pub async fn find_lists(svc: &MhdService, a: &Asked<'_>) -> RestReply {
    let f = a.format;
    let (req, _) = match search::find_lists(&a.req.query, &svc.base) {
        Ok(r) => r,
        Err(issues) => return error_reply(400, &issues, f, label::FIND_LISTS),
    };
    let found = match query(svc, &req).await {
        Ok(found) => found,
        Err((status, issues)) => return error_reply(status, &issues, f, label::FIND_LISTS),
    };
    let found_lists = match lists(svc, &found).await {
        Ok(l) => l,
        Err((status, issues)) => return error_reply(status, &issues, f, label::FIND_LISTS),
    };
    let mut ev = event(svc, a, EventType::FindDocumentLists, label::FIND_LISTS);
    ev.query_id = Some(req.query_id.clone());
    ev.patient_ids
        .extend(found_lists.first().map(|(_, _, p)| p.clone()));
    svc.auditor.record(ev).await;
    let set = searchset(
        svc,
        "List",
        found_lists.into_iter().map(|(i, r, _)| (i, r)).collect(),
    );
    resource_reply(200, &set, f, label::FIND_LISTS)
}

pub async fn list(svc: &MhdService, a: &Asked<'_>, id: &str) -> RestReply {
    let f = a.format;
    let Some(uuid) = uuid_of(id) else {
        return not_found("List", f, label::FIND_LISTS);
    };
    for (q, p) in [
        (
            sq::GET_SUBMISSION_SET_AND_CONTENTS,
            "$XDSSubmissionSetEntryUUID",
        ),
        (sq::GET_FOLDER_AND_CONTENTS, "$XDSFolderEntryUUID"),
    ] {
        let found = match query(svc, &get(q, p, &uuid)).await {
            Ok(found) => found,
            Err((status, issues)) => return error_reply(status, &issues, f, label::FIND_LISTS),
        };
        let found_lists = match lists(svc, &found).await {
            Ok(l) => l,
            Err((status, issues)) => return error_reply(status, &issues, f, label::FIND_LISTS),
        };
        if let Some((_, r, pid)) = found_lists.into_iter().find(|(i, _, _)| i == id) {
            let mut ev = event(svc, a, EventType::FindDocumentLists, label::FIND_LISTS);
            ev.patient_ids.push(pid);
            svc.auditor.record(ev).await;
            return resource_reply(200, &r, f, label::FIND_LISTS);
        }
    }
    not_found("List", f, label::FIND_LISTS)
}

/// ITI-68: the document, or a Binary resource when a FHIR type is asked for.
pub async fn binary(svc: &MhdService, a: &Asked<'_>, id: &str) -> RestReply {
    let f = a.format;
    let Some(uuid) = uuid_of(id) else {
        return not_found("Binary", f, label::RETRIEVE);
    };
    let found = match query(
        svc,
        &get(sq::GET_DOCUMENTS, "$XDSDocumentEntryEntryUUID", &uuid),
    )
    .await
    {
        Ok(found) => found,
        Err((status, issues)) => return error_reply(status, &issues, f, label::RETRIEVE),
    };
    let Some(entry) = found
        .objects
        .into_iter()
        .find(|o| o.kind == EntryKind::DocumentEntry)
    else {
        return not_found("Binary", f, label::RETRIEVE);
    };
    let repository_uid = entry.repository_uid.clone().unwrap_or_default();
    let mut ev = event(svc, a, EventType::RetrieveDocument, label::RETRIEVE);
    ev.patient_ids.push(entry.patient_id.clone());
    ev.document_ids.push(entry.unique_id.clone());
    let asked = vec![DocumentRequest {
        home: None,
        repository_uid,
        document_uid: entry.unique_id.clone(),
    }];
    let answer = match svc.repository.retrieve(asked, Viewer::national()).await {
        Ok(answer) => answer,
        Err(e) => {
            tracing::error!(error = %e, "repository storage failure on ITI-68");
            ev.outcome = crate::audit::Outcome::SeriousFailure;
            svc.auditor.record(ev).await;
            return error_reply(
                500,
                &[Issue::error("exception", "internal storage error")],
                f,
                label::RETRIEVE,
            );
        }
    };
    let Some(doc) = answer.attachments.into_iter().next() else {
        ev.outcome = crate::audit::Outcome::SeriousFailure;
        ev.reason = Some("document not in this repository".into());
        svc.auditor.record(ev).await;
        return error_reply(
            404,
            &[Issue::error(
                "not-found",
                "the document is registered but not held by this node's repository",
            )],
            f,
            label::RETRIEVE,
        );
    };
    svc.auditor.record(ev).await;
    let fhir_asked = a
        .req
        .accept
        .as_deref()
        .is_some_and(|acc| acc.split(',').any(|t| Format::named(t).is_some()))
        || a.req.query.contains("_format=");
    if !fhir_asked {
        return RestReply {
            status: 200,
            content_type: doc.mime_type,
            body: doc.data,
            headers: Vec::new(),
            action: label::RETRIEVE,
            outcome: "OK",
        };
    }
    use base64::Engine;
    let b = Binary {
        id: Some(fhir::id(id)),
        content_type: fhir::code(doc.mime_type),
        data: Some(types::Base64Binary {
            value: Some(base64::engine::general_purpose::STANDARD.encode(&doc.data)),
            ..Default::default()
        }),
        ..Default::default()
    };
    resource_reply(200, &Resource::Binary(Box::new(b)), f, label::RETRIEVE)
}

async fn patient_row(
    svc: &MhdService,
    pid: String,
) -> Result<Option<patients::PatientRow>, RestReply> {
    svc.registry
        .store
        .read(move |c| patients::get(c, &pid).map_err(crate::store::StoreError::from))
        .await
        .map_err(|e: crate::store::StoreError| {
            tracing::error!(error = %e, "patient lookup failed");
            error_reply(
                500,
                &[Issue::error("exception", "internal storage error")],
                Format::Json,
                label::PATIENT,
            )
        })
}

pub async fn patient(svc: &MhdService, a: &Asked<'_>, id: &str) -> RestReply {
    let Some(pid) = patient::cx_of_id(id) else {
        return not_found("Patient", a.format, label::PATIENT);
    };
    match patient_row(svc, pid).await {
        Ok(Some(row)) => {
            let r = Resource::Patient(Box::new(patient::resource(&row)));
            resource_reply(200, &r, a.format, label::PATIENT)
        }
        Ok(None) => not_found("Patient", a.format, label::PATIENT),
        Err(r) => r,
    }
}

/// `identifier=urn:oid:OID|value`: the one patient of the feed with that id, or none.
pub async fn find_patients(svc: &MhdService, a: &Asked<'_>) -> RestReply {
    let f = a.format;
    let params = search::pairs(&a.req.query);
    let Some((_, value)) = params.iter().find(|(k, _)| k == "identifier") else {
        return error_reply(
            400,
            &[
                Issue::error("required", "search Patients by identifier=system|value")
                    .at("identifier"),
            ],
            f,
            label::PATIENT,
        );
    };
    let pid = match value
        .split_once('|')
        .map(|(s, v)| patient::cx_of_identifier(s, v))
    {
        Some(Ok(p)) => p,
        Some(Err(why)) => {
            return error_reply(
                400,
                &[Issue::error("invalid", why).at("identifier")],
                f,
                label::PATIENT,
            )
        }
        None => {
            return error_reply(
                400,
                &[Issue::error("invalid", "identifier takes system|value").at("identifier")],
                f,
                label::PATIENT,
            )
        }
    };
    let rows = match patient_row(svc, pid).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let found = rows
        .into_iter()
        .filter_map(|row| {
            let r = patient::resource(&row);
            let id = fhir::text(r.id.as_ref())?;
            Some((id, Resource::Patient(Box::new(r))))
        })
        .collect();
    resource_reply(200, &searchset(svc, "Patient", found), f, label::PATIENT)
}

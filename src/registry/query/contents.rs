//! GetAll, GetSubmissionSetAndContents, GetFolderAndContents, GetFoldersForDocument,
//! GetRelatedDocuments: an entry and what its associations reach.

use super::find::{entry_types, filter_codes, CodeFilter};
use super::get::{documents_named, load_entries};
use super::params::Params;
use super::{statuses, too_many_results, Found, QueryLimits};
use crate::registry::gate::Gate;
use crate::registry::RegistryFailure;
use crate::store::registry::{self as rs, AssocRow, ObjectRow, TimeFilter};
use crate::store::DbConn;
use crate::xds::model::{AvailabilityStatus, CodeKind, EntryKind};
use crate::xds::{ids, ErrorCode, XdsError};
use std::collections::HashSet;

/// The optional DocumentEntry filters of the *AndContents queries and GetAll.
fn doc_filters(p: &Params) -> Result<(Vec<CodeFilter>, Vec<bool>), XdsError> {
    let mut f = Vec::new();
    if let Some(c) = p.codes("$XDSDocumentEntryFormatCode")? {
        f.push(CodeFilter {
            kind: CodeKind::Format,
            groups: vec![c],
        });
    }
    let conf = p.code_groups("$XDSDocumentEntryConfidentialityCode")?;
    if !conf.is_empty() {
        f.push(CodeFilter {
            kind: CodeKind::Confidentiality,
            groups: conf,
        });
    }
    Ok((f, entry_types(p)?))
}

fn keep_docs(
    conn: &mut DbConn,
    p: &Params,
    docs: Vec<ObjectRow>,
) -> Result<Vec<ObjectRow>, RegistryFailure> {
    let (filters, types) = doc_filters(p)?;
    let docs: Vec<ObjectRow> = docs
        .into_iter()
        .filter(|d| d.kind != EntryKind::DocumentEntry || types.contains(&d.on_demand))
        .collect();
    filter_codes(conn, docs, &filters)
}

fn single(rows: Vec<ObjectRow>, what: &str) -> Result<Option<ObjectRow>, XdsError> {
    match rows.len() {
        0 => Ok(None),
        1 => Ok(rows.into_iter().next()),
        _ => Err(XdsError::registry(format!(
            "the identifier names more than one {what}"
        ))),
    }
}

/// A container (SubmissionSet or Folder), the entries it holds, and the links.
fn contents_of(
    conn: &mut DbConn,
    p: &Params,
    container: ObjectRow,
) -> Result<Found, RegistryFailure> {
    let links = rs::assocs_touching(
        conn,
        std::slice::from_ref(&container.uuid),
        false,
        Some(&[ids::HAS_MEMBER]),
    )?;
    let targets: Vec<String> = links.iter().map(|a| a.target.clone()).collect();
    let members = rs::objects_by_uuids(conn, &targets)?;
    let member_docs: Vec<ObjectRow> = members
        .iter()
        .filter(|m| m.kind == EntryKind::DocumentEntry)
        .cloned()
        .collect();
    let docs = keep_docs(conn, p, member_docs)?;
    let folders: Vec<ObjectRow> = members
        .into_iter()
        .filter(|m| m.kind == EntryKind::Folder)
        .collect();
    let is_set = container.kind == EntryKind::SubmissionSet;
    let mut found = Found::default();
    found.push_objects([container]);
    let kept: HashSet<String> = docs
        .iter()
        .chain(folders.iter())
        .map(|o| o.uuid.clone())
        .collect();
    found.push_objects(docs);
    found.push_objects(folders);
    // Associations held by a SubmissionSet (Folder membership links) come along.
    let assoc_targets: Vec<String> = links
        .iter()
        .filter(|a| !kept.contains(&a.target))
        .map(|a| a.target.clone())
        .collect();
    let inner: Vec<AssocRow> = if is_set {
        rs::assocs_by_uuids(conn, &assoc_targets)?
            .into_iter()
            .filter(|a| kept.contains(&a.target))
            .collect()
    } else {
        Vec::new()
    };
    let inner_ids: HashSet<String> = inner.iter().map(|a| a.uuid.clone()).collect();
    found.push_assocs(
        links
            .into_iter()
            .filter(|a| kept.contains(&a.target) || inner_ids.contains(&a.target)),
    );
    found.push_assocs(inner);
    Ok(found)
}

pub fn get_submission_set_and_contents(
    conn: &mut DbConn,
    p: &Params,
    gate: &mut Gate,
) -> Result<Found, RegistryFailure> {
    match single(
        load_entries(conn, p, EntryKind::SubmissionSet, gate)?,
        "SubmissionSet",
    )? {
        None => Ok(Found::default()),
        Some(set) => contents_of(conn, p, set),
    }
}

pub fn get_folder_and_contents(
    conn: &mut DbConn,
    p: &Params,
    gate: &mut Gate,
) -> Result<Found, RegistryFailure> {
    let folders = load_entries(conn, p, EntryKind::Folder, gate)?;
    // At $MetadataLevel 2 a uniqueId or logicalID names every version of one Folder.
    let one_lid = folders.windows(2).all(|w| w[0].lid == w[1].lid);
    if folders.len() > 1 && one_lid {
        let mut found = Found::default();
        for f in folders {
            let part = contents_of(conn, p, f)?;
            found.push_objects(part.objects);
            found.push_assocs(part.assocs);
        }
        return Ok(found);
    }
    match single(folders, "Folder")? {
        None => Ok(Found::default()),
        Some(folder) => contents_of(conn, p, folder),
    }
}

pub fn get_folders_for_document(
    conn: &mut DbConn,
    p: &Params,
    gate: &mut Gate,
) -> Result<Found, RegistryFailure> {
    let (_, uuids) = documents_named(conn, p, gate)?;
    let links = rs::assocs_touching(conn, &uuids, true, Some(&[ids::HAS_MEMBER]))?;
    let sources: Vec<String> = links.iter().map(|a| a.source.clone()).collect();
    let folders = rs::objects_by_uuids(conn, &sources)?
        .into_iter()
        .filter(|r| r.kind == EntryKind::Folder);
    let mut found = Found::default();
    found.push_objects(folders);
    Ok(found)
}

pub fn get_related_documents(
    conn: &mut DbConn,
    p: &Params,
    gate: &mut Gate,
) -> Result<Found, RegistryFailure> {
    let types = p.required_list("$AssociationTypes")?;
    if types.is_empty() {
        return Err(XdsError::new(
            ErrorCode::StoredQueryMissingParam,
            "$AssociationTypes has no values",
        )
        .into());
    }
    let docs = load_entries(conn, p, EntryKind::DocumentEntry, gate)?;
    let Some(doc) = single(docs, "DocumentEntry")? else {
        return Ok(Found::default());
    };
    let type_refs: Vec<&str> = types.iter().map(String::as_str).collect();
    let id = [doc.uuid.clone()];
    let mut links = rs::assocs_touching(conn, &id, false, Some(&type_refs))?;
    links.extend(rs::assocs_touching(conn, &id, true, Some(&type_refs))?);
    // At $MetadataLevel 1 a Deprecated relationship relates nothing.
    if p.metadata_level()? == 1 {
        links.retain(|a| a.status == AvailabilityStatus::Approved);
    }
    let others: Vec<String> = links
        .iter()
        .map(|a| {
            if a.source == doc.uuid {
                a.target.clone()
            } else {
                a.source.clone()
            }
        })
        .collect();
    let candidates: Vec<ObjectRow> = rs::objects_by_uuids(conn, &others)?
        .into_iter()
        .filter(|r| r.kind == EntryKind::DocumentEntry)
        .collect();
    // Hidden related documents are left out before the emptiness check, as if absent.
    let related = keep_docs(conn, p, candidates)?;
    let related = gate.keep_rows(conn, related)?;
    if related.is_empty() {
        return Ok(Found::default());
    }
    let related_ids: HashSet<String> = related.iter().map(|r| r.uuid.clone()).collect();
    let mut found = Found::default();
    found.push_objects([doc]);
    found.push_objects(related);
    found.push_assocs(
        links
            .into_iter()
            .filter(|a| related_ids.contains(&a.source) || related_ids.contains(&a.target)),
    );
    Ok(found)
}

pub fn get_all(
    conn: &mut DbConn,
    p: &Params,
    limits: QueryLimits,
) -> Result<Found, RegistryFailure> {
    let pid = p.required_single("$patientId")?;
    let doc_status = statuses(&p.required_list("$XDSDocumentEntryStatus")?);
    let set_status = statuses(&p.required_list("$XDSSubmissionSetStatus")?);
    let folder_status = statuses(&p.required_list("$XDSFolderStatus")?);
    let cap = (limits.max_results as i64).saturating_add(1);
    let t = TimeFilter::default();
    let (filters, types) = doc_filters(p)?;
    let docs = rs::objects_for_patient(
        conn,
        &pid,
        EntryKind::DocumentEntry,
        &doc_status,
        Some(&types),
        &t,
        cap,
    )?;
    let docs = filter_codes(conn, docs, &filters)?;
    let sets = rs::objects_for_patient(
        conn,
        &pid,
        EntryKind::SubmissionSet,
        &set_status,
        None,
        &t,
        cap,
    )?;
    let folders =
        rs::objects_for_patient(conn, &pid, EntryKind::Folder, &folder_status, None, &t, cap)?;
    let mut found = Found::default();
    found.push_objects(sets);
    found.push_objects(docs);
    found.push_objects(folders);
    // Counted before hidden documents are left out: an answer cut short here would lack its
    // associations.
    if found.objects.len() > limits.max_results {
        return Err(too_many_results(limits.max_results).into());
    }
    let ids: Vec<String> = found.objects.iter().map(|o| o.uuid.clone()).collect();
    let idset: HashSet<&str> = ids.iter().map(String::as_str).collect();
    let links = rs::assocs_touching(conn, &ids, false, None)?;
    let (direct, via): (Vec<AssocRow>, Vec<AssocRow>) = links
        .into_iter()
        .partition(|a| idset.contains(a.target.as_str()));
    let direct_ids: HashSet<String> = direct.iter().map(|a| a.uuid.clone()).collect();
    let assocs: Vec<AssocRow> = direct
        .into_iter()
        .chain(via.into_iter().filter(|a| direct_ids.contains(&a.target)))
        .collect();
    found.push_assocs(assocs);
    Ok(found)
}

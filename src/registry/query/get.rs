//! GetDocuments, GetFolders, GetAssociations, GetDocumentsAndAssociations, GetSubmissionSets:
//! lookups by entryUUID or uniqueId.

use super::params::Params;
use super::Found;
use crate::registry::gate::Gate;
use crate::registry::RegistryFailure;
use crate::store::registry::{self as rs, ObjectRow};
use crate::store::DbConn;
use crate::xds::ids;
use crate::xds::model::EntryKind;

/// Entries of one kind by `$X...EntryUUID` or `$X...UniqueId`, those the caller may see: a
/// hidden entry is not found, and nothing is reached through it.
pub fn load_entries(
    conn: &mut DbConn,
    p: &Params,
    kind: EntryKind,
    gate: &mut Gate,
) -> Result<Vec<ObjectRow>, RegistryFailure> {
    let (uuid_param, uid_param) = match kind {
        EntryKind::DocumentEntry => ("$XDSDocumentEntryEntryUUID", "$XDSDocumentEntryUniqueId"),
        EntryKind::Folder => ("$XDSFolderEntryUUID", "$XDSFolderUniqueId"),
        EntryKind::SubmissionSet => ("$XDSSubmissionSetEntryUUID", "$XDSSubmissionSetUniqueId"),
    };
    let (by_uuid, values) = p.one_of(uuid_param, uid_param)?;
    let rows = if by_uuid {
        rs::objects_by_uuids(conn, &values)?
    } else {
        rs::objects_by_unique_ids(conn, &values)?
    };
    let rows = rows.into_iter().filter(|r| r.kind == kind).collect();
    Ok(gate.keep_rows(conn, rows)?)
}

pub fn get_entries(
    conn: &mut DbConn,
    p: &Params,
    kind: EntryKind,
    gate: &mut Gate,
) -> Result<Found, RegistryFailure> {
    Ok(Found::of_objects(load_entries(conn, p, kind, gate)?))
}

pub fn get_associations(conn: &mut DbConn, p: &Params) -> Result<Found, RegistryFailure> {
    let uuids = p.required_list("$uuid")?;
    let mut found = Found::default();
    found.push_assocs(rs::assocs_touching(conn, &uuids, false, None)?);
    found.push_assocs(rs::assocs_touching(conn, &uuids, true, None)?);
    Ok(found)
}

/// The DocumentEntries a query names, with their uuids.
pub fn documents_named(
    conn: &mut DbConn,
    p: &Params,
    gate: &mut Gate,
) -> Result<(Vec<ObjectRow>, Vec<String>), RegistryFailure> {
    let docs = load_entries(conn, p, EntryKind::DocumentEntry, gate)?;
    let uuids = docs.iter().map(|d| d.uuid.clone()).collect();
    Ok((docs, uuids))
}

pub fn get_documents_and_associations(
    conn: &mut DbConn,
    p: &Params,
    gate: &mut Gate,
) -> Result<Found, RegistryFailure> {
    let (docs, uuids) = documents_named(conn, p, gate)?;
    let mut found = Found::default();
    found.push_objects(docs);
    found.push_assocs(rs::assocs_touching(conn, &uuids, false, None)?);
    found.push_assocs(rs::assocs_touching(conn, &uuids, true, None)?);
    Ok(found)
}

/// The SubmissionSets that hold the given DocumentEntries or Folders, with the HasMember links.
pub fn get_submission_sets(
    conn: &mut DbConn,
    p: &Params,
    gate: &mut Gate,
) -> Result<Found, RegistryFailure> {
    // The sets holding a hidden entry are not named: it is as if the entry were absent.
    let uuids = gate.keep_ids(conn, p.required_list("$uuid")?)?;
    let links = rs::assocs_touching(conn, &uuids, true, Some(&[ids::HAS_MEMBER]))?;
    let sources: Vec<String> = links.iter().map(|a| a.source.clone()).collect();
    let sets: Vec<ObjectRow> = rs::objects_by_uuids(conn, &sources)?
        .into_iter()
        .filter(|r| r.kind == EntryKind::SubmissionSet)
        .collect();
    let mut found = Found::default();
    found.push_assocs(
        links
            .into_iter()
            .filter(|a| sets.iter().any(|s| s.uuid == a.source)),
    );
    found.push_objects(sets);
    Ok(found)
}

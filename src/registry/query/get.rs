//! GetDocuments, GetFolders, GetAssociations, GetDocumentsAndAssociations, GetSubmissionSets:
//! lookups by entryUUID or uniqueId.

use super::params::{param_number, Params};
use super::Found;
use crate::registry::gate::Gate;
use crate::registry::RegistryFailure;
use crate::store::registry::{self as rs, ObjectRow};
use crate::store::DbConn;
use crate::xds::ids;
use crate::xds::model::{AvailabilityStatus, EntryKind};

/// Entries of one kind by `$X...EntryUUID`, `$X...UniqueId` or (DocumentEntries and
/// Folders) `$X...LogicalID`, those the caller may see: a hidden entry is not found, and
/// nothing is reached through it. At `$MetadataLevel` 1 only newest versions are found.
pub fn load_entries(
    conn: &mut DbConn,
    p: &Params,
    kind: EntryKind,
    gate: &mut Gate,
) -> Result<Vec<ObjectRow>, RegistryFailure> {
    let (uuid_param, uid_param, lid_param) = match kind {
        EntryKind::DocumentEntry => (
            "$XDSDocumentEntryEntryUUID",
            "$XDSDocumentEntryUniqueId",
            Some("$XDSDocumentEntryLogicalID"),
        ),
        EntryKind::Folder => (
            "$XDSFolderEntryUUID",
            "$XDSFolderUniqueId",
            Some("$XDSFolderLogicalID"),
        ),
        EntryKind::SubmissionSet => (
            "$XDSSubmissionSetEntryUUID",
            "$XDSSubmissionSetUniqueId",
            None,
        ),
    };
    let level = p.metadata_level()?;
    let by_lid = match lid_param {
        Some(name) if p.has(name) => {
            if p.has(uuid_param) || p.has(uid_param) {
                return Err(param_number(format!(
                    "{name} may not be given with {uuid_param} or {uid_param}"
                ))
                .into());
            }
            Some(p.required_list(name)?)
        }
        _ => None,
    };
    let rows = match by_lid {
        Some(lids) => rs::objects_by_lids(conn, &lids)?,
        None => {
            let (by_uuid, values) = p.one_of(uuid_param, uid_param)?;
            if by_uuid {
                rs::objects_by_uuids(conn, &values)?
            } else {
                rs::objects_by_unique_ids(conn, &values)?
            }
        }
    };
    let mut rows: Vec<ObjectRow> = rows.into_iter().filter(|r| r.kind == kind).collect();
    if level == 1 {
        rows = newest_only(conn, rows)?;
    }
    Ok(gate.keep_rows(conn, rows)?)
}

/// Leaves out versions that a newer one replaced. A replaced version is always Deprecated,
/// so only Deprecated rows cost a lookup (by the `(lid, version)` index).
pub fn newest_only(
    conn: &mut DbConn,
    rows: Vec<ObjectRow>,
) -> Result<Vec<ObjectRow>, RegistryFailure> {
    let mut lids: Vec<String> = rows
        .iter()
        .filter(|r| {
            r.status == AvailabilityStatus::Deprecated && r.kind != EntryKind::SubmissionSet
        })
        .map(|r| r.lid.clone())
        .collect();
    if lids.is_empty() {
        return Ok(rows);
    }
    lids.sort_unstable();
    lids.dedup();
    let newest = rs::latest_versions(conn, &lids)?;
    Ok(rows
        .into_iter()
        .filter(|r| newest.get(&r.lid).is_none_or(|n| n.uuid == r.uuid))
        .collect())
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

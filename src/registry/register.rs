//! ITI-42 Register Document Set-b: the checked submission is resolved against the registry
//! and stored in one transaction.

use super::lifecycle::{apply_lifecycle, LifecycleEffects};
use super::submission::{patient_mismatch, prepare, unresolved, Submission};
use super::{Registry, RegistryFailure};
use crate::audit::AuditEvent;
use crate::ebxml::write::object_xml;
use crate::ebxml::RegistryObject;
use crate::store::registry::{self as rs, NewAssoc, NewObject, ObjectKeys, ObjectRow, ValueKind};
use crate::store::{patients, DbConn};
use crate::xds::model::{AvailabilityStatus, Entry, EntryKind};
use crate::xds::validate::Expect;
use crate::xds::{ids, time, ErrorCode, XdsError};
use std::collections::{HashMap, HashSet};

impl Registry {
    /// Registers a submission. Returns warnings on success.
    pub async fn register(
        &self,
        objects: Vec<RegistryObject>,
        expect: Expect,
    ) -> Result<Vec<XdsError>, RegistryFailure> {
        self.register_audited(objects, expect, None).await
    }

    /// Registers a submission with its audit record in the same transaction: both or neither.
    pub async fn register_audited(
        &self,
        objects: Vec<RegistryObject>,
        expect: Expect,
        audit: Option<AuditEvent>,
    ) -> Result<Vec<XdsError>, RegistryFailure> {
        let mut sub = prepare(objects, &self.policy, expect).map_err(RegistryFailure::Xds)?;
        sub.submitted_by = audit
            .as_ref()
            .map(AuditEvent::submitter)
            .unwrap_or_default();
        let allow_unknown = self.cfg.allow_unknown_patients;
        self.store
            .write(move |conn| {
                let warnings = store_submission(conn, &sub, allow_unknown)?;
                audit_submission(conn, &sub, audit)?;
                Ok(warnings)
            })
            .await
    }
}

/// Appends the audit record of a stored submission, naming its patient, documents and set.
/// Last in the transaction: the audit chain head stays locked until commit.
pub fn audit_submission(
    conn: &mut DbConn,
    sub: &Submission,
    audit: Option<AuditEvent>,
) -> Result<(), RegistryFailure> {
    let Some(mut ev) = audit else { return Ok(()) };
    ev.patient_ids.push(sub.set.patient_id.clone());
    ev.document_ids
        .extend(sub.docs.iter().map(|d| d.unique_id.clone()));
    ev.submission_set = Some(sub.set.unique_id.clone());
    crate::audit::append(conn, &ev)?;
    Ok(())
}

/// Resolves and stores a prepared submission. Must run inside a transaction (the caller's):
/// any error rolls everything back.
pub fn store_submission(
    conn: &mut DbConn,
    sub: &Submission,
    allow_unknown_patients: bool,
) -> Result<Vec<XdsError>, RegistryFailure> {
    let mut errs = Vec::new();
    check_patient(conn, sub, allow_unknown_patients, &mut errs)?;
    check_collisions(conn, sub, &mut errs)?;
    let existing = load_referenced(conn, sub)?;
    let mut effects = LifecycleEffects::default();
    check_membership(sub, &existing, &mut errs, &mut effects);
    apply_lifecycle(conn, sub, &existing, &mut errs, &mut effects)?;
    if !errs.is_empty() {
        return Err(RegistryFailure::Xds(errs));
    }

    let now = time::now_dtm();
    let now_i = time::dtm_to_i64(&now).unwrap_or_default();
    let entries: Vec<&Entry> = sub.entries().collect();
    insert_entries(conn, &entries, now_i, 1, &sub.submitted_by).map_err(stored_first)?;
    let assocs: Vec<NewAssoc> = sub
        .assocs
        .iter()
        .chain(effects.extra_assocs.iter())
        .map(new_assoc)
        .collect();
    rs::insert_assocs(conn, &assocs).map_err(|e| stored_first(e.into()))?;
    // Sorted, so concurrent submissions lock rows in one order.
    let mut deprecate: Vec<String> = effects.deprecate.iter().cloned().collect();
    deprecate.sort_unstable();
    rs::set_status(conn, &deprecate, AvailabilityStatus::Deprecated)?;
    if !deprecate.is_empty() {
        // Replaced sources lose their eHDSI pivots; the next query translates the new one.
        let uids: Vec<String> = rs::objects_by_uuids(conn, &deprecate)?
            .into_iter()
            .map(|r| r.object.unique_id)
            .collect();
        crate::store::pivots::forget_sources(conn, &uids)?;
    }
    rs::set_last_update(conn, &effects.touched_folders, now_i)?;
    Ok(Vec::new())
}

/// The SubmissionSet's patient must be in the patient index (unless the registry takes any).
pub(super) fn check_patient(
    conn: &mut DbConn,
    sub: &Submission,
    allow_unknown_patients: bool,
    errs: &mut Vec<XdsError>,
) -> Result<(), RegistryFailure> {
    let pid = &sub.set.patient_id;
    if !allow_unknown_patients && !patients::exists(conn, pid)? {
        errs.push(XdsError::new(
            ErrorCode::UnknownPatientId,
            format!("patient id {pid} is not known to this registry"),
        ));
    }
    Ok(())
}

/// Every entryUUID and association id of a submission must be new to the registry.
pub(super) fn check_new_uuids(
    conn: &mut DbConn,
    sub: &Submission,
    errs: &mut Vec<XdsError>,
) -> Result<(), RegistryFailure> {
    let uuids: Vec<String> = sub
        .entries()
        .map(|e| e.uuid().to_string())
        .chain(sub.assocs.iter().map(|a| a.id.clone()))
        .collect();
    let taken = rs::objects_by_uuids(conn, &uuids)?
        .into_iter()
        .map(|r| r.object.uuid)
        .chain(
            rs::assocs_by_uuids(conn, &uuids)?
                .into_iter()
                .map(|a| a.assoc.uuid),
        );
    for t in taken {
        errs.push(XdsError::new(
            ErrorCode::DuplicateUniqueIdInRegistry,
            format!("entryUUID {t} is already in the registry"),
        ));
    }
    Ok(())
}

/// entryUUIDs must be new; SubmissionSet and Folder uniqueIds must be new; a DocumentEntry
/// uniqueId may repeat only for the very same document (same hash).
fn check_collisions(
    conn: &mut DbConn,
    sub: &Submission,
    errs: &mut Vec<XdsError>,
) -> Result<(), RegistryFailure> {
    check_new_uuids(conn, sub, errs)?;
    let by_uid: HashMap<&str, &Entry> = sub.entries().map(|e| (e.unique_id.as_str(), e)).collect();
    let uids: Vec<String> = by_uid.keys().map(|u| u.to_string()).collect();
    for row in rs::objects_by_unique_ids(conn, &uids)? {
        let Some(e) = by_uid.get(row.unique_id.as_str()) else {
            continue;
        };
        let same_kind = e.kind == row.kind;
        if same_kind && e.kind == EntryKind::DocumentEntry {
            let hash = e
                .object
                .first_slot_value("hash")
                .map(str::to_ascii_lowercase);
            if hash.is_some() && hash != row.hash.as_deref().map(str::to_ascii_lowercase) {
                errs.push(XdsError::new(
                    ErrorCode::NonIdenticalHash,
                    format!(
                        "DocumentEntry uniqueId {} is already registered with a different hash",
                        e.unique_id
                    ),
                ));
            }
        } else {
            errs.push(XdsError::new(
                ErrorCode::DuplicateUniqueIdInRegistry,
                format!(
                    "{} uniqueId {} is already in the registry",
                    e.kind.label(),
                    e.unique_id
                ),
            ));
        }
    }
    Ok(())
}

/// A submission registered at the same moment (through another node, or another connection)
/// with the same entryUUID, SubmissionSet uniqueId or first-version Folder uniqueId: the unique
/// indexes let one through, and the other gets the XDS error the checks above would have given.
fn stored_first(f: RegistryFailure) -> RegistryFailure {
    f.or_if_taken(|| {
        XdsError::new(
            ErrorCode::DuplicateUniqueIdInRegistry,
            "an object of this submission (entryUUID or uniqueId) was registered by another submission at the same moment",
        )
    })
}

/// Registry objects that associations in the submission point at and that are not in it.
fn load_referenced(
    conn: &mut DbConn,
    sub: &Submission,
) -> Result<HashMap<String, ObjectRow>, RegistryFailure> {
    let mut ids: Vec<String> = Vec::new();
    for a in &sub.assocs {
        for id in [&a.source_object, &a.target_object].into_iter().flatten() {
            if !sub.contains(id) && !sub.has_assoc(id) {
                ids.push(id.clone());
            }
        }
    }
    ids.sort();
    ids.dedup();
    Ok(rs::objects_by_uuids(conn, &ids)?
        .into_iter()
        .map(|r| (r.uuid.clone(), r))
        .collect())
}

/// HasMember rules: the SubmissionSet holds every new DocumentEntry and Folder; a Folder's
/// members share its patient.
fn check_membership(
    sub: &Submission,
    existing: &HashMap<String, ObjectRow>,
    errs: &mut Vec<XdsError>,
    effects: &mut LifecycleEffects,
) {
    let set_id = sub.set.uuid();
    let patient_of = |id: &str| -> Option<String> {
        sub.entry(id)
            .map(|e| e.patient_id.clone())
            .or_else(|| existing.get(id).map(|r| r.patient_id.clone()))
    };
    for a in sub
        .assocs
        .iter()
        .filter(|a| a.association_type.as_deref() == Some(ids::HAS_MEMBER))
    {
        let src = a.source_object.as_deref().unwrap_or_default();
        let tgt = a.target_object.as_deref().unwrap_or_default();
        let target_known = sub.contains(tgt) || existing.contains_key(tgt) || sub.has_assoc(tgt);
        if !target_known {
            errs.push(unresolved(a, tgt));
            continue;
        }
        if src == set_id {
            if sub.doc(tgt).is_some()
                || existing.get(tgt).map(|r| r.kind) == Some(EntryKind::DocumentEntry)
            {
                let status = a.first_slot_value("SubmissionSetStatus");
                let expected = if sub.doc(tgt).is_some() {
                    "Original"
                } else {
                    "Reference"
                };
                if status.is_none() {
                    errs.push(XdsError::metadata(format!(
                        "HasMember association {} from the SubmissionSet to a DocumentEntry needs slot SubmissionSetStatus ({expected})",
                        a.id
                    )));
                }
            }
            if let Some(row) = existing.get(tgt) {
                if row.patient_id != sub.set.patient_id {
                    errs.push(patient_mismatch(
                        &a.id,
                        &row.patient_id,
                        &sub.set.patient_id,
                    ));
                }
            }
            continue;
        }
        // Folder membership: source is a new or existing Folder.
        let folder_new = sub.folder(src).is_some();
        let folder_old = existing.get(src).filter(|r| r.kind == EntryKind::Folder);
        if !folder_new && folder_old.is_none() {
            let known = existing.contains_key(src) || sub.contains(src);
            errs.push(if known {
                XdsError::metadata(format!(
                    "HasMember association {} has a source that is neither the SubmissionSet nor a Folder",
                    a.id
                ))
            } else {
                unresolved(a, src)
            });
            continue;
        }
        if let Some(f) = folder_old {
            if f.status != AvailabilityStatus::Approved {
                errs.push(XdsError::metadata(format!("Folder {src} is not Approved")));
            }
            effects.touched_folders.push(src.to_string());
        }
        if let (Some(fp), Some(dp)) = (patient_of(src), patient_of(tgt)) {
            if fp != dp {
                errs.push(patient_mismatch(&a.id, &dp, &fp));
            }
        }
    }
    let members: HashSet<&str> = sub
        .assocs
        .iter()
        .filter(|a| {
            a.association_type.as_deref() == Some(ids::HAS_MEMBER)
                && a.source_object.as_deref() == Some(set_id)
        })
        .filter_map(|a| a.target_object.as_deref())
        .collect();
    for e in sub.docs.iter().chain(sub.folders.iter()) {
        if !members.contains(&e.uuid()) {
            errs.push(XdsError::metadata(format!(
                "{} {} is not a member of the SubmissionSet (HasMember association missing)",
                e.kind.label(),
                e.uuid()
            )));
        }
    }
}

/// Stores one entry as `version` of its logical object (`e.object.lid`).
pub fn insert_entry(
    conn: &mut DbConn,
    e: &Entry,
    now: i64,
    version: i32,
    submitted_by: &str,
) -> Result<(), RegistryFailure> {
    insert_entries(conn, &[e], now, version, submitted_by)
}

/// Stores entries, each as `version` of its logical object, with one statement per table.
pub fn insert_entries(
    conn: &mut DbConn,
    entries: &[&Entry],
    now: i64,
    version: i32,
    submitted_by: &str,
) -> Result<(), RegistryFailure> {
    let objects: Vec<NewObject> = entries
        .iter()
        .map(|e| new_object(e, now, version, submitted_by))
        .collect();
    let keys: Vec<ObjectKeys> = entries.iter().map(|e| object_keys(e)).collect();
    rs::insert_objects(conn, &objects, &keys)?;
    Ok(())
}

fn new_object(e: &Entry, now: i64, version: i32, submitted_by: &str) -> NewObject {
    let o = &e.object;
    NewObject {
        uuid: e.uuid().to_string(),
        lid: o.lid.clone().unwrap_or_else(|| e.uuid().to_string()),
        kind: e.kind,
        unique_id: e.unique_id.clone(),
        patient_id: e.patient_id.clone(),
        status: AvailabilityStatus::Approved,
        on_demand: e.is_on_demand(),
        creation_time: e.time("creationTime"),
        service_start: e.time("serviceStartTime"),
        service_stop: e.time("serviceStopTime"),
        submission_time: e.time("submissionTime"),
        last_update: (e.kind == EntryKind::Folder).then_some(now),
        hash: o.first_slot_value("hash").map(str::to_ascii_lowercase),
        size: o
            .first_slot_value("size")
            .and_then(|s| s.trim().parse().ok()),
        repository_uid: o.first_slot_value("repositoryUniqueId").map(str::to_string),
        xml: object_xml(o).into(),
        version,
        submitted_by: submitted_by.to_string(),
    }
}

/// The entry's coded and plain values that queries select by.
fn object_keys(e: &Entry) -> ObjectKeys<'_> {
    let codes = e
        .codes
        .iter()
        .map(|(k, c)| (*k, c.code.as_str(), c.scheme.as_str()))
        .collect();
    let values = e
        .authors
        .iter()
        .map(|a| (ValueKind::Author, a.as_str()))
        .chain(
            e.reference_ids
                .iter()
                .map(|r| (ValueKind::ReferenceId, r.as_str())),
        )
        .chain(
            e.object
                .external_id(ids::SS_SOURCE_ID)
                .and_then(|x| x.value.as_deref())
                .map(|v| (ValueKind::SourceId, v.trim())),
        )
        .collect();
    ObjectKeys { codes, values }
}

pub fn new_assoc(a: &RegistryObject) -> NewAssoc {
    let mut stored = a.clone();
    stored.status = None;
    stored.home = None;
    NewAssoc {
        uuid: a.id.clone(),
        assoc_type: a.association_type.clone().unwrap_or_default(),
        source: a.source_object.clone().unwrap_or_default(),
        target: a.target_object.clone().unwrap_or_default(),
        status: AvailabilityStatus::Approved,
        xml: object_xml(&stored).into(),
    }
}

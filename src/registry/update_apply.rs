//! `Registry::update_audited`: checks the operations of an ITI-57/92 submission against the
//! registry and stores them with the audit record, in one transaction. Every check runs before the first write, so a refused request
//! changes nothing; concurrent updates of one logical object are decided by the database
//! (the write lock on SQLite, the unique (lid, version) pair on PostgreSQL and SQLite alike).

use super::ownership::refuse_foreign_source;
use super::register::{audit_submission, check_new_uuids, check_patient, insert_entry, new_assoc};
use super::submission::{patient_mismatch, prepare, unresolved, Submission};
use super::update::{plan, repeated_lids, NewVersion, Ops, StatusChange, UpdateKind};
use super::{Registry, RegistryFailure};
use crate::audit::AuditEvent;
use crate::ebxml::{RegistryObject, RimTag};
use crate::store::registry::{self as rs, AssocRow, NewAssoc, ObjectRow};
use crate::store::DbConn;
use crate::xds::model::{AvailabilityStatus, EntryKind};
use crate::xds::validate::Expect;
use crate::xds::{ids, time, ErrorCode, XdsError};
use std::collections::{HashMap, HashSet};

impl Registry {
    /// Applies an ITI-57 or ITI-92 submission with its audit record, all or nothing.
    pub async fn update_audited(
        &self,
        objects: Vec<RegistryObject>,
        kind: UpdateKind,
        audit: Option<AuditEvent>,
    ) -> Result<Vec<XdsError>, RegistryFailure> {
        let repeated = repeated_lids(&objects);
        let expect = Expect {
            metadata_update: true,
            ..Expect::default()
        };
        let mut sub = match prepare(objects, &self.policy, expect) {
            Ok(sub) if repeated.is_empty() => sub,
            Ok(_) => return Err(RegistryFailure::Xds(repeated)),
            Err(mut errs) => {
                errs.extend(repeated);
                return Err(RegistryFailure::Xds(errs));
            }
        };
        sub.submitted_by = audit
            .as_ref()
            .map(AuditEvent::submitter)
            .unwrap_or_default();
        let ops = plan(&sub, kind).map_err(RegistryFailure::Xds)?;
        let allow_unknown = self.cfg.allow_unknown_patients;
        self.store
            .write(move |conn| {
                let warnings = apply(conn, &sub, &ops, kind, allow_unknown)?;
                audit_submission(conn, &sub, audit)?;
                Ok(warnings)
            })
            .await
            .map_err(lost_race)
    }
}

/// Two updates of one version at once: the unique (lid, version) index refuses the second,
/// which is told so as a version error rather than a storage failure.
fn lost_race(f: RegistryFailure) -> RegistryFailure {
    f.or_if_taken(|| {
        XdsError::new(
            ErrorCode::MetadataVersionError,
            "another update of the same version was stored first; query the newest version and try again",
        )
    })
}

/// The writes a checked submission makes.
#[derive(Default)]
struct Writes {
    /// (entry uuid, version, status) of each new version.
    versions: Vec<(String, i32, AvailabilityStatus)>,
    deprecate: Vec<String>,
    object_status: Vec<(String, AvailabilityStatus)>,
    assoc_status: Vec<(String, AvailabilityStatus)>,
    propagated: Vec<RegistryObject>,
    touched_folders: Vec<String>,
    /// uniqueIds of DocumentEntries that changed: their eHDSI pivots are dropped.
    changed_docs: Vec<String>,
}

pub fn apply(
    conn: &mut DbConn,
    sub: &Submission,
    ops: &Ops,
    kind: UpdateKind,
    allow_unknown_patients: bool,
) -> Result<Vec<XdsError>, RegistryFailure> {
    let mut errs = Vec::new();
    check_patient(conn, sub, allow_unknown_patients, &mut errs)?;
    check_new_ids(conn, sub, &mut errs)?;
    let lids: Vec<String> = ops.versions.iter().map(|v| v.lid.clone()).collect();
    let latest = rs::latest_versions(conn, &lids)?;
    let mut w = Writes::default();
    for v in &ops.versions {
        check_version(conn, sub, v, latest.get(&v.lid), kind, &mut errs, &mut w)?;
    }
    // A status change aimed at the version this request replaces lands on the new one.
    let replaced: HashMap<&str, &str> = ops
        .versions
        .iter()
        .filter_map(|v| {
            latest
                .get(&v.lid)
                .map(|l| (l.uuid.as_str(), v.uuid.as_str()))
        })
        .collect();
    for s in &ops.statuses {
        check_status(conn, s, &sub.submitted_by, &replaced, &mut errs, &mut w)?;
    }
    check_links(conn, sub, ops, &mut errs, &mut w)?;
    if !errs.is_empty() {
        return Err(RegistryFailure::Xds(errs));
    }
    write(conn, sub, w)?;
    Ok(Vec::new())
}

/// Every entryUUID and association id of the request is new; so is the SubmissionSet uniqueId
/// (new versions keep their logical object's uniqueId).
fn check_new_ids(
    conn: &mut DbConn,
    sub: &Submission,
    errs: &mut Vec<XdsError>,
) -> Result<(), RegistryFailure> {
    check_new_uuids(conn, sub, errs)?;
    if !rs::objects_by_unique_ids(conn, std::slice::from_ref(&sub.set.unique_id))?.is_empty() {
        errs.push(XdsError::new(
            ErrorCode::DuplicateUniqueIdInRegistry,
            format!(
                "SubmissionSet uniqueId {} is already in the registry",
                sub.set.unique_id
            ),
        ));
    }
    Ok(())
}

fn check_version(
    conn: &mut DbConn,
    sub: &Submission,
    v: &NewVersion,
    latest: Option<&ObjectRow>,
    kind: UpdateKind,
    errs: &mut Vec<XdsError>,
    w: &mut Writes,
) -> Result<(), RegistryFailure> {
    let label = v.kind.label();
    let Some(latest) = latest else {
        errs.push(XdsError::new(
            ErrorCode::MetadataVersionError,
            format!(
                "{label} {}: no logical object {} is registered",
                v.uuid, v.lid
            ),
        ));
        return Ok(());
    };
    let Some(e) = sub.entry(&v.uuid) else {
        return Ok(());
    };
    if latest.kind != v.kind {
        errs.push(XdsError::new(
            ErrorCode::MetadataUpdateError,
            format!(
                "{label} {}: logical object {} is a {}",
                v.uuid,
                v.lid,
                latest.kind.label()
            ),
        ));
        return Ok(());
    }
    if let Some(e) = refuse_foreign_source(latest, &sub.submitted_by, "update") {
        errs.push(e);
        return Ok(());
    }
    if latest.version != v.previous {
        errs.push(XdsError::new(
            ErrorCode::MetadataVersionError,
            format!(
                "{label} {}: PreviousVersion is {}, but the newest version of {} is {}",
                v.uuid, v.previous, v.lid, latest.version
            ),
        ));
        return Ok(());
    }
    if e.unique_id != latest.unique_id {
        let code = match kind {
            UpdateKind::Full => ErrorCode::MetadataUpdateError,
            UpdateKind::Restricted => ErrorCode::MetadataIdentifierError,
        };
        errs.push(XdsError::new(
            code,
            format!(
                "{label} {}: uniqueId {} differs from the registered {}",
                v.uuid, e.unique_id, latest.unique_id
            ),
        ));
        return Ok(());
    }
    match kind {
        UpdateKind::Restricted => errs.extend(super::update_restricted::unmodifiable(e, latest)),
        // ITI-57 versions Approved objects; ITI-92 may also version a Deprecated newest
        // version (CP 1190), which stays Deprecated.
        UpdateKind::Full if latest.status != AvailabilityStatus::Approved => {
            errs.push(XdsError::new(
                ErrorCode::MetadataUpdateError,
                format!(
                    "{label} {}: version {} of {} is not Approved",
                    v.uuid, latest.version, v.lid
                ),
            ));
            return Ok(());
        }
        UpdateKind::Full => {}
    }
    if e.patient_id != latest.patient_id && linked(conn, latest)? {
        errs.push(XdsError::new(
            ErrorCode::PatientIdReconciliationError,
            format!(
                "{label} {}: the patient id may change only while {} is linked to no other object",
                v.uuid, v.lid
            ),
        ));
        return Ok(());
    }
    w.versions
        .push((v.uuid.clone(), latest.version + 1, latest.status));
    if v.kind == EntryKind::DocumentEntry {
        w.changed_docs.push(latest.unique_id.clone());
    }
    w.deprecate.push(latest.uuid.clone());
    if v.propagate {
        propagate(conn, v, latest, w)?;
    }
    Ok(())
}

/// Whether a registered version is tied to objects other than its SubmissionSets: a Folder
/// holding it or held by it, or a relationship with another DocumentEntry.
fn linked(conn: &mut DbConn, row: &ObjectRow) -> Result<bool, RegistryFailure> {
    let id = std::slice::from_ref(&row.uuid);
    let mut links: Vec<AssocRow> = rs::assocs_touching(conn, id, true, None)?;
    links.extend(rs::assocs_touching(conn, id, false, None)?);
    let mut holders = Vec::new();
    for a in &links {
        match a.assoc_type.as_str() {
            ids::UPDATE_AVAILABILITY_STATUS => {}
            ids::HAS_MEMBER if a.target == row.uuid => holders.push(a.source.clone()),
            _ => return Ok(true),
        }
    }
    Ok(rs::objects_by_uuids(conn, &holders)?
        .iter()
        .any(|o| o.kind != EntryKind::SubmissionSet))
}

/// Folder memberships follow a new version: a DocumentEntry's folders hold the new version
/// too, and a new Folder version holds the previous one's members.
fn propagate(
    conn: &mut DbConn,
    v: &NewVersion,
    latest: &ObjectRow,
    w: &mut Writes,
) -> Result<(), RegistryFailure> {
    let id = std::slice::from_ref(&latest.uuid);
    let by_target = v.kind == EntryKind::DocumentEntry;
    let links = rs::assocs_touching(conn, id, by_target, Some(&[ids::HAS_MEMBER]))?;
    let links: Vec<AssocRow> = links
        .into_iter()
        .filter(|a| a.status == AvailabilityStatus::Approved)
        .collect();
    let others: Vec<String> = links
        .iter()
        .map(|a| {
            if by_target {
                a.source.clone()
            } else {
                a.target.clone()
            }
        })
        .collect();
    let wanted = if by_target {
        EntryKind::Folder
    } else {
        EntryKind::DocumentEntry
    };
    let kinds: HashMap<String, EntryKind> = rs::objects_by_uuids(conn, &others)?
        .into_iter()
        .map(|o| (o.object.uuid, o.object.kind))
        .collect();
    for other in others.iter().filter(|o| kinds.get(*o) == Some(&wanted)) {
        let (source, target) = if by_target {
            (other.clone(), v.uuid.clone())
        } else {
            (v.uuid.clone(), other.clone())
        };
        let mut member = RegistryObject::new(
            RimTag::Association,
            format!("urn:uuid:{}", uuid::Uuid::new_v4()),
        );
        member.association_type = Some(ids::HAS_MEMBER.into());
        member.source_object = Some(source.clone());
        member.target_object = Some(target);
        w.propagated.push(member);
        if by_target {
            w.touched_folders.push(source);
        }
    }
    Ok(())
}

fn check_status(
    conn: &mut DbConn,
    s: &StatusChange,
    caller: &str,
    replaced: &HashMap<&str, &str>,
    errs: &mut Vec<XdsError>,
    w: &mut Writes,
) -> Result<(), RegistryFailure> {
    let target = std::slice::from_ref(&s.target);
    let current = if let Some(o) = rs::objects_by_uuids(conn, target)?.pop() {
        if o.kind == EntryKind::SubmissionSet {
            errs.push(XdsError::new(
                ErrorCode::MetadataUpdateError,
                format!(
                    "Association {}: a SubmissionSet's status cannot change",
                    s.assoc
                ),
            ));
            return Ok(());
        }
        if let Some(e) = refuse_foreign_source(&o, caller, "change the status of") {
            errs.push(e);
            return Ok(());
        }
        if o.kind == EntryKind::DocumentEntry {
            w.changed_docs.push(o.unique_id.clone());
        }
        let newest = rs::latest_versions(conn, std::slice::from_ref(&o.lid))?;
        if newest.get(&o.lid).map(|n| n.uuid.as_str()) != Some(o.uuid.as_str()) {
            errs.push(XdsError::new(
                ErrorCode::MetadataUpdateError,
                format!(
                    "Association {}: {} is not the newest version of {}; only that one's status may change",
                    s.assoc, o.uuid, o.lid
                ),
            ));
            return Ok(());
        }
        o.status
    } else if let Some(a) = rs::assocs_by_uuids(conn, target)?.pop() {
        // An association belongs to the source of the object it starts from.
        if let Some(src) = rs::objects_by_uuids(conn, std::slice::from_ref(&a.source))?.pop() {
            if let Some(e) = refuse_foreign_source(&src, caller, "change the associations of") {
                errs.push(e);
                return Ok(());
            }
        }
        a.status
    } else {
        errs.push(
            XdsError::new(
                ErrorCode::UnresolvedReference,
                format!(
                    "Association {} refers to {}, which is not in the registry",
                    s.assoc, s.target
                ),
            )
            .at(s.assoc.clone()),
        );
        return Ok(());
    };
    if current != s.original {
        errs.push(XdsError::new(
            ErrorCode::MetadataUpdateError,
            format!(
                "Association {}: OriginalStatus is {}, but {} is {}",
                s.assoc,
                s.original.urn(),
                s.target,
                current.urn()
            ),
        ));
        return Ok(());
    }
    if let Some(new_version) = replaced.get(s.target.as_str()) {
        if let Some(v) = w.versions.iter_mut().find(|v| v.0 == *new_version) {
            v.2 = s.new;
        }
    } else if rs::assocs_by_uuids(conn, target)?.is_empty() {
        w.object_status.push((s.target.clone(), s.new));
    } else {
        w.assoc_status.push((s.target.clone(), s.new));
    }
    Ok(())
}

/// New associations between registered objects: both ends exist and are Approved, belong to
/// one patient, and a HasMember comes from a Folder.
fn check_links(
    conn: &mut DbConn,
    sub: &Submission,
    ops: &Ops,
    errs: &mut Vec<XdsError>,
    w: &mut Writes,
) -> Result<(), RegistryFailure> {
    let links: Vec<&RegistryObject> = sub
        .assocs
        .iter()
        .filter(|a| ops.links.contains(&a.id))
        .collect();
    let ends: Vec<String> = links
        .iter()
        .flat_map(|a| [a.source_object.clone(), a.target_object.clone()])
        .flatten()
        .filter(|id| !sub.contains(id))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let found: HashMap<String, ObjectRow> = rs::objects_by_uuids(conn, &ends)?
        .into_iter()
        .map(|r| (r.uuid.clone(), r))
        .collect();
    for a in links {
        let src = a.source_object.as_deref().unwrap_or_default();
        let tgt = a.target_object.as_deref().unwrap_or_default();
        let patient = |id: &str| {
            sub.entry(id)
                .map(|e| e.patient_id.clone())
                .or_else(|| found.get(id).map(|r| r.patient_id.clone()))
        };
        let (Some(ps), Some(pt)) = (patient(src), patient(tgt)) else {
            let missing = if patient(src).is_none() { src } else { tgt };
            errs.push(unresolved(a, missing));
            continue;
        };
        if let Some(dep) = [src, tgt]
            .into_iter()
            .filter_map(|id| found.get(id))
            .find(|r| r.status != AvailabilityStatus::Approved)
        {
            errs.push(XdsError::new(
                ErrorCode::MetadataUpdateError,
                format!("Association {}: {} is not Approved", a.id, dep.uuid),
            ));
            continue;
        }
        if let Some(e) = found
            .get(src)
            .and_then(|r| refuse_foreign_source(r, &sub.submitted_by, "link from"))
        {
            errs.push(e);
            continue;
        }
        if ps != pt {
            let mut e = patient_mismatch(&a.id, &ps, &pt);
            e.code = ErrorCode::PatientIdReconciliationError;
            errs.push(e);
            continue;
        }
        if a.association_type.as_deref() == Some(ids::HAS_MEMBER) {
            match found.get(src).map(|r| r.kind) {
                Some(EntryKind::Folder) if holds(conn, src, tgt)? => {
                    errs.push(XdsError::new(
                        ErrorCode::MetadataUpdateError,
                        format!("Association {}: Folder {src} already holds {tgt}", a.id),
                    ));
                }
                Some(EntryKind::Folder) => w.touched_folders.push(src.to_string()),
                _ if sub.folder(src).is_some() => {}
                _ => errs.push(XdsError::metadata(format!(
                    "HasMember association {} must come from a Folder",
                    a.id
                ))),
            }
        }
    }
    Ok(())
}

/// Whether a Folder already holds an object by an Approved HasMember.
fn holds(conn: &mut DbConn, folder: &str, member: &str) -> Result<bool, RegistryFailure> {
    // From the member's side: a document is in few folders, a folder may hold very many.
    let links = rs::assocs_touching(conn, &[member.to_string()], true, Some(&[ids::HAS_MEMBER]))?;
    Ok(links
        .iter()
        .any(|a| a.source == folder && a.status == AvailabilityStatus::Approved))
}

fn write(conn: &mut DbConn, sub: &Submission, w: Writes) -> Result<(), RegistryFailure> {
    let now = time::dtm_to_i64(&time::now_dtm()).unwrap_or_default();
    insert_entry(conn, &sub.set, now, 1, &sub.submitted_by)?;
    for (uuid, version, status) in &w.versions {
        let Some(e) = sub.entry(uuid) else { continue };
        let mut e = e.clone();
        e.object.version_name = Some(version.to_string());
        insert_entry(conn, &e, now, *version, &sub.submitted_by)?;
        if *status != AvailabilityStatus::Approved {
            rs::set_status(conn, std::slice::from_ref(uuid), *status)?;
        }
    }
    let assocs: Vec<NewAssoc> = sub
        .assocs
        .iter()
        .chain(w.propagated.iter())
        .map(new_assoc)
        .collect();
    rs::insert_assocs(conn, &assocs)?;
    let mut deprecate = w.deprecate;
    deprecate.sort_unstable();
    rs::set_status(conn, &deprecate, AvailabilityStatus::Deprecated)?;
    for (uuid, status) in &w.object_status {
        rs::set_status(conn, std::slice::from_ref(uuid), *status)?;
    }
    for (uuid, status) in &w.assoc_status {
        rs::set_assoc_status(conn, std::slice::from_ref(uuid), *status)?;
    }
    crate::store::pivots::forget_sources(conn, &w.changed_docs)?;
    let mut touched = w.touched_folders;
    touched.sort_unstable();
    touched.dedup();
    rs::set_last_update(conn, &touched, now)?;
    Ok(())
}

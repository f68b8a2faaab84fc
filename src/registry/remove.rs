//! ITI-62 Remove Metadata: DocumentEntries, SubmissionSets, Folders and Associations named by
//! id are deleted in one transaction, or nothing is. The registry must stay whole afterwards
//! (ITI TF-2 3.62.4.1.3):
//! - every id names an object or association here (UnresolvedReferenceException);
//! - no association that stays may point at an object that goes (ReferencesExistException);
//! - no object that stays may lose its last association, e.g. a SubmissionSet without members
//!   or a DocumentEntry without its SubmissionSet (XDSUnreferencedObjectException).
//!
//! Lifecycle associations (RPLC, XFRM, APND, ...) are removed like any other; the status of
//! the objects they joined is left as it is.

use super::ownership::refuse_foreign_source;
use super::{Registry, RegistryFailure};
use crate::audit::{AuditEvent, Auditor, EventType};
use crate::ebxml::remove::{parse_remove_objects, RemoveObjects, DELETE_ALL};
use crate::ebxml::response::{write_registry_response, RegistryError};
use crate::ebxml::ResponseStatus;
use crate::ids::action;
use crate::soap::{SoapCall, SoapReply};
use crate::store::registry::{self as rs, AssocRow, ObjectRow};
use crate::store::remove as rm;
use crate::store::DbConn;
use crate::xds::model::EntryKind;
use crate::xds::{ErrorCode, XdsError};
use std::collections::{BTreeSet, HashSet};

/// What one request removes, as it was stored.
#[derive(Debug, Default)]
pub struct Removal {
    pub objects: Vec<ObjectRow>,
    pub assocs: Vec<AssocRow>,
}

impl Registry {
    /// Removes the objects named in `req` with the audit record in the same transaction.
    /// `audit` also names the caller (`AuditEvent::submitter`), for access rules.
    pub async fn remove_metadata(
        &self,
        req: RemoveObjects,
        audit: Option<AuditEvent>,
    ) -> Result<Removal, RegistryFailure> {
        let ids = check_request(&req).map_err(RegistryFailure::Xds)?;
        // Over SOAP only the registering source may remove; local tools pass no audit event.
        let caller = audit.as_ref().map(AuditEvent::submitter);
        self.store
            .write(move |conn| {
                let removal = plan(conn, &ids, caller.as_deref())?;
                delete(conn, &removal)?;
                audit_removal(conn, &removal, audit)?;
                Ok(removal)
            })
            .await
    }
}

/// The request's options ITI-62 allows, and its ids without repeats.
fn check_request(req: &RemoveObjects) -> Result<Vec<String>, Vec<XdsError>> {
    let mut errs = Vec::new();
    if req.by_query {
        errs.push(XdsError::metadata(
            "ITI-62 removes the objects an ObjectRefList names; selecting them by AdhocQuery is not supported",
        ));
    }
    if let Some(scope) = req.deletion_scope.as_deref().filter(|s| *s != DELETE_ALL) {
        errs.push(XdsError::metadata(format!(
            "deletionScope {scope} is not supported; ITI-62 allows only {DELETE_ALL}"
        )));
    }
    if req.ids.iter().any(String::is_empty) {
        errs.push(XdsError::metadata("an ObjectRef has an empty id"));
    }
    if req.ids.is_empty() && !req.by_query {
        errs.push(XdsError::metadata("the ObjectRefList names no object"));
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    let mut seen = HashSet::new();
    Ok(req
        .ids
        .iter()
        .filter(|id| seen.insert(id.as_str()))
        .cloned()
        .collect())
}

/// Finds what `ids` name and checks that removing it leaves the registry whole.
pub fn plan(
    conn: &mut DbConn,
    ids: &[String],
    caller: Option<&str>,
) -> Result<Removal, RegistryFailure> {
    let objects = rs::objects_by_uuids(conn, ids)?;
    let assocs = rs::assocs_by_uuids(conn, ids)?;
    if let Some(caller) = caller {
        let refused = foreign_sources(conn, &objects, &assocs, caller)?;
        if !refused.is_empty() {
            return Err(RegistryFailure::Xds(refused));
        }
    }
    let gone: HashSet<&str> = objects
        .iter()
        .map(|o| o.uuid.as_str())
        .chain(assocs.iter().map(|a| a.uuid.as_str()))
        .collect();
    let mut errs: Vec<XdsError> = ids
        .iter()
        .filter(|id| !gone.contains(id.as_str()))
        .map(|id| {
            XdsError::new(
                ErrorCode::RemoveUnresolvedReference,
                format!("{id} is neither a registry object nor an association in this registry"),
            )
            .at(id.clone())
        })
        .collect();

    // Associations that stay but point at something that goes (an association may point at
    // another association, too).
    let mut dangling: BTreeSet<(String, String)> = BTreeSet::new();
    for a in touching(conn, ids)? {
        if gone.contains(a.uuid.as_str()) {
            continue;
        }
        for end in [&a.source, &a.target] {
            if gone.contains(end.as_str()) {
                dangling.insert((a.uuid.clone(), end.clone()));
            }
        }
    }
    errs.extend(dangling.into_iter().map(|(assoc, end)| {
        XdsError::new(
            ErrorCode::ReferencesExist,
            format!(
                "association {assoc} refers to {end}; remove it in the same request or keep {end}"
            ),
        )
        .at(end)
    }));

    // Objects that stay at the ends of associations that go: each needs another association.
    let ends: Vec<String> = assocs
        .iter()
        .flat_map(|a| [a.source.clone(), a.target.clone()])
        .filter(|e| !gone.contains(e.as_str()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if !ends.is_empty() {
        let staying = rs::objects_by_uuids(conn, &ends)?;
        let still: HashSet<String> = touching(conn, &ends)?
            .into_iter()
            .filter(|a| !gone.contains(a.uuid.as_str()))
            .flat_map(|a| [a.assoc.source, a.assoc.target])
            .collect();
        for o in staying.iter().filter(|o| !still.contains(&o.uuid)) {
            errs.push(
                XdsError::new(
                    ErrorCode::UnreferencedObject,
                    format!(
                        "{} {} would be left without any association; remove it in the same request or keep an association to it",
                        o.kind.label(),
                        o.uuid
                    ),
                )
                .at(o.uuid.clone()),
            );
        }
    }
    if !errs.is_empty() {
        return Err(RegistryFailure::Xds(errs));
    }
    Ok(Removal { objects, assocs })
}

/// The objects, and the sources of the associations, that `caller` did not register: an
/// association belongs to whoever registered the object it starts from.
fn foreign_sources(
    conn: &mut DbConn,
    objects: &[ObjectRow],
    assocs: &[AssocRow],
    caller: &str,
) -> Result<Vec<XdsError>, RegistryFailure> {
    let named: HashSet<&str> = objects.iter().map(|o| o.uuid.as_str()).collect();
    let sources: Vec<String> = assocs
        .iter()
        .map(|a| a.source.clone())
        .filter(|s| !named.contains(s.as_str()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let owners = rs::objects_by_uuids(conn, &sources)?;
    Ok(objects
        .iter()
        .chain(owners.iter())
        .filter_map(|o| refuse_foreign_source(o, caller, "remove"))
        .collect())
}

/// Associations whose source or target is one of `ids` (each once).
pub(super) fn touching(
    conn: &mut DbConn,
    ids: &[String],
) -> Result<Vec<AssocRow>, RegistryFailure> {
    let mut seen = HashSet::new();
    Ok(rs::assocs_touching(conn, ids, false, None)?
        .into_iter()
        .chain(rs::assocs_touching(conn, ids, true, None)?)
        .filter(|a| seen.insert(a.seq))
        .collect())
}

/// Deletes the planned rows. A count short of the plan means another request removed some of
/// them meanwhile: the transaction is rolled back rather than half applied.
pub(super) fn delete(conn: &mut DbConn, r: &Removal) -> Result<(), RegistryFailure> {
    let assoc_seqs: Vec<i64> = r.assocs.iter().map(|a| a.seq).collect();
    let object_seqs: Vec<i64> = r.objects.iter().map(|o| o.seq).collect();
    let deleted = rm::delete_assocs(conn, &assoc_seqs)? + rm::delete_objects(conn, &object_seqs)?;
    if deleted != assoc_seqs.len() + object_seqs.len() {
        return Err(XdsError::registry(
            "some of these objects were removed by another request at the same time; nothing was removed",
        )
        .into());
    }
    let sources: Vec<String> = r
        .objects
        .iter()
        .filter(|o| o.kind == EntryKind::DocumentEntry)
        .map(|o| o.unique_id.clone())
        .collect();
    crate::store::pivots::forget_sources(conn, &sources)?;
    Ok(())
}

/// Appends the audit record naming the patients, documents and SubmissionSet removed. Last in
/// the transaction: the audit chain head stays locked until commit.
pub(super) fn audit_removal(
    conn: &mut DbConn,
    r: &Removal,
    audit: Option<AuditEvent>,
) -> Result<(), RegistryFailure> {
    let Some(mut ev) = audit else { return Ok(()) };
    let patients: BTreeSet<&str> = r.objects.iter().map(|o| o.patient_id.as_str()).collect();
    ev.patient_ids
        .extend(patients.into_iter().map(str::to_string));
    ev.patient_ids.dedup();
    ev.document_ids.extend(
        r.objects
            .iter()
            .filter(|o| o.kind == EntryKind::DocumentEntry)
            .map(|o| o.unique_id.clone()),
    );
    ev.submission_set = r
        .objects
        .iter()
        .find(|o| o.kind == EntryKind::SubmissionSet)
        .map(|o| o.unique_id.clone());
    crate::audit::append(conn, &ev)?;
    Ok(())
}

/// The ITI-62 call on the registry endpoint at `path`: parse, remove, answer with a
/// RegistryResponse. A failed removal is audited after its rollback.
pub async fn handle(reg: &Registry, auditor: &Auditor, path: &str, call: SoapCall) -> SoapReply {
    let ev = auditor.event(EventType::RemoveMetadata, path, &call);
    let result = match parse_remove_objects(call.body()) {
        Ok(req) => reg
            .remove_metadata(req, Some(ev.clone()))
            .await
            .map_err(|f| f.into_errors()),
        Err(e) => Err(vec![XdsError::metadata(e.to_string())]),
    };
    let (status, errs) = match result {
        Ok(_) => (ResponseStatus::Success, Vec::new()),
        Err(e) => {
            let errs: Vec<RegistryError> = e.iter().map(RegistryError::from).collect();
            auditor.failed(ev, &errs).await;
            (ResponseStatus::Failure, errs)
        }
    };
    let body = write_registry_response(status, &errs);
    SoapReply::new(action::REMOVE_METADATA_RESPONSE, body, status.label())
}

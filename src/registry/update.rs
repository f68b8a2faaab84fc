//! ITI-57 Update Document Set and ITI-92 Restricted Update Document Set: what a submission
//! asks for, read from its associations before any database work. Each DocumentEntry or
//! Folder in it is a new version of a registered logical object; an UpdateAvailabilityStatus
//! association changes a status; any other association links objects already registered.
//! `update_apply` checks these against the registry and stores them (`Registry::update_audited`).

use super::submission::Submission;
use crate::ebxml::{RegistryObject, RimTag};
use crate::xds::model::{AvailabilityStatus, EntryKind};
use crate::xds::{ids, ErrorCode, XdsError};
use std::collections::HashMap;

/// Which of the two transactions: ITI-92 allows only new DocumentEntry versions, and fewer
/// attributes may change in them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateKind {
    Full,
    Restricted,
}

/// A new version of a DocumentEntry or Folder of the submission.
#[derive(Debug)]
pub struct NewVersion {
    pub uuid: String,
    pub lid: String,
    pub kind: EntryKind,
    /// PreviousVersion: the version the submitter saw as the newest.
    pub previous: i32,
    /// AssociationPropagation (default yes): folder memberships follow the new version.
    pub propagate: bool,
}

/// An availability status change of a registered object or association.
#[derive(Debug)]
pub struct StatusChange {
    pub assoc: String,
    pub target: String,
    pub original: AvailabilityStatus,
    pub new: AvailabilityStatus,
}

#[derive(Debug, Default)]
pub struct Ops {
    pub versions: Vec<NewVersion>,
    pub statuses: Vec<StatusChange>,
    /// Associations between registered objects (APND, a Folder's HasMember, ...), by id.
    pub links: Vec<String>,
}

/// Two new versions of one logical object in one request (ITI-57 common rules).
pub fn repeated_lids(objects: &[RegistryObject]) -> Vec<XdsError> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for o in objects
        .iter()
        .filter(|o| matches!(o.tag, RimTag::ExtrinsicObject | RimTag::RegistryPackage))
    {
        if let Some(lid) = o.lid.as_deref().filter(|l| *l != o.id) {
            *seen.entry(lid).or_default() += 1;
        }
    }
    let mut lids: Vec<&str> = seen
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(l, _)| l)
        .collect();
    lids.sort_unstable();
    lids.into_iter()
        .map(|lid| {
            op_error(format!(
                "the request holds more than one new version of logical object {lid}"
            ))
        })
        .collect()
}

fn op_error(context: String) -> XdsError {
    XdsError::new(ErrorCode::MetadataUpdateOperationError, context)
}

fn update_error(context: String) -> XdsError {
    XdsError::new(ErrorCode::MetadataUpdateError, context)
}

const VERSION_SLOTS: [&str; 3] = [
    "SubmissionSetStatus",
    "PreviousVersion",
    "AssociationPropagation",
];

/// Reads the operations of a prepared submission; every error is found, not just the first.
pub fn plan(sub: &Submission, kind: UpdateKind) -> Result<Ops, Vec<XdsError>> {
    let mut errs = Vec::new();
    let mut ops = Ops::default();
    let set_id = sub.set.uuid();
    let members: HashMap<&str, &RegistryObject> = sub
        .assocs
        .iter()
        .filter(|a| is_membership(a) && a.source_object.as_deref() == Some(set_id))
        .filter_map(|a| a.target_object.as_deref().map(|t| (t, a)))
        .collect();

    for e in sub.docs.iter().chain(sub.folders.iter()) {
        let lid = e.object.lid.as_deref().unwrap_or(e.uuid());
        if lid == e.uuid() {
            errs.push(update_error(format!(
                "{} {} is a first version (its logicalID is its entryUUID): register it with ITI-42",
                e.kind.label(),
                e.uuid()
            )));
            continue;
        }
        if kind == UpdateKind::Restricted && e.kind != EntryKind::DocumentEntry {
            errs.push(op_error(format!(
                "Folder {}: a restricted update changes DocumentEntries only",
                e.uuid()
            )));
            continue;
        }
        let Some(hm) = members.get(e.uuid()) else {
            errs.push(op_error(format!(
                "{} {} has no HasMember association from the SubmissionSet",
                e.kind.label(),
                e.uuid()
            )));
            continue;
        };
        if !is_type(hm, ids::HAS_MEMBER) {
            errs.push(op_error(format!(
                "{} {} must be held by a HasMember association from the SubmissionSet",
                e.kind.label(),
                e.uuid()
            )));
            continue;
        }
        match version_op(e.uuid(), lid, e.kind, hm) {
            Ok(v) => ops.versions.push(v),
            Err(e) => errs.push(e),
        }
    }

    for a in &sub.assocs {
        let source = a.source_object.as_deref().unwrap_or_default();
        let target = a.target_object.as_deref().unwrap_or_default();
        if is_type(a, ids::UPDATE_AVAILABILITY_STATUS) {
            if kind == UpdateKind::Restricted {
                errs.push(op_error(format!(
                    "Association {}: a restricted update does not change statuses",
                    a.id
                )));
                continue;
            }
            match status_op(a, source, target, set_id, sub) {
                Ok(s) => ops.statuses.push(s),
                Err(e) => errs.push(e),
            }
            continue;
        }
        if source == set_id && is_membership(a) {
            // The SubmissionSet's own memberships: of new versions (read above), of new
            // associations, or references to registered entries.
            continue;
        }
        if kind == UpdateKind::Restricted {
            errs.push(op_error(format!(
                "Association {}: a restricted update does not add associations",
                a.id
            )));
            continue;
        }
        if !members.contains_key(a.id.as_str()) {
            errs.push(XdsError::metadata(format!(
                "Association {} is not a member of the SubmissionSet (HasMember association missing)",
                a.id
            )));
            continue;
        }
        ops.links.push(a.id.clone());
    }
    if errs.is_empty() {
        Ok(ops)
    } else {
        Err(errs)
    }
}

fn is_type(a: &RegistryObject, t: &str) -> bool {
    a.association_type.as_deref() == Some(t)
}

/// The SubmissionSet holds what it submits by HasMember, and a new association between
/// registered objects by SubmitAssociation.
fn is_membership(a: &RegistryObject) -> bool {
    is_type(a, ids::HAS_MEMBER) || is_type(a, ids::SUBMIT_ASSOCIATION)
}

/// The SubmissionSet's HasMember to a new version carries how to version it.
fn version_op(
    uuid: &str,
    lid: &str,
    kind: EntryKind,
    hm: &RegistryObject,
) -> Result<NewVersion, XdsError> {
    if let Some(s) = hm
        .slots
        .iter()
        .find(|s| !VERSION_SLOTS.contains(&s.name.as_str()))
    {
        return Err(op_error(format!(
            "HasMember association {}: slot {} has no meaning in a metadata update",
            hm.id, s.name
        )));
    }
    match hm.first_slot_value("SubmissionSetStatus") {
        Some("Original") => {}
        // A Folder's membership carries no SubmissionSetStatus in ITI-42 either.
        None if kind == EntryKind::Folder => {}
        Some(other) => {
            return Err(op_error(format!(
                "HasMember association {}: SubmissionSetStatus of a new version must be Original, not '{other}'",
                hm.id
            )))
        }
        None => {
            return Err(op_error(format!(
                "HasMember association {} to a new version needs slot SubmissionSetStatus",
                hm.id
            )))
        }
    }
    let previous = match hm.first_slot_value("PreviousVersion") {
        Some(v) => v
            .trim()
            .parse::<i32>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| {
                op_error(format!(
                    "HasMember association {}: PreviousVersion '{v}' is not a version number",
                    hm.id
                ))
            })?,
        None => {
            return Err(op_error(format!(
                "HasMember association {} to a new version needs slot PreviousVersion",
                hm.id
            )))
        }
    };
    let propagate = match hm.first_slot_value("AssociationPropagation") {
        None => true,
        Some(v) if v.eq_ignore_ascii_case("yes") => true,
        Some(v) if v.eq_ignore_ascii_case("no") => false,
        Some(v) => {
            return Err(op_error(format!(
                "HasMember association {}: AssociationPropagation must be yes or no, not '{v}'",
                hm.id
            )))
        }
    };
    Ok(NewVersion {
        uuid: uuid.to_string(),
        lid: lid.to_string(),
        kind,
        previous,
        propagate,
    })
}

fn status_op(
    a: &RegistryObject,
    source: &str,
    target: &str,
    set_id: &str,
    sub: &Submission,
) -> Result<StatusChange, XdsError> {
    if source != set_id {
        return Err(op_error(format!(
            "UpdateAvailabilityStatus association {} must come from the SubmissionSet",
            a.id
        )));
    }
    if sub.contains(target) || sub.has_assoc(target) {
        return Err(op_error(format!(
            "UpdateAvailabilityStatus association {} must target a registered object, not one of this request",
            a.id
        )));
    }
    let status = |name: &str| -> Result<AvailabilityStatus, XdsError> {
        let v = a.first_slot_value(name).ok_or_else(|| {
            op_error(format!(
                "UpdateAvailabilityStatus association {} needs slot {name}",
                a.id
            ))
        })?;
        AvailabilityStatus::from_urn(v.trim()).ok_or_else(|| {
            update_error(format!(
                "UpdateAvailabilityStatus association {}: {name} '{v}' is not a status the registry holds",
                a.id
            ))
        })
    };
    Ok(StatusChange {
        assoc: a.id.clone(),
        target: target.to_string(),
        original: status("OriginalStatus")?,
        new: status("NewStatus")?,
    })
}

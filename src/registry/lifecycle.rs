//! Document lifecycle associations (RPLC, APND, XFRM, XFRM_RPLC, signs): the new document
//! must be in the submission, the original must be an Approved entry of the same patient.
//! Replacements deprecate the original and inherit its folder memberships.

use super::submission::{patient_mismatch, unresolved, Submission};
use super::RegistryFailure;
use crate::ebxml::{RegistryObject, RimTag};
use crate::store::registry::{self as rs, ObjectRow};
use crate::store::DbConn;
use crate::xds::model::{AvailabilityStatus, EntryKind};
use crate::xds::{ids, XdsError};
use std::collections::{HashMap, HashSet};

#[derive(Debug, Default)]
pub struct LifecycleEffects {
    /// DocumentEntries to deprecate (a set: one submission may replace thousands).
    pub deprecate: HashSet<String>,
    pub extra_assocs: Vec<RegistryObject>,
    pub touched_folders: Vec<String>,
}

pub fn apply_lifecycle(
    conn: &mut DbConn,
    sub: &Submission,
    existing: &HashMap<String, ObjectRow>,
    errs: &mut Vec<XdsError>,
    effects: &mut LifecycleEffects,
) -> Result<(), RegistryFailure> {
    for a in &sub.assocs {
        let t = a.association_type.as_deref().unwrap_or_default();
        if !ids::LIFECYCLE_TYPES.contains(&t) {
            continue;
        }
        let src = a.source_object.as_deref().unwrap_or_default();
        let tgt = a.target_object.as_deref().unwrap_or_default();
        let Some(new_doc) = sub.doc(src) else {
            errs.push(XdsError::metadata(format!(
                "{t} association {} must have a DocumentEntry of this submission as its source",
                a.id
            )));
            continue;
        };
        // A signature may sign a document in the same submission.
        if t == ids::SIGNS && sub.doc(tgt).is_some() {
            continue;
        }
        let Some(orig) = existing
            .get(tgt)
            .filter(|r| r.kind == EntryKind::DocumentEntry)
        else {
            errs.push(unresolved(a, tgt));
            continue;
        };
        if orig.patient_id != new_doc.patient_id {
            errs.push(patient_mismatch(
                &a.id,
                &new_doc.patient_id,
                &orig.patient_id,
            ));
            continue;
        }
        if orig.status != AvailabilityStatus::Approved {
            errs.push(XdsError::registry(format!(
                "{t} association {} targets DocumentEntry {tgt}, which is not Approved",
                a.id
            )));
            continue;
        }
        if ids::deprecates_target(t) {
            if !effects.deprecate.insert(tgt.to_string()) {
                errs.push(XdsError::metadata(format!(
                    "DocumentEntry {tgt} is replaced twice in one submission"
                )));
                continue;
            }
            deprecate_dependents(conn, tgt, effects)?;
            inherit_folders(conn, sub, src, tgt, effects)?;
        }
    }
    Ok(())
}

/// Addenda and transforms of a replaced document are deprecated with it (CP 117).
fn deprecate_dependents(
    conn: &mut DbConn,
    original: &str,
    effects: &mut LifecycleEffects,
) -> Result<(), RegistryFailure> {
    let deps = approved_sources(
        conn,
        original,
        &[ids::APND, ids::XFRM],
        EntryKind::DocumentEntry,
    )?;
    for row in deps {
        effects.deprecate.insert(row.object.uuid);
    }
    Ok(())
}

/// The replacement joins every folder the original is in (ITI TF-3 4.2.2.2).
fn inherit_folders(
    conn: &mut DbConn,
    sub: &Submission,
    new_doc: &str,
    original: &str,
    effects: &mut LifecycleEffects,
) -> Result<(), RegistryFailure> {
    for f in approved_sources(conn, original, &[ids::HAS_MEMBER], EntryKind::Folder)? {
        let fid = format!("urn:uuid:{}", uuid::Uuid::new_v4());
        let mut member = RegistryObject::new(RimTag::Association, fid.clone());
        member.association_type = Some(ids::HAS_MEMBER.into());
        member.source_object = Some(f.uuid.clone());
        member.target_object = Some(new_doc.to_string());
        let mut link = RegistryObject::new(
            RimTag::Association,
            format!("urn:uuid:{}", uuid::Uuid::new_v4()),
        );
        link.association_type = Some(ids::HAS_MEMBER.into());
        link.source_object = Some(sub.set.uuid().to_string());
        link.target_object = Some(fid);
        effects.extra_assocs.push(member);
        effects.extra_assocs.push(link);
        effects.touched_folders.push(f.object.uuid);
    }
    Ok(())
}

/// The Approved entries of `kind` that reach `target` by an association of one of `types`.
fn approved_sources(
    conn: &mut DbConn,
    target: &str,
    types: &[&str],
    kind: EntryKind,
) -> Result<Vec<ObjectRow>, RegistryFailure> {
    let links = rs::assocs_touching(conn, &[target.to_string()], true, Some(types))?;
    let sources: Vec<String> = links.into_iter().map(|a| a.assoc.source).collect();
    Ok(rs::objects_by_uuids(conn, &sources)?
        .into_iter()
        .filter(|r| r.kind == kind && r.status == AvailabilityStatus::Approved)
        .collect())
}

//! The eHDSI path's sources: which of a patient's registered documents may become a pivot PS,
//! eP or OrCD for this audience, read with their bytes in one store read.

use super::orcd_sources;
use crate::repository::blob::BlobStore;
use crate::store::consent::{self, Scope};
use crate::store::registry::{self as rs, ObjectRow, TimeFilter};
use crate::store::{DbConn, StoreError};
use crate::translate::orcd::{Facts, OrcdClass};
use crate::translate::{self, Terminology};
use crate::xds::confidentiality::{Audience, ConfidentialityPolicy};
use crate::xds::model::{AvailabilityStatus, CodeKind, EntryKind};
use bytes::Bytes;
use std::sync::Arc;

pub(super) struct Source {
    pub(super) row: ObjectRow,
    pub(super) data: Bytes,
    pub(super) facility: Option<(String, String)>,
    pub(super) practice: Option<(String, String)>,
    /// OrCD sources: the class asked for and the header facts from the registry.
    pub(super) orcd: Option<(OrcdClass, Facts)>,
}

/// How sources are picked: PS and eP by the formatCodes of their Norwegian sources, OrCD by
/// the typeCodes that map to an asked class, within the query's times.
pub(super) enum Select {
    Formats(Vec<String>),
    Orcd {
        classes: Vec<OrcdClass>,
        times: TimeFilter,
        term: &'static Terminology,
    },
}

/// Which registered documents may be a source.
pub(super) struct Wanted {
    pub(super) select: Select,
    /// This node's repository: only documents whose bytes are here.
    pub(super) repo: String,
    pub(super) policy: Arc<ConfidentialityPolicy>,
    pub(super) audience: Audience,
}

pub(super) fn source_rows(
    conn: &mut DbConn,
    pid: &str,
    w: &Wanted,
    blobs: &dyn BlobStore,
) -> Result<Vec<Source>, StoreError> {
    // A patient who refused the eHDSI exchange has no sources for a foreign contact point: the
    // answer is the empty one of a patient without documents, and reveals nothing.
    if w.audience == Audience::CrossBorder
        && !consent::denied(conn, &[pid.to_string()], Scope::Ehdsi)?.is_empty()
    {
        return Ok(Vec::new());
    }
    let no_times = TimeFilter::default();
    let times = match &w.select {
        Select::Orcd { times, .. } => times,
        Select::Formats(_) => &no_times,
    };
    let rows = rs::objects_for_patient(
        conn,
        pid,
        EntryKind::DocumentEntry,
        &[AvailabilityStatus::Approved],
        Some(&[false]),
        times,
        1000,
    )?;
    let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
    let codes = rs::codes_for(conn, &seqs)?;
    let code_of = |seq: i64, kind: CodeKind| {
        codes
            .iter()
            .find(|c| c.0 == seq && c.1 == kind)
            .map(|c| (c.2.clone(), c.3.clone()))
    };
    let mut patient = None;
    let mut out = Vec::new();
    for row in rows {
        let of_row = |kind: CodeKind| codes.iter().filter(move |c| c.0 == row.seq && c.1 == kind);
        let types: Vec<(String, String)> = of_row(CodeKind::Type)
            .map(|c| (c.2.clone(), c.3.clone()))
            .collect();
        let is_source = match &w.select {
            Select::Formats(f) => of_row(CodeKind::Format).any(|c| f.contains(&c.2)),
            Select::Orcd { classes, term, .. } => types.iter().any(|(code, scheme)| {
                translate::orcd::classes_of_type(term, scheme, code).any(|c| classes.contains(&c))
            }),
        };
        let confidentiality =
            of_row(CodeKind::Confidentiality).map(|c| (c.2.as_str(), c.3.as_str()));
        if !is_source
            || row.repository_uid.as_deref() != Some(w.repo.as_str())
            || !w.policy.shows(confidentiality, w.audience)
        {
            continue;
        }
        let Some(doc) = blobs
            .find(conn, std::slice::from_ref(&row.unique_id))?
            .into_iter()
            .next()
        else {
            continue;
        };
        let data = blobs.get(conn, &doc)?;
        let orcd = match &w.select {
            Select::Formats(_) => None,
            Select::Orcd { classes, term, .. } => {
                // A picture under a report-only type (or the reverse) is not offered.
                let Some(class) = orcd_sources::class_for(term, &types, &data, classes) else {
                    continue;
                };
                if patient.is_none() {
                    patient = Some(orcd_sources::patient_row(conn, pid)?);
                }
                let demo = patient.as_ref().and_then(|p| p.as_ref());
                Some((class, orcd_sources::base_facts(&row, pid, demo)))
            }
        };
        out.push(Source {
            facility: code_of(row.seq, CodeKind::FacilityType),
            practice: code_of(row.seq, CodeKind::PracticeSetting),
            orcd,
            row,
            data,
        });
    }
    Ok(out)
}

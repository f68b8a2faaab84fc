//! FindDocuments, FindDocumentsByReferenceId, FindSubmissionSets, FindFolders.
//! Candidates come from the patient index (with time ranges in SQL); codes and authors are
//! then checked against the candidates' own rows.

use super::params::{like, Params};
use super::{statuses, Found, QueryLimits};
use crate::registry::RegistryFailure;
use crate::store::registry::{self as rs, ObjectRow, TimeFilter, ValueKind};
use crate::store::DbConn;
use crate::xds::model::{AvailabilityStatus, Code, CodeKind, EntryKind};
use crate::xds::{ids, ErrorCode, XdsError};
use std::collections::{HashMap, HashSet};

/// OR within a group, AND across groups.
pub struct CodeFilter {
    pub kind: CodeKind,
    pub groups: Vec<Vec<Code>>,
}

fn or_group(kind: CodeKind, codes: Option<Vec<Code>>) -> Option<CodeFilter> {
    codes.map(|c| CodeFilter {
        kind,
        groups: vec![c],
    })
}

fn and_groups(kind: CodeKind, groups: Vec<Vec<Code>>) -> Option<CodeFilter> {
    (!groups.is_empty()).then_some(CodeFilter { kind, groups })
}

/// Candidate cap before code filtering; a patient with more entries than this in the
/// selected statuses and time range must narrow the query.
fn scan_cap(limits: QueryLimits) -> i64 {
    (limits.max_results as i64).saturating_mul(10).max(1000)
}

fn too_many(limits: QueryLimits) -> RegistryFailure {
    XdsError::new(
        ErrorCode::TooManyResults,
        format!(
            "more than {} candidate entries for this patient; add filters",
            scan_cap(limits)
        ),
    )
    .into()
}

/// What a Find query asks of one patient's entries of one kind.
struct Find {
    kind: EntryKind,
    statuses: Vec<AvailabilityStatus>,
    /// The DocumentEntry types (on-demand or stable) wanted; None for other kinds.
    on_demand: Option<Vec<bool>>,
    times: TimeFilter,
    codes: Vec<CodeFilter>,
    values: Vec<(ValueKind, Option<Vec<String>>)>,
}

impl Find {
    /// Candidates from the patient index (refusing more than the scan cap), then those that
    /// carry every wanted code and value.
    fn run(
        self,
        conn: &mut DbConn,
        pid: &str,
        limits: QueryLimits,
    ) -> Result<Found, RegistryFailure> {
        let cap = scan_cap(limits);
        let rows = rs::objects_for_patient(
            conn,
            pid,
            self.kind,
            &self.statuses,
            self.on_demand.as_deref(),
            &self.times,
            cap + 1,
        )?;
        if rows.len() as i64 > cap {
            return Err(too_many(limits));
        }
        let mut rows = filter_codes(conn, rows, &self.codes)?;
        for (kind, wanted) in &self.values {
            rows = filter_values(conn, rows, *kind, wanted.as_deref())?;
        }
        Ok(Found::of_objects(rows))
    }
}

pub fn filter_codes(
    conn: &mut DbConn,
    rows: Vec<ObjectRow>,
    filters: &[CodeFilter],
) -> Result<Vec<ObjectRow>, RegistryFailure> {
    if filters.is_empty() || rows.is_empty() {
        return Ok(rows);
    }
    let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
    let mut by_obj: HashMap<i64, HashSet<(CodeKind, String, String)>> = HashMap::new();
    for (seq, kind, code, scheme) in rs::codes_for(conn, &seqs)? {
        by_obj.entry(seq).or_default().insert((kind, code, scheme));
    }
    Ok(rows
        .into_iter()
        .filter(|r| {
            let have = by_obj.get(&r.seq);
            filters.iter().all(|f| {
                f.groups.iter().all(|g| {
                    g.iter().any(|c| {
                        have.is_some_and(|h| {
                            h.contains(&(f.kind, c.code.clone(), c.scheme.clone()))
                        })
                    })
                })
            })
        })
        .collect())
}

/// Keeps the rows that hold one of the `wanted` values of `kind`; author names are LIKE
/// patterns, the other values (reference and source ids) match exactly.
fn filter_values(
    conn: &mut DbConn,
    rows: Vec<ObjectRow>,
    kind: ValueKind,
    wanted: Option<&[String]>,
) -> Result<Vec<ObjectRow>, RegistryFailure> {
    let Some(wanted) = wanted else {
        return Ok(rows);
    };
    let pattern = kind == ValueKind::Author;
    let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
    let mut by_obj: HashMap<i64, Vec<String>> = HashMap::new();
    for (seq, v) in rs::values_for(conn, &seqs, kind)? {
        by_obj.entry(seq).or_default().push(v);
    }
    Ok(rows
        .into_iter()
        .filter(|r| {
            by_obj.get(&r.seq).is_some_and(|vals| {
                wanted.iter().any(|w| {
                    vals.iter()
                        .any(|v| if pattern { like(w, v) } else { v == w })
                })
            })
        })
        .collect())
}

/// $XDSDocumentEntryType: stable by default.
pub fn entry_types(p: &Params) -> Result<Vec<bool>, XdsError> {
    match p.list("$XDSDocumentEntryType")? {
        None => Ok(vec![false]),
        Some(v) => Ok(v
            .iter()
            .filter_map(|t| match t.as_str() {
                ids::DE_STABLE => Some(false),
                ids::DE_ON_DEMAND => Some(true),
                _ => None,
            })
            .collect()),
    }
}

pub fn find_documents(
    conn: &mut DbConn,
    p: &Params,
    limits: QueryLimits,
    by_reference: bool,
) -> Result<Found, RegistryFailure> {
    // Parameters are read in this order so that the first bad one is the one reported.
    let pid = p.required_single("$XDSDocumentEntryPatientId")?;
    let statuses = statuses(&p.required_list("$XDSDocumentEntryStatus")?);
    let refs = if by_reference {
        Some(p.required_list("$XDSDocumentEntryReferenceIdList")?)
    } else {
        None
    };
    let times = TimeFilter {
        creation: p.time_range(
            "$XDSDocumentEntryCreationTimeFrom",
            "$XDSDocumentEntryCreationTimeTo",
        )?,
        service_start: p.time_range(
            "$XDSDocumentEntryServiceStartTimeFrom",
            "$XDSDocumentEntryServiceStartTimeTo",
        )?,
        service_stop: p.time_range(
            "$XDSDocumentEntryServiceStopTimeFrom",
            "$XDSDocumentEntryServiceStopTimeTo",
        )?,
        ..Default::default()
    };
    let codes: Vec<CodeFilter> = [
        or_group(CodeKind::Class, p.codes("$XDSDocumentEntryClassCode")?),
        or_group(CodeKind::Type, p.codes("$XDSDocumentEntryTypeCode")?),
        or_group(
            CodeKind::PracticeSetting,
            p.codes("$XDSDocumentEntryPracticeSettingCode")?,
        ),
        or_group(
            CodeKind::FacilityType,
            p.codes("$XDSDocumentEntryHealthcareFacilityTypeCode")?,
        ),
        or_group(CodeKind::Format, p.codes("$XDSDocumentEntryFormatCode")?),
        and_groups(
            CodeKind::Event,
            p.code_groups("$XDSDocumentEntryEventCodeList")?,
        ),
        and_groups(
            CodeKind::Confidentiality,
            p.code_groups("$XDSDocumentEntryConfidentialityCode")?,
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    let authors = p.list("$XDSDocumentEntryAuthorPerson")?;
    Find {
        kind: EntryKind::DocumentEntry,
        statuses,
        on_demand: Some(entry_types(p)?),
        times,
        codes,
        values: vec![(ValueKind::Author, authors), (ValueKind::ReferenceId, refs)],
    }
    .run(conn, &pid, limits)
}

pub fn find_submission_sets(
    conn: &mut DbConn,
    p: &Params,
    limits: QueryLimits,
) -> Result<Found, RegistryFailure> {
    let pid = p.required_single("$XDSSubmissionSetPatientId")?;
    Find {
        kind: EntryKind::SubmissionSet,
        statuses: statuses(&p.required_list("$XDSSubmissionSetStatus")?),
        on_demand: None,
        times: TimeFilter {
            submission: p.time_range(
                "$XDSSubmissionSetSubmissionTimeFrom",
                "$XDSSubmissionSetSubmissionTimeTo",
            )?,
            ..Default::default()
        },
        codes: or_group(
            CodeKind::ContentType,
            p.codes("$XDSSubmissionSetContentType")?,
        )
        .into_iter()
        .collect(),
        values: vec![
            (ValueKind::SourceId, p.list("$XDSSubmissionSetSourceId")?),
            (ValueKind::Author, p.list("$XDSSubmissionSetAuthorPerson")?),
        ],
    }
    .run(conn, &pid, limits)
}

pub fn find_folders(
    conn: &mut DbConn,
    p: &Params,
    limits: QueryLimits,
) -> Result<Found, RegistryFailure> {
    let pid = p.required_single("$XDSFolderPatientId")?;
    Find {
        kind: EntryKind::Folder,
        statuses: statuses(&p.required_list("$XDSFolderStatus")?),
        on_demand: None,
        times: TimeFilter {
            last_update: p
                .time_range("$XDSFolderLastUpdateTimeFrom", "$XDSFolderLastUpdateTimeTo")?,
            ..Default::default()
        },
        codes: and_groups(CodeKind::FolderCode, p.code_groups("$XDSFolderCodeList")?)
            .into_iter()
            .collect(),
        values: Vec::new(),
    }
    .run(conn, &pid, limits)
}

//! ITI-18 Registry Stored Query: dispatch by query id and assembly of the answer.

mod contents;
mod find;
mod get;
pub mod params;

use super::gate::Gate;
use super::{Registry, RegistryFailure};
use crate::ebxml::query::{AdhocQueryRequest, ReturnType};
use crate::ebxml::write::inject_attrs;
use crate::store::registry::{AssocRow, ObjectRow};
use crate::store::DbConn;
use crate::xds::confidentiality::Viewer;
use crate::xds::{AvailabilityStatus, EntryKind, ErrorCode, XdsError};
use params::Params;
use std::collections::HashSet;

pub const FIND_DOCUMENTS: &str = "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d";
pub const FIND_DOCUMENTS_BY_REFERENCE_ID: &str = "urn:uuid:12941a89-e02e-4be5-967c-ce4bfc8fe492";
pub const FIND_SUBMISSION_SETS: &str = "urn:uuid:f26abbcb-ac74-4422-8a30-edb644bbc1a9";
pub const FIND_FOLDERS: &str = "urn:uuid:958f3006-baad-4929-a4de-ff1114824431";
pub const GET_ALL: &str = "urn:uuid:10b545ea-725c-446d-9b95-8aeb444eddf3";
pub const GET_DOCUMENTS: &str = "urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4";
pub const GET_FOLDERS: &str = "urn:uuid:5737b14c-8a1a-4539-b659-e03a34a5e1e4";
pub const GET_ASSOCIATIONS: &str = "urn:uuid:a7ae438b-4bc2-4642-93e9-be891f7bb155";
pub const GET_DOCUMENTS_AND_ASSOCIATIONS: &str = "urn:uuid:bab9529a-4a10-40b3-a01f-f68a615d247a";
pub const GET_SUBMISSION_SETS: &str = "urn:uuid:51224314-5390-4169-9b91-b1980040715a";
pub const GET_SUBMISSION_SET_AND_CONTENTS: &str = "urn:uuid:e8e3cb2c-e39c-46b9-99e4-c12f57260b83";
pub const GET_FOLDER_AND_CONTENTS: &str = "urn:uuid:b909a503-523d-4517-8acf-8e5834dfc4c7";
pub const GET_FOLDERS_FOR_DOCUMENT: &str = "urn:uuid:10cae35a-c7f9-4cf5-b61e-fc3278ffb578";
pub const GET_RELATED_DOCUMENTS: &str = "urn:uuid:d90e5407-b356-4d91-a89f-873917b4b0e6";

/// What a stored query found, in answer order.
#[derive(Debug, Default)]
pub struct Found {
    pub objects: Vec<ObjectRow>,
    pub assocs: Vec<AssocRow>,
    /// The ids pushed so far: answers can be large, so repeats are found by hashing.
    seen: HashSet<String>,
}

impl Found {
    fn of_objects(objects: Vec<ObjectRow>) -> Found {
        let seen = objects.iter().map(|o| o.uuid.clone()).collect();
        Found {
            objects,
            assocs: Vec::new(),
            seen,
        }
    }

    fn push_objects(&mut self, rows: impl IntoIterator<Item = ObjectRow>) {
        for r in rows {
            if self.seen.insert(r.uuid.clone()) {
                self.objects.push(r);
            }
        }
    }

    fn push_assocs(&mut self, rows: impl IntoIterator<Item = AssocRow>) {
        for r in rows {
            if self.seen.insert(r.uuid.clone()) {
                self.assocs.push(r);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.objects.len() + self.assocs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Limits a query runs under.
#[derive(Debug, Clone, Copy)]
pub struct QueryLimits {
    pub max_results: usize,
}

/// The statuses a query asks for; statuses the registry never holds match nothing.
pub fn statuses(values: &[String]) -> Vec<AvailabilityStatus> {
    values
        .iter()
        .filter_map(|v| AvailabilityStatus::from_urn(v))
        .collect()
}

impl Registry {
    /// Runs a stored query for this audience; returns the serialised objects (ObjectRef or
    /// LeafClass), without those the audience may not see.
    pub async fn stored_query(
        &self,
        req: AdhocQueryRequest,
        viewer: Viewer,
    ) -> Result<Vec<String>, RegistryFailure> {
        let found = self.query_rows(&req, viewer).await?;
        Ok(render(&found, req.return_type, req.home.as_deref()))
    }

    /// Runs a stored query and returns the stored rows (for gateways that build on them).
    pub async fn query_rows(
        &self,
        req: &AdhocQueryRequest,
        viewer: Viewer,
    ) -> Result<Found, RegistryFailure> {
        let params = Params::parse(&req.params)?;
        let limits = QueryLimits {
            max_results: self.cfg.max_results,
        };
        let query_id = req.query_id.clone();
        let leaf = req.return_type == ReturnType::LeafClass;
        let policy = self.confidentiality.clone();
        let found = self
            .store
            .read(move |conn| {
                let mut gate = Gate::new(&policy, viewer);
                run(conn, &query_id, &params, limits, leaf, &mut gate)
            })
            .await?;
        if found.len() > self.cfg.max_results {
            return Err(too_many_results(self.cfg.max_results).into());
        }
        Ok(found)
    }
}

fn too_many_results(max: usize) -> XdsError {
    XdsError::new(
        ErrorCode::TooManyResults,
        format!("the query matched more than {max} objects; narrow it"),
    )
}

fn run(
    conn: &mut DbConn,
    id: &str,
    p: &Params,
    limits: QueryLimits,
    leaf: bool,
    gate: &mut Gate,
) -> Result<Found, RegistryFailure> {
    let found = match id {
        FIND_DOCUMENTS => find::find_documents(conn, p, limits, false)?,
        FIND_DOCUMENTS_BY_REFERENCE_ID => find::find_documents(conn, p, limits, true)?,
        FIND_SUBMISSION_SETS => find::find_submission_sets(conn, p, limits)?,
        FIND_FOLDERS => find::find_folders(conn, p, limits)?,
        GET_ALL => contents::get_all(conn, p, limits)?,
        GET_DOCUMENTS => get::get_entries(conn, p, EntryKind::DocumentEntry, gate)?,
        GET_FOLDERS => get::get_entries(conn, p, EntryKind::Folder, gate)?,
        GET_ASSOCIATIONS => get::get_associations(conn, p)?,
        GET_DOCUMENTS_AND_ASSOCIATIONS => get::get_documents_and_associations(conn, p, gate)?,
        GET_SUBMISSION_SETS => get::get_submission_sets(conn, p, gate)?,
        GET_SUBMISSION_SET_AND_CONTENTS => {
            contents::get_submission_set_and_contents(conn, p, gate)?
        }
        GET_FOLDER_AND_CONTENTS => contents::get_folder_and_contents(conn, p, gate)?,
        GET_FOLDERS_FOR_DOCUMENT => contents::get_folders_for_document(conn, p, gate)?,
        GET_RELATED_DOCUMENTS => contents::get_related_documents(conn, p, gate)?,
        other => {
            return Err(XdsError::registry(format!("unknown stored query id '{other}'")).into());
        }
    };
    let found = if p.metadata_level()? == 1 {
        level_one(conn, found)?
    } else {
        found
    };
    // Before the patient check: a hidden object must not make an answer fail either.
    let found = hide(conn, found, gate)?;
    // Only full metadata discloses patient data; ObjectRefs may span patients.
    if leaf {
        check_single_patient(&found)?;
    }
    Ok(found)
}

/// Leaves out the objects the caller may not see, and every association that names one (or
/// names an association left out), so that a hidden document appears nowhere in the answer.
fn hide(conn: &mut DbConn, mut found: Found, gate: &mut Gate) -> Result<Found, RegistryFailure> {
    gate.note(conn, &found.objects)?;
    let named = found.objects.iter().map(|o| o.uuid.as_str()).chain(
        found
            .assocs
            .iter()
            .flat_map(|a| [a.source.as_str(), a.target.as_str()]),
    );
    gate.learn(conn, named)?;
    found.objects.retain(|o| gate.shows(&o.uuid));
    let mut gone: HashSet<String> = HashSet::new();
    loop {
        let before = found.assocs.len();
        found.assocs.retain(|a| {
            let keep = [&a.source, &a.target]
                .iter()
                .all(|e| gate.shows(e) && !gone.contains(e.as_str()));
            if !keep {
                gone.insert(a.uuid.clone());
            }
            keep
        });
        if found.assocs.len() == before {
            return Ok(found);
        }
    }
}

/// `$MetadataLevel` 1: no replaced versions, no Deprecated Folders or associations, and no
/// association that names an object left out.
fn level_one(conn: &mut DbConn, mut found: Found) -> Result<Found, RegistryFailure> {
    let objects = std::mem::take(&mut found.objects);
    let before: HashSet<String> = objects.iter().map(|o| o.uuid.clone()).collect();
    found.objects = get::newest_only(conn, objects)?
        .into_iter()
        .filter(|o| !(o.kind == EntryKind::Folder && o.status == AvailabilityStatus::Deprecated))
        .collect();
    let kept: HashSet<&str> = found.objects.iter().map(|o| o.uuid.as_str()).collect();
    found.assocs.retain(|a| {
        a.status == AvailabilityStatus::Approved
            && [&a.source, &a.target]
                .iter()
                .all(|e| kept.contains(e.as_str()) || !before.contains(e.as_str()))
    });
    Ok(found)
}

/// A stored query answer may concern one patient only.
fn check_single_patient(found: &Found) -> Result<(), XdsError> {
    let patients: HashSet<&str> = found
        .objects
        .iter()
        .map(|o| o.patient_id.as_str())
        .collect();
    if patients.len() > 1 {
        return Err(XdsError::new(
            ErrorCode::ResultNotSinglePatient,
            "the requested objects belong to more than one patient",
        ));
    }
    Ok(())
}

fn render(found: &Found, rt: ReturnType, home: Option<&str>) -> Vec<String> {
    let mut out = Vec::with_capacity(found.len());
    let home_attr = |v: &mut Vec<(&str, String)>| {
        if let Some(h) = home {
            v.push(("home", h.to_string()));
        }
    };
    match rt {
        ReturnType::ObjectRef => {
            for id in found
                .objects
                .iter()
                .map(|o| &o.uuid)
                .chain(found.assocs.iter().map(|a| &a.uuid))
            {
                let mut attrs = vec![("id", id.clone())];
                home_attr(&mut attrs);
                let a: Vec<(&str, &str)> = attrs.iter().map(|(k, v)| (*k, v.as_str())).collect();
                out.push(inject_attrs("<rim:ObjectRef/>", &a));
            }
        }
        ReturnType::LeafClass => {
            for o in &found.objects {
                let mut attrs = vec![("status", o.status.urn().to_string())];
                home_attr(&mut attrs);
                let a: Vec<(&str, &str)> = attrs.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let mut xml = inject_attrs(&o.xml, &a);
                if let Some(t) = o.last_update {
                    xml = with_last_update(&xml, t);
                }
                out.push(xml);
            }
            for r in &found.assocs {
                let mut attrs = vec![("status", r.status.urn().to_string())];
                home_attr(&mut attrs);
                let a: Vec<(&str, &str)> = attrs.iter().map(|(k, v)| (*k, v.as_str())).collect();
                out.push(inject_attrs(&r.xml, &a));
            }
        }
    }
    out
}

/// Folders carry lastUpdateTime as their first slot.
fn with_last_update(xml: &str, t: i64) -> String {
    match xml.find('>') {
        Some(i) if !xml[..i].ends_with('/') => format!(
            "{}<rim:Slot name=\"lastUpdateTime\"><rim:ValueList><rim:Value>{t:014}</rim:Value></rim:ValueList></rim:Slot>{}",
            &xml[..=i],
            &xml[i + 1..]
        ),
        _ => xml.to_string(),
    }
}

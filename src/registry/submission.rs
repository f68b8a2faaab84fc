//! Turning the objects of a SubmitObjectsRequest into a checked submission, before any
//! database work: symbolic ids, attaching loose classifications, per-entry rules,
//! uniqueness within the message and patient consistency.

use crate::ebxml::{RegistryObject, RimTag};
use crate::xds::codes::CodePolicy;
use crate::xds::model::{entry_from, kind_of, Entry, EntryKind};
use crate::xds::validate::{check_entry, Expect};
use crate::xds::{ids, ErrorCode, XdsError};
use std::collections::{HashMap, HashSet};

#[derive(Debug)]
pub struct Submission {
    pub set: Entry,
    pub docs: Vec<Entry>,
    pub folders: Vec<Entry>,
    pub assocs: Vec<RegistryObject>,
    /// Old (possibly symbolic) id to assigned UUID, for the caller (the repository needs it).
    pub id_map: HashMap<String, String>,
    /// Who sends it (`AuditEvent::submitter`); stored with every entry. Empty for local tools.
    pub submitted_by: String,
    /// Where each id of the submission is: associations are checked against it one by one,
    /// and a client decides how many objects there are.
    index: HashMap<String, Slot>,
}

#[derive(Debug, Clone, Copy)]
enum Slot {
    Set,
    Doc(usize),
    Folder(usize),
    Assoc,
}

impl Submission {
    fn new(
        set: Entry,
        docs: Vec<Entry>,
        folders: Vec<Entry>,
        assocs: Vec<RegistryObject>,
        id_map: HashMap<String, String>,
    ) -> Submission {
        let mut index = HashMap::with_capacity(1 + docs.len() + folders.len() + assocs.len());
        // Entries win over an association that reuses their id (which validation refuses).
        for a in &assocs {
            index.insert(a.id.clone(), Slot::Assoc);
        }
        for (i, f) in folders.iter().enumerate() {
            index.insert(f.uuid().to_string(), Slot::Folder(i));
        }
        for (i, d) in docs.iter().enumerate() {
            index.insert(d.uuid().to_string(), Slot::Doc(i));
        }
        index.insert(set.uuid().to_string(), Slot::Set);
        Submission {
            set,
            docs,
            folders,
            assocs,
            id_map,
            submitted_by: String::new(),
            index,
        }
    }

    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        std::iter::once(&self.set)
            .chain(self.docs.iter())
            .chain(self.folders.iter())
    }

    /// The SubmissionSet, DocumentEntry or Folder of the submission with this id.
    pub fn entry(&self, uuid: &str) -> Option<&Entry> {
        match self.index.get(uuid)? {
            Slot::Set => Some(&self.set),
            Slot::Doc(i) => self.docs.get(*i),
            Slot::Folder(i) => self.folders.get(*i),
            Slot::Assoc => None,
        }
    }

    pub fn contains(&self, uuid: &str) -> bool {
        self.entry(uuid).is_some()
    }

    /// An association of the submission has this id.
    pub fn has_assoc(&self, id: &str) -> bool {
        matches!(self.index.get(id), Some(Slot::Assoc))
    }

    pub fn doc(&self, uuid: &str) -> Option<&Entry> {
        match self.index.get(uuid)? {
            Slot::Doc(i) => self.docs.get(*i),
            _ => None,
        }
    }

    pub fn folder(&self, uuid: &str) -> Option<&Entry> {
        match self.index.get(uuid)? {
            Slot::Folder(i) => self.folders.get(*i),
            _ => None,
        }
    }
}

pub fn prepare(
    objects: Vec<RegistryObject>,
    policy: &CodePolicy,
    expect: Expect,
) -> Result<Submission, Vec<XdsError>> {
    let mut errs = Vec::new();
    let id_map = assign_uuids(&objects);
    let mut objects: Vec<RegistryObject> = objects.into_iter().map(|o| remap(o, &id_map)).collect();

    // Top-level Classifications and ExternalIdentifiers join the object they describe.
    let (loose, mut rest): (Vec<_>, Vec<_>) = objects
        .drain(..)
        .partition(|o| matches!(o.tag, RimTag::Classification | RimTag::ExternalIdentifier));
    for l in loose {
        let target = match l.tag {
            RimTag::Classification => l.classified_object.clone(),
            _ => l.registry_object.clone(),
        }
        .unwrap_or_default();
        match rest.iter_mut().find(|o| o.id == target) {
            Some(o) if l.tag == RimTag::Classification => o.classifications.push(l),
            Some(o) => o.external_identifiers.push(l),
            None => errs.push(
                XdsError::new(
                    ErrorCode::UnresolvedReference,
                    format!(
                        "{} {} refers to {target}, which is not in the submission",
                        l.tag.element(),
                        l.id
                    ),
                )
                .at(l.id.clone()),
            ),
        }
    }

    let mut sets = Vec::new();
    let mut docs = Vec::new();
    let mut folders = Vec::new();
    let mut assocs = Vec::new();
    for mut o in rest {
        match o.tag {
            RimTag::Association => assocs.push(o),
            RimTag::ObjectRef => {}
            _ => match kind_of(&o, &[]) {
                Some(kind) => {
                    o.status = None;
                    o.home = None;
                    // A logicalID of its own belongs to a new version (ITI-57/92 only); a
                    // first version is its own logical object.
                    let keeps_lid = expect.metadata_update
                        && o.lid.as_deref().is_some_and(|l| l.starts_with("urn:uuid:"));
                    if !keeps_lid {
                        o.lid = Some(o.id.clone());
                    }
                    // The registry numbers versions: a first version is 1 whatever was sent;
                    // an update renumbers its entries before storing them.
                    o.version_name = Some("1".into());
                    if kind == EntryKind::Folder {
                        // lastUpdateTime belongs to the registry; it is kept in its own column.
                        o.slots.retain(|s| s.name != "lastUpdateTime");
                    }
                    let e = entry_from(kind, o);
                    errs.extend(check_entry(&e, policy, expect));
                    match kind {
                        EntryKind::SubmissionSet => sets.push(e),
                        EntryKind::DocumentEntry => docs.push(e),
                        EntryKind::Folder => folders.push(e),
                    }
                }
                None => errs.push(
                    XdsError::metadata(format!(
                        "RegistryPackage {} is classified neither as SubmissionSet nor as Folder",
                        o.id
                    ))
                    .at(o.id.clone()),
                ),
            },
        }
    }
    let set = match sets.len() {
        1 => sets.pop(),
        0 => {
            errs.push(XdsError::metadata("the submission has no SubmissionSet"));
            None
        }
        _ => {
            errs.push(XdsError::metadata(
                "the submission has more than one SubmissionSet",
            ));
            None
        }
    };

    // uniqueIds and entryUUIDs must be unique within the message.
    let mut seen_uid = HashSet::new();
    let mut seen_id = HashSet::new();
    for e in set.iter().chain(docs.iter()).chain(folders.iter()) {
        if !e.unique_id.is_empty() && !seen_uid.insert(e.unique_id.as_str()) {
            errs.push(XdsError::new(
                ErrorCode::RegistryDuplicateUniqueIdInMessage,
                format!(
                    "uniqueId {} appears more than once in the submission",
                    e.unique_id
                ),
            ));
        }
        if !seen_id.insert(e.uuid()) {
            errs.push(XdsError::new(
                ErrorCode::RegistryDuplicateUniqueIdInMessage,
                format!(
                    "entryUUID {} appears more than once in the submission",
                    e.uuid()
                ),
            ));
        }
    }
    for a in &assocs {
        if !seen_id.insert(a.id.as_str()) {
            errs.push(XdsError::new(
                ErrorCode::RegistryDuplicateUniqueIdInMessage,
                format!("id {} appears more than once in the submission", a.id),
            ));
        }
        check_association_shape(a, expect, &mut errs);
    }

    if let Some(set) = &set {
        for e in docs.iter().chain(folders.iter()) {
            if !e.patient_id.is_empty()
                && !set.patient_id.is_empty()
                && e.patient_id != set.patient_id
            {
                errs.push(
                    XdsError::new(
                        ErrorCode::PatientIdDoesNotMatch,
                        format!(
                            "{} {} has patient id {} but the SubmissionSet has {}",
                            e.kind.label(),
                            e.uuid(),
                            e.patient_id,
                            set.patient_id
                        ),
                    )
                    .at(e.uuid().to_string()),
                );
            }
        }
    }
    match set {
        Some(set) if errs.is_empty() => Ok(Submission::new(set, docs, folders, assocs, id_map)),
        _ => Err(errs),
    }
}

/// An association names an object that is neither in the submission nor in the registry.
pub fn unresolved(a: &RegistryObject, id: &str) -> XdsError {
    XdsError::new(
        ErrorCode::UnresolvedReference,
        format!(
            "Association {} refers to {id}, which is neither in the submission nor in the registry",
            a.id
        ),
    )
    .at(a.id.clone())
}

/// An association links objects of two different patients.
pub fn patient_mismatch(assoc: &str, member: &str, owner: &str) -> XdsError {
    XdsError::new(
        ErrorCode::PatientIdDoesNotMatch,
        format!("Association {assoc} links patient {member} into an object of patient {owner}"),
    )
}

fn check_association_shape(a: &RegistryObject, expect: Expect, errs: &mut Vec<XdsError>) {
    let t = a.association_type.as_deref().unwrap_or_default();
    if a.source_object.as_deref().unwrap_or_default().is_empty()
        || a.target_object.as_deref().unwrap_or_default().is_empty()
    {
        errs.push(XdsError::metadata(format!(
            "Association {} needs sourceObject and targetObject",
            a.id
        )));
    }
    let update_op = expect.metadata_update
        && (t == ids::UPDATE_AVAILABILITY_STATUS || t == ids::SUBMIT_ASSOCIATION);
    if a.source_object.is_some() && a.source_object == a.target_object {
        errs.push(XdsError::metadata(format!(
            "Association {} links an object to itself",
            a.id
        )));
    }
    if t != ids::HAS_MEMBER && !ids::LIFECYCLE_TYPES.contains(&t) && !update_op {
        errs.push(XdsError::metadata(format!(
            "Association {} has unsupported associationType '{t}'",
            a.id
        )));
    }
}

/// Every id that is not already a UUID gets one. Classification and ExternalIdentifier ids
/// are included, since they are registry objects too.
fn assign_uuids(objects: &[RegistryObject]) -> HashMap<String, String> {
    let mut map = HashMap::new();
    let mut visit = |id: &str| {
        if !id.starts_with("urn:uuid:") && !map.contains_key(id) {
            map.insert(id.to_string(), format!("urn:uuid:{}", uuid::Uuid::new_v4()));
        }
    };
    for o in objects {
        visit(&o.id);
        for c in o
            .classifications
            .iter()
            .chain(o.external_identifiers.iter())
        {
            visit(&c.id);
        }
    }
    map
}

fn remap(mut o: RegistryObject, map: &HashMap<String, String>) -> RegistryObject {
    let fix = |v: &mut Option<String>| {
        if let Some(new) = v.as_ref().and_then(|s| map.get(s)) {
            *v = Some(new.clone());
        }
    };
    if let Some(new) = map.get(&o.id) {
        o.id = new.clone();
    }
    fix(&mut o.lid);
    fix(&mut o.source_object);
    fix(&mut o.target_object);
    fix(&mut o.classified_object);
    fix(&mut o.registry_object);
    o.classifications = o
        .classifications
        .into_iter()
        .map(|c| remap(c, map))
        .collect();
    o.external_identifiers = o
        .external_identifiers
        .into_iter()
        .map(|c| remap(c, map))
        .collect();
    o
}

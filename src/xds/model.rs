//! Typed views of the ebRIM objects of an XDS submission.

use super::ids;
use crate::ebxml::{RegistryObject, RimTag, APPROVED, DEPRECATED};
use diesel::sql_types::SmallInt;
use diesel::{AsExpression, FromSqlRow};

// The enums below are stored as SMALLINT columns (src/store/small_int.rs): a discriminant is
// the number existing databases hold, so a variant is never renumbered.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow)]
#[diesel(sql_type = SmallInt)]
#[repr(i16)]
pub enum EntryKind {
    DocumentEntry = 1,
    SubmissionSet = 2,
    Folder = 3,
}

impl EntryKind {
    pub fn label(self) -> &'static str {
        match self {
            EntryKind::DocumentEntry => "DocumentEntry",
            EntryKind::SubmissionSet => "SubmissionSet",
            EntryKind::Folder => "Folder",
        }
    }

    /// The identification schemes of (patientId, uniqueId) for this kind.
    pub fn id_schemes(self) -> (&'static str, &'static str) {
        match self {
            EntryKind::DocumentEntry => (ids::DE_PATIENT_ID, ids::DE_UNIQUE_ID),
            EntryKind::SubmissionSet => (ids::SS_PATIENT_ID, ids::SS_UNIQUE_ID),
            EntryKind::Folder => (ids::FOLDER_PATIENT_ID, ids::FOLDER_UNIQUE_ID),
        }
    }
}

/// The coded attributes that queries select on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow)]
#[diesel(sql_type = SmallInt)]
#[repr(i16)]
pub enum CodeKind {
    Class = 1,
    Type = 2,
    Format = 3,
    PracticeSetting = 4,
    FacilityType = 5,
    Event = 6,
    Confidentiality = 7,
    ContentType = 8,
    FolderCode = 9,
}

impl CodeKind {
    pub const ALL: [CodeKind; 9] = [
        CodeKind::Class,
        CodeKind::Type,
        CodeKind::Format,
        CodeKind::PracticeSetting,
        CodeKind::FacilityType,
        CodeKind::Event,
        CodeKind::Confidentiality,
        CodeKind::ContentType,
        CodeKind::FolderCode,
    ];

    pub fn scheme(self) -> &'static str {
        match self {
            CodeKind::Class => ids::DE_CLASS_CODE,
            CodeKind::Type => ids::DE_TYPE_CODE,
            CodeKind::Format => ids::DE_FORMAT_CODE,
            CodeKind::PracticeSetting => ids::DE_PRACTICE_SETTING,
            CodeKind::FacilityType => ids::DE_FACILITY_TYPE,
            CodeKind::Event => ids::DE_EVENT_CODE,
            CodeKind::Confidentiality => ids::DE_CONFIDENTIALITY,
            CodeKind::ContentType => ids::SS_CONTENT_TYPE,
            CodeKind::FolderCode => ids::FOLDER_CODE_LIST,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CodeKind::Class => "classCode",
            CodeKind::Type => "typeCode",
            CodeKind::Format => "formatCode",
            CodeKind::PracticeSetting => "practiceSettingCode",
            CodeKind::FacilityType => "healthcareFacilityTypeCode",
            CodeKind::Event => "eventCodeList",
            CodeKind::Confidentiality => "confidentialityCode",
            CodeKind::ContentType => "contentTypeCode",
            CodeKind::FolderCode => "codeList",
        }
    }

    pub fn from_scheme(s: &str) -> Option<CodeKind> {
        CodeKind::ALL.into_iter().find(|k| k.scheme() == s)
    }

    /// Codes that may appear only once on an entry.
    pub fn single_valued(self) -> bool {
        !matches!(
            self,
            CodeKind::Event | CodeKind::Confidentiality | CodeKind::FolderCode
        )
    }
}

/// The availability status of a registry object or association (ebRIM StatusType).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow)]
#[diesel(sql_type = SmallInt)]
#[repr(i16)]
pub enum AvailabilityStatus {
    Approved = 1,
    Deprecated = 2,
}

impl AvailabilityStatus {
    pub fn urn(self) -> &'static str {
        match self {
            AvailabilityStatus::Approved => APPROVED,
            AvailabilityStatus::Deprecated => DEPRECATED,
        }
    }

    /// None for a status this registry does not keep (Submitted, Withdrawn, anything else).
    pub fn from_urn(urn: &str) -> Option<AvailabilityStatus> {
        match urn {
            APPROVED => Some(AvailabilityStatus::Approved),
            DEPRECATED => Some(AvailabilityStatus::Deprecated),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Code {
    pub code: String,
    pub scheme: String,
}

/// A DocumentEntry, SubmissionSet or Folder with its queryable attributes pulled out.
#[derive(Debug, Clone)]
pub struct Entry {
    pub kind: EntryKind,
    pub object: RegistryObject,
    pub unique_id: String,
    pub patient_id: String,
    pub codes: Vec<(CodeKind, Code)>,
    pub authors: Vec<String>,
    pub reference_ids: Vec<String>,
}

impl Entry {
    pub fn uuid(&self) -> &str {
        &self.object.id
    }

    pub fn time(&self, slot: &str) -> Option<i64> {
        self.object
            .first_slot_value(slot)
            .and_then(super::time::dtm_to_i64)
    }

    pub fn is_on_demand(&self) -> bool {
        self.object.object_type.as_deref() == Some(ids::DE_ON_DEMAND)
    }
}

/// Decides what an ebRIM object is: ExtrinsicObject = DocumentEntry, RegistryPackage
/// classified as SubmissionSet or Folder (inline or by a separate Classification).
pub fn kind_of(o: &RegistryObject, loose: &[RegistryObject]) -> Option<EntryKind> {
    match o.tag {
        RimTag::ExtrinsicObject => Some(EntryKind::DocumentEntry),
        RimTag::RegistryPackage => {
            let nodes = o
                .classifications
                .iter()
                .chain(loose.iter().filter(|c| {
                    c.tag == RimTag::Classification
                        && c.classified_object.as_deref() == Some(o.id.as_str())
                }))
                .filter_map(|c| c.classification_node.as_deref());
            for n in nodes {
                if n == ids::SUBMISSION_SET_NODE {
                    return Some(EntryKind::SubmissionSet);
                }
                if n == ids::FOLDER_NODE {
                    return Some(EntryKind::Folder);
                }
            }
            None
        }
        _ => None,
    }
}

/// Pulls the queryable attributes out of an object already known to be of `kind`.
/// Missing ids come back empty; validation reports them.
pub fn entry_from(kind: EntryKind, object: RegistryObject) -> Entry {
    let (pid_scheme, uid_scheme) = kind.id_schemes();
    let ext = |s: &str| {
        object
            .external_id(s)
            .and_then(|e| e.value.clone())
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let patient_id = ext(pid_scheme);
    let unique_id = ext(uid_scheme);
    let mut codes = Vec::new();
    for c in &object.classifications {
        let Some(kind) = c
            .classification_scheme
            .as_deref()
            .and_then(CodeKind::from_scheme)
        else {
            continue;
        };
        codes.push((
            kind,
            Code {
                code: c.node_representation.clone().unwrap_or_default(),
                scheme: c
                    .first_slot_value("codingScheme")
                    .unwrap_or_default()
                    .to_string(),
            },
        ));
    }
    let author_scheme = match kind {
        EntryKind::DocumentEntry => Some(ids::DE_AUTHOR),
        EntryKind::SubmissionSet => Some(ids::SS_AUTHOR),
        EntryKind::Folder => None,
    };
    let authors = author_scheme
        .map(|s| {
            object
                .classifications_in(s)
                .flat_map(|c| c.slot_values("authorPerson").iter().cloned())
                .collect()
        })
        .unwrap_or_default();
    let reference_ids = object.slot_values(ids::REFERENCE_ID_LIST).to_vec();
    Entry {
        kind,
        object,
        unique_id,
        patient_id,
        codes,
        authors,
        reference_ids,
    }
}

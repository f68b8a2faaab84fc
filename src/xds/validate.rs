//! Required-attribute checks for each kind of entry (ITI TF-3 4.2.3). All problems are
//! collected, so a submitter sees every error at once.

use super::codes::CodePolicy;
use super::model::{CodeKind, Entry, EntryKind};
use super::{cx, ids, time, XdsError};

/// Slots whose value is a DTM.
const TIME_SLOTS: [&str; 4] = [
    "creationTime",
    "serviceStartTime",
    "serviceStopTime",
    "submissionTime",
];

/// Slots that may hold one value only.
const SINGLE_SLOTS: [&str; 10] = [
    "creationTime",
    "serviceStartTime",
    "serviceStopTime",
    "submissionTime",
    "hash",
    "size",
    "languageCode",
    "repositoryUniqueId",
    "sourcePatientId",
    "lastUpdateTime",
];

/// What the caller already knows will be added by someone else (the repository adds
/// hash/size/repositoryUniqueId on ITI-41 before registering).
#[derive(Debug, Clone, Copy, Default)]
pub struct Expect {
    pub repository_fields: bool,
    /// ITI-57/92: UpdateAvailabilityStatus associations are operations, not errors.
    pub metadata_update: bool,
}

pub fn check_entry(e: &Entry, policy: &CodePolicy, expect: Expect) -> Vec<XdsError> {
    let mut errs = Vec::new();
    let label = e.kind.label();
    let at = |what: &str| format!("{label} {}: {what}", e.uuid());
    let mut need = |ok: bool, what: &str| {
        if !ok {
            errs.push(XdsError::metadata(at(what)).at(e.uuid().to_string()));
        }
    };
    need(
        !e.patient_id.is_empty(),
        "patientId (ExternalIdentifier) is missing",
    );
    need(
        !e.unique_id.is_empty(),
        "uniqueId (ExternalIdentifier) is missing",
    );
    need(
        e.unique_id.len() <= 128,
        "uniqueId is longer than 128 characters",
    );
    if !e.patient_id.is_empty() {
        if let Err(why) = cx::validate(&e.patient_id) {
            need(false, &why);
        }
    }
    let o = &e.object;
    for s in &o.slots {
        if SINGLE_SLOTS.contains(&s.name.as_str()) && s.values.len() > 1 {
            need(false, &format!("slot {} must have a single value", s.name));
        }
        if TIME_SLOTS.contains(&s.name.as_str()) {
            for v in &s.values {
                if time::dtm_to_i64(v).is_none() {
                    need(
                        false,
                        &format!("slot {} value '{v}' is not a valid DTM", s.name),
                    );
                }
            }
        }
    }
    let has_slot = |n: &str| o.slot(n).map(|s| !s.values.is_empty()).unwrap_or(false);
    let count = |k: CodeKind| e.codes.iter().filter(|(kk, _)| *kk == k).count();
    let required: &[CodeKind] = match e.kind {
        EntryKind::DocumentEntry => &[
            CodeKind::Class,
            CodeKind::Type,
            CodeKind::Format,
            CodeKind::FacilityType,
            CodeKind::PracticeSetting,
            CodeKind::Confidentiality,
        ],
        EntryKind::SubmissionSet => &[CodeKind::ContentType],
        EntryKind::Folder => &[CodeKind::FolderCode],
    };
    for k in required {
        need(count(*k) > 0, &format!("{} is missing", k.label()));
    }
    for k in CodeKind::ALL {
        if k.single_valued() && count(k) > 1 {
            need(false, &format!("{} may appear only once", k.label()));
        }
    }
    for (k, c) in &e.codes {
        if let Some(why) = policy.check(*k, c) {
            need(false, &why);
        }
    }
    match e.kind {
        EntryKind::DocumentEntry => {
            need(o.mime_type.is_some(), "mimeType attribute is missing");
            let ot = o.object_type.as_deref();
            need(
                ot == Some(ids::DE_STABLE) || ot == Some(ids::DE_ON_DEMAND),
                "objectType must be the stable or on-demand DocumentEntry type",
            );
            let stable = ot != Some(ids::DE_ON_DEMAND);
            need(has_slot("languageCode"), "slot languageCode is missing");
            need(
                has_slot("sourcePatientId"),
                "slot sourcePatientId is missing",
            );
            if stable {
                need(has_slot("creationTime"), "slot creationTime is missing");
                if !expect.repository_fields {
                    need(has_slot("hash"), "slot hash is missing");
                    need(has_slot("size"), "slot size is missing");
                }
            }
            if !expect.repository_fields {
                need(
                    has_slot("repositoryUniqueId"),
                    "slot repositoryUniqueId is missing",
                );
            }
            if let Some(h) = o.first_slot_value("hash") {
                need(
                    h.len() == 40 && h.bytes().all(|b| b.is_ascii_hexdigit()),
                    "slot hash must be 40 hexadecimal characters (SHA-1)",
                );
            }
            if let Some(s) = o.first_slot_value("size") {
                need(
                    s.trim().parse::<u64>().is_ok(),
                    "slot size must be a non-negative integer",
                );
            }
        }
        EntryKind::SubmissionSet => {
            need(has_slot("submissionTime"), "slot submissionTime is missing");
            let source = o
                .external_id(ids::SS_SOURCE_ID)
                .and_then(|x| x.value.as_deref())
                .unwrap_or_default();
            need(
                !source.trim().is_empty(),
                "sourceId (ExternalIdentifier) is missing",
            );
        }
        EntryKind::Folder => {}
    }
    errs
}

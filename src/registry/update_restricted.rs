//! ITI-92 Restricted Update Document Set: the attributes a new DocumentEntry version may not
//! change. The registered version's slots are read back from its stored ebRIM.

use crate::ebxml::parse::parse_stored_object;
use crate::store::registry::ObjectRow;
use crate::xds::model::Entry;
use crate::xds::{ErrorCode, XdsError};

/// The refusals for what `e` changes of `registered` that ITI-92 keeps fixed.
pub fn unmodifiable(e: &Entry, registered: &ObjectRow) -> Vec<XdsError> {
    let mut errs = Vec::new();
    let mut fixed = |what: &str| {
        errs.push(XdsError::new(
            ErrorCode::UnmodifiableMetadataError,
            format!(
                "DocumentEntry {}: a restricted update may not change {what}",
                e.uuid()
            ),
        ))
    };
    if e.is_on_demand() != registered.on_demand {
        fixed("objectType");
    }
    let repo = e.object.first_slot_value("repositoryUniqueId");
    if repo != registered.repository_uid.as_deref() {
        fixed("repositoryUniqueId");
    }
    let old = parse_stored_object(&registered.xml);
    for slot in ["sourcePatientId", "documentAvailability"] {
        let before = old.as_ref().and_then(|o| o.first_slot_value(slot));
        if e.object.first_slot_value(slot).map(str::trim) != before.map(str::trim) {
            fixed(slot);
        }
    }
    if e.patient_id != registered.patient_id {
        errs.push(XdsError::new(
            ErrorCode::PatientIdReconciliationError,
            format!(
                "DocumentEntry {}: a restricted update may not move a document to another patient",
                e.uuid()
            ),
        ));
    }
    errs
}

//! Who may change what is registered: over SOAP, only the source that registered an object
//! (the `submitted_by` recorded with it: certificate subject, and the assertion's organisation
//! when there was one). The operator's CLI is not bound by this.

use crate::store::registry::ObjectRow;
use crate::xds::{ErrorCode, XdsError};

/// The refusal when `caller` did not register `row`; None when it did.
pub fn refuse_foreign_source(row: &ObjectRow, caller: &str, action: &str) -> Option<XdsError> {
    if row.submitted_by == caller {
        return None;
    }
    Some(
        XdsError::new(
            ErrorCode::LocalPolicyRestriction,
            format!(
                "{} {} was registered by another source; only that source (or the operator) may {action} it",
                row.kind.label(),
                row.uuid
            ),
        )
        .at(row.uuid.clone()),
    )
}

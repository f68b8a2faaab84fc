//! The harmless request each kind of endpoint gets: an XCA FindDocuments (ObjectRef, so no
//! metadata travels) or an XCPD discovery, both for a patient id that names no one, and how to
//! tell an answer from a refusal.

use crate::ebxml::query::{write_adhoc_request, AdhocQueryRequest, ReturnType};
use crate::ebxml::rim::Slot;
use crate::ebxml::QUERY;
use crate::gateway::xcpd::bare_oid;
use crate::hl7v3::request::{write_id_query, IdQuery};
use crate::hl7v3::{Ii, HL7};
use crate::ids::action;
use crate::registry::query::FIND_DOCUMENTS;
use crate::xml::Element;

/// The test patient's id: no registry holds it, so no one's record is read.
const TEST_PATIENT: &str = "NCPEHPEERSCHECK";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Xcpd,
    Xca,
    Xdr,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Xcpd => "xcpd",
            Kind::Xca => "xca",
            Kind::Xdr => "xdr",
        }
    }
}

/// One harmless call: its action, its body, and the patient a TRC assertion must name.
pub struct Harmless {
    pub action: &'static str,
    pub body: String,
    pub patient: Option<String>,
}

/// The call for `kind` to the community `peer_home` from `our_home`; None for XDR, which has
/// no call without effect.
pub fn harmless(kind: Kind, our_home: &str, peer_home: &str) -> Option<Harmless> {
    let domain = bare_oid(peer_home);
    match kind {
        Kind::Xca => {
            let patient = format!("{TEST_PATIENT}^^^&{domain}&ISO");
            let slot = |name: &str, value: String| Slot {
                name: name.into(),
                slot_type: None,
                values: vec![value],
            };
            let q = AdhocQueryRequest {
                return_type: ReturnType::ObjectRef,
                query_id: FIND_DOCUMENTS.into(),
                home: Some(peer_home.into()),
                params: vec![
                    slot("$XDSDocumentEntryPatientId", format!("'{patient}'")),
                    slot(
                        "$XDSDocumentEntryStatus",
                        "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')".into(),
                    ),
                ],
            };
            Some(Harmless {
                action: action::XC_QUERY,
                body: write_adhoc_request(&q),
                patient: Some(patient),
            })
        }
        Kind::Xcpd => {
            let fmt = time::macros::format_description!("[year][month][day][hour][minute][second]");
            let now = time::OffsetDateTime::now_utc();
            let q = IdQuery {
                id: Ii::new(uuid::Uuid::new_v4().to_string(), None),
                creation_time: now.format(&fmt).unwrap_or_default(),
                sender_device: Ii::new(bare_oid(our_home), None),
                receiver_device: Ii::new(domain, None),
                query_id: Ii::new(uuid::Uuid::new_v4().to_string(), None),
                patient: Ii::new(domain, Some(TEST_PATIENT.into())),
            };
            Some(Harmless {
                action: action::XCPD,
                body: write_id_query(&q),
                patient: None,
            })
        }
        Kind::Xdr => None,
    }
}

/// What the answer says, when it is the answer `kind` expects: any status counts (the patient
/// is unknown, so errors about it are expected); another element means the call failed.
pub fn read_answer(kind: Kind, body: &Element) -> Result<String, String> {
    let (ns, name) = match kind {
        Kind::Xca => (QUERY, "AdhocQueryResponse"),
        Kind::Xcpd => (HL7, "PRPA_IN201306UV02"),
        Kind::Xdr => return Err("XDR has no harmless call".into()),
    };
    if !body.is(ns, name) {
        return Err(format!(
            "answered with {{{}}}{} instead of {name}",
            body.ns.as_deref().unwrap_or_default(),
            body.name
        ));
    }
    Ok(match kind {
        Kind::Xca => {
            let status = body.attr("status").unwrap_or_default();
            let short = status.rsplit(':').next().unwrap_or(status);
            let errors = crate::ebxml::response::read_error_list(body);
            match errors.first() {
                Some(e) => format!("{short} ({})", e.error_code),
                None => short.to_string(),
            }
        }
        _ => {
            let code = body
                .find(HL7, "queryAck")
                .and_then(|a| a.child(HL7, "queryResponseCode"))
                .and_then(|c| c.attr("code"))
                .unwrap_or("no queryResponseCode");
            let detail = body
                .find(HL7, "acknowledgementDetail")
                .and_then(|d| d.child(HL7, "code"))
                .and_then(|c| c.attr("code"));
            match detail {
                Some(d) => format!("queryResponseCode {code} ({d})"),
                None => format!("queryResponseCode {code}"),
            }
        }
    })
}

//! ITI-86 Remove Documents: the stored bytes and the `documents` row of each requested
//! document go, in one transaction with the audit record. The registry entry is left alone:
//! its metadata is removed over ITI-62. Each request that cannot be honoured gets its own
//! error (another repository's id, a document not here); the others are still removed, and
//! the answer is then PartialSuccess.

use super::Repository;
use crate::audit::{outcome_of, AuditEvent, Auditor, EventType};
use crate::ebxml::remove::parse_remove_documents;
use crate::ebxml::response::{write_registry_response, RegistryError};
use crate::ebxml::retrieve::DocumentRequest;
use crate::ebxml::ResponseStatus;
use crate::ids::action;
use crate::registry::RegistryFailure;
use crate::soap::{SoapCall, SoapReply};
use crate::store::registry as rs;
use crate::xds::{ErrorCode, XdsError};
use std::collections::{BTreeSet, HashSet};

/// How an ITI-86 request ended: the status and an error per request not honoured.
#[derive(Debug)]
pub struct RemoveAnswer {
    pub status: ResponseStatus,
    pub errors: Vec<XdsError>,
    /// The document uniqueIds removed.
    pub removed: Vec<String>,
}

impl Repository {
    /// Removes the requested documents of this repository. The audit record (`audit` also
    /// names the caller, for access rules) is written in the same transaction, whatever the
    /// outcome; only storage trouble returns an error, and then nothing was removed.
    pub async fn remove_documents(
        &self,
        reqs: Vec<DocumentRequest>,
        audit: Option<AuditEvent>,
    ) -> Result<RemoveAnswer, RegistryFailure> {
        let ours = self.cfg.unique_id.clone();
        let mut errors = Vec::new();
        let mut seen = HashSet::new();
        let mut wanted = Vec::new();
        for r in &reqs {
            if r.repository_uid != ours {
                errors.push(
                    XdsError::new(
                        ErrorCode::UnknownRepositoryId,
                        format!(
                            "repository {} is not this one ({ours}); document {} was not removed",
                            r.repository_uid, r.document_uid
                        ),
                    )
                    .at(r.repository_uid.clone()),
                );
            } else if seen.insert(r.document_uid.clone()) {
                wanted.push(r.document_uid.clone());
            }
        }
        let blobs = self.blobs.clone();
        self.registry
            .store
            .write(move |conn| {
                let rows = blobs.find(conn, &wanted)?;
                let here: HashSet<&str> = rows.iter().map(|r| r.unique_id.as_str()).collect();
                errors.extend(
                    wanted
                        .iter()
                        .filter(|u| !here.contains(u.as_str()))
                        .map(|u| {
                            XdsError::new(
                                ErrorCode::DocumentUniqueIdError,
                                format!("document {u} is not in this repository"),
                            )
                            .at(u.clone())
                        }),
                );
                let removed: Vec<String> = rows.iter().map(|r| r.unique_id.clone()).collect();
                if blobs.remove(conn, &removed)? != removed.len() {
                    return Err(XdsError::new(
                        ErrorCode::RepositoryError,
                        "some of these documents were removed by another request at the same time; nothing was removed",
                    )
                    .into());
                }
                // A removed source takes the eHDSI pivots made from it along.
                crate::store::pivots::forget_sources(conn, &removed)?;
                let status = ResponseStatus::of(!removed.is_empty(), !errors.is_empty());
                if let Some(mut ev) = audit {
                    // The patients, where the registry here still has the entries.
                    let entries: Vec<String> = rows.iter().map(|r| r.entry_uuid.clone()).collect();
                    let patients: BTreeSet<String> = rs::objects_by_uuids(conn, &entries)?
                        .into_iter()
                        .map(|o| o.object.patient_id)
                        .collect();
                    ev.patient_ids.extend(patients);
                    ev.document_ids.extend(removed.iter().cloned());
                    ev.outcome = outcome_of(status);
                    if !errors.is_empty() {
                        ev.reason = Some(reason(&errors));
                    }
                    crate::audit::append(conn, &ev)?;
                }
                Ok(RemoveAnswer {
                    status,
                    errors,
                    removed,
                })
            })
            .await
    }
}

/// The error codes of an answer, as an audit reason.
fn reason(errors: &[XdsError]) -> String {
    let codes: BTreeSet<&str> = errors.iter().map(|e| e.code.as_str()).collect();
    codes.into_iter().collect::<Vec<_>>().join(" ")
}

/// The ITI-86 call on the repository endpoint at `path`: parse, remove, answer with a
/// RegistryResponse.
pub async fn handle(repo: &Repository, auditor: &Auditor, path: &str, call: SoapCall) -> SoapReply {
    let ev = auditor.event(EventType::RemoveDocuments, path, &call);
    let (status, errors) = match parse_remove_documents(call.body()) {
        Ok(reqs) => match repo.remove_documents(reqs, Some(ev.clone())).await {
            Ok(a) => (a.status, a.errors),
            Err(f) => failed(auditor, ev, f.into_errors()).await,
        },
        Err(e) => {
            let errs = vec![XdsError::new(ErrorCode::RepositoryError, e.to_string())];
            failed(auditor, ev, errs).await
        }
    };
    let errs: Vec<RegistryError> = errors.iter().map(RegistryError::from).collect();
    let body = write_registry_response(status, &errs);
    SoapReply::new(action::REMOVE_DOCUMENTS_RESPONSE, body, status.label())
}

/// A request that removed nothing and left no audit record of its own: record it now.
async fn failed(
    auditor: &Auditor,
    ev: AuditEvent,
    errors: Vec<XdsError>,
) -> (ResponseStatus, Vec<XdsError>) {
    let errs: Vec<RegistryError> = errors.iter().map(RegistryError::from).collect();
    auditor.failed(ev, &errs).await;
    (ResponseStatus::Failure, errors)
}

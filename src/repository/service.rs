//! The /xds/repository SOAP service: ITI-41 Provide and Register Document Set-b and ITI-43
//! Retrieve Document Set.

use super::provide::{augment, parse_request, to_registry_errors};
use super::retrieve::RetrieveAnswer;
use super::Repository;
use crate::audit::{AuditEvent, Auditor, EventType};
use crate::ebxml::response::{write_registry_response, RegistryError};
use crate::ebxml::retrieve::parse_retrieve_request;
use crate::ebxml::{RegistryObject, ResponseStatus};
use crate::ids::action;
use crate::soap::{Access, Endpoint, Fault, ServiceFuture, SoapCall, SoapReply, SoapService};
use crate::xds::confidentiality::Viewer;
use crate::xds::{ErrorCode, XdsError};
use bytes::Bytes;

pub struct RepositoryService {
    pub repository: Repository,
    pub auditor: Auditor,
}

const ENDPOINT: Endpoint = Endpoint {
    path: "/xds/repository",
    wsdl: include_str!("../../wsdl/repository.wsdl"),
    schemas: crate::ebxml::schemas::XDS_SCHEMAS,
    actions: &[
        action::PROVIDE_AND_REGISTER,
        action::RETRIEVE,
        action::REMOVE_DOCUMENTS,
    ],
    access: Access::National { xds: true },
};

impl SoapService for RepositoryService {
    fn endpoint(&self) -> &'static Endpoint {
        &ENDPOINT
    }

    fn call(&self, call: SoapCall) -> ServiceFuture<'_> {
        Box::pin(async move {
            let repo = &self.repository;
            match call.action() {
                action::PROVIDE_AND_REGISTER => Ok(provide(self, call).await),
                action::RETRIEVE => Ok(retrieve(repo, call)
                    .await
                    .into_reply(action::RETRIEVE_RESPONSE)),
                action::REMOVE_DOCUMENTS => {
                    Ok(super::remove::handle(repo, &self.auditor, ENDPOINT.path, call).await)
                }
                other => Err(Fault::action_not_supported(other)),
            }
        })
    }
}

/// An ITI-41 answer (also XDR's).
pub fn provide_reply(ok: bool, errors: &[RegistryError]) -> SoapReply {
    let status = if ok {
        ResponseStatus::Success
    } else {
        ResponseStatus::Failure
    };
    let body = write_registry_response(status, errors);
    SoapReply::new(action::PROVIDE_AND_REGISTER_RESPONSE, body, status.label())
}

async fn provide(svc: &RepositoryService, call: SoapCall) -> SoapReply {
    let ev = svc
        .auditor
        .event(EventType::ProvideAndRegister, ENDPOINT.path, &call);
    match store_provided(&svc.repository, call, &ev).await {
        Stored::Audited(warnings) => provide_reply(true, &warnings),
        Stored::Remote(warnings) => {
            svc.auditor.record(ev).await;
            provide_reply(true, &warnings)
        }
        Stored::Failed(errors) => {
            svc.auditor.failed(ev, &errors).await;
            provide_reply(false, &errors)
        }
    }
}

/// How a submission ended: stored with its audit record, stored through a remote registry
/// (audit after), or not stored.
pub enum Stored {
    Audited(Vec<RegistryError>),
    Remote(Vec<RegistryError>),
    Failed(Vec<RegistryError>),
}

fn internal_failure(e: tokio::task::JoinError) -> Stored {
    tracing::error!(error = %e, "document check task failed");
    Stored::Failed(to_registry_errors(&[XdsError::new(
        ErrorCode::RepositoryError,
        "internal error; nothing was stored",
    )]))
}

async fn store_provided(repo: &Repository, call: SoapCall, ev: &AuditEvent) -> Stored {
    // Base64 of inline documents is CPU work: keep it off the async workers.
    let parsed = tokio::task::spawn_blocking(move || {
        let req = parse_request(call.body(), &call.parts)?;
        // The parsed envelope and the MTOM map are no longer needed; the documents' Bytes
        // keep only their own slices of the request alive.
        drop(call);
        Ok::<_, Vec<XdsError>>(req)
    })
    .await;
    match parsed {
        Ok(Ok(req)) => store_submission(repo, req.objects, req.documents, ev).await,
        Ok(Err(errs)) => Stored::Failed(to_registry_errors(&errs)),
        Err(e) => internal_failure(e),
    }
}

/// Stores a submission's metadata and documents (ITI-41, and MHD's ITI-65 after its mapping):
/// the repository adds size, hash and its uniqueId, then the registry checks and stores all of
/// it in one transaction, with `ev` as its audit record.
pub async fn store_submission(
    repo: &Repository,
    mut objects: Vec<RegistryObject>,
    documents: Vec<(String, Bytes)>,
    ev: &AuditEvent,
) -> Stored {
    let failed = |errs: &[XdsError]| Stored::Failed(to_registry_errors(errs));
    let uid = repo.cfg.unique_id.clone();
    // SHA-1 over large documents is CPU work too.
    let checked = tokio::task::spawn_blocking(move || {
        let facts = augment(&mut objects, &documents, &uid)?;
        Ok::<_, Vec<XdsError>>((objects, facts))
    })
    .await;
    let (objects, facts) = match checked {
        Ok(Ok(v)) => v,
        Ok(Err(errs)) => return failed(&errs),
        Err(e) => return internal_failure(e),
    };
    let Some(remote) = &repo.remote else {
        return match repo.provide_local(objects, facts, Some(ev.clone())).await {
            Ok(warnings) => Stored::Audited(to_registry_errors(&warnings)),
            Err(f) => failed(&f.into_errors()),
        };
    };
    let answer = remote.register(&objects).await;
    if !answer.success {
        return Stored::Failed(answer.errors);
    }
    match repo.store_documents(facts).await {
        Ok(()) => Stored::Remote(answer.errors),
        Err(f) => {
            // The registry has the metadata but the bytes are not here; say so plainly.
            tracing::error!(error = %f, "documents not stored after the remote registry accepted them");
            let mut errs = to_registry_errors(&f.into_errors());
            errs.push(RegistryError::from(&XdsError::new(
                ErrorCode::RepositoryError,
                "the registry accepted the metadata but the repository could not store the documents",
            )));
            Stored::Failed(errs)
        }
    }
}

/// ITI-43 for this repository (ITI-39 uses it too, after its community checks).
pub async fn retrieve(repo: &Repository, call: SoapCall) -> RetrieveAnswer {
    let reqs = match parse_retrieve_request(call.body()) {
        Ok(r) => r,
        Err(e) => return RetrieveAnswer::unreadable(e),
    };
    // Everyone on /xds/* is a national caller.
    repo.retrieve(reqs, Viewer::national())
        .await
        .unwrap_or_else(storage_failure)
}

/// Storage trouble, logged here and answered without internals.
pub fn storage_failure(e: crate::store::StoreError) -> RetrieveAnswer {
    tracing::error!(error = %e, "repository storage failure on retrieve");
    RetrieveAnswer::failure(vec![XdsError::new(
        ErrorCode::RepositoryError,
        "internal storage error",
    )])
}

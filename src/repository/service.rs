//! The /xds/repository SOAP service: ITI-41 Provide and Register Document Set-b and ITI-43
//! Retrieve Document Set.

use super::provide::{augment, parse_request, to_registry_errors};
use super::retrieve::RetrieveAnswer;
use super::Repository;
use crate::ebxml::response::{write_registry_response, RegistryError};
use crate::ebxml::retrieve::parse_retrieve_request;
use crate::ebxml::ResponseStatus;
use crate::ids::action;
use crate::soap::{Access, Endpoint, Fault, ServiceFuture, SoapCall, SoapReply, SoapService};
use crate::xds::confidentiality::Viewer;
use crate::xds::{ErrorCode, XdsError};

pub struct RepositoryService {
    pub repository: Repository,
}

const ENDPOINT: Endpoint = Endpoint {
    path: "/xds/repository",
    wsdl: include_str!("../../wsdl/repository.wsdl"),
    actions: &[action::PROVIDE_AND_REGISTER, action::RETRIEVE],
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
                action::PROVIDE_AND_REGISTER => Ok(provide(repo, call).await),
                action::RETRIEVE => Ok(retrieve(repo, call)
                    .await
                    .into_reply(action::RETRIEVE_RESPONSE)),
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

fn failure(errs: &[XdsError]) -> SoapReply {
    provide_reply(false, &to_registry_errors(errs))
}

async fn provide(repo: &Repository, call: SoapCall) -> SoapReply {
    let req = match parse_request(call.body(), &call.parts) {
        Ok(r) => r,
        Err(errs) => return failure(&errs),
    };
    // The parsed envelope and the MTOM map are no longer needed; the documents' Bytes keep
    // only their own slices of the request alive.
    drop(call);
    let uid = repo.cfg.unique_id.clone();
    let mut objects = req.objects;
    let documents = req.documents;
    // SHA-1 over large documents is CPU work: keep it off the async workers.
    let checked = tokio::task::spawn_blocking(move || {
        let r = augment(&mut objects, &documents, &uid);
        r.map(|facts| (objects, facts))
    })
    .await;
    let (objects, facts) = match checked {
        Ok(Ok(v)) => v,
        Ok(Err(errs)) => return failure(&errs),
        Err(e) => {
            tracing::error!(error = %e, "document check task failed");
            return failure(&[XdsError::new(
                ErrorCode::RepositoryError,
                "internal error; nothing was stored",
            )]);
        }
    };
    match &repo.remote {
        None => match repo.provide_local(objects, facts).await {
            Ok(warnings) => provide_reply(true, &to_registry_errors(&warnings)),
            Err(f) => failure(&f.into_errors()),
        },
        Some(remote) => {
            let answer = remote.register(&objects).await;
            if !answer.success {
                return provide_reply(false, &answer.errors);
            }
            match repo.store_documents(facts).await {
                Ok(()) => provide_reply(true, &answer.errors),
                Err(f) => {
                    // The registry has the metadata but the bytes are not here; say so plainly.
                    tracing::error!(error = %f, "documents not stored after the remote registry accepted them");
                    let mut errs = to_registry_errors(&f.into_errors());
                    errs.push(RegistryError::from(&XdsError::new(
                        ErrorCode::RepositoryError,
                        "the registry accepted the metadata but the repository could not store the documents",
                    )));
                    provide_reply(false, &errs)
                }
            }
        }
    }
}

/// ITI-43 for this repository (ITI-39 uses it too, after its community checks).
pub async fn retrieve(repo: &Repository, call: SoapCall) -> RetrieveAnswer {
    let reqs = match parse_retrieve_request(call.body()) {
        Ok(r) => r,
        Err(e) => {
            return RetrieveAnswer::failure(vec![XdsError::new(
                ErrorCode::RepositoryError,
                e.to_string(),
            )])
        }
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

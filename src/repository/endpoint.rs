//! The /xds/repository SOAP endpoint: ITI-41 and ITI-43 actions.

use super::provide::{augment, parse_request, to_registry_errors};
use super::retrieve;
use super::Repository;
use crate::ebxml::response::{write_registry_response, RegistryError};
use crate::ebxml::{STATUS_FAILURE, STATUS_SUCCESS};
use crate::soap::Fault;
use crate::transport::router::{SoapCall, SoapReply};
use crate::xds::{ErrorCode, XdsError};

pub const PROVIDE: &str = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b";
pub const PROVIDE_RESPONSE: &str = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bResponse";
pub const RETRIEVE: &str = "urn:ihe:iti:2007:RetrieveDocumentSet";
pub const RETRIEVE_RESPONSE: &str = "urn:ihe:iti:2007:RetrieveDocumentSetResponse";

pub async fn handle(repo: &Repository, call: SoapCall) -> Result<SoapReply, Fault> {
    match call.soap.action.as_str() {
        PROVIDE => Ok(provide(repo, call).await),
        RETRIEVE => Ok(retrieve(repo, call).await),
        other => Err(Fault::action_not_supported(other)),
    }
}

fn registry_response(ok: bool, errors: &[RegistryError]) -> SoapReply {
    let (status, outcome) = if ok {
        (STATUS_SUCCESS, "Success")
    } else {
        (STATUS_FAILURE, "Failure")
    };
    SoapReply {
        action: PROVIDE_RESPONSE.into(),
        body: write_registry_response(status, errors),
        attachments: Vec::new(),
        outcome,
    }
}

fn failure(errs: &[XdsError]) -> SoapReply {
    registry_response(false, &to_registry_errors(errs))
}

async fn provide(repo: &Repository, call: SoapCall) -> SoapReply {
    let req = match parse_request(&call.soap.body, &call.parts) {
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
            Ok(warnings) => registry_response(true, &to_registry_errors(&warnings)),
            Err(f) => failure(&f.into_errors()),
        },
        Some(remote) => {
            let answer = remote.register(&objects).await;
            if !answer.success {
                return registry_response(false, &answer.errors);
            }
            match repo.store_documents(facts).await {
                Ok(()) => registry_response(true, &answer.errors),
                Err(f) => {
                    // The registry has the metadata but the bytes are not here; say so plainly.
                    tracing::error!(error = %f, "documents not stored after the remote registry accepted them");
                    let mut errs = to_registry_errors(&f.into_errors());
                    errs.push(RegistryError::from(&XdsError::new(
                        ErrorCode::RepositoryError,
                        "the registry accepted the metadata but the repository could not store the documents",
                    )));
                    registry_response(false, &errs)
                }
            }
        }
    }
}

async fn retrieve(repo: &Repository, call: SoapCall) -> SoapReply {
    let reqs = match retrieve::parse_request(&call.soap.body) {
        Ok(r) => r,
        Err(e) => {
            return retrieve_failure(&[e]);
        }
    };
    match repo.retrieve(reqs).await {
        Ok(a) => SoapReply {
            action: RETRIEVE_RESPONSE.into(),
            body: a.body,
            attachments: a.attachments,
            outcome: outcome_label(a.status),
        },
        Err(e) => {
            tracing::error!(error = %e, "repository storage failure on retrieve");
            retrieve_failure(&[XdsError::new(
                ErrorCode::RepositoryError,
                "internal storage error",
            )])
        }
    }
}

fn retrieve_failure(errs: &[XdsError]) -> SoapReply {
    let body = format!(
        r#"<xdsb:RetrieveDocumentSetResponse xmlns:xdsb="{}">{}</xdsb:RetrieveDocumentSetResponse>"#,
        super::XDSB,
        write_registry_response(STATUS_FAILURE, &to_registry_errors(errs))
    );
    SoapReply {
        action: RETRIEVE_RESPONSE.into(),
        body,
        attachments: Vec::new(),
        outcome: "Failure",
    }
}

fn outcome_label(status: &str) -> &'static str {
    match status {
        STATUS_SUCCESS => "Success",
        crate::ebxml::STATUS_PARTIAL => "PartialSuccess",
        _ => "Failure",
    }
}

//! The /xds/registry SOAP service: ITI-42 Register Document Set-b, ITI-18 Registry Stored
//! Query, ITI-57 Update Document Set and ITI-92 Restricted Update Document Set.

use super::update::UpdateKind;
use super::Registry;
use crate::audit::{Auditor, EventType};
use crate::ebxml::query::{parse_adhoc_query, write_adhoc_response};
use crate::ebxml::response::{write_registry_response, RegistryError};
use crate::ebxml::{parse_submit_objects, ResponseStatus};
use crate::ids::action;
use crate::soap::{Access, Endpoint, Fault, ServiceFuture, SoapCall, SoapReply, SoapService};
use crate::xds::confidentiality::Viewer;
use crate::xds::validate::Expect;
use crate::xds::XdsError;

pub struct RegistryService {
    pub registry: Registry,
    pub auditor: Auditor,
}

const ENDPOINT: Endpoint = Endpoint {
    path: "/xds/registry",
    wsdl: include_str!("../../wsdl/registry.wsdl"),
    schemas: crate::ebxml::schemas::XDS_SCHEMAS,
    actions: &[
        action::REGISTER,
        action::STORED_QUERY,
        action::UPDATE,
        action::RESTRICTED_UPDATE,
        action::REMOVE_METADATA,
    ],
    access: Access::National { xds: true },
};

impl SoapService for RegistryService {
    fn endpoint(&self) -> &'static Endpoint {
        &ENDPOINT
    }

    fn call(&self, call: SoapCall) -> ServiceFuture<'_> {
        Box::pin(async move {
            match call.action() {
                action::REGISTER => Ok(register(self, call).await),
                action::STORED_QUERY => Ok(query(&self.registry, call).await),
                action::UPDATE | action::RESTRICTED_UPDATE
                    if !self.registry.allows(call.action()) =>
                {
                    Err(Fault::action_not_supported(call.action()))
                }
                action::UPDATE => Ok(update(
                    &self.registry,
                    &self.auditor,
                    ENDPOINT.path,
                    call,
                    UpdateKind::Full,
                )
                .await),
                action::RESTRICTED_UPDATE => Ok(update(
                    &self.registry,
                    &self.auditor,
                    ENDPOINT.path,
                    call,
                    UpdateKind::Restricted,
                )
                .await),
                action::REMOVE_METADATA => {
                    Ok(
                        super::remove::handle(&self.registry, &self.auditor, ENDPOINT.path, call)
                            .await,
                    )
                }
                other => Err(Fault::action_not_supported(other)),
            }
        })
    }
}

pub fn registry_errors(v: &[XdsError]) -> Vec<RegistryError> {
    v.iter().map(RegistryError::from).collect()
}

async fn register(svc: &RegistryService, call: SoapCall) -> SoapReply {
    let ev = svc
        .auditor
        .event(EventType::RegisterDocumentSet, ENDPOINT.path, &call);
    let result = match parse_submit_objects(call.body()) {
        Ok(objects) => svc
            .registry
            .register_audited(objects, Expect::default(), Some(ev.clone()))
            .await
            .map_err(|f| f.into_errors()),
        Err(e) => Err(vec![XdsError::metadata(e.to_string())]),
    };
    if let Err(errs) = &result {
        svc.auditor.failed(ev, &registry_errors(errs)).await;
    }
    let (status, errs) = match result {
        Ok(warnings) => (ResponseStatus::Success, warnings),
        Err(e) => (ResponseStatus::Failure, e),
    };
    let body = write_registry_response(status, &registry_errors(&errs));
    SoapReply::new(action::REGISTER_RESPONSE, body, status.label())
}

/// ITI-57 / ITI-92 (also at a responding gateway): the answer is a RegistryResponse, like
/// ITI-42's, and the audit record is written with the changes.
pub async fn update(
    registry: &Registry,
    auditor: &Auditor,
    path: &str,
    call: SoapCall,
    kind: UpdateKind,
) -> SoapReply {
    let (event, response_action) = match kind {
        UpdateKind::Full => (EventType::UpdateDocumentSet, action::UPDATE_RESPONSE),
        UpdateKind::Restricted => (
            EventType::RestrictedUpdateDocumentSet,
            action::RESTRICTED_UPDATE_RESPONSE,
        ),
    };
    let ev = auditor.event(event, path, &call);
    let result = match parse_submit_objects(call.body()) {
        Ok(objects) => registry
            .update_audited(objects, kind, Some(ev.clone()))
            .await
            .map_err(|f| f.into_errors()),
        Err(e) => Err(vec![XdsError::metadata(e.to_string())]),
    };
    if let Err(errs) = &result {
        auditor.failed(ev, &registry_errors(errs)).await;
    }
    let (status, errs) = match result {
        Ok(warnings) => (ResponseStatus::Success, warnings),
        Err(e) => (ResponseStatus::Failure, e),
    };
    let body = write_registry_response(status, &registry_errors(&errs));
    SoapReply::new(response_action, body, status.label())
}

/// An ITI-18 (or ITI-38) answer: the objects found, or the errors.
pub fn query_reply(
    response_action: &'static str,
    result: Result<Vec<String>, Vec<XdsError>>,
) -> SoapReply {
    let (status, errs, objects) = match result {
        Ok(objects) => (ResponseStatus::Success, Vec::new(), objects),
        Err(e) => (ResponseStatus::Failure, e, Vec::new()),
    };
    let body = write_adhoc_response(status, &registry_errors(&errs), &objects);
    SoapReply::new(response_action, body, status.label())
}

async fn query(reg: &Registry, call: SoapCall) -> SoapReply {
    let result = match parse_adhoc_query(call.body()) {
        // Everyone on /xds/* is a national caller.
        Ok(q) => reg
            .stored_query(q, Viewer::national())
            .await
            .map_err(|f| f.into_errors()),
        Err(e) => Err(vec![XdsError::registry(e.to_string())]),
    };
    query_reply(action::STORED_QUERY_RESPONSE, result)
}

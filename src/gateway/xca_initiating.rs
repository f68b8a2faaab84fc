//! XCA Initiating Gateway at /xca/initiating: local consumers send ITI-18 and ITI-43; the
//! gateway asks the peer communities concerned in parallel (ITI-38/39), each within its own
//! timeout, and merges the answers. A peer that fails or is late costs PartialSuccess with an
//! error naming it, never more than its own timeout.

use super::peers::{spawn_call, Peer, PeerCalls, PeerRequest, Peers};
use crate::ebxml::query::{
    parse_adhoc_query, write_adhoc_request, write_adhoc_response, AdhocQueryRequest,
};
use crate::ebxml::response::{read_error_list, RegistryError};
use crate::ebxml::retrieve::{
    parse_retrieve_request, read_retrieve_response, write_retrieve_request,
    write_retrieve_response, DocumentRequest, DocumentResponse,
};
use crate::ebxml::{ResponseStatus, RIM};
use crate::ids::action;
use crate::soap::{
    Access, Attachment, Endpoint, Fault, ServiceFuture, SoapCall, SoapReply, SoapService,
};
use crate::trust::Outbound;
use crate::xds::{ErrorCode, XdsError};
use crate::xml::Element;
use std::sync::Arc;

pub struct XcaInitiating {
    pub peers: Arc<Peers>,
    /// Which assertions go to the peers: the consumer's, or ones the node issues.
    pub outbound: Outbound,
}

const ENDPOINT: Endpoint = Endpoint {
    path: "/xca/initiating",
    wsdl: include_str!("../../wsdl/xca-initiating.wsdl"),
    schemas: crate::ebxml::schemas::XDS_SCHEMAS,
    actions: &[action::STORED_QUERY, action::RETRIEVE],
    access: Access::National { xds: false },
};

impl SoapService for XcaInitiating {
    fn endpoint(&self) -> &'static Endpoint {
        &ENDPOINT
    }

    fn call(&self, call: SoapCall) -> ServiceFuture<'_> {
        Box::pin(async move {
            match call.action() {
                action::STORED_QUERY => Ok(query(self, call).await),
                action::RETRIEVE => Ok(retrieve(self, call).await),
                other => Err(Fault::action_not_supported(other)),
            }
        })
    }
}

fn unavailable(home: &str, why: impl std::fmt::Display) -> RegistryError {
    RegistryError::from(
        &XdsError::new(
            ErrorCode::UnavailableCommunity,
            format!("community {home} did not answer: {why}"),
        )
        .at(home.to_string()),
    )
}

/// A peer's errors, each located at the peer when it did not say where.
fn registry_errors(parent: &Element, home: &str) -> Vec<RegistryError> {
    let mut errors = read_error_list(parent);
    for e in &mut errors {
        e.location.get_or_insert_with(|| home.to_string());
    }
    errors
}

fn merged_status(
    answered: usize,
    asked: usize,
    errors: &[RegistryError],
    found: usize,
) -> ResponseStatus {
    let hard = errors.iter().any(|e| !e.warning);
    match (answered, hard) {
        (0, _) => ResponseStatus::Failure,
        (a, false) if a == asked => ResponseStatus::Success,
        _ if found > 0 || answered > 0 => ResponseStatus::PartialSuccess,
        _ => ResponseStatus::Failure,
    }
}

/// The patient a query names, for the TRC assertion the node may issue.
fn query_patient(q: &AdhocQueryRequest) -> Option<String> {
    let params = crate::registry::query::params::Params::parse(&q.params).ok()?;
    params.single("$XDSDocumentEntryPatientId").ok().flatten()
}

async fn query(svc: &XcaInitiating, call: SoapCall) -> SoapReply {
    let peers = &svc.peers;
    let reply = |status: ResponseStatus, errs: &[RegistryError], objs: &[String]| {
        let body = write_adhoc_response(status, errs, objs);
        SoapReply::new(action::STORED_QUERY_RESPONSE, body, status.label())
    };
    let failure = |e: XdsError| reply(ResponseStatus::Failure, &[RegistryError::from(&e)], &[]);
    let q = match parse_adhoc_query(call.body()) {
        Ok(q) => q,
        Err(e) => return failure(XdsError::registry(e.to_string())),
    };
    let security = svc
        .outbound
        .security(&call.principal, query_patient(&q).as_deref());
    let targets: Vec<&Peer> = match q.home.as_deref() {
        Some(h) => match peers.by_home(h).filter(|p| p.cfg.xca_url.is_some()) {
            Some(p) => vec![p],
            None => {
                return failure(XdsError::new(
                    ErrorCode::UnknownCommunity,
                    format!("no peer community {h} is configured"),
                ))
            }
        },
        None => peers.xca().collect(),
    };
    if targets.is_empty() {
        return failure(XdsError::new(
            ErrorCode::UnknownCommunity,
            "no peer communities are configured",
        ));
    }
    let body = write_adhoc_request(&q);
    let mut set = PeerCalls::new();
    for p in &targets {
        let url = p.cfg.xca_url.as_deref().unwrap_or_default();
        let req = PeerRequest {
            url: url.to_string(),
            action: action::XC_QUERY,
            security: security.clone(),
            body: body.clone(),
        };
        spawn_call(&mut set, p, req);
    }
    let mut errors = Vec::new();
    let mut objects = Vec::new();
    let mut answered = 0;
    while let Some(joined) = set.join_next().await {
        let Ok((home, result)) = joined else { continue };
        match result {
            Err(why) => errors.push(unavailable(&home, why)),
            Ok(r)
                if r.action
                    .as_deref()
                    .is_some_and(|a| a != action::XC_QUERY_RESPONSE) =>
            {
                errors.push(unavailable(&home, "answered with another action"))
            }
            Ok(mut r) => {
                answered += 1;
                errors.extend(registry_errors(&r.body, &home));
                let list = r
                    .body
                    .elements_mut()
                    .find(|e| e.is(RIM, "RegistryObjectList"));
                for o in list.into_iter().flat_map(|l| l.elements_mut()) {
                    objects.push(with_home(o, &home));
                }
            }
        }
    }
    let status = merged_status(answered, targets.len(), &errors, objects.len());
    reply(status, &errors, &objects)
}

/// The object serialised, with `home` set when the peer left it out (in place: the reply is
/// ours, and a copy of each object cost as much as writing it).
fn with_home(o: &mut Element, home: &str) -> String {
    if o.attr("home").is_none() {
        o.set_attr("home", home);
    }
    crate::xml::write::serialize(o, &|_| None)
}

async fn retrieve(svc: &XcaInitiating, call: SoapCall) -> SoapReply {
    let peers = &svc.peers;
    let security = svc.outbound.security(&call.principal, None);
    let reply = |status: ResponseStatus, errs: &[RegistryError], docs: &[DocumentResponse]| {
        let body = write_retrieve_response(status, errs, docs);
        SoapReply::new(action::RETRIEVE_RESPONSE, body, status.label())
    };
    let reqs = match parse_retrieve_request(call.body()) {
        Ok(r) => r,
        Err(e) => {
            let e = XdsError::new(ErrorCode::RepositoryError, e.to_string());
            return reply(ResponseStatus::Failure, &[RegistryError::from(&e)], &[]);
        }
    };
    let mut errors: Vec<RegistryError> = Vec::new();
    // By community, in request order; a HashMap keeps grouping linear in the request size.
    let mut groups: Vec<(&Peer, Vec<&DocumentRequest>)> = Vec::new();
    let mut group_of: std::collections::HashMap<&str, usize> = Default::default();
    for r in &reqs {
        let err = |code, ctx: String| {
            RegistryError::from(&XdsError::new(code, ctx).at(r.document_uid.clone()))
        };
        let Some(home) = r.home.as_deref() else {
            errors.push(err(
                ErrorCode::MissingHomeCommunityId,
                "a DocumentRequest needs the homeCommunityId of its community".into(),
            ));
            continue;
        };
        match peers.by_home(home).filter(|p| p.cfg.xca_url.is_some()) {
            None => errors.push(err(
                ErrorCode::UnknownCommunity,
                format!("no peer community {home} is configured"),
            )),
            Some(p) => {
                let at = *group_of.entry(home).or_insert_with(|| {
                    groups.push((p, Vec::new()));
                    groups.len() - 1
                });
                groups[at].1.push(r);
            }
        }
    }
    let mut set = PeerCalls::new();
    for (p, list) in &groups {
        let url = p.cfg.xca_url.as_deref().unwrap_or_default();
        let body = write_retrieve_request(list.iter().copied());
        let req = PeerRequest {
            url: url.to_string(),
            action: action::XC_RETRIEVE,
            security: security.clone(),
            body,
        };
        spawn_call(&mut set, p, req);
    }
    let mut docs = Vec::new();
    let mut attachments = Vec::new();
    let mut answered = 0;
    while let Some(joined) = set.join_next().await {
        let Ok((home, result)) = joined else { continue };
        let r = match result {
            Err(why) => {
                errors.push(unavailable(&home, why));
                continue;
            }
            Ok(r)
                if r.action
                    .as_deref()
                    .is_some_and(|a| a != action::XC_RETRIEVE_RESPONSE) =>
            {
                errors.push(unavailable(&home, "answered with another action"));
                continue;
            }
            Ok(r) => r,
        };
        answered += 1;
        let (_, peer_errors, received) = read_retrieve_response(&r.body);
        errors.extend(peer_errors.into_iter().map(|mut e| {
            e.location.get_or_insert_with(|| home.clone());
            e
        }));
        for d in received {
            let bytes = d.content.as_ref().and_then(|c| c.resolve(&r.parts).ok());
            let Some(bytes) = bytes else {
                errors.push(unavailable(
                    &home,
                    "a DocumentResponse without its document",
                ));
                continue;
            };
            let cid = crate::soap::mtom::content_id(attachments.len());
            let mut resp = d.response;
            resp.home.get_or_insert_with(|| home.clone());
            resp.content_id = cid.clone();
            attachments.push(Attachment {
                content_id: cid,
                mime_type: resp.mime_type.clone(),
                data: bytes,
            });
            docs.push(resp);
        }
    }
    let status = merged_status(answered, groups.len(), &errors, attachments.len());
    let status = if attachments.is_empty() {
        ResponseStatus::Failure
    } else {
        status
    };
    reply(status, &errors, &docs).with_attachments(attachments)
}

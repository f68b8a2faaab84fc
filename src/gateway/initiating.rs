//! XCA Initiating Gateway at /xca/initiating: local consumers send ITI-18 and ITI-43; the
//! gateway asks the peer communities concerned in parallel (ITI-38/39), each within its own
//! timeout, and merges the answers. A peer that fails or is late costs PartialSuccess with an
//! error naming it, never more than its own timeout.

use super::peers::{Peer, Peers};
use super::xca_responding::{
    QUERY as XCQ, QUERY_RESPONSE as XCQ_RESPONSE, RETRIEVE as XCR,
    RETRIEVE_RESPONSE as XCR_RESPONSE,
};
use crate::ebxml::query::{parse_adhoc_query, write_adhoc_request, write_adhoc_response};
use crate::ebxml::response::{write_registry_response, RegistryError};
use crate::ebxml::{RIM, RS, STATUS_FAILURE, STATUS_PARTIAL, STATUS_SUCCESS};
use crate::registry::endpoint::{QUERY as ITI18, QUERY_RESPONSE as ITI18_RESPONSE};
use crate::repository::endpoint::{RETRIEVE as ITI43, RETRIEVE_RESPONSE as ITI43_RESPONSE};
use crate::repository::retrieve::{self, DocRequest};
use crate::repository::XDSB;
use crate::soap::envelope::encode_request;
use crate::soap::{Fault, XOP};
use crate::transport::client::{HttpsClient, SoapResponse};
use crate::transport::router::{SoapCall, SoapReply};
use crate::xds::{ErrorCode, XdsError};
use crate::xml::{esc_text, Element};
use base64::Engine;
use bytes::Bytes;
use std::fmt::Write;
use std::time::Duration;
use tokio::task::JoinSet;

pub async fn handle(peers: &Peers, call: SoapCall) -> Result<SoapReply, Fault> {
    match call.soap.action.as_str() {
        ITI18 => Ok(query(peers, call).await),
        ITI43 => Ok(retrieve(peers, call).await),
        other => Err(Fault::action_not_supported(other)),
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

/// One peer call: URL, action and body, bounded by the peer's timeout.
pub(super) async fn call_peer(
    client: HttpsClient,
    url: String,
    action: &'static str,
    body: String,
    limit: Duration,
) -> Result<SoapResponse, String> {
    let env = encode_request(
        action,
        &url,
        &format!("urn:uuid:{}", uuid::Uuid::new_v4()),
        &body,
    );
    match tokio::time::timeout(limit, client.soap(&url, action, env)).await {
        Err(_) => Err(format!("no answer within {} s", limit.as_secs())),
        Ok(Err(e)) => Err(e.to_string()),
        Ok(Ok(r)) => match r.fault {
            Some(f) => Err(format!("SOAP fault {f}")),
            None => Ok(r),
        },
    }
}

pub(super) fn spawn_call(
    set: &mut JoinSet<(String, Result<SoapResponse, String>)>,
    p: &Peer,
    url: &str,
    action: &'static str,
    body: String,
) {
    let home = p.cfg.home_community_id.clone();
    let fut = call_peer(p.client.clone(), url.to_string(), action, body, p.timeout);
    set.spawn(async move { (home, fut.await) });
}

fn registry_errors(resp: &Element, home: &str) -> Vec<RegistryError> {
    let list = resp.child(RS, "RegistryErrorList").or_else(|| {
        resp.child(RS, "RegistryResponse")
            .and_then(|r| r.child(RS, "RegistryErrorList"))
    });
    list.map(|l| {
        l.children_named(RS, "RegistryError")
            .map(|e| RegistryError {
                error_code: e.attr("errorCode").unwrap_or_default().to_string(),
                code_context: e.attr("codeContext").unwrap_or_default().to_string(),
                location: Some(e.attr("location").unwrap_or(home).to_string()),
                warning: e.attr("severity").is_some_and(|s| s.ends_with("Warning")),
            })
            .collect()
    })
    .unwrap_or_default()
}

fn merged_status(
    answered: usize,
    asked: usize,
    errors: &[RegistryError],
    found: usize,
) -> &'static str {
    let hard = errors.iter().any(|e| !e.warning);
    match (answered, hard) {
        (0, _) => STATUS_FAILURE,
        (a, false) if a == asked => STATUS_SUCCESS,
        _ if found > 0 || answered > 0 => STATUS_PARTIAL,
        _ => STATUS_FAILURE,
    }
}

fn label(status: &str) -> &'static str {
    retrieve::outcome_label(status)
}

async fn query(peers: &Peers, call: SoapCall) -> SoapReply {
    let reply = |status: &str, errs: &[RegistryError], objs: &[String]| SoapReply {
        action: ITI18_RESPONSE.into(),
        body: write_adhoc_response(status, errs, objs),
        attachments: Vec::new(),
        outcome: label(status),
    };
    let q = match parse_adhoc_query(&call.soap.body) {
        Ok(q) => q,
        Err(e) => {
            let e = RegistryError::from(&XdsError::registry(e.to_string()));
            return reply(STATUS_FAILURE, &[e], &[]);
        }
    };
    let targets: Vec<&Peer> = match q.home.as_deref() {
        Some(h) => match peers.by_home(h).filter(|p| p.cfg.xca_url.is_some()) {
            Some(p) => vec![p],
            None => {
                let e = XdsError::new(
                    ErrorCode::UnknownCommunity,
                    format!("no peer community {h} is configured"),
                );
                return reply(STATUS_FAILURE, &[RegistryError::from(&e)], &[]);
            }
        },
        None => peers.xca().collect(),
    };
    if targets.is_empty() {
        let e = XdsError::new(
            ErrorCode::UnknownCommunity,
            "no peer communities are configured",
        );
        return reply(STATUS_FAILURE, &[RegistryError::from(&e)], &[]);
    }
    let body = write_adhoc_request(&q);
    let mut set = JoinSet::new();
    for p in &targets {
        let url = p.cfg.xca_url.as_deref().unwrap_or_default();
        spawn_call(&mut set, p, url, XCQ, body.clone());
    }
    let mut errors = Vec::new();
    let mut objects = Vec::new();
    let mut answered = 0;
    while let Some(joined) = set.join_next().await {
        let Ok((home, result)) = joined else { continue };
        match result {
            Err(why) => errors.push(unavailable(&home, why)),
            Ok(r) if r.action.as_deref().is_some_and(|a| a != XCQ_RESPONSE) => {
                errors.push(unavailable(&home, "answered with another action"))
            }
            Ok(r) => {
                answered += 1;
                errors.extend(registry_errors(&r.body, &home));
                if let Some(list) = r.body.child(RIM, "RegistryObjectList") {
                    for o in list.elements() {
                        objects.push(with_home(o, &home));
                    }
                }
            }
        }
    }
    let status = merged_status(answered, targets.len(), &errors, objects.len());
    reply(status, &errors, &objects)
}

/// The object serialised, with `home` set when the peer left it out.
fn with_home(o: &Element, home: &str) -> String {
    if o.attr("home").is_some() {
        return crate::xml::write::serialize(o, &|_| None);
    }
    let mut o = o.clone();
    o.set_attr("home", home);
    crate::xml::write::serialize(&o, &|_| None)
}

fn retrieve_request(reqs: &[&DocRequest]) -> String {
    let mut out = format!(r#"<xdsb:RetrieveDocumentSetRequest xmlns:xdsb="{XDSB}">"#);
    for r in reqs {
        let _ = write!(
            out,
            "<xdsb:DocumentRequest><xdsb:HomeCommunityId>{}</xdsb:HomeCommunityId><xdsb:RepositoryUniqueId>{}</xdsb:RepositoryUniqueId><xdsb:DocumentUniqueId>{}</xdsb:DocumentUniqueId></xdsb:DocumentRequest>",
            esc_text(r.home.as_deref().unwrap_or_default()),
            esc_text(&r.repository_uid),
            esc_text(&r.document_uid)
        );
    }
    out.push_str("</xdsb:RetrieveDocumentSetRequest>");
    out
}

async fn retrieve(peers: &Peers, call: SoapCall) -> SoapReply {
    let reqs = match retrieve::parse_request(&call.soap.body) {
        Ok(r) => r,
        Err(e) => return retrieve::failure_reply(ITI43_RESPONSE, &[e]),
    };
    let mut errors: Vec<RegistryError> = Vec::new();
    let mut groups: Vec<(&Peer, Vec<&DocRequest>)> = Vec::new();
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
            Some(p) => match groups
                .iter_mut()
                .find(|(g, _)| g.cfg.home_community_id == home)
            {
                Some((_, list)) => list.push(r),
                None => groups.push((p, vec![r])),
            },
        }
    }
    let mut set = JoinSet::new();
    for (p, list) in &groups {
        let url = p.cfg.xca_url.as_deref().unwrap_or_default();
        spawn_call(&mut set, p, url, XCR, retrieve_request(list));
    }
    let mut docs = String::new();
    let mut attachments = Vec::new();
    let mut answered = 0;
    while let Some(joined) = set.join_next().await {
        let Ok((home, result)) = joined else { continue };
        match result {
            Err(why) => errors.push(unavailable(&home, why)),
            Ok(r) if r.action.as_deref().is_some_and(|a| a != XCR_RESPONSE) => {
                errors.push(unavailable(&home, "answered with another action"))
            }
            Ok(r) => {
                answered += 1;
                errors.extend(registry_errors(&r.body, &home));
                for d in r.body.children_named(XDSB, "DocumentResponse") {
                    match document_bytes(d, &r) {
                        Some(bytes) => {
                            let cid = format!(
                                "doc{}.{}@ncpeh",
                                attachments.len(),
                                uuid::Uuid::new_v4().simple()
                            );
                            let mime = text(d, "mimeType");
                            write_document(&mut docs, d, &home, &cid);
                            attachments.push((cid, retrieve::header_safe(&mime), bytes));
                        }
                        None => errors.push(unavailable(
                            &home,
                            "a DocumentResponse without its document",
                        )),
                    }
                }
            }
        }
    }
    let status = merged_status(answered, groups.len(), &errors, attachments.len());
    let status = if attachments.is_empty() {
        STATUS_FAILURE
    } else {
        status
    };
    let mut body = format!(r#"<xdsb:RetrieveDocumentSetResponse xmlns:xdsb="{XDSB}">"#);
    body.push_str(&write_registry_response(status, &errors));
    body.push_str(&docs);
    body.push_str("</xdsb:RetrieveDocumentSetResponse>");
    SoapReply {
        action: ITI43_RESPONSE.into(),
        body,
        attachments,
        outcome: label(status),
    }
}

fn text(d: &Element, name: &str) -> String {
    d.child(XDSB, name)
        .map(|e| e.text().trim().to_string())
        .unwrap_or_default()
}

/// The document of one DocumentResponse: an MTOM part or inline base64.
fn document_bytes(d: &Element, r: &SoapResponse) -> Option<Bytes> {
    let doc = d.child(XDSB, "Document")?;
    if let Some(inc) = doc.child(XOP, "Include") {
        let cid = crate::soap::mtom::strip_cid(inc.attr("href")?);
        return r.parts.get(&cid).map(|p| p.body.clone());
    }
    let b64: String = doc.text().chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64.as_bytes())
        .ok()
        .map(Bytes::from)
}

fn write_document(out: &mut String, d: &Element, home: &str, cid: &str) {
    let h = text(d, "HomeCommunityId");
    let _ = write!(
        out,
        concat!(
            "<xdsb:DocumentResponse><xdsb:HomeCommunityId>{}</xdsb:HomeCommunityId>",
            "<xdsb:RepositoryUniqueId>{}</xdsb:RepositoryUniqueId>",
            "<xdsb:DocumentUniqueId>{}</xdsb:DocumentUniqueId>",
            "<xdsb:mimeType>{}</xdsb:mimeType>",
            r#"<xdsb:Document><xop:Include xmlns:xop="{}" href="cid:{}"/></xdsb:Document>"#,
            "</xdsb:DocumentResponse>"
        ),
        esc_text(if h.is_empty() { home } else { &h }),
        esc_text(&text(d, "RepositoryUniqueId")),
        esc_text(&text(d, "DocumentUniqueId")),
        esc_text(&text(d, "mimeType")),
        XOP,
        cid
    );
}

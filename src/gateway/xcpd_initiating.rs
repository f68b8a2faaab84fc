//! XCPD Initiating Gateway at /xcpd/initiating: a local PRPA_IN201305UV02 goes to the peer named
//! by the receiver device id, or to every XCPD peer, in parallel within each peer's timeout. The
//! answers are merged: every matched subject from every peer that found the patient, NF when
//! none did, AE naming the communities when none answered.

use super::peers::{spawn_call, Peer, PeerCalls, PeerRequest, Peers};
use super::xcpd::{bare_oid, ANSWER_NOT_AVAILABLE};
use crate::hl7v3::parse::header;
use crate::hl7v3::{write_response, AckCode, Ii, Issue, QueryResponseCode, Response, HL7};
use crate::ids::action;
use crate::soap::{Access, Endpoint, Fault, ServiceFuture, SoapCall, SoapReply, SoapService};
use crate::trust::Outbound;
use crate::xml::{write::serialize, Element, Node};
use std::sync::Arc;

pub struct XcpdInitiating {
    /// This community's homeCommunityId (the sender of error answers).
    pub home: String,
    pub peers: Arc<Peers>,
    /// Which assertions go to the peers: the consumer's, or ones the node issues.
    pub outbound: Outbound,
}

const ENDPOINT: Endpoint = Endpoint {
    path: "/xcpd/initiating",
    wsdl: include_str!("../../wsdl/xcpd-initiating.wsdl"),
    schemas: super::HL7V3_SCHEMAS,
    actions: &[action::XCPD],
    access: Access::National { xds: false },
};

impl SoapService for XcpdInitiating {
    fn endpoint(&self) -> &'static Endpoint {
        &ENDPOINT
    }

    fn call(&self, call: SoapCall) -> ServiceFuture<'_> {
        Box::pin(async move {
            let security = self.outbound.security(&call.principal, None);
            discover(&self.peers, &self.home, call.body(), security).await
        })
    }
}

async fn discover(
    peers: &Peers,
    home: &str,
    body: &Element,
    security: Option<std::sync::Arc<str>>,
) -> Result<SoapReply, Fault> {
    if !body.is(HL7, "PRPA_IN201305UV02") {
        return Err(Fault::sender("the body is not a PRPA_IN201305UV02"));
    }
    let head = header(body);
    let asked = head.receiver_device.as_ref().map(|d| d.root.clone());
    let targets: Vec<&Peer> = match asked.as_deref().and_then(|r| {
        peers
            .list
            .iter()
            .find(|p| bare_oid(&p.cfg.home_community_id) == r && p.cfg.xcpd_url.is_some())
    }) {
        Some(p) => vec![p],
        None => peers
            .list
            .iter()
            .filter(|p| p.cfg.xcpd_url.is_some())
            .collect(),
    };
    let request = serialize(body, &|_| None);
    let mut set = PeerCalls::new();
    for p in &targets {
        let url = p.cfg.xcpd_url.as_deref().unwrap_or_default();
        let req = PeerRequest {
            url: url.to_string(),
            action: action::XCPD,
            security: security.clone(),
            body: request.clone(),
        };
        spawn_call(&mut set, p, req);
    }
    let mut found: Vec<Element> = Vec::new();
    let mut not_found: Option<Element> = None;
    let mut silent: Vec<String> = Vec::new();
    while let Some(joined) = set.join_next().await {
        let Ok((peer, result)) = joined else { continue };
        match result {
            Ok(r) if r.body.is(HL7, "PRPA_IN201306UV02") => match response_code(&r.body).as_deref()
            {
                Some("OK") => found.push(r.body),
                Some("NF") => {
                    not_found.get_or_insert(r.body);
                }
                other => silent.push(format!(
                    "{peer} answered {}",
                    other.unwrap_or("without a queryResponseCode")
                )),
            },
            Ok(_) => silent.push(format!("{peer} answered with another message")),
            Err(why) => silent.push(format!("{peer}: {why}")),
        }
    }
    tracing::info!(
        peers = targets.len(),
        found = found.len(),
        failed = silent.len(),
        "xcpd initiating"
    );
    let (body, outcome) = if let Some(first) = merge(found) {
        (serialize(&first, &|_| None), "OK")
    } else if let Some(nf) = not_found {
        (serialize(&nf, &|_| None), "NF")
    } else {
        let why = if targets.is_empty() {
            "no XCPD peer community is configured".to_string()
        } else {
            format!("no peer community answered: {}", silent.join("; "))
        };
        (error_response(home, &head, body, why), "AE")
    };
    Ok(SoapReply::new(action::XCPD_RESPONSE, body, outcome))
}

fn response_code(resp: &Element) -> Option<String> {
    resp.find(HL7, "queryAck")?
        .child(HL7, "queryResponseCode")?
        .attr("code")
        .map(str::to_string)
}

/// The first OK answer, with the subjects of the others added after its own.
fn merge(mut found: Vec<Element>) -> Option<Element> {
    if found.is_empty() {
        return None;
    }
    let mut first = found.remove(0);
    let extra: Vec<Node> = found
        .iter()
        .filter_map(|r| r.child(HL7, "controlActProcess"))
        .flat_map(|c| c.children_named(HL7, "subject").cloned())
        .map(Node::Element)
        .collect();
    if let Some(cap) = first.children.iter_mut().find_map(|n| match n {
        Node::Element(e) if e.is(HL7, "controlActProcess") => Some(e),
        _ => None,
    }) {
        let at = cap
            .children
            .iter()
            .rposition(|n| matches!(n, Node::Element(e) if e.is(HL7, "subject")))
            .map(|i| i + 1)
            .unwrap_or(cap.children.len());
        for (i, n) in extra.into_iter().enumerate() {
            cap.children.insert(at + i, n);
        }
    }
    Some(first)
}

fn error_response(
    home: &str,
    head: &crate::hl7v3::parse::MessageHeader,
    query: &Element,
    why: String,
) -> String {
    let hc = bare_oid(home);
    let fmt = time::macros::format_description!("[year][month][day][hour][minute][second]");
    let echo = query
        .child(HL7, "controlActProcess")
        .and_then(|c| c.child(HL7, "queryByParameter"));
    let query_id = echo.and_then(|q| q.child(HL7, "queryId")).and_then(|i| {
        i.attr("root")
            .map(|r| Ii::new(r.to_string(), i.attr("extension").map(str::to_string)))
    });
    write_response(&Response {
        id: Ii::new(uuid::Uuid::new_v4().to_string(), None),
        creation_time: time::OffsetDateTime::now_utc()
            .format(&fmt)
            .unwrap_or_default(),
        sender_device: Ii::new(hc, None),
        home_community_oid: hc,
        receiver_device: head.sender_device.clone(),
        ack: AckCode::Error,
        target_message: head.id.clone(),
        issue: Some(Issue::ihe(ANSWER_NOT_AVAILABLE, why)),
        query_response: QueryResponseCode::ApplicationError,
        query_id,
        patients: &[],
        echo_query: echo,
    })
}

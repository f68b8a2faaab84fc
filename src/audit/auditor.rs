//! What the SOAP services and the trust policy use to audit: events filled in from the call
//! (peer, XUA user, action, message id), written in the caller's transaction or right after.

use super::writer::GroupWriter;
use super::{AuditEvent, EventType, Outcome, Peer, User};
use crate::ebxml::response::RegistryError;
use crate::ebxml::ResponseStatus;
use crate::pki::PeerIdentity;
use crate::soap::{Principal, SoapCall, SoapRequest};
use crate::store::Store;
use std::sync::Arc;

#[derive(Clone)]
pub struct Auditor {
    writer: GroupWriter,
    source_id: Arc<str>,
}

impl Auditor {
    /// Starts the group writer: call inside the node's runtime.
    pub fn new(store: Store, source_id: &str) -> Auditor {
        Auditor {
            writer: GroupWriter::start(store),
            source_id: Arc::from(source_id),
        }
    }

    /// An event for a call to the service at `endpoint`.
    pub fn event(&self, event: EventType, endpoint: &str, call: &SoapCall) -> AuditEvent {
        let mut ev = self.request_event(event, endpoint, &call.request);
        fill_principal(&mut ev, &call.principal);
        ev
    }

    /// An event for a request that never reached a service (a refusal).
    pub fn request_event(
        &self,
        event: EventType,
        endpoint: &str,
        request: &SoapRequest,
    ) -> AuditEvent {
        let mut ev = self.plain_event(event, endpoint, &request.action);
        ev.message_id = request.message_id.clone();
        ev
    }

    /// An event for a request without an envelope (REST), named by its transaction.
    pub fn plain_event(&self, event: EventType, endpoint: &str, action: &str) -> AuditEvent {
        AuditEvent::new(event, &self.source_id, endpoint, action)
    }

    /// Records a submission that failed (its own record rolled back with it): the XDS error
    /// codes are the reason.
    pub async fn failed(&self, mut ev: AuditEvent, errors: &[RegistryError]) {
        ev.outcome = Outcome::SeriousFailure;
        let mut codes: Vec<&str> = errors
            .iter()
            .filter(|e| !e.warning)
            .map(|e| e.error_code.as_str())
            .collect();
        codes.dedup();
        ev.reason = Some(codes.join(" "));
        self.record(ev).await;
    }

    /// Writes the event now (for read-only transactions and refusals), returning once it is
    /// committed. A failure is logged by the writer; the answer to the caller goes out anyway.
    pub async fn record(&self, ev: AuditEvent) {
        let _ = self.writer.append(ev).await;
    }

    /// Returns once every record handed to `record` or `failed` so far is written; for a
    /// shutdown, after the last request was answered.
    pub async fn flush(&self) {
        self.writer.flush().await;
    }
}

/// The mTLS peer and the XUA user of the principal.
pub fn fill_principal(ev: &mut AuditEvent, p: &Principal) {
    ev.peer = Some(Peer::from(&p.peer));
    ev.user = p.user.as_ref().map(|u| User {
        subject_id: Some(u.subject_id.clone()).filter(|s| !s.is_empty()),
        organisation: u.organization.clone(),
        organisation_id: u.organization_id.clone(),
        role: u.role.clone(),
        purpose_of_use: u.purpose_of_use.clone(),
    });
    if let Some(pid) = &p.patient {
        ev.patient_ids.push(pid.clone());
    }
}

/// The peer alone (a refused request has no verified user).
pub fn fill_peer(ev: &mut AuditEvent, peer: &PeerIdentity) {
    ev.peer = Some(Peer::from(peer));
}

/// How an ebXML answer ended, as RFC 3881 says it.
pub fn outcome_of(status: ResponseStatus) -> Outcome {
    match status {
        ResponseStatus::Success => Outcome::Success,
        ResponseStatus::PartialSuccess => Outcome::MinorFailure,
        ResponseStatus::Failure => Outcome::SeriousFailure,
    }
}

/// How a reply ended, from its outcome label.
pub fn outcome_of_label(label: &str) -> Outcome {
    match label {
        "Success" | "OK" | "NF" => Outcome::Success,
        "PartialSuccess" => Outcome::MinorFailure,
        _ => Outcome::SeriousFailure,
    }
}

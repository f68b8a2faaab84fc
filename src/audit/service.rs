//! Auditing read-only transactions around any SOAP service: after the answer, one record naming
//! the caller, the patients and documents the request was about, and how it ended. Submissions
//! (ITI-41, ITI-42, XDR) are audited by their services inside their own database transaction.

use super::{outcome_of_label, AuditEvent, Auditor, Direction, EventType, Outcome};
use crate::ebxml::query::parse_adhoc_query;
use crate::ebxml::retrieve::parse_retrieve_request;
use crate::hl7v3::parse_query;
use crate::ids::action;
use crate::soap::{Endpoint, ServiceFuture, SoapCall, SoapService};
use std::sync::Arc;

/// A service whose read-only transactions are audited.
pub struct Audited {
    pub inner: Arc<dyn SoapService>,
    pub auditor: Auditor,
}

impl Audited {
    pub fn wrap(inner: Arc<dyn SoapService>, auditor: &Auditor) -> Arc<dyn SoapService> {
        Arc::new(Audited {
            inner,
            auditor: auditor.clone(),
        })
    }
}

/// The event a read-only action at `path` is, or None for the submissions (audited inside
/// their transaction).
fn event_of(path: &str, act: &str) -> Option<EventType> {
    let initiating = path.ends_with("/initiating");
    let dir = if initiating {
        Direction::Initiating
    } else {
        Direction::Responding
    };
    Some(match act {
        action::STORED_QUERY if initiating => EventType::CrossGatewayQuery(dir),
        action::STORED_QUERY => EventType::RegistryStoredQuery,
        action::RETRIEVE if initiating => EventType::CrossGatewayRetrieve(dir),
        action::RETRIEVE => EventType::RetrieveDocumentSet,
        action::XC_QUERY => EventType::CrossGatewayQuery(dir),
        action::XC_RETRIEVE => EventType::CrossGatewayRetrieve(dir),
        action::XCPD => EventType::PatientDiscovery(dir),
        _ => return None,
    })
}

/// `'a'` and `('a','b')` slot values as their strings.
fn slot_values(v: &str) -> Vec<String> {
    v.trim()
        .trim_start_matches('(')
        .trim_end_matches(')')
        .split(',')
        .map(|s| s.trim().trim_matches('\'').to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// What the request was about, read from its body: patients, documents, query, class.
fn describe(ev: &mut AuditEvent, call: &SoapCall) {
    let body = call.body();
    match ev.event {
        EventType::RegistryStoredQuery | EventType::CrossGatewayQuery(_) => {
            let Ok(q) = parse_adhoc_query(body) else {
                return;
            };
            ev.query_id = Some(q.query_id.clone());
            ev.home_community_ids.extend(q.home.clone());
            for s in &q.params {
                let values = s.values.iter().flat_map(|v| slot_values(v));
                match s.name.as_str() {
                    n if n.ends_with("PatientId") || n == "$patientId" => {
                        ev.patient_ids.extend(values)
                    }
                    "$XDSDocumentEntryClassCode" => {
                        ev.class_code = values
                            .map(|c| c.split("^^").next().unwrap_or_default().to_string())
                            .next()
                    }
                    "$XDSDocumentEntryUniqueId" => ev.document_ids.extend(values),
                    _ => {}
                }
            }
        }
        EventType::RetrieveDocumentSet | EventType::CrossGatewayRetrieve(_) => {
            let Ok(reqs) = parse_retrieve_request(body) else {
                return;
            };
            for r in reqs {
                ev.document_ids.push(r.document_uid);
                ev.home_community_ids.extend(r.home);
            }
        }
        EventType::PatientDiscovery(_) => {
            let Ok(q) = parse_query(body) else { return };
            if let Ok(query) = q.query {
                ev.patient_ids.extend(query.ids.iter().map(|i| {
                    format!(
                        "{}^^^&{}&ISO",
                        i.extension.as_deref().unwrap_or_default(),
                        i.root
                    )
                }));
            }
        }
        _ => {}
    }
    ev.patient_ids.sort();
    ev.patient_ids.dedup();
    ev.home_community_ids.sort();
    ev.home_community_ids.dedup();
}

impl SoapService for Audited {
    fn endpoint(&self) -> &'static Endpoint {
        self.inner.endpoint()
    }

    fn call(&self, call: SoapCall) -> ServiceFuture<'_> {
        Box::pin(async move {
            let path = self.inner.endpoint().path;
            let Some(event) = event_of(path, call.action()) else {
                return self.inner.call(call).await;
            };
            let mut ev = self.auditor.event(event, path, &call);
            describe(&mut ev, &call);
            let result = self.inner.call(call).await;
            match &result {
                Ok(reply) => ev.outcome = outcome_of_label(reply.outcome),
                Err(f) => {
                    ev.outcome = Outcome::SeriousFailure;
                    ev.reason = Some(f.reason.chars().take(200).collect());
                }
            }
            self.auditor.record(ev).await;
            result
        })
    }
}

//! Writes an event as an AuditMessage in the DICOM schema (PS3.15 A.5.1), which both forms
//! share: the eHDSI form differs in its event type codes and participants (service consumer
//! and provider, as the eHDSI samples and OpenNCP write them).

use super::codes::{self, Code, EventCodes, Form};
use super::{rfc3339, AuditEvent, Direction, EventType, Peer, User};
use crate::xml::XmlWriter;
use base64::Engine;

/// ParticipantObjectTypeCode (person, system object) and ParticipantObjectTypeCodeRole
/// (patient, report, job, query) of DICOM A.5.1.
const PERSON: &str = "1";
const SYSTEM_OBJECT: &str = "2";
const ROLE_PATIENT: &str = "1";
const ROLE_REPORT: &str = "3";
const ROLE_JOB: &str = "20";
const ROLE_QUERY: &str = "24";

/// Where an XUA role comes from: the XACML subject role attribute of the assertion.
const XUA_ROLE: &str = "urn:oasis:names:tc:xacml:2.0:subject:role";
const XSPA_PURPOSE: &str = "urn:oasis:names:tc:xspa:1.0:subject:purposeofuse";
const EHDSI_ROLES: &str = "eHealth DSI";

pub fn render(ev: &AuditEvent) -> String {
    let form = codes::form_of(ev);
    let codes = codes::event_codes(ev);
    let mut w = XmlWriter::new();
    w.open("AuditMessage", &[]);
    event_identification(&mut w, ev, &codes, form);
    match form {
        Form::Ihe => ihe_participants(&mut w, ev),
        Form::Ehdsi => ehdsi_participants(&mut w, ev),
    }
    w.open(
        "AuditSourceIdentification",
        &[
            ("AuditEnterpriseSiteID", &ev.source_id),
            ("AuditSourceID", &ev.source_id),
        ],
    );
    // 4: application server process.
    w.empty("AuditSourceTypeCode", &[("csd-code", "4")]);
    w.close("AuditSourceIdentification");
    participant_objects(&mut w, ev, &codes, form);
    w.close("AuditMessage");
    w.s
}

fn coded(w: &mut XmlWriter, name: &str, c: &Code) {
    coded_text(w, name, c.code, c.system, c.text);
}

fn coded_text(w: &mut XmlWriter, name: &str, code: &str, system: &str, text: &str) {
    w.empty(
        name,
        &[
            ("csd-code", code),
            ("codeSystemName", system),
            ("originalText", text),
        ],
    );
}

fn event_identification(w: &mut XmlWriter, ev: &AuditEvent, codes: &EventCodes, form: Form) {
    let outcome = ev.outcome.code().to_string();
    w.open(
        "EventIdentification",
        &[
            ("EventActionCode", codes.action),
            ("EventDateTime", &rfc3339(ev.time)),
            ("EventOutcomeIndicator", &outcome),
        ],
    );
    coded(w, "EventID", &codes.event_id);
    coded(w, "EventTypeCode", &codes.type_code);
    if let (Form::Ehdsi, Some((id, name))) = (form, codes.ehdsi) {
        // As in the eHDSI samples, the eHDSI event id is listed with the IHE transactions.
        coded_text(w, "EventTypeCode", id, "IHE Transactions", name);
    }
    if let Some(r) = &ev.reason {
        w.leaf("EventOutcomeDescription", &[], r);
    }
    if let Some(p) = ev.user.as_ref().and_then(|u| u.purpose_of_use.as_deref()) {
        coded_text(w, "PurposeOfUse", p, XSPA_PURPOSE, p);
    }
    w.close("EventIdentification");
}

/// One ActiveParticipant: attributes in schema order, then its role codes.
struct Participant<'a> {
    user_id: &'a str,
    alternative: Option<&'a str>,
    name: Option<&'a str>,
    requestor: bool,
    address: Option<String>,
    roles: Vec<(&'a str, &'a str, &'a str)>,
}

impl Participant<'_> {
    fn write(&self, w: &mut XmlWriter) {
        let mut attrs = vec![("UserID", self.user_id)];
        if let Some(a) = self.alternative {
            attrs.push(("AlternativeUserID", a));
        }
        if let Some(n) = self.name {
            attrs.push(("UserName", n));
        }
        attrs.push((
            "UserIsRequestor",
            if self.requestor { "true" } else { "false" },
        ));
        if let Some(a) = &self.address {
            // 2: an IP address, 1: a machine name.
            let kind = if a.parse::<std::net::IpAddr>().is_ok() {
                "2"
            } else {
                "1"
            };
            attrs.push(("NetworkAccessPointID", a));
            attrs.push(("NetworkAccessPointTypeCode", kind));
        }
        if self.roles.is_empty() {
            w.empty("ActiveParticipant", &attrs);
            return;
        }
        w.open("ActiveParticipant", &attrs);
        for (code, system, text) in &self.roles {
            coded_text(w, "RoleIDCode", code, system, text);
        }
        w.close("ActiveParticipant");
    }
}

/// The IP address of `ip:port` (or the text as it is, when it is no socket address).
fn host_of(remote: &str) -> String {
    remote
        .parse::<std::net::SocketAddr>()
        .map_or_else(|_| remote.to_string(), |a| a.ip().to_string())
}

fn peer_participant<'a>(p: &'a Peer, role: (&'a str, &'a str, &'a str)) -> Participant<'a> {
    Participant {
        user_id: &p.subject,
        alternative: None,
        name: p.common_name.as_deref(),
        requestor: true,
        address: p.remote_addr.as_deref().map(host_of),
        roles: vec![role],
    }
}

/// The health professional, and the organisation (point of care) they act for.
fn user_participants(w: &mut XmlWriter, u: &User, form: Form) {
    let subject = u.subject_id.as_deref().unwrap_or("unknown");
    let mut roles = Vec::new();
    if form == Form::Ehdsi {
        roles.push((codes::SOURCE.code, codes::SOURCE.system, "Human Requestor"));
    }
    if let Some(r) = u.role.as_deref() {
        roles.push((r, XUA_ROLE, r));
    }
    Participant {
        user_id: subject,
        alternative: None,
        name: Some(subject),
        requestor: true,
        address: None,
        roles,
    }
    .write(w);
    if let Some(org) = u.organisation_id.as_deref().or(u.organisation.as_deref()) {
        Participant {
            user_id: org,
            alternative: None,
            name: u.organisation.as_deref(),
            requestor: false,
            address: None,
            roles: Vec::new(),
        }
        .write(w);
    }
}

fn code_role(c: &Code) -> (&'static str, &'static str, &'static str) {
    (c.code, c.system, c.text)
}

/// Source (the peer), human requestor, destination (this node's endpoint).
fn ihe_participants(w: &mut XmlWriter, ev: &AuditEvent) {
    if let Some(p) = &ev.peer {
        peer_participant(p, code_role(&codes::SOURCE)).write(w);
    }
    if let Some(u) = &ev.user {
        user_participants(w, u, Form::Ihe);
    }
    Participant {
        user_id: &ev.endpoint,
        alternative: None,
        name: None,
        requestor: false,
        address: None,
        roles: vec![code_role(&codes::DESTINATION)],
    }
    .write(w);
}

const CONSUMER: (&str, &str, &str) = ("ServiceConsumer", EHDSI_ROLES, "Service Consumer");
const PROVIDER: (&str, &str, &str) = ("ServiceProvider", EHDSI_ROLES, "Service Provider");

fn is_initiating(e: EventType) -> bool {
    use EventType::*;
    matches!(
        e,
        CrossGatewayQuery(Direction::Initiating)
            | CrossGatewayRetrieve(Direction::Initiating)
            | PatientDiscovery(Direction::Initiating)
    )
}

/// Service consumer and provider: the peer and this node when a peer asks; this node and the
/// communities asked when it initiates (the national caller is then the source).
fn ehdsi_participants(w: &mut XmlWriter, ev: &AuditEvent) {
    if let Some(u) = &ev.user {
        user_participants(w, u, Form::Ehdsi);
    }
    let me = |role| Participant {
        user_id: &ev.source_id,
        alternative: Some(&ev.endpoint),
        name: None,
        requestor: role == CONSUMER,
        address: None,
        roles: vec![role],
    };
    if !is_initiating(ev.event) {
        if let Some(p) = &ev.peer {
            peer_participant(p, CONSUMER).write(w);
        }
        me(PROVIDER).write(w);
        return;
    }
    if let Some(p) = &ev.peer {
        peer_participant(p, code_role(&codes::SOURCE)).write(w);
    }
    me(CONSUMER).write(w);
    for hc in &ev.home_community_ids {
        Participant {
            user_id: hc,
            alternative: None,
            name: None,
            requestor: false,
            address: None,
            roles: vec![PROVIDER],
        }
        .write(w);
    }
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s.as_bytes())
}

/// One ParticipantObjectIdentification with its details (type, value as base64).
fn object(
    w: &mut XmlWriter,
    id: &str,
    (type_code, role): (&str, &str),
    id_type: (&str, &str, &str),
    details: &[(&str, &str)],
) {
    w.open(
        "ParticipantObjectIdentification",
        &[
            ("ParticipantObjectID", id),
            ("ParticipantObjectTypeCode", type_code),
            ("ParticipantObjectTypeCodeRole", role),
        ],
    );
    coded_text(
        w,
        "ParticipantObjectIDTypeCode",
        id_type.0,
        id_type.1,
        id_type.2,
    );
    for (t, v) in details {
        w.empty(
            "ParticipantObjectDetail",
            &[("type", t), ("value", &b64(v))],
        );
    }
    w.close("ParticipantObjectIdentification");
}

fn participant_objects(w: &mut XmlWriter, ev: &AuditEvent, codes: &EventCodes, form: Form) {
    use EventType::*;
    for pid in &ev.patient_ids {
        object(
            w,
            pid,
            (PERSON, ROLE_PATIENT),
            code_role(&codes::PATIENT_NUMBER),
            &[],
        );
    }
    let home: Vec<(&str, &str)> = ev
        .home_community_ids
        .iter()
        .map(|h| ("ihe:homeCommunityID", h.as_str()))
        .collect();
    if matches!(
        ev.event,
        RegistryStoredQuery | CrossGatewayQuery(_) | PatientDiscovery(_)
    ) {
        let id = ev
            .query_id
            .as_deref()
            .or(ev.message_id.as_deref())
            .unwrap_or("unknown");
        let mut details = vec![("QueryEncoding", "UTF-8")];
        details.extend(home.iter().copied());
        object(
            w,
            id,
            (SYSTEM_OBJECT, ROLE_QUERY),
            code_role(&codes.type_code),
            &details,
        );
    }
    if let Some(ss) = &ev.submission_set {
        object(
            w,
            ss,
            (SYSTEM_OBJECT, ROLE_JOB),
            code_role(&codes::SUBMISSION_SET),
            &[],
        );
    }
    for uid in &ev.document_ids {
        object(
            w,
            uid,
            (SYSTEM_OBJECT, ROLE_REPORT),
            code_role(&codes::REPORT_NUMBER),
            &home,
        );
    }
    if let (Form::Ehdsi, true, Some(reason)) = (form, ev.event.is_refusal(), &ev.reason) {
        // The error object of eHDSI refusals: the refused message and why.
        let id = ev.message_id.as_deref().unwrap_or("unknown");
        object(
            w,
            id,
            (SYSTEM_OBJECT, ROLE_REPORT),
            ("9", "eHealth DSI Security", "error message"),
            &[("errormsg", reason)],
        );
    }
}

//! The ATNA audit trail: one record per transaction and per refused request, rendered in the
//! eHDSI form on the eHDSI transactions and in the IHE DICOM form elsewhere, stored in a hash
//! chain (each record carries the SHA-256 of its predecessor) and forwarded over syslog TLS.
//!
//! A record names who asked (the mTLS peer and the XUA user), what about (patient ids,
//! document uniqueIds, the stored query) and how it ended. It never holds clinical content
//! nor patient names: the model has no field for them.

mod auditor;
pub mod cli;
mod codes;
pub mod forwarder;
mod record;
mod render;
mod service;
pub mod store;
mod syslog;
mod writer;

pub use auditor::{fill_peer, fill_principal, outcome_of, outcome_of_label, Auditor};
pub use codes::Form;
pub use record::{split as split_list, AuditRow};
pub use service::Audited;
pub use store::{append, append_all, append_now};

use time::OffsetDateTime;

/// What can go wrong outside a caller's transaction: reading the trail, forwarding it.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Tls(#[from] crate::transport::tls::TlsError),
    #[error("[audit] syslog_url {0:?}: must be tls://host:port")]
    Url(String),
    #[error("audit collector {addr}: {source}")]
    Collector {
        addr: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Usage(String),
}

/// Event times are kept to the millisecond, in UTC.
pub(crate) fn to_millis(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

pub(crate) fn from_millis(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// RFC 3339 in UTC with milliseconds, as AuditMessage and syslog write it.
pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    let t = from_millis(to_millis(t));
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

/// Which side of a cross-community transaction this node played.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// A peer asked this node (responding gateway, NCP-A).
    Responding,
    /// This node asked peers on behalf of a national consumer (initiating gateway, NCP-B).
    Initiating,
}

/// What happened. The stored name (`as_str`) is what `audit list` shows and filters on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// ITI-18 Registry Stored Query.
    RegistryStoredQuery,
    /// ITI-41 Provide and Register Document Set-b (repository side).
    ProvideAndRegister,
    /// ITI-42 Register Document Set-b (registry side).
    RegisterDocumentSet,
    /// ITI-43 Retrieve Document Set (repository side).
    RetrieveDocumentSet,
    /// ITI-57 Update Document Set (registry side).
    UpdateDocumentSet,
    /// ITI-92 Restricted Update Document Set (registry side).
    RestrictedUpdateDocumentSet,
    /// ITI-38 Cross Gateway Query.
    CrossGatewayQuery(Direction),
    /// ITI-39 Cross Gateway Retrieve.
    CrossGatewayRetrieve(Direction),
    /// ITI-55 Cross Gateway Patient Discovery.
    PatientDiscovery(Direction),
    /// ITI-62 Remove Metadata (registry side).
    RemoveMetadata,
    /// ITI-86 Remove Documents (repository side).
    RemoveDocuments,
    /// An eDispensation received over XDR (eHDSI dispensation service, initialize).
    DispensationReceived,
    /// An eDispensation discarded over XDR (eHDSI dispensation service, discard).
    DispensationDiscarded,
    /// A HealthCare Encounter Report received over XDR. eHDSI names no audit event for it, so it
    /// is audited as the ITI-41 import it is.
    EncounterReportReceived,
    /// MHD ITI-65 Provide Document Bundle (Document Recipient side).
    ProvideDocumentBundle,
    /// MHD ITI-66 Find Document Lists.
    FindDocumentLists,
    /// MHD ITI-67 Find Document References.
    FindDocumentReferences,
    /// MHD ITI-68 Retrieve Document.
    RetrieveDocument,
    /// A request refused because its sender could not be authenticated: a missing, forged or
    /// expired assertion, or a certificate that does not match it.
    AuthenticationFailure,
    /// A request from an authenticated sender refused for lack of a permission.
    AccessDenied,
}

const EVENT_NAMES: [(EventType, &str); 23] = {
    use Direction::*;
    use EventType::*;
    [
        (RegistryStoredQuery, "ITI-18"),
        (ProvideAndRegister, "ITI-41"),
        (RegisterDocumentSet, "ITI-42"),
        (RetrieveDocumentSet, "ITI-43"),
        (UpdateDocumentSet, "ITI-57"),
        (RestrictedUpdateDocumentSet, "ITI-92"),
        (RemoveMetadata, "ITI-62"),
        (RemoveDocuments, "ITI-86"),
        (CrossGatewayQuery(Responding), "ITI-38"),
        (CrossGatewayQuery(Initiating), "ITI-38-initiating"),
        (CrossGatewayRetrieve(Responding), "ITI-39"),
        (CrossGatewayRetrieve(Initiating), "ITI-39-initiating"),
        (PatientDiscovery(Responding), "ITI-55"),
        (PatientDiscovery(Initiating), "ITI-55-initiating"),
        (DispensationReceived, "XDR-eD"),
        (DispensationDiscarded, "XDR-eD-discard"),
        (EncounterReportReceived, "XDR-HCER"),
        (ProvideDocumentBundle, "ITI-65"),
        (FindDocumentLists, "ITI-66"),
        (FindDocumentReferences, "ITI-67"),
        (RetrieveDocument, "ITI-68"),
        (AuthenticationFailure, "authentication-failure"),
        (AccessDenied, "access-denied"),
    ]
};

impl EventType {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        EVENT_NAMES
            .iter()
            .find(|(e, _)| *e == self)
            .map_or("unknown", |(_, n)| n)
    }

    pub fn from_name(name: &str) -> Option<EventType> {
        EVENT_NAMES
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(e, _)| *e)
    }

    /// Refusals are audited before anything of the request is processed.
    pub fn is_refusal(self) -> bool {
        matches!(
            self,
            EventType::AuthenticationFailure | EventType::AccessDenied
        )
    }
}

/// RFC 3881 / DICOM EventOutcomeIndicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i16)]
pub enum Outcome {
    Success = 0,
    /// The action was finished, but with a failure (a partial success).
    MinorFailure = 4,
    /// The action was ended prematurely (a refused request, an error answer).
    SeriousFailure = 8,
    /// The action was made unavailable (the node failed).
    MajorFailure = 12,
}

impl Outcome {
    pub fn code(self) -> i16 {
        self as i16
    }

    pub fn from_code(c: i16) -> Option<Outcome> {
        [
            Outcome::Success,
            Outcome::MinorFailure,
            Outcome::SeriousFailure,
            Outcome::MajorFailure,
        ]
        .into_iter()
        .find(|o| o.code() == c)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::MinorFailure => "minor-failure",
            Outcome::SeriousFailure => "serious-failure",
            Outcome::MajorFailure => "major-failure",
        }
    }
}

/// The other end of the mutual TLS connection, as its certificate names it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Peer {
    pub subject: String,
    pub issuer: String,
    pub common_name: Option<String>,
    pub country: Option<String>,
    /// `ip:port` the request came from.
    pub remote_addr: Option<String>,
}

impl AuditEvent {
    /// Who a registry records as the source of what this request stores: the certificate
    /// subject, and the assertion's organisation when there is one. Updates and removals over
    /// SOAP must come from the same source.
    pub fn submitter(&self) -> String {
        let subject = self.peer.as_ref().map(|p| p.subject.as_str()).unwrap_or("");
        match self
            .user
            .as_ref()
            .and_then(|u| u.organisation_id.as_deref())
        {
            Some(org) => format!("{subject} | org {org}"),
            None => subject.to_string(),
        }
    }
}

impl From<&crate::pki::PeerIdentity> for Peer {
    fn from(p: &crate::pki::PeerIdentity) -> Peer {
        Peer {
            subject: p.subject.clone(),
            issuer: p.issuer.clone(),
            common_name: p.common_name.clone(),
            country: p.country.clone(),
            remote_addr: None,
        }
    }
}

/// The health professional an XUA assertion names; every attribute as the assertion has it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct User {
    pub subject_id: Option<String>,
    pub organisation: Option<String>,
    pub organisation_id: Option<String>,
    pub role: Option<String>,
    /// TREATMENT, EMERGENCY, ...
    pub purpose_of_use: Option<String>,
}

/// One audited event. Build it with [`AuditEvent::new`] and fill in what the transaction knows.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub event: EventType,
    pub outcome: Outcome,
    /// Stored to the millisecond.
    pub time: OffsetDateTime,
    /// AuditSourceID of this node (`[audit] source_id`).
    pub source_id: String,
    /// The path served, e.g. `/xca`.
    pub endpoint: String,
    /// The SOAP action of the request.
    pub action: String,
    /// The request's WS-Addressing MessageID.
    pub message_id: Option<String>,
    pub peer: Option<Peer>,
    pub user: Option<User>,
    /// Patient ids in CX form (`ID^^^&OID&ISO`).
    pub patient_ids: Vec<String>,
    /// XDSDocumentEntry.uniqueIds read, written or refused.
    pub document_ids: Vec<String>,
    /// The SubmissionSet uniqueId of a submission.
    pub submission_set: Option<String>,
    /// The stored query id (urn:uuid:...) of ITI-18 and ITI-38.
    pub query_id: Option<String>,
    /// homeCommunityIds involved: the peers asked, or the community answered for.
    pub home_community_ids: Vec<String>,
    /// The eHDSI document class the service is about (LOINC: 60591-5 PS, 57833-6 eP, ...):
    /// it picks the eHDSI event id (patient service, order service, ...).
    pub class_code: Option<String>,
    /// Why a request was refused or failed, in a few words; never request content.
    pub reason: Option<String>,
}

impl AuditEvent {
    /// An event of `event` happening now, successful until told otherwise.
    pub fn new(event: EventType, source_id: &str, endpoint: &str, action: &str) -> AuditEvent {
        AuditEvent {
            event,
            outcome: Outcome::Success,
            time: OffsetDateTime::now_utc(),
            source_id: source_id.to_string(),
            endpoint: endpoint.to_string(),
            action: action.to_string(),
            message_id: None,
            peer: None,
            user: None,
            patient_ids: Vec::new(),
            document_ids: Vec::new(),
            submission_set: None,
            query_id: None,
            home_community_ids: Vec::new(),
            class_code: None,
            reason: None,
        }
    }

    /// The form this event is written in.
    pub fn form(&self) -> Form {
        codes::form_of(self)
    }

    /// The AuditMessage XML of this event, in its form.
    pub fn to_xml(&self) -> String {
        render::render(self)
    }
}

#[cfg(test)]
mod tests;

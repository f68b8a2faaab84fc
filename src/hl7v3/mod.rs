//! HL7 version 3 wire types for the patient discovery messages of ITI-55 (XCPD):
//! PRPA_IN201305UV02 (query) in, PRPA_IN201306UV02 (response) out, and the query out for the
//! operator's peer check (`request`). No matching rules live here.

pub mod parse;
pub mod request;
pub mod write;

pub use parse::{parse_query, MessageHeader, NotAQuery, PatientQuery, PersonName, QueryError};
pub use write::{write_response, FoundPatient, Issue, QueryResponseCode, Response};

/// The HL7 v3 namespace.
pub const HL7: &str = "urn:hl7-org:v3";
pub const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// Interaction ids (root 2.16.840.1.113883.1.6).
pub const INTERACTION_ROOT: &str = "2.16.840.1.113883.1.6";
pub const QUERY_INTERACTION: &str = "PRPA_IN201305UV02";
pub const RESPONSE_INTERACTION: &str = "PRPA_IN201306UV02";

/// An HL7 v3 instance identifier (II): a root OID/UUID and an optional extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ii {
    pub root: String,
    pub extension: Option<String>,
}

impl Ii {
    pub fn new(root: impl Into<String>, extension: Option<String>) -> Ii {
        Ii {
            root: root.into(),
            extension,
        }
    }
}

/// HL7 acknowledgement codes: the same three in version 2 (MSA-1, table 0008) and version 3
/// (acknowledgement/typeCode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckCode {
    /// AA: the message was processed (with or without a match).
    Accept,
    /// AE: understood, but could not be processed.
    Error,
    /// AR: not acceptable at all.
    Reject,
}

impl AckCode {
    pub fn code(self) -> &'static str {
        match self {
            AckCode::Accept => "AA",
            AckCode::Error => "AE",
            AckCode::Reject => "AR",
        }
    }
}

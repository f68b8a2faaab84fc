//! The codes each event is written with. DICOM PS3.15 A.5 and IHE ITI TF-2 give the EventID
//! (DCM) and EventTypeCode (IHE transaction) per transaction and side; the eHDSI event ids
//! (EHDSI-11 ... EHDSI-91) are those the eHDSI audit validators key on, per service.

use super::{AuditEvent, Direction, EventType};
use crate::ids::ehdsi;

/// The two shapes of AuditMessage the node writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// eHDSI (as OpenNCP writes it): the IHE transaction and the EHDSI-* event id, service
    /// consumer and provider participants.
    Ehdsi,
    /// IHE ATNA in the DICOM schema: source, human requestor and destination participants.
    Ihe,
}

/// A coded value: csd-code, codeSystemName, originalText.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    pub code: &'static str,
    pub system: &'static str,
    pub text: &'static str,
}

const fn dcm(code: &'static str, text: &'static str) -> Code {
    Code {
        code,
        system: "DCM",
        text,
    }
}

const fn ihe(code: &'static str, text: &'static str) -> Code {
    Code {
        code,
        system: "IHE Transactions",
        text,
    }
}

const QUERY: Code = dcm("110112", "Query");
const IMPORT: Code = dcm("110107", "Import");
const EXPORT: Code = dcm("110106", "Export");
/// ITI-62 and ITI-86 audit a deletion as an event on the patient record.
const PATIENT_RECORD: Code = dcm("110110", "Patient Record");

/// What identifies an event in its AuditMessage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventCodes {
    pub event_id: Code,
    /// EventActionCode: C(reate), R(ead), U(pdate), D(elete), E(xecute).
    pub action: &'static str,
    pub type_code: Code,
    /// The eHDSI event id and the name eHDSI gives the transaction.
    pub ehdsi: Option<(&'static str, &'static str)>,
}

/// eHDSI service of a cross-gateway query or retrieve, by the document class asked for.
fn xca_service(class: Option<&str>, retrieve: bool) -> &'static str {
    // Original clinical documents (OrCD): discharge report, laboratory result, imaging report
    // and images.
    const ORCD: [&str; 4] = ["34105-7", "11502-2", "18748-4", "55113-5"];
    match (class, retrieve) {
        (Some(ehdsi::EP_CLASS), false) => "EHDSI-31",
        (Some(ehdsi::EP_CLASS), true) => "EHDSI-32",
        (Some(c), false) if ORCD.contains(&c) => "EHDSI-61",
        (Some(c), true) if ORCD.contains(&c) => "EHDSI-62",
        (_, false) => "EHDSI-21",
        (_, true) => "EHDSI-22",
    }
}

pub fn event_codes(ev: &AuditEvent) -> EventCodes {
    use Direction::*;
    use EventType::*;
    let class = ev.class_code.as_deref();
    let c = |event_id, action, type_code, ehdsi| EventCodes {
        event_id,
        action,
        type_code,
        ehdsi,
    };
    let xcq = ihe("ITI-38", "Cross Gateway Query");
    let xcr = ihe("ITI-39", "Cross Gateway Retrieve");
    let pnr = ihe("ITI-41", "Provide and Register Document Set-b");
    let xua = Some(("EHDSI-91", "XUA::ProvideX-UserAssertion"));
    match ev.event {
        RegistryStoredQuery => c(QUERY, "E", ihe("ITI-18", "Registry Stored Query"), None),
        ProvideAndRegister => c(IMPORT, "C", pnr, None),
        RegisterDocumentSet => c(IMPORT, "C", ihe("ITI-42", "Register Document Set-b"), None),
        RetrieveDocumentSet => c(EXPORT, "R", ihe("ITI-43", "Retrieve Document Set"), None),
        UpdateDocumentSet => c(IMPORT, "U", ihe("ITI-57", "Update Document Set"), None),
        RestrictedUpdateDocumentSet => c(
            IMPORT,
            "U",
            ihe("ITI-92", "Restricted Update Document Set"),
            None,
        ),
        RemoveMetadata => c(PATIENT_RECORD, "D", ihe("ITI-62", "Remove Metadata"), None),
        RemoveDocuments => c(PATIENT_RECORD, "D", ihe("ITI-86", "Remove Documents"), None),
        CrossGatewayQuery(_) => c(
            QUERY,
            "E",
            xcq,
            Some((xca_service(class, false), "XCA::CrossGatewayQuery")),
        ),
        CrossGatewayRetrieve(d) => c(
            if d == Responding { EXPORT } else { IMPORT },
            if d == Responding { "R" } else { "C" },
            xcr,
            Some((xca_service(class, true), "XCA::CrossGatewayRetrieve")),
        ),
        PatientDiscovery(_) => c(
            QUERY,
            "E",
            ihe("ITI-55", "Cross Gateway Patient Discovery"),
            Some(("EHDSI-11", "XCPD::CrossGatewayPatientDiscovery")),
        ),
        DispensationReceived => c(
            IMPORT,
            "C",
            pnr,
            Some(("EHDSI-41", "XDR::ProvideandRegisterDocumentSet-b")),
        ),
        DispensationDiscarded => c(
            IMPORT,
            "D",
            pnr,
            Some(("EHDSI-42", "XDR::ProvideandRegisterDocumentSet-b")),
        ),
        EncounterReportReceived => c(IMPORT, "C", pnr, None),
        ProvideDocumentBundle => c(IMPORT, "C", ihe("ITI-65", "Provide Document Bundle"), None),
        FindDocumentLists => c(QUERY, "E", ihe("ITI-66", "Find Document Lists"), None),
        FindDocumentReferences => c(QUERY, "E", ihe("ITI-67", "Find Document References"), None),
        RetrieveDocument => c(EXPORT, "R", ihe("ITI-68", "Retrieve Document"), None),
        AuthenticationFailure => c(
            dcm("110114", "User Authentication"),
            "E",
            dcm("110122", "Login"),
            xua,
        ),
        AccessDenied => c(
            dcm("110113", "Security Alert"),
            "E",
            dcm("110132", "Use of Restricted Function"),
            xua,
        ),
    }
}

/// The eHDSI endpoints: what arrives there is audited in the eHDSI form, refusals included.
const EHDSI_PATHS: [&str; 3] = ["/xca", "/xcpd", "/xdr"];

pub fn form_of(ev: &AuditEvent) -> Form {
    use EventType::*;
    let on_ehdsi_path = EHDSI_PATHS
        .iter()
        .any(|p| ev.endpoint == *p || ev.endpoint.starts_with(&format!("{p}/")));
    match ev.event {
        CrossGatewayQuery(_)
        | CrossGatewayRetrieve(_)
        | PatientDiscovery(_)
        | DispensationReceived
        | DispensationDiscarded => Form::Ehdsi,
        AuthenticationFailure | AccessDenied if on_ehdsi_path => Form::Ehdsi,
        _ => Form::Ihe,
    }
}

/// ParticipantObjectIDTypeCode of a patient: RFC-3881 "2", Patient Number.
pub const PATIENT_NUMBER: Code = Code {
    code: "2",
    system: "RFC-3881",
    text: "Patient Number",
};

/// ParticipantObjectIDTypeCode of a document: RFC-3881 "9", Report Number.
pub const REPORT_NUMBER: Code = Code {
    code: "9",
    system: "RFC-3881",
    text: "Report Number",
};

/// ParticipantObjectIDTypeCode of a SubmissionSet (ITI TF-2 3.41.4.1.4): its classification node.
pub const SUBMISSION_SET: Code = Code {
    code: "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd",
    system: "IHE XDS Metadata",
    text: "submission set classificationNode",
};

/// ActiveParticipant roles (DICOM CID 402).
pub const SOURCE: Code = dcm("110153", "Source Role ID");
pub const DESTINATION: Code = dcm("110152", "Destination Role ID");

//! Request bodies and actions per transaction, and what a response says back.
//! Standard IHE wire facts only; nothing here knows which product answers.

use crate::xml::TrimmedText;
use base64::Engine;

use super::testplan::TransactionKind;
use super::transport::Endpoint;
use super::xml::{Element, Node};

pub const XDSB: &str = "urn:ihe:iti:xds-b:2007";

/// Where a transaction goes and the WS-Addressing actions both ways.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Wire {
    pub endpoint: Endpoint,
    pub action: &'static str,
    pub response_action: &'static str,
}

const fn w(endpoint: Endpoint, action: &'static str, response_action: &'static str) -> Wire {
    Wire {
        endpoint,
        action,
        response_action,
    }
}

/// None for the transactions that send no SOAP message (Null, patient feed, FHIR).
pub fn wire(kind: TransactionKind) -> Option<Wire> {
    use Endpoint::*;
    use TransactionKind as K;
    Some(match kind {
        K::Register => w(
            Registry,
            "urn:ihe:iti:2007:RegisterDocumentSet-b",
            "urn:ihe:iti:2007:RegisterDocumentSet-bResponse",
        ),
        K::ProvideAndRegister => w(
            Repository,
            "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b",
            "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bResponse",
        ),
        K::Retrieve => w(
            Repository,
            "urn:ihe:iti:2007:RetrieveDocumentSet",
            "urn:ihe:iti:2007:RetrieveDocumentSetResponse",
        ),
        K::StoredQuery => w(
            Registry,
            "urn:ihe:iti:2007:RegistryStoredQuery",
            "urn:ihe:iti:2007:RegistryStoredQueryResponse",
        ),
        K::Mu => w(
            Registry,
            "urn:ihe:iti:2010:UpdateDocumentSet",
            "urn:ihe:iti:2010:UpdateDocumentSetResponse",
        ),
        K::Rmu => w(
            Registry,
            "urn:ihe:iti:2018:RestrictedUpdateDocumentSet",
            "urn:ihe:iti:2018:RestrictedUpdateDocumentSetResponse",
        ),
        K::XcRmu => w(
            RespondingGateway,
            "urn:ihe:iti:2018:RestrictedUpdateDocumentSet",
            "urn:ihe:iti:2018:RestrictedUpdateDocumentSetResponse",
        ),
        K::RemoveMetadata => w(
            Registry,
            "urn:ihe:iti:2010:DeleteDocumentSet",
            "urn:ihe:iti:2010:DeleteDocumentSetResponse",
        ),
        K::Rd => w(
            Repository,
            "urn:ihe:iti:2017:RemoveDocuments",
            "urn:ihe:iti:2017:RemoveDocumentsResponse",
        ),
        K::Igq => w(
            InitiatingGateway,
            "urn:ihe:iti:2007:RegistryStoredQuery",
            "urn:ihe:iti:2007:RegistryStoredQueryResponse",
        ),
        K::Igr => w(
            InitiatingGateway,
            "urn:ihe:iti:2007:RetrieveDocumentSet",
            "urn:ihe:iti:2007:RetrieveDocumentSetResponse",
        ),
        K::Xcq => w(
            RespondingGateway,
            "urn:ihe:iti:2007:CrossGatewayQuery",
            "urn:ihe:iti:2007:CrossGatewayQueryResponse",
        ),
        K::Xcr => w(
            RespondingGateway,
            "urn:ihe:iti:2007:CrossGatewayRetrieve",
            "urn:ihe:iti:2007:CrossGatewayRetrieveResponse",
        ),
        // No SOAP: nothing, the feed (MLLP), or FHIR over plain HTTPS (`fhir_step`).
        K::Null
        | K::PatientIdentityFeed
        | K::FhirCreatePatient
        | K::FhirRead
        | K::ProvideDocumentBundle => return None,
    })
}

/// Transactions whose metadata file is a submission the toolkit prepares (ids, patient...).
pub fn is_submission(kind: TransactionKind) -> bool {
    matches!(
        kind,
        TransactionKind::Register
            | TransactionKind::ProvideAndRegister
            | TransactionKind::Mu
            | TransactionKind::Rmu
            | TransactionKind::XcRmu
    )
}

/// Split a metadata file that is already a ProvideAndRegisterDocumentSetRequest into
/// its SubmitObjectsRequest and inline Documents.
pub fn unwrap_pnr(root: Element) -> (Element, Vec<Element>) {
    if root.name != "ProvideAndRegisterDocumentSetRequest" {
        return (root, Vec::new());
    }
    let mut sor = None;
    let mut docs = Vec::new();
    for c in root.children {
        if let Node::Element(e) = c {
            match e.name.as_str() {
                "SubmitObjectsRequest" => sor = Some(e),
                "Document" => docs.push(e),
                _ => {}
            }
        }
    }
    match sor {
        Some(s) => (s, docs),
        None => (Element::new(None, "SubmitObjectsRequest", None), docs),
    }
}

/// `<xdsb:ProvideAndRegisterDocumentSetRequest>` around the metadata, documents inline base64.
pub fn pnr_body(sor: Element, docs: &[(String, Vec<u8>)], inline: Vec<Element>) -> Element {
    let mut root = Element::new(
        Some("xdsb"),
        "ProvideAndRegisterDocumentSetRequest",
        Some(XDSB),
    )
    .with_ns_decl("xdsb", XDSB);
    root.push(sor);
    for e in inline {
        root.push(e);
    }
    for (id, bytes) in docs {
        let mut d = Element::new(Some("xdsb"), "Document", Some(XDSB)).with_attr("id", id);
        d.push_text(&base64::engine::general_purpose::STANDARD.encode(bytes));
        root.push(d);
    }
    root
}

#[derive(Debug, Clone, PartialEq)]
pub struct RegistryError {
    pub code: String,
    pub context: String,
    pub severity: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RetrievedDocument {
    pub home: Option<String>,
    pub repository: Option<String>,
    pub unique_id: String,
    pub mime_type: Option<String>,
    /// Err when the Document text was not base64.
    pub bytes: Result<Vec<u8>, String>,
}

/// What a response body says.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Interpreted {
    /// Last segment of `@status`: Success, PartialSuccess, Failure.
    pub status: Option<String>,
    pub errors: Vec<RegistryError>,
    pub documents: Vec<RetrievedDocument>,
}

fn short(s: &str) -> String {
    s.rsplit(':').next().unwrap_or(s).to_string()
}

pub fn interpret(body: &Element) -> Interpreted {
    let mut out = Interpreted::default();
    let status_holder = if body.attr("status").is_some() {
        Some(body)
    } else {
        body.elements().find(|e| e.name == "RegistryResponse")
    };
    out.status = status_holder.and_then(|e| e.attr("status")).map(short);
    for e in body.descendants() {
        match e.name.as_str() {
            "RegistryError" => out.errors.push(RegistryError {
                code: e.attr("errorCode").unwrap_or_default().to_string(),
                context: e.attr("codeContext").unwrap_or_default().to_string(),
                severity: short(e.attr("severity").unwrap_or_default()),
            }),
            "DocumentResponse" => {
                let t = |n: &str| e.child_local(n).map(|c| c.trimmed_text());
                let text: String = t("Document")
                    .unwrap_or_default()
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect();
                out.documents.push(RetrievedDocument {
                    home: t("HomeCommunityId"),
                    repository: t("RepositoryUniqueId"),
                    unique_id: t("DocumentUniqueId").unwrap_or_default(),
                    mime_type: t("mimeType"),
                    bytes: base64::engine::general_purpose::STANDARD
                        .decode(text.as_bytes())
                        .map_err(|e| e.to_string()),
                });
            }
            _ => {}
        }
    }
    out
}

/// Used when the testkit has no `A01.txt`: a minimal ADT^A01 registering `$pid$`.
pub const DEFAULT_A01: &str =
    "MSH|^~\\&|NCPEH_CONFORMANCE|NCPEH|REGISTRY|REGISTRY|20260101000000||ADT^A01|1|P|2.3.1\nEVN||20260101000000\nPID|||$pid$||CONFORMANCE^PATIENT||19700101|U\nPV1||O\n";

/// The HL7 v2 ADT^A01 of the testkit (`A01.txt`) for one patient id, segments joined by CR.
pub fn patient_feed_message(
    template: &str,
    patient_id: &str,
    receiving_app: &str,
    receiving_facility: &str,
    timestamp: &str,
    control_id: &str,
) -> String {
    let mut segs: Vec<String> = Vec::new();
    for line in template
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
    {
        let line = line.replace("$pid$", patient_id);
        if line.starts_with("MSH|") {
            let mut f: Vec<String> = line.split('|').map(str::to_string).collect();
            // MSH-5/6 receiver, MSH-7 time, MSH-10 control id (field n sits at index n-1).
            for (i, v) in [
                (4, receiving_app),
                (5, receiving_facility),
                (6, timestamp),
                (9, control_id),
            ] {
                if let Some(slot) = f.get_mut(i) {
                    *slot = v.to_string();
                }
            }
            segs.push(f.join("|"));
        } else {
            segs.push(line);
        }
    }
    let mut msg = segs.join("\r");
    msg.push('\r');
    msg
}

/// An ACK accepts when MSA-1 is AA or CA.
pub fn ack_accepts(ack: &str) -> Result<(), String> {
    let msa = ack
        .split(['\r', '\n'])
        .find(|s| s.starts_with("MSA|"))
        .ok_or_else(|| "no MSA segment in the ACK".to_string())?;
    match msa.split('|').nth(1) {
        Some("AA") | Some("CA") => Ok(()),
        other => Err(format!("ACK {}: {msa}", other.unwrap_or("?"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::parse;

    #[test]
    fn feed_message_fills_msh_and_pid() {
        let t = "MSH|^~\\&|EPICADT|DH|LABADT|DH|201301011226||ADT^A01|HL7MSG00001|P|2.3|\nPID|||$pid$||APPLESEED^JOHN\n";
        let m = patient_feed_message(t, "P1^^^&1.2&ISO", "APP", "FAC", "20260101", "C1");
        let segs: Vec<&str> = m.split('\r').collect();
        assert_eq!(
            segs[0],
            "MSH|^~\\&|EPICADT|DH|APP|FAC|20260101||ADT^A01|C1|P|2.3|"
        );
        assert_eq!(segs[1], "PID|||P1^^^&1.2&ISO||APPLESEED^JOHN");
        assert!(ack_accepts("MSH|^~\\&|x\rMSA|AA|C1\r").is_ok());
        assert!(ack_accepts("MSH|^~\\&|x\rMSA|AE|C1\r").is_err());
    }

    #[test]
    fn interprets_retrieve_response() {
        let body = parse(r#"<xdsb:RetrieveDocumentSetResponse xmlns:xdsb="urn:ihe:iti:xds-b:2007" xmlns:rs="urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0">
          <rs:RegistryResponse status="urn:ihe:iti:2007:ResponseStatusType:PartialSuccess"><rs:RegistryErrorList>
          <rs:RegistryError errorCode="XDSDocumentUniqueIdError" codeContext="1.2.9 unknown" severity="urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error"/></rs:RegistryErrorList></rs:RegistryResponse>
          <xdsb:DocumentResponse><xdsb:RepositoryUniqueId>1.1</xdsb:RepositoryUniqueId><xdsb:DocumentUniqueId>1.2.3</xdsb:DocumentUniqueId>
          <xdsb:mimeType>text/plain</xdsb:mimeType><xdsb:Document>aGk=</xdsb:Document></xdsb:DocumentResponse></xdsb:RetrieveDocumentSetResponse>"#).unwrap();
        let i = interpret(&body);
        assert_eq!(i.status.as_deref(), Some("PartialSuccess"));
        assert_eq!(i.errors[0].code, "XDSDocumentUniqueIdError");
        assert_eq!(i.documents[0].bytes, Ok(b"hi".to_vec()));
    }
}

//! Calls as a foreign contact point (the dev PKI's `foreign-se` certificate, with an HCP and a
//! TRC assertion signed by Sweden's test issuer) or as a national client, and the eHDSI queries
//! and retrievals the gateway tests make.

use super::answer::{self, SUCCESS};
use super::meta::{self, Doc};
use super::xdsb::{self, Content};
use super::TestNode;
use ncpeh::ids::action::{PROVIDE_AND_REGISTER, RETRIEVE, STORED_QUERY, XC_QUERY, XC_RETRIEVE};
use ncpeh::registry::query as sq;
use ncpeh::transport::client::SoapResponse;
use ncpeh::xds::ids;

pub const HOME: &str = "urn:oid:2.16.578.1.12.4.5.10.1";
pub const REPO: &str = "2.16.578.1.12.4.5.10.1.1";
pub const APPROVED: &str = "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')";
/// The national client certificate (C=NO) and a foreign contact point's (C=SE).
pub const NATIONAL: &str = "client";
pub const FOREIGN: &str = "foreign-se";

pub fn uuid() -> String {
    format!("urn:uuid:{}", uuid::Uuid::new_v4())
}

/// Sweden's contact point asking about `pid`.
pub fn foreign(pid: &str) -> String {
    format!("{FOREIGN}|{pid}")
}

/// A call as `who` (`client`, or `foreign-se|PID` with assertions for that patient).
pub async fn call_as(
    node: &TestNode,
    who: &str,
    path: &str,
    action: &str,
    body: &str,
) -> SoapResponse {
    let (cert, patient) = match who.split_once('|') {
        Some((c, p)) => (c, Some(p)),
        None => (who, None),
    };
    let security = (cert == FOREIGN).then(|| super::ehdsi_security(&node.pki, patient));
    node.call_as(cert, path, action, body, security.as_deref())
        .await
}

/// One ITI-41 with these objects and document contents; it must succeed.
pub async fn provide(node: &TestNode, objects: &[String], contents: &[(&str, Content<'_>)]) {
    let body = xdsb::pnr_body(&meta::submit(objects), contents);
    let r = node
        .call("/xds/repository", PROVIDE_AND_REGISTER, &body)
        .await;
    let errors = answer::error_codes(&r.body);
    assert_eq!(answer::status(&r.body), SUCCESS, "{errors:?}");
}

/// A SubmissionSet holding `docs` as Original members.
pub fn set_of(ss: &str, pid: &str, docs: &[&Doc]) -> Vec<String> {
    let mut objs = vec![meta::submission_set(ss, pid, &meta::new_uid())];
    for d in docs {
        objs.push(d.xml());
        objs.push(meta::assoc(
            &uuid(),
            ids::HAS_MEMBER,
            ss,
            &d.id,
            Some("Original"),
        ));
    }
    objs
}

pub fn with_home(q: String) -> String {
    q.replacen(
        "<rim:AdhocQuery id=",
        &format!("<rim:AdhocQuery home=\"{HOME}\" id="),
        1,
    )
}

/// FindDocuments (LeafClass) for `pid`, Approved, with more parameters.
pub fn find_docs(pid: &str, extra: &[(&str, &str)]) -> String {
    let pid = format!("'{pid}'");
    let mut params = vec![
        ("$XDSDocumentEntryPatientId", pid.as_str()),
        ("$XDSDocumentEntryStatus", APPROVED),
    ];
    params.extend_from_slice(extra);
    with_home(meta::query(sq::FIND_DOCUMENTS, true, &params))
}

/// A stored query over ITI-18 or ITI-38; the whole answer.
pub async fn query(node: &TestNode, who: &str, path: &str, q: &str) -> SoapResponse {
    let action = if path == "/xca" {
        XC_QUERY
    } else {
        STORED_QUERY
    };
    call_as(node, who, path, action, q).await
}

/// Retrieves documents by uniqueId over ITI-43 or ITI-39: (uniqueId, mimeType, bytes) of each
/// one returned, and the whole answer.
pub async fn retrieve(
    node: &TestNode,
    who: &str,
    path: &str,
    uids: &[String],
) -> (Vec<(String, String, bytes::Bytes)>, SoapResponse) {
    let requests: String = uids
        .iter()
        .map(|uid| format!("<xdsb:DocumentRequest><xdsb:HomeCommunityId>{HOME}</xdsb:HomeCommunityId><xdsb:RepositoryUniqueId>{REPO}</xdsb:RepositoryUniqueId><xdsb:DocumentUniqueId>{uid}</xdsb:DocumentUniqueId></xdsb:DocumentRequest>"))
        .collect();
    let body = format!(
        "<xdsb:RetrieveDocumentSetRequest xmlns:xdsb=\"{}\">{requests}</xdsb:RetrieveDocumentSetRequest>",
        xdsb::XDSB
    );
    let action = if path == "/xca" {
        XC_RETRIEVE
    } else {
        RETRIEVE
    };
    let r = call_as(node, who, path, action, &body).await;
    (xdsb::documents(&r), r)
}

/// A patient with a fødselsnummer (the eHDSI path serves only those), in the index: the
/// fødselsnummer and the CX.
pub fn fnr_patient(node: &TestNode) -> (String, String) {
    let digits: String = uuid::Uuid::new_v4()
        .as_u128()
        .to_string()
        .chars()
        .take(11)
        .collect();
    let pid = format!("{digits}^^^&2.16.578.1.12.4.1.4.1&ISO");
    node.add_patient_with(&pid, "Nordmann", "Kari", Some("19460121"), Some("F"));
    (digits, pid)
}

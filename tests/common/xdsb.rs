//! Builds ITI-41/ITI-43 requests (MTOM and plain) and reads their answers.

use super::TestNode;
use base64::Engine;
use bytes::Bytes;
use hyper::Method;
use ncpeh::soap::envelope::encode_request;
use ncpeh::transport::client::{decode_soap_reply, SoapResponse};
use ncpeh::xml::Element;

pub const XDSB: &str = "urn:ihe:iti:xds-b:2007";
pub const XOP: &str = "http://www.w3.org/2004/08/xop/include";
pub const PROVIDE: &str = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b";
pub const RETRIEVE: &str = "urn:ihe:iti:2007:RetrieveDocumentSet";
pub const PARTIAL: &str = "urn:ihe:iti:2007:ResponseStatusType:PartialSuccess";
pub const REPO_UID: &str = "2.16.578.1.12.4.5.10.1.1";
pub const BOUNDARY: &str = "MIMEBoundary_test_4f2a";

/// How one xdsb:Document carries its bytes.
pub enum Content<'a> {
    /// An xop:Include of this Content-ID (the part is added by `mtom_body`).
    Cid(&'a str),
    Inline(&'a [u8]),
}

/// `xdsb:ProvideAndRegisterDocumentSetRequest` around a SubmitObjectsRequest.
pub fn pnr_body(submit_objects: &str, docs: &[(&str, Content)]) -> String {
    let mut s = format!(
        "<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb=\"{XDSB}\">{submit_objects}"
    );
    for (id, c) in docs {
        match c {
            Content::Cid(cid) => s.push_str(&format!(
                "<xdsb:Document id=\"{id}\"><xop:Include xmlns:xop=\"{XOP}\" href=\"cid:{cid}\"/></xdsb:Document>"
            )),
            Content::Inline(b) => s.push_str(&format!(
                "<xdsb:Document id=\"{id}\">{}</xdsb:Document>",
                base64::engine::general_purpose::STANDARD.encode(b)
            )),
        }
    }
    s.push_str("</xdsb:ProvideAndRegisterDocumentSetRequest>");
    s
}

pub fn retrieve_body(reqs: &[(&str, &str)]) -> String {
    let mut s = format!("<xdsb:RetrieveDocumentSetRequest xmlns:xdsb=\"{XDSB}\">");
    for (repo, doc) in reqs {
        s.push_str(&format!(
            "<xdsb:DocumentRequest><xdsb:RepositoryUniqueId>{repo}</xdsb:RepositoryUniqueId><xdsb:DocumentUniqueId>{doc}</xdsb:DocumentUniqueId></xdsb:DocumentRequest>"
        ));
    }
    s.push_str("</xdsb:RetrieveDocumentSetRequest>");
    s
}

pub fn envelope(node: &TestNode, action: &str, body: &str) -> String {
    let id = format!("urn:uuid:{}", uuid::Uuid::new_v4());
    encode_request(action, &node.url("/xds/repository"), &id, body)
}

/// The Content-Type and body chunks of an MTOM request; the parts are not copied.
pub fn mtom_body(
    action: &str,
    envelope: String,
    parts: Vec<(String, Bytes)>,
) -> (String, Vec<Bytes>) {
    let ct = format!(
        "multipart/related; boundary={BOUNDARY}; type=\"application/xop+xml\"; start=\"<root@test>\"; start-info=\"application/soap+xml\"; action=\"{action}\""
    );
    let mut chunks = vec![Bytes::from(format!(
        "--{BOUNDARY}\r\nContent-Type: application/xop+xml; charset=UTF-8; type=\"application/soap+xml\"\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <root@test>\r\n\r\n"
    ))];
    chunks.push(Bytes::from(envelope));
    for (cid, data) in parts {
        chunks.push(Bytes::from(format!(
            "\r\n--{BOUNDARY}\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <{cid}>\r\n\r\n"
        )));
        chunks.push(data);
    }
    chunks.push(Bytes::from(format!("\r\n--{BOUNDARY}--\r\n")));
    (ct, chunks)
}

/// Posts raw chunks to the repository and returns (HTTP status, raw reply).
pub async fn post(
    node: &TestNode,
    ct: &str,
    chunks: Vec<Bytes>,
) -> ncpeh::transport::client::HttpReply {
    node.client()
        .request(Method::POST, &node.url("/xds/repository"), Some(ct), chunks)
        .await
        .expect("HTTP exchange")
}

/// ITI-41 over MTOM with the given parts.
pub async fn provide_mtom(
    node: &TestNode,
    body: &str,
    parts: Vec<(String, Bytes)>,
) -> SoapResponse {
    let (ct, chunks) = mtom_body(PROVIDE, envelope(node, PROVIDE, body), parts);
    decode_soap_reply(post(node, &ct, chunks).await).expect("SOAP answer")
}

/// ITI-43 (sent as MTOM, as real consumers do).
pub async fn retrieve(node: &TestNode, reqs: &[(&str, &str)]) -> SoapResponse {
    let (ct, chunks) = mtom_body(
        RETRIEVE,
        envelope(node, RETRIEVE, &retrieve_body(reqs)),
        vec![],
    );
    decode_soap_reply(post(node, &ct, chunks).await).expect("SOAP answer")
}

/// (DocumentUniqueId, mimeType, bytes) of each DocumentResponse, resolving xop:Include.
pub fn documents(resp: &SoapResponse) -> Vec<(String, String, Bytes)> {
    resp.body
        .children_named(XDSB, "DocumentResponse")
        .map(|d| {
            let t = |n: &str| {
                d.child(XDSB, n)
                    .map(|e| e.text().into_owned())
                    .unwrap_or_default()
            };
            let doc = d.child(XDSB, "Document").expect("Document");
            let data = match doc.child(XOP, "Include") {
                Some(inc) => {
                    let cid = ncpeh::soap::mtom::strip_cid(inc.attr("href").unwrap_or_default());
                    resp.parts
                        .get(&cid)
                        .expect("attachment for xop:Include")
                        .body
                        .clone()
                }
                None => Bytes::from(
                    base64::engine::general_purpose::STANDARD
                        .decode(doc.text().trim())
                        .expect("base64"),
                ),
            };
            (t("DocumentUniqueId"), t("mimeType"), data)
        })
        .collect()
}

/// The RegistryResponse inside a RetrieveDocumentSetResponse.
pub fn registry_response(body: &Element) -> &Element {
    body.child(super::answer::RS, "RegistryResponse")
        .expect("rs:RegistryResponse")
}

/// A copy of the answer with each xop:Include replaced by the base64 of its part, so it can
/// be checked against the XDS.b schema (which types Document as base64Binary).
pub fn inlined(resp: &SoapResponse) -> Element {
    let mut body = resp.body.clone();
    for n in body.children.iter_mut() {
        let ncpeh::xml::Node::Element(d) = n else {
            continue;
        };
        for c in d.children.iter_mut() {
            let ncpeh::xml::Node::Element(doc) = c else {
                continue;
            };
            if doc.name != "Document" {
                continue;
            }
            if let Some(inc) = doc.child(XOP, "Include") {
                let cid = ncpeh::soap::mtom::strip_cid(inc.attr("href").unwrap_or_default());
                let data = &resp.parts[&cid].body;
                doc.children = vec![ncpeh::xml::Node::Text(
                    base64::engine::general_purpose::STANDARD.encode(data),
                )];
            }
        }
    }
    body
}

/// FindDocuments (Approved) for a patient: the uniqueIds found.
pub async fn find_documents(node: &TestNode, pid: &str) -> Vec<String> {
    let q = super::meta::query(
        ncpeh::registry::query::FIND_DOCUMENTS,
        true,
        &[
            ("$XDSDocumentEntryPatientId", &format!("'{pid}'")),
            (
                "$XDSDocumentEntryStatus",
                "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')",
            ),
        ],
    );
    let r = node
        .call("/xds/registry", "urn:ihe:iti:2007:RegistryStoredQuery", &q)
        .await;
    assert_eq!(
        super::answer::status(&r.body),
        super::answer::SUCCESS,
        "query failed: {:?}",
        super::answer::error_codes(&r.body)
    );
    super::answer::unique_ids(&r.body)
}

/// A DocumentEntry for ITI-41: the repository fills hash, size and repositoryUniqueId.
pub fn doc(id: &str, pid: &str, mime: &str) -> super::meta::Doc {
    let mut d = super::meta::Doc::new(id, pid);
    d.mime = mime.to_string();
    d.omit = vec!["hash", "size", "repositoryUniqueId"];
    d
}

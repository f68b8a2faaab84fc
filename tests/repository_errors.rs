//! ITI-41 refusals: size/hash mismatch (NIST 12369), missing document or metadata, a registry
//! error, a truncated MTOM body and a part without Content-ID. Nothing may be stored.

mod common;
use bytes::Bytes;
use common::xdsb::{self, Content, BOUNDARY, PROVIDE, REPO_UID};
use common::{answer, meta, schema, TestNode};
use ncpeh::transport::client::decode_soap_reply;

/// Neither the registry nor the repository has the document.
async fn assert_nothing_stored(node: &TestNode, pid: &str, uid: &str) {
    assert!(
        xdsb::find_documents(node, pid).await.is_empty(),
        "no DocumentEntry may be registered"
    );
    let r = xdsb::retrieve(node, &[(REPO_UID, uid)]).await;
    let rr = xdsb::registry_response(&r.body);
    assert_eq!(answer::status(rr), answer::FAILURE);
    assert_eq!(answer::error_codes(rr), vec!["XDSDocumentUniqueIdError"]);
    assert!(r.parts.is_empty());
}

async fn provide_one(node: &TestNode, d: &meta::Doc, data: &[u8]) -> Vec<String> {
    let body = xdsb::pnr_body(
        &meta::simple_submission(&d.pid, std::slice::from_ref(d)),
        &[(&d.id, Content::Cid("d@test"))],
    );
    let r = xdsb::provide_mtom(
        node,
        &body,
        vec![("d@test".into(), Bytes::copy_from_slice(data))],
    )
    .await;
    assert_eq!(answer::status(&r.body), answer::FAILURE);
    schema::validate(&schema::to_xml(&r.body), "rs.xsd").expect("schema-valid RegistryResponse");
    answer::error_codes(&r.body)
}

#[tokio::test]
async fn wrong_hash_or_size_is_a_repository_metadata_error() {
    let node = TestNode::start();
    let pid = common::new_pid();
    node.add_patient(&pid);
    let data = b"my document\n";

    let mut d = xdsb::doc("Document01", &pid, "text/plain");
    d.omit = vec!["size", "repositoryUniqueId"];
    d.hash = "0123456789abcdef0123456789abcdef01234567".into();
    assert_eq!(
        provide_one(&node, &d, data).await,
        vec!["XDSRepositoryMetadataError"]
    );
    assert_nothing_stored(&node, &pid, &d.uid).await;

    let mut d = xdsb::doc("Document01", &pid, "text/plain");
    d.omit = vec!["hash", "repositoryUniqueId"];
    d.size = (data.len() + 1).to_string();
    assert_eq!(
        provide_one(&node, &d, data).await,
        vec!["XDSRepositoryMetadataError"]
    );
    assert_nothing_stored(&node, &pid, &d.uid).await;
}

#[tokio::test]
async fn missing_document_or_metadata_and_registry_errors_store_nothing() {
    let node = TestNode::start();
    let pid = common::new_pid();
    node.add_patient(&pid);

    // A DocumentEntry without its document.
    let d = xdsb::doc("Document01", &pid, "text/plain");
    let body = xdsb::pnr_body(
        &meta::simple_submission(&pid, std::slice::from_ref(&d)),
        &[],
    );
    let r = node.call("/xds/repository", PROVIDE, &body).await;
    assert_eq!(answer::error_codes(&r.body), vec!["XDSMissingDocument"]);
    assert_nothing_stored(&node, &pid, &d.uid).await;

    // An extra document nobody described.
    let body = xdsb::pnr_body(
        &meta::simple_submission(&pid, std::slice::from_ref(&d)),
        &[
            ("Document01", Content::Inline(b"a")),
            ("Stray", Content::Inline(b"b")),
        ],
    );
    let r = node.call("/xds/repository", PROVIDE, &body).await;
    assert_eq!(
        answer::error_codes(&r.body),
        vec!["XDSMissingDocumentMetadata"]
    );
    assert_nothing_stored(&node, &pid, &d.uid).await;

    // An xop:Include naming a part that is not in the message.
    let body = xdsb::pnr_body(
        &meta::simple_submission(&pid, std::slice::from_ref(&d)),
        &[("Document01", Content::Cid("gone@test"))],
    );
    let r = xdsb::provide_mtom(&node, &body, vec![]).await;
    assert_eq!(answer::error_codes(&r.body), vec!["XDSMissingDocument"]);
    assert_nothing_stored(&node, &pid, &d.uid).await;

    // The registry refuses (unknown patient): the bytes must not be kept either.
    let stranger = common::new_pid();
    let d = xdsb::doc("Document01", &stranger, "text/plain");
    let body = xdsb::pnr_body(
        &meta::simple_submission(&stranger, std::slice::from_ref(&d)),
        &[("Document01", Content::Inline(b"x"))],
    );
    let r = node.call("/xds/repository", PROVIDE, &body).await;
    assert_eq!(answer::status(&r.body), answer::FAILURE);
    assert_eq!(answer::error_codes(&r.body), vec!["XDSUnknownPatientId"]);
    assert_nothing_stored(&node, &stranger, &d.uid).await;
}

#[tokio::test]
async fn truncated_mtom_and_missing_content_id_get_clean_errors() {
    let node = TestNode::start();
    let pid = common::new_pid();
    node.add_patient(&pid);
    let d = xdsb::doc("Document01", &pid, "text/plain");
    let body = xdsb::pnr_body(
        &meta::simple_submission(&pid, std::slice::from_ref(&d)),
        &[("Document01", Content::Cid("d@test"))],
    );
    let data = Bytes::from(vec![b'x'; 200_000]);

    // Truncated in the middle of the document part: no closing boundary.
    let (ct, chunks) = xdsb::mtom_body(
        PROVIDE,
        xdsb::envelope(&node, PROVIDE, &body),
        vec![("d@test".into(), data.clone())],
    );
    let whole: Vec<u8> = chunks.iter().flat_map(|c| c.iter().copied()).collect();
    let cut = Bytes::copy_from_slice(&whole[..whole.len() - 100_000]);
    let reply = xdsb::post(&node, &ct, vec![cut]).await;
    assert_eq!(reply.status, 400);
    let r = decode_soap_reply(reply).expect("a SOAP fault");
    let fault = r.fault.expect("fault");
    assert!(
        fault.contains("env:Sender") && fault.contains("truncated"),
        "{fault}"
    );

    // The document part has no Content-ID.
    let env = xdsb::envelope(&node, PROVIDE, &body);
    let raw = format!(
        "--{BOUNDARY}\r\nContent-Type: application/xop+xml; type=\"application/soap+xml\"\r\nContent-ID: <root@test>\r\n\r\n{env}\r\n--{BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nhello\r\n--{BOUNDARY}--\r\n"
    );
    let reply = xdsb::post(&node, &ct, vec![Bytes::from(raw)]).await;
    assert_eq!(reply.status, 400);
    let r = decode_soap_reply(reply).expect("a SOAP fault");
    let fault = r.fault.expect("fault");
    assert!(fault.contains("Content-ID"), "{fault}");

    assert_nothing_stored(&node, &pid, &d.uid).await;
    // The node still works: the same submission, whole, is accepted.
    let r = xdsb::provide_mtom(&node, &body, vec![("d@test".into(), data)]).await;
    assert_eq!(
        answer::status(&r.body),
        answer::SUCCESS,
        "{:?}",
        answer::error_codes(&r.body)
    );
}

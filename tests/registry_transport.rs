//! mTLS, SOAP faults and limits on the registry endpoint.

mod common;
use common::{meta, TestNode};
use hyper::Method;

#[tokio::test]
async fn refuses_clients_without_or_with_untrusted_certificates() {
    let node = TestNode::start();
    let url = node.url("/xds/registry?wsdl");
    let ok = node
        .client()
        .request(Method::GET, &url, None, vec![])
        .await
        .expect("trusted client");
    assert_eq!(ok.status, 200);
    assert!(String::from_utf8_lossy(&ok.body).contains("DocumentRegistry_Service"));
    let none = node
        .client_as(None)
        .request(Method::GET, &url, None, vec![])
        .await;
    assert!(
        none.is_err(),
        "a client without certificate must be refused: {none:?}"
    );
    let untrusted = node
        .client_as(Some("untrusted"))
        .request(Method::GET, &url, None, vec![])
        .await;
    assert!(
        untrusted.is_err(),
        "a client with untrusted.pem must be refused: {untrusted:?}"
    );
    // The foreign (SE) certificate chains to the same dev CA, so it is accepted at TLS level.
    let se = node
        .client_as(Some("foreign-se"))
        .request(Method::GET, &url, None, vec![])
        .await;
    assert!(se.is_ok());
}

async fn post_raw(node: &TestNode, path: &str, ct: &str, body: Vec<u8>) -> (u16, String) {
    let r = node
        .client()
        .request(Method::POST, &node.url(path), Some(ct), vec![body.into()])
        .await
        .expect("HTTP exchange");
    (r.status, String::from_utf8_lossy(&r.body).into_owned())
}

const SOAP_CT: &str = "application/soap+xml; charset=UTF-8";

#[tokio::test]
async fn malformed_doctype_soap11_and_wrong_action_get_faults() {
    let node = TestNode::start();
    let (s, b) = post_raw(
        &node,
        "/xds/registry",
        SOAP_CT,
        b"<env:Envelope xmlns:env=\"http://www.w3.org/2003/05/soap-envelope\"><env:Body>".to_vec(),
    )
    .await;
    assert_eq!(s, 400);
    assert!(b.contains("env:Sender") && b.contains("malformed"), "{b}");

    let doctype = br#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]><env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body>&b;</env:Body></env:Envelope>"#;
    let (s, b) = post_raw(&node, "/xds/registry", SOAP_CT, doctype.to_vec()).await;
    assert_eq!(s, 400);
    assert!(b.contains("DOCTYPE"), "{b}");

    let soap11 = br#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>"#;
    let (s, b) = post_raw(
        &node,
        "/xds/registry",
        "text/xml; charset=UTF-8",
        soap11.to_vec(),
    )
    .await;
    assert_eq!(s, 400);
    assert!(b.contains("env:VersionMismatch"), "{b}");
    let (_, b) = post_raw(&node, "/xds/registry", SOAP_CT, soap11.to_vec()).await;
    assert!(b.contains("env:VersionMismatch"), "{b}");

    let r = node
        .call(
            "/xds/registry",
            "urn:ihe:iti:2007:RetrieveDocumentSet",
            "<x xmlns=\"urn:x\"/>",
        )
        .await;
    assert!(
        r.fault
            .as_deref()
            .unwrap_or_default()
            .contains("ActionNotSupported"),
        "{:?}",
        r.fault
    );

    let r = node
        .call(
            "/xds/nowhere",
            "urn:ihe:iti:2007:RegistryStoredQuery",
            "<x xmlns=\"urn:x\"/>",
        )
        .await;
    assert_eq!(r.http_status, 404);
    assert!(r.fault.is_some());

    let (s, _) = post_raw(&node, "/xds/registry", "application/json", b"{}".to_vec()).await;
    assert_eq!(s, 415);
}

#[tokio::test]
async fn hundred_mib_body_is_refused_cleanly() {
    let node = TestNode::start();
    // Declared length over the limit: refused before reading.
    let big = vec![b'a'; 100 * 1024 * 1024];
    let r = node
        .client()
        .request(
            Method::POST,
            &node.url("/xds/registry"),
            Some(SOAP_CT),
            vec![big.into()],
        )
        .await;
    match r {
        Ok(r) => assert_eq!(r.status, 413),
        // The server may close while the client is still sending; that is a clean refusal too.
        Err(e) => eprintln!("connection closed during upload (accepted as refusal): {e}"),
    }
    // The node is still healthy and answers.
    let q = meta::query(
        ncpeh::registry::query::GET_DOCUMENTS,
        true,
        &[("$XDSDocumentEntryEntryUUID", "('urn:uuid:0')")],
    );
    let r = node
        .call("/xds/registry", "urn:ihe:iti:2007:RegistryStoredQuery", &q)
        .await;
    assert_eq!(common::answer::status(&r.body), common::answer::SUCCESS);
}

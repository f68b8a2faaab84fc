//! ITI-43: several documents, PartialSuccess, unknown document and repository ids.

mod common;
use common::xdsb::{self, Content, PARTIAL, REPO_UID};
use common::{answer, meta, schema, TestNode};

#[tokio::test]
async fn partial_success_with_unknown_document_and_repository() {
    let node = TestNode::start();
    let pid = common::new_pid();
    node.add_patient(&pid);
    let a = xdsb::doc("DocA", &pid, "text/xml");
    let b = xdsb::doc("DocB", &pid, "application/pdf");
    let body = xdsb::pnr_body(
        &meta::simple_submission(&pid, &[a.clone(), b.clone()]),
        &[
            ("DocA", Content::Inline(b"<a/>")),
            ("DocB", Content::Inline(b"%PDF-1.4 b")),
        ],
    );
    let r = node.call("/xds/repository", xdsb::PROVIDE, &body).await;
    assert_eq!(
        answer::status(&r.body),
        answer::SUCCESS,
        "{:?}",
        answer::error_codes(&r.body)
    );

    let unknown = meta::new_uid();
    let r = xdsb::retrieve(
        &node,
        &[
            (REPO_UID, &a.uid),
            (REPO_UID, &unknown),
            ("1.2.3.4.5", &b.uid),
            (REPO_UID, &b.uid),
        ],
    )
    .await;
    let rr = xdsb::registry_response(&r.body);
    assert_eq!(answer::status(rr), PARTIAL);
    let mut codes = answer::error_codes(rr);
    codes.sort();
    assert_eq!(
        codes,
        vec!["XDSDocumentUniqueIdError", "XDSUnknownRepositoryId"]
    );
    let locations: Vec<String> = rr
        .child(answer::RS, "RegistryErrorList")
        .map(|l| {
            l.elements()
                .filter_map(|e| e.attr("location").map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    assert!(
        locations.contains(&unknown),
        "the error names the unknown document: {locations:?}"
    );
    let docs = xdsb::documents(&r);
    assert_eq!(docs.len(), 2);
    assert_eq!(
        (docs[0].0.as_str(), docs[0].1.as_str(), &docs[0].2[..]),
        (a.uid.as_str(), "text/xml", &b"<a/>"[..])
    );
    assert_eq!(
        (docs[1].0.as_str(), docs[1].1.as_str(), &docs[1].2[..]),
        (b.uid.as_str(), "application/pdf", &b"%PDF-1.4 b"[..])
    );
    schema::validate(&schema::to_xml(&xdsb::inlined(&r)), schema::XDSB_XSD)
        .expect("schema-valid answer");

    // Nothing found at all: Failure, no DocumentResponse.
    let r = xdsb::retrieve(&node, &[("1.2.3.4.5", &a.uid)]).await;
    let rr = xdsb::registry_response(&r.body);
    assert_eq!(answer::status(rr), answer::FAILURE);
    assert_eq!(answer::error_codes(rr), vec!["XDSUnknownRepositoryId"]);
    assert!(xdsb::documents(&r).is_empty());
    schema::validate(&schema::to_xml(&r.body), schema::XDSB_XSD).expect("schema-valid answer");

    // A plain (non-MTOM) request gets its document too.
    let env_body = xdsb::retrieve_body(&[(REPO_UID, &a.uid)]);
    let r = node
        .call("/xds/repository", xdsb::RETRIEVE, &env_body)
        .await;
    assert_eq!(
        answer::status(xdsb::registry_response(&r.body)),
        answer::SUCCESS
    );
    assert_eq!(&xdsb::documents(&r)[0].2[..], b"<a/>");
}

#[tokio::test]
async fn answer_size_limit_returns_what_fits() {
    let node = TestNode::start_with("[repository]\nmax_retrieve_bytes = 10\n");
    let pid = common::new_pid();
    node.add_patient(&pid);
    let a = xdsb::doc("DocA", &pid, "text/plain");
    let b = xdsb::doc("DocB", &pid, "text/plain");
    let body = xdsb::pnr_body(
        &meta::simple_submission(&pid, &[a.clone(), b.clone()]),
        &[
            ("DocA", Content::Inline(b"12345678")),
            ("DocB", Content::Inline(b"abcdefgh")),
        ],
    );
    let r = node.call("/xds/repository", xdsb::PROVIDE, &body).await;
    assert_eq!(answer::status(&r.body), answer::SUCCESS);
    let r = xdsb::retrieve(&node, &[(REPO_UID, &a.uid), (REPO_UID, &b.uid)]).await;
    let rr = xdsb::registry_response(&r.body);
    assert_eq!(answer::status(rr), PARTIAL);
    assert_eq!(answer::error_codes(rr), vec!["XDSRepositoryError"]);
    let docs = xdsb::documents(&r);
    assert_eq!(docs.len(), 1);
    assert_eq!(
        (docs[0].0.as_str(), &docs[0].2[..]),
        (a.uid.as_str(), &b"12345678"[..]),
        "the first requested document fits"
    );
}

//! ITI-41 over MTOM and with inline base64, then ITI-43 of both documents.

mod common;
use bytes::Bytes;
use common::xdsb::{self, Content, REPO_UID};
use common::{answer, meta, schema, TestNode};
use ncpeh::xds::ids;

#[tokio::test]
async fn mtom_and_inline_provide_then_retrieve_identical_bytes() {
    let node = TestNode::start();
    let pid = common::new_pid();
    node.add_patient(&pid);

    // MTOM: the document travels as a binary part, referenced by xop:Include.
    let pdf: Vec<u8> = (0..=255u8).cycle().take(70_001).collect();
    let d1 = xdsb::doc("Document01", &pid, "application/pdf");
    let body = xdsb::pnr_body(
        &meta::simple_submission(&pid, std::slice::from_ref(&d1)),
        &[("Document01", Content::Cid("doc1@test"))],
    );
    let r = xdsb::provide_mtom(
        &node,
        &body,
        vec![("doc1@test".into(), Bytes::from(pdf.clone()))],
    )
    .await;
    assert_eq!(
        answer::status(&r.body),
        answer::SUCCESS,
        "{:?}",
        answer::error_codes(&r.body)
    );
    assert_eq!(
        r.action.as_deref(),
        Some("urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bResponse")
    );
    schema::validate(&schema::to_xml(&r.body), "rs.xsd").expect("RegistryResponse is schema-valid");

    // Plain SOAP 1.2 with inline base64, and a submitter-supplied hash and size that match.
    let text = "Epikrise for Kari Testesen\nÆØÅ æøå\n".as_bytes().to_vec();
    let mut d2 = xdsb::doc("Document02", &pid, "text/plain");
    d2.omit = vec!["repositoryUniqueId"];
    d2.hash = sha1_hex(&text).to_uppercase();
    d2.size = text.len().to_string();
    let body = xdsb::pnr_body(
        &meta::simple_submission(&pid, std::slice::from_ref(&d2)),
        &[("Document02", Content::Inline(&text))],
    );
    let r = node.call("/xds/repository", xdsb::PROVIDE, &body).await;
    assert_eq!(
        answer::status(&r.body),
        answer::SUCCESS,
        "{:?}",
        answer::error_codes(&r.body)
    );

    // The registry holds the repository's hash, size and repositoryUniqueId.
    let q = meta::query(
        ncpeh::registry::query::GET_DOCUMENTS,
        true,
        &[(
            "$XDSDocumentEntryUniqueId",
            &format!("('{}','{}')", d1.uid, d2.uid),
        )],
    );
    let q = node
        .call("/xds/registry", "urn:ihe:iti:2007:RegistryStoredQuery", &q)
        .await;
    let list = q
        .body
        .child(answer::RIM, "RegistryObjectList")
        .expect("objects");
    let mut seen = 0;
    for eo in list.children_named(answer::RIM, "ExtrinsicObject") {
        let slot = |n: &str| {
            eo.children_named(answer::RIM, "Slot")
                .find(|s| s.attr("name") == Some(n))
                .and_then(|s| s.find(answer::RIM, "Value"))
                .map(|v| v.text())
                .unwrap_or_default()
        };
        let uid = eo
            .children_named(answer::RIM, "ExternalIdentifier")
            .find(|x| x.attr("identificationScheme") == Some(ids::DE_UNIQUE_ID))
            .and_then(|x| x.attr("value"))
            .unwrap_or_default()
            .to_string();
        let bytes = if uid == d1.uid { &pdf } else { &text };
        assert_eq!(slot("hash"), sha1_hex(bytes));
        assert_eq!(slot("size"), bytes.len().to_string());
        assert_eq!(slot("repositoryUniqueId"), REPO_UID);
        seen += 1;
    }
    assert_eq!(seen, 2);

    // Both documents in one ITI-43: MTOM answer, identical bytes, registered mimeTypes.
    let r = xdsb::retrieve(&node, &[(REPO_UID, &d1.uid), (REPO_UID, &d2.uid)]).await;
    let rr = xdsb::registry_response(&r.body);
    assert_eq!(
        answer::status(rr),
        answer::SUCCESS,
        "{:?}",
        answer::error_codes(rr)
    );
    assert_eq!(
        r.action.as_deref(),
        Some("urn:ihe:iti:2007:RetrieveDocumentSetResponse")
    );
    let docs = xdsb::documents(&r);
    assert_eq!(docs.len(), 2);
    for (uid, mime, data) in &docs {
        if *uid == d1.uid {
            assert_eq!(mime, "application/pdf");
            assert_eq!(&data[..], &pdf[..]);
        } else {
            assert_eq!(uid, &d2.uid);
            assert_eq!(mime, "text/plain");
            assert_eq!(&data[..], &text[..]);
        }
    }
    assert_eq!(r.parts.len(), 2, "each document is an MTOM attachment");
    schema::validate(&schema::to_xml(&xdsb::inlined(&r)), schema::XDSB_XSD)
        .expect("RetrieveDocumentSetResponse is schema-valid");
}

#[tokio::test]
async fn wsdl_is_served() {
    let node = TestNode::start();
    let r = node
        .client()
        .request(
            hyper::Method::GET,
            &node.url("/xds/repository?wsdl"),
            None,
            vec![],
        )
        .await
        .expect("GET wsdl");
    assert_eq!(r.status, 200);
    let w = String::from_utf8_lossy(&r.body);
    assert!(
        w.contains("DocumentRepository_Service")
            && w.contains(&format!("{}/xds/repository", node.soap)),
        "{w}"
    );
}

fn sha1_hex(b: &[u8]) -> String {
    use sha1::Digest;
    hex::encode(sha1::Sha1::digest(b))
}

#[tokio::test]
async fn chunk_boundaries_and_empty_document_round_trip() {
    let node = TestNode::start();
    let pid = common::new_pid();
    node.add_patient(&pid);
    let chunk = ncpeh::store::documents::CHUNK_BYTES;
    let sizes = [0usize, 1, chunk - 1, chunk, chunk + 1, 3 * chunk];
    let docs: Vec<meta::Doc> = sizes
        .iter()
        .enumerate()
        .map(|(i, _)| xdsb::doc(&format!("Doc{i}"), &pid, "application/octet-stream"))
        .collect();
    let datas: Vec<Bytes> = sizes
        .iter()
        .enumerate()
        .map(|(i, n)| Bytes::from((0..*n).map(|j| (j * 7 + i) as u8).collect::<Vec<u8>>()))
        .collect();
    let cids: Vec<String> = (0..sizes.len()).map(|i| format!("p{i}@test")).collect();
    let refs: Vec<(&str, Content)> = docs
        .iter()
        .zip(&cids)
        .map(|(d, c)| (d.id.as_str(), Content::Cid(c)))
        .collect();
    let body = xdsb::pnr_body(&meta::simple_submission(&pid, &docs), &refs);
    let parts = cids.iter().cloned().zip(datas.iter().cloned()).collect();
    let r = xdsb::provide_mtom(&node, &body, parts).await;
    assert_eq!(
        answer::status(&r.body),
        answer::SUCCESS,
        "{:?}",
        answer::error_codes(&r.body)
    );
    let wanted: Vec<(&str, &str)> = docs.iter().map(|d| (REPO_UID, d.uid.as_str())).collect();
    let r = xdsb::retrieve(&node, &wanted).await;
    assert_eq!(
        answer::status(xdsb::registry_response(&r.body)),
        answer::SUCCESS
    );
    let got = xdsb::documents(&r);
    assert_eq!(got.len(), sizes.len());
    for ((uid, _, data), (d, want)) in got.iter().zip(docs.iter().zip(&datas)) {
        assert_eq!(uid, &d.uid);
        assert!(
            data == want,
            "document {} ({} bytes) differs",
            d.id,
            want.len()
        );
    }
}

//! The XCA initiating gateway in front of two responding ncpeh nodes and one peer that never
//! answers, all on 127.0.0.1 with one dev CA: parallel fan-out, merge with `home`, PartialSuccess
//! naming the silent community after one timeout, retrieve across communities, and certificate
//! subject pinning.

mod common;
use bytes::Bytes;
use common::answer::{self, SUCCESS};
use common::meta;
use common::xdsb::{self, Content};
use common::{init_pki, new_pid, TestNode};
use ncpeh::ids::action::RETRIEVE;
use ncpeh::ids::action::STORED_QUERY;
use ncpeh::registry::query::FIND_DOCUMENTS;
use std::time::{Duration, Instant};

const PARTIAL: &str = "urn:ihe:iti:2007:ResponseStatusType:PartialSuccess";
const SE_SUBJECT: &str = "CN=NCPeH SE dev, O=eHealth Agency SE dev, C=SE";

async fn responding(
    pki: &std::path::Path,
    cert: &str,
    home: &str,
    repo: &str,
    pid: &str,
    content: &[u8],
) -> (TestNode, String) {
    let node = TestNode::start_in_pki(
        pki,
        cert,
        &format!("[node]\nhome_community_id = \"{home}\"\n[repository]\nunique_id = \"{repo}\"\n"),
    );
    node.add_patient(pid);
    let doc = xdsb::doc("Doc1", pid, "text/plain");
    let body = xdsb::pnr_body(
        &meta::simple_submission(pid, std::slice::from_ref(&doc)),
        &[("Doc1", Content::Cid("d1@test"))],
    );
    let r = xdsb::provide_mtom(
        &node,
        &body,
        vec![("d1@test".into(), Bytes::copy_from_slice(content))],
    )
    .await;
    assert_eq!(
        answer::status(&r.body),
        SUCCESS,
        "{:?}",
        answer::error_codes(&r.body)
    );
    (node, doc.uid)
}

#[tokio::test]
async fn fans_out_merges_and_survives_a_silent_peer() {
    let pki_dir = tempfile::tempdir().unwrap();
    let pki = pki_dir.path().join("pki");
    init_pki(&pki);
    let pid = new_pid();
    let (no, no_uid) = responding(
        &pki,
        "server",
        "urn:oid:1.1",
        "1.1.1",
        &pid,
        b"norsk dokument",
    )
    .await;
    let (se, se_uid) = responding(
        &pki,
        "foreign-se",
        "urn:oid:2.2",
        "2.2.2",
        &pid,
        b"svenskt dokument",
    )
    .await;
    let silent_addr = common::silent_peer().await;
    let peers = format!(
        "[gateway]\npeer_timeout_secs = 2\n\
         [[peers]]\nhome_community_id = \"urn:oid:1.1\"\ncountry = \"NO\"\nxca_url = \"{}/xca\"\n\
         [[peers]]\nhome_community_id = \"urn:oid:2.2\"\ncountry = \"SE\"\nxca_url = \"{}/xca\"\nexpected_subject = \"{SE_SUBJECT}\"\n\
         [[peers]]\nhome_community_id = \"urn:oid:3.3\"\ncountry = \"DK\"\nxca_url = \"https://{silent_addr}/xca\"\n",
        no.soap, se.soap
    );
    let ig = TestNode::start_in_pki(&pki, "server", &peers);
    let q = meta::query(
        FIND_DOCUMENTS,
        true,
        &[
            ("$XDSDocumentEntryPatientId", &format!("'{pid}'")),
            (
                "$XDSDocumentEntryStatus",
                "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')",
            ),
        ],
    );
    let t = Instant::now();
    let r = ig.call("/xca/initiating", STORED_QUERY, &q).await;
    let took = t.elapsed();
    assert_eq!(answer::status(&r.body), PARTIAL);
    assert_eq!(
        answer::error_codes(&r.body),
        vec!["XDSUnavailableCommunity".to_string()]
    );
    let err = r.body.find(answer::RS, "RegistryError").unwrap();
    assert_eq!(
        err.attr("location"),
        Some("urn:oid:3.3"),
        "the error names the silent community"
    );
    let mut uids = answer::unique_ids(&r.body);
    uids.sort();
    let mut want = vec![no_uid.clone(), se_uid.clone()];
    want.sort();
    assert_eq!(uids, want);
    let homes: Vec<String> = r
        .body
        .child(answer::RIM, "RegistryObjectList")
        .unwrap()
        .elements()
        .map(|e| e.attr("home").unwrap_or_default().to_string())
        .collect();
    assert!(
        homes.contains(&"urn:oid:1.1".to_string()) && homes.contains(&"urn:oid:2.2".to_string()),
        "{homes:?}"
    );
    assert!(
        took < Duration::from_secs(10),
        "one timeout (2 s), not a hang or a sum: took {took:?}"
    );
    eprintln!("fan-out to 3 peers (one silent, 2 s timeout) answered in {took:?}");

    // Retrieve one document from each answering community in one request.
    let body = format!(
        "<xdsb:RetrieveDocumentSetRequest xmlns:xdsb=\"urn:ihe:iti:xds-b:2007\">\
         <xdsb:DocumentRequest><xdsb:HomeCommunityId>urn:oid:1.1</xdsb:HomeCommunityId><xdsb:RepositoryUniqueId>1.1.1</xdsb:RepositoryUniqueId><xdsb:DocumentUniqueId>{no_uid}</xdsb:DocumentUniqueId></xdsb:DocumentRequest>\
         <xdsb:DocumentRequest><xdsb:HomeCommunityId>urn:oid:2.2</xdsb:HomeCommunityId><xdsb:RepositoryUniqueId>2.2.2</xdsb:RepositoryUniqueId><xdsb:DocumentUniqueId>{se_uid}</xdsb:DocumentUniqueId></xdsb:DocumentRequest>\
         </xdsb:RetrieveDocumentSetRequest>"
    );
    let r = ig.call("/xca/initiating", RETRIEVE, &body).await;
    let docs = xdsb::documents(&r);
    assert_eq!(
        docs.len(),
        2,
        "{:?}",
        answer::error_codes(xdsb::registry_response(&r.body))
    );
    let by_uid = |u: &str| docs.iter().find(|d| d.0 == u).map(|d| d.2.clone()).unwrap();
    assert_eq!(&by_uid(&no_uid)[..], b"norsk dokument");
    assert_eq!(&by_uid(&se_uid)[..], b"svenskt dokument");
    assert_eq!(answer::status(xdsb::registry_response(&r.body)), SUCCESS);
}

#[tokio::test]
async fn a_peer_with_the_wrong_certificate_subject_is_refused() {
    let pki_dir = tempfile::tempdir().unwrap();
    let pki = pki_dir.path().join("pki");
    init_pki(&pki);
    let pid = new_pid();
    // This peer serves with the NO server certificate, but SE's subject is expected.
    let (imposter, _) = responding(&pki, "server", "urn:oid:2.2", "2.2.2", &pid, b"x").await;
    let peers = format!(
        "[[peers]]\nhome_community_id = \"urn:oid:2.2\"\nxca_url = \"{}/xca\"\nexpected_subject = \"{SE_SUBJECT}\"\n",
        imposter.soap
    );
    let ig = TestNode::start_in_pki(&pki, "server", &peers);
    let q = meta::query(
        FIND_DOCUMENTS,
        true,
        &[
            ("$XDSDocumentEntryPatientId", &format!("'{pid}'")),
            (
                "$XDSDocumentEntryStatus",
                "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')",
            ),
        ],
    );
    let r = ig.call("/xca/initiating", STORED_QUERY, &q).await;
    assert_eq!(
        answer::status(&r.body),
        "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure"
    );
    let err = r.body.find(answer::RS, "RegistryError").unwrap();
    assert_eq!(err.attr("errorCode"), Some("XDSUnavailableCommunity"));
    assert!(
        err.attr("codeContext")
            .unwrap_or_default()
            .contains("subject"),
        "{:?}",
        err.attr("codeContext")
    );
    assert_eq!(answer::count(&r.body, "ExtrinsicObject"), 0);
}

#[tokio::test]
async fn xcpd_initiating_merges_answers_and_survives_a_silent_peer() {
    let pki_dir = tempfile::tempdir().unwrap();
    let pki = pki_dir.path().join("pki");
    init_pki(&pki);
    let fnr = "21014605158";
    let pid = format!("{fnr}^^^&2.16.578.1.12.4.1.4.1&ISO");
    let no = TestNode::start_in_pki(
        &pki,
        "server",
        "[node]\nhome_community_id = \"urn:oid:2.16.578.1.12.4.5.10.1\"\n",
    );
    no.add_patient(&pid);
    let silent_addr = common::silent_peer().await;
    let peers = format!(
        "[gateway]\npeer_timeout_secs = 2\n\
         [[peers]]\nhome_community_id = \"urn:oid:2.16.578.1.12.4.5.10.1\"\nxcpd_url = \"{}/xcpd\"\n\
         [[peers]]\nhome_community_id = \"urn:oid:3.3\"\nxcpd_url = \"https://{silent_addr}/xcpd\"\n",
        no.soap
    );
    // The receiver device in the request names NO's community OID; a request for
    // another community goes to every peer.
    let ig = TestNode::start_in_pki(&pki, "server", &peers);
    let action = "urn:hl7-org:v3:PRPA_IN201305UV02:CrossGatewayPatientDiscovery";
    let to_all = common::xcpd_request(fnr).replace(
        "<id root=\"2.16.578.1.12.4.5.10.1\"/>",
        "<id root=\"9.9.9\"/>",
    );
    let t = Instant::now();
    let r = ig.call("/xcpd/initiating", action, &to_all).await;
    let took = t.elapsed();
    let code = r
        .body
        .find("urn:hl7-org:v3", "queryResponseCode")
        .and_then(|c| c.attr("code"));
    assert_eq!(
        code,
        Some("OK"),
        "NO's match comes through although one peer is silent"
    );
    assert!(
        took < Duration::from_secs(10),
        "one timeout, not a hang: {took:?}"
    );
    let only_silent = format!("[gateway]\npeer_timeout_secs = 1\n[[peers]]\nhome_community_id = \"urn:oid:3.3\"\nxcpd_url = \"https://{silent_addr}/xcpd\"\n");
    let ig2 = TestNode::start_in_pki(&pki, "server", &only_silent);
    let r = ig2
        .call("/xcpd/initiating", action, &common::xcpd_request(fnr))
        .await;
    let code = r
        .body
        .find("urn:hl7-org:v3", "queryResponseCode")
        .and_then(|c| c.attr("code"));
    assert_eq!(code, Some("AE"), "no community answered");
    if common::schema::hl7v3_available() {
        common::schema::validate_hl7v3(&common::schema::to_xml(&r.body), "PRPA_IN201306UV02.xsd")
            .expect("AE answer validates");
    }
}

//! ITI-42 Register Document Set-b against the running node.

mod common;
use common::answer::{self, FAILURE, SUCCESS};
use common::meta::{self, Doc};
use common::{new_pid, schema, TestNode};
use ncpeh::ids::action::{REGISTER, STORED_QUERY};
use ncpeh::registry::query::{FIND_DOCUMENTS, FIND_SUBMISSION_SETS, GET_DOCUMENTS};
use ncpeh::xds::ids;

const APPROVED: &str = "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')";
const BOTH: &str = "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved','urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated')";

async fn register(node: &TestNode, body: &str) -> ncpeh::xml::Element {
    let r = node.call("/xds/registry", REGISTER, body).await;
    assert!(r.fault.is_none(), "fault: {:?}", r.fault);
    schema::validate(&schema::to_xml(&r.body), "rs.xsd")
        .expect("RegistryResponse validates against rs.xsd");
    r.body
}

async fn find_docs(node: &TestNode, pid: &str, status: &str) -> ncpeh::xml::Element {
    let q = meta::query(
        FIND_DOCUMENTS,
        true,
        &[
            ("$XDSDocumentEntryPatientId", &format!("'{pid}'")),
            ("$XDSDocumentEntryStatus", status),
        ],
    );
    let r = node.call("/xds/registry", STORED_QUERY, &q).await;
    schema::validate(&schema::to_xml(&r.body), "query.xsd")
        .expect("AdhocQueryResponse validates against query.xsd");
    r.body
}

#[tokio::test]
async fn register_then_find_documents_returns_leafclass_entry() {
    let node = TestNode::start();
    let pid = new_pid();
    node.add_patient(&pid);
    let doc = Doc::new("Document01", &pid);
    let body = register(
        &node,
        &meta::simple_submission(&pid, std::slice::from_ref(&doc)),
    )
    .await;
    assert_eq!(
        answer::status(&body),
        SUCCESS,
        "{:?}",
        answer::error_codes(&body)
    );

    let found = find_docs(&node, &pid, APPROVED).await;
    assert_eq!(answer::status(&found), SUCCESS);
    let objs = answer::objects(&found);
    assert_eq!(objs.len(), 1, "{objs:?}");
    assert_eq!(objs[0].0, "ExtrinsicObject");
    assert!(
        objs[0].1.starts_with("urn:uuid:"),
        "symbolic id replaced by a UUID"
    );
    assert_eq!(
        objs[0].2,
        "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"
    );
    assert_eq!(answer::unique_ids(&found), vec![doc.uid.clone()]);
}

#[tokio::test]
async fn unknown_patient_gets_xds_unknown_patient_id() {
    let node = TestNode::start();
    let pid = new_pid();
    let body = register(
        &node,
        &meta::simple_submission(&pid, &[Doc::new("Document01", &pid)]),
    )
    .await;
    assert_eq!(answer::status(&body), FAILURE);
    assert!(answer::error_codes(&body).contains(&"XDSUnknownPatientId".to_string()));
    assert_eq!(
        answer::objects(&find_docs(&node, &pid, APPROVED).await).len(),
        0
    );
}

#[tokio::test]
async fn one_bad_entry_among_good_ones_stores_nothing() {
    let node = TestNode::start();
    let pid = new_pid();
    node.add_patient(&pid);
    let good1 = Doc::new("Doc1", &pid);
    let good2 = Doc::new("Doc2", &pid);
    let mut bad = Doc::new("Doc3", &pid);
    bad.omit = vec!["repositoryUniqueId"];
    bad.class = (String::new(), String::new());
    let body = register(&node, &meta::simple_submission(&pid, &[good1, bad, good2])).await;
    assert_eq!(answer::status(&body), FAILURE);
    let codes = answer::error_codes(&body);
    assert!(
        codes.iter().all(|c| c == "XDSRegistryMetadataError"),
        "{codes:?}"
    );
    assert_eq!(
        codes.len(),
        2,
        "both problems of the bad entry are reported: {codes:?}"
    );
    assert_eq!(
        answer::objects(&find_docs(&node, &pid, BOTH).await).len(),
        0
    );
    let q = meta::query(
        FIND_SUBMISSION_SETS,
        false,
        &[
            ("$XDSSubmissionSetPatientId", &format!("'{pid}'")),
            ("$XDSSubmissionSetStatus", APPROVED),
        ],
    );
    let r = node.call("/xds/registry", STORED_QUERY, &q).await;
    assert_eq!(
        answer::objects(&r.body).len(),
        0,
        "no SubmissionSet stored either"
    );
}

#[tokio::test]
async fn rplc_deprecates_the_original() {
    let node = TestNode::start();
    let pid = new_pid();
    node.add_patient(&pid);
    let orig = Doc::new("Orig", &pid);
    let body = register(
        &node,
        &meta::simple_submission(&pid, std::slice::from_ref(&orig)),
    )
    .await;
    assert_eq!(answer::status(&body), SUCCESS);
    let found = find_docs(&node, &pid, APPROVED).await;
    let orig_uuid = answer::objects(&found)[0].1.clone();

    let repl = Doc::new("Repl", &pid);
    let objs = vec![
        meta::submission_set("SS2", &pid, &meta::new_uid()),
        repl.xml(),
        meta::assoc("a1", ids::HAS_MEMBER, "SS2", "Repl", Some("Original")),
        meta::assoc("a2", ids::RPLC, "Repl", &orig_uuid, None),
    ];
    let body = register(&node, &meta::submit(&objs)).await;
    assert_eq!(
        answer::status(&body),
        SUCCESS,
        "{:?}",
        answer::error_codes(&body)
    );

    let approved = find_docs(&node, &pid, APPROVED).await;
    assert_eq!(answer::unique_ids(&approved), vec![repl.uid.clone()]);
    let q = meta::query(
        GET_DOCUMENTS,
        true,
        &[("$XDSDocumentEntryEntryUUID", &format!("('{orig_uuid}')"))],
    );
    let r = node.call("/xds/registry", STORED_QUERY, &q).await;
    let objs = answer::objects(&r.body);
    assert_eq!(
        objs[0].2,
        "urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated"
    );

    // Replacing the deprecated original again fails and changes nothing.
    let again = Doc::new("Again", &pid);
    let objs = vec![
        meta::submission_set("SS3", &pid, &meta::new_uid()),
        again.xml(),
        meta::assoc("b1", ids::HAS_MEMBER, "SS3", "Again", Some("Original")),
        meta::assoc("b2", ids::RPLC, "Again", &orig_uuid, None),
    ];
    let body = register(&node, &meta::submit(&objs)).await;
    assert_eq!(answer::status(&body), FAILURE);
    assert_eq!(
        answer::objects(&find_docs(&node, &pid, BOTH).await).len(),
        2
    );
}

#[tokio::test]
async fn patient_mismatch_duplicates_and_hash_conflicts_are_refused() {
    let node = TestNode::start();
    let pid = new_pid();
    let other = new_pid();
    node.add_patient(&pid);
    node.add_patient(&other);

    // DocumentEntry for another patient than the SubmissionSet.
    let d = Doc::new("D", &other);
    let mut objs = vec![meta::submission_set("SS", &pid, &meta::new_uid())];
    objs.push(d.xml());
    objs.push(meta::assoc(
        "a",
        ids::HAS_MEMBER,
        "SS",
        "D",
        Some("Original"),
    ));
    let body = register(&node, &meta::submit(&objs)).await;
    assert!(answer::error_codes(&body).contains(&"XDSPatientIdDoesNotMatch".to_string()));

    // The same uniqueId twice in one message.
    let a = Doc::new("A", &pid);
    let mut b = Doc::new("B", &pid);
    b.uid = a.uid.clone();
    let body = register(&node, &meta::simple_submission(&pid, &[a.clone(), b])).await;
    assert!(
        answer::error_codes(&body).contains(&"XDSRegistryDuplicateUniqueIdInMessage".to_string())
    );

    // Registered once; the same uniqueId with another hash is XDSNonIdenticalHash.
    let body = register(
        &node,
        &meta::simple_submission(&pid, std::slice::from_ref(&a)),
    )
    .await;
    assert_eq!(answer::status(&body), SUCCESS);
    let mut changed = a.clone();
    changed.hash = "0000000000000000000000000000000000000001".into();
    let body = register(&node, &meta::simple_submission(&pid, &[changed])).await;
    assert!(answer::error_codes(&body).contains(&"XDSNonIdenticalHash".to_string()));
}

#[tokio::test]
async fn folders_members_and_last_update_time() {
    let node = TestNode::start();
    let pid = new_pid();
    node.add_patient(&pid);
    let d = Doc::new("D", &pid);
    let objs = vec![
        meta::submission_set("SS", &pid, &meta::new_uid()),
        meta::folder("F", &pid, &meta::new_uid()),
        d.xml(),
        meta::assoc("a1", ids::HAS_MEMBER, "SS", "F", None),
        meta::assoc("a2", ids::HAS_MEMBER, "SS", "D", Some("Original")),
        meta::assoc("a3", ids::HAS_MEMBER, "F", "D", None),
        meta::assoc("a4", ids::HAS_MEMBER, "SS", "a3", None),
    ];
    let body = register(&node, &meta::submit(&objs)).await;
    assert_eq!(
        answer::status(&body),
        SUCCESS,
        "{:?}",
        answer::error_codes(&body)
    );
    let q = meta::query(
        ncpeh::registry::query::FIND_FOLDERS,
        true,
        &[
            ("$XDSFolderPatientId", &format!("'{pid}'")),
            ("$XDSFolderStatus", APPROVED),
        ],
    );
    let r = node.call("/xds/registry", STORED_QUERY, &q).await;
    schema::validate(&schema::to_xml(&r.body), "query.xsd").expect("valid");
    let folder = r
        .body
        .child(answer::RIM, "RegistryObjectList")
        .and_then(|l| l.elements().next())
        .cloned()
        .expect("one folder");
    let lut = folder
        .children_named(answer::RIM, "Slot")
        .find(|s| s.attr("name") == Some("lastUpdateTime"))
        .expect("lastUpdateTime set by the registry");
    assert_eq!(
        lut.find(answer::RIM, "Value").map(|v| v.text().len()),
        Some(14)
    );
}

#[tokio::test]
async fn iti8_feed_makes_the_patient_known() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let node = TestNode::start();
    let id = &uuid::Uuid::new_v4().simple().to_string()[..10];
    let pid = format!("{id}^^^&2.16.578.1.12.4.1.4.1&ISO");
    let msg = format!(
        "MSH|^~\\&|EHR|HF|NCPEH|NO|20240101120000||ADT^A01^ADT_A01|MSG{id}|P|2.3.1\rEVN||20240101120000\rPID|||{id}^^^&2.16.578.1.12.4.1.4.1&ISO||Nordmann^Kari||19800101|F\r"
    );
    let mut s = tokio::net::TcpStream::connect(node.feed.as_deref().expect("feed listener"))
        .await
        .unwrap();
    s.write_all(&[0x0b]).await.unwrap();
    s.write_all(msg.as_bytes()).await.unwrap();
    s.write_all(&[0x1c, 0x0d]).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = s.read(&mut buf).await.unwrap();
    let ack = String::from_utf8_lossy(&buf[..n]);
    assert!(ack.contains("MSA|AA"), "ACK: {ack}");
    let body = register(
        &node,
        &meta::simple_submission(&pid, &[Doc::new("D", &pid)]),
    )
    .await;
    assert_eq!(
        answer::status(&body),
        SUCCESS,
        "{:?}",
        answer::error_codes(&body)
    );
}

#[tokio::test]
async fn strict_code_list_refuses_unknown_codes() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("codes.tsv");
    let doc = Doc::new("D", "x");
    let mut tsv = String::from("# kind\tcode\tcodingScheme\n");
    for (k, (c, s)) in [
        ("classCode", &doc.class),
        ("typeCode", &doc.type_code),
        ("formatCode", &doc.format),
        ("practiceSettingCode", &doc.practice),
        ("healthcareFacilityTypeCode", &doc.facility),
        ("confidentialityCode", &doc.conf[0]),
        (
            "contentTypeCode",
            &("34133-9".to_string(), "2.16.840.1.113883.6.1".to_string()),
        ),
    ] {
        tsv.push_str(&format!("{k}\t{c}\t{s}\n"));
    }
    std::fs::write(&list, tsv).unwrap();
    let node = TestNode::start_with(&format!("[registry]\ncode_list = \"{}\"\n", list.display()));
    let pid = new_pid();
    node.add_patient(&pid);
    let body = register(
        &node,
        &meta::simple_submission(&pid, &[Doc::new("D", &pid)]),
    )
    .await;
    assert_eq!(
        answer::status(&body),
        SUCCESS,
        "{:?}",
        answer::error_codes(&body)
    );
    let mut odd = Doc::new("D", &pid);
    odd.class = ("NOT-IN-LIST".into(), "2.16.840.1.113883.6.1".into());
    let body = register(&node, &meta::simple_submission(&pid, &[odd])).await;
    assert_eq!(answer::status(&body), FAILURE);
    assert_eq!(
        answer::error_codes(&body),
        vec!["XDSRegistryMetadataError".to_string()]
    );
}

#[test]
fn schema_check_is_not_vacuous() {
    if schema::shared().is_none() {
        return;
    }
    let bad = "<rs:RegistryResponse xmlns:rs=\"urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0\"/>";
    assert!(
        schema::validate(bad, "rs.xsd").is_err(),
        "a RegistryResponse without status must not validate"
    );
}

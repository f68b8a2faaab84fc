//! ITI-62 Remove Metadata and ITI-86 Remove Documents over the wire: a removal that would leave
//! the registry inconsistent changes nothing, and a removed document is gone from ITI-18 and
//! ITI-43 as soon as the answer is out.

mod common;
use common::xdsb::{self, Content, PARTIAL, REPO_UID};
use common::{answer, meta, TestNode};
use ncpeh::ebxml::remove::{write_remove_documents, write_remove_objects};
use ncpeh::ebxml::retrieve::DocumentRequest;
use ncpeh::xds::ids;
use ncpeh::xml::Element;

const REMOVE_METADATA: &str = "urn:ihe:iti:2010:DeleteDocumentSet";
const REMOVE_DOCUMENTS: &str = "urn:ihe:iti:2017:RemoveDocuments";

fn uuid() -> String {
    format!("urn:uuid:{}", uuid::Uuid::new_v4())
}

async fn remove_metadata(node: &TestNode, ids: &[&str]) -> Element {
    let r = node
        .call("/xds/registry", REMOVE_METADATA, &write_remove_objects(ids))
        .await;
    assert_eq!(
        r.action.as_deref(),
        Some("urn:ihe:iti:2010:DeleteDocumentSetResponse")
    );
    r.body
}

async fn remove_documents(node: &TestNode, uids: &[(&str, &str)]) -> Element {
    let reqs: Vec<DocumentRequest> = uids
        .iter()
        .map(|(repo, doc)| DocumentRequest {
            home: None,
            repository_uid: repo.to_string(),
            document_uid: doc.to_string(),
        })
        .collect();
    let r = node
        .call(
            "/xds/repository",
            REMOVE_DOCUMENTS,
            &write_remove_documents(&reqs),
        )
        .await;
    assert_eq!(
        r.action.as_deref(),
        Some("urn:ihe:iti:2017:RemoveDocumentsResponse")
    );
    r.body
}

fn codes(body: &Element) -> Vec<String> {
    let mut c = answer::error_codes(body);
    c.sort();
    c.dedup();
    c
}

async fn register(node: &TestNode, objects: &[String]) {
    let r = node
        .call(
            "/xds/registry",
            "urn:ihe:iti:2007:RegisterDocumentSet-b",
            &meta::submit(objects),
        )
        .await;
    assert_eq!(
        answer::status(&r.body),
        answer::SUCCESS,
        "{:?}",
        codes(&r.body)
    );
}

/// The folder membership of a document, by GetFolderAndContents: (documents, associations).
async fn folder_contents(node: &TestNode, folder: &str) -> (usize, usize) {
    let q = meta::query(
        ncpeh::registry::query::GET_FOLDER_AND_CONTENTS,
        true,
        &[("$XDSFolderEntryUUID", &format!("'{folder}'"))],
    );
    let r = node
        .call("/xds/registry", "urn:ihe:iti:2007:RegistryStoredQuery", &q)
        .await;
    (
        answer::count(&r.body, "ExtrinsicObject"),
        answer::count(&r.body, "Association"),
    )
}

#[tokio::test]
async fn a_document_in_a_folder_is_not_removed_alone() {
    let node = TestNode::start();
    let pid = common::new_pid();
    node.add_patient(&pid);
    let (ss, folder, a1, a2, a3) = (uuid(), uuid(), uuid(), uuid(), uuid());
    let d = meta::Doc::new(&uuid(), &pid);
    register(
        &node,
        &[
            meta::submission_set(&ss, &pid, &meta::new_uid()),
            meta::folder(&folder, &pid, &meta::new_uid()),
            d.xml(),
            meta::assoc(&a1, ids::HAS_MEMBER, &ss, &d.id, Some("Original")),
            meta::assoc(&a2, ids::HAS_MEMBER, &ss, &folder, None),
            meta::assoc(&a3, ids::HAS_MEMBER, &folder, &d.id, None),
        ],
    )
    .await;
    assert_eq!(folder_contents(&node, &folder).await, (1, 1));

    // The folder's HasMember would point at nothing.
    let r = remove_metadata(&node, &[&d.id, &a1]).await;
    assert_eq!(answer::status(&r), answer::FAILURE);
    assert_eq!(codes(&r), vec!["ReferencesExistException"]);
    assert_eq!(xdsb::find_documents(&node, &pid).await, vec![d.uid.clone()]);
    assert_eq!(folder_contents(&node, &folder).await, (1, 1));

    // The SubmissionSet alone: its HasMembers would point at nothing.
    let r = remove_metadata(&node, &[&ss]).await;
    assert_eq!(codes(&r), vec!["ReferencesExistException"]);

    // Leaving the folder: the document stays, the folder is empty.
    let r = remove_metadata(&node, &[&a3]).await;
    assert_eq!(answer::status(&r), answer::SUCCESS, "{:?}", codes(&r));
    assert_eq!(folder_contents(&node, &folder).await, (0, 0));
    assert_eq!(xdsb::find_documents(&node, &pid).await, vec![d.uid.clone()]);

    // The SubmissionSet's HasMember alone: the document would lose its last association.
    let r = remove_metadata(&node, &[&a1]).await;
    assert_eq!(codes(&r), vec!["XDSUnreferencedObjectException"]);

    // Everything at once is consistent.
    let r = remove_metadata(&node, &[&ss, &folder, &d.id, &a1, &a2]).await;
    assert_eq!(answer::status(&r), answer::SUCCESS, "{:?}", codes(&r));
    assert!(xdsb::find_documents(&node, &pid).await.is_empty());
}

#[tokio::test]
async fn removed_document_is_gone_from_query_and_retrieve_at_once() {
    let node = TestNode::start();
    let pid = common::new_pid();
    node.add_patient(&pid);
    let (ss, a1, a2) = (uuid(), uuid(), uuid());
    let a = xdsb::doc(&uuid(), &pid, "text/xml");
    let b = xdsb::doc(&uuid(), &pid, "text/plain");
    let objects = [
        meta::submission_set(&ss, &pid, &meta::new_uid()),
        a.xml(),
        b.xml(),
        meta::assoc(&a1, ids::HAS_MEMBER, &ss, &a.id, Some("Original")),
        meta::assoc(&a2, ids::HAS_MEMBER, &ss, &b.id, Some("Original")),
    ];
    let body = xdsb::pnr_body(
        &meta::submit(&objects),
        &[
            (a.id.as_str(), Content::Inline(b"<a/>")),
            (b.id.as_str(), Content::Inline(b"b")),
        ],
    );
    let r = node.call("/xds/repository", xdsb::PROVIDE, &body).await;
    assert_eq!(
        answer::status(&r.body),
        answer::SUCCESS,
        "{:?}",
        codes(&r.body)
    );

    // ITI-62 for document a: ITI-18 no longer finds it.
    let r = remove_metadata(&node, &[&a.id, &a1]).await;
    assert_eq!(answer::status(&r), answer::SUCCESS, "{:?}", codes(&r));
    assert_eq!(xdsb::find_documents(&node, &pid).await, vec![b.uid.clone()]);

    // ITI-86 for a (and an unknown one): PartialSuccess, and ITI-43 no longer returns a.
    let unknown = meta::new_uid();
    let r = remove_documents(&node, &[(REPO_UID, &a.uid), (REPO_UID, &unknown)]).await;
    assert_eq!(answer::status(&r), PARTIAL);
    assert_eq!(codes(&r), vec!["XDSDocumentUniqueIdError"]);
    let r = xdsb::retrieve(&node, &[(REPO_UID, &a.uid), (REPO_UID, &b.uid)]).await;
    let rr = xdsb::registry_response(&r.body);
    assert_eq!(answer::status(rr), PARTIAL);
    assert_eq!(codes(rr), vec!["XDSDocumentUniqueIdError"]);
    let docs = xdsb::documents(&r);
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].0, b.uid);

    // Gone is gone; another repository's id is refused.
    let r = remove_documents(&node, &[(REPO_UID, &a.uid)]).await;
    assert_eq!(answer::status(&r), answer::FAILURE);
    assert_eq!(codes(&r), vec!["XDSDocumentUniqueIdError"]);
    let r = remove_documents(&node, &[("1.2.3.4.5", &b.uid)]).await;
    assert_eq!(codes(&r), vec!["XDSUnknownRepositoryId"]);
    let r = xdsb::retrieve(&node, &[(REPO_UID, &b.uid)]).await;
    assert_eq!(xdsb::documents(&r).len(), 1, "b is still there");

    let first = audit_list(&node)
        .into_iter()
        .find(|r| r["event"] == "ITI-86")
        .expect("an ITI-86 record");
    assert_eq!(first["outcome"], "minor-failure");
    assert_eq!(first["documents"][0], a.uid.as_str());
}

#[tokio::test]
async fn one_unknown_id_removes_nothing() {
    let node = TestNode::start();
    let pid = common::new_pid();
    node.add_patient(&pid);
    let (ss, a1) = (uuid(), uuid());
    let d = meta::Doc::new(&uuid(), &pid);
    register(
        &node,
        &[
            meta::submission_set(&ss, &pid, &meta::new_uid()),
            d.xml(),
            meta::assoc(&a1, ids::HAS_MEMBER, &ss, &d.id, Some("Original")),
        ],
    )
    .await;
    let unknown = uuid();
    let r = remove_metadata(&node, &[&ss, &d.id, &a1, &unknown]).await;
    assert_eq!(answer::status(&r), answer::FAILURE);
    assert_eq!(codes(&r), vec!["UnresolvedReferenceException"]);
    assert_eq!(xdsb::find_documents(&node, &pid).await, vec![d.uid.clone()]);

    // The same without the unknown id goes through.
    let r = remove_metadata(&node, &[&ss, &d.id, &a1]).await;
    assert_eq!(answer::status(&r), answer::SUCCESS, "{:?}", codes(&r));
    assert!(xdsb::find_documents(&node, &pid).await.is_empty());

    // Both are on the audit trail: the refusal with its reason, the removal with what went.
    let removals: Vec<serde_json::Value> = audit_list(&node)
        .into_iter()
        .filter(|r| r["event"] == "ITI-62")
        .collect();
    assert_eq!(removals.len(), 2, "{removals:?}");
    assert_eq!(removals[0]["outcome"], "serious-failure");
    assert_eq!(removals[0]["reason"], "UnresolvedReferenceException");
    assert_eq!(removals[1]["outcome"], "success");
    assert_eq!(removals[1]["documents"][0], d.uid.as_str());
    assert_eq!(removals[1]["patients"][0], pid.as_str());
}

/// Every audit record of the node, oldest first (`ncpeh audit list --json`).
fn audit_list(node: &TestNode) -> Vec<serde_json::Value> {
    let out = std::process::Command::new(common::BIN)
        .arg("--config")
        .arg(&node.config)
        .args(["audit", "list", "--json"])
        .output()
        .expect("run ncpeh audit list");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    all.as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn malformed_requests_are_answered_not_crashed_on() {
    let node = TestNode::start();
    let lcm = meta::LCM;
    let rim = meta::RIM;
    let cases = [
        // No id on an ObjectRef.
        format!(
            r#"<l:RemoveObjectsRequest xmlns:l="{lcm}" xmlns:r="{rim}"><r:ObjectRefList><r:ObjectRef/></r:ObjectRefList></l:RemoveObjectsRequest>"#
        ),
        // Nothing named.
        format!(r#"<l:RemoveObjectsRequest xmlns:l="{lcm}"/>"#),
        // Selection by query and another deletionScope.
        format!(
            r#"<l:RemoveObjectsRequest xmlns:l="{lcm}" xmlns:r="{rim}" deletionScope="urn:oasis:names:tc:ebxml-regrep:DeletionScopeType:DeleteRepositoryItemOnly"><r:AdhocQuery id="q"/></l:RemoveObjectsRequest>"#
        ),
        // Another request altogether.
        meta::submit(&[]),
    ];
    for body in &cases {
        let r = node.call("/xds/registry", REMOVE_METADATA, body).await;
        assert_eq!(answer::status(&r.body), answer::FAILURE, "{body}");
        assert_eq!(codes(&r.body), vec!["XDSRegistryMetadataError"], "{body}");
    }
    let r = node
        .call(
            "/xds/repository",
            REMOVE_DOCUMENTS,
            &xdsb::retrieve_body(&[(REPO_UID, "1.2.3")]),
        )
        .await;
    assert_eq!(answer::status(&r.body), answer::FAILURE);
    assert_eq!(codes(&r.body), vec!["XDSRepositoryError"]);
}

/// One document provided over ITI-41 in its own SubmissionSet: (set, membership association).
async fn provide_one(node: &TestNode, d: &meta::Doc) -> (String, String) {
    let (ss, hm) = (uuid(), uuid());
    let objects = [
        meta::submission_set(&ss, &d.pid, &meta::new_uid()),
        d.xml(),
        meta::assoc(&hm, ids::HAS_MEMBER, &ss, &d.id, Some("Original")),
    ];
    let body = xdsb::pnr_body(
        &meta::submit(&objects),
        &[(d.id.as_str(), Content::Inline(b"<x/>"))],
    );
    let r = node.call("/xds/repository", xdsb::PROVIDE, &body).await;
    assert_eq!(
        answer::status(&r.body),
        answer::SUCCESS,
        "{:?}",
        codes(&r.body)
    );
    (ss, hm)
}

/// Whether ITI-38 (FindDocuments) finds and ITI-39 returns the document, asked nationally.
async fn cross_gateway_sees(node: &TestNode, pid: &str, uid: &str) -> (bool, bool) {
    let home = "urn:oid:2.16.578.1.12.4.5.10.1";
    let q = meta::query(
        ncpeh::registry::query::FIND_DOCUMENTS,
        true,
        &[
            ("$XDSDocumentEntryPatientId", &format!("'{pid}'")),
            (
                "$XDSDocumentEntryStatus",
                "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')",
            ),
        ],
    )
    .replacen(
        "<rim:AdhocQuery id=",
        &format!("<rim:AdhocQuery home=\"{home}\" id="),
        1,
    );
    let r = node.call("/xca", ncpeh::ids::action::XC_QUERY, &q).await;
    let found = answer::unique_ids(&r.body).iter().any(|u| u == uid);
    let body = format!(
        "<xdsb:RetrieveDocumentSetRequest xmlns:xdsb=\"{}\"><xdsb:DocumentRequest><xdsb:HomeCommunityId>{home}</xdsb:HomeCommunityId><xdsb:RepositoryUniqueId>{REPO_UID}</xdsb:RepositoryUniqueId><xdsb:DocumentUniqueId>{uid}</xdsb:DocumentUniqueId></xdsb:DocumentRequest></xdsb:RetrieveDocumentSetRequest>",
        xdsb::XDSB
    );
    let r = node
        .call("/xca", ncpeh::ids::action::XC_RETRIEVE, &body)
        .await;
    (found, !xdsb::documents(&r).is_empty())
}

#[tokio::test]
async fn removed_metadata_hides_the_document_from_all_four_transactions_at_once() {
    let node = TestNode::start();
    let pid = common::new_pid();
    node.add_patient(&pid);
    let d = xdsb::doc(&uuid(), &pid, "text/xml");
    let (ss, hm) = provide_one(&node, &d).await;
    assert_eq!(cross_gateway_sees(&node, &pid, &d.uid).await, (true, true));
    assert_eq!(
        xdsb::documents(&xdsb::retrieve(&node, &[(REPO_UID, &d.uid)]).await).len(),
        1
    );

    // ITI-62 alone: the bytes are still stored, but nothing serves them any more.
    let r = remove_metadata(&node, &[&d.id, &hm, &ss]).await;
    assert_eq!(answer::status(&r), answer::SUCCESS, "{:?}", codes(&r));
    assert!(xdsb::find_documents(&node, &pid).await.is_empty(), "ITI-18");
    let r = xdsb::retrieve(&node, &[(REPO_UID, &d.uid)]).await;
    assert!(xdsb::documents(&r).is_empty(), "ITI-43");
    assert_eq!(
        codes(xdsb::registry_response(&r.body)),
        vec!["XDSDocumentUniqueIdError"]
    );
    assert_eq!(
        cross_gateway_sees(&node, &pid, &d.uid).await,
        (false, false),
        "ITI-38/39"
    );
    // ITI-86 then finds the bytes and removes them.
    let r = remove_documents(&node, &[(REPO_UID, &d.uid)]).await;
    assert_eq!(answer::status(&r), answer::SUCCESS, "{:?}", codes(&r));
}

#[tokio::test]
async fn only_the_registering_source_or_the_operator_removes() {
    let node = TestNode::start();
    let pid = common::new_pid();
    node.add_patient(&pid);
    let d = xdsb::doc(&uuid(), &pid, "text/xml");
    let (ss, hm) = provide_one(&node, &d).await;
    node.issue_client("hf2", "Helse Vest dev HF");
    let r = node
        .call_as(
            "hf2",
            "/xds/registry",
            REMOVE_METADATA,
            &write_remove_objects(&[&d.id, &hm, &ss]),
            None,
        )
        .await;
    assert_eq!(answer::status(&r.body), answer::FAILURE);
    assert_eq!(codes(&r.body), vec!["LocalPolicyRestrictionError"]);
    assert_eq!(xdsb::find_documents(&node, &pid).await, vec![d.uid.clone()]);

    // The operator removes it, its set and its bytes, with an audit record.
    let run = |args: &[&str]| {
        std::process::Command::new(common::BIN)
            .args(args)
            .arg("--config")
            .arg(&node.config)
            .output()
            .expect("run ncpeh")
    };
    let out = run(&["document", "remove", &d.id]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("and its bytes"));
    assert!(xdsb::find_documents(&node, &pid).await.is_empty());
    let r = remove_documents(&node, &[(REPO_UID, &d.uid)]).await;
    assert_eq!(
        codes(&r),
        vec!["XDSDocumentUniqueIdError"],
        "the bytes went too"
    );
    assert!(!run(&["document", "remove", &d.id]).status.success());
    let record = audit_list(&node)
        .into_iter()
        .find(|r| r.to_string().contains("ncpeh document remove"))
        .expect("an audit record of the removal");
    assert_eq!(record["event"], "ITI-62");
    assert_eq!(record["documents"][0], d.uid.as_str());
}

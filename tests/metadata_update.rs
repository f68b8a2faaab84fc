//! ITI-57 / ITI-92 Metadata Update over mTLS, what the NIST suites leave out: concurrent
//! updates of one version, updates by another source, and the operator's CLI deprecation.
//! Runs on SQLite, and on PostgreSQL when NCPEH_TEST_PG_URL is set.

mod common;
use common::meta::{self, Doc};
use common::{answer, TestNode};
use ncpeh::ids::action;
use ncpeh::registry::query::GET_DOCUMENTS;
use ncpeh::xds::ids;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_ncpeh");

fn new_uuid() -> String {
    format!("urn:uuid:{}", uuid::Uuid::new_v4())
}

/// A node with one registered DocumentEntry: (node, patient, document).
async fn node_with_document() -> (TestNode, String, Doc) {
    node_with_document_in("").await
}

/// The same on a node with `extra` config.
async fn node_with_document_in(extra: &str) -> (TestNode, String, Doc) {
    let node = TestNode::start_with(extra);
    let pid = common::new_pid();
    node.add_patient(&pid);
    let doc = Doc::new(&new_uuid(), &pid);
    let r = node
        .call(
            "/xds/registry",
            action::REGISTER,
            &meta::simple_submission(&pid, std::slice::from_ref(&doc)),
        )
        .await;
    assert_eq!(
        answer::status(&r.body),
        answer::SUCCESS,
        "register: {:?}",
        answer::error_codes(&r.body)
    );
    (node, pid, doc)
}

/// An ITI-57 body replacing version `previous` of `doc` by a new version with id `new_id`.
fn update_body(doc: &Doc, new_id: &str, previous: u32, title: &str) -> String {
    let mut next = doc.clone();
    next.id = new_id.to_string();
    let de = next.xml().replacen(
        &format!("<rim:ExtrinsicObject id=\"{new_id}\""),
        &format!("<rim:ExtrinsicObject id=\"{new_id}\" lid=\"{}\"", doc.id),
        1,
    );
    let de = de.replace("value=\"Epikrise\"", &format!("value=\"{title}\""));
    let hm = format!(
        "<rim:Association id=\"{}\" associationType=\"{}\" sourceObject=\"SubmissionSet01\" targetObject=\"{new_id}\">\
         <rim:Slot name=\"SubmissionSetStatus\"><rim:ValueList><rim:Value>Original</rim:Value></rim:ValueList></rim:Slot>\
         <rim:Slot name=\"PreviousVersion\"><rim:ValueList><rim:Value>{previous}</rim:Value></rim:ValueList></rim:Slot>\
         </rim:Association>",
        new_uuid(),
        ids::HAS_MEMBER
    );
    meta::submit(&[
        meta::submission_set("SubmissionSet01", &doc.pid, &meta::new_uid()),
        de,
        hm,
    ])
}

/// Every version of the document: (entryUUID, status, versionName).
async fn versions(node: &TestNode, uid: &str) -> Vec<(String, String, String)> {
    let q = meta::query(
        GET_DOCUMENTS,
        true,
        &[
            ("$XDSDocumentEntryUniqueId", &format!("('{uid}')")),
            ("$MetadataLevel", "2"),
        ],
    );
    let r = node.call("/xds/registry", action::STORED_QUERY, &q).await;
    assert_eq!(
        answer::status(&r.body),
        answer::SUCCESS,
        "{:?}",
        answer::error_codes(&r.body)
    );
    let mut out: Vec<(String, String, String)> = r
        .body
        .descendants()
        .into_iter()
        .filter(|e| e.name == "ExtrinsicObject")
        .map(|e| {
            let version = e
                .elements()
                .find(|c| c.name == "VersionInfo")
                .and_then(|v| v.attr("versionName"))
                .unwrap_or_default()
                .to_string();
            (
                e.attr("id").unwrap_or_default().to_string(),
                e.attr("status")
                    .unwrap_or_default()
                    .rsplit(':')
                    .next()
                    .unwrap_or_default()
                    .to_string(),
                version,
            )
        })
        .collect();
    out.sort_by(|a, b| a.2.cmp(&b.2));
    out
}

#[tokio::test]
async fn an_update_makes_version_two_and_metadata_level_one_shows_only_it() {
    let (node, _pid, doc) = node_with_document().await;
    let v2 = new_uuid();
    let r = node
        .call(
            "/xds/registry",
            action::UPDATE,
            &update_body(&doc, &v2, 1, "Epikrise, rettet"),
        )
        .await;
    assert_eq!(
        answer::status(&r.body),
        answer::SUCCESS,
        "{:?}",
        answer::error_codes(&r.body)
    );
    let all = versions(&node, &doc.uid).await;
    assert_eq!(
        all,
        vec![
            (doc.id.clone(), "Deprecated".into(), "1".into()),
            (v2.clone(), "Approved".into(), "2".into()),
        ]
    );
    let q = meta::query(
        GET_DOCUMENTS,
        false,
        &[("$XDSDocumentEntryUniqueId", &format!("('{}')", doc.uid))],
    );
    let r = node.call("/xds/registry", action::STORED_QUERY, &q).await;
    let refs: Vec<String> = r
        .body
        .descendants()
        .into_iter()
        .filter(|e| e.name == "ObjectRef")
        .filter_map(|e| e.attr("id").map(str::to_string))
        .collect();
    assert_eq!(refs, vec![v2], "level 1 shows the newest version only");
    // The same PreviousVersion again is stale now.
    let r = node
        .call(
            "/xds/registry",
            action::UPDATE,
            &update_body(&doc, &new_uuid(), 1, "igjen"),
        )
        .await;
    assert_eq!(answer::status(&r.body), answer::FAILURE);
    assert!(answer::error_codes(&r.body).contains(&"XDSMetadataVersionError".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_updates_of_one_version_give_one_new_version_and_one_clear_error() {
    let (node, _pid, doc) = node_with_document().await;
    let node = std::sync::Arc::new(node);
    let mut previous = 1;
    for round in 0..4 {
        let calls: Vec<_> = (0..2)
            .map(|i| {
                let node = node.clone();
                let body = update_body(
                    &doc,
                    &new_uuid(),
                    previous,
                    &format!("runde {round} klient {i}"),
                );
                tokio::spawn(async move { node.call("/xds/registry", action::UPDATE, &body).await })
            })
            .collect();
        let mut outcomes = Vec::new();
        for c in calls {
            let r = c.await.expect("call task");
            outcomes.push((answer::status(&r.body), answer::error_codes(&r.body)));
        }
        let won = outcomes
            .iter()
            .filter(|(s, _)| s == answer::SUCCESS)
            .count();
        assert_eq!(won, 1, "round {round}: {outcomes:?}");
        let lost = outcomes
            .iter()
            .find(|(s, _)| s != answer::SUCCESS)
            .expect("a loser");
        assert_eq!(
            lost.1,
            vec!["XDSMetadataVersionError".to_string()],
            "round {round}"
        );
        previous += 1;
        let all = versions(&node, &doc.uid).await;
        assert_eq!(
            all.len() as u32,
            previous,
            "round {round}: one new version, not two"
        );
        let approved: Vec<_> = all.iter().filter(|v| v.1 == "Approved").collect();
        assert_eq!(approved.len(), 1, "{all:?}");
        assert_eq!(approved[0].2, previous.to_string());
    }
}

#[tokio::test]
async fn another_source_may_not_update_or_deprecate_a_document() {
    let (node, pid, doc) = node_with_document().await;
    node.issue_client("hf2", "Helse Nord dev HF");
    for body in [
        update_body(&doc, &new_uuid(), 1, "fremmed"),
        meta::status_update(&pid, &doc.id, "Approved", "Deprecated"),
    ] {
        let r = node
            .call_as("hf2", "/xds/registry", action::UPDATE, &body, None)
            .await;
        assert_eq!(answer::status(&r.body), answer::FAILURE);
        assert_eq!(
            answer::error_codes(&r.body),
            vec!["LocalPolicyRestrictionError".to_string()]
        );
    }
    assert_eq!(
        versions(&node, &doc.uid).await,
        vec![(doc.id.clone(), "Approved".into(), "1".into())]
    );
    // The source itself may.
    let r = node
        .call(
            "/xds/registry",
            action::UPDATE,
            &meta::status_update(&pid, &doc.id, "Approved", "Deprecated"),
        )
        .await;
    assert_eq!(
        answer::status(&r.body),
        answer::SUCCESS,
        "{:?}",
        answer::error_codes(&r.body)
    );
    assert_eq!(versions(&node, &doc.uid).await[0].1, "Deprecated");
}

#[tokio::test]
async fn the_operator_deprecates_from_the_cli_and_it_is_audited() {
    let (node, pid, doc) = node_with_document().await;
    let run = |args: &[&str]| {
        Command::new(BIN)
            .args(args)
            .arg("--config")
            .arg(&node.config)
            .output()
            .expect("run ncpeh")
    };
    let out = run(&["document", "deprecate", &doc.id]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(versions(&node, &doc.uid).await[0].1, "Deprecated");
    let again = run(&["document", "deprecate", &doc.id]);
    assert!(!again.status.success(), "a second deprecation is refused");
    assert!(String::from_utf8_lossy(&again.stderr).contains("already Deprecated"));
    let out = run(&["audit", "list", "--json", "--patient", &pid]);
    let listed = String::from_utf8_lossy(&out.stdout).to_string();
    let records: serde_json::Value = serde_json::from_str(&listed).expect("audit json");
    let cli_records: Vec<&serde_json::Value> = records
        .as_array()
        .expect("array")
        .iter()
        .filter(|r| r.to_string().contains("ncpeh document deprecate"))
        .collect();
    assert_eq!(cli_records.len(), 1, "{listed}");
    assert!(cli_records[0].to_string().contains(&doc.uid));
}

#[tokio::test]
async fn a_registry_set_to_restricted_updates_refuses_iti_57_and_takes_iti_92() {
    let (node, _pid, doc) = node_with_document_in(
        "[registry]\nallow_unknown_patients = false\nmetadata_update = \"restricted\"\n",
    )
    .await;
    let body = update_body(&doc, &new_uuid(), 1, "rettet");
    let r = node.call("/xds/registry", action::UPDATE, &body).await;
    assert!(
        r.fault
            .as_deref()
            .unwrap_or_default()
            .contains("ActionNotSupported"),
        "{:?}",
        r.fault
    );
    assert_eq!(versions(&node, &doc.uid).await.len(), 1, "nothing changed");
    let r = node
        .call("/xds/registry", action::RESTRICTED_UPDATE, &body)
        .await;
    assert_eq!(
        answer::status(&r.body),
        answer::SUCCESS,
        "{:?}",
        answer::error_codes(&r.body)
    );
    assert_eq!(versions(&node, &doc.uid).await.len(), 2);
}

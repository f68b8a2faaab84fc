//! A repository that registers with a remote registry over ITI-42 (mTLS): the registry's
//! errors come back to the document source (NIST 11986) and bytes are kept only on Success.

mod common;
use common::xdsb::{self, Content};
use common::{answer, meta, TestNode};

const REMOTE_REPO_UID: &str = "2.16.578.1.12.4.5.10.1.2";

fn repository_for(registry: &TestNode) -> TestNode {
    let pki = registry.pki.display();
    TestNode::start_with(&format!(
        "[repository]\nunique_id = \"{REMOTE_REPO_UID}\"\nregistry_url = \"{}\"\nregistry_ca = \"{pki}/ca.pem\"\nregistry_client_cert = \"{pki}/client.pem\"\nregistry_client_key = \"{pki}/client.key\"\n",
        registry.url("/xds/registry")
    ))
}

#[tokio::test]
async fn forwards_to_remote_registry_and_passes_its_errors_back() {
    let registry = TestNode::start();
    let repo = repository_for(&registry);
    let pid = common::new_pid();
    registry.add_patient(&pid);

    // Accepted by the remote registry: metadata there, bytes here.
    let d = xdsb::doc("Document01", &pid, "text/plain");
    let body = xdsb::pnr_body(
        &meta::simple_submission(&pid, std::slice::from_ref(&d)),
        &[("Document01", Content::Inline(b"remote ok"))],
    );
    let r = repo.call("/xds/repository", xdsb::PROVIDE, &body).await;
    assert_eq!(
        answer::status(&r.body),
        answer::SUCCESS,
        "{:?}",
        answer::error_codes(&r.body)
    );
    assert_eq!(
        xdsb::find_documents(&registry, &pid).await,
        vec![d.uid.clone()]
    );
    assert!(
        xdsb::find_documents(&repo, &pid).await.is_empty(),
        "the local registry is not used"
    );
    let r = xdsb::retrieve(&repo, &[(REMOTE_REPO_UID, &d.uid)]).await;
    assert_eq!(
        answer::status(xdsb::registry_response(&r.body)),
        answer::SUCCESS
    );
    assert_eq!(&xdsb::documents(&r)[0].2[..], b"remote ok");

    // NIST 11986: a DocumentEntry of another patient than its SubmissionSet.
    let other = common::new_pid();
    registry.add_patient(&other);
    let bad = xdsb::doc("Document01", &other, "text/plain");
    let body = xdsb::pnr_body(
        &meta::simple_submission(&pid, std::slice::from_ref(&bad)),
        &[("Document01", Content::Inline(b"x"))],
    );
    let r = repo.call("/xds/repository", xdsb::PROVIDE, &body).await;
    assert_eq!(answer::status(&r.body), answer::FAILURE);
    assert!(
        answer::error_codes(&r.body).contains(&"XDSPatientIdDoesNotMatch".to_string()),
        "{:?}",
        answer::error_codes(&r.body)
    );
    let r = xdsb::retrieve(&repo, &[(REMOTE_REPO_UID, &bad.uid)]).await;
    assert_eq!(
        answer::error_codes(xdsb::registry_response(&r.body)),
        vec!["XDSDocumentUniqueIdError"]
    );

    // Unknown patient at the registry.
    let stranger = common::new_pid();
    let s = xdsb::doc("Document01", &stranger, "text/plain");
    let body = xdsb::pnr_body(
        &meta::simple_submission(&stranger, std::slice::from_ref(&s)),
        &[("Document01", Content::Inline(b"y"))],
    );
    let r = repo.call("/xds/repository", xdsb::PROVIDE, &body).await;
    assert_eq!(answer::error_codes(&r.body), vec!["XDSUnknownPatientId"]);
    let r = xdsb::retrieve(&repo, &[(REMOTE_REPO_UID, &s.uid)]).await;
    assert_eq!(
        answer::error_codes(xdsb::registry_response(&r.body)),
        vec!["XDSDocumentUniqueIdError"]
    );
}

#[tokio::test]
async fn unreachable_registry_is_reported_and_nothing_stored() {
    let registry = TestNode::start();
    let pki = registry.pki.display();
    // Nothing listens on port 9 of loopback.
    let repo = TestNode::start_with(&format!(
        "[repository]\nregistry_url = \"https://127.0.0.1:9/xds/registry\"\nregistry_ca = \"{pki}/ca.pem\"\nregistry_client_cert = \"{pki}/client.pem\"\nregistry_client_key = \"{pki}/client.key\"\nregistry_timeout_secs = 5\n"
    ));
    let pid = common::new_pid();
    let d = xdsb::doc("Document01", &pid, "text/plain");
    let body = xdsb::pnr_body(
        &meta::simple_submission(&pid, std::slice::from_ref(&d)),
        &[("Document01", Content::Inline(b"z"))],
    );
    let r = repo.call("/xds/repository", xdsb::PROVIDE, &body).await;
    assert_eq!(answer::status(&r.body), answer::FAILURE);
    assert_eq!(
        answer::error_codes(&r.body),
        vec!["XDSRegistryNotAvailable"]
    );
    let r = xdsb::retrieve(&repo, &[(xdsb::REPO_UID, &d.uid)]).await;
    assert_eq!(
        answer::error_codes(xdsb::registry_response(&r.body)),
        vec!["XDSDocumentUniqueIdError"]
    );
}

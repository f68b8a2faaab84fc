//! XDR recipient: a bad eD or a document of a class it does not take is refused, and
//! nothing of the submission is stored.

mod cda;
mod common;
use common::answer::{self, FAILURE};
use common::meta;
use common::xdsb::{self, Content};
use common::{new_pid, TestNode};
use ncpeh::ids::action::PROVIDE_AND_REGISTER;

async fn send(node: &TestNode, pid: &str, class: &str, doc: &[u8]) -> ncpeh::xml::Element {
    let mut d = xdsb::doc("Ed", pid, "text/xml");
    d.class = (class.into(), "2.16.840.1.113883.6.1".into());
    let body = xdsb::pnr_body(
        &meta::simple_submission(pid, &[d]),
        &[("Ed", Content::Inline(doc))],
    );
    node.call("/xdr", PROVIDE_AND_REGISTER, &body).await.body
}

#[tokio::test]
async fn bad_or_foreign_documents_are_refused_and_nothing_is_stored() {
    let Some(shared) = cda::shared() else { return };
    let node = TestNode::start();
    let pid = new_pid();
    node.add_patient(&pid);
    let bad =
        std::fs::read(shared.join("reference/ehdsi/pivot-ed/dispensation_bad_1.xml")).unwrap();
    let r = send(&node, &pid, "60593-1", &bad).await;
    assert_eq!(answer::status(&r), FAILURE);
    assert_eq!(
        answer::error_codes(&r),
        vec!["XDSRepositoryMetadataError".to_string()]
    );
    let text = r
        .find(answer::RS, "RegistryError")
        .and_then(|e| e.attr("codeContext"))
        .unwrap_or_default()
        .to_string();
    assert!(
        text.contains("quantity"),
        "the error names the element: {text}"
    );

    let good = std::fs::read(shared.join("reference/ehdsi/pivot-ed/dispensation1.xml")).unwrap();
    let r = send(&node, &pid, "60591-5", &good).await;
    assert_eq!(
        answer::error_codes(&r),
        vec!["XDSRegistryMetadataError".to_string()],
        "a Patient Summary is not for this recipient"
    );

    assert!(
        xdsb::find_documents(&node, &pid).await.is_empty(),
        "nothing was registered"
    );
}

/// An XDR submission sent as Sweden's contact point (its certificate, eHDSI assertions with a
/// TRC for `trc_patient`), of an eD (or its discard) for `pid`.
async fn send_from_se(
    node: &TestNode,
    pid: &str,
    trc_patient: &str,
    class: &str,
    doc: &[u8],
) -> ncpeh::xml::Element {
    let mut d = xdsb::doc("Ed", pid, "text/xml");
    d.class = (class.into(), "2.16.840.1.113883.6.1".into());
    let body = xdsb::pnr_body(
        &meta::simple_submission(pid, &[d]),
        &[("Ed", Content::Inline(doc))],
    );
    let sec = common::ehdsi_security(&node.pki, Some(trc_patient));
    node.call_as(
        "foreign-se",
        "/xdr",
        PROVIDE_AND_REGISTER,
        &body,
        Some(&sec),
    )
    .await
    .body
}

#[tokio::test]
async fn a_foreign_pharmacy_dispenses_and_discards_only_for_its_own_patient_and_dispensation() {
    let Some(shared) = cda::shared() else { return };
    let node = TestNode::start_with_foreign_peer("");
    let (pid, other) = (new_pid(), new_pid());
    node.add_patient(&pid);
    node.add_patient(&other);
    let ed = std::fs::read(shared.join("reference/ehdsi/pivot-ed/dispensation1.xml")).unwrap();

    // An eD for another patient than the TRC names: refused, nothing stored.
    let r = send_from_se(&node, &pid, &other, "60593-1", &ed).await;
    assert_eq!(answer::status(&r), FAILURE);
    assert!(xdsb::find_documents(&node, &pid).await.is_empty());

    // For the TRC's patient: accepted.
    let r = send_from_se(&node, &pid, &pid, "60593-1", &ed).await;
    assert_eq!(
        answer::status(&r),
        answer::SUCCESS,
        "{:?}",
        answer::error_codes(&r)
    );

    // A discard of it by a national caller (not the sender): refused.
    let r = send(&node, &pid, "DISCARD-60593-1", &ed).await;
    assert_eq!(
        answer::status(&r),
        FAILURE,
        "only the dispensing sender may discard"
    );
    // A discard naming another patient: refused.
    let r = send_from_se(&node, &other, &other, "DISCARD-60593-1", &ed).await;
    assert_eq!(
        answer::status(&r),
        FAILURE,
        "the dispensation is another patient's"
    );
    // By the sender, for the patient: accepted.
    let r = send_from_se(&node, &pid, &pid, "DISCARD-60593-1", &ed).await;
    assert_eq!(
        answer::status(&r),
        answer::SUCCESS,
        "{:?}",
        answer::error_codes(&r)
    );
    assert_eq!(
        xdsb::find_documents(&node, &pid).await.len(),
        2,
        "the eD and its discard"
    );
}

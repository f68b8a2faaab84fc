//! XDR eDispensation recipient: a bad eD or a document of another class is refused, and
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
    let r = send(&node, &pid, "34133-9", &good).await;
    assert_eq!(
        answer::error_codes(&r),
        vec!["XDSRegistryMetadataError".to_string()],
        "only eDispensations are accepted"
    );

    assert!(
        xdsb::find_documents(&node, &pid).await.is_empty(),
        "nothing was registered"
    );
}

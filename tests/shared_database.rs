//! Two nodes on one database, as behind a load balancer (issue 12): PostgreSQL under
//! `tests/run.sh`'s second pass, one SQLite file otherwise. A submission through one node is
//! found through the other at once, and the same submission sent through both at the same
//! moment is stored exactly once: one node answers Success, the other
//! XDSDuplicateUniqueIdInRegistry, and the registry holds one SubmissionSet.

mod common;
use common::answer::{self, FAILURE, SUCCESS};
use common::meta::{self, Doc};
use common::{new_pid, TestNode};
use ncpeh::ids::action::{REGISTER, STORED_QUERY};
use ncpeh::registry::query::{FIND_DOCUMENTS, FIND_SUBMISSION_SETS};

const APPROVED: &str = "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')";

async fn find(node: &TestNode, query: &str, pid: &str, status_param: &str) -> ncpeh::xml::Element {
    let (pid_param, q) = if query == FIND_DOCUMENTS {
        ("$XDSDocumentEntryPatientId", FIND_DOCUMENTS)
    } else {
        ("$XDSSubmissionSetPatientId", FIND_SUBMISSION_SETS)
    };
    let body = meta::query(
        q,
        false,
        &[(pid_param, &format!("'{pid}'")), (status_param, APPROVED)],
    );
    let r = node.call("/xds/registry", STORED_QUERY, &body).await;
    assert!(r.fault.is_none(), "fault: {:?}", r.fault);
    assert_eq!(answer::status(&r.body), SUCCESS);
    r.body
}

#[tokio::test]
async fn two_nodes_on_one_database_see_each_other_and_store_a_submission_once() {
    let a = TestNode::start();
    let b = TestNode::start_beside(&a);
    assert_eq!(a.db_url, b.db_url);
    let pid = new_pid();
    a.add_patient(&pid);

    // Registered through A, found through B at once.
    let first = meta::simple_submission(&pid, &[Doc::new("Document01", &pid)]);
    let r = a.call("/xds/registry", REGISTER, &first).await;
    assert_eq!(
        answer::status(&r.body),
        SUCCESS,
        "{:?}",
        answer::error_codes(&r.body)
    );
    let seen = find(&b, FIND_DOCUMENTS, &pid, "$XDSDocumentEntryStatus").await;
    assert_eq!(answer::count(&seen, "ObjectRef"), 1);

    // The same submission (same SubmissionSet uniqueId) through both at once, several times:
    // each time exactly one is stored.
    let rounds = 8;
    for round in 0..rounds {
        let same = meta::simple_submission(&pid, &[Doc::new("Document01", &pid)]);
        let (ra, rb) = tokio::join!(
            a.call("/xds/registry", REGISTER, &same),
            b.call("/xds/registry", REGISTER, &same)
        );
        let mut statuses = [answer::status(&ra.body), answer::status(&rb.body)];
        statuses.sort();
        assert_eq!(
            statuses,
            [FAILURE.to_string(), SUCCESS.to_string()],
            "round {round}: {:?} / {:?}",
            answer::error_codes(&ra.body),
            answer::error_codes(&rb.body)
        );
        let loser = if answer::status(&ra.body) == FAILURE {
            &ra
        } else {
            &rb
        };
        assert_eq!(
            answer::error_codes(&loser.body),
            vec!["XDSDuplicateUniqueIdInRegistry".to_string()],
            "round {round}"
        );
    }
    let sets = find(&a, FIND_SUBMISSION_SETS, &pid, "$XDSSubmissionSetStatus").await;
    assert_eq!(answer::count(&sets, "ObjectRef"), 1 + rounds);
    let docs = find(&b, FIND_DOCUMENTS, &pid, "$XDSDocumentEntryStatus").await;
    assert_eq!(answer::count(&docs, "ObjectRef"), 1 + rounds);
}

//! ITI-18: every stored query, each with a positive and an error case, over one fixture:
//! SubmissionSet A holds DocA1 (in Folder F, with a referenceId) and DocA2;
//! SubmissionSet B holds DocB1, which replaces DocA2 (RPLC).

mod common;
use common::answer::{self, FAILURE, SUCCESS};
use common::meta::{self, Doc};
use common::{new_pid, schema, TestNode};
use ncpeh::ids::action::{REGISTER, STORED_QUERY};
use ncpeh::registry::query as sq;
use ncpeh::xds::ids;

const APPROVED: &str = "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')";
const BOTH: &str = "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved','urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated')";
const REF_ID: &str = "ORD-77^^^&2.16.578.1.12.4.1.2.100&ISO^urn:ihe:iti:xds:2013:order";

struct Fixture {
    node: TestNode,
    pid: String,
    a1: Doc,
    a2: Doc,
    b1: Doc,
    ss_a_uid: String,
    folder_uid: String,
}

fn uuid() -> String {
    format!("urn:uuid:{}", uuid::Uuid::new_v4())
}

async fn fixture() -> Fixture {
    let node = TestNode::start();
    let pid = new_pid();
    node.add_patient(&pid);
    let mut a1 = Doc::new(&uuid(), &pid);
    a1.refs = vec![REF_ID.into()];
    a1.events = vec![("T-D4909".into(), "SNM3".into())];
    a1.creation = "20230101".into();
    let a2 = Doc::new(&uuid(), &pid);
    let b1 = Doc::new(&uuid(), &pid);
    let (ss_a, folder) = (uuid(), uuid());
    let ss_a_uid = meta::new_uid();
    let folder_uid = meta::new_uid();
    let a3 = uuid();
    let objs = vec![
        meta::submission_set(&ss_a, &pid, &ss_a_uid),
        meta::folder(&folder, &pid, &folder_uid),
        a1.xml(),
        a2.xml(),
        meta::assoc(&uuid(), ids::HAS_MEMBER, &ss_a, &folder, None),
        meta::assoc(&uuid(), ids::HAS_MEMBER, &ss_a, &a1.id, Some("Original")),
        meta::assoc(&uuid(), ids::HAS_MEMBER, &ss_a, &a2.id, Some("Original")),
        meta::assoc(&a3, ids::HAS_MEMBER, &folder, &a1.id, None),
        meta::assoc(&uuid(), ids::HAS_MEMBER, &ss_a, &a3, None),
    ];
    let r = node
        .call("/xds/registry", REGISTER, &meta::submit(&objs))
        .await;
    assert_eq!(
        answer::status(&r.body),
        SUCCESS,
        "{:?}",
        answer::error_codes(&r.body)
    );
    let ss_b = uuid();
    let objs = vec![
        meta::submission_set(&ss_b, &pid, &meta::new_uid()),
        b1.xml(),
        meta::assoc(&uuid(), ids::HAS_MEMBER, &ss_b, &b1.id, Some("Original")),
        meta::assoc(&uuid(), ids::RPLC, &b1.id, &a2.id, None),
    ];
    let r = node
        .call("/xds/registry", REGISTER, &meta::submit(&objs))
        .await;
    assert_eq!(
        answer::status(&r.body),
        SUCCESS,
        "{:?}",
        answer::error_codes(&r.body)
    );
    Fixture {
        node,
        pid,
        a1,
        a2,
        b1,
        ss_a_uid,
        folder_uid,
    }
}

impl Fixture {
    async fn ask(&self, id: &str, leaf: bool, params: &[(&str, &str)]) -> ncpeh::xml::Element {
        let r = self
            .node
            .call(
                "/xds/registry",
                STORED_QUERY,
                &meta::query(id, leaf, params),
            )
            .await;
        assert!(r.fault.is_none(), "{:?}", r.fault);
        schema::validate(&schema::to_xml(&r.body), "query.xsd")
            .expect("AdhocQueryResponse validates against query.xsd");
        r.body
    }

    fn pid_param(&self) -> String {
        format!("'{}'", self.pid)
    }
}

fn ids_of(body: &ncpeh::xml::Element) -> Vec<String> {
    answer::objects(body).into_iter().map(|o| o.1).collect()
}

fn expect_error(body: &ncpeh::xml::Element, code: &str) {
    assert_eq!(answer::status(body), FAILURE);
    let codes = answer::error_codes(body);
    assert!(
        codes.iter().any(|c| c == code),
        "expected {code}, got {codes:?}"
    );
}

fn list(ids: &[&str]) -> String {
    format!(
        "({})",
        ids.iter()
            .map(|i| format!("'{i}'"))
            .collect::<Vec<_>>()
            .join(",")
    )
}

#[tokio::test]
async fn find_documents() {
    let f = fixture().await;
    let pid = f.pid_param();
    let r = f
        .ask(
            sq::FIND_DOCUMENTS,
            true,
            &[
                ("$XDSDocumentEntryPatientId", &pid),
                ("$XDSDocumentEntryStatus", APPROVED),
            ],
        )
        .await;
    let mut got = answer::unique_ids(&r);
    got.sort();
    let mut want = vec![f.a1.uid.clone(), f.b1.uid.clone()];
    want.sort();
    assert_eq!(got, want, "deprecated DocA2 is not Approved");
    let r = f
        .ask(
            sq::FIND_DOCUMENTS,
            false,
            &[
                ("$XDSDocumentEntryPatientId", &pid),
                ("$XDSDocumentEntryStatus", BOTH),
                ("$XDSDocumentEntryEventCodeList", "('T-D4909^^SNM3')"),
                ("$XDSDocumentEntryCreationTimeFrom", "2022"),
                ("$XDSDocumentEntryCreationTimeTo", "20230102"),
            ],
        )
        .await;
    assert_eq!(
        ids_of(&r),
        vec![f.a1.id.clone()],
        "event code and creation time narrow to DocA1"
    );
    assert_eq!(answer::count(&r, "ObjectRef"), 1);
    let r = f
        .ask(
            sq::FIND_DOCUMENTS,
            false,
            &[
                ("$XDSDocumentEntryPatientId", &pid),
                ("$XDSDocumentEntryStatus", BOTH),
                ("$XDSDocumentEntryAuthorPerson", "('%Hansen%')"),
                (
                    "$XDSDocumentEntryClassCode",
                    "('11488-4^^2.16.840.1.113883.6.1')",
                ),
            ],
        )
        .await;
    assert_eq!(ids_of(&r).len(), 3);
    let r = f
        .ask(
            sq::FIND_DOCUMENTS,
            false,
            &[
                ("$XDSDocumentEntryPatientId", &pid),
                ("$XDSDocumentEntryStatus", BOTH),
                ("$XDSDocumentEntryClassCode", "('11488-4^^other-scheme')"),
            ],
        )
        .await;
    assert_eq!(
        ids_of(&r).len(),
        0,
        "code matching includes the coding scheme"
    );
    let r = f
        .ask(
            sq::FIND_DOCUMENTS,
            true,
            &[("$XDSDocumentEntryPatientId", &pid)],
        )
        .await;
    expect_error(&r, "XDSStoredQueryMissingParam");
    let r = f
        .ask(
            sq::FIND_DOCUMENTS,
            true,
            &[
                ("$XDSDocumentEntryPatientId", &pid),
                ("$XDSDocumentEntryStatus", APPROVED),
                ("$XDSDocumentEntryClassCode", "('Dialysis')"),
            ],
        )
        .await;
    expect_error(&r, "XDSRegistryError");
}

#[tokio::test]
async fn find_documents_by_reference_id() {
    let f = fixture().await;
    let pid = f.pid_param();
    let r = f
        .ask(
            sq::FIND_DOCUMENTS_BY_REFERENCE_ID,
            true,
            &[
                ("$XDSDocumentEntryPatientId", &pid),
                ("$XDSDocumentEntryStatus", APPROVED),
                ("$XDSDocumentEntryReferenceIdList", &format!("('{REF_ID}')")),
            ],
        )
        .await;
    assert_eq!(answer::unique_ids(&r), vec![f.a1.uid.clone()]);
    let r = f
        .ask(
            sq::FIND_DOCUMENTS_BY_REFERENCE_ID,
            true,
            &[
                ("$XDSDocumentEntryPatientId", &pid),
                ("$XDSDocumentEntryStatus", APPROVED),
            ],
        )
        .await;
    expect_error(&r, "XDSStoredQueryMissingParam");
}

#[tokio::test]
async fn find_submission_sets() {
    let f = fixture().await;
    let pid = f.pid_param();
    let r = f
        .ask(
            sq::FIND_SUBMISSION_SETS,
            true,
            &[
                ("$XDSSubmissionSetPatientId", &pid),
                ("$XDSSubmissionSetStatus", APPROVED),
            ],
        )
        .await;
    assert_eq!(answer::count(&r, "RegistryPackage"), 2);
    let r = f
        .ask(
            sq::FIND_SUBMISSION_SETS,
            true,
            &[
                ("$XDSSubmissionSetPatientId", &pid),
                ("$XDSSubmissionSetStatus", APPROVED),
                ("$XDSSubmissionSetSourceId", "('9.9.9')"),
            ],
        )
        .await;
    assert_eq!(answer::count(&r, "RegistryPackage"), 0, "sourceId filters");
    let r = f
        .ask(
            sq::FIND_SUBMISSION_SETS,
            true,
            &[("$XDSSubmissionSetStatus", APPROVED)],
        )
        .await;
    expect_error(&r, "XDSStoredQueryMissingParam");
}

#[tokio::test]
async fn find_folders() {
    let f = fixture().await;
    let pid = f.pid_param();
    let r = f
        .ask(
            sq::FIND_FOLDERS,
            true,
            &[
                ("$XDSFolderPatientId", &pid),
                ("$XDSFolderStatus", APPROVED),
                (
                    "$XDSFolderCodeList",
                    "('Referrals^^1.3.6.1.4.1.21367.100.1')",
                ),
            ],
        )
        .await;
    assert_eq!(answer::unique_ids(&r), vec![f.folder_uid.clone()]);
    let r = f
        .ask(
            sq::FIND_FOLDERS,
            true,
            &[
                ("$XDSFolderPatientId", &pid),
                ("$XDSFolderPatientId", &pid),
                ("$XDSFolderStatus", APPROVED),
            ],
        )
        .await;
    expect_error(&r, "XDSStoredQueryParamNumber");
}

#[tokio::test]
async fn get_all() {
    let f = fixture().await;
    let pid = f.pid_param();
    let r = f
        .ask(
            sq::GET_ALL,
            true,
            &[
                ("$patientId", &pid),
                ("$XDSDocumentEntryStatus", BOTH),
                ("$XDSSubmissionSetStatus", APPROVED),
                ("$XDSFolderStatus", APPROVED),
            ],
        )
        .await;
    assert_eq!(answer::count(&r, "ExtrinsicObject"), 3);
    assert_eq!(
        answer::count(&r, "RegistryPackage"),
        3,
        "two SubmissionSets and one Folder"
    );
    assert_eq!(answer::count(&r, "Association"), 7);
    let r = f
        .ask(
            sq::GET_ALL,
            true,
            &[
                ("$patientId", &pid),
                ("$XDSDocumentEntryStatus", BOTH),
                ("$XDSSubmissionSetStatus", APPROVED),
            ],
        )
        .await;
    expect_error(&r, "XDSStoredQueryMissingParam");
}

#[tokio::test]
async fn get_documents() {
    let f = fixture().await;
    let r = f
        .ask(
            sq::GET_DOCUMENTS,
            true,
            &[("$XDSDocumentEntryUniqueId", &list(&[&f.a1.uid, &f.a2.uid]))],
        )
        .await;
    assert_eq!(answer::count(&r, "ExtrinsicObject"), 2);
    let r = f
        .ask(
            sq::GET_DOCUMENTS,
            true,
            &[
                ("$XDSDocumentEntryUniqueId", &list(&[&f.a1.uid])),
                ("$XDSDocumentEntryEntryUUID", &list(&[&f.a1.id])),
            ],
        )
        .await;
    expect_error(&r, "XDSStoredQueryParamNumber");
}

#[tokio::test]
async fn get_documents_for_two_patients_is_not_single_patient() {
    let f = fixture().await;
    let other = new_pid();
    f.node.add_patient(&other);
    let d = Doc::new(&uuid(), &other);
    let r = f
        .node
        .call(
            "/xds/registry",
            REGISTER,
            &meta::simple_submission(&other, std::slice::from_ref(&d)),
        )
        .await;
    assert_eq!(answer::status(&r.body), SUCCESS);
    let r = f
        .ask(
            sq::GET_DOCUMENTS,
            true,
            &[("$XDSDocumentEntryEntryUUID", &list(&[&f.a1.id, &d.id]))],
        )
        .await;
    expect_error(&r, "XDSResultNotSinglePatient");
}

#[tokio::test]
async fn get_folders() {
    let f = fixture().await;
    let r = f
        .ask(
            sq::GET_FOLDERS,
            true,
            &[("$XDSFolderUniqueId", &list(&[&f.folder_uid]))],
        )
        .await;
    assert_eq!(answer::unique_ids(&r), vec![f.folder_uid.clone()]);
    let r = f.ask(sq::GET_FOLDERS, true, &[]).await;
    expect_error(&r, "XDSStoredQueryMissingParam");
}

#[tokio::test]
async fn get_associations() {
    let f = fixture().await;
    let r = f
        .ask(sq::GET_ASSOCIATIONS, true, &[("$uuid", &list(&[&f.a2.id]))])
        .await;
    let mut assocs: Vec<String> = r
        .find(answer::RIM, "RegistryObjectList")
        .map(|l| {
            l.elements()
                .filter_map(|e| e.attr("associationType").map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    assocs.sort();
    let mut want = vec![ids::RPLC.to_string(), ids::HAS_MEMBER.to_string()];
    want.sort();
    assert_eq!(
        assocs, want,
        "DocA2's SubmissionSet membership and its replacement"
    );
    let r = f.ask(sq::GET_ASSOCIATIONS, true, &[]).await;
    expect_error(&r, "XDSStoredQueryMissingParam");
}

#[tokio::test]
async fn get_documents_and_associations() {
    let f = fixture().await;
    let r = f
        .ask(
            sq::GET_DOCUMENTS_AND_ASSOCIATIONS,
            true,
            &[("$XDSDocumentEntryEntryUUID", &list(&[&f.a1.id]))],
        )
        .await;
    assert_eq!(answer::count(&r, "ExtrinsicObject"), 1);
    assert_eq!(
        answer::count(&r, "Association"),
        2,
        "SubmissionSet and Folder membership"
    );
    let r = f
        .ask(
            sq::GET_DOCUMENTS_AND_ASSOCIATIONS,
            true,
            &[
                ("$XDSDocumentEntryEntryUUID", &list(&[&f.a1.id])),
                ("$XDSDocumentEntryUniqueId", &list(&[&f.a1.uid])),
            ],
        )
        .await;
    expect_error(&r, "XDSStoredQueryParamNumber");
}

#[tokio::test]
async fn get_submission_sets() {
    let f = fixture().await;
    let r = f
        .ask(
            sq::GET_SUBMISSION_SETS,
            true,
            &[("$uuid", &list(&[&f.a1.id, &f.b1.id]))],
        )
        .await;
    assert_eq!(answer::count(&r, "RegistryPackage"), 2);
    assert_eq!(answer::count(&r, "Association"), 2);
    let r = f.ask(sq::GET_SUBMISSION_SETS, true, &[]).await;
    expect_error(&r, "XDSStoredQueryMissingParam");
}

#[tokio::test]
async fn get_submission_set_and_contents() {
    let f = fixture().await;
    let r = f
        .ask(
            sq::GET_SUBMISSION_SET_AND_CONTENTS,
            true,
            &[("$XDSSubmissionSetUniqueId", &format!("'{}'", f.ss_a_uid))],
        )
        .await;
    assert_eq!(answer::count(&r, "ExtrinsicObject"), 2);
    assert_eq!(
        answer::count(&r, "RegistryPackage"),
        2,
        "the SubmissionSet and its Folder"
    );
    assert_eq!(answer::count(&r, "Association"), 5);
    let r = f
        .ask(
            sq::GET_SUBMISSION_SET_AND_CONTENTS,
            true,
            &[
                ("$XDSSubmissionSetUniqueId", &format!("'{}'", f.ss_a_uid)),
                ("$XDSSubmissionSetEntryUUID", "'urn:uuid:x'"),
            ],
        )
        .await;
    expect_error(&r, "XDSStoredQueryParamNumber");
}

#[tokio::test]
async fn get_folder_and_contents() {
    let f = fixture().await;
    let r = f
        .ask(
            sq::GET_FOLDER_AND_CONTENTS,
            true,
            &[("$XDSFolderUniqueId", &format!("'{}'", f.folder_uid))],
        )
        .await;
    assert_eq!(answer::unique_ids(&r).len(), 2);
    assert_eq!(answer::count(&r, "Association"), 1);
    let r = f.ask(sq::GET_FOLDER_AND_CONTENTS, true, &[]).await;
    expect_error(&r, "XDSStoredQueryMissingParam");
}

#[tokio::test]
async fn get_folders_for_document() {
    let f = fixture().await;
    let r = f
        .ask(
            sq::GET_FOLDERS_FOR_DOCUMENT,
            true,
            &[("$XDSDocumentEntryUniqueId", &format!("'{}'", f.a1.uid))],
        )
        .await;
    assert_eq!(answer::unique_ids(&r), vec![f.folder_uid.clone()]);
    let r = f.ask(sq::GET_FOLDERS_FOR_DOCUMENT, true, &[]).await;
    expect_error(&r, "XDSStoredQueryMissingParam");
}

#[tokio::test]
async fn get_related_documents() {
    let f = fixture().await;
    let r = f
        .ask(
            sq::GET_RELATED_DOCUMENTS,
            true,
            &[
                ("$XDSDocumentEntryEntryUUID", &format!("'{}'", f.b1.id)),
                ("$AssociationTypes", &format!("('{}')", ids::RPLC)),
            ],
        )
        .await;
    let mut got = answer::unique_ids(&r);
    got.sort();
    let mut want = vec![f.a2.uid.clone(), f.b1.uid.clone()];
    want.sort();
    assert_eq!(got, want);
    assert_eq!(answer::count(&r, "Association"), 1);
    let r = f
        .ask(
            sq::GET_RELATED_DOCUMENTS,
            true,
            &[("$XDSDocumentEntryEntryUUID", &format!("'{}'", f.b1.id))],
        )
        .await;
    expect_error(&r, "XDSStoredQueryMissingParam");
}

#[tokio::test]
async fn unknown_stored_query_is_a_registry_error() {
    let f = fixture().await;
    let r = f
        .ask("urn:uuid:00000000-0000-0000-0000-000000000000", true, &[])
        .await;
    expect_error(&r, "XDSRegistryError");
}

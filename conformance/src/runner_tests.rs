//! Runner tests through a fake Transport: canned answers, and an "echo registry" that answers
//! a stored query with the objects of the last submission, enough for real testkit tests.

use crate::xml::TrimmedText;
use std::cell::RefCell;
use std::path::Path;

use super::runner::{select_tests, RunOptions, Runner};
use super::site::Site;
use super::testkit::{default_testkit, Testkit};
use super::transport::{SoapRequest, SoapResponse, Transport, TransportError};
use super::xml::{self, Element, Node};

const SUCCESS: &str = r#"<rs:RegistryResponse xmlns:rs="urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0" status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"/>"#;
const RIM: &str = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0";

#[derive(Default)]
struct EchoRegistry {
    last: RefCell<Vec<Element>>,
    /// uniqueId -> (mimeType, base64) from ProvideAndRegister.
    docs: RefCell<Vec<(String, String, String)>>,
    sent: RefCell<Vec<SoapRequest>>,
    feeds: RefCell<Vec<String>>,
}

fn objects_of(body: &Element) -> Vec<Element> {
    let list = body
        .descendants()
        .into_iter()
        .find(|e| e.name == "RegistryObjectList")
        .cloned();
    list.map(|l| l.elements().cloned().collect())
        .unwrap_or_default()
}

impl Transport for EchoRegistry {
    fn send(&self, req: &SoapRequest) -> Result<SoapResponse, TransportError> {
        self.sent.borrow_mut().push(req.clone());
        let body = xml::parse(&req.body).map_err(|e| TransportError {
            endpoint: req.url.clone(),
            message: e.to_string(),
        })?;
        if req.action.ends_with("RegistryStoredQuery") {
            let mut list = Element::new(Some("rim"), "RegistryObjectList", Some(RIM));
            for mut o in self.last.borrow().iter().cloned() {
                o.set_attr(
                    "status",
                    "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved",
                );
                list.children.push(Node::Element(o));
            }
            let mut resp = Element::new(
                Some("query"),
                "AdhocQueryResponse",
                Some("urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0"),
            )
            .with_attr(
                "status",
                "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success",
            );
            resp.push(list);
            xml::fix_namespaces(&mut resp);
            return Ok(SoapResponse::ok(
                "urn:ihe:iti:2007:RegistryStoredQueryResponse",
                resp.to_xml(),
            ));
        }
        if req.action.ends_with("RetrieveDocumentSet") {
            let mut out = String::from(
                r#"<xdsb:RetrieveDocumentSetResponse xmlns:xdsb="urn:ihe:iti:xds-b:2007">"#,
            );
            out.push_str(SUCCESS);
            for r in body.children_local("DocumentRequest") {
                let uid = r
                    .child_local("DocumentUniqueId")
                    .map(|e| e.trimmed_text())
                    .unwrap_or_default();
                if let Some((_, mime, b64)) = self.docs.borrow().iter().find(|d| d.0 == uid) {
                    out.push_str(&format!(
                        "<xdsb:DocumentResponse><xdsb:RepositoryUniqueId>1.2.3.4</xdsb:RepositoryUniqueId><xdsb:DocumentUniqueId>{uid}</xdsb:DocumentUniqueId><xdsb:mimeType>{mime}</xdsb:mimeType><xdsb:Document>{b64}</xdsb:Document></xdsb:DocumentResponse>"
                    ));
                }
            }
            out.push_str("</xdsb:RetrieveDocumentSetResponse>");
            return Ok(SoapResponse::ok(
                "urn:ihe:iti:2007:RetrieveDocumentSetResponse",
                out,
            ));
        }
        let objects = objects_of(&body);
        for d in body.children_local("Document") {
            let id = d.attr("id").unwrap_or_default();
            let Some(eo) = objects.iter().find(|o| o.attr("id") == Some(id)) else {
                continue;
            };
            let uid = eo
                .children_local("ExternalIdentifier")
                .find(|x| {
                    x.attr("identificationScheme") == Some(super::metadata_prep::DE_UNIQUE_ID)
                })
                .and_then(|x| x.attr("value"))
                .unwrap_or_default();
            let mime = eo.attr("mimeType").unwrap_or_default();
            self.docs
                .borrow_mut()
                .push((uid.into(), mime.into(), d.trimmed_text()));
        }
        *self.last.borrow_mut() = objects;
        Ok(SoapResponse::ok("response", SUCCESS))
    }

    fn patient_feed(&self, _address: &str, message: &str) -> Result<String, TransportError> {
        self.feeds.borrow_mut().push(message.to_string());
        Ok("MSH|^~\\&|R|R|S|S|20260101||ACK^A01|1|P|2.3\rMSA|AA|1\r".into())
    }
}

fn site() -> Site {
    Site::parse(
        r#"
        home_community_id = "urn:oid:1.2.3"
        repository_unique_id = "1.2.3.4"
        [endpoints]
        registry = "https://sut/reg"
        repository = "https://sut/rep"
        [patient_feed]
        address = "sut:2575"
        "#,
    )
    .unwrap()
}

fn quiet() -> RunOptions {
    RunOptions {
        run_dependencies: true,
        honour_waits: false,
    }
}

/// A tiny testkit on disk: one passing test and one whose expectation is not met.
fn tiny_testkit(root: &Path) -> Testkit {
    let t = root.join("testkit/tests");
    let w = |p: &str, s: &str| {
        let p = t.join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, s).unwrap();
    };
    let sor = r#"<lcm:SubmitObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"><rim:RegistryObjectList>
      <rim:ExtrinsicObject id="Document01" mimeType="text/plain" objectType="urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1">
        <rim:ExternalIdentifier id="e1" registryObject="Document01" identificationScheme="urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab" value="x"/></rim:ExtrinsicObject>
      <rim:RegistryPackage id="SubmissionSet01">
        <rim:ExternalIdentifier id="e2" registryObject="SubmissionSet01" identificationScheme="urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8" value="y"/></rim:RegistryPackage>
      <rim:Association id="a1" associationType="urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember" sourceObject="SubmissionSet01" targetObject="Document01"/>
    </rim:RegistryObjectList></lcm:SubmitObjectsRequest>"#;
    w("T1/index.idx", "submit\nquery\n");
    w("T1/submit/m.xml", sor);
    w("T1/submit/doc.txt", "hello");
    w(
        "T1/submit/testplan.xml",
        r#"<TestPlan><Test>T1/submit</Test><TestStep id="submit"><ExpectedStatus>Success</ExpectedStatus>
      <ProvideAndRegisterTransaction><XDSb/><AssignUuids/><MetadataFile>m.xml</MetadataFile><Document id="Document01">doc.txt</Document></ProvideAndRegisterTransaction></TestStep></TestPlan>"#,
    );
    w(
        "T1/query/q.xml",
        r#"<query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0"><rim:AdhocQuery xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0" id="urn:uuid:e8e3cb2c-e39c-46b9-99e4-c12f57260b83"><rim:Slot name="$XDSSubmissionSetUniqueId"><rim:ValueList><rim:Value>'$ssuid$'</rim:Value></rim:ValueList></rim:Slot></rim:AdhocQuery></query:AdhocQueryRequest>"#,
    );
    w(
        "T1/query/testplan.xml",
        r#"<TestPlan><Test>T1/query</Test><TestStep id="q"><ExpectedStatus>Success</ExpectedStatus>
      <StoredQueryTransaction><XDSb/><UseId testdir="../submit" id="SubmissionSet01" symbol="$ssuid$" step="submit" section="AssignedUids"/>
      <MetadataFile>q.xml</MetadataFile><ExpectedContents><SSwithOneDoc/><DocApp/></ExpectedContents>
      <Assertions><DataRef file="THIS" as="output"/><Assert id="one">count(//*[local-name()='ExtrinsicObject']) = 1</Assert></Assertions>
      </StoredQueryTransaction></TestStep></TestPlan>"#,
    );
    w("T2/index.idx", "reject\n");
    w("T2/reject/m.xml", sor);
    w(
        "T2/reject/testplan.xml",
        r#"<TestPlan><Test>T2/reject</Test><TestStep id="submit"><ExpectedStatus>Failure</ExpectedStatus>
      <ExpectedErrorCode>XDSRegistryMetadataError</ExpectedErrorCode>
      <RegisterTransaction><XDSb/><MetadataFile>m.xml</MetadataFile></RegisterTransaction></TestStep></TestPlan>"#,
    );
    Testkit::at(root)
}

#[test]
fn pass_and_fail_rows_with_a_fake_transport() {
    let dir = tempfile::tempdir().unwrap();
    let tk = tiny_testkit(dir.path());
    let fake = EchoRegistry::default();
    let mut site = site();
    site.rewrite_codes = false; // the tiny testkit has no codes.xml
    let mut runner = Runner::new(tk, site, &fake).unwrap().with_options(quiet());
    let report = runner.run(&["T1".to_string(), "T2".to_string()]).clone();
    let table = report.table();
    assert_eq!(report.rows.len(), 3, "{table}");
    assert!(report.rows[0].passed && report.rows[1].passed, "{table}");
    assert!(!report.rows[2].passed);
    assert!(
        report.rows[2]
            .reason
            .contains("expected Failure, got Success"),
        "{table}"
    );
    assert!(
        report.rows[2].reason.contains("XDSRegistryMetadataError"),
        "{table}"
    );
    assert_eq!(table.lines().last(), Some("2 passed, 1 failed"));

    let sent = fake.sent.borrow();
    assert_eq!(sent[0].url, "https://sut/rep");
    assert_eq!(
        sent[0].action,
        "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b"
    );
    assert!(
        sent[0].body.contains("aGVsbG8="),
        "document inline as base64"
    );
    // The query carried the uniqueId assigned to the submission set in the submit section.
    let ss_uid = runner
        .logs()
        .step("T1", "submit", "submit")
        .unwrap()
        .assignments
        .lookup("AssignedUids", "SubmissionSet01")
        .unwrap()
        .to_string();
    assert!(sent[1].body.contains(&format!("'{ss_uid}'")));
    // One feed for T1's patient before its first submission, one for T2's.
    assert_eq!(fake.feeds.borrow().len(), 2);
}

#[test]
fn runs_a_real_pr_b_test_and_its_log_layout() {
    let Some(tk) = default_testkit() else { return };
    let fake = EchoRegistry::default();
    let mut runner = Runner::new(tk.clone(), site(), &fake)
        .unwrap()
        .with_options(quiet());
    let tests = select_tests(&tk, &[], &["11966".to_string()]);
    let report = runner.run(&tests).clone();
    let submit = report.rows.iter().find(|r| r.section == "submit").unwrap();
    assert!(submit.passed, "{}", report.table());
    let eval = report.rows.iter().find(|r| r.section == "eval").unwrap();
    assert!(eval.passed, "{}", report.table());
    // The 2.1 file went out as 3.0 with UUIDs and the test's patient id.
    let sent = fake.sent.borrow();
    assert!(sent[0]
        .body
        .contains("urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"));
    assert!(!sent[0].body.contains("rim:xsd:2.1"));
    let log = runner.logs().section("11966", "submit").unwrap().to_xml();
    let doc = super::assertions::XPathDoc::parse(&log).unwrap();
    assert!(doc
        .boolean(
            "count(//ProvideAndRegisterTransaction/AssignedUids/Assign[@symbol='Document01']) = 1"
        )
        .unwrap());
}

#[test]
fn a_xua_test_sends_its_variant_to_the_actor_under_test() {
    let Some(tk) = default_testkit() else { return };
    let pki = tempfile::tempdir().unwrap();
    ncpeh::pki::init(pki.path(), false).unwrap();
    let fake = EchoRegistry::default();
    let site = site().with_pki_dir(pki.path());
    let mut runner = Runner::new(tk.clone(), site, &fake)
        .unwrap()
        .with_options(quiet());
    let report = runner.run(&["11966_expired".to_string()]).clone();
    // The echo registry accepts everything, so the expected fault does not come.
    let submit = report.rows.iter().find(|r| r.section == "submit").unwrap();
    assert!(
        submit.reason.contains("expected a SOAP fault"),
        "{}",
        report.table()
    );
    let sent = fake.sent.borrow();
    let header = |i: usize| sent[i].security.clone().unwrap_or_default();
    // The expired assertion goes to the repository under test; the check query to the
    // supporting registry gets a valid one.
    assert!(sent[0].url.ends_with("/rep") && sent[1].url.ends_with("/reg"));
    let expires = |h: &str| -> time::OffsetDateTime {
        let at = h.split("NotOnOrAfter=\"").nth(1).unwrap_or_default();
        let at = at.split('"').next().unwrap_or_default();
        let fmt = time::format_description::well_known::Rfc3339;
        time::OffsetDateTime::parse(at, &fmt).unwrap()
    };
    let now = time::OffsetDateTime::now_utc();
    assert!(expires(&header(0)) < now, "{}", header(0));
    assert!(expires(&header(1)) > now, "{}", header(1));
    assert!(header(0).contains("<ds:Signature"));
    // Tests outside the XUA collections send no assertion.
    drop(sent);
    runner.run(&["11966".to_string()]);
    assert!(fake
        .sent
        .borrow()
        .iter()
        .skip(2)
        .all(|r| r.security.is_none()));
}

/// Smoke run of the issue's collections against the echo registry, for runner bugs
/// (unresolved UseId/UseReport, unreadable files); `--ignored --nocapture` prints the table.
#[test]
#[ignore]
fn smoke_collections_against_echo_registry() {
    let Some(tk) = default_testkit() else { return };
    let fake = EchoRegistry::default();
    let mut runner = Runner::new(tk.clone(), site(), &fake)
        .unwrap()
        .with_options(quiet());
    let cols: Vec<String> = std::env::var("SMOKE_COLLECTIONS")
        .unwrap_or_else(|_| "R.b,SQ.b,PR.b,Ret.b".into())
        .split(',')
        .map(String::from)
        .collect();
    let mut tests = select_tests(&tk, &cols, &[]);
    if cols.iter().any(|c| c == "ALL") {
        tests = std::fs::read_dir(tk.tests_dir())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        tests.sort();
    }
    println!("{}", runner.run(&tests).table());
}

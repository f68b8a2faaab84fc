//! The plan model on the MHD (FHIR) steps: every MHD recipient plan parses, and the FHIR
//! elements land where the steps read them.

use super::testplan::*;

/// The MHD plans (a second testkit): every plan the recipient/responder collections and
/// the stray pdb_* tests hold parses with no unknown element. 15833 (a Document Source
/// test, MhdClientTransaction) is out of scope.
#[test]
fn parses_every_mhd_recipient_plan() {
    let Some(root) = crate::testkit::default_mhd_root() else {
        eprintln!("MHD testkit not found; skipped");
        return;
    };
    let mut plans = 0;
    let mut unknown = Vec::new();
    for entry in std::fs::read_dir(root.join("testkit/tests")).unwrap() {
        let test_dir = entry.unwrap().path();
        if !test_dir.is_dir() || test_dir.ends_with("15833") {
            continue;
        }
        for s in std::fs::read_dir(&test_dir).unwrap() {
            let p = s.unwrap().path().join("testplan.xml");
            if !p.exists() {
                continue;
            }
            let plan = read_plan(&p).unwrap();
            unknown.extend(plan.unknown.iter().map(|u| format!("{}: {u}", p.display())));
            plans += 1;
        }
    }
    assert!(plans >= 40, "only {plans} plans");
    assert!(unknown.is_empty(), "unknown elements: {unknown:?}");
}

#[test]
fn reads_the_fhir_steps() {
    let plan = parse_plan(
        r#"<TestPlan><Test>x/submit</Test>
        <TestStep id="PatientLookup"><ExpectedStatus>Success</ExpectedStatus><FhirReadTransaction>
          <UseReport test="supporting_fhir_patients" reportName="Ref" section="patient1" step="create" useAs="Ref"/>
          <Report name="pid_value" section="Result">//*[local-name()='value']/@value</Report>
        </FhirReadTransaction></TestStep>
        <TestStep id="SendPdb"><ExpectedStatus>Success</ExpectedStatus><ProvideDocumentBundleTransaction>
          <AddMasterIdentifier/><UseReport step="PatientLookup" section="THIS" reportName="Url" useAs="$patient_reference$"/>
          <ResourceFile>SingleDocSubmit.xml</ResourceFile></ProvideDocumentBundleTransaction></TestStep>
        <TestStep id="read"><FhirReadTransaction><MustReturn/><MustBeSuperseded/><AcceptType>text/plain</AcceptType>
          <ReferenceDocument>../submit/textfile.txt</ReferenceDocument><RequestType>application/pdf</RequestType>
        </FhirReadTransaction></TestStep>
        <TestStep id="create"><FhirCreatePatientTransaction><ResourceFile>patient.xml</ResourceFile>
          <UrlExtension>/Patient</UrlExtension></FhirCreatePatientTransaction></TestStep></TestPlan>"#,
    )
    .unwrap();
    assert!(plan.unknown.is_empty(), "{:?}", plan.unknown);
    let tx = |i: usize| plan.steps[i].transaction.clone().unwrap();
    assert_eq!(tx(0).kind, TransactionKind::FhirRead);
    assert_eq!(
        tx(0).use_reports[0].test.as_deref(),
        Some("supporting_fhir_patients")
    );
    assert_eq!(tx(0).reports[0].name, "pid_value");
    let pdb = tx(1);
    assert_eq!(pdb.kind, TransactionKind::ProvideDocumentBundle);
    assert_eq!(pdb.fhir.master_ids, MasterIds::Fresh);
    assert_eq!(
        pdb.fhir.resource_file.as_deref(),
        Some("SingleDocSubmit.xml")
    );
    let read = tx(2).fhir;
    assert!(read.must_return && read.must_be_superseded);
    assert_eq!(read.accept_type.as_deref(), Some("text/plain"));
    assert_eq!(read.request_type.as_deref(), Some("application/pdf"));
    assert_eq!(
        read.reference_document.as_deref(),
        Some("../submit/textfile.txt")
    );
    assert!(tx(2).reference_documents.is_empty());
    let create = tx(3);
    assert_eq!(create.kind, TransactionKind::FhirCreatePatient);
    assert_eq!(create.fhir.url_extension.as_deref(), Some("/Patient"));
    // A FHIR element on a SOAP step stays unknown.
    let soap = parse_plan(
        r#"<TestPlan><Test>t</Test><TestStep id="s"><RegisterTransaction><MustReturn/></RegisterTransaction></TestStep></TestPlan>"#,
    )
    .unwrap();
    assert_eq!(soap.unknown, ["RegisterTransaction/MustReturn"]);
}

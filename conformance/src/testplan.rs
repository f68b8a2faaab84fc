//! Typed model of a test's `index.idx` and of each section's `testplan.xml`.
//! Every element the testkit uses is modelled; anything else lands in `unknown`
//! so the runner can report it instead of silently skipping it.

use crate::xml::TrimmedText;
use std::path::Path;

use super::expected::ContentCheck;
use super::plan_xml::{invalid, opt_attr, parse_use_id, req_attr, PlanError, UseId};
use super::xml::{self, Element};

/// Sections of a test, in the order `index.idx` lists them.
pub fn read_index(test_dir: &Path) -> Result<Vec<String>, PlanError> {
    let path = test_dir.join("index.idx");
    let text = std::fs::read_to_string(&path).map_err(|source| PlanError::Io {
        path: path.display().to_string(),
        source,
    })?;
    Ok(parse_index(&text))
}

pub fn parse_index(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedStatus {
    Success,
    PartialSuccess,
    Failure,
    Fault,
}

impl ExpectedStatus {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "Success" => Some(Self::Success),
            "PartialSuccess" => Some(Self::PartialSuccess),
            "Failure" => Some(Self::Failure),
            "Fault" => Some(Self::Fault),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "Success",
            Self::PartialSuccess => "PartialSuccess",
            Self::Failure => "Failure",
            Self::Fault => "Fault",
        }
    }
}

/// The transaction element of a step; the name says which IHE transaction it drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionKind {
    /// ITI-42
    Register,
    /// ITI-41
    ProvideAndRegister,
    /// ITI-43
    Retrieve,
    /// ITI-18
    StoredQuery,
    /// No message: only UseReport + Assertions.
    Null,
    /// ITI-8 (HL7 v2 ADT over MLLP).
    PatientIdentityFeed,
    /// ITI-57 Update Document Set.
    Mu,
    /// ITI-92 Restricted Update Document Set.
    Rmu,
    /// ITI-62 Delete Document Set.
    RemoveMetadata,
    /// ITI-86 Remove Documents.
    Rd,
    /// ITI-18 through an initiating gateway.
    Igq,
    /// ITI-43 through an initiating gateway.
    Igr,
    /// ITI-38 cross-gateway query.
    Xcq,
    /// ITI-39 cross-gateway retrieve.
    Xcr,
    /// ITI-92 across communities.
    XcRmu,
    /// MHD: the test's patient made known to the FHIR server (here: fed over ITI-8 and found
    /// by identifier; see `fhir_step`).
    FhirCreatePatient,
    /// MHD: a FHIR read (ITI-68 Retrieve Document, a DocumentReference or Patient read).
    FhirRead,
    /// MHD ITI-65 Provide Document Bundle.
    ProvideDocumentBundle,
}

impl TransactionKind {
    pub fn from_element(name: &str) -> Option<Self> {
        Some(match name {
            "RegisterTransaction" => Self::Register,
            "ProvideAndRegisterTransaction" => Self::ProvideAndRegister,
            "RetrieveTransaction" => Self::Retrieve,
            "StoredQueryTransaction" => Self::StoredQuery,
            "NullTransaction" => Self::Null,
            "PatientIdentityFeedTransaction" => Self::PatientIdentityFeed,
            "MuTransaction" => Self::Mu,
            "RmuTransaction" => Self::Rmu,
            "RemoveMetadataTransaction" => Self::RemoveMetadata,
            "RdTransaction" => Self::Rd,
            "IGQTransaction" => Self::Igq,
            "IGRTransaction" => Self::Igr,
            "XCQTransaction" => Self::Xcq,
            "XCRTransaction" => Self::Xcr,
            "XCRmuTransaction" => Self::XcRmu,
            "FhirCreatePatientTransaction" => Self::FhirCreatePatient,
            "FhirReadTransaction" => Self::FhirRead,
            "ProvideDocumentBundleTransaction" => Self::ProvideDocumentBundle,
            _ => return None,
        })
    }
    /// Element name, also used for the step log.
    pub fn element_name(self) -> &'static str {
        match self {
            Self::Register => "RegisterTransaction",
            Self::ProvideAndRegister => "ProvideAndRegisterTransaction",
            Self::Retrieve => "RetrieveTransaction",
            Self::StoredQuery => "StoredQueryTransaction",
            Self::Null => "NullTransaction",
            Self::PatientIdentityFeed => "PatientIdentityFeedTransaction",
            Self::Mu => "MuTransaction",
            Self::Rmu => "RmuTransaction",
            Self::RemoveMetadata => "RemoveMetadataTransaction",
            Self::Rd => "RdTransaction",
            Self::Igq => "IGQTransaction",
            Self::Igr => "IGRTransaction",
            Self::Xcq => "XCQTransaction",
            Self::Xcr => "XCRTransaction",
            Self::XcRmu => "XCRmuTransaction",
            Self::FhirCreatePatient => "FhirCreatePatientTransaction",
            Self::FhirRead => "FhirReadTransaction",
            Self::ProvideDocumentBundle => "ProvideDocumentBundleTransaction",
        }
    }

    /// The MHD steps, which speak FHIR over plain HTTPS instead of SOAP.
    pub fn is_fhir(self) -> bool {
        matches!(
            self,
            Self::FhirCreatePatient | Self::FhirRead | Self::ProvideDocumentBundle
        )
    }
}

/// What a Provide Document Bundle does to DocumentReference/DocumentManifest.masterIdentifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MasterIds {
    /// As the file has them.
    #[default]
    AsWritten,
    /// `<AddMasterIdentifier/>`: a fresh `urn:oid:` on every one, added where absent.
    Fresh,
    /// Fresh values only where the file has one (an erratum: pdb_submit_tests/no_ids).
    FreshWherePresent,
}

/// The elements only the FHIR steps use.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FhirStep {
    /// `<ResourceFile>`: the bundle (ProvideDocumentBundle) or resource (FhirCreatePatient).
    pub resource_file: Option<String>,
    /// `<UrlExtension>`: a path the toolkit appends to the base (`/Patient`).
    pub url_extension: Option<String>,
    pub master_ids: MasterIds,
    /// `<MustReturn/>`: the read must answer 200 with content.
    pub must_return: bool,
    /// `<MustBeSuperseded/>`: the DocumentReference read has status superseded.
    pub must_be_superseded: bool,
    /// `<AcceptType>` and `<RequestType>`: the Accept header (RequestType wins).
    pub accept_type: Option<String>,
    pub request_type: Option<String>,
    /// `<ReferenceDocument>` without a uid: the file the read content must equal.
    pub reference_document: Option<String>,
}

/// `<UseReport test section step reportName useAs/>`: take a named report of a step.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UseReport {
    pub test: Option<String>,
    pub section: String,
    pub step: String,
    pub report_name: String,
    pub use_as: String,
}

/// `<Report name section>XPath</Report>`: publish a value taken from the step log.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Report {
    pub name: String,
    /// Log section the XPath runs over: InputMetadata or Result.
    pub section: String,
    pub xpath: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct DocumentFile {
    pub id: String,
    pub file: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReferenceDocument {
    pub uid: String,
    pub file: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReferenceMetadata {
    pub testdir: String,
    pub step: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Assert {
    pub id: Option<String>,
    pub desc: Option<String>,
    pub xpath: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Assertions {
    /// `(file, as)` pairs; the testkit only uses `THIS` as `output`.
    pub data_refs: Vec<(String, String)>,
    pub asserts: Vec<Assert>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Transaction {
    pub kind: TransactionKind,
    pub xdsb: bool,
    pub assign_uuids: bool,
    /// `<NoAssignUids/>` (None: none at all) or `<NoAssignUids id=".."/>` per object.
    pub no_assign_uids: Vec<Option<String>>,
    pub no_patient_id: bool,
    pub no_metadata: bool,
    pub create_new_patient_id: bool,
    pub parse_metadata: Option<bool>,
    pub wait_before_ms: Option<u64>,
    pub interaction_sequence: Option<String>,
    pub metadata_file: Option<String>,
    pub documents: Vec<DocumentFile>,
    pub use_ids: Vec<UseId>,
    pub use_reports: Vec<UseReport>,
    pub reports: Vec<Report>,
    pub expected_contents: Option<Vec<ContentCheck>>,
    pub expected_mime_type: Option<String>,
    pub reference_documents: Vec<ReferenceDocument>,
    pub reference_metadata: Vec<ReferenceMetadata>,
    pub assertions: Option<Assertions>,
    pub fhir: FhirStep,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TestStep {
    pub id: String,
    pub goal: Option<String>,
    pub expected_status: Option<ExpectedStatus>,
    pub expected_error_codes: Vec<String>,
    pub expected_error_messages: Vec<String>,
    /// `<NewPatientId/>`: switch to a fresh patient id from here on.
    pub new_patient_id: bool,
    /// `<AltPatientId/>`: use the alternate (second) patient id in this step.
    pub alt_patient_id: bool,
    pub transaction: Option<Transaction>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct TestPlan {
    /// `<Test>` as written, e.g. `11966/submit`.
    pub test: String,
    pub sut_initiates: bool,
    pub steps: Vec<TestStep>,
    /// Element paths this model does not know: reported by the runner.
    pub unknown: Vec<String>,
}

pub fn read_plan(path: &Path) -> Result<TestPlan, PlanError> {
    let p = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| PlanError::Io {
        path: p.clone(),
        source,
    })?;
    parse_plan(&text).map_err(|e| match e {
        PlanError::Xml { source, .. } => PlanError::Xml { path: p, source },
        PlanError::Invalid { msg, .. } => PlanError::Invalid { path: p, msg },
        other => other,
    })
}

pub fn parse_plan(text: &str) -> Result<TestPlan, PlanError> {
    let root = xml::parse(text).map_err(|source| PlanError::Xml {
        path: String::new(),
        source,
    })?;
    if root.name != "TestPlan" {
        return Err(invalid(format!("root is <{}>, not <TestPlan>", root.name)));
    }
    let mut plan = TestPlan::default();
    for e in root.elements() {
        match e.name.as_str() {
            "Test" => plan.test = e.trimmed_text(),
            "Rule" => {}
            "SUTInitiates" => plan.sut_initiates = true,
            "TestStep" => {
                let step = parse_step(e, &mut plan.unknown)?;
                plan.steps.push(step);
            }
            other => plan.unknown.push(format!("TestPlan/{other}")),
        }
    }
    Ok(plan)
}

fn parse_step(e: &Element, unknown: &mut Vec<String>) -> Result<TestStep, PlanError> {
    let id = e
        .attr("id")
        .ok_or_else(|| invalid("TestStep without id".into()))?
        .to_string();
    let mut step = TestStep {
        id,
        goal: None,
        expected_status: None,
        expected_error_codes: Vec::new(),
        expected_error_messages: Vec::new(),
        new_patient_id: false,
        alt_patient_id: false,
        transaction: None,
    };
    for c in e.elements() {
        match c.name.as_str() {
            "Goal" => step.goal = Some(c.trimmed_text()),
            "Rule" => {}
            "ExpectedStatus" => {
                let s = c.trimmed_text();
                step.expected_status = Some(ExpectedStatus::parse(&s).ok_or_else(|| {
                    invalid(format!("step {}: unknown ExpectedStatus {s}", step.id))
                })?);
            }
            "ExpectedErrorCode" => step.expected_error_codes.push(c.trimmed_text()),
            "ExpectedErrorMessage" => step.expected_error_messages.push(c.trimmed_text()),
            "NewPatientId" => step.new_patient_id = true,
            "AltPatientId" => step.alt_patient_id = true,
            name => match TransactionKind::from_element(name) {
                Some(kind) => {
                    if step.transaction.is_some() {
                        return Err(invalid(format!(
                            "step {}: more than one transaction",
                            step.id
                        )));
                    }
                    step.transaction = Some(parse_transaction(kind, c, unknown)?);
                }
                None => unknown.push(format!("TestStep/{name}")),
            },
        }
    }
    Ok(step)
}

fn parse_transaction(
    kind: TransactionKind,
    e: &Element,
    unknown: &mut Vec<String>,
) -> Result<Transaction, PlanError> {
    let mut t = Transaction {
        kind,
        xdsb: false,
        assign_uuids: false,
        no_assign_uids: Vec::new(),
        no_patient_id: false,
        no_metadata: false,
        create_new_patient_id: false,
        parse_metadata: None,
        wait_before_ms: None,
        interaction_sequence: None,
        metadata_file: None,
        documents: Vec::new(),
        use_ids: Vec::new(),
        use_reports: Vec::new(),
        reports: Vec::new(),
        expected_contents: None,
        expected_mime_type: None,
        reference_documents: Vec::new(),
        reference_metadata: Vec::new(),
        assertions: None,
        fhir: FhirStep::default(),
    };
    for c in e.elements() {
        match c.name.as_str() {
            "XDSb" => t.xdsb = true,
            "AssignUuids" => t.assign_uuids = true,
            "NoAssignUids" => t.no_assign_uids.push(opt_attr(c, "id")),
            "NoPatientId" => t.no_patient_id = true,
            "NoMetadata" => t.no_metadata = true,
            "CreateNewPatientId" => t.create_new_patient_id = true,
            "ParseMetadata" => {
                t.parse_metadata = Some(!c.trimmed_text().eq_ignore_ascii_case("false"))
            }
            "WaitBefore" => {
                let s = c.trimmed_text();
                t.wait_before_ms = Some(
                    s.parse()
                        .map_err(|_| invalid(format!("WaitBefore {s} is not a number")))?,
                );
            }
            "InteractionSequence" => t.interaction_sequence = opt_attr(c, "useId"),
            "MetadataFile" => t.metadata_file = Some(c.trimmed_text()),
            "Document" => t.documents.push(DocumentFile {
                id: req_attr(c, "id")?,
                file: c.trimmed_text(),
            }),
            "UseId" => t.use_ids.push(parse_use_id(c)?),
            "UseReport" => t.use_reports.push(UseReport {
                test: opt_attr(c, "test"),
                section: req_attr(c, "section")?,
                step: req_attr(c, "step")?,
                report_name: req_attr(c, "reportName")?,
                use_as: req_attr(c, "useAs")?,
            }),
            "Report" => t.reports.push(Report {
                name: req_attr(c, "name")?,
                section: req_attr(c, "section")?,
                xpath: c.trimmed_text(),
            }),
            "ExpectedContents" => {
                t.expected_contents = Some(super::expected::parse_checks(c, unknown)?)
            }
            "ExpectedMimeType" => t.expected_mime_type = Some(c.trimmed_text()),
            // The FHIR reads name only the file: their Ref says what is read.
            "ReferenceDocument" if kind.is_fhir() => {
                t.fhir.reference_document = Some(c.trimmed_text())
            }
            "ReferenceDocument" => t.reference_documents.push(ReferenceDocument {
                uid: req_attr(c, "uid")?,
                file: c.trimmed_text(),
            }),
            "ResourceFile" if kind.is_fhir() => t.fhir.resource_file = Some(c.trimmed_text()),
            "UrlExtension" if kind.is_fhir() => t.fhir.url_extension = Some(c.trimmed_text()),
            "AddMasterIdentifier" if kind == TransactionKind::ProvideDocumentBundle => {
                t.fhir.master_ids = MasterIds::Fresh
            }
            "MustReturn" if kind == TransactionKind::FhirRead => t.fhir.must_return = true,
            "MustBeSuperseded" if kind == TransactionKind::FhirRead => {
                t.fhir.must_be_superseded = true
            }
            "AcceptType" if kind == TransactionKind::FhirRead => {
                t.fhir.accept_type = Some(c.trimmed_text())
            }
            "RequestType" if kind == TransactionKind::FhirRead => {
                t.fhir.request_type = Some(c.trimmed_text())
            }
            "ReferenceMetadata" => t.reference_metadata.push(ReferenceMetadata {
                testdir: req_attr(c, "testdir")?,
                step: req_attr(c, "step")?,
            }),
            "Assertions" => t.assertions = Some(parse_assertions(c, unknown)),
            other => unknown.push(format!("{}/{other}", kind.element_name())),
        }
    }
    Ok(t)
}

fn parse_assertions(e: &Element, unknown: &mut Vec<String>) -> Assertions {
    let mut a = Assertions::default();
    for c in e.elements() {
        match c.name.as_str() {
            "DataRef" => a.data_refs.push((
                c.attr("file").unwrap_or("THIS").to_string(),
                c.attr("as").unwrap_or("output").to_string(),
            )),
            "Assert" => a.asserts.push(Assert {
                id: opt_attr(c, "id"),
                desc: opt_attr(c, "desc"),
                xpath: c.trimmed_text(),
            }),
            other => unknown.push(format!("Assertions/{other}")),
        }
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::tests_dir;

    #[test]
    fn parses_every_index_and_testplan_in_the_testkit() {
        let Some(dir) = tests_dir() else {
            eprintln!("testkit not found; skipped");
            return;
        };
        let mut plans = 0;
        let mut unknown = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let test_dir = entry.unwrap().path();
            if !test_dir.is_dir() {
                continue;
            }
            let sections = read_index(&test_dir).unwrap();
            for s in sections {
                let p = test_dir.join(&s).join("testplan.xml");
                if !p.exists() {
                    continue;
                }
                let plan = read_plan(&p).unwrap();
                unknown.extend(plan.unknown.iter().map(|u| format!("{}: {u}", p.display())));
                plans += 1;
            }
        }
        assert!(plans > 500, "only {plans} plans");
        assert!(unknown.is_empty(), "unknown elements: {unknown:?}");
    }

    #[test]
    fn reads_a_pnr_step() {
        let plan = parse_plan(
            r#"<TestPlan><Test>11966/submit</Test><TestStep id="submit">
            <ExpectedStatus>Success</ExpectedStatus>
            <ProvideAndRegisterTransaction><XDSb/><MetadataFile>single_doc.xml</MetadataFile>
            <Document id="Document01">my_document.txt</Document></ProvideAndRegisterTransaction>
            </TestStep></TestPlan>"#,
        )
        .unwrap();
        let t = plan.steps[0].transaction.as_ref().unwrap();
        assert_eq!(t.kind, TransactionKind::ProvideAndRegister);
        assert_eq!(t.documents[0].file, "my_document.txt");
        assert_eq!(plan.steps[0].expected_status, Some(ExpectedStatus::Success));
    }
}

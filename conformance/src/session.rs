//! The runner's state: what the driver (`runner`) and the step executor (`step`) share.

use std::collections::HashSet;
use std::path::PathBuf;

use time::OffsetDateTime;

use super::codes::Codes;
use super::metadata_prep::IdSource;
use super::report::RunReport;
use super::site::{Community, Site};
use super::steplog::LogStore;
use super::testkit::Testkit;
use super::transport::Transport;
use super::xua::{Issuer, TestXua};

#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Run tests that a selected test takes ids or reports from, when not yet run.
    pub run_dependencies: bool,
    /// Honour `<WaitBefore>` (sleeps); off in unit tests.
    pub honour_waits: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            run_dependencies: true,
            honour_waits: true,
        }
    }
}

/// Per-test state: the patient ids in use.
pub(crate) struct TestState {
    pub patient_id: String,
    pub alt_patient_id: Option<String>,
    pub fed: Vec<String>,
    pub dependency: bool,
    /// The SAML assertion its requests carry, for a XUA test.
    pub xua: Option<TestXua>,
    /// Names the test's plans give themselves in `<Test>` that are no test of the kit (the MHD
    /// plans were copied from `pdb_single_doc_xof` and still UseReport that name): a UseReport
    /// into one of them means this test.
    pub aliases: Vec<String>,
    /// The test's Patient on the FHIR server, once found (`fhir_step`).
    pub fhir_patient: Option<FhirPatient>,
}

/// Where a step runs: test id, section name, section directory.
pub(crate) struct SectionCtx {
    pub test: String,
    pub section: String,
    pub dir: PathBuf,
    /// The community this section's data goes to, when the site routes it elsewhere.
    pub community: Option<Community>,
    pub feed_own_only: bool,
}

pub struct Runner<'t> {
    pub(crate) tk: Testkit,
    pub(crate) site: Site,
    pub(crate) transport: &'t dyn Transport,
    pub(crate) codes: Option<Codes>,
    pub(crate) feed_template: Option<String>,
    pub(crate) logs: LogStore,
    pub(crate) ids: Box<dyn IdSource>,
    pub(crate) clock: Box<dyn Fn() -> OffsetDateTime>,
    pub(crate) opts: RunOptions,
    pub(crate) counter: u64,
    /// The patient each `test/section` ran with (routed sections may share one).
    pub(crate) section_patients: std::collections::HashMap<String, String>,
    pub(crate) report: RunReport,
    pub(crate) in_progress: Vec<String>,
    pub(crate) finished: HashSet<String>,
    /// The site's XUA test issuer, loaded when a XUA test first needs it.
    pub(crate) xua_issuer: Option<Issuer>,
}

/// The test's Patient on the FHIR server: (the patient id it was found for, its URL).
pub(crate) type FhirPatient = (String, String);

/// The runner's clock as a DTM, `offset` away from now.
pub(crate) fn now_string(r: &Runner, offset: time::Duration) -> String {
    let f = time::macros::format_description!("[year][month][day][hour][minute][second]");
    ((r.clock)() + offset).format(&f).unwrap_or_default()
}

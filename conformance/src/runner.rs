//! Drives tests: sections in `index.idx` order, steps in plan order, through a [`Transport`].
//!
//! Each test gets its own fresh patient id (fed to the patient-feed endpoint before its first
//! submission, when the site has one), so tests do not see each other's documents.
//! Tests a requested test depends on (UseId/UseReport/ReferenceMetadata into another test)
//! are run first when their logs are not there yet; their rows are marked as dependencies.

use std::collections::HashSet;

use time::OffsetDateTime;

use super::codes::Codes;
use super::metadata_prep::{IdSource, RandomIds};
use super::report::{Row, RunReport};
pub use super::session::{RunOptions, Runner};
use super::session::{SectionCtx, TestState};
use super::site::Site;
use super::steplog::{LogStore, SectionLog};
use super::testkit::Testkit;
use super::testplan::{read_index, read_plan, TestPlan};
use super::transport::Transport;
use super::xua::{Issuer, TestXua};

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Codes(#[from] super::codes::CodesError),
    #[error("{0}: {1}")]
    Template(String, std::io::Error),
}

/// The tests named by `--collections` and `--tests`, collections first, without repeats.
pub fn select_tests(tk: &Testkit, collections: &[String], tests: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in collections {
        for t in tk.collection(c) {
            if !out.contains(&t) {
                out.push(t);
            }
        }
    }
    for t in tests {
        if !out.contains(t) {
            out.push(t.clone());
        }
    }
    out
}

impl<'t> Runner<'t> {
    pub fn new(tk: Testkit, site: Site, transport: &'t dyn Transport) -> Result<Self, RunError> {
        let codes = if site.rewrite_codes {
            Some(Codes::load(&tk.codes_file())?)
        } else {
            None
        };
        let tpl = tk.patient_feed_template();
        let feed_template = if tpl.exists() {
            Some(
                std::fs::read_to_string(&tpl)
                    .map_err(|e| RunError::Template(tpl.display().to_string(), e))?,
            )
        } else {
            None
        };
        Ok(Runner {
            tk,
            site,
            transport,
            codes,
            feed_template,
            logs: LogStore::default(),
            ids: Box::new(RandomIds),
            clock: Box::new(OffsetDateTime::now_utc),
            opts: RunOptions::default(),
            counter: 0,
            section_patients: std::collections::HashMap::new(),
            report: RunReport::default(),
            in_progress: Vec::new(),
            finished: HashSet::new(),
            xua_issuer: None,
        })
    }

    pub fn with_options(mut self, opts: RunOptions) -> Self {
        self.opts = opts;
        self
    }

    pub fn with_ids(mut self, ids: Box<dyn IdSource>) -> Self {
        self.ids = ids;
        self
    }

    pub fn with_clock(mut self, clock: Box<dyn Fn() -> OffsetDateTime>) -> Self {
        self.clock = clock;
        self
    }

    /// Run the tests in order; the report accumulates over calls.
    pub fn run(&mut self, tests: &[String]) -> &RunReport {
        for t in tests {
            self.run_test(t, false);
        }
        &self.report
    }

    pub fn report(&self) -> &RunReport {
        &self.report
    }

    pub fn logs(&self) -> &LogStore {
        &self.logs
    }

    pub fn into_report(self) -> RunReport {
        self.report
    }

    pub(crate) fn fresh_patient_id(&mut self) -> String {
        let u = uuid::Uuid::new_v4().simple().to_string();
        let short: String = u.chars().take(15).collect();
        format!("{short}^^^&{}&ISO", self.site.patient_id_authority)
    }

    /// The XUA test issuer the site file names, loaded once.
    pub(crate) fn xua_issuer(&mut self) -> Result<&Issuer, String> {
        let site = &self.site;
        match &mut self.xua_issuer {
            Some(issuer) => Ok(issuer),
            slot => {
                let issuer = Issuer::from_site(site.xua.as_ref()).map_err(|e| e.to_string())?;
                Ok(slot.insert(issuer))
            }
        }
    }

    fn fail_row(&mut self, test: &str, section: &str, step: &str, reason: String, dep: bool) {
        self.report.push(Row {
            test: test.into(),
            section: section.into(),
            step: step.into(),
            passed: false,
            reason,
            dependency: dep,
        });
    }

    fn run_test(&mut self, test: &str, dependency: bool) {
        if self.finished.contains(test) || self.in_progress.iter().any(|t| t == test) {
            return;
        }
        self.in_progress.push(test.to_string());
        let dir = self.tk.test_dir(test);
        let sections = match read_index(&dir) {
            Ok(s) => s,
            Err(e) => {
                self.fail_row(test, "-", "-", e.to_string(), dependency);
                self.in_progress.pop();
                self.finished.insert(test.to_string());
                return;
            }
        };
        let mut plans: Vec<(String, Result<TestPlan, String>)> = Vec::new();
        for s in sections {
            let p = dir.join(&s).join("testplan.xml");
            plans.push((s, read_plan(&p).map_err(|e| e.to_string())));
        }
        self.add_register_patient(&dir, &mut plans);
        if self.opts.run_dependencies {
            for dep in self.dependencies(test, &plans) {
                if !self.logs.has_test(&dep) {
                    self.run_test(&dep, true);
                }
            }
        }
        // A test that takes its patient from a feed test in one section (12346 from 15818)
        // means that patient for all its sections, as the toolkit's session patient would be.
        let inherited = self.inherited_patient(test, &plans);
        let fed = inherited.iter().cloned().collect();
        let patient_id = inherited.unwrap_or_else(|| self.fresh_patient_id());
        let xua = TestXua::for_test(test, &self.tk.collections_of(test)).unwrap_or_else(|e| {
            self.fail_row(test, "-", "-", e, dependency);
            None
        });
        let aliases = self.aliases(test, &plans);
        let mut st = TestState {
            patient_id,
            alt_patient_id: None,
            fed,
            dependency,
            xua,
            aliases,
            fhir_patient: None,
        };
        for (section, plan) in plans {
            match plan {
                Ok(plan) => self.run_section(test, &section, &plan, &mut st),
                Err(e) => self.fail_row(test, &section, "-", e, dependency),
            }
        }
        self.in_progress.pop();
        self.finished.insert(test.to_string());
    }

    /// An MHD test that takes its Patient from `supporting_fhir_patients` runs its own
    /// `register_patient` section first, which the plans have but `index.idx` does not list
    /// (see `fhir_step`).
    fn add_register_patient(
        &self,
        dir: &std::path::Path,
        plans: &mut Vec<(String, Result<TestPlan, String>)>,
    ) {
        use super::fhir_step::{REGISTER_PATIENT, SUPPORTING_FHIR_PATIENTS};
        let wants = plans
            .iter()
            .filter_map(|(_, p)| p.as_ref().ok())
            .flat_map(|p| p.steps.iter())
            .filter_map(|s| s.transaction.as_ref())
            .flat_map(|t| t.use_reports.iter())
            .any(|u| u.test.as_deref() == Some(SUPPORTING_FHIR_PATIENTS));
        let listed = plans.iter().any(|(s, _)| s == REGISTER_PATIENT);
        let path = dir.join(REGISTER_PATIENT).join("testplan.xml");
        if wants && !listed && path.exists() {
            let plan = read_plan(&path).map_err(|e| e.to_string());
            plans.insert(0, (REGISTER_PATIENT.to_string(), plan));
        }
    }

    /// The names this test's plans call themselves in `<Test>` (before the `/`) that are
    /// neither this test nor any test of the kit.
    fn aliases(&self, test: &str, plans: &[(String, Result<TestPlan, String>)]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (_, plan) in plans {
            let Ok(plan) = plan else { continue };
            let name = plan.test.split('/').next().unwrap_or_default().trim();
            if !name.is_empty()
                && name != test
                && !self.tk.has_test(name)
                && !out.iter().any(|a| a == name)
            {
                out.push(name.to_string());
            }
        }
        out
    }

    /// The `$patientid$` another test reported, when a step of this test uses it.
    fn inherited_patient(
        &self,
        test: &str,
        plans: &[(String, Result<TestPlan, String>)],
    ) -> Option<String> {
        plans
            .iter()
            .filter_map(|(_, p)| p.as_ref().ok())
            .flat_map(|p| p.steps.iter())
            .filter_map(|s| s.transaction.as_ref())
            .flat_map(|t| t.use_reports.iter())
            .filter(|u| {
                u.report_name == "$patientid$" && u.test.as_deref().is_some_and(|t| t != test)
            })
            .find_map(|u| {
                let t = u.test.as_deref()?;
                self.logs
                    .step(t, &u.section, &u.step)
                    .and_then(|s| s.report("$patientid$"))
                    .map(str::to_string)
            })
    }

    /// Other tests this one reads ids or reports from.
    fn dependencies(
        &self,
        test: &str,
        plans: &[(String, Result<TestPlan, String>)],
    ) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut add = |t: String| {
            if t != test && !t.is_empty() && !out.contains(&t) {
                out.push(t);
            }
        };
        for (section, plan) in plans {
            let Ok(plan) = plan else { continue };
            for step in &plan.steps {
                let Some(tx) = &step.transaction else {
                    continue;
                };
                for u in &tx.use_ids {
                    if let Some(d) = &u.testdir {
                        add(self.tk.resolve_testdir(test, section, d).0);
                    }
                }
                for u in &tx.use_reports {
                    if let Some(t) = &u.test {
                        add(t.clone());
                    }
                }
                for m in &tx.reference_metadata {
                    add(self.tk.resolve_testdir(test, section, &m.testdir).0);
                }
            }
        }
        // Only real test directories: a testdir may point at shared test data.
        out.retain(|t| self.tk.has_test(t));
        out
    }

    fn run_section(&mut self, test: &str, section: &str, plan: &TestPlan, st: &mut TestState) {
        let dep = st.dependency;
        if !plan.unknown.is_empty() {
            let msg = format!("unknown testplan elements: {}", plan.unknown.join(", "));
            self.fail_row(test, section, "-", msg, dep);
        }
        if plan.sut_initiates {
            let msg = "the system under test initiates this test; not driven by the runner";
            self.fail_row(test, section, "-", msg.into(), dep);
            return;
        }
        self.logs.insert(
            test,
            section,
            SectionLog {
                test: plan.test.clone(),
                steps: Vec::new(),
            },
        );
        let route = self.site.route(test, section).cloned();
        if let Some(r) = &route {
            match r.patient.as_deref() {
                Some("new") => st.patient_id = self.fresh_patient_id(),
                Some(other) => {
                    if let Some(p) = self.section_patients.get(other) {
                        st.patient_id = p.clone();
                    }
                }
                None => {}
            }
        }
        self.section_patients
            .insert(format!("{test}/{section}"), st.patient_id.clone());
        let ctx = SectionCtx {
            test: test.to_string(),
            section: section.to_string(),
            dir: self.tk.test_dir(test).join(section),
            community: route
                .as_ref()
                .and_then(|r| r.community.as_deref())
                .and_then(|c| self.site.community(c))
                .cloned(),
            feed_own_only: route.as_ref().is_some_and(|r| r.feed_own_only),
        };
        for step in &plan.steps {
            let erratum = super::errata::find(test, section, &step.id);
            let amended = erratum.map(|e| e.apply(step));
            let log = super::step::run_step(self, st, &ctx, amended.as_ref().unwrap_or(step));
            let mut reason = log.errors.join("; ");
            if let (Some(e), true) = (erratum, log.passed) {
                reason = e.note();
            }
            self.report.push(Row {
                test: test.into(),
                section: section.into(),
                step: step.id.clone(),
                passed: log.passed,
                reason,
                dependency: dep,
            });
            if let Some(s) = self.logs.section_mut(test, section) {
                s.steps.push(log);
            }
        }
    }
}

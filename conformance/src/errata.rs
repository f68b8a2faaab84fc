//! Test plans whose expectation contradicts the rest of the testkit, and what the runner checks
//! instead. Each entry says why (conformance/README.md has the longer reading), and a row that
//! passes by an erratum says so in its reason, so that no such pass is silent.

use super::testplan::{ExpectedStatus, MasterIds, TestStep};

pub struct Erratum {
    pub test: &'static str,
    pub section: &'static str,
    pub step: &'static str,
    /// The ExpectedStatus checked instead of the plan's.
    pub status: Option<ExpectedStatus>,
    /// In the Assert with this id, this text is checked as that one instead.
    pub assertion: Option<(&'static str, &'static str, &'static str)>,
    /// What the Provide Document Bundle does with masterIdentifiers instead.
    pub master_ids: Option<MasterIds>,
    pub why: &'static str,
}

pub const ERRATA: &[Erratum] = &[
    Erratum {
        test: "12309_withauthzconsent",
        section: "finddocs",
        step: "finddocs",
        status: Some(ExpectedStatus::Success),
        assertion: None,
        master_ids: None,
        why: "the plan expects Failure, but withauthzconsent is an assertion to accept, 12309 \
              expects Success for this very query, and 15808_withauthzconsent expects responding \
              gateways to serve it",
    },
    Erratum {
        test: "40031",
        section: "class_code",
        step: "validate",
        status: None,
        assertion: Some(("validate", "'SUMMARY'", "'57016-8'")),
        master_ids: None,
        why: "the assertion looks for classCode SUMMARY, which the test never sends and codes.xml \
              does not list; its update sends 57016-8, which 40001's identical class_code \
              section checks",
    },
    Erratum {
        test: "pdb_submit_tests",
        section: "no_ids",
        step: "SendPdb",
        status: None,
        assertion: None,
        master_ids: Some(MasterIds::FreshWherePresent),
        why: "the test (its readme) sends a bundle without DocumentReference and \
              DocumentManifest masterIdentifiers and expects Failure, but its step also has \
              AddMasterIdentifier, which adds them; the runner gives fresh values only to \
              masterIdentifiers the file has (none), so the bundle goes without, as the test \
              means",
    },
    fixed_master_ids("pdb_single_doc_rec"),
    fixed_master_ids("pdb_single_doc_rec_pdf"),
    fixed_master_ids("pdb_two_doc_rec"),
    fixed_master_ids("pdb_single_doc"),
];

/// The rec(mhd)_mhddocrecip plans (and pdb_single_doc, in no collection) send the
/// masterIdentifiers written in their files.
const fn fixed_master_ids(test: &'static str) -> Erratum {
    Erratum {
        test,
        section: "submit",
        step: "SendPdb",
        status: None,
        assertion: None,
        master_ids: Some(MasterIds::Fresh),
        why: "the files' masterIdentifiers are fixed: pdb_single_doc_rec and \
              pdb_single_doc_rec_pdf (and pdb_single_doc) give different documents the same \
              DocumentReference id, \
              pdb_two_doc_rec gives both documents of one bundle the same one, and the \
              DocumentManifest's 23425234234-2346 is no urn:oid OID, so a recipient with a \
              registry behind it (XDS on FHIR) must refuse them; the _recresp copies of these \
              plans have AddMasterIdentifier, which the runner applies here too",
    }
}

pub fn find(test: &str, section: &str, step: &str) -> Option<&'static Erratum> {
    ERRATA
        .iter()
        .find(|e| e.test == test && e.section == section && e.step == step)
}

impl Erratum {
    /// The step with the erratum's expectation.
    pub fn apply(&self, step: &TestStep) -> TestStep {
        let mut step = step.clone();
        if let Some(status) = self.status {
            step.expected_status = Some(status);
        }
        if let (Some(m), Some(t)) = (self.master_ids, step.transaction.as_mut()) {
            t.fhir.master_ids = m;
        }
        if let Some((id, from, to)) = self.assertion {
            let asserts = step
                .transaction
                .iter_mut()
                .filter_map(|t| t.assertions.as_mut())
                .flat_map(|a| a.asserts.iter_mut())
                .filter(|a| a.id.as_deref() == Some(id));
            for a in asserts {
                a.xpath = a.xpath.replace(from, to);
            }
        }
        step
    }

    /// The note on the row of a step that passed by this erratum.
    pub fn note(&self) -> String {
        match (self.status, self.assertion) {
            (Some(status), _) => format!("erratum: checked for {} ({})", status.as_str(), self.why),
            (None, Some((id, from, to))) => {
                format!(
                    "erratum: assertion {id} checked with {to} for {from} ({})",
                    self.why
                )
            }
            (None, None) => match self.master_ids {
                Some(m) => format!("erratum: masterIdentifiers {m:?} ({})", self.why),
                None => format!("erratum: {}", self.why),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_erratum_names_a_step_of_the_testkit() {
        let Some(tk) = super::super::testkit::default_testkit_with_mhd()
            .or_else(super::super::testkit::default_testkit)
        else {
            return;
        };
        for e in ERRATA {
            if !tk.has_test(e.test) {
                // The MHD plans are a second testkit, not always at hand.
                assert!(
                    e.test.starts_with("pdb_"),
                    "{} is not in the testkit",
                    e.test
                );
                continue;
            }
            let path = tk.test_dir(e.test).join(e.section).join("testplan.xml");
            let plan = super::super::testplan::read_plan(&path).unwrap();
            let step = plan.steps.iter().find(|s| s.id == e.step).unwrap();
            // An erratum that the testkit has since fixed is to be removed.
            if let Some(status) = e.status {
                assert_ne!(step.expected_status, Some(status), "{}", e.test);
                assert_eq!(e.apply(step).expected_status, Some(status));
            }
            if let Some(m) = e.master_ids {
                let t = step.transaction.as_ref().unwrap();
                assert_ne!(t.fhir.master_ids, m, "{}", e.test);
                let amended = e.apply(step).transaction.unwrap();
                assert_eq!(amended.fhir.master_ids, m);
            }
            if let Some((_, from, to)) = e.assertion {
                assert_ne!(
                    e.apply(step),
                    *step,
                    "{}: {from} is no longer there",
                    e.test
                );
                let text = format!("{:?}", e.apply(step));
                assert!(text.contains(to) && !text.contains(from), "{}", e.test);
            }
        }
    }
}

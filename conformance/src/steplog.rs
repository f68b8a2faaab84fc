//! Step logs laid out like the toolkit's (`TestResults/TestStep/<XTransaction>/...`), kept in
//! memory for UseId/UseReport lookups and serialised for Assertions' XPath and for `--logs`.

use std::collections::HashMap;

use super::metadata_prep::Assignments;
use super::xml::{escape, Element};

#[derive(Debug, Clone, Default)]
pub struct StepLog {
    pub id: String,
    pub passed: bool,
    pub expected_status: Option<String>,
    /// Transaction element name, e.g. `StoredQueryTransaction`; None for a step without one.
    pub transaction: Option<String>,
    pub metadata_file: Option<String>,
    pub endpoint: Option<String>,
    pub new_patient_id: Option<String>,
    pub assignments: Assignments,
    /// `symbol -> value` substitutions in force (the toolkit logs them under UseId/Map).
    pub substitutions: Vec<(String, String)>,
    pub input: Option<Element>,
    pub out_action: Option<String>,
    pub expected_in_action: Option<String>,
    pub in_action: Option<String>,
    pub result: Option<Element>,
    /// Success, PartialSuccess, Failure or Fault, as received.
    pub step_status: Option<String>,
    pub reports: Vec<(String, String)>,
    pub errors: Vec<String>,
}

impl StepLog {
    pub fn report(&self, name: &str) -> Option<&str> {
        self.reports
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn write_assign(out: &mut String, tag: &str, list: &[(String, String)]) {
        if list.is_empty() {
            return;
        }
        out.push_str(&format!("<{tag}>"));
        for (s, v) in list {
            out.push_str(&format!(
                "<Assign symbol=\"{}\" id=\"{}\"/>",
                escape(s),
                escape(v)
            ));
        }
        out.push_str(&format!("</{tag}>"));
    }

    fn text_el(out: &mut String, tag: &str, v: &Option<String>) {
        if let Some(v) = v {
            out.push_str(&format!("<{tag}>{}</{tag}>", escape(v)));
        }
    }

    pub fn write_to(&self, out: &mut String) {
        let status = if self.passed { "Pass" } else { "Fail" };
        out.push_str(&format!(
            "<TestStep id=\"{}\" status=\"{status}\">",
            escape(&self.id)
        ));
        Self::text_el(out, "NewPatientId", &self.new_patient_id);
        Self::text_el(out, "ExpectedStatus", &self.expected_status);
        if let Some(t) = &self.transaction {
            out.push_str(&format!("<{t} step=\"{}\">", escape(&self.id)));
            Self::text_el(out, "MetadataFile", &self.metadata_file);
            Self::text_el(out, "Endpoint", &self.endpoint);
            let a = &self.assignments;
            Self::write_assign(out, "AssignedPatientId", &a.patient_ids);
            Self::write_assign(out, "AssignedUids", &a.uids);
            Self::write_assign(out, "AssignedUuids", &a.uuids);
            Self::write_assign(out, "AssignedSourceId", &a.source_ids);
            if !self.substitutions.is_empty() {
                out.push_str("<UseId><Map>");
                for (k, v) in &self.substitutions {
                    out.push_str(&format!(
                        "<Item><Key>{}</Key><Value>{}</Value></Item>",
                        escape(k),
                        escape(v)
                    ));
                }
                out.push_str("</Map></UseId>");
            }
            if let Some(i) = &self.input {
                out.push_str("<InputMetadata>");
                out.push_str(&i.to_xml());
                out.push_str("</InputMetadata>");
            }
            Self::text_el(out, "OutAction", &self.out_action);
            Self::text_el(out, "ExpectedInAction", &self.expected_in_action);
            Self::text_el(out, "InAction", &self.in_action);
            if let Some(r) = &self.result {
                out.push_str("<Result>");
                out.push_str(&r.to_xml());
                out.push_str("</Result>");
            }
            Self::text_el(out, "StepStatus", &self.step_status);
            if !self.reports.is_empty() {
                out.push_str("<Reports>");
                for (n, v) in &self.reports {
                    out.push_str(&format!(
                        "<Report name=\"{}\">{}</Report>",
                        escape(n),
                        escape(v)
                    ));
                }
                out.push_str("</Reports>");
            }
            out.push_str(&format!("</{t}>"));
        }
        for e in &self.errors {
            out.push_str(&format!("<Error>{}</Error>", escape(e)));
        }
        out.push_str("</TestStep>");
    }
}

/// The log of one section (one testplan.xml).
#[derive(Debug, Clone, Default)]
pub struct SectionLog {
    /// `<Test>` value, e.g. `11966/submit`.
    pub test: String,
    pub steps: Vec<StepLog>,
}

impl SectionLog {
    pub fn step(&self, id: &str) -> Option<&StepLog> {
        self.steps.iter().find(|s| s.id == id)
    }

    pub fn passed(&self) -> bool {
        self.steps.iter().all(|s| s.passed)
    }

    /// The whole section as one `<TestResults>` document.
    pub fn to_xml(&self) -> String {
        let status = if self.passed() { "Pass" } else { "Fail" };
        let mut out = format!(
            "<TestResults status=\"{status}\"><Test>{}</Test>",
            escape(&self.test)
        );
        for s in &self.steps {
            s.write_to(&mut out);
        }
        out.push_str("</TestResults>");
        out
    }
}

/// All section logs of a run, by (test, section).
#[derive(Debug, Default)]
pub struct LogStore {
    sections: HashMap<(String, String), SectionLog>,
}

impl LogStore {
    pub fn insert(&mut self, test: &str, section: &str, log: SectionLog) {
        self.sections
            .insert((test.to_string(), section.to_string()), log);
    }

    pub fn section_mut(&mut self, test: &str, section: &str) -> Option<&mut SectionLog> {
        self.sections
            .get_mut(&(test.to_string(), section.to_string()))
    }

    pub fn section(&self, test: &str, section: &str) -> Option<&SectionLog> {
        self.sections.get(&(test.to_string(), section.to_string()))
    }

    /// Every step of every section, in no particular order.
    pub fn all_steps(&self) -> impl Iterator<Item = &StepLog> {
        self.sections.values().flat_map(|s| s.steps.iter())
    }

    pub fn has_test(&self, test: &str) -> bool {
        self.sections.keys().any(|(t, _)| t == test)
    }

    pub fn step(&self, test: &str, section: &str, step: &str) -> Option<&StepLog> {
        self.section(test, section)?.step(step)
    }

    /// Write every section log under `dir/<test>/<section>/log.xml`, like the toolkit.
    pub fn write_all(&self, dir: &std::path::Path) -> std::io::Result<()> {
        for ((t, s), log) in &self.sections {
            let d = dir.join(t).join(s);
            std::fs::create_dir_all(&d)?;
            std::fs::write(d.join("log.xml"), log.to_xml())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::parse;

    #[test]
    fn layout_matches_the_toolkit() {
        let mut s = StepLog {
            id: "submit".into(),
            passed: true,
            transaction: Some("RegisterTransaction".into()),
            result: Some(parse(r#"<rs:RegistryResponse xmlns:rs="urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0" status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"/>"#).unwrap()),
            ..Default::default()
        };
        s.assignments.uids.push(("Document01".into(), "1.2".into()));
        s.reports.push(("Document01_uid".into(), "1.2".into()));
        let log = SectionLog {
            test: "1/submit".into(),
            steps: vec![s],
        };
        let doc = parse(&log.to_xml()).unwrap();
        let tx = doc
            .child_local("TestStep")
            .unwrap()
            .child_local("RegisterTransaction")
            .unwrap();
        assert_eq!(tx.attr("step"), Some("submit"));
        let assign = tx
            .child_local("AssignedUids")
            .unwrap()
            .child_local("Assign")
            .unwrap();
        assert_eq!(assign.attr("symbol"), Some("Document01"));
        assert!(tx
            .child_local("Result")
            .unwrap()
            .child_local("RegistryResponse")
            .is_some());
    }
}

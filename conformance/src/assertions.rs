//! XPath 1.0 over step logs (sxd-document + sxd-xpath): `<Assertions>` and `<Report>`.

use sxd_document::Package;
use sxd_xpath::{Context, Factory, Value};

use super::metadata_prep::substitute_str;
use super::steplog::StepLog;
use super::testplan::{Assertions, Transaction};

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum XPathError {
    #[error("log is not XML: {0}")]
    Document(String),
    #[error("bad XPath {expr}: {msg}")]
    Expression { expr: String, msg: String },
    #[error("XPath {expr} failed: {msg}")]
    Evaluation { expr: String, msg: String },
}

/// A parsed document to run several expressions over.
pub struct XPathDoc {
    package: Package,
}

impl XPathDoc {
    pub fn parse(xml: &str) -> Result<Self, XPathError> {
        let package =
            sxd_document::parser::parse(xml).map_err(|e| XPathError::Document(format!("{e:?}")))?;
        Ok(XPathDoc { package })
    }

    fn eval<T>(
        &self,
        expr: &str,
        f: impl for<'v> FnOnce(&Value<'v>) -> T,
    ) -> Result<T, XPathError> {
        let xpath = Factory::new()
            .build(expr)
            .map_err(|e| XPathError::Expression {
                expr: expr.to_string(),
                msg: e.to_string(),
            })?
            .ok_or_else(|| XPathError::Expression {
                expr: expr.to_string(),
                msg: "empty".into(),
            })?;
        let doc = self.package.as_document();
        let ctx = Context::new();
        let v = xpath
            .evaluate(&ctx, doc.root())
            .map_err(|e| XPathError::Evaluation {
                expr: expr.to_string(),
                msg: e.to_string(),
            })?;
        Ok(f(&v))
    }

    /// XPath `boolean()` of the result.
    pub fn boolean(&self, expr: &str) -> Result<bool, XPathError> {
        self.eval(expr, |v| v.boolean())
    }

    /// XPath `string()` of the result (first node in document order for a node-set).
    pub fn string(&self, expr: &str) -> Result<String, XPathError> {
        self.eval(expr, |v| v.string().trim().to_string())
    }
}

/// One evaluated `<Assert>`.
#[derive(Debug, Clone, PartialEq)]
pub struct AssertOutcome {
    pub id: String,
    pub passed: bool,
    /// Why it failed (the expression as evaluated, or the XPath error).
    pub reason: Option<String>,
}

/// Run every `<Assert>` over `log_xml` after replacing the UseReport names (`useAs`) by their
/// values, as the toolkit does textually.
pub fn evaluate(
    assertions: &Assertions,
    log_xml: &str,
    subs: &[(String, String)],
) -> Vec<AssertOutcome> {
    let doc = match XPathDoc::parse(log_xml) {
        Ok(d) => d,
        Err(e) => {
            return vec![AssertOutcome {
                id: "log".into(),
                passed: false,
                reason: Some(e.to_string()),
            }]
        }
    };
    assertions
        .asserts
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let id = a.id.clone().unwrap_or_else(|| format!("assert{}", i + 1));
            let expr = substitute_str(&a.xpath, subs);
            match doc.boolean(&expr) {
                Ok(true) => AssertOutcome {
                    id,
                    passed: true,
                    reason: None,
                },
                Ok(false) => AssertOutcome {
                    id,
                    passed: false,
                    reason: Some(format!("false: {expr}")),
                },
                Err(e) => AssertOutcome {
                    id,
                    passed: false,
                    reason: Some(e.to_string()),
                },
            }
        })
        .collect()
}

/// The step's XPath reports over its logged request or result.
pub(crate) fn run_reports(t: &Transaction, log: &mut StepLog, problems: &mut Vec<String>) {
    for rep in &t.reports {
        let src = match rep.section.as_str() {
            "InputMetadata" => log.input.as_ref(),
            _ => log.result.as_ref(),
        };
        let Some(src) = src else {
            problems.push(format!(
                "Report {}: no {} in the log",
                rep.name, rep.section
            ));
            continue;
        };
        match XPathDoc::parse(&src.to_xml()).and_then(|d| d.string(&rep.xpath)) {
            Ok(v) => log.reports.push((rep.name.clone(), v)),
            Err(e) => problems.push(format!("Report {}: {e}", rep.name)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::default_testkit;
    use crate::testplan::{read_plan, Assert};

    fn sample(name: &str) -> Option<String> {
        let tk = default_testkit()?;
        std::fs::read_to_string(tk.root.join("logs").join(name)).ok()
    }

    #[test]
    fn assertions_over_the_sample_query_log() {
        let Some(log) = sample("sq-log.xml") else {
            return;
        };
        let a = Assertions {
            data_refs: vec![("THIS".into(), "output".into())],
            asserts: vec![
                Assert {
                    id: Some("docs".into()),
                    desc: None,
                    xpath: "count(//TestStep[@id='leafclass']//*[local-name()='AdhocQueryResponse']/*[local-name()='RegistryObjectList']/*[local-name()='ExtrinsicObject']) = 5".into(),
                },
                Assert {
                    id: Some("approved".into()),
                    desc: None,
                    xpath: "//*[local-name()='ExtrinsicObject']/@status = 'urn:oasis:names:tc:ebxml-regrep:StatusType:Approved'".into(),
                },
                Assert {
                    id: Some("pid".into()),
                    desc: None,
                    xpath: "string(//*[local-name()='ExtrinsicObject'][1]/*[local-name()='ExternalIdentifier'][@identificationScheme='urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427']/@value) = \"$patientid$\"".into(),
                },
                Assert {
                    id: Some("deprecated".into()),
                    desc: None,
                    xpath: "//*[local-name()='ExtrinsicObject']/@status = 'urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated'".into(),
                },
            ],
        };
        let subs = [(
            "$patientid$".to_string(),
            "c4d77e21d0dd487^^^&1.3.6.1.4.1.21367.2005.3.7&ISO".to_string(),
        )];
        let out = evaluate(&a, &log, &subs);
        let passed: Vec<bool> = out.iter().map(|o| o.passed).collect();
        assert_eq!(passed, [true, true, true, false], "{out:?}");
    }

    #[test]
    fn report_xpath_over_the_sample_pnr_log() {
        let Some(log) = sample("pnr-log.xml") else {
            return;
        };
        let doc = XPathDoc::parse(&log).unwrap();
        let uid = doc
            .string("//*[local-name()='ExternalIdentifier'][@identificationScheme='urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab']/@value")
            .unwrap();
        assert_eq!(uid, "1.42.20100312105241.2");
        assert!(doc
            .boolean("//Result[1]/*[local-name()='RegistryResponse']/@status = 'urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success'")
            .unwrap());
    }

    #[test]
    fn xml_lang_and_default_namespaces_parse() {
        let doc = XPathDoc::parse(
            r#"<TestResults><Result><r:LocalizedString xmlns:r="urn:r" xml:lang="en" value="v"/><x xmlns="urn:d"><y/></x></Result></TestResults>"#,
        )
        .unwrap();
        assert_eq!(
            doc.string("//*[local-name()='LocalizedString']/@value")
                .unwrap(),
            "v"
        );
        assert!(doc.boolean("count(//*[local-name()='y']) = 1").unwrap());
    }

    /// Every Assert expression in the testkit compiles with this XPath engine.
    #[test]
    fn every_testkit_assert_compiles() {
        let Some(tk) = default_testkit() else { return };
        let doc = XPathDoc::parse("<TestResults/>").unwrap();
        let mut bad = Vec::new();
        let mut n = 0;
        for e in std::fs::read_dir(tk.tests_dir()).unwrap().flatten() {
            for s in crate::testplan::read_index(&e.path()).unwrap_or_default() {
                let p = e.path().join(s).join("testplan.xml");
                let Ok(plan) = read_plan(&p) else { continue };
                for step in plan.steps {
                    let Some(t) = step.transaction else { continue };
                    let exprs = t
                        .assertions
                        .iter()
                        .flat_map(|a| a.asserts.iter().map(|x| x.xpath.clone()))
                        .chain(t.reports.iter().map(|r| r.xpath.clone()));
                    for x in exprs {
                        n += 1;
                        if let Err(e) = doc.boolean(&x) {
                            bad.push(e.to_string());
                        }
                    }
                }
            }
        }
        assert!(n > 300, "{n}");
        assert!(bad.is_empty(), "{bad:?}");
    }
}

//! The result of a run: one row per test/section/step, a table, the closing
//! `N passed, M failed` line, and JUnit XML.

use super::xml::escape;

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub test: String,
    pub section: String,
    pub step: String,
    pub passed: bool,
    /// Why it failed; empty when it passed, unless it passed by an erratum.
    pub reason: String,
    /// Run only because a requested test depends on it.
    pub dependency: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunReport {
    pub rows: Vec<Row>,
}

impl RunReport {
    pub fn push(&mut self, row: Row) {
        self.rows.push(row);
    }

    pub fn passed(&self) -> usize {
        self.rows.iter().filter(|r| r.passed).count()
    }

    pub fn failed(&self) -> usize {
        self.rows.len() - self.passed()
    }

    pub fn all_passed(&self) -> bool {
        self.failed() == 0
    }

    /// Tests (not rows) with at least one failing row, in first-seen order.
    pub fn failed_tests(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for r in self.rows.iter().filter(|r| !r.passed) {
            if !out.contains(&r.test.as_str()) {
                out.push(&r.test);
            }
        }
        out
    }

    /// Plain-text table; the last line is exactly `N passed, M failed`.
    pub fn table(&self) -> String {
        let w = |f: fn(&Row) -> usize, title: &str| {
            self.rows.iter().map(f).max().unwrap_or(0).max(title.len())
        };
        let wt = w(|r| r.test.len(), "TEST");
        let ws = w(|r| r.section.len(), "SECTION");
        let wp = w(|r| r.step.len(), "STEP");
        let mut out = format!(
            "{:wt$}  {:ws$}  {:wp$}  {:6}  REASON\n",
            "TEST", "SECTION", "STEP", "RESULT"
        );
        for r in &self.rows {
            let result = if r.passed { "pass" } else { "FAIL" };
            let mut reason = r.reason.replace('\n', " ");
            if r.dependency {
                reason = if reason.is_empty() {
                    "(dependency)".into()
                } else {
                    format!("(dependency) {reason}")
                };
            }
            out.push_str(
                format!(
                    "{:wt$}  {:ws$}  {:wp$}  {result:6}  {reason}",
                    r.test, r.section, r.step
                )
                .trim_end(),
            );
            out.push('\n');
        }
        out.push_str(&format!(
            "{} passed, {} failed\n",
            self.passed(),
            self.failed()
        ));
        out
    }

    /// JUnit XML: one testsuite per test, one testcase per section/step.
    pub fn junit(&self) -> String {
        let mut tests: Vec<&str> = Vec::new();
        for r in &self.rows {
            if !tests.contains(&r.test.as_str()) {
                tests.push(&r.test);
            }
        }
        let mut out = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"ncpeh conformance\" tests=\"{}\" failures=\"{}\">\n",
            self.rows.len(),
            self.failed()
        );
        for t in tests {
            let rows: Vec<&Row> = self.rows.iter().filter(|r| r.test == t).collect();
            let failures = rows.iter().filter(|r| !r.passed).count();
            out.push_str(&format!(
                "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\">\n",
                escape(t),
                rows.len()
            ));
            for r in rows {
                out.push_str(&format!(
                    "    <testcase classname=\"conformance.{}\" name=\"{}/{}\"",
                    escape(&r.test),
                    escape(&r.section),
                    escape(&r.step)
                ));
                if r.passed {
                    out.push_str("/>\n");
                } else {
                    out.push_str(&format!(
                        ">\n      <failure message=\"{}\"/>\n    </testcase>\n",
                        escape(&r.reason)
                    ));
                }
            }
            out.push_str("  </testsuite>\n");
        }
        out.push_str("</testsuites>\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(test: &str, passed: bool, reason: &str) -> Row {
        Row {
            test: test.into(),
            section: "submit".into(),
            step: "submit".into(),
            passed,
            reason: reason.into(),
            dependency: false,
        }
    }

    #[test]
    fn table_ends_with_the_count_line() {
        let mut r = RunReport::default();
        r.push(row("11966", true, ""));
        r.push(row("12369", false, "expected Failure, got Success"));
        let t = r.table();
        assert_eq!(t.lines().last(), Some("1 passed, 1 failed"));
        assert!(t.contains("FAIL    expected Failure"));
        assert_eq!(r.failed_tests(), ["12369"]);
        let j = crate::xml::parse(&r.junit()).unwrap();
        assert_eq!(j.attr("failures"), Some("1"));
        assert_eq!(j.elements().count(), 2);
    }
}

//! Helpers for the translation tests: where the shared reference folder and a Python with
//! saxonche + lxml are, and running the XSD / schematron validators over written documents.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use quick_xml::events::Event;
use quick_xml::Reader;

/// `NCPEH_SHARED` or `../shared` next to the crate; None (with a note on stderr) when absent.
pub fn shared() -> Option<PathBuf> {
    let p = std::env::var_os("NCPEH_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    if p.join("reference").is_dir() {
        Some(p)
    } else {
        eprintln!(
            "SKIP: shared reference folder not found at {} (set NCPEH_SHARED)",
            p.display()
        );
        None
    }
}

/// `NCPEH_PYTHON` (a Python with saxonche and lxml), else `.venv/bin/python` in the crate.
pub fn python() -> Option<PathBuf> {
    let p = std::env::var_os("NCPEH_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python"));
    let ok = Command::new(&p)
        .args(["-c", "import saxonche, lxml"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if ok {
        Some(p)
    } else {
        eprintln!(
            "SKIP validation: no Python with saxonche+lxml at {} (set NCPEH_PYTHON; python3 -m venv .venv && .venv/bin/pip install saxonche lxml)",
            p.display()
        );
        None
    }
}

const XSD_PY: &str = r#"
import sys
from lxml import etree
schema = etree.XMLSchema(etree.parse(sys.argv[1]))
bad = 0
for f in sys.argv[2:]:
    if not schema.validate(etree.parse(f)):
        bad += 1
        for e in schema.error_log[:20]:
            print(f"{f}:{e.line}: {e.message}")
sys.exit(1 if bad else 0)
"#;

/// Validates the files against an XSD; returns the report on failure.
pub fn xsd(py: &Path, xsd: &Path, files: &[PathBuf]) -> Result<(), String> {
    assert!(!files.is_empty(), "no documents to validate");
    let out = Command::new(py)
        .arg("-c")
        .arg(XSD_PY)
        .arg(xsd)
        .args(files)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr))
    }
}

/// Runs shared/tools/schematron.py; Ok(report) when no document has an error.
/// The tool writes its compiled stylesheets to TMPDIR and reads value sets relative to them, so
/// TMPDIR is a scratch folder holding an `include` link to the schema's value-set folder.
pub fn schematron(
    py: &Path,
    shared: &Path,
    sch: &str,
    files: &[PathBuf],
) -> Result<String, String> {
    let schemas = shared.join("schemas/ehdsi-artdecor-20240422");
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    #[cfg(unix)]
    std::os::unix::fs::symlink(schemas.join("include"), tmp.path().join("include"))
        .map_err(|e| e.to_string())?;
    let out = Command::new(py)
        .arg(shared.join("tools/schematron.py"))
        .arg(schemas.join(sch))
        .args(files)
        .env("TMPDIR", tmp.path())
        .output()
        .map_err(|e| e.to_string())?;
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    let errors: Vec<&str> = report.lines().filter(|l| l.contains(": error:")).collect();
    if out.status.success() && errors.is_empty() {
        Ok(report)
    } else {
        Err(format!(
            "exit {:?}\n{}\n{}\n{}",
            out.status.code(),
            errors.join("\n"),
            report.lines().last().unwrap_or(""),
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .take(20)
                .collect::<Vec<_>>()
                .join("\n")
        ))
    }
}

/// Entries per section (by section code) in a CDA document.
pub fn section_entries(xml: &str) -> BTreeMap<String, usize> {
    let mut r = Reader::from_str(xml);
    let mut stack: Vec<String> = Vec::new();
    let mut cur_section: Vec<Option<String>> = Vec::new();
    let mut out = BTreeMap::new();
    loop {
        match r.read_event() {
            Ok(Event::Start(e)) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if name == "section" {
                    cur_section.push(None);
                }
                if name == "entry" && stack.last().map(String::as_str) == Some("section") {
                    if let Some(Some(code)) = cur_section.last() {
                        *out.entry(code.clone()).or_insert(0) += 1;
                    }
                }
                stack.push(name);
            }
            Ok(Event::Empty(e)) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if name == "code" && stack.last().map(String::as_str) == Some("section") {
                    let code = e
                        .attributes()
                        .flatten()
                        .find(|a| a.key.as_ref() == b"code")
                        .map(|a| String::from_utf8_lossy(&a.value).into_owned());
                    if let Some(slot) = cur_section.last_mut() {
                        *slot = code;
                    }
                }
            }
            Ok(Event::End(_)) if stack.pop().as_deref() == Some("section") => {
                cur_section.pop();
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    out
}

/// Every @code value in the document (codes, values, translations...).
pub fn all_codes(xml: &str) -> BTreeSet<String> {
    let mut r = Reader::from_str(xml);
    let mut out = BTreeSet::new();
    loop {
        match r.read_event() {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                for a in e.attributes().flatten() {
                    if a.key.as_ref() == b"code" {
                        out.insert(String::from_utf8_lossy(&a.value).into_owned());
                    }
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    out
}

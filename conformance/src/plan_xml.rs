//! What reading a testplan needs at every level: its error type, attribute helpers and the
//! `<UseId>` reference (shared by the plan model and the expected-contents checks).

use super::xml::{self, Element};

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Xml { path: String, source: xml::XmlError },
    #[error("{path}: {msg}")]
    Invalid { path: String, msg: String },
}

/// `<UseId testdir id step section symbol/>`: take the id recorded for `id` in section
/// `section` (AssignedUids, AssignedUuids, AssignedPatientId) of a step's log.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UseId {
    pub testdir: Option<String>,
    pub id: String,
    pub step: String,
    pub section: String,
    pub symbol: String,
}

pub(crate) fn invalid(msg: String) -> PlanError {
    PlanError::Invalid {
        path: String::new(),
        msg,
    }
}

pub(crate) fn req_attr(e: &Element, name: &str) -> Result<String, PlanError> {
    e.attr(name)
        .map(str::to_string)
        .ok_or_else(|| invalid(format!("<{}> without {name}", e.name)))
}

pub(crate) fn opt_attr(e: &Element, name: &str) -> Option<String> {
    e.attr(name).map(str::to_string)
}

pub(crate) fn parse_use_id(c: &Element) -> Result<UseId, PlanError> {
    Ok(UseId {
        testdir: opt_attr(c, "testdir"),
        id: req_attr(c, "id")?,
        step: req_attr(c, "step")?,
        section: req_attr(c, "section")?,
        symbol: req_attr(c, "symbol")?,
    })
}

/// A file of a test section, parsed.
pub fn read_file(dir: &std::path::Path, file: &str) -> Result<Element, String> {
    let p = dir.join(file);
    let text = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
    xml::parse(&text).map_err(|e| format!("{}: {e}", p.display()))
}

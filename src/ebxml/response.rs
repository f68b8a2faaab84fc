//! RegistryResponse and RegistryErrorList.

use super::{ResponseStatus, RS};
use crate::xml::{esc_attr, Element};
use std::fmt::Write;

pub const SEVERITY_ERROR: &str = "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error";
pub const SEVERITY_WARNING: &str = "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Warning";

#[derive(Debug, Clone, PartialEq)]
pub struct RegistryError {
    pub error_code: String,
    pub code_context: String,
    pub location: Option<String>,
    pub warning: bool,
}

pub fn write_error_list(out: &mut String, errors: &[RegistryError]) {
    if errors.is_empty() {
        return;
    }
    let worst = if errors.iter().any(|e| !e.warning) {
        SEVERITY_ERROR
    } else {
        SEVERITY_WARNING
    };
    let _ = write!(out, "<rs:RegistryErrorList highestSeverity=\"{worst}\">");
    for e in errors {
        let sev = if e.warning {
            SEVERITY_WARNING
        } else {
            SEVERITY_ERROR
        };
        let _ = write!(
            out,
            "<rs:RegistryError errorCode=\"{}\" codeContext=\"{}\" severity=\"{sev}\"",
            esc_attr(&e.error_code),
            esc_attr(&e.code_context)
        );
        if let Some(l) = &e.location {
            let _ = write!(out, " location=\"{}\"", esc_attr(l));
        }
        out.push_str("/>");
    }
    out.push_str("</rs:RegistryErrorList>");
}

pub fn write_registry_response(status: ResponseStatus, errors: &[RegistryError]) -> String {
    let mut out = format!(
        r#"<rs:RegistryResponse xmlns:rs="{RS}" status="{}">"#,
        status.urn()
    );
    write_error_list(&mut out, errors);
    out.push_str("</rs:RegistryResponse>");
    out
}

/// The errors and warnings of a RegistryErrorList inside `parent` (a RegistryResponse or
/// AdhocQueryResponse), as another node wrote them.
pub fn read_error_list(parent: &Element) -> Vec<RegistryError> {
    let Some(list) = parent.child(RS, "RegistryErrorList") else {
        return Vec::new();
    };
    list.children_named(RS, "RegistryError")
        .map(|e| RegistryError {
            error_code: e.attr("errorCode").unwrap_or_default().to_string(),
            code_context: e
                .attr("codeContext")
                .map(str::to_string)
                .unwrap_or_else(|| e.text().trim().to_string()),
            location: e.attr("location").map(str::to_string),
            warning: e.attr("severity").is_some_and(|s| s.ends_with(":Warning")),
        })
        .collect()
}

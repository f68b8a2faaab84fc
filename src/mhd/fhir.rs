//! FHIR R4 on the wire: the media types, reading and writing resources in JSON or XML, the
//! primitive values of the model, and OperationOutcome.

use fhirbolt::model::r4::resources::{OperationOutcome, OperationOutcomeIssue};
use fhirbolt::model::r4::types;
use fhirbolt::model::r4::Resource;
use fhirbolt::serde::{DeserializationConfig, DeserializationMode};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Json => "application/fhir+json; charset=utf-8",
            Format::Xml => "application/fhir+xml; charset=utf-8",
        }
    }

    /// The format a media type or `_format` value names; None for anything else.
    pub fn named(value: &str) -> Option<Format> {
        let mt = value
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match mt.as_str() {
            "application/fhir+json" | "application/json" | "json" | "application/json+fhir" => {
                Some(Format::Json)
            }
            "application/fhir+xml"
            | "application/xml"
            | "text/xml"
            | "xml"
            | "application/xml+fhir" => Some(Format::Xml),
            _ => None,
        }
    }

    /// The answer's format: `_format`, then the first FHIR type in Accept, else `fallback`.
    pub fn answer(accept: Option<&str>, format_param: Option<&str>, fallback: Format) -> Format {
        format_param
            .and_then(Format::named)
            .or_else(|| accept.and_then(|a| a.split(',').find_map(Format::named)))
            .unwrap_or(fallback)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("the body is not FHIR R4 {0:?}: {1}")]
    Unreadable(Format, String),
    #[error("DOCTYPE declarations are not accepted")]
    Doctype,
    #[error("the XML nests deeper than {MAX_XML_DEPTH} elements")]
    TooDeep,
    #[error("the body is not UTF-8 (byte {0})")]
    NotUtf8(usize),
    /// The model's reader gave up by panicking (caught on its thread); no input may reach this.
    #[error("the body could not be read")]
    ReaderFailed,
}

/// Reads a resource. Elements unknown to R4 are an error: a silently dropped element would be
/// metadata lost.
pub fn read(body: &[u8], f: Format) -> Result<Resource, WireError> {
    // FHIR is UTF-8 only, and the model's XML reader panics on a name that is not.
    if let Err(e) = std::str::from_utf8(body) {
        return Err(WireError::NotUtf8(e.valid_up_to()));
    }
    if f == Format::Xml {
        xml_shape(body)?;
    }
    // The model's readers recurse once per level with large frames: JSON stops at serde_json's
    // 128 levels and XML at MAX_XML_DEPTH, and the reading thread's stack is sized for that
    // (tokio's 2 MiB would overflow, and an overflow aborts the whole node).
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("fhir-read".into())
            .stack_size(PARSE_STACK)
            .spawn_scoped(scope, || parse(body, f))
            .map_err(|e| WireError::Unreadable(f, format!("no thread to read it: {e}")))?
            .join()
            .unwrap_or(Err(WireError::ReaderFailed))
    })
}

/// Stack for reading one resource (virtual; only what the depth reached is touched).
const PARSE_STACK: usize = 64 << 20;

fn parse(body: &[u8], f: Format) -> Result<Resource, WireError> {
    let cfg = Some(DeserializationConfig {
        mode: DeserializationMode::Strict,
    });
    match f {
        Format::Json => fhirbolt::json::from_slice(body, cfg)
            .map_err(|e| WireError::Unreadable(f, short(&e.to_string()))),
        Format::Xml => fhirbolt::xml::from_slice(body, cfg)
            .map_err(|e| WireError::Unreadable(f, short(&e.to_string()))),
    }
}

/// Deeper than any FHIR resource nests (Bundle, entry, resource, contained, narrative ...).
pub const MAX_XML_DEPTH: usize = 100;

/// What the model's XML reader would not survive, found first by a flat scan: it recurses once
/// per element level (a deep document would overflow the thread's stack and abort the node), and
/// a DOCTYPE is refused outright (entities are never expanded).
fn xml_shape(body: &[u8]) -> Result<(), WireError> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(body);
    let mut depth = 0usize;
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(_)) => {
                depth += 1;
                if depth > MAX_XML_DEPTH {
                    return Err(WireError::TooDeep);
                }
            }
            Ok(Event::End(_)) => depth = depth.saturating_sub(1),
            Ok(Event::DocType(_)) => return Err(WireError::Doctype),
            Ok(Event::Eof) => return Ok(()),
            Ok(_) => {}
            Err(e) => return Err(WireError::Unreadable(Format::Xml, short(&e.to_string()))),
        }
        buf.clear();
    }
}

fn short(s: &str) -> String {
    s.chars().take(300).collect()
}

/// Writes a resource; the model always serialises.
pub fn write(r: &Resource, f: Format) -> Vec<u8> {
    let out = match f {
        Format::Json => fhirbolt::json::to_vec(r, None).map_err(|e| e.to_string()),
        Format::Xml => fhirbolt::xml::to_vec(r, None)
            .map(drop_forbidden)
            .map_err(|e| e.to_string()),
    };
    out.unwrap_or_else(|e| {
        tracing::error!(error = %e, "a FHIR resource did not serialise");
        Vec::new()
    })
}

/// The model writes control characters as they are (a JSON body may carry them, and refusals
/// quote the body), which makes XML no parser takes: they are dropped, as the node's own XML
/// writer drops them.
fn drop_forbidden(xml: Vec<u8>) -> Vec<u8> {
    use crate::xml::write::forbidden;
    match String::from_utf8(xml) {
        Ok(s) if s.contains(forbidden) => s.replace(forbidden, "").into_bytes(),
        Ok(s) => s.into_bytes(),
        Err(e) => e.into_bytes(),
    }
}

/// FHIR primitives from plain values.
pub fn string(v: impl Into<String>) -> types::String {
    types::String {
        value: Some(v.into()),
        ..Default::default()
    }
}

pub fn code(v: impl Into<String>) -> types::Code {
    types::Code {
        value: Some(v.into()),
        ..Default::default()
    }
}

pub fn uri(v: impl Into<String>) -> types::Uri {
    types::Uri {
        value: Some(v.into()),
        ..Default::default()
    }
}

pub fn id(v: impl Into<String>) -> types::Id {
    types::Id {
        value: Some(v.into()),
        ..Default::default()
    }
}

pub fn date_time(v: impl Into<String>) -> types::DateTime {
    types::DateTime {
        value: Some(v.into()),
        ..Default::default()
    }
}

pub fn instant(v: impl Into<String>) -> types::Instant {
    types::Instant {
        value: Some(v.into()),
        ..Default::default()
    }
}

pub fn reference(v: impl Into<String>) -> types::Reference {
    types::Reference {
        reference: Some(string(v)),
        ..Default::default()
    }
}

pub fn identifier(system: &str, value: impl Into<String>) -> types::Identifier {
    types::Identifier {
        system: Some(uri(system)),
        value: Some(string(value)),
        ..Default::default()
    }
}

/// The value of an optional primitive, trimmed; None when absent or blank.
pub fn text<T: Primitive>(p: Option<&T>) -> Option<String> {
    p.and_then(|p| p.value())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// FHIR's string-valued primitives.
pub trait Primitive {
    fn value(&self) -> Option<&str>;
}

macro_rules! primitive {
    ($($t:ident),*) => {
        $(impl Primitive for types::$t {
            fn value(&self) -> Option<&str> {
                self.value.as_deref()
            }
        })*
    };
}
primitive!(
    String,
    Code,
    Uri,
    Url,
    Id,
    DateTime,
    Instant,
    Date,
    Base64Binary,
    Markdown
);

/// One problem for an OperationOutcome: the issue type code (invalid, required, not-found,
/// processing, ...), what went wrong, and where (a FHIRPath expression), if known.
#[derive(Debug, Clone)]
pub struct Issue {
    pub severity: &'static str,
    pub code: &'static str,
    pub diagnostics: String,
    pub expression: Option<String>,
    /// The XDS error code behind it, when the XDS rules found it.
    pub xds_code: Option<String>,
}

impl Issue {
    pub fn error(code: &'static str, diagnostics: impl Into<String>) -> Issue {
        Issue {
            severity: "error",
            code,
            diagnostics: diagnostics.into(),
            expression: None,
            xds_code: None,
        }
    }

    pub fn at(mut self, expression: impl Into<String>) -> Issue {
        self.expression = Some(expression.into());
        self
    }
}

/// The system of the XDS error codes in OperationOutcome.issue.details.
pub const XDS_ERROR_SYSTEM: &str = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType";

pub fn outcome(issues: &[Issue]) -> Resource {
    let issue = issues
        .iter()
        .map(|i| OperationOutcomeIssue {
            severity: code(i.severity),
            code: code(i.code),
            details: i.xds_code.as_ref().map(|c| {
                Box::new(types::CodeableConcept {
                    coding: vec![types::Coding {
                        system: Some(uri(XDS_ERROR_SYSTEM)),
                        code: Some(code(c.clone())),
                        ..Default::default()
                    }],
                    ..Default::default()
                })
            }),
            diagnostics: Some(string(i.diagnostics.clone())),
            expression: i.expression.iter().map(|e| string(e.clone())).collect(),
            ..Default::default()
        })
        .collect();
    Resource::OperationOutcome(Box::new(OperationOutcome {
        issue,
        ..Default::default()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_that_is_not_utf8_is_refused_before_the_model_reads_it() {
        // Found by the mhd fuzz target: a mutated `fullUrl` made the XML reader panic.
        let body = b"<Bundle xmlns=\"http://hl7.org/fhir\"><full\x9fUrl value=\"x\"/></Bundle>";
        assert!(matches!(
            read(body, Format::Xml),
            Err(WireError::NotUtf8(41))
        ));
        assert!(matches!(
            read(
                b"{\"resourceType\":\"Bundle\",\"t\xffype\":1}",
                Format::Json
            ),
            Err(WireError::NotUtf8(_))
        ));
    }

    #[test]
    fn xml_drops_what_xml_cannot_carry_and_json_escapes_it() {
        let issue = Issue::error(
            "not-supported",
            "method PUT\u{1}\u{b}X\u{FFFF} is not taken",
        );
        let xml =
            String::from_utf8(write(&outcome(std::slice::from_ref(&issue)), Format::Xml)).unwrap();
        assert!(xml.contains("method PUTX is not taken"), "{xml}");
        assert!(!xml.contains(crate::xml::write::forbidden), "{xml}");
        let json = String::from_utf8(write(&outcome(&[issue]), Format::Json)).unwrap();
        assert!(json.contains(r"PUT\u0001\u000bX"), "{json}");
    }
}

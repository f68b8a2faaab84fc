//! Translation between Norwegian documents and the eHDSI pivot CDA (MyHealth@EU).
//!
//! * [`ips_to_ps()`]: HL7 FHIR IPS document Bundle -> eHDSI Patient Summary L3 (optionally also L1)
//! * [`eresept_to_ep()`]: e-resept M1 -> one eHDSI ePrescription L3 per prescription
//! * [`ed_to_m10()`]: eHDSI eDispensation -> Norwegian M10-shaped dispensing report
//! * [`pivot_to_nb()`]: foreign pivot PS/eP -> same document with bokmål display names
//! * [`pivot_to_html()`]: foreign pivot PS/eP/eD/OrCD/HCER -> one self-contained HTML page in bokmål
//!
//! Every coded element goes through [`coded`], which applies the eHDSI transcoding rule and reports
//! national codes that have no MVC target in the warning list.
//!
//! Layout: the PS writer is [`ps`], the eP writer [`eresept`]; both write through `cda` (small CDA
//! helpers they share) and read FHIR through `fhir`. Imports go one way, from the translators down
//! to `cda`, [`coded`] and [`terminology`]; no file imports one that imports it back. The L1 (PDF)
//! variants are rendered by [`pdf`] from the L3 the writer produced.
//!
//! Notes on the validators (see tests/translate_*.rs):
//! * eP product parts are written in `urn:hl7-org:pharm` (templates 3.29/3.30): the current eP
//!   schematron reads that namespace and so does the shared XSD; the older `urn:epsos-org:ep:medication`
//!   form (`epsos:desc` ...) is rejected by the XSD and not recognised by the schematron.
//! * Where the eP schematron is stricter than the XSD it is followed: one `id` per organization and
//!   assigned entity, `entry/@typeCode="COMP"`, a coded author functionCode (no nullFlavor), no
//!   null-flavoured frequency next to a valued period.
//! * Entries PS has no template for, or binds to value sets the source cannot meet (vital signs other
//!   than blood pressure, social history outside eHDSISocialHistory, pregnancy, functional status),
//!   are kept in the narrative with their codes and reported as `Dropped`.

mod cda;
pub mod cli;
pub mod coded;
pub mod ed_to_m10;
pub mod eresept;
mod fhir;
pub mod hcer;
pub mod html;
pub mod orcd;
pub mod pdf;
pub mod pivot_to_nb;
pub mod ps;
pub mod terminology;

pub use ed_to_m10::{ed_to_m10, M10Report};
pub use eresept::{eresept_to_ep, EpOptions, TranslatedEp};
pub use html::pivot_to_html;
pub use orcd::{journal_to_orcd, Orcd, OrcdClass, OrcdSource};
pub use pivot_to_nb::pivot_to_nb;
pub use ps::{ips_to_ps, PsOptions};
pub use terminology::Terminology;

/// Largest input document accepted (bytes).
pub const MAX_INPUT: usize = 16 * 1024 * 1024;
/// Deepest element nesting accepted in XML input; JSON nesting is capped by serde_json (128).
pub const MAX_DEPTH: usize = 64;
/// Most elements accepted in one XML input.
pub const MAX_ELEMENTS: usize = 200_000;

/// The XML reader's limits for translator input.
pub(crate) const XML_LIMITS: crate::xml::Limits = crate::xml::Limits {
    max_depth: MAX_DEPTH,
    max_elements: MAX_ELEMENTS,
    max_bytes: MAX_INPUT,
};

/// Reads an XML input document within the translators' limits.
fn parse_xml(bytes: &[u8]) -> Result<crate::xml::Element, TranslateError> {
    crate::xml::parse(bytes, XML_LIMITS).map_err(TranslateError::from)
}

#[derive(Debug, thiserror::Error)]
pub enum TranslateError {
    #[error("input is not JSON: {0}")]
    NotJson(String),
    #[error("expected resourceType {expected}, found {found}")]
    WrongResourceType {
        expected: &'static str,
        found: String,
    },
    #[error("the Bundle is of type {0}, expected document")]
    NotDocumentBundle(String),
    #[error("the Bundle has no Composition as its first entry")]
    NoComposition,
    #[error("missing element: {0}")]
    MissingElement(String),
    #[error("invalid value in {element}: {reason}")]
    InvalidValue { element: String, reason: String },
    #[error("XML with a DOCTYPE (or entity declarations) is refused")]
    DoctypeRefused,
    #[error("XML is not well-formed: {0}")]
    MalformedXml(String),
    #[error("input exceeds a limit: {0}")]
    TooLarge(String),
    #[error("the document is not a {expected} (root element or templateId {found})")]
    WrongDocument {
        expected: &'static str,
        found: String,
    },
    #[error("terminology: {0}")]
    Terminology(String),
    #[error("L1 rendering: {0}")]
    Pdf(String),
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
}

impl From<crate::xml::XmlError> for TranslateError {
    fn from(e: crate::xml::XmlError) -> Self {
        use crate::xml::XmlError as X;
        match e {
            X::Doctype => TranslateError::DoctypeRefused,
            X::TooDeep(_) | X::TooManyElements(_) | X::TooLarge(_) => {
                TranslateError::TooLarge(e.to_string())
            }
            X::Malformed(_) | X::NotUtf8 | X::Empty => TranslateError::MalformedXml(e.to_string()),
        }
    }
}

/// Why a translation could not be exact. Warnings carry codes and element paths only, never names
/// or free text from the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranslationWarning {
    pub kind: WarningKind,
    /// Where in the output (e.g. `problems/entry[2]/value`).
    pub element: String,
    /// Codes involved (`system|code`), or what was left out.
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WarningKind {
    /// A code with no MVC target: sent as nullFlavor="OTH" with the code in `<translation>`.
    NoMapping,
    /// A code system URI with no known OID.
    UnknownCodeSystem,
    /// A section the target template has no place for; its narrative was kept in another section.
    SectionWithoutTemplate,
    /// A value that could not be carried in a coded field.
    Dropped,
}

/// A translated document.
#[derive(Debug, Clone)]
pub struct Translated {
    pub xml: String,
    /// The L1 variant (CDA with the PDF embedded), when asked for.
    pub l1_xml: Option<String>,
    pub warnings: Vec<TranslationWarning>,
}

/// Reads input from a file, or stdin for `-`, within [`MAX_INPUT`].
pub fn read_input(path: &std::path::Path) -> Result<Vec<u8>, TranslateError> {
    use std::io::Read;
    let mut buf = Vec::new();
    let limit = MAX_INPUT as u64 + 1;
    if path.as_os_str() == "-" {
        std::io::stdin().take(limit).read_to_end(&mut buf)?;
    } else {
        std::fs::File::open(path)?
            .take(limit)
            .read_to_end(&mut buf)?;
    }
    if buf.len() > MAX_INPUT {
        return Err(TranslateError::TooLarge(format!(
            "more than {MAX_INPUT} bytes"
        )));
    }
    Ok(buf)
}

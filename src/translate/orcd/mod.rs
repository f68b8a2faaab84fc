//! Norwegian journal documents as eHDSI Original Clinical Documents (OrCD): a CDA Level 1
//! wrapper (`nonXMLBody`) around the original as a PDF or a picture, with the eHDSI header
//! filled from the source. Sources: NHN's CDA Level 1 documents, PDFs and pictures registered
//! as they are, and structured documents (a CDA's narrative, a KITH epikrise) rendered to a
//! PDF/A in bokmål.

mod class;
mod header;
mod kith;
mod labsvar;
mod source_cda;
mod xcn;

use base64::Engine;

use super::pdf::{self, PdfDoc};
use super::TranslateError;
use crate::xml::XmlWriter;

pub use class::{
    class_of, classes_of_type, format_for, Media, OrcdClass, FORMAT_JPEG, FORMAT_PDF, FORMAT_PNG,
};
pub use header::{norwegian, utc, Facts, Ii, Org, Patient, Person};
pub use xcn::{xcn, xon};

/// The original document, base64-encoded as the nonXMLBody carries it.
#[derive(Debug, Clone)]
pub struct Body {
    /// The media type as the OrCD template names it.
    pub media_type: &'static str,
    pub base64: String,
}

impl Body {
    /// The bytes of a PDF, PNG or JPEG, checked by their signature (a registry's mimeType can
    /// be wrong; eHDSI allows these three only).
    pub fn from_bytes(data: &[u8]) -> Result<Body, TranslateError> {
        let media_type = sniff(data)?;
        Ok(Body {
            media_type,
            base64: base64::engine::general_purpose::STANDARD.encode(data),
        })
    }

    /// Base64 text from a source document's nonXMLBody; decoded to check what it holds.
    fn from_base64(declared: &str, b64: String) -> Result<Body, TranslateError> {
        let data = base64::engine::general_purpose::STANDARD
            .decode(b64.as_bytes())
            .map_err(|e| TranslateError::InvalidValue {
                element: "nonXMLBody/text".into(),
                reason: format!("not base64: {e}"),
            })?;
        let media_type = sniff(&data).map_err(|_| TranslateError::InvalidValue {
            element: "nonXMLBody/text".into(),
            reason: format!("the original ({declared}) is not a PDF, PNG or JPEG"),
        })?;
        Ok(Body {
            media_type,
            base64: b64,
        })
    }
}

fn sniff(data: &[u8]) -> Result<&'static str, TranslateError> {
    if data.starts_with(b"%PDF-") {
        Ok("application/pdf")
    } else if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        Ok("image/png")
    } else if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Ok("image/jpeg")
    } else {
        Err(TranslateError::WrongDocument {
            expected: "PDF, PNG or JPEG original",
            found: "other content".into(),
        })
    }
}

/// One source document to give as an OrCD.
pub struct OrcdSource<'a> {
    pub data: &'a [u8],
    pub class: OrcdClass,
    /// What the registry and the patient index know; a CDA source's own header wins.
    pub base: Facts,
}

/// A written OrCD.
#[derive(Debug, Clone)]
pub struct Orcd {
    pub xml: String,
    pub class: OrcdClass,
    /// The eHDSI formatCode of its body.
    pub format_code: &'static str,
}

/// Translates one Norwegian journal document to an OrCD of `src.class`.
pub fn journal_to_orcd(src: &OrcdSource) -> Result<Orcd, TranslateError> {
    let (facts, body) = match sniff(src.data) {
        Ok(_) => (src.base.clone(), Body::from_bytes(src.data)?),
        Err(_) => {
            let text = utf8(src.data)?;
            let root = super::parse_xml(text.as_bytes())?;
            if source_cda::is_cda(&root) {
                match source_cda::read(&root, &src.base)? {
                    (f, Some(b)) => (f, b),
                    // A structured CDA: its narrative, as the hospital wrote it, in a PDF.
                    (f, None) => {
                        let doc = PdfDoc {
                            created: Some(f.effective.clone()),
                            title: f.title.clone().unwrap_or_else(|| src.class.title().into()),
                            lang: "nb-NO".into(),
                            author: None,
                            blocks: pdf::cda_narrative(&root),
                        };
                        (f, Body::from_bytes(&pdf::render_pdf(&doc)?)?)
                    }
                }
            } else if kith::is_epikrise(&root) {
                let (f, doc) = kith::read(&root, &src.base);
                (f, Body::from_bytes(&pdf::render_pdf(&doc)?)?)
            } else if labsvar::is_svarrapport(&root) {
                let (f, doc) = labsvar::read(&root, &src.base);
                (f, Body::from_bytes(&pdf::render_pdf(&doc)?)?)
            } else {
                return Err(TranslateError::WrongDocument {
                    expected:
                        "CDA, KITH epikrise or svarrapport, PDF, PNG or JPEG journal document",
                    found: root.name.clone(),
                });
            }
        }
    };
    check_media(src.class, &body)?;
    // eHDSI's header template has no null flavour for these: without them the OrCD would be
    // invalid, so none is written.
    let missing = facts.missing();
    if !missing.is_empty() {
        return Err(TranslateError::MissingElement(format!(
            "the OrCD header needs {}, which neither the document nor what is known of it gives",
            missing.join(", ")
        )));
    }
    Ok(write(src.class, &facts, &body))
}

/// The OrCD class of a document by what it says of itself: a CDA's document code (its
/// Norwegian typeCode) and whether it carries a picture. None for a bare PDF or picture.
pub fn class_of_document(
    data: &[u8],
    term: &super::Terminology,
) -> Result<Option<OrcdClass>, TranslateError> {
    if sniff(data).is_ok() {
        return Ok(None);
    }
    let root = super::parse_xml(utf8(data)?.as_bytes())?;
    if kith::is_epikrise(&root) {
        return Ok(Some(OrcdClass::DischargeReport));
    }
    if labsvar::is_svarrapport(&root) {
        return Ok(Some(OrcdClass::LabResult));
    }
    if !source_cda::is_cda(&root) {
        return Ok(None);
    }
    let code = root.child("urn:hl7-org:v3", "code");
    let (Some(code), Some(system)) = (
        code.and_then(|c| c.attr("code")),
        code.and_then(|c| c.attr("codeSystem")),
    ) else {
        return Ok(None);
    };
    let media = root
        .path("urn:hl7-org:v3", &["component", "nonXMLBody", "text"])
        .and_then(|t| t.attr("mediaType"))
        .map(Media::of_mime)
        .unwrap_or(Media::Report);
    Ok(class_of(term, system, code, media))
}

/// Whether a registered document is a picture (PNG, JPEG, or a CDA carrying one) or a report.
pub fn media_of(data: &[u8]) -> Media {
    match sniff(data) {
        Ok(m) => Media::of_mime(m),
        Err(_) => {
            let declared = utf8(data)
                .ok()
                .and_then(|t| super::parse_xml(t.as_bytes()).ok())
                .and_then(|root| {
                    root.path("urn:hl7-org:v3", &["component", "nonXMLBody", "text"])
                        .and_then(|t| t.attr("mediaType"))
                        .map(Media::of_mime)
                });
            declared.unwrap_or(Media::Report)
        }
    }
}

/// Pictures only as Medical Images, reports only as the report classes.
fn check_media(class: OrcdClass, body: &Body) -> Result<(), TranslateError> {
    if Media::of_mime(body.media_type) == class.media() {
        Ok(())
    } else {
        Err(TranslateError::InvalidValue {
            element: "nonXMLBody/text/@mediaType".into(),
            reason: format!(
                "a {} original cannot be given as OrCD {}",
                body.media_type,
                class.code()
            ),
        })
    }
}

fn write(class: OrcdClass, f: &Facts, body: &Body) -> Orcd {
    let mut w = XmlWriter::new();
    // Stable: the same source gives the same OrCD id on every query.
    let seed = format!(
        "orcd|{}|{}|{}",
        class.code(),
        f.source_id.root,
        f.source_id.extension.as_deref().unwrap_or("")
    );
    let doc_id = Ii {
        root: super::cda::uuid_from(&seed),
        extension: None,
    };
    header::write_header(&mut w, class, f, &doc_id);
    // The 2024 Medical Images template names pictures application/png and application/jpeg.
    let media = match body.media_type {
        "image/png" => "application/png",
        "image/jpeg" => "application/jpeg",
        m => m,
    };
    w.open("component", &[]);
    w.open(
        "nonXMLBody",
        &[("classCode", "DOCBODY"), ("moodCode", "EVN")],
    );
    w.leaf(
        "text",
        &[("mediaType", media), ("representation", "B64")],
        &body.base64,
    );
    w.close("nonXMLBody");
    w.close("component");
    w.close("ClinicalDocument");
    Orcd {
        xml: w.s,
        class,
        format_code: format_for(body.media_type),
    }
}

/// UTF-8 text of an XML source; NHN's own CDA examples are UTF-16 with a byte-order mark.
fn utf8(data: &[u8]) -> Result<std::borrow::Cow<'_, str>, TranslateError> {
    let utf16 = |le: bool| -> Result<String, TranslateError> {
        let units: Vec<u16> = data[2..]
            .chunks_exact(2)
            .map(|c| {
                if le {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            })
            .collect();
        let s = String::from_utf16(&units)
            .map_err(|_| TranslateError::MalformedXml("invalid UTF-16".into()))?;
        // The declaration still says utf-16; the text is UTF-8 now.
        Ok(s.replacen("encoding=\"utf-16\"", "encoding=\"utf-8\"", 1)
            .replacen("encoding=\"UTF-16\"", "encoding=\"UTF-8\"", 1))
    };
    match data {
        [0xFF, 0xFE, ..] => utf16(true).map(Into::into),
        [0xFE, 0xFF, ..] => utf16(false).map(Into::into),
        _ => std::str::from_utf8(data)
            .map(Into::into)
            .map_err(|_| TranslateError::MalformedXml("XML is not UTF-8 or UTF-16".into())),
    }
}

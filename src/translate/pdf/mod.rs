//! The L1 variant: a document rendered as PDF/A-1b (krilla; DejaVu Sans embedded and subsetted)
//! and carried base64 in a CDA with a nonXMLBody.
//!
//! * [`render_pdf`]: [`PdfDoc`] (title, language, [`Block`]s) -> PDF bytes;
//! * `layout`: blocks -> lines on A4 pages; `fonts`: the faces and their advances;
//! * `narrative`: the structuredBody narrative of a CDA -> blocks;
//! * [`cda_l1`]: an L3 CDA -> its L1 twin.

mod fonts;
mod layout;
mod narrative;

pub use narrative::blocks as cda_narrative;

use std::path::PathBuf;

use base64::Engine;
use krilla::color::luma;
use krilla::configure::{Archival, ConfigurationBuilder};
use krilla::geom::{PathBuilder, Point};
use krilla::metadata::{DateTime, Metadata};
use krilla::page::PageSettings;
use krilla::paint::Stroke;
use krilla::{Document, SerializeSettings};

use self::fonts::Fonts;
use self::layout::Op;
use super::TranslateError;

/// A piece of the document, laid out top to bottom.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// Section heading, bold, larger.
    Heading(String),
    /// Bold, body size.
    Subheading(String),
    /// Wrapped body text; '\n' inside starts a new line.
    Paragraph(String),
    /// "label: value" line, label bold, value wrapped.
    Field(String, String),
    /// A ruled grid, cells wrapped within their column.
    Table {
        header: Vec<String>,
        rows: Vec<Vec<String>>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct PdfDoc {
    /// Printed at the top of page 1 and set as the document title.
    pub title: String,
    /// Document language, e.g. "nb-NO" or "en".
    pub lang: String,
    /// Metadata only.
    pub author: Option<String>,
    /// The creation date in the metadata (an HL7 TS); None: now. A translation passes its
    /// source's date, so the same source gives the same bytes (and the same pivot uniqueId).
    pub created: Option<String>,
    pub blocks: Vec<Block>,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum PdfError {
    #[error("PDF font {path}: {reason} (set NCPEH_PDF_FONTS to a directory with DejaVuSans.ttf and DejaVuSans-Bold.ttf; Debian: fonts-dejavu-core)")]
    Font { path: PathBuf, reason: String },
    #[error("the PDF does not meet PDF/A-1b: {0}")]
    Validation(String),
    #[error("PDF could not be written: {0}")]
    Serialize(String),
}

/// Renders `doc` as PDF/A-1b with the process's fonts ([`fonts::shared`]).
pub fn render_pdf(doc: &PdfDoc) -> Result<Vec<u8>, PdfError> {
    render_with(doc, fonts::shared()?)
}

fn render_with(doc: &PdfDoc, fonts: &Fonts) -> Result<Vec<u8>, PdfError> {
    let pages = layout::layout(doc, fonts);
    let configuration = ConfigurationBuilder::new()
        .with_archival_validator(Archival::A1_B)
        .finish()
        .map_err(|e| PdfError::Validation(format!("{e:?}")))?;
    let settings = SerializeSettings {
        configuration,
        // PDF/A-1b asks for no structure tree; level A would
        enable_tagging: false,
        ..SerializeSettings::default()
    };
    let mut document = Document::new_with(settings);
    let title = match doc.title.trim() {
        "" => "Document".to_string(),
        t => fonts.clean(t),
    };
    let mut meta = Metadata::new()
        .title(title)
        .creator("ncpeh".into())
        // PDF/A-1 wants a creation date in the metadata
        .creation_date(doc.created.as_deref().and_then(from_ts).unwrap_or_else(now));
    if !doc.lang.trim().is_empty() {
        meta = meta.language(doc.lang.trim().to_string());
    }
    if let Some(a) = doc
        .author
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
    {
        meta = meta.authors(vec![fonts.clean(a)]);
    }
    document.set_metadata(meta);
    let size = PageSettings::from_wh(layout::PAGE_W, layout::PAGE_H)
        .ok_or_else(|| PdfError::Serialize("bad page size".into()))?;
    for p in &pages {
        let mut page = document.start_page_with(size.clone());
        let mut s = page.surface();
        for op in &p.ops {
            match op {
                Op::Text {
                    x,
                    y,
                    style,
                    size,
                    text,
                } => {
                    let face = fonts.face(*style);
                    s.draw_glyphs(
                        Point::from_xy(*x, *y),
                        &face.glyphs(text),
                        face.font.clone(),
                        text,
                        *size,
                        false,
                    );
                }
                Op::Rule { x1, x2, y, width } => {
                    let mut pb = PathBuilder::new();
                    pb.move_to(*x1, *y);
                    pb.line_to(*x2, *y);
                    if let Some(path) = pb.finish() {
                        s.set_stroke(Some(Stroke {
                            paint: luma::Color::new(110).into(),
                            width: *width,
                            ..Stroke::default()
                        }));
                        s.set_fill(None);
                        s.draw_path(&path);
                        s.set_stroke(None);
                    }
                }
            }
        }
        s.finish();
        page.finish();
    }
    document.finish().map_err(krilla_error)
}

fn krilla_error(e: krilla::error::KrillaError) -> PdfError {
    match e {
        krilla::error::KrillaError::Validation(list) => PdfError::Validation(
            list.iter()
                .map(|(v, _)| format!("{v:?}"))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        other => PdfError::Serialize(other.to_string()),
    }
}

/// An HL7 TS (`YYYYMMDD[HHMMSS][+ZZZZ]`) as a metadata date; None when it is not one.
fn from_ts(ts: &str) -> Option<DateTime> {
    let n = |a: usize, b: usize| ts.get(a..b).and_then(|s| s.parse::<u32>().ok());
    let year = u16::try_from(n(0, 4)?).ok()?;
    let small = |v: Option<u32>| v.and_then(|v| u8::try_from(v).ok());
    let (month, day) = (small(n(4, 6))?, small(n(6, 8))?);
    let mut d = DateTime::new(year).month(month).day(day);
    if let (Some(h), Some(mi)) = (small(n(8, 10)), small(n(10, 12))) {
        d = d.hour(h).minute(mi).second(small(n(12, 14)).unwrap_or(0));
    }
    let zone = ts.find(['+', '-']).map(|i| &ts[i..]);
    let (sign, hh, mm) = match zone {
        Some(z) if z.len() == 5 => (
            if z.starts_with('-') { -1 } else { 1 },
            z[1..3].parse::<i8>().ok()?,
            z[3..5].parse::<u8>().ok()?,
        ),
        _ => (1, 0, 0),
    };
    Some(d.utc_offset_hour(sign * hh).utc_offset_minute(mm))
}

/// The current time (UTC) for the metadata.
fn now() -> DateTime {
    let t = time::OffsetDateTime::now_utc();
    DateTime::new(u16::try_from(t.year()).unwrap_or(1970))
        .month(u8::from(t.month()))
        .day(t.day())
        .hour(t.hour())
        .minute(t.minute())
        .second(t.second())
        .utc_offset_hour(0)
        .utc_offset_minute(0)
}

impl From<PdfError> for TranslateError {
    fn from(e: PdfError) -> Self {
        TranslateError::Pdf(e.to_string())
    }
}

/// The L1 twin of an L3 CDA we wrote: `top` (e.g. the patient's fields) and the narrative of
/// every section rendered as PDF, in the L3 header with `l1_template`. `default_title` is used
/// when the L3 has no `<title>`.
pub fn cda_l1(
    l3: &str,
    top: Vec<Block>,
    default_title: &str,
    l1_template: &str,
) -> Result<String, TranslateError> {
    let root = narrative::parse(l3)?;
    let mut doc = narrative::header(&root, default_title);
    doc.blocks = top;
    doc.blocks.extend(narrative::blocks(&root));
    let pdf = render_pdf(&doc)?;
    l1_document(l3, &pdf, l1_template)
}

/// The L1 CDA: the L3 header (everything before the structured body) with the templateId swapped
/// and a nonXMLBody holding `pdf`.
pub fn l1_document(l3: &str, pdf: &[u8], l1_template: &str) -> Result<String, TranslateError> {
    let body_at = l3.find("<component><structuredBody>").ok_or_else(|| {
        TranslateError::MissingElement("structuredBody in the L3 document".into())
    })?;
    let header = &l3[..body_at];
    let header = header.replacen(
        "<templateId root=\"1.3.6.1.4.1.12559.11.10.1.3.1.1.3\"/>",
        &format!("<templateId root=\"{l1_template}\"/>"),
        1,
    );
    let b64 = base64::engine::general_purpose::STANDARD.encode(pdf);
    Ok(format!(
        "{header}<component><nonXMLBody classCode=\"DOCBODY\" moodCode=\"EVN\"><text mediaType=\"application/pdf\" representation=\"B64\">{b64}</text></nonXMLBody></component></ClinicalDocument>"
    ))
}

#[cfg(test)]
mod tests;

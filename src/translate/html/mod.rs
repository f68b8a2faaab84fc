//! Foreign eHDSI pivot documents (PS, eP, eD, OrCD, HCER, MRO) as one self-contained HTML page
//! for a Norwegian reader (`<html lang="nb">`): the header's facts, each section under its
//! bokmål heading with the original title beside it, the narrative through a whitelist, the
//! entries' coded values in bokmål with the original wording kept, and an OrCD's PDF or picture
//! inline. Bokmål comes from the terminology (`designations.tsv`, overridable like the other
//! tables); the fixed labels are the renderer's own.
//!
//! The document is foreign input: the page loads nothing from outside, its Content-Security-
//! Policy allows no script, and everything taken from the document is escaped ([`out`]).

mod coded;
mod header;
mod media;
mod narrative;
mod out;
mod values;

use crate::translate::terminology::Terminology;
use crate::translate::{OrcdClass, TranslateError, XML_LIMITS};
use crate::xml::{parse_with, Element, Options};

use coded::Ctx;
use out::{squash, Html};
use values::HL7;

/// The page's policy: no script, no network; styles inline; the embedded body as data: URLs.
pub const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; \
                       object-src data:; frame-src data:; base-uri 'none'; form-action 'none'";

/// HealthCare Encounter Report (LOINC).
pub const HCER_CODE: &str = "34133-9";
/// Medication Related Overview (LOINC).
pub const MRO_CODE: &str = "56445-0";

const LOINC: &str = crate::ids::oid::LOINC;

/// The pivot documents the page is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PivotKind {
    PatientSummary,
    Prescription,
    Dispensation,
    OriginalClinical(OrcdClass),
    EncounterReport,
    MedicationOverview,
}

impl PivotKind {
    /// The kind of a document code (LOINC, or eHDSI's `x-clinical-image`).
    pub fn of_code(code: &str) -> Option<PivotKind> {
        use crate::ids::ehdsi;
        Some(match code {
            ehdsi::PS_CLASS => PivotKind::PatientSummary,
            ehdsi::EP_CLASS => PivotKind::Prescription,
            ehdsi::ED_CLASS => PivotKind::Dispensation,
            HCER_CODE => PivotKind::EncounterReport,
            MRO_CODE => PivotKind::MedicationOverview,
            other => PivotKind::OriginalClinical(OrcdClass::from_code(other)?),
        })
    }
}

/// What kind of pivot document `root` is; an error for anything else.
pub fn kind_of(root: &Element) -> Result<PivotKind, TranslateError> {
    if !root.is(HL7, "ClinicalDocument") {
        return Err(TranslateError::WrongDocument {
            expected: "HL7 CDA ClinicalDocument",
            found: root.qname().into_owned(),
        });
    }
    let code = root
        .child(HL7, "code")
        .ok_or_else(|| TranslateError::MissingElement("ClinicalDocument/code".into()))?;
    let value = code.attr("code").unwrap_or("").trim();
    let system = code.attr("codeSystem").unwrap_or("").trim();
    match PivotKind::of_code(value) {
        Some(kind) if system == LOINC => Ok(kind),
        _ => Err(TranslateError::WrongDocument {
            expected: "eHDSI pivot document (PS, eP, eD, OrCD, HCER or MRO)",
            found: format!("document code {value} in {system}"),
        }),
    }
}

/// Renders a foreign pivot CDA as one HTML page in bokmål (`lang` must be `nb` or `nb-NO`).
pub fn pivot_to_html(xml: &[u8], term: &Terminology, lang: &str) -> Result<String, TranslateError> {
    if !matches!(lang.to_ascii_lowercase().as_str(), "nb" | "nb-no") {
        return Err(TranslateError::InvalidValue {
            element: "--lang".into(),
            reason: format!("{lang}: pages are written in bokmål only (nb)"),
        });
    }
    // Whitespace between inline elements is part of the narrative's text.
    let root = parse_with(
        xml,
        Options {
            limits: XML_LIMITS,
            keep_layout: true,
        },
    )?;
    kind_of(&root)?;
    let refs = narrative::referenced_texts(&root);
    let cx = Ctx {
        term,
        lang: "nb-NO",
        refs: &refs,
    };
    let component = root.child(HL7, "component");
    let structured = component.and_then(|c| c.child(HL7, "structuredBody"));
    let non_xml = component.and_then(|c| c.child(HL7, "nonXMLBody"));
    if structured.is_none() && non_xml.is_none() {
        return Err(TranslateError::MissingElement(
            "ClinicalDocument/component/structuredBody or nonXMLBody".into(),
        ));
    }

    let mut h = Html::new();
    h.fixed("<!DOCTYPE html>\n<html lang=\"nb\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.open(
        "meta",
        &[("http-equiv", "Content-Security-Policy"), ("content", CSP)],
    );
    h.fixed("\n<meta name=\"referrer\" content=\"no-referrer\">\n");
    h.fixed("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let title = header::title(&root);
    h.leaf(
        "title",
        &[],
        if title.is_empty() {
            "Utenlandsk dokument"
        } else {
            &title
        },
    );
    h.fixed(STYLE);
    h.fixed("</head>\n<body>\n");
    header::render(&mut h, &root, &cx);
    h.open("main", &[]);
    if let Some(body) = structured {
        for c in body.children_named(HL7, "component") {
            if let Some(s) = c.child(HL7, "section") {
                section(&mut h, s, 0, &cx);
            }
        }
    }
    if let Some(body) = non_xml {
        media::render(&mut h, body);
    }
    h.close("main");
    h.fixed(FOOTER);
    h.fixed("</body>\n</html>\n");
    Ok(h.into_string())
}

/// One section: the bokmål heading from its code with the original title beside it, the
/// narrative, the entries' coded values, then its subsections.
fn section(h: &mut Html, sec: &Element, depth: usize, cx: &Ctx) {
    let tag = match depth {
        0 => "h2",
        1 => "h3",
        _ => "h4",
    };
    let code = sec.child(HL7, "code").and_then(|c| coded::read(c, cx));
    let title = sec
        .child(HL7, "title")
        .map(|t| squash(&t.deep_text()))
        .filter(|t| !t.is_empty());
    h.open("section", &[("class", "section")]);
    h.open(tag, &[]);
    match (code.as_ref().and_then(|c| c.nb.as_deref()), &title) {
        (Some(nb), Some(t)) => {
            h.leaf("span", &[("class", "nb")], nb);
            h.text(" ");
            h.leaf("span", &[("class", "orig")], t);
        }
        (Some(nb), None) => h.leaf("span", &[("class", "nb")], nb),
        (None, _) => {
            let shown = title
                .clone()
                .or_else(|| code.as_ref().and_then(|c| c.original.clone()))
                .unwrap_or_else(|| "Uten tittel".into());
            h.leaf("span", &[("class", "untranslated")], &shown);
        }
    }
    if let Some(c) = &code {
        h.text(" ");
        h.leaf(
            "span",
            &[("class", "code")],
            &format!("{} / {}", c.system, c.code),
        );
    }
    h.close(tag);
    if let Some(text) = sec.child(HL7, "text") {
        narrative::render(h, text);
    }
    coded::entries(h, sec, cx);
    for c in sec.children_named(HL7, "component") {
        if let Some(s) = c.child(HL7, "section") {
            section(h, s, depth + 1, cx);
        }
    }
    h.close("section");
}

const FOOTER: &str = "<footer><p>Vist av ncpeh fra et eHDSI-pivotdokument. Det opprinnelige \
    dokumentet er det gjeldende; denne siden er en lesehjelp.</p></footer>\n";

const STYLE: &str = "<style>
body{font-family:system-ui,'DejaVu Sans',sans-serif;margin:0 auto;max-width:70rem;padding:1rem 2rem;color:#1a1a1a;line-height:1.45}
header{border-bottom:2px solid #2b4a6f;margin-bottom:1rem}
h1{margin:.2rem 0;color:#2b4a6f}
.orig{color:#555;font-style:italic}
.orig-title{margin:.2rem 0}
.banner{background:#fff6d6;border:1px solid #e0c96a;padding:.4rem .6rem}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}
dl.facts dt{font-weight:600}
dl.facts dd{margin:0}
section.section{border-top:1px solid #ccd;margin-top:1rem}
h2,h3,h4{color:#2b4a6f}
.code{color:#777;font-size:.8em;font-weight:normal}
.untranslated{font-weight:600}
.narrative table{border-collapse:collapse;margin:.5rem 0}
.narrative th,.narrative td{border:1px solid #bbb;padding:.2rem .4rem;vertical-align:top}
.narrative th{background:#eef2f7}
.caption{font-weight:600}
.coded-heading{font-weight:600;margin-bottom:.2rem}
ul.coded li{margin-bottom:.4rem}
.label{color:#555}
.notice{background:#fde8e8;border:1px solid #d99;padding:.4rem .6rem}
object.pdf{width:100%;height:60rem;border:1px solid #bbb}
img.image{max-width:100%;border:1px solid #bbb}
footer{border-top:1px solid #ccd;margin-top:2rem;color:#555;font-size:.9em}
</style>
";

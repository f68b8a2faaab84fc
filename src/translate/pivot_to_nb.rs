//! Foreign pivot PS/eP -> the same document for a Norwegian reader: on every coded element whose
//! concept has a bokmål designation, displayName becomes the bokmål text. The original wording is
//! kept: when the element has no `<originalText>`, the foreign displayName is written there.
//! Everything else passes through as written (prefixes and layout kept; comments dropped).

use super::terminology::Terminology;
use super::{TranslateError, Translated, TranslationWarning, WarningKind, XML_LIMITS};
use crate::xml::{parse_with, Element, Node, Options};

const HL7: &str = "urn:hl7-org:v3";
const PHARM: &str = "urn:hl7-org:pharm";
const LANG: &str = "nb-NO";

/// Sets the bokmål displayName on `e` when the terminology has one; returns whether it did.
fn relabel(e: &mut Element, term: &Terminology) -> bool {
    if !matches!(e.ns.as_deref(), Some(HL7) | Some(PHARM)) {
        return false;
    }
    let (Some(code), Some(system)) = (e.attr("code"), e.attr("codeSystem")) else {
        return false;
    };
    let Some(nb) = term.designation(system, code, LANG) else {
        return false;
    };
    let foreign = e.attr("displayName").map(str::to_string);
    e.set_attr("displayName", nb);
    let has_original = e.elements().any(|c| c.is(HL7, "originalText"));
    if let (Some(foreign), false) = (foreign, has_original) {
        let mut ot = Element::new(e.prefix.as_deref(), "originalText", e.ns.as_deref());
        ot.push_text(&foreign);
        e.children.insert(0, Node::Element(ot));
    }
    true
}

/// Rewrites display names of a pivot CDA to bokmål where the terminology has them.
pub fn pivot_to_nb(xml: &[u8], term: &Terminology) -> Result<Translated, TranslateError> {
    let opts = Options {
        limits: XML_LIMITS,
        keep_layout: true,
    };
    let mut doc = parse_with(xml, opts)?;
    if !doc.is(HL7, "ClinicalDocument") {
        return Err(TranslateError::WrongDocument {
            expected: "HL7 CDA ClinicalDocument",
            found: doc.qname().into_owned(),
        });
    }
    let mut swapped = 0usize;
    doc.walk_mut(&mut |e| {
        if relabel(e, term) {
            swapped += 1;
        }
    });
    let out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}",
        doc.to_xml()
    );
    let warnings = if swapped == 0 {
        vec![TranslationWarning {
            kind: WarningKind::NoMapping,
            element: "ClinicalDocument".into(),
            detail: "no coded element had a bokmål designation".into(),
        }]
    } else {
        Vec::new()
    };
    Ok(Translated {
        xml: out,
        l1_xml: None,
        warnings,
    })
}

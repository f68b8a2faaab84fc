//! Coded values in bokmål: the terminology's nb designation first, the document's own wording
//! (displayName, originalText, or the narrative text it references) and the code beside it.

use std::collections::{HashMap, HashSet};

use crate::translate::terminology::Terminology;
use crate::xml::Element;

use super::out::{squash, Html};
use super::values::{EPSOS, HL7, PHARM};

/// What a lookup needs: the tables, the reader's language, and the narrative's ID'd texts.
pub struct Ctx<'a> {
    pub term: &'a Terminology,
    pub lang: &'a str,
    pub refs: &'a HashMap<String, String>,
}

/// One coded element, read for display.
#[derive(Debug, Clone, PartialEq)]
pub struct Coded {
    pub system: String,
    pub code: String,
    /// The designation in the reader's language.
    pub nb: Option<String>,
    /// The document's own wording.
    pub original: Option<String>,
    /// The MVC's (English) display, for a code the document names without words.
    pub mvc: Option<String>,
}

/// Code systems whose codes only say what kind of act an entry is (ActClass, ActCode, ActMood,
/// ActStatus, IHE's act codes): noise for a reader unless the terminology has words for them.
const STRUCTURAL: [&str; 5] = [
    "2.16.840.1.113883.5.6",
    "2.16.840.1.113883.5.4",
    "2.16.840.1.113883.5.1001",
    "2.16.840.1.113883.5.14",
    "1.3.6.1.4.1.19376.1.5.3.2",
];

/// The element's `code`/`codeSystem`, when it has both.
pub fn read(e: &Element, cx: &Ctx) -> Option<Coded> {
    if !matches!(e.ns.as_deref(), Some(HL7) | Some(PHARM) | Some(EPSOS)) {
        return None;
    }
    let code = e.attr("code")?.trim();
    let system = e.attr("codeSystem")?.trim();
    if code.is_empty() || system.is_empty() {
        return None;
    }
    let original = e
        .attr("displayName")
        .map(squash)
        .filter(|d| !d.is_empty())
        .or_else(|| original_text(e, cx));
    Some(Coded {
        system: system.to_string(),
        code: code.to_string(),
        nb: cx
            .term
            .designation(system, code, cx.lang)
            .map(str::to_string),
        original,
        mvc: cx.term.display_any(system, code).map(str::to_string),
    })
}

/// `<originalText>`: its own text, or the narrative text its `<reference value="#id">` names.
fn original_text(e: &Element, cx: &Ctx) -> Option<String> {
    let ot = e.child(HL7, "originalText")?;
    let own = squash(&ot.text());
    if !own.is_empty() {
        return Some(own);
    }
    let target = ot.child(HL7, "reference")?.attr("value")?;
    cx.refs.get(target.trim().trim_start_matches('#')).cloned()
}

/// `Bokmål (original: Foreign, system / code)`, or the foreign words and the code when the
/// terminology has no bokmål for it.
pub fn write(h: &mut Html, c: &Coded) {
    let source = c.original.as_deref().or(c.mvc.as_deref());
    match &c.nb {
        Some(nb) => {
            h.leaf("span", &[("class", "nb")], nb);
            let orig = match source {
                Some(s) => format!("(original: {s}, {} / {})", c.system, c.code),
                None => format!("(original: {} / {})", c.system, c.code),
            };
            h.text(" ");
            h.leaf("span", &[("class", "orig")], &orig);
        }
        None => {
            h.leaf(
                "span",
                &[("class", "untranslated")],
                source.unwrap_or("(uten betegnelse)"),
            );
            h.text(" ");
            h.leaf(
                "span",
                &[("class", "orig")],
                &format!("({} / {}; ingen bokmålsbetegnelse)", c.system, c.code),
            );
        }
    }
}

/// What a coded element's name means, in bokmål.
fn label(element: &str) -> &'static str {
    match element {
        "value" => "Verdi",
        "routeCode" => "Administrasjonsvei",
        "formCode" => "Legemiddelform",
        "administrationUnitCode" => "Administrasjonsenhet",
        "targetSiteCode" | "approachSiteCode" => "Kroppssted",
        "methodCode" => "Metode",
        "interpretationCode" => "Tolkning",
        "priorityCode" => "Prioritet",
        "translation" => "Oversettelse",
        "functionCode" => "Funksjon",
        "event" => "Tidspunkt",
        "administrativeGenderCode" => "Kjønn",
        "confidentialityCode" => "Konfidensialitet",
        _ => "Kode",
    }
}

/// Every section entry's coded values, one list item per entry; nothing when none has any.
pub fn entries(h: &mut Html, section: &Element, cx: &Ctx) {
    let mut items: Vec<Vec<(&'static str, Coded)>> = Vec::new();
    for entry in section.children_named(HL7, "entry") {
        let mut seen = HashSet::new();
        let mut list = Vec::new();
        for e in entry.descendants() {
            let Some(c) = read(e, cx) else { continue };
            if c.nb.is_none() && STRUCTURAL.contains(&c.system.as_str()) {
                continue;
            }
            if seen.insert((c.system.clone(), c.code.clone())) {
                list.push((label(&e.name), c));
            }
        }
        if !list.is_empty() {
            items.push(list);
        }
    }
    if items.is_empty() {
        return;
    }
    h.leaf("p", &[("class", "coded-heading")], "Kodede opplysninger");
    h.open("ul", &[("class", "coded")]);
    for list in &items {
        h.open("li", &[]);
        for (i, (lbl, c)) in list.iter().enumerate() {
            if i > 0 {
                h.fixed("<br>");
            }
            h.leaf("span", &[("class", "label")], &format!("{lbl}:"));
            h.text(" ");
            write(h, c);
        }
        h.close("li");
    }
    h.close("ul");
}

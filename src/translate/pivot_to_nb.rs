//! Foreign pivot PS/eP -> the same document for a Norwegian reader: on every coded element whose
//! concept has a bokmål designation, displayName becomes the bokmål text. The original wording is
//! kept: when the element has no `<originalText>`, the foreign displayName is written there.
//! Everything else passes through unchanged (streamed, namespace-aware, DOCTYPE refused).

use std::borrow::Cow;

use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use quick_xml::name::{QName, ResolveResult};
use quick_xml::{NsReader, Writer};

use super::terminology::Terminology;
use super::{
    TranslateError, Translated, TranslationWarning, WarningKind, MAX_DEPTH, MAX_ELEMENTS, MAX_INPUT,
};

const HL7: &[u8] = b"urn:hl7-org:v3";
const PHARM: &[u8] = b"urn:hl7-org:pharm";
const LANG: &str = "nb-NO";

fn xml_err(e: impl std::fmt::Display) -> TranslateError {
    TranslateError::MalformedXml(e.to_string())
}

/// The element rewritten with the bokmål displayName, and the foreign one, when there is a designation.
fn relabel(
    e: &BytesStart,
    term: &Terminology,
) -> Result<Option<(BytesStart<'static>, Option<String>)>, TranslateError> {
    let mut code = None;
    let mut system = None;
    let mut display = None;
    for a in e.attributes() {
        let a = a.map_err(xml_err)?;
        match a.key.as_ref() {
            b"code" => code = Some(a.unescape_value().map_err(xml_err)?.into_owned()),
            b"codeSystem" => system = Some(a.unescape_value().map_err(xml_err)?.into_owned()),
            b"displayName" => display = Some(a.unescape_value().map_err(xml_err)?.into_owned()),
            _ => {}
        }
    }
    let (Some(code), Some(system)) = (code, system) else {
        return Ok(None);
    };
    let Some(nb) = term.designation(&system, &code, LANG) else {
        return Ok(None);
    };
    let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
    let mut out = BytesStart::new(name);
    for a in e.attributes() {
        let a = a.map_err(xml_err)?;
        if a.key.as_ref() != b"displayName" {
            out.push_attribute(Attribute {
                key: QName(a.key.as_ref()),
                value: Cow::Owned(a.value.into_owned()),
            });
        }
    }
    out.push_attribute(("displayName", nb));
    Ok(Some((out, display)))
}

fn prefixed(name: &[u8], local: &str) -> String {
    let name = String::from_utf8_lossy(name);
    match name.split_once(':') {
        Some((p, _)) => format!("{p}:{local}"),
        None => local.to_string(),
    }
}

/// Rewrites display names of a pivot CDA to bokmål where the terminology has them.
pub fn pivot_to_nb(xml: &[u8], term: &Terminology) -> Result<Translated, TranslateError> {
    if xml.len() > MAX_INPUT {
        return Err(TranslateError::TooLarge(format!(
            "more than {MAX_INPUT} bytes"
        )));
    }
    let text = std::str::from_utf8(xml)
        .map_err(|_| TranslateError::MalformedXml("input is not UTF-8".into()))?;
    let mut r = NsReader::from_str(text);
    let mut w = Writer::new(Vec::with_capacity(xml.len() + 1024));
    let mut depth = 0usize;
    let mut count = 0usize;
    let mut root_seen = false;
    let mut swapped = 0usize;
    // a relabelled element whose first child is not yet known: (its name, the foreign display)
    let mut pending: Option<(String, String)> = None;
    loop {
        let (ns, ev) = r.read_resolved_event().map_err(xml_err)?;
        let in_hl7 = matches!(ns, ResolveResult::Bound(n) if n.as_ref() == HL7);
        let in_pharm = matches!(ns, ResolveResult::Bound(n) if n.as_ref() == PHARM);
        // first child of a relabelled element: keep an existing originalText, else add one
        if let Some((name, original)) = pending.take() {
            match &ev {
                Event::Text(t) if t.iter().all(|b| b.is_ascii_whitespace()) => {
                    pending = Some((name, original))
                }
                Event::Start(s) | Event::Empty(s)
                    if in_hl7 && s.local_name().as_ref() == b"originalText" => {}
                _ => {
                    let ot = prefixed(name.as_bytes(), "originalText");
                    w.write_event(Event::Start(BytesStart::new(ot.clone())))
                        .map_err(xml_err)?;
                    w.write_event(Event::Text(BytesText::new(&original)))
                        .map_err(xml_err)?;
                    w.write_event(Event::End(BytesEnd::new(ot)))
                        .map_err(xml_err)?;
                }
            }
        }
        match ev {
            Event::DocType(_) => return Err(TranslateError::DoctypeRefused),
            Event::Eof => break,
            Event::Start(ref s) | Event::Empty(ref s) => {
                count += 1;
                if count > MAX_ELEMENTS {
                    return Err(TranslateError::TooLarge(format!(
                        "more than {MAX_ELEMENTS} elements"
                    )));
                }
                if depth == 0 {
                    if root_seen {
                        return Err(TranslateError::MalformedXml(
                            "content after the root element".into(),
                        ));
                    }
                    root_seen = true;
                    if !in_hl7 || s.local_name().as_ref() != b"ClinicalDocument" {
                        return Err(TranslateError::WrongDocument {
                            expected: "HL7 CDA ClinicalDocument",
                            found: String::from_utf8_lossy(s.name().as_ref()).into_owned(),
                        });
                    }
                }
                let is_empty = matches!(ev, Event::Empty(_));
                let relabelled = if in_hl7 || in_pharm {
                    relabel(s, term)?
                } else {
                    None
                };
                match relabelled {
                    Some((new, original)) => {
                        swapped += 1;
                        let name = String::from_utf8_lossy(new.name().as_ref()).into_owned();
                        match (is_empty, original) {
                            (true, Some(orig)) => {
                                w.write_event(Event::Start(new)).map_err(xml_err)?;
                                let ot = prefixed(name.as_bytes(), "originalText");
                                w.write_event(Event::Start(BytesStart::new(ot.clone())))
                                    .map_err(xml_err)?;
                                w.write_event(Event::Text(BytesText::new(&orig)))
                                    .map_err(xml_err)?;
                                w.write_event(Event::End(BytesEnd::new(ot)))
                                    .map_err(xml_err)?;
                                w.write_event(Event::End(BytesEnd::new(name)))
                                    .map_err(xml_err)?;
                            }
                            (true, None) => w.write_event(Event::Empty(new)).map_err(xml_err)?,
                            (false, orig) => {
                                w.write_event(Event::Start(new)).map_err(xml_err)?;
                                if let Some(o) = orig {
                                    pending = Some((name, o));
                                }
                            }
                        }
                    }
                    None => w.write_event(ev.borrow()).map_err(xml_err)?,
                }
                if !is_empty {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return Err(TranslateError::TooLarge(format!(
                            "nesting deeper than {MAX_DEPTH}"
                        )));
                    }
                }
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                w.write_event(ev).map_err(xml_err)?;
            }
            other => w.write_event(other).map_err(xml_err)?,
        }
    }
    if !root_seen || depth != 0 {
        return Err(TranslateError::MalformedXml("incomplete document".into()));
    }
    let out = String::from_utf8(w.into_inner()).map_err(xml_err)?;
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

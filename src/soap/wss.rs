//! The WS-Security header exactly as it arrived. Signatures cover its bytes, so it is cut out of
//! the envelope rather than re-serialised, and made self-contained by re-declaring on it the
//! namespaces it inherits from Envelope and Header. The same text is what a gateway forwards.

use super::{SOAP12, WSSE};
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

/// Namespace declarations of one start tag: (prefix, or "" for the default, uri).
type Decls = Vec<(String, String)>;

fn declarations(start: &BytesStart) -> Decls {
    start
        .attributes()
        .flatten()
        .filter_map(|a| {
            let key = a.key.as_ref();
            let prefix = if key == b"xmlns" {
                ""
            } else {
                std::str::from_utf8(key.strip_prefix(b"xmlns:")?).ok()?
            };
            let uri = a.unescape_value().ok()?.into_owned();
            Some((prefix.to_string(), uri))
        })
        .collect()
}

fn resolved_is(r: &ResolveResult, ns: &str) -> bool {
    matches!(r, ResolveResult::Bound(n) if n.as_ref() == ns.as_bytes())
}

/// The `wsse:Security` header of a SOAP 1.2 envelope as standalone XML, or `None` when there is
/// none. Only Envelope and Header are scanned; the Body is never read here. The caller has already
/// parsed the whole envelope with the node's XML reader, so malformed input has been refused.
pub fn security_header(envelope: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(envelope).ok()?;
    let mut reader = NsReader::from_str(text);
    let mut inherited: Decls = Vec::new();
    let mut depth = 0usize;
    loop {
        let before = usize::try_from(reader.buffer_position()).ok()?;
        let (resolved, event) = reader.read_resolved_event().ok()?;
        match event {
            // An empty Envelope or Header holds no Security header.
            Event::Empty(_) if depth < 2 => return None,
            Event::Start(s) if depth < 2 => {
                let is_envelope = depth == 0 && resolved_is(&resolved, SOAP12);
                let is_header = depth == 1
                    && resolved_is(&resolved, SOAP12)
                    && s.local_name().as_ref() == b"Header";
                if !(is_envelope || is_header) {
                    // The Body (or anything else) comes after the Header: nothing to find.
                    return None;
                }
                inherited.extend(declarations(&s));
                depth += 1;
            }
            Event::Start(s)
                if resolved_is(&resolved, WSSE) && s.local_name().as_ref() == b"Security" =>
            {
                reader.read_to_end(s.name()).ok()?;
                let end = usize::try_from(reader.buffer_position()).ok()?;
                return Some(self_contained(text.get(before..end)?, &s, &inherited));
            }
            Event::Empty(s)
                if resolved_is(&resolved, WSSE) && s.local_name().as_ref() == b"Security" =>
            {
                let end = usize::try_from(reader.buffer_position()).ok()?;
                return Some(self_contained(text.get(before..end)?, &s, &inherited));
            }
            Event::Start(s) => {
                reader.read_to_end(s.name()).ok()?;
            }
            Event::End(_) | Event::Eof => return None,
            _ => {}
        }
    }
}

/// `element` with the inherited declarations it does not redeclare added to its start tag.
fn self_contained(element: &str, start: &BytesStart, inherited: &Decls) -> String {
    let own = declarations(start);
    let mut added = String::new();
    // Later (inner) declarations win, so walk from the innermost.
    let mut seen: Vec<&str> = own.iter().map(|(p, _)| p.as_str()).collect();
    for (prefix, uri) in inherited.iter().rev() {
        if seen.contains(&prefix.as_str()) {
            continue;
        }
        seen.push(prefix);
        let attr = if prefix.is_empty() {
            "xmlns".to_string()
        } else {
            format!("xmlns:{prefix}")
        };
        added.push_str(&format!(" {attr}=\"{}\"", crate::xml::esc_attr(uri)));
    }
    let name_end = 1 + start.name().as_ref().len();
    match element.get(..name_end) {
        Some(head) => format!("{head}{added}{}", &element[name_end..]),
        None => element.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::{parse, Limits};

    #[test]
    fn cuts_the_header_out_with_its_namespaces() {
        let env = format!(
            r#"<e:Envelope xmlns:e="{SOAP12}" xmlns:w="{WSSE}" xmlns:s="urn:s"><e:Header><a:To xmlns:a="urn:a">x</a:To><w:Security e:mustUnderstand="1"><s:Assertion ID="_1">t</s:Assertion></w:Security></e:Header><e:Body><b/></e:Body></e:Envelope>"#
        );
        let sec = security_header(env.as_bytes()).expect("found");
        assert!(sec.starts_with("<w:Security xmlns:s=\"urn:s\""), "{sec}");
        assert!(sec.ends_with("</w:Security>"));
        let dom = parse(sec.as_bytes(), Limits::default()).expect("standalone");
        assert!(dom.is(WSSE, "Security"));
        assert_eq!(
            dom.child("urn:s", "Assertion").map(|a| a.text()).as_deref(),
            Some("t")
        );
    }

    #[test]
    fn none_without_header_or_security() {
        let env = format!(r#"<e:Envelope xmlns:e="{SOAP12}"><e:Body><b/></e:Body></e:Envelope>"#);
        assert_eq!(security_header(env.as_bytes()), None);
        let env = format!(
            r#"<e:Envelope xmlns:e="{SOAP12}"><e:Header/><e:Body><w:Security xmlns:w="{WSSE}"/></e:Body></e:Envelope>"#
        );
        assert_eq!(security_header(env.as_bytes()), None);
    }
}

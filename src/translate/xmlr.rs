//! Safe XML input: a small namespace-aware tree built with quick-xml's NsReader. DOCTYPE is refused
//! (so no entity can be declared or expanded), depth, element count and size are capped, and names
//! are compared by namespace URI + local name, never by prefix.

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

use super::{TranslateError, MAX_DEPTH, MAX_ELEMENTS, MAX_INPUT};

#[derive(Debug, Clone, Default)]
pub struct El {
    pub ns: String,
    pub name: String,
    /// (namespace URI or "", local name, value)
    pub attrs: Vec<(String, String, String)>,
    pub children: Vec<El>,
    pub text: String,
}

impl El {
    /// Attribute without namespace.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(ns, n, _)| ns.is_empty() && n == name)
            .map(|(_, _, v)| v.as_str())
    }

    /// First child element with this local name in namespace `ns`.
    pub fn child(&self, ns: &str, name: &str) -> Option<&El> {
        self.children.iter().find(|c| c.name == name && c.ns == ns)
    }

    pub fn children_named<'a>(
        &'a self,
        ns: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = &'a El> + 'a {
        self.children
            .iter()
            .filter(move |c| c.name == name && c.ns == ns)
    }

    /// Follows a path of local names within one namespace.
    pub fn path(&self, ns: &str, names: &[&str]) -> Option<&El> {
        let mut cur = self;
        for n in names {
            cur = cur.child(ns, n)?;
        }
        Some(cur)
    }

    /// Trimmed text content of the element.
    pub fn text_trim(&self) -> &str {
        self.text.trim()
    }

    /// All descendants (depth first) with this name in `ns`.
    pub fn descendants<'a>(&'a self, ns: &str, name: &str, out: &mut Vec<&'a El>) {
        for c in &self.children {
            if c.name == name && c.ns == ns {
                out.push(c);
            }
            c.descendants(ns, name, out);
        }
    }
}

fn ns_of(r: ResolveResult) -> String {
    match r {
        ResolveResult::Bound(ns) => String::from_utf8_lossy(ns.as_ref()).into_owned(),
        _ => String::new(),
    }
}

/// Parses a whole document into a tree.
pub fn parse(bytes: &[u8]) -> Result<El, TranslateError> {
    if bytes.len() > MAX_INPUT {
        return Err(TranslateError::TooLarge(format!(
            "more than {MAX_INPUT} bytes"
        )));
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|_| TranslateError::MalformedXml("input is not UTF-8".into()))?;
    let mut r = NsReader::from_str(text);
    r.config_mut().trim_text(false);
    let mut stack: Vec<El> = Vec::new();
    let mut root: Option<El> = None;
    let mut count = 0usize;
    let err = |e: quick_xml::Error| TranslateError::MalformedXml(e.to_string());
    loop {
        let (resolved, ev) = r.read_resolved_event().map_err(err)?;
        match ev {
            Event::DocType(_) => return Err(TranslateError::DoctypeRefused),
            Event::Start(ref s) | Event::Empty(ref s) => {
                count += 1;
                if count > MAX_ELEMENTS {
                    return Err(TranslateError::TooLarge(format!(
                        "more than {MAX_ELEMENTS} elements"
                    )));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(TranslateError::TooLarge(format!(
                        "nesting deeper than {MAX_DEPTH}"
                    )));
                }
                if root.is_some() {
                    return Err(TranslateError::MalformedXml(
                        "content after the root element".into(),
                    ));
                }
                let mut el = El {
                    ns: ns_of(resolved),
                    name: String::from_utf8_lossy(s.local_name().as_ref()).into_owned(),
                    ..Default::default()
                };
                for a in s.attributes() {
                    let a = a.map_err(|e| TranslateError::MalformedXml(e.to_string()))?;
                    let key = a.key;
                    if key.as_ref() == b"xmlns" || key.as_ref().starts_with(b"xmlns:") {
                        continue;
                    }
                    let (ans, local) = r.resolve_attribute(key);
                    let v = a
                        .decode_and_unescape_value(r.decoder())
                        .map_err(err)?
                        .into_owned();
                    el.attrs.push((
                        ns_of(ans),
                        String::from_utf8_lossy(local.as_ref()).into_owned(),
                        v,
                    ));
                }
                if matches!(ev, Event::Empty(_)) {
                    match stack.last_mut() {
                        Some(p) => p.children.push(el),
                        None => root = Some(el),
                    }
                } else {
                    stack.push(el);
                }
            }
            Event::End(_) => {
                let el = stack
                    .pop()
                    .ok_or_else(|| TranslateError::MalformedXml("unbalanced end tag".into()))?;
                match stack.last_mut() {
                    Some(p) => p.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    // unescape only the five predefined entities and character references
                    let s = t.unescape().map_err(err)?;
                    top.text.push_str(&s);
                }
            }
            Event::CData(c) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&String::from_utf8_lossy(&c));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(TranslateError::MalformedXml(
            "document ends inside an element".into(),
        ));
    }
    root.ok_or_else(|| TranslateError::MalformedXml("no root element".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn refuses_doctype_and_depth() {
        let x = b"<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;</a>";
        assert!(matches!(parse(x), Err(TranslateError::DoctypeRefused)));
        let deep = "<a>".repeat(100) + &"</a>".repeat(100);
        assert!(matches!(
            parse(deep.as_bytes()),
            Err(TranslateError::TooLarge(_))
        ));
        assert!(parse(b"<a><b></a>").is_err());
        let ok = parse(b"<p:a xmlns:p=\"urn:x\"><p:b k=\"v\">t</p:b></p:a>").unwrap();
        assert_eq!(ok.child("urn:x", "b").unwrap().attr("k"), Some("v"));
    }
}

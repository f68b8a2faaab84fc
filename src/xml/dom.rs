//! A namespace-resolved element tree built with quick-xml's NsReader.
//! DOCTYPE and entity declarations are refused outright; depth, element count and size are capped.

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum XmlError {
    #[error("malformed XML: {0}")]
    Malformed(String),
    #[error("DOCTYPE declarations are not accepted")]
    Doctype,
    #[error("XML nesting deeper than {0} levels")]
    TooDeep(usize),
    #[error("more than {0} XML elements")]
    TooManyElements(usize),
    #[error("XML document larger than {0} bytes")]
    TooLarge(usize),
    #[error("XML is not UTF-8")]
    NotUtf8,
    #[error("no root element")]
    Empty,
}

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_depth: usize,
    pub max_elements: usize,
    pub max_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 128,
            max_elements: 2_000_000,
            max_bytes: 256 * 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Attr {
    pub ns: Option<String>,
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Element(Element),
    Text(String),
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Element {
    pub ns: Option<String>,
    pub name: String,
    pub attrs: Vec<Attr>,
    pub children: Vec<Node>,
}

impl Element {
    pub fn is(&self, ns: &str, name: &str) -> bool {
        self.name == name && self.ns.as_deref() == Some(ns)
    }

    /// Attribute without a namespace (the usual case for ebRIM and SOAP attributes).
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns.is_none() && a.name == name)
            .map(|a| a.value.as_str())
    }

    pub fn attr_ns(&self, ns: &str, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns.as_deref() == Some(ns) && a.name == name)
            .map(|a| a.value.as_str())
    }

    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    pub fn children_named<'a>(
        &'a self,
        ns: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = &'a Element> + 'a {
        self.elements().filter(move |e| e.is(ns, name))
    }

    pub fn child(&self, ns: &str, name: &str) -> Option<&Element> {
        self.elements().find(|e| e.is(ns, name))
    }

    /// First child element with this local name, in any namespace.
    pub fn child_local(&self, name: &str) -> Option<&Element> {
        self.elements().find(|e| e.name == name)
    }

    /// Concatenated text content of this element's direct text children.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for n in &self.children {
            if let Node::Text(t) = n {
                out.push_str(t);
            }
        }
        out
    }

    /// Depth-first search for the first descendant (or self) with this name.
    pub fn find(&self, ns: &str, name: &str) -> Option<&Element> {
        if self.is(ns, name) {
            return Some(self);
        }
        self.elements().find_map(|c| c.find(ns, name))
    }
}

/// Parses a whole document. Whitespace-only text between elements is dropped.
pub fn parse(bytes: &[u8], limits: Limits) -> Result<Element, XmlError> {
    if bytes.len() > limits.max_bytes {
        return Err(XmlError::TooLarge(limits.max_bytes));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| XmlError::NotUtf8)?;
    let mut reader = NsReader::from_str(text);
    reader.config_mut().expand_empty_elements = true;
    reader.config_mut().check_end_names = true;

    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;
    loop {
        let (resolved, event) = reader
            .read_resolved_event()
            .map_err(|e| XmlError::Malformed(e.to_string()))?;
        match event {
            Event::Start(start) => {
                if root.is_some() {
                    return Err(XmlError::Malformed("content after the root element".into()));
                }
                count += 1;
                if count > limits.max_elements {
                    return Err(XmlError::TooManyElements(limits.max_elements));
                }
                if stack.len() >= limits.max_depth {
                    return Err(XmlError::TooDeep(limits.max_depth));
                }
                let ns = ns_of(&resolved)?;
                let name = utf8(start.local_name().as_ref())?;
                let mut attrs = Vec::new();
                for attr in start.attributes() {
                    let attr = attr.map_err(|e| XmlError::Malformed(e.to_string()))?;
                    let key = attr.key;
                    if key.as_ref() == b"xmlns" || key.as_ref().starts_with(b"xmlns:") {
                        continue;
                    }
                    let (ans, local) = reader.resolve_attribute(key);
                    let value = attr
                        .unescape_value()
                        .map_err(|e| XmlError::Malformed(e.to_string()))?
                        .into_owned();
                    attrs.push(Attr {
                        ns: ns_of(&ans)?,
                        name: utf8(local.as_ref())?,
                        value,
                    });
                }
                stack.push(Element {
                    ns,
                    name,
                    attrs,
                    children: Vec::new(),
                });
            }
            Event::End(_) => {
                let done = stack
                    .pop()
                    .ok_or_else(|| XmlError::Malformed("unbalanced end tag".into()))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(Node::Element(done)),
                    None => root = Some(done),
                }
            }
            Event::Text(t) => {
                let s = t
                    .unescape()
                    .map_err(|e| XmlError::Malformed(e.to_string()))?;
                push_text(&mut stack, &s)?;
            }
            Event::CData(c) => {
                let s = utf8(&c.into_inner())?;
                push_text(&mut stack, &s)?;
            }
            Event::DocType(_) => return Err(XmlError::Doctype),
            Event::Empty(_) => {
                return Err(XmlError::Malformed("unexpected empty element".into()));
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(XmlError::Malformed("unexpected end of document".into()));
    }
    root.ok_or(XmlError::Empty)
}

fn push_text(stack: &mut [Element], s: &str) -> Result<(), XmlError> {
    match stack.last_mut() {
        Some(parent) => {
            if !s.trim().is_empty() || matches!(parent.children.last(), Some(Node::Text(_))) {
                if let Some(Node::Text(prev)) = parent.children.last_mut() {
                    prev.push_str(s);
                } else {
                    parent.children.push(Node::Text(s.to_string()));
                }
            }
            Ok(())
        }
        None if s.trim().is_empty() => Ok(()),
        None => Err(XmlError::Malformed("text outside the root element".into())),
    }
}

fn ns_of(r: &ResolveResult) -> Result<Option<String>, XmlError> {
    match r {
        ResolveResult::Bound(ns) => Ok(Some(utf8(ns.as_ref())?)),
        ResolveResult::Unbound => Ok(None),
        ResolveResult::Unknown(p) => Err(XmlError::Malformed(format!(
            "undeclared namespace prefix '{}'",
            String::from_utf8_lossy(p)
        ))),
    }
}

fn utf8(b: &[u8]) -> Result<String, XmlError> {
    std::str::from_utf8(b)
        .map(str::to_string)
        .map_err(|_| XmlError::NotUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_namespaces_not_prefixes() {
        let x = br#"<?xml version="1.0"?><a:r xmlns:a="urn:x" xmlns:b="urn:y"><b:c b:k="1" k="&amp;2">t&lt;</b:c></a:r>"#;
        let e = parse(x, Limits::default()).unwrap();
        assert!(e.is("urn:x", "r"));
        let c = e.child("urn:y", "c").unwrap();
        assert_eq!(c.attr("k"), Some("&2"));
        assert_eq!(c.attr_ns("urn:y", "k"), Some("1"));
        assert_eq!(c.text(), "t<");
    }

    #[test]
    fn refuses_doctype_and_entities() {
        let x = br#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e "boom">]><r>&e;</r>"#;
        assert_eq!(parse(x, Limits::default()), Err(XmlError::Doctype));
        assert!(parse(b"<r>&e;</r>", Limits::default()).is_err());
    }

    #[test]
    fn caps_depth_and_rejects_garbage() {
        let deep = "<a>".repeat(200) + &"</a>".repeat(200);
        assert_eq!(
            parse(deep.as_bytes(), Limits::default()),
            Err(XmlError::TooDeep(128))
        );
        assert!(parse(b"<a><b></a>", Limits::default()).is_err());
        assert!(parse(b"<a>", Limits::default()).is_err());
        assert!(parse(b"", Limits::default()).is_err());
        assert!(parse(b"<p:a/>", Limits::default()).is_err());
        assert!(parse(&[0xff, 0xfe], Limits::default()).is_err());
    }
}

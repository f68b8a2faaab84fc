//! A small owned XML tree for the runner: the testkit files are small, and the runner
//! needs to read, rewrite (ids, codes, 2.1 -> 3.0) and re-serialise them.
//! Parsing is namespace-aware (quick-xml `NsReader`); DOCTYPE is refused outright.

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

/// Deepest nesting accepted; testkit files are a dozen levels deep at most.
const MAX_DEPTH: usize = 256;

#[derive(Debug, thiserror::Error)]
pub enum XmlError {
    #[error("XML syntax: {0}")]
    Syntax(String),
    #[error("DOCTYPE is not accepted")]
    Doctype,
    #[error("nesting deeper than {MAX_DEPTH}")]
    TooDeep,
    #[error("no root element")]
    NoRoot,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Element(Element),
    Text(String),
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Element {
    /// Prefix as written (or chosen when built), used only for serialisation.
    pub prefix: Option<String>,
    pub local: String,
    /// Resolved namespace URI.
    pub ns: Option<String>,
    /// Attributes by qualified name as written, including `xmlns` declarations.
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Node>,
}

impl Element {
    pub fn new(prefix: Option<&str>, local: &str, ns: Option<&str>) -> Self {
        Element {
            prefix: prefix.map(str::to_string),
            local: local.to_string(),
            ns: ns.map(str::to_string),
            attrs: Vec::new(),
            children: Vec::new(),
        }
    }

    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn set_attr(&mut self, name: &str, value: &str) {
        match self.attrs.iter_mut().find(|(k, _)| k == name) {
            Some(slot) => slot.1 = value.to_string(),
            None => self.attrs.push((name.to_string(), value.to_string())),
        }
    }

    pub fn remove_attr(&mut self, name: &str) {
        self.attrs.retain(|(k, _)| k != name);
    }

    pub fn with_attr(mut self, name: &str, value: &str) -> Self {
        self.set_attr(name, value);
        self
    }

    pub fn push(&mut self, child: Element) {
        self.children.push(Node::Element(child));
    }

    pub fn push_text(&mut self, text: &str) {
        self.children.push(Node::Text(text.to_string()));
    }

    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    pub fn elements_mut(&mut self) -> impl Iterator<Item = &mut Element> {
        self.children.iter_mut().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    pub fn child(&self, local: &str) -> Option<&Element> {
        self.elements().find(|e| e.local == local)
    }

    pub fn children_named<'a>(&'a self, local: &'a str) -> impl Iterator<Item = &'a Element> {
        self.elements().filter(move |e| e.local == local)
    }

    /// Concatenated text of this element and its descendants.
    pub fn text(&self) -> String {
        let mut out = String::new();
        collect_text(self, &mut out);
        out
    }

    /// Text, trimmed; what testplan values mean.
    pub fn trimmed_text(&self) -> String {
        self.text().trim().to_string()
    }

    /// All descendant elements (not self), document order.
    pub fn descendants(&self) -> Vec<&Element> {
        let mut out = Vec::new();
        fn walk<'a>(e: &'a Element, out: &mut Vec<&'a Element>) {
            for c in e.elements() {
                out.push(c);
                walk(c, out);
            }
        }
        walk(self, &mut out);
        out
    }

    /// Visit self and every descendant element mutably.
    pub fn walk_mut(&mut self, f: &mut dyn FnMut(&mut Element)) {
        f(self);
        for c in self.elements_mut() {
            c.walk_mut(f);
        }
    }

    /// Map every attribute value and text node through `f` (placeholder substitution).
    pub fn map_strings(&mut self, f: &dyn Fn(&str) -> String) {
        for (k, v) in self.attrs.iter_mut() {
            if !k.starts_with("xmlns") {
                *v = f(v);
            }
        }
        for c in self.children.iter_mut() {
            match c {
                Node::Element(e) => e.map_strings(f),
                Node::Text(t) => *t = f(t),
            }
        }
    }

    fn qname(&self) -> String {
        match &self.prefix {
            Some(p) if !p.is_empty() => format!("{p}:{}", self.local),
            _ => self.local.clone(),
        }
    }

    pub fn write_to(&self, out: &mut String) {
        let q = self.qname();
        out.push('<');
        out.push_str(&q);
        for (k, v) in &self.attrs {
            out.push(' ');
            out.push_str(k);
            out.push_str("=\"");
            escape_into(v, true, out);
            out.push('"');
        }
        if self.children.is_empty() {
            out.push_str("/>");
            return;
        }
        out.push('>');
        for c in &self.children {
            match c {
                Node::Element(e) => e.write_to(out),
                Node::Text(t) => escape_into(t, false, out),
            }
        }
        out.push_str("</");
        out.push_str(&q);
        out.push('>');
    }

    pub fn to_xml(&self) -> String {
        let mut s = String::new();
        self.write_to(&mut s);
        s
    }
}

/// Declare every element prefix where it is not in scope, so a subtree moved under a new
/// parent (or out of one) serialises as well-formed namespaced XML.
pub fn fix_namespaces(root: &mut Element) {
    fn walk(e: &mut Element, scope: &mut Vec<(String, String)>) {
        let mark = scope.len();
        for (k, v) in &e.attrs {
            if k == "xmlns" {
                scope.push((String::new(), v.clone()));
            } else if let Some(p) = k.strip_prefix("xmlns:") {
                scope.push((p.to_string(), v.clone()));
            }
        }
        if let Some(ns) = e.ns.clone() {
            let prefix = e.prefix.clone().unwrap_or_default();
            let bound = scope
                .iter()
                .rev()
                .find(|(p, _)| *p == prefix)
                .map(|(_, v)| v.clone());
            if bound.as_deref() != Some(ns.as_str()) {
                let key = if prefix.is_empty() {
                    "xmlns".to_string()
                } else {
                    format!("xmlns:{prefix}")
                };
                e.set_attr(&key, &ns);
                scope.push((prefix, ns));
            }
        }
        for c in e.elements_mut() {
            walk(c, scope);
        }
        scope.truncate(mark);
    }
    walk(root, &mut Vec::new());
}

fn collect_text(e: &Element, out: &mut String) {
    for c in &e.children {
        match c {
            Node::Text(t) => out.push_str(t),
            Node::Element(e) => collect_text(e, out),
        }
    }
}

pub fn escape_into(s: &str, attr: bool, out: &mut String) {
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attr => out.push_str("&quot;"),
            '\n' if attr => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' if attr => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
}

pub fn escape(s: &str) -> String {
    let mut out = String::new();
    escape_into(s, true, &mut out);
    out
}

fn syntax<E: std::fmt::Display>(e: E) -> XmlError {
    XmlError::Syntax(e.to_string())
}

fn resolved_ns(r: ResolveResult) -> Result<Option<String>, XmlError> {
    match r {
        ResolveResult::Bound(ns) => Ok(Some(String::from_utf8_lossy(ns.as_ref()).into_owned())),
        ResolveResult::Unbound => Ok(None),
        ResolveResult::Unknown(p) => Err(XmlError::Syntax(format!(
            "undeclared prefix {}",
            String::from_utf8_lossy(&p)
        ))),
    }
}

fn start_element(
    ns: ResolveResult,
    e: &quick_xml::events::BytesStart,
) -> Result<Element, XmlError> {
    let name = e.name();
    let local = String::from_utf8_lossy(name.local_name().as_ref()).into_owned();
    let prefix = name
        .prefix()
        .map(|p| String::from_utf8_lossy(p.as_ref()).into_owned());
    let mut el = Element {
        prefix,
        local,
        ns: resolved_ns(ns)?,
        attrs: Vec::new(),
        children: Vec::new(),
    };
    for a in e.attributes() {
        let a = a.map_err(syntax)?;
        let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
        let value = a.unescape_value().map_err(syntax)?.into_owned();
        el.attrs.push((key, value));
    }
    Ok(el)
}

/// Parse a document into its root element. Comments and processing instructions are dropped.
pub fn parse(input: &str) -> Result<Element, XmlError> {
    // A leading BOM is common in testkit files written on Windows.
    let input = input.strip_prefix('\u{feff}').unwrap_or(input);
    let mut reader = NsReader::from_str(input);
    reader.config_mut().trim_text(false);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let (ns, ev) = reader.read_resolved_event().map_err(syntax)?;
        match ev {
            Event::Start(e) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(XmlError::TooDeep);
                }
                stack.push(start_element(ns, &e)?);
            }
            Event::Empty(e) => {
                let el = start_element(ns, &e)?;
                attach(&mut stack, &mut root, el)?;
            }
            Event::End(_) => {
                let el = stack
                    .pop()
                    .ok_or_else(|| XmlError::Syntax("unbalanced end tag".into()))?;
                attach(&mut stack, &mut root, el)?;
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    let s = t.unescape().map_err(syntax)?;
                    top.children.push(Node::Text(s.into_owned()));
                }
            }
            Event::CData(c) => {
                if let Some(top) = stack.last_mut() {
                    let s = String::from_utf8_lossy(&c.into_inner()).into_owned();
                    top.children.push(Node::Text(s));
                }
            }
            Event::DocType(_) => return Err(XmlError::Doctype),
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(XmlError::Syntax("unexpected end of document".into()));
    }
    root.ok_or(XmlError::NoRoot)
}

fn attach(stack: &mut [Element], root: &mut Option<Element>, el: Element) -> Result<(), XmlError> {
    match stack.last_mut() {
        Some(parent) => {
            parent.children.push(Node::Element(el));
            Ok(())
        }
        None if root.is_none() => {
            *root = Some(el);
            Ok(())
        }
        None => Err(XmlError::Syntax("more than one root element".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_namespaces_and_escapes() {
        let src = r#"<a:x xmlns:a="urn:a" k="1 &amp; 2"><a:y>t &lt; u</a:y><z/></a:x>"#;
        let e = parse(src).unwrap();
        assert_eq!(e.ns.as_deref(), Some("urn:a"));
        assert_eq!(e.attr("k"), Some("1 & 2"));
        assert_eq!(e.child("y").unwrap().text(), "t < u");
        assert_eq!(e.child("z").unwrap().ns, None);
        assert_eq!(parse(&e.to_xml()).unwrap(), e);
    }

    #[test]
    fn fix_namespaces_declares_moved_prefixes() {
        let src = r#"<a:x xmlns:a="urn:a" xmlns:b="urn:b"><b:y/></a:x>"#;
        let mut y = parse(src).unwrap().child("y").unwrap().clone();
        fix_namespaces(&mut y);
        assert_eq!(parse(&y.to_xml()).unwrap().ns.as_deref(), Some("urn:b"));
    }

    #[test]
    fn refuses_doctype() {
        let src = r#"<!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>"#;
        assert!(matches!(parse(src), Err(XmlError::Doctype)));
    }
}

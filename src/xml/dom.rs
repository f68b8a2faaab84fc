//! The element tree every XML reader in the node shares: namespace-resolved names, attributes and
//! children. `prefix` fields are only filled when a document is parsed as written (see
//! [`super::Options::keep_layout`]) or built that way; namespace-aware code never looks at them.

use std::borrow::Cow;

/// The namespace of `xmlns` / `xmlns:p` declarations when they are kept as attributes.
pub const XMLNS: &str = "http://www.w3.org/2000/xmlns/";
/// The namespace bound to the `xml:` prefix.
pub const XML: &str = "http://www.w3.org/XML/1998/namespace";

#[derive(Debug, Clone, PartialEq)]
pub struct Attr {
    pub ns: Option<String>,
    pub name: String,
    pub value: String,
    /// The prefix as written (layout-keeping parses and builders only).
    pub prefix: Option<String>,
}

impl Attr {
    pub fn plain(name: &str, value: &str) -> Attr {
        Attr {
            ns: None,
            name: name.to_string(),
            value: value.to_string(),
            prefix: None,
        }
    }

    /// `xmlns:prefix="uri"` (or `xmlns="uri"` for an empty prefix).
    pub fn is_ns_decl(&self) -> bool {
        self.ns.as_deref() == Some(XMLNS)
    }

    /// The qualified name as written: `prefix:name`, `xmlns:p`, or `name`.
    pub fn qname(&self) -> Cow<'_, str> {
        match (&self.prefix, self.is_ns_decl()) {
            (_, true) if self.name == "xmlns" => Cow::Borrowed("xmlns"),
            (_, true) => Cow::Owned(format!("xmlns:{}", self.name)),
            (Some(p), false) if !p.is_empty() => Cow::Owned(format!("{p}:{}", self.name)),
            _ => Cow::Borrowed(&self.name),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Element(Element),
    Text(String),
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Element {
    pub ns: Option<String>,
    /// The local name.
    pub name: String,
    /// The prefix as written (layout-keeping parses and builders only).
    pub prefix: Option<String>,
    pub attrs: Vec<Attr>,
    pub children: Vec<Node>,
}

impl Element {
    /// An element to be written with `prefix` (for layout-keeping output).
    pub fn new(prefix: Option<&str>, name: &str, ns: Option<&str>) -> Element {
        Element {
            ns: ns.map(str::to_string),
            name: name.to_string(),
            prefix: prefix.map(str::to_string),
            attrs: Vec::new(),
            children: Vec::new(),
        }
    }

    pub fn is(&self, ns: &str, name: &str) -> bool {
        self.name == name && self.ns.as_deref() == Some(ns)
    }

    /// Attribute without a namespace (the usual case for ebRIM, SOAP and CDA attributes).
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

    /// Sets (or adds) an attribute without a namespace.
    pub fn set_attr(&mut self, name: &str, value: &str) {
        match self
            .attrs
            .iter_mut()
            .find(|a| a.ns.is_none() && a.name == name)
        {
            Some(a) => a.value = value.to_string(),
            None => self.attrs.push(Attr::plain(name, value)),
        }
    }

    pub fn with_attr(mut self, name: &str, value: &str) -> Element {
        self.set_attr(name, value);
        self
    }

    pub fn remove_attr(&mut self, name: &str) {
        self.attrs.retain(|a| !(a.ns.is_none() && a.name == name));
    }

    /// The URI this element declares for `prefix` ("" for the default namespace), if any.
    pub fn ns_decl(&self, prefix: &str) -> Option<&str> {
        let key = if prefix.is_empty() { "xmlns" } else { prefix };
        self.attr_ns(XMLNS, key)
    }

    /// Declares `prefix` ("" for the default namespace) on this element.
    pub fn declare_ns(&mut self, prefix: &str, uri: &str) {
        let key = if prefix.is_empty() { "xmlns" } else { prefix };
        match self
            .attrs
            .iter_mut()
            .find(|a| a.is_ns_decl() && a.name == key)
        {
            Some(a) => a.value = uri.to_string(),
            None => self.attrs.push(Attr {
                ns: Some(XMLNS.into()),
                name: key.to_string(),
                value: uri.to_string(),
                prefix: Some("xmlns".into()),
            }),
        }
    }

    pub fn with_ns_decl(mut self, prefix: &str, uri: &str) -> Element {
        self.declare_ns(prefix, uri);
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

    /// Child elements with this local name, in any namespace.
    pub fn children_local<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.elements().filter(move |e| e.name == name)
    }

    /// Follows a path of local names within one namespace.
    pub fn path(&self, ns: &str, names: &[&str]) -> Option<&Element> {
        names.iter().try_fold(self, |cur, n| cur.child(ns, n))
    }

    /// The element's own text: its direct text children, joined (not its descendants' text).
    pub fn text(&self) -> Cow<'_, str> {
        let mut texts = self.children.iter().filter_map(|n| match n {
            Node::Text(t) => Some(t.as_str()),
            Node::Element(_) => None,
        });
        let Some(first) = texts.next() else {
            return Cow::Borrowed("");
        };
        match texts.next() {
            None => Cow::Borrowed(first),
            Some(second) => {
                let mut out = format!("{first}{second}");
                texts.for_each(|t| out.push_str(t));
                Cow::Owned(out)
            }
        }
    }

    /// The text of a value element (one holding only text, as most data elements do), without
    /// copying; `None` when it has child elements.
    pub fn value_text(&self) -> Option<&str> {
        match self.children.as_slice() {
            [] => Some(""),
            [Node::Text(t)] => Some(t),
            _ => None,
        }
    }

    /// All text of the element and its descendants, in document order (DOM `textContent`).
    pub fn deep_text(&self) -> String {
        fn collect(e: &Element, out: &mut String) {
            for c in &e.children {
                match c {
                    Node::Text(t) => out.push_str(t),
                    Node::Element(e) => collect(e, out),
                }
            }
        }
        let mut out = String::new();
        collect(self, &mut out);
        out
    }

    /// Depth-first search for the first descendant (or self) with this name.
    pub fn find(&self, ns: &str, name: &str) -> Option<&Element> {
        if self.is(ns, name) {
            return Some(self);
        }
        self.elements().find_map(|c| c.find(ns, name))
    }

    /// Every descendant element (not self), in document order.
    pub fn descendants(&self) -> Vec<&Element> {
        fn walk<'a>(e: &'a Element, out: &mut Vec<&'a Element>) {
            for c in e.elements() {
                out.push(c);
                walk(c, out);
            }
        }
        let mut out = Vec::new();
        walk(self, &mut out);
        out
    }

    /// Every descendant element (not self) with this name, in document order.
    pub fn descendants_named(&self, ns: &str, name: &str) -> Vec<&Element> {
        let mut all = self.descendants();
        all.retain(|e| e.is(ns, name));
        all
    }

    /// Visits self and every descendant element mutably.
    pub fn walk_mut(&mut self, f: &mut dyn FnMut(&mut Element)) {
        f(self);
        for c in self.elements_mut() {
            c.walk_mut(f);
        }
    }

    /// Maps every attribute value (namespace declarations aside) and text node through `f`.
    pub fn map_strings(&mut self, f: &dyn Fn(&str) -> String) {
        for a in self.attrs.iter_mut().filter(|a| !a.is_ns_decl()) {
            a.value = f(&a.value);
        }
        for c in self.children.iter_mut() {
            match c {
                Node::Element(e) => e.map_strings(f),
                Node::Text(t) => *t = f(t),
            }
        }
    }

    /// The qualified name as written (`prefix:name`, or `name`).
    pub fn qname(&self) -> Cow<'_, str> {
        match &self.prefix {
            Some(p) if !p.is_empty() => Cow::Owned(format!("{p}:{}", self.name)),
            _ => Cow::Borrowed(&self.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_text_and_deep_text_differ() {
        let mut e = Element::new(None, "a", None);
        e.push_text("x");
        let mut b = Element::new(None, "b", None);
        b.push_text("y");
        e.push(b);
        e.push_text("z");
        assert_eq!(e.text(), "xz");
        assert_eq!(e.deep_text(), "xyz");
        assert!(matches!(Element::default().text(), Cow::Borrowed("")));
        assert_eq!(e.value_text(), None);
        assert_eq!(e.elements().next().and_then(Element::value_text), Some("y"));
    }

    #[test]
    fn namespace_declarations_are_attributes_in_the_xmlns_namespace() {
        let e = Element::new(Some("r"), "x", Some("urn:r"))
            .with_ns_decl("r", "urn:r")
            .with_attr("id", "1");
        assert_eq!(e.ns_decl("r"), Some("urn:r"));
        assert_eq!(e.attr("r"), None);
        assert_eq!(e.attrs[0].qname(), "xmlns:r");
        assert_eq!(e.qname(), "r:x");
    }
}

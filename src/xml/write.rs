//! The one XML writer: escaping for text and attribute values, and serialising element trees.
//! Every character XML 1.0 cannot carry (control characters other than tab, CR and LF, and
//! U+FFFE/U+FFFF) is dropped here, so no output of the node can be ill-formed because of its data.

use super::dom::{Element, Node, XML};
use std::borrow::Cow;
use std::fmt::Write;

/// Escapes element content.
pub fn esc_text(s: &str) -> Cow<'_, str> {
    escape(s, false)
}

/// Escapes an attribute value (for double quotes).
pub fn esc_attr(s: &str) -> Cow<'_, str> {
    escape(s, true)
}

/// Characters XML 1.0 cannot carry at all, not even as character references.
pub fn forbidden(c: char) -> bool {
    (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{FFFE}' || c == '\u{FFFF}'
}

fn escape(s: &str, attr: bool) -> Cow<'_, str> {
    let needs = |c: char| {
        matches!(c, '<' | '>' | '&' | '\r')
            || forbidden(c)
            || (attr && matches!(c, '"' | '\n' | '\t'))
    };
    if !s.chars().any(needs) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            // Escaped so that a parser's line-end normalisation keeps it.
            '\r' => out.push_str("&#13;"),
            '"' if attr => out.push_str("&quot;"),
            '\n' if attr => out.push_str("&#10;"),
            '\t' if attr => out.push_str("&#9;"),
            c if forbidden(c) => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Serialises an element tree by namespace, ignoring prefixes: every element carries a
/// default-namespace declaration when its namespace differs from its parent's, and namespaced
/// attributes get a local prefix. `replace` may substitute an element by text (used to inline
/// MTOM parts).
pub fn serialize(e: &Element, replace: &dyn Fn(&Element) -> Option<String>) -> String {
    let mut out = String::new();
    write_element(e, None, replace, &mut out);
    out
}

fn write_element(
    e: &Element,
    parent_ns: Option<&str>,
    replace: &dyn Fn(&Element) -> Option<String>,
    out: &mut String,
) {
    let _ = write!(out, "<{}", e.name);
    if e.ns.as_deref() != parent_ns {
        let _ = write!(
            out,
            " xmlns=\"{}\"",
            esc_attr(e.ns.as_deref().unwrap_or(""))
        );
    }
    let mut n = 0;
    for a in e.attrs.iter().filter(|a| !a.is_ns_decl()) {
        match a.ns.as_deref() {
            None => {
                let _ = write!(out, " {}=\"{}\"", a.name, esc_attr(&a.value));
            }
            Some(XML) => {
                let _ = write!(out, " xml:{}=\"{}\"", a.name, esc_attr(&a.value));
            }
            Some(ns) => {
                n += 1;
                let _ = write!(
                    out,
                    " xmlns:a{n}=\"{}\" a{n}:{}=\"{}\"",
                    esc_attr(ns),
                    a.name,
                    esc_attr(&a.value)
                );
            }
        }
    }
    out.push('>');
    for c in &e.children {
        match c {
            Node::Element(child) => match replace(child) {
                Some(text) => out.push_str(&esc_text(&text)),
                None => write_element(child, e.ns.as_deref(), replace, out),
            },
            Node::Text(t) => out.push_str(&esc_text(t)),
        }
    }
    let _ = write!(out, "</{}>", e.name);
}

impl Element {
    /// Serialises the tree as written: prefixes and namespace declarations as they stand (see
    /// [`fix_namespaces`] after moving subtrees around).
    pub fn to_xml(&self) -> String {
        let mut s = String::new();
        self.write_as_written(&mut s);
        s
    }

    fn write_as_written(&self, out: &mut String) {
        let q = self.qname();
        out.push('<');
        out.push_str(&q);
        for a in &self.attrs {
            let _ = write!(out, " {}=\"{}\"", a.qname(), esc_attr(&a.value));
        }
        if self.children.is_empty() {
            out.push_str("/>");
            return;
        }
        out.push('>');
        for c in &self.children {
            match c {
                Node::Element(e) => e.write_as_written(out),
                Node::Text(t) => out.push_str(&esc_text(t)),
            }
        }
        let _ = write!(out, "</{q}>");
    }
}

/// Declares every element prefix where it is not in scope, so that a subtree moved under a new
/// parent (or out of one) serialises as well-formed namespaced XML with [`Element::to_xml`].
pub fn fix_namespaces(root: &mut Element) {
    fn walk(e: &mut Element, scope: &mut Vec<(String, String)>) {
        let mark = scope.len();
        for a in e.attrs.iter().filter(|a| a.is_ns_decl()) {
            let p = if a.name == "xmlns" { "" } else { &a.name };
            scope.push((p.to_string(), a.value.clone()));
        }
        if let Some(ns) = e.ns.clone() {
            let prefix = e.prefix.clone().unwrap_or_default();
            let bound = scope.iter().rev().find(|(p, _)| *p == prefix);
            if bound.map(|(_, v)| v.as_str()) != Some(ns.as_str()) {
                e.declare_ns(&prefix, &ns);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::{parse, parse_with, Limits, Options};

    #[test]
    fn escapes_and_drops_what_xml_cannot_carry() {
        assert_eq!(esc_attr("a\"<&"), "a&quot;&lt;&amp;");
        assert!(matches!(esc_text("plain"), Cow::Borrowed(_)));
        assert_eq!(
            esc_text("Kari\u{b} \"N\"\u{0}\u{FFFF}\r"),
            "Kari \"N\"&#13;"
        );
        let e = parse(
            format!(
                "<a k=\"{}\">{}</a>",
                esc_attr("x\u{1}\ty"),
                esc_text("\u{1f}z")
            )
            .as_bytes(),
            Limits::default(),
        )
        .unwrap();
        assert_eq!(e.attr("k"), Some("x\ty"));
        assert_eq!(e.text(), "z");
    }

    #[test]
    fn round_trips_namespaces() {
        let src = r#"<a:r xmlns:a="urn:a" xmlns:b="urn:b" xmlns:c="urn:c" c:x="1" b:y="2"><b:k xml:lang="no">t&amp;</b:k><plain/></a:r>"#;
        let e = parse(src.as_bytes(), Limits::default()).unwrap();
        let again = serialize(&e, &|_| None);
        let e2 = parse(again.as_bytes(), Limits::default()).unwrap();
        assert_eq!(e, e2);
    }

    fn as_written(s: &str) -> Element {
        let opts = Options {
            keep_layout: true,
            ..Default::default()
        };
        parse_with(s.as_bytes(), opts).unwrap()
    }

    #[test]
    fn as_written_round_trip_keeps_prefixes() {
        let src = r#"<a:x xmlns:a="urn:a" k="1 &amp; 2"><a:y>t &lt; u</a:y><z/></a:x>"#;
        let e = as_written(src);
        assert_eq!(e.to_xml(), src);
        assert_eq!(as_written(&e.to_xml()), e);
    }

    #[test]
    fn fix_namespaces_declares_moved_prefixes() {
        let src = r#"<a:x xmlns:a="urn:a" xmlns:b="urn:b"><b:y/></a:x>"#;
        let mut y = as_written(src).child("urn:b", "y").unwrap().clone();
        fix_namespaces(&mut y);
        assert_eq!(as_written(&y.to_xml()).ns.as_deref(), Some("urn:b"));
    }
}

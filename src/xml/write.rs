//! Escaping for XML written with format strings.

use std::borrow::Cow;

pub fn esc_text(s: &str) -> Cow<'_, str> {
    escape(s, false)
}

pub fn esc_attr(s: &str) -> Cow<'_, str> {
    escape(s, true)
}

fn escape(s: &str, attr: bool) -> Cow<'_, str> {
    let needs =
        |c: char| matches!(c, '<' | '>' | '&') || (attr && matches!(c, '"' | '\n' | '\r' | '\t'));
    if !s.chars().any(needs) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' if attr => out.push_str("&quot;"),
            '\n' if attr => out.push_str("&#10;"),
            '\r' if attr => out.push_str("&#13;"),
            '\t' if attr => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes() {
        assert_eq!(super::esc_attr("a\"<&"), "a&quot;&lt;&amp;");
        assert_eq!(super::esc_text("plain"), "plain");
    }
}

/// Serialises an element tree; every element carries a default-namespace declaration when its
/// namespace differs from its parent's, and namespaced attributes get a local prefix.
/// `replace` may substitute an element by text (used to inline MTOM parts).
pub fn serialize(
    e: &super::Element,
    replace: &dyn Fn(&super::Element) -> Option<String>,
) -> String {
    let mut out = String::new();
    write_element(e, None, replace, &mut out);
    out
}

fn write_element(
    e: &super::Element,
    parent_ns: Option<&str>,
    replace: &dyn Fn(&super::Element) -> Option<String>,
    out: &mut String,
) {
    use std::fmt::Write;
    let _ = write!(out, "<{}", e.name);
    if e.ns.as_deref() != parent_ns {
        let _ = write!(
            out,
            " xmlns=\"{}\"",
            esc_attr(e.ns.as_deref().unwrap_or(""))
        );
    }
    let mut n = 0;
    for a in &e.attrs {
        match a.ns.as_deref() {
            None => {
                let _ = write!(out, " {}=\"{}\"", a.name, esc_attr(&a.value));
            }
            Some("http://www.w3.org/XML/1998/namespace") => {
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
            super::Node::Element(child) => match replace(child) {
                Some(text) => out.push_str(&esc_text(&text)),
                None => write_element(child, e.ns.as_deref(), replace, out),
            },
            super::Node::Text(t) => out.push_str(&esc_text(t)),
        }
    }
    let _ = write!(out, "</{}>", e.name);
}

#[cfg(test)]
mod serialize_tests {
    #[test]
    fn round_trips_namespaces() {
        let src = r#"<a:r xmlns:a="urn:a" xmlns:b="urn:b" xmlns:c="urn:c" c:x="1" b:y="2"><b:k xml:lang="no">t&amp;</b:k><plain/></a:r>"#;
        let e = crate::xml::parse(src.as_bytes(), Default::default()).unwrap();
        let again = super::serialize(&e, &|_| None);
        let e2 = crate::xml::parse(again.as_bytes(), Default::default()).unwrap();
        assert_eq!(e, e2);
    }
}

//! The one XML reader: quick-xml's NsReader into a [`super::Element`] tree.
//! DOCTYPE (and so every entity declaration) is refused outright; depth, element count and size
//! are capped; an undeclared prefix is an error, never "no namespace".

use super::dom::{Attr, Element, Node, XMLNS};
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;
use std::borrow::Cow;

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_depth: usize,
    pub max_elements: usize,
    pub max_bytes: usize,
}

impl Default for Limits {
    /// Wire limits: a SOAP body of up to 256 MiB.
    fn default() -> Self {
        Limits {
            max_depth: 128,
            max_elements: 2_000_000,
            max_bytes: 256 * 1024 * 1024,
        }
    }
}

/// How to read a document.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub limits: Limits,
    /// Keep the document as written: prefixes, namespace declarations (as attributes in the
    /// `xmlns` namespace) and whitespace-only text. For tools that rewrite and re-send files;
    /// the wire does not need it.
    pub keep_layout: bool,
}

/// Parses a whole document with the given limits. Whitespace-only text between elements is
/// dropped.
pub fn parse(bytes: &[u8], limits: Limits) -> Result<Element, XmlError> {
    parse_with(
        bytes,
        Options {
            limits,
            keep_layout: false,
        },
    )
}

pub fn parse_with(bytes: &[u8], opts: Options) -> Result<Element, XmlError> {
    let limits = opts.limits;
    if bytes.len() > limits.max_bytes {
        return Err(XmlError::TooLarge(limits.max_bytes));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| XmlError::NotUtf8)?;
    check_raw_chars(text.as_bytes())?;
    // A leading byte-order mark is common in files written on Windows.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = NsReader::from_str(text);
    reader.config_mut().expand_empty_elements = true;
    reader.config_mut().check_end_names = true;

    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;
    loop {
        let (resolved, event) = reader.read_resolved_event().map_err(malformed)?;
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
                let el = start_element(&reader, ns, &start, opts.keep_layout)?;
                stack.push(el);
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
                let s = referenced_chars_checked(t.unescape().map_err(malformed)?)?;
                push_text(&mut stack, &s, opts.keep_layout)?;
            }
            Event::CData(c) => {
                let s = utf8(&c.into_inner())?;
                push_text(&mut stack, &s, opts.keep_layout)?;
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

fn start_element(
    reader: &NsReader<&[u8]>,
    ns: Option<String>,
    start: &BytesStart,
    keep_layout: bool,
) -> Result<Element, XmlError> {
    let qname = start.name();
    check_name(qname.as_ref())?;
    let mut el = Element {
        ns,
        name: utf8(qname.local_name().as_ref())?,
        prefix: match qname.prefix() {
            Some(p) if keep_layout => Some(utf8(p.as_ref())?),
            _ => None,
        },
        attrs: Vec::new(),
        children: Vec::new(),
    };
    for attr in start.attributes() {
        let attr = attr.map_err(malformed)?;
        let key = attr.key;
        check_name(key.as_ref())?;
        let value =
            referenced_chars_checked(attr.unescape_value().map_err(malformed)?)?.into_owned();
        if let Some(decl) = ns_declaration(key.as_ref()) {
            if keep_layout {
                el.attrs.push(Attr {
                    ns: Some(XMLNS.into()),
                    name: utf8(decl)?,
                    value,
                    prefix: Some("xmlns".into()),
                });
            }
            continue;
        }
        let (ans, local) = reader.resolve_attribute(key);
        el.attrs.push(Attr {
            ns: ns_of(&ans)?,
            name: utf8(local.as_ref())?,
            value,
            prefix: match key.prefix() {
                Some(p) if keep_layout => Some(utf8(p.as_ref())?),
                _ => None,
            },
        });
    }
    Ok(el)
}

/// A qualified name is `local` or `prefix:local`, each part an XML NCName. quick-xml takes
/// anything up to a space as the name, and what the writer cannot write back must not be read.
/// Non-ASCII characters are let through: the writer copies them and they never end a name.
fn check_name(qname: &[u8]) -> Result<(), XmlError> {
    fn ncname(part: &[u8]) -> bool {
        let start = |b: u8| b.is_ascii_alphabetic() || b == b'_' || !b.is_ascii();
        let rest = |b: u8| start(b) || b.is_ascii_digit() || b == b'-' || b == b'.';
        matches!(part.split_first(), Some((&first, tail)) if start(first) && tail.iter().all(|&b| rest(b)))
    }
    let ok = match qname.iter().position(|&b| b == b':') {
        Some(i) => ncname(&qname[..i]) && ncname(&qname[i + 1..]),
        None => ncname(qname),
    };
    if ok {
        Ok(())
    } else {
        Err(XmlError::Malformed(format!(
            "'{}' is not an XML name",
            String::from_utf8_lossy(qname)
        )))
    }
}

/// `xmlns` gives `xmlns`, `xmlns:p` gives `p`; other names are not declarations.
fn ns_declaration(key: &[u8]) -> Option<&[u8]> {
    if key == b"xmlns" {
        return Some(key);
    }
    key.strip_prefix(b"xmlns:")
}

fn push_text(stack: &mut [Element], s: &str, keep_layout: bool) -> Result<(), XmlError> {
    let Some(parent) = stack.last_mut() else {
        return if s.trim().is_empty() {
            Ok(())
        } else {
            Err(XmlError::Malformed("text outside the root element".into()))
        };
    };
    let follows_text = matches!(parent.children.last(), Some(Node::Text(_)));
    if s.trim().is_empty() && !follows_text && !keep_layout {
        return Ok(());
    }
    match parent.children.last_mut() {
        Some(Node::Text(prev)) => prev.push_str(s),
        _ => parent.children.push(Node::Text(s.to_string())),
    }
    Ok(())
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

/// XML 1.0 has no control characters but tab, LF and CR, and no U+FFFE or U+FFFF; quick-xml
/// lets them through. In UTF-8 the controls are single bytes below 0x20 and the two others
/// EF BF BE/BF, so a byte scan finds them.
fn check_raw_chars(b: &[u8]) -> Result<(), XmlError> {
    let control = b
        .iter()
        .position(|&c| c < 0x20 && !matches!(c, b'\t' | b'\n' | b'\r'));
    let nonchar = || {
        memchr::memmem::find_iter(b, b"\xEF\xBF")
            .find(|&i| matches!(b.get(i + 2), Some(0xBE | 0xBF)))
    };
    match control.or_else(nonchar) {
        None => Ok(()),
        Some(at) => Err(XmlError::Malformed(format!(
            "a character XML does not allow, at byte {at}"
        ))),
    }
}

/// The same characters written as references (`&#1;`), which XML does not allow either; only
/// an unescaped (owned) value can hold one that the raw scan did not see.
fn referenced_chars_checked(s: Cow<'_, str>) -> Result<Cow<'_, str>, XmlError> {
    match &s {
        Cow::Owned(o) if o.contains(super::write::forbidden) => Err(XmlError::Malformed(
            "a character reference to a character XML does not allow".into(),
        )),
        _ => Ok(s),
    }
}

fn malformed(e: impl std::fmt::Display) -> XmlError {
    XmlError::Malformed(e.to_string())
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
        assert_eq!(e.prefix, None);
        assert!(e.attrs.is_empty());
        let c = e.child("urn:y", "c").unwrap();
        assert_eq!(c.attr("k"), Some("&2"));
        assert_eq!(c.attr_ns("urn:y", "k"), Some("1"));
        assert_eq!(c.text(), "t<");
    }

    #[test]
    fn refuses_characters_xml_does_not_allow() {
        for bad in [
            &b"<a>x\x01y</a>"[..],
            b"<a b=\"\x0b\"/>",
            b"<a><![CDATA[\x1f]]></a>",
            b"<a>\xEF\xBF\xBF</a>",
            b"<a>&#1;</a>",
            b"<a b=\"&#xB;\"/>",
            b"<a>&#xFFFE;</a>",
        ] {
            let e = parse(bad, Limits::default());
            assert!(
                matches!(e, Err(XmlError::Malformed(_))),
                "{:?}: {e:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let ok = parse(
            "<a b=\"&#9;&#xA;\">\t\r\n&#13;\u{FFFD}\u{EFFF}</a>".as_bytes(),
            Limits::default(),
        );
        assert!(ok.is_ok(), "{ok:?}");
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
        assert!(parse(b"<a/><b/>", Limits::default()).is_err());
        assert!(parse(br#"<r:x="a:b" xmlns:r="urn:r"/>"#, Limits::default()).is_err());
        assert!(parse(br#"<r xmlns:p="urn:p" p:a:b="1"/>"#, Limits::default()).is_err());
        assert!(parse("<é-1.x _a=\"1\"/>".as_bytes(), Limits::default()).is_ok());
    }

    #[test]
    fn keeps_layout_when_asked() {
        let x = "\u{feff}<a:x xmlns:a=\"urn:a\" xmlns=\"urn:d\" a:k=\"1\">\n  <y> </y>\n</a:x>";
        let opts = Options {
            keep_layout: true,
            ..Default::default()
        };
        let e = parse_with(x.as_bytes(), opts).unwrap();
        assert_eq!(e.prefix.as_deref(), Some("a"));
        assert_eq!(e.ns_decl("a"), Some("urn:a"));
        assert_eq!(e.ns_decl(""), Some("urn:d"));
        assert_eq!(e.attrs[2].qname(), "a:k");
        assert_eq!(e.children.len(), 3);
        let y = e.child("urn:d", "y").unwrap();
        assert_eq!(y.text(), " ");
        let plain = parse(x.as_bytes(), Limits::default()).unwrap();
        assert_eq!(plain.children.len(), 1);
        assert!(plain.child("urn:d", "y").unwrap().children.is_empty());
    }
}

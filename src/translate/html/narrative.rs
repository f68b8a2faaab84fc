//! A section's narrative block (`<text>`) as HTML. Only a whitelist of CDA narrative elements
//! becomes markup (paragraph, content, br, list/item, table and its parts, caption, sub, sup);
//! any other element is shown as its text, and no attribute is carried over except a
//! numeric colspan/rowspan. Links and multimedia references are dropped: the page loads nothing.

use std::collections::HashMap;

use crate::xml::{Element, Node};

use super::out::{squash, Html};
use super::values::HL7;

pub fn render(h: &mut Html, text: &Element) {
    h.open("div", &[("class", "narrative")]);
    children(h, text);
    h.close("div");
}

fn children(h: &mut Html, e: &Element) {
    for c in &e.children {
        match c {
            Node::Text(t) => h.text(t),
            Node::Element(el) => element(h, el),
        }
    }
}

/// `colspan`/`rowspan` when they are small numbers.
fn spans(e: &Element) -> Vec<(&'static str, &str)> {
    ["colspan", "rowspan"]
        .into_iter()
        .filter_map(|n| {
            let v = e.attr(n)?.trim();
            let ok = !v.is_empty() && v.len() <= 3 && v.bytes().all(|b| b.is_ascii_digit());
            ok.then_some((n, v))
        })
        .collect()
}

fn wrap(h: &mut Html, tag: &'static str, attrs: &[(&'static str, &str)], e: &Element) {
    h.open(tag, attrs);
    children(h, e);
    h.close(tag);
}

fn element(h: &mut Html, e: &Element) {
    if e.ns.as_deref() != Some(HL7) {
        return children(h, e);
    }
    match e.name.as_str() {
        "paragraph" => wrap(h, "p", &[], e),
        "content" => {
            let style = e.attr("styleCode").unwrap_or("");
            let tag = if style.contains("Bold") {
                "strong"
            } else if style.contains("Italics") {
                "em"
            } else if style.contains("Underline") {
                "u"
            } else {
                "span"
            };
            wrap(h, tag, &[], e)
        }
        "br" => h.fixed("<br>"),
        "list" => list(h, e),
        "item" => wrap(h, "li", &[], e),
        "table" => wrap(h, "table", &[], e),
        "caption" => wrap(h, "caption", &[], e),
        "thead" => wrap(h, "thead", &[], e),
        "tbody" => wrap(h, "tbody", &[], e),
        "tfoot" => wrap(h, "tfoot", &[], e),
        "tr" => wrap(h, "tr", &[], e),
        "th" => wrap(h, "th", &spans(e), e),
        "td" => wrap(h, "td", &spans(e), e),
        "sub" => wrap(h, "sub", &[], e),
        "sup" => wrap(h, "sup", &[], e),
        // Column layout says nothing a reader needs; multimedia would point outside the page.
        "col" | "colgroup" | "renderMultiMedia" | "footnoteRef" => {}
        _ => children(h, e),
    }
}

/// A list: its caption as a paragraph before it (HTML lists take no caption), then the items.
fn list(h: &mut Html, e: &Element) {
    for c in e.children_named(HL7, "caption") {
        wrap(h, "p", &[("class", "caption")], c);
    }
    let tag = if e.attr("listType") == Some("ordered") {
        "ol"
    } else {
        "ul"
    };
    h.open(tag, &[]);
    for c in e.elements().filter(|c| !c.is(HL7, "caption")) {
        if c.is(HL7, "item") {
            element(h, c);
        } else {
            wrap(h, "li", &[], c);
        }
    }
    h.close(tag);
}

/// The text of every narrative element with an `ID`, for `<originalText><reference value="#id">`.
pub fn referenced_texts(root: &Element) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for e in root.descendants_named(HL7, "text") {
        for d in e.descendants() {
            if let Some(id) = d.attr("ID") {
                let t = squash(&d.deep_text());
                if !t.is_empty() {
                    out.entry(id.to_string()).or_insert(t);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn html_of(xml: &str) -> String {
        let e = crate::xml::parse(xml.as_bytes(), Default::default()).expect("xml");
        let mut h = Html::new();
        render(&mut h, &e);
        h.into_string()
    }

    #[test]
    fn whitelisted_elements_become_markup_and_others_their_text() {
        let got = html_of(concat!(
            r#"<text xmlns="urn:hl7-org:v3"><table border="1" onclick="x()"><thead><tr><th colspan="2">A</th></tr></thead>"#,
            r#"<tbody><tr><td rowspan="x">b<br/>c</td></tr></tbody></table>"#,
            r#"<list listType="ordered"><caption>L</caption><item><content styleCode="Bold">i</content></item></list>"#,
            r#"<script>alert(1)</script><linkHtml href="javascript:x()">l</linkHtml><x:img xmlns:x="http://www.w3.org/1999/xhtml" src="y">z</x:img></text>"#
        ));
        assert_eq!(
            got,
            concat!(
                r#"<div class="narrative"><table><thead><tr><th colspan="2">A</th></tr></thead>"#,
                r#"<tbody><tr><td>b<br>c</td></tr></tbody></table>"#,
                r#"<p class="caption">L</p><ol><li><strong>i</strong></li></ol>"#,
                r#"alert(1)lz</div>"#
            )
        );
    }
}

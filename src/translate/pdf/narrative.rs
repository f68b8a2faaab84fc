//! A CDA's human-readable part as blocks: the header's title, language and author, and each
//! structuredBody section's title and narrative (`<paragraph>`, `<content>`, `<list>`,
//! `<table>`; nested sections under subheadings).

use crate::xml::{Element, Node};

use super::{Block, PdfDoc};
use crate::translate::TranslateError;

const V3: &str = "urn:hl7-org:v3";

/// Reads an L3 document the node itself wrote. Its size follows from a checked input, so the
/// limits are wider than those for documents from outside.
pub fn parse(l3: &str) -> Result<Element, TranslateError> {
    let limits = crate::xml::Limits {
        max_depth: 256,
        max_elements: 4_000_000,
        max_bytes: 1 << 30,
    };
    Ok(crate::xml::parse(l3.as_bytes(), limits)?)
}

/// Title (the CDA `<title>`, else `default_title`), language and author of the document; no blocks.
pub fn header(root: &Element, default_title: &str) -> PdfDoc {
    let title = root
        .child(V3, "title")
        .map(inline)
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| default_title.to_string());
    let lang = root
        .child(V3, "languageCode")
        .and_then(|l| l.attr("code"))
        .unwrap_or("")
        .to_string();
    let author = root.children_named(V3, "author").find_map(|a| {
        let who = a.child(V3, "assignedAuthor")?;
        let name = who
            .path(V3, &["assignedPerson", "name"])
            .or_else(|| who.path(V3, &["representedOrganization", "name"]))?;
        // name parts (given, family, ...) are elements with no space between them
        let parts: Vec<String> = name
            .elements()
            .map(inline)
            .filter(|p| !p.is_empty())
            .collect();
        let text = if parts.is_empty() {
            inline(name)
        } else {
            parts.join(" ")
        };
        Some(text).filter(|n| !n.is_empty())
    });
    PdfDoc {
        created: None,
        title,
        lang,
        author,
        blocks: Vec::new(),
    }
}

/// The blocks of every section in the structured body, in document order.
pub fn blocks(root: &Element) -> Vec<Block> {
    let mut out = Vec::new();
    if let Some(body) = root.path(V3, &["component", "structuredBody"]) {
        for s in body.children_named(V3, "component") {
            if let Some(sec) = s.child(V3, "section") {
                section(sec, 0, &mut out);
            }
        }
    }
    out
}

fn section(sec: &Element, depth: usize, out: &mut Vec<Block>) {
    if let Some(t) = sec.child(V3, "title").map(inline).filter(|t| !t.is_empty()) {
        out.push(if depth == 0 {
            Block::Heading(t)
        } else {
            Block::Subheading(t)
        });
    }
    if let Some(text) = sec.child(V3, "text") {
        narrative(text, out);
    }
    for c in sec.children_named(V3, "component") {
        if let Some(sub) = c.child(V3, "section") {
            section(sub, depth + 1, out);
        }
    }
}

/// The block-level content of a `<text>`: `<paragraph>` and `<content>` become paragraphs, lists
/// and tables their own blocks; loose text and other inline elements between them run together.
fn narrative(text: &Element, out: &mut Vec<Block>) {
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut Vec<Block>| {
        let p = tidy(run);
        if !p.is_empty() {
            out.push(Block::Paragraph(p));
        }
        run.clear();
    };
    for n in &text.children {
        match n {
            Node::Text(t) => run.push_str(t),
            Node::Element(e) => match e.name.as_str() {
                // a <content> directly in <text> is a line of its own, as writers use it
                "paragraph" | "content" => {
                    flush(&mut run, out);
                    run.push_str(&inline(e));
                    flush(&mut run, out);
                }
                "list" => {
                    flush(&mut run, out);
                    list(e, out);
                }
                "table" => {
                    flush(&mut run, out);
                    table(e, out);
                }
                "renderMultiMedia" => {}
                "br" => run.push('\n'),
                _ => run.push_str(&inline(e)),
            },
        }
    }
    flush(&mut run, out);
}

fn list(l: &Element, out: &mut Vec<Block>) {
    if let Some(c) = l.child(V3, "caption").map(inline).filter(|c| !c.is_empty()) {
        out.push(Block::Subheading(c));
    }
    let ordered = l.attr("listType") == Some("ordered");
    let items: Vec<String> = l
        .children_named(V3, "item")
        .enumerate()
        .map(|(i, it)| {
            let mark = if ordered {
                format!("{}.", i + 1)
            } else {
                "•".to_string()
            };
            // an item's own lines stay apart from the next item's
            format!("{mark} {}", inline(it).replace('\n', " "))
        })
        .collect();
    if !items.is_empty() {
        out.push(Block::Paragraph(items.join("\n")));
    }
}

fn table(t: &Element, out: &mut Vec<Block>) {
    if let Some(c) = t.child(V3, "caption").map(inline).filter(|c| !c.is_empty()) {
        out.push(Block::Subheading(c));
    }
    let cells = |tr: &Element| -> Vec<String> {
        tr.elements()
            .filter(|c| c.name == "td" || c.name == "th")
            .map(inline)
            .collect()
    };
    fn rows_in<'a>(t: &'a Element, group: &'static str) -> Vec<&'a Element> {
        t.children_named(V3, group)
            .flat_map(|g| g.children_named(V3, "tr"))
            .collect()
    }
    let rows_of = |group| rows_in(t, group);
    let mut header: Vec<String> = rows_of("thead")
        .first()
        .map(|r| cells(r))
        .unwrap_or_default();
    let mut body: Vec<&Element> = rows_of("tbody");
    body.extend(t.children_named(V3, "tr"));
    body.extend(rows_of("tfoot"));
    // no thead: a first row of header cells only is the header
    if header.is_empty() {
        if let Some(first) = body.first() {
            let all_th = first.elements().all(|c| c.name == "th") && first.elements().count() > 0;
            if all_th {
                header = cells(first);
                body.remove(0);
            }
        }
    }
    let rows: Vec<Vec<String>> = body.into_iter().map(cells).collect();
    if !header.is_empty() || !rows.is_empty() {
        out.push(Block::Table { header, rows });
    }
}

/// The text of an inline element (or a cell) as it reads: `<br/>` as a line break, whitespace
/// collapsed within each line.
fn inline(e: &Element) -> String {
    fn walk(e: &Element, out: &mut String) {
        for n in &e.children {
            match n {
                Node::Text(t) => out.push_str(t),
                Node::Element(c) if c.name == "br" => out.push('\n'),
                Node::Element(c) if c.name == "renderMultiMedia" => {}
                // block content inside a cell or item reads as its own line
                Node::Element(c) if matches!(c.name.as_str(), "paragraph" | "item" | "tr") => {
                    out.push('\n');
                    walk(c, out);
                    out.push('\n');
                }
                Node::Element(c) => {
                    walk(c, out);
                    // the parser drops whitespace-only text between elements; keep words apart
                    if matches!(c.name.as_str(), "td" | "th" | "caption") {
                        out.push(' ');
                    }
                }
            }
        }
    }
    let mut s = String::new();
    walk(e, &mut s);
    tidy(&s)
}

/// Whitespace collapsed within lines, blank lines dropped.
fn tidy(s: &str) -> String {
    s.split('\n')
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

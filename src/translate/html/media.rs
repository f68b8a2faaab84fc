//! A nonXMLBody (OrCD, PS L1) shown inline: a PDF in an `<object>` with a download link, a PNG
//! or JPEG in an `<img>`, plain text as preformatted text. The base64 must decode and the bytes
//! must start as the declared media type does; otherwise the page says why it shows nothing.
//! The data URL is written from the decoded bytes, never from the document's text.

use base64::Engine;

use crate::xml::Element;

use super::out::Html;
use super::values::HL7;

/// The media types shown, with the magic number their bytes start with.
const KNOWN: [(&str, &[u8]); 3] = [
    ("application/pdf", b"%PDF-"),
    ("image/png", b"\x89PNG\r\n\x1a\n"),
    ("image/jpeg", b"\xff\xd8\xff"),
];

pub fn render(h: &mut Html, body: &Element) {
    h.open("section", &[("class", "body")]);
    h.leaf("h2", &[], "Dokumentets innhold");
    match body.child(HL7, "text") {
        Some(text) => content(h, text),
        None => notice(h, "Dokumentet har ikke noe innhold å vise."),
    }
    h.close("section");
}

fn notice(h: &mut Html, why: &str) {
    h.leaf("p", &[("class", "notice")], why);
}

fn content(h: &mut Html, text: &Element) {
    let media = text
        .attr("mediaType")
        .unwrap_or("text/plain")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if text.child(HL7, "reference").is_some() {
        return notice(
            h,
            "Innholdet ligger utenfor dokumentet (en referanse) og hentes ikke.",
        );
    }
    if text.attr("compression").is_some() {
        return notice(h, "Innholdet er komprimert og kan ikke vises her.");
    }
    let b64 = text.attr("representation") == Some("B64");
    if media == "text/plain" && !b64 {
        h.leaf("pre", &[], &text.text());
        return;
    }
    let Some((mime, magic)) = KNOWN.iter().find(|(m, _)| *m == media) else {
        return notice(
            h,
            &format!("Medietypen {media} kan ikke vises her (bare PDF, PNG og JPEG)."),
        );
    };
    if !b64 {
        return notice(h, "Innholdet er ikke base64-kodet og kan ikke vises.");
    }
    let packed: Vec<u8> = text
        .text()
        .bytes()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let bytes = match base64::engine::general_purpose::STANDARD.decode(&packed) {
        Ok(b) => b,
        Err(_) => return notice(h, "Innholdet er ikke gyldig base64 og vises ikke."),
    };
    if !bytes.starts_with(magic) {
        return notice(
            h,
            &format!("Innholdet er ikke {mime} slik dokumentet sier, og vises ikke."),
        );
    }
    let url = format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(&bytes)
    );
    if *mime == "application/pdf" {
        h.open(
            "object",
            &[
                ("data", &url),
                ("type", mime),
                ("class", "pdf"),
                ("aria-label", "Dokumentet (PDF)"),
            ],
        );
        notice(h, "Nettleseren viser ikke PDF her; bruk lenken under.");
        h.close("object");
        h.open("p", &[]);
        h.leaf(
            "a",
            &[("href", &url), ("download", "dokument.pdf")],
            "Last ned dokumentet (PDF)",
        );
        h.close("p");
    } else {
        h.open(
            "img",
            &[
                ("src", &url),
                ("alt", "Bilde fra dokumentet"),
                ("class", "image"),
            ],
        );
        let ext = if *mime == "image/png" { "png" } else { "jpg" };
        h.open("p", &[]);
        h.leaf(
            "a",
            &[("href", &url), ("download", &format!("bilde.{ext}"))],
            "Last ned bildet",
        );
        h.close("p");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(xml: &str) -> String {
        let e = crate::xml::parse(xml.as_bytes(), Default::default()).expect("xml");
        let mut h = Html::new();
        render(&mut h, &e);
        h.into_string()
    }

    #[test]
    fn a_png_is_embedded_and_a_lying_media_type_is_not() {
        let png = base64::engine::general_purpose::STANDARD.encode(b"\x89PNG\r\n\x1a\nrest");
        let ok = page(&format!(
            r#"<nonXMLBody xmlns="urn:hl7-org:v3"><text mediaType="image/png" representation="B64">{png}</text></nonXMLBody>"#
        ));
        assert!(
            ok.contains(&format!("<img src=\"data:image/png;base64,{png}\"")),
            "{ok}"
        );
        let lie = page(&format!(
            r#"<nonXMLBody xmlns="urn:hl7-org:v3"><text mediaType="application/pdf" representation="B64">{png}</text></nonXMLBody>"#
        ));
        assert!(!lie.contains("<object"), "{lie}");
        assert!(lie.contains("class=\"notice\""), "{lie}");
        let bad = page(
            r#"<nonXMLBody xmlns="urn:hl7-org:v3"><text mediaType="image/png" representation="B64">"&gt;&lt;script&gt;</text></nonXMLBody>"#,
        );
        assert!(!bad.contains("<img") && !bad.contains("<script"), "{bad}");
    }
}

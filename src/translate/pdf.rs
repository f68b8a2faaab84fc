//! The L1 variant: the narrative rendered as a plain PDF (one built-in font, text lines, A4 pages)
//! and embedded base64 in a CDA with a nonXMLBody. Written by hand to keep dependencies small.

use base64::Engine;

use super::TranslateError;

const LINES_PER_PAGE: usize = 60;
const MAX_CHARS: usize = 95;

/// Text lines of the narrative blocks (`<title>`, `<paragraph>`) of a CDA we wrote ourselves.
pub fn narrative_lines(xml: &str) -> Vec<String> {
    let mut out = Vec::new();
    // our own writer puts each title/paragraph on one element; scan them in document order
    let mut rest = xml;
    while let Some(i) = rest.find('<') {
        rest = &rest[i..];
        let tag_end = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..tag_end.min(rest.len())];
        let kind = if tag.starts_with("<title") {
            Some("</title>")
        } else if tag.starts_with("<paragraph") {
            Some("</paragraph>")
        } else {
            None
        };
        rest = &rest[(tag_end + 1).min(rest.len())..];
        if let Some(end) = kind {
            if let Some(j) = rest.find(end) {
                let text = unescape(&rest[..j]);
                if tag.starts_with("<title") {
                    out.push(String::new());
                }
                out.push(text);
                rest = &rest[j..];
            }
        }
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// PDF string literal in WinAnsi (Latin-1 subset); characters outside it become '?'.
fn pdf_string(s: &str) -> Vec<u8> {
    let mut out = vec![b'('];
    for c in s.chars() {
        match c {
            '(' | ')' | '\\' => {
                out.push(b'\\');
                out.push(c as u8);
            }
            c if (c as u32) >= 0x20 && (c as u32) < 0x7f => out.push(c as u8),
            c if (c as u32) >= 0xa0 && (c as u32) <= 0xff => out.push(c as u32 as u8),
            _ => out.push(b'?'),
        }
    }
    out.push(b')');
    out
}

fn wrap(lines: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for l in lines {
        let chars: Vec<char> = l.chars().collect();
        if chars.is_empty() {
            out.push(String::new());
        }
        for chunk in chars.chunks(MAX_CHARS) {
            out.push(chunk.iter().collect());
        }
    }
    out
}

/// A PDF document with the lines, with a correct cross-reference table.
pub fn render(lines: &[String]) -> Vec<u8> {
    let lines = wrap(lines);
    let pages: Vec<&[String]> = if lines.is_empty() {
        vec![&[]]
    } else {
        lines.chunks(LINES_PER_PAGE).collect()
    };
    let n = pages.len();
    // objects: 1 catalog, 2 pages, 3 font, then per page: page object + content stream
    let mut objs: Vec<Vec<u8>> = Vec::new();
    objs.push(b"<< /Type /Catalog /Pages 2 0 R >>".to_vec());
    let kids: Vec<String> = (0..n).map(|i| format!("{} 0 R", 4 + 2 * i)).collect();
    objs.push(format!("<< /Type /Pages /Kids [{}] /Count {n} >>", kids.join(" ")).into_bytes());
    objs.push(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_vec(),
    );
    for (i, page) in pages.iter().enumerate() {
        objs.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
                5 + 2 * i
            )
            .into_bytes(),
        );
        let mut content = b"BT /F1 10 Tf 12 TL 40 800 Td\n".to_vec();
        for l in page.iter() {
            content.extend(pdf_string(l));
            content.extend(b" Tj T*\n");
        }
        content.extend(b"ET");
        let mut o = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
        o.extend(content);
        o.extend(b"\nendstream");
        objs.push(o);
    }
    let mut pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objs.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend(format!("{} 0 obj\n", i + 1).into_bytes());
        pdf.extend(o);
        pdf.extend(b"\nendobj\n");
    }
    let xref = pdf.len();
    pdf.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objs.len() + 1).into_bytes());
    for off in offsets {
        pdf.extend(format!("{off:010} 00000 n \n").into_bytes());
    }
    pdf.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objs.len() + 1
        )
        .into_bytes(),
    );
    pdf
}

/// The L1 CDA: the L3 header (everything before the structured body) with the templateId swapped
/// and a nonXMLBody holding the PDF.
pub fn l1_document(
    l3: &str,
    lines: &[String],
    l1_template: &str,
) -> Result<String, TranslateError> {
    let body_at = l3.find("<component><structuredBody>").ok_or_else(|| {
        TranslateError::MissingElement("structuredBody in the L3 document".into())
    })?;
    let header = &l3[..body_at];
    let header = header.replacen(
        "<templateId root=\"1.3.6.1.4.1.12559.11.10.1.3.1.1.3\"/>",
        &format!("<templateId root=\"{l1_template}\"/>"),
        1,
    );
    let pdf = render(lines);
    let b64 = base64::engine::general_purpose::STANDARD.encode(pdf);
    Ok(format!(
        "{header}<component><nonXMLBody classCode=\"DOCBODY\" moodCode=\"EVN\"><text mediaType=\"application/pdf\" representation=\"B64\">{b64}</text></nonXMLBody></component></ClinicalDocument>"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn xref_offsets_point_at_objects() {
        let pdf = render(&["Hello (world)".to_string(), "Blåbær".to_string()]);
        let find = |needle: &[u8]| {
            pdf.windows(needle.len())
                .rposition(|w| w == needle)
                .unwrap()
        };
        let sx = find(b"startxref\n") + b"startxref\n".len();
        let end = pdf[sx..].iter().position(|b| *b == b'\n').unwrap();
        let start: usize = std::str::from_utf8(&pdf[sx..sx + end])
            .unwrap()
            .parse()
            .unwrap();
        assert!(pdf[start..].starts_with(b"xref"));
        // the entry for object 1 is the fourth line of the table
        let table = &pdf[start..];
        let line4 = table.split(|b| *b == b'\n').nth(3).unwrap();
        let off: usize = std::str::from_utf8(&line4[..10]).unwrap().parse().unwrap();
        assert!(pdf[off..].starts_with(b"1 0 obj"));
        // Latin-1 letters are kept in WinAnsi
        assert!(pdf.windows(6).any(|w| w == b"Bl\xe5b\xe6r"));
    }
}

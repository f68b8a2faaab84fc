//! The L1 renderer, read back with poppler: text with Norwegian letters and table cells comes
//! out of `pdftotext`, `pdffonts` says every font is embedded, the XMP metadata claims PDF/A-1b,
//! and the PS L1 of the Norwegian test bundle carries a PDF with the L3's section titles.

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;
use ncpeh::translate::pdf::{render_pdf, Block, PdfDoc};
use ncpeh::translate::{ips_to_ps, PsOptions, Terminology};

/// Runs a poppler tool on `pdf`; None (with the reason on stderr) when the tool is missing.
fn poppler(tool: &str, args: &[&str], pdf: &Path) -> Option<String> {
    let mut cmd = Command::new(tool);
    cmd.args(args).arg(pdf);
    if tool == "pdftotext" {
        cmd.arg("-");
    }
    match cmd.output() {
        Ok(o) if o.status.success() => Some(String::from_utf8_lossy(&o.stdout).into_owned()),
        Ok(o) => panic!(
            "{tool} failed on {}: {}",
            pdf.display(),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => {
            eprintln!("SKIP: {tool} not runnable ({e}); install poppler-utils");
            None
        }
    }
}

/// The `emb` column of every font `pdffonts` lists.
fn embedded_column(listing: &str) -> Vec<(String, String)> {
    let mut lines = listing.lines();
    let header = lines.next().unwrap_or("");
    let dashes = lines.next().unwrap_or("");
    // columns are as wide as their run of dashes
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in dashes.char_indices().chain([(dashes.len(), ' ')]) {
        match (c, start) {
            ('-', None) => start = Some(i),
            (' ', Some(s)) => {
                spans.push(s..i);
                start = None;
            }
            _ => {}
        }
    }
    let col = spans
        .iter()
        .position(|r| header.get(r.clone()).is_some_and(|h| h.trim() == "emb"))
        .expect("pdffonts has an emb column");
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let name = l.split_whitespace().next().unwrap_or("").to_string();
            let emb = l.get(spans[col].clone()).unwrap_or("").trim().to_string();
            (name, emb)
        })
        .collect()
}

fn write_pdf(dir: &Path, name: &str, pdf: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, pdf).expect("write pdf");
    p
}

#[test]
fn norwegian_text_and_tables_come_back_from_an_embedded_pdfa() {
    let doc = PdfDoc {
        title: "Pasientsammendrag for Åse Ærø".into(),
        lang: "nb-NO".into(),
        author: Some("Bjørn Ødegård".into()),
        created: Some("20240115103000+0100".into()),
        blocks: vec![
            Block::Field("Pasient".into(), "Åse Ærø".into()),
            Block::Heading("Kosthold".into()),
            Block::Paragraph(
                "Pasienten tåler blåbærsyltetøy, rømmegrøt og hjortebær.\nNy linje: ÆØÅ æøå é ü ß."
                    .into(),
            ),
            Block::Subheading("Allergier".into()),
            Block::Table {
                header: vec!["Stoff".into(), "Reaksjon".into(), "Alvorlighet".into()],
                rows: vec![
                    vec!["Peanøtt".into(), "Anafylaksi".into(), "Høy".into()],
                    vec!["Bjørkepollen".into(), "Rennende øyne".into(), "Lav".into()],
                ],
            },
        ],
    };
    let pdf = render_pdf(&doc).unwrap_or_else(|e| panic!("render: {e}"));
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write_pdf(dir.path(), "doc.pdf", &pdf);

    // XMP (never compressed under PDF/A): PDF/A-1b, title and language
    let text = String::from_utf8_lossy(&pdf);
    let has = |a: &str, b: &str| text.contains(a) || text.contains(b);
    assert!(
        has("<pdfaid:part>1</pdfaid:part>", "pdfaid:part=\"1\""),
        "no pdfaid:part 1"
    );
    assert!(
        has(
            "<pdfaid:conformance>B</pdfaid:conformance>",
            "pdfaid:conformance=\"B\""
        ),
        "no pdfaid:conformance B"
    );
    assert!(text.contains("nb-NO"), "no language in the metadata");
    assert!(
        text.contains("2024-01-15T10:30:00+01:00"),
        "the given creation date in the XMP"
    );
    assert!(pdf.starts_with(b"%PDF-1.4"), "PDF/A-1 is PDF 1.4");

    let Some(out) = poppler("pdftotext", &["-enc", "UTF-8"], &path) else {
        return;
    };
    for w in [
        "Pasientsammendrag for Åse Ærø",
        "blåbærsyltetøy",
        "rømmegrøt",
        "ÆØÅ æøå é ü ß",
        "Peanøtt",
        "Anafylaksi",
        "Bjørkepollen",
        "Rennende øyne",
        "Alvorlighet",
    ] {
        assert!(out.contains(w), "{w:?} not in the extracted text:\n{out}");
    }
    // the page number "1 / 1": pdftotext drops the spaces around the slash at that size
    assert!(
        out.replace(' ', "").contains("1/1"),
        "no page number:\n{out}"
    );

    let Some(fonts) = poppler("pdffonts", &[], &path) else {
        return;
    };
    let fonts = embedded_column(&fonts);
    assert!(fonts.len() >= 2, "regular and bold: {fonts:?}");
    for (name, emb) in &fonts {
        assert_eq!(emb, "yes", "{name} is not embedded");
        assert!(name.contains("DejaVuSans"), "{name}");
    }

    let Some(info) = poppler("pdfinfo", &["-meta"], &path) else {
        return;
    };
    for w in [
        "<pdfaid:part>1</pdfaid:part>",
        "<pdfaid:conformance>B</pdfaid:conformance>",
        "Pasientsammendrag for Åse Ærø",
        "<rdf:li>nb-NO</rdf:li>",
        "Bjørn Ødegård",
    ] {
        assert!(info.contains(w), "{w:?} not in the XMP:\n{info}");
    }
}

#[test]
fn the_ps_l1_carries_the_l3_narrative_as_pdf() {
    let bundle =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/ips-norwegian-vitals-social.json");
    let bytes = std::fs::read(&bundle).expect("bundle");
    let t = ips_to_ps(
        &bytes,
        Terminology::builtin(),
        &PsOptions {
            l1: true,
            language: "nb-NO".into(),
            ..Default::default()
        },
    )
    .unwrap_or_else(|e| panic!("translate: {e}"));
    let l1 = t.l1_xml.expect("L1 asked for");
    let start = l1
        .find("representation=\"B64\">")
        .map(|i| i + "representation=\"B64\">".len())
        .expect("B64 text");
    let end = start + l1[start..].find('<').expect("end of text");
    let pdf = base64::engine::general_purpose::STANDARD
        .decode(&l1[start..end])
        .expect("base64");
    eprintln!(
        "PS L1: {} bytes of PDF, {} bytes of L1 CDA",
        pdf.len(),
        l1.len()
    );
    assert!(pdf.starts_with(b"%PDF-1.4"));

    let dir = tempfile::tempdir().expect("tempdir");
    let path = write_pdf(dir.path(), "ps.pdf", &pdf);
    let Some(out) = poppler("pdftotext", &["-enc", "UTF-8"], &path) else {
        return;
    };
    // every section title of the L3 and the patient's fields
    let titles: Vec<&str> = t
        .xml
        .split("<title>")
        .skip(1)
        .filter_map(|s| s.split("</title>").next())
        .collect();
    assert!(titles.len() > 5, "{titles:?}");
    let flat = out.split_whitespace().collect::<Vec<_>>().join(" ");
    for title in titles {
        let want = title.split_whitespace().collect::<Vec<_>>().join(" ");
        let want = want.replace("&amp;", "&");
        assert!(flat.contains(&want), "{want:?} not in the PDF text:\n{out}");
    }
    assert!(flat.contains("Patient:"), "{out}");
    assert!(flat.contains("Date of birth:"), "{out}");
}

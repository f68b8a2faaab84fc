use std::path::Path;

use super::fonts::{self, Fonts, Style};
use super::layout::{self, Op, Page, Type, CONTENT_W, MARGIN, PAGE_H, PAGE_W};
use super::*;

/// The installed fonts, or None with the reason on stderr.
fn test_fonts() -> Option<&'static Fonts> {
    match fonts::shared() {
        Ok(f) => Some(f),
        Err(e) => {
            eprintln!("SKIP: {e}");
            None
        }
    }
}

const BODY: Type = Type {
    style: Style::Regular,
    size: 10.0,
    leading: 13.0,
};

fn texts(p: &Page) -> Vec<(f32, f32, Style, f32, &str)> {
    p.ops
        .iter()
        .filter_map(|o| match o {
            Op::Text {
                x,
                y,
                style,
                size,
                text,
            } => Some((*x, *y, *style, *size, text.as_str())),
            Op::Rule { .. } => None,
        })
        .collect()
}

#[test]
fn wrapping_never_exceeds_the_width() {
    let Some(f) = test_fonts() else { return };
    let text = "Blåbærsyltetøy på brødskiva, ærlig talt: Øystein og Åse spiste \
                WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW \
                mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm i i i i i i i i i i i i i i i i \
                https://example.org/a/very/long/path/without/any/spaces/at/all/in/it/0123456789";
    for style in [Style::Regular, Style::Bold] {
        for width in [40.0, 73.5, 150.0, 300.0, CONTENT_W] {
            let t = Type { style, ..BODY };
            let lines = layout::wrap(f, t, &f.clean(text), width);
            assert!(lines.len() > 1, "{width}: one line");
            for l in &lines {
                let w = f.face(style).width(l, t.size);
                assert!(w <= width, "{style:?} {width}: {w} for {l:?}");
            }
            // nothing lost or added but spaces
            let strip = |s: &str| s.chars().filter(|c| *c != ' ').collect::<String>();
            assert_eq!(strip(&lines.concat()), strip(text), "{style:?} {width}");
        }
    }
}

#[test]
fn laid_out_text_stays_inside_the_margins() {
    let Some(f) = test_fonts() else { return };
    let long =
        "Ordinert legemiddel mot høyt blodtrykk, tas om morgenen sammen med mat. ".repeat(40);
    let doc = PdfDoc {
        created: None,
        title: "Pasientjournal for Åsmund Ærlig Østby – et langt navn som må brytes over linjer"
            .into(),
        lang: "nb-NO".into(),
        author: None,
        blocks: vec![
            Block::Heading("Legemidler".into()),
            Block::Paragraph(long.clone()),
            Block::Field("Fødselsnummer".into(), long.clone()),
            Block::Field(
                "A label that is much too long to sit beside its value ".repeat(3),
                long,
            ),
            Block::Table {
                header: vec!["Legemiddel".into(), "Dosering".into(), "Merknad".into()],
                rows: (0..40)
                    .map(|i| {
                        vec![
                            format!("Paracet {i}"),
                            "1 tablett 3 ganger daglig".into(),
                            "Ikke mer enn 4 g per døgn; kontakt lege ved feber over tre dager"
                                .into(),
                        ]
                    })
                    .collect(),
            },
        ],
    };
    let pages = layout::layout(&doc, f);
    assert!(pages.len() > 2);
    for (i, p) in pages.iter().enumerate() {
        let ts = texts(p);
        let (footer, body) = ts.split_last().expect("page number");
        assert_eq!(footer.4, format!("{} / {}", i + 1, pages.len()));
        for (x, y, style, size, text) in body {
            let right = x + f.face(*style).width(text, *size);
            assert!(
                *x >= MARGIN && right <= PAGE_W - MARGIN + 1e-3,
                "{text:?}: {x}..{right}"
            );
            assert!(*y > MARGIN && *y <= PAGE_H - MARGIN, "{text:?} at y {y}");
        }
    }
}

#[test]
fn a_long_paragraph_gives_several_pages() {
    let Some(f) = test_fonts() else { return };
    let doc = PdfDoc {
        created: None,
        title: "Lang tekst".into(),
        lang: "nb-NO".into(),
        author: Some("Dr. Ågot Bærheim".into()),
        blocks: vec![Block::Paragraph(
            "Dette er en lang setning om blåbærsyltetøy som gjentas. ".repeat(600),
        )],
    };
    let pages = layout::layout(&doc, f);
    assert!(pages.len() >= 3, "{} pages", pages.len());
    let pdf = render_with(&doc, f).expect("render");
    assert!(pdf.starts_with(b"%PDF-1.4"));
    let count = format!("/Count {}", pages.len());
    assert!(
        pdf.windows(count.len()).any(|w| w == count.as_bytes()),
        "no {count} in the page tree"
    );
}

#[test]
fn table_rows_stay_whole_and_the_header_repeats() {
    let Some(f) = test_fonts() else { return };
    let rows: Vec<Vec<String>> = (0..60)
        .map(|i| {
            vec![
                format!("rad{i}a\nrad{i}b\nrad{i}c\nrad{i}d"),
                format!("verdi {i}"),
            ]
        })
        .collect();
    let doc = PdfDoc {
        created: None,
        title: String::new(),
        lang: "en".into(),
        author: None,
        blocks: vec![Block::Table {
            header: vec!["Kolonne".into(), "Verdi".into()],
            rows,
        }],
    };
    let pages = layout::layout(&doc, f);
    assert!(pages.len() > 1);
    let page_of = |needle: &str| {
        pages
            .iter()
            .position(|p| texts(p).iter().any(|t| t.4 == needle))
            .unwrap_or_else(|| panic!("{needle} not drawn"))
    };
    for i in 0..60 {
        assert_eq!(
            page_of(&format!("rad{i}a")),
            page_of(&format!("rad{i}d")),
            "row {i} split"
        );
    }
    for (n, p) in pages.iter().enumerate() {
        let heads = texts(p).iter().filter(|t| t.4 == "Kolonne").count();
        assert_eq!(heads, 1, "header on page {}", n + 1);
    }
}

#[test]
fn a_row_taller_than_a_page_is_split() {
    let Some(f) = test_fonts() else { return };
    let tall = (0..150)
        .map(|i| format!("linje {i}"))
        .collect::<Vec<_>>()
        .join("\n");
    let doc = PdfDoc {
        created: None,
        title: "T".into(),
        lang: "en".into(),
        author: None,
        blocks: vec![Block::Table {
            header: vec!["H".into()],
            rows: vec![vec!["kort".into()], vec![tall], vec!["etter".into()]],
        }],
    };
    let pages = layout::layout(&doc, f);
    assert!(pages.len() >= 3, "{} pages", pages.len());
    let all: Vec<&str> = pages.iter().flat_map(|p| texts(p)).map(|t| t.4).collect();
    for i in 0..150 {
        assert!(
            all.contains(&format!("linje {i}").as_str()),
            "line {i} lost"
        );
    }
    assert!(all.contains(&"etter"));
}

#[test]
fn a_missing_font_directory_is_an_error_naming_the_file() {
    let dir = Path::new("/nonexistent/ncpeh-fonts");
    let err = Fonts::load(dir).err().expect("no fonts there");
    let PdfError::Font { path, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(path, &dir.join(fonts::REGULAR_FILE));
    assert!(err
        .to_string()
        .contains("/nonexistent/ncpeh-fonts/DejaVuSans.ttf"));
    let t: TranslateError = err.into();
    assert!(t.to_string().contains("DejaVuSans.ttf"), "{t}");
}

#[test]
fn a_file_that_is_no_font_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join(fonts::REGULAR_FILE), b"not a font").expect("write");
    let err = Fonts::load(dir.path()).err().expect("garbage is no font");
    assert!(matches!(err, PdfError::Font { .. }), "{err}");
}

#[test]
fn characters_the_font_lacks_become_question_marks() {
    let Some(f) = test_fonts() else { return };
    assert_eq!(f.clean("æøåÆØÅ\té\u{7}x\u{10FFFD}"), "æøåÆØÅ éx?");
}

#[test]
fn cda_narrative_becomes_blocks() {
    let cda = r#"<ClinicalDocument xmlns="urn:hl7-org:v3"><title>Pasientsammendrag</title>
      <languageCode code="nb-NO"/>
      <author><assignedAuthor><assignedPerson><name><given>Kari</given> <family>Lege</family></name></assignedPerson></assignedAuthor></author>
      <component><structuredBody>
        <component><section><title>Allergier</title><text>
          <paragraph>Pollen <content>og</content> nøtter</paragraph>
          <list><item>Første</item><item>Andre<br/>linje</item></list>
          <table><thead><tr><th>Stoff</th><th>Reaksjon</th></tr></thead>
            <tbody><tr><td>Peanøtt</td><td>Anafylaksi</td></tr><tr><td>Bjørk</td></tr></tbody></table>
        </text>
        <component><section><title>Under</title><text>Fri <sup>tekst</sup><content>Egen linje</content></text></section></component>
        </section></component>
      </structuredBody></component></ClinicalDocument>"#;
    let root = narrative::parse(cda).expect("parse");
    let h = narrative::header(&root, "x");
    assert_eq!(h.title, "Pasientsammendrag");
    assert_eq!(h.lang, "nb-NO");
    assert!(h.author.as_deref().is_some_and(|a| a.contains("Kari")));
    assert_eq!(
        narrative::blocks(&root),
        vec![
            Block::Heading("Allergier".into()),
            Block::Paragraph("Pollen og nøtter".into()),
            Block::Paragraph("• Første\n• Andre linje".into()),
            Block::Table {
                header: vec!["Stoff".into(), "Reaksjon".into()],
                rows: vec![
                    vec!["Peanøtt".into(), "Anafylaksi".into()],
                    vec!["Bjørk".into()]
                ],
            },
            Block::Subheading("Under".into()),
            Block::Paragraph("Fri tekst".into()),
            Block::Paragraph("Egen linje".into()),
        ]
    );
}

#[test]
fn l1_document_swaps_the_template_and_embeds_the_pdf() {
    let l3 = r#"<ClinicalDocument xmlns="urn:hl7-org:v3"><templateId root="1.3.6.1.4.1.12559.11.10.1.3.1.1.3"/><component><structuredBody></structuredBody></component></ClinicalDocument>"#;
    let l1 = l1_document(l3, b"%PDF-1.4 x", "9.9").expect("l1");
    assert!(l1.contains(r#"<templateId root="9.9"/>"#));
    assert!(!l1.contains("structuredBody"));
    assert!(l1.contains(r#"mediaType="application/pdf" representation="B64">JVBERi0xLjQgeA==<"#));
}

//! Foreign documents readable in bokmål (issue 13, part 3): `ncpeh translate pivot-to-html`
//! renders every reference pivot (PS, eP, eD, OrCD) as one self-contained page; the reference
//! PS shows every section under its bokmål heading and every code the terminology has bokmål
//! for in bokmål; markup in the document stays text; headless Chromium builds the page and
//! takes a screenshot (into target/test-output/pivot-html/); `/view` on the admin listener
//! renders an upload.

mod browser;
mod cda;
mod common;

use base64::Engine;
use common::{http_answer, TestNode, BIN};
use ncpeh::translate::{pivot_to_html, Terminology, TranslateError};
use ncpeh::xml::Element;
use std::path::{Path, PathBuf};
use std::process::Command;

const HL7: &str = "urn:hl7-org:v3";
const PS_W5: &str = "reference/ehdsi/pivot-ps/L3_PS_ReferenceTestData_W5.xml";
const PS_W6: &str = "reference/ehdsi/pivot-ps/PS_L3_W6.xml";

/// `target/test-output/pivot-html`, next to the binary under test.
fn out_dir() -> PathBuf {
    let target = Path::new(BIN)
        .parent()
        .and_then(Path::parent)
        .expect("target dir");
    let d = target.join("test-output/pivot-html");
    std::fs::create_dir_all(&d).expect("test output dir");
    d
}

/// Runs the CLI on `src`, writing `out`; returns the page.
fn render_cli(src: &Path, out: &Path) -> String {
    let o = Command::new(BIN)
        .args(["translate", "pivot-to-html"])
        .arg(src)
        .args(["--lang", "nb", "--out"])
        .arg(out)
        .output()
        .expect("run ncpeh");
    assert!(
        o.status.success(),
        "{}: {}",
        src.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    std::fs::read_to_string(out).expect("page written")
}

/// The page's text as a reader sees it: tags gone, entities read, whitespace collapsed.
fn plain(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    squash(&text)
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn parse(bytes: &[u8]) -> Element {
    ncpeh::xml::parse(bytes, Default::default()).expect("reference document parses")
}

fn sections(root: &Element) -> Vec<&Element> {
    root.descendants_named(HL7, "section")
}

/// Every (system, code) in the document with a bokmål designation, and that designation.
fn translatable(root: &Element, term: &Terminology) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = root
        .descendants()
        .into_iter()
        .filter_map(|e| {
            let (code, sys) = (e.attr("code")?, e.attr("codeSystem")?);
            let nb = term.designation(sys.trim(), code.trim(), "nb-NO")?;
            Some((sys.to_string(), code.to_string(), nb.to_string()))
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Checks a page built from `source` the way a reader would look at it (`page` is the raw HTML
/// or Chromium's DOM): every section's title and bokmål heading, every bokmål designation.
fn assert_readable(name: &str, source: &Element, page: &str) {
    let term = Terminology::builtin();
    let text = plain(page);
    assert!(page.contains("<html lang=\"nb\""), "{name}: lang");
    let secs = sections(source);
    assert!(!secs.is_empty(), "{name}: the reference has sections");
    for s in secs {
        let title = s
            .child(HL7, "title")
            .map(|t| squash(&t.deep_text()))
            .unwrap_or_default();
        let code = s.child(HL7, "code").expect("section code");
        let (c, sys) = (code.attr("code").unwrap(), code.attr("codeSystem").unwrap());
        let nb = term
            .designation(sys, c, "nb-NO")
            .unwrap_or_else(|| panic!("{name}: no bokmål heading for section {sys} {c}"));
        // the heading: the bokmål words, then the original title beside them
        let heading = if title.is_empty() {
            nb.to_string()
        } else {
            format!("{nb} {title}")
        };
        assert!(
            text.contains(&heading),
            "{name}: section heading {heading:?}"
        );
    }
    let codes = translatable(source, term);
    assert!(codes.len() >= 10, "{name}: {codes:?}");
    for (sys, code, nb) in codes {
        assert!(
            text.contains(&squash(&nb)),
            "{name}: {sys} {code} has bokmål {nb:?}, which the page lacks"
        );
    }
}

/// Where no external resource could come from: no URL that leaves the page.
fn assert_self_contained(name: &str, page: &str) {
    assert!(page.starts_with("<!DOCTYPE html>"), "{name}");
    // (the page writes ' as &#39; in attributes)
    assert!(
        page.replace("&#39;", "'")
            .contains("http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';"),
        "{name}: CSP"
    );
    let lower = page.to_ascii_lowercase();
    assert!(!lower.contains("<script"), "{name}: script");
    for attr in ["src=\"", "href=\"", "data=\""] {
        for (i, _) in lower.match_indices(attr) {
            let v = &lower[i + attr.len()..];
            assert!(
                v.starts_with("data:"),
                "{name}: {attr} points outside: {}",
                &v[..v.len().min(60)]
            );
        }
    }
}

#[test]
fn cli_renders_every_reference_document() {
    let Some(shared) = cda::shared() else {
        return;
    };
    let term = Terminology::builtin();
    let dir = out_dir();
    let mut files = Vec::new();
    for (folder, only) in [
        ("pivot-ps", None),
        ("pivot-ep", None),
        ("pivot-ed", Some("dispensation1.xml")),
        ("pivot-orcd", None),
    ] {
        let d = shared.join("reference/ehdsi").join(folder);
        let mut names: Vec<PathBuf> = std::fs::read_dir(&d)
            .expect("reference folder")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "xml"))
            .filter(|p| only.is_none_or(|o| p.file_name().is_some_and(|n| n == o)))
            .collect();
        names.sort();
        assert!(!names.is_empty(), "no documents in {}", d.display());
        files.extend(names);
    }
    for must in [PS_W5, PS_W6] {
        assert!(files.contains(&shared.join(must)), "{must} is among them");
    }
    let mut bodies = 0;
    for src in &files {
        let name = src.file_stem().unwrap().to_string_lossy().into_owned();
        let page = render_cli(src, &dir.join(format!("{name}.html")));
        assert_self_contained(&name, &page);
        let root = parse(&std::fs::read(src).unwrap());
        // the document type in bokmål is the page's first heading
        let code = root.child(HL7, "code").unwrap();
        let nb = term
            .designation(
                code.attr("codeSystem").unwrap(),
                code.attr("code").unwrap(),
                "nb",
            )
            .unwrap_or_else(|| panic!("{name}: document type without bokmål"));
        assert!(page.contains(&format!("<h1>{nb}</h1>")), "{name}: {nb}");
        // an OrCD's body is on the page, byte for byte
        if let Some(t) = root.path(HL7, &["component", "nonXMLBody", "text"]) {
            let mime = t.attr("mediaType").unwrap();
            let b64: String = t.text().split_whitespace().collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(&b64)
                .unwrap();
            let tag = if mime == "application/pdf" {
                "<object data=\"data:application/pdf;base64,"
            } else {
                "<img src=\"data:image/png;base64,"
            };
            let at = page.find(tag).unwrap_or_else(|| panic!("{name}: {tag}")) + tag.len();
            let end = at + page[at..].find('"').unwrap();
            let shown = base64::engine::general_purpose::STANDARD
                .decode(&page[at..end])
                .unwrap();
            assert_eq!(shown, bytes, "{name}: the embedded body");
            bodies += 1;
        }
    }
    assert_eq!(bodies, 4, "the four OrCD samples");
    eprintln!("{} pages in {}", files.len(), dir.display());
}

#[test]
fn reference_ps_shows_every_section_and_every_bokmal_code() {
    let Some(shared) = cda::shared() else {
        return;
    };
    let dir = out_dir();
    for f in [PS_W5, PS_W6] {
        let src = shared.join(f);
        let name = src.file_stem().unwrap().to_string_lossy().into_owned();
        let page = render_cli(&src, &dir.join(format!("{name}.sections.html")));
        assert_readable(&name, &parse(&std::fs::read(&src).unwrap()), &page);
    }
    // the original wording beside the bokmål (W5's food allergy)
    let page =
        std::fs::read_to_string(dir.join("L3_PS_ReferenceTestData_W5.sections.html")).unwrap();
    assert!(
        plain(&page)
            .contains("Matallergi (original: Food allergy, 2.16.840.1.113883.6.96 / 414285001)"),
        "coded value with its original"
    );
}

/// W5 with markup put into a section's narrative and title: as escaped text, as elements,
/// as attributes.
fn hostile_ps(shared: &Path) -> String {
    let xml = std::fs::read_to_string(shared.join(PS_W5)).unwrap();
    let at = xml.find("<text>").expect("a narrative") + "<text>".len();
    let mut x = xml.clone();
    x.insert_str(
        at,
        concat!(
            "<paragraph>&lt;script&gt;alert('t')&lt;/script&gt;</paragraph>",
            "<script>alert('e')</script><img src=\"http://evil.example/x.png\"/>",
            "<content onmouseover=\"alert('a')\" ID=\"x\">hover</content>",
            "<linkHtml href=\"javascript:alert('l')\">link</linkHtml>",
        ),
    );
    let t = x
        .find("<title>History of Medication use")
        .expect("the title");
    x.insert_str(
        t + "<title>".len(),
        "&quot;&gt;&lt;script&gt;alert('h')&lt;/script&gt;",
    );
    x
}

#[test]
fn markup_in_the_document_stays_text() {
    let Some(shared) = cda::shared() else {
        return;
    };
    let dir = out_dir();
    let src = dir.join("hostile.xml");
    std::fs::write(&src, hostile_ps(&shared)).unwrap();
    let page = render_cli(&src, &dir.join("hostile.html"));
    assert_self_contained("hostile", &page);
    assert!(
        page.contains("&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt;"),
        "escaped text"
    );
    assert!(
        page.contains("&quot;&gt;&lt;script&gt;alert(&#39;h&#39;)"),
        "escaped title"
    );
    let lower = page.to_ascii_lowercase();
    for bad in [
        "onmouseover",
        "javascript:",
        "evil.example",
        "<img src=\"http",
    ] {
        assert!(!lower.contains(bad), "{bad} reached the page");
    }
    // the element's text is kept as text
    assert!(page.contains("alert(&#39;e&#39;)"));
}

#[test]
fn unknown_or_broken_input_is_a_clear_error() {
    let t = Terminology::builtin();
    let wrong = |r| matches!(r, Err(TranslateError::WrongDocument { .. }));
    assert!(wrong(pivot_to_html(b"<a/>", t, "nb")));
    let other = br#"<ClinicalDocument xmlns="urn:hl7-org:v3"><code code="11488-4" codeSystem="2.16.840.1.113883.6.1"/><component><structuredBody/></component></ClinicalDocument>"#;
    assert!(wrong(pivot_to_html(other, t, "nb")));
    let dt = br#"<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><ClinicalDocument xmlns="urn:hl7-org:v3">&e;</ClinicalDocument>"#;
    assert!(matches!(
        pivot_to_html(dt, t, "nb"),
        Err(TranslateError::DoctypeRefused)
    ));
    assert!(matches!(
        pivot_to_html(b"<ClinicalDocument xmlns=\"urn:hl7-org:v3\">", t, "nb"),
        Err(TranslateError::MalformedXml(_))
    ));
    let bodiless = br#"<ClinicalDocument xmlns="urn:hl7-org:v3"><code code="60591-5" codeSystem="2.16.840.1.113883.6.1"/></ClinicalDocument>"#;
    assert!(matches!(
        pivot_to_html(bodiless, t, "nb"),
        Err(TranslateError::MissingElement(_))
    ));
    assert!(matches!(
        pivot_to_html(other, t, "en"),
        Err(TranslateError::InvalidValue { .. })
    ));
    // the CLI says so and fails
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.xml");
    std::fs::write(&junk, b"not xml at all").unwrap();
    let o = Command::new(BIN)
        .args(["translate", "pivot-to-html"])
        .arg(&junk)
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("not well-formed") || err.contains("malformed"),
        "{err}"
    );
}

#[test]
fn an_encounter_report_gets_its_bokmal_type() {
    let Some(shared) = cda::shared() else {
        return;
    };
    // HCER has the PS's sections under another document code and template.
    let ps = std::fs::read_to_string(shared.join(PS_W5)).unwrap();
    let hcer = ps
        .replace(
            "<code code=\"60591-5\" codeSystem=\"2.16.840.1.113883.6.1\" displayName=\"Patient summary Document\"/>",
            "<code code=\"34133-9\" codeSystem=\"2.16.840.1.113883.6.1\" displayName=\"Summarization of episode note\"/>",
        )
        .replace("1.3.6.1.4.1.12559.11.10.1.3.1.1.3", "1.3.6.1.4.1.12559.11.10.1.3.1.1.4");
    assert_ne!(ps, hcer);
    let page = pivot_to_html(hcer.as_bytes(), Terminology::builtin(), "nb").unwrap();
    assert!(page.contains("<h1>Rapport fra helsehjelp i utlandet</h1>"));
    assert!(
        plain(&page).contains("Allergier og uønskede reaksjoner Allergies and adverse reactions")
    );
    // The HCER the XDR tests send (tests/data/hcer): Spanish headings beside bokmål ones.
    let es = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/hcer/hcer-es.xml"),
    )
    .unwrap();
    let page = pivot_to_html(&es, Terminology::builtin(), "nb").unwrap();
    let text = plain(&page);
    assert!(page.contains("<h1>Rapport fra helsehjelp i utlandet</h1>"));
    assert!(text.contains("Medicación"), "the original title is kept");
    assert!(text.contains("Ingen kjente legemidler"), "{text}");
    assert!(
        text.contains("Leger"),
        "the author's role in bokmål: {text}"
    );
}

#[test]
fn headless_chromium_shows_the_pages() {
    let Some(shared) = cda::shared() else {
        return;
    };
    let Some(bin) = browser::chromium() else {
        return;
    };
    let dir = out_dir();
    // the reference PS: the DOM Chromium built holds every section and every bokmål code
    let src = shared.join(PS_W5);
    let page = dir.join("ps.html");
    render_cli(&src, &page);
    let dom = browser::dump_dom(bin, &page);
    assert_readable(
        "ps (Chromium DOM)",
        &parse(&std::fs::read(&src).unwrap()),
        &dom,
    );
    assert!(dom.contains("<h2><span class=\"nb\">Allergier og uønskede reaksjoner</span>"));
    assert!(dom.contains("<dt>Pasient</dt>"), "header labels");
    browser::screenshot(bin, &page, &dir.join("ps.png"), 4000);

    // OrCD: the picture and the PDF are in the page
    for (file, tag, shot) in [
        (
            "OrCD-x-clinical-image-W7",
            "<img src=\"data:image/png;base64,",
            Some("orcd-image.png"),
        ),
        (
            "OrCD-34105-7-W7",
            "<object data=\"data:application/pdf;base64,",
            None,
        ),
    ] {
        let src = shared.join(format!("reference/ehdsi/pivot-orcd/{file}.xml"));
        let page = dir.join(format!("{file}.html"));
        render_cli(&src, &page);
        let dom = browser::dump_dom(bin, &page);
        assert!(dom.contains(tag), "{file}: {tag}");
        if let Some(png) = shot {
            browser::screenshot(bin, &page, &dir.join(png), 1800);
        }
    }

    // markup from the document built no element
    let src = dir.join("hostile-chromium.xml");
    std::fs::write(&src, hostile_ps(&shared)).unwrap();
    let page = dir.join("hostile-chromium.html");
    render_cli(&src, &page);
    let dom = browser::dump_dom(bin, &page).to_ascii_lowercase();
    assert!(!dom.contains("<script"), "a script element in the DOM");
    assert!(!dom.contains("onmouseover"));
    assert!(
        dom.contains("&lt;script&gt;alert('t')&lt;/script&gt;"),
        "shown as text"
    );
}

/// Raw bytes to the admin listener, the answer as (status, lower-cased head, body).
async fn admin_raw(node: &TestNode, request: &[u8]) -> (u16, String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = node.admin.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    s.write_all(request).await.expect("send");
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.expect("read");
    let text = String::from_utf8_lossy(&out);
    let (status, head, body) = http_answer(&text);
    (status, head.to_ascii_lowercase(), body.to_string())
}

/// One HTTP/1.1 request with a body to the admin listener.
async fn admin_request(
    node: &TestNode,
    method: &str,
    path: &str,
    headers: &str,
    body: &[u8],
) -> (u16, String, String) {
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{headers}Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    admin_raw(node, &req).await
}

#[tokio::test]
async fn view_page_on_the_admin_listener() {
    let Some(shared) = cda::shared() else {
        return;
    };
    let node = TestNode::start();
    let ps = std::fs::read(shared.join(PS_W5)).unwrap();

    let (st, head, form) = admin_request(&node, "GET", "/view", "", b"").await;
    assert_eq!(st, 200, "{form}");
    assert!(
        head.contains("content-type: text/html; charset=utf-8"),
        "{head}"
    );
    assert!(
        form.contains("<form method=\"post\" action=\"/view\" enctype=\"multipart/form-data\">")
    );
    assert!(form.contains("type=\"file\""));

    let (st, head, page) = admin_request(
        &node,
        "POST",
        "/view",
        "Content-Type: application/xml\r\n",
        &ps,
    )
    .await;
    assert_eq!(st, 200, "{page}");
    assert!(
        head.contains("content-type: text/html; charset=utf-8"),
        "{head}"
    );
    assert!(
        head.contains("content-security-policy: default-src 'none'"),
        "{head}"
    );
    assert_readable("/view", &parse(&ps), &page);

    // the upload form's way: multipart/form-data with the file as its one part
    let mut mp = b"--XyZ\r\nContent-Disposition: form-data; name=\"document\"; filename=\"ps.xml\"\r\nContent-Type: text/xml\r\n\r\n".to_vec();
    mp.extend_from_slice(&ps);
    mp.extend_from_slice(b"\r\n--XyZ--\r\n");
    let (st, _, page) = admin_request(
        &node,
        "POST",
        "/view",
        "Content-Type: multipart/form-data; boundary=XyZ\r\n",
        &mp,
    )
    .await;
    assert_eq!(st, 200, "{page}");
    assert!(page.contains("<span class=\"nb\">Problemliste</span>"));

    let (st, head, err) = admin_request(
        &node,
        "POST",
        "/view",
        "Content-Type: text/xml\r\n",
        b"this is no document",
    )
    .await;
    assert_eq!(st, 400, "{err}");
    assert!(head.contains("content-type: text/plain"), "{head}");
    assert!(err.contains("the document cannot be shown"), "{err}");

    let not_pivot = br#"<ClinicalDocument xmlns="urn:hl7-org:v3"><code code="11488-4" codeSystem="2.16.840.1.113883.6.1"/></ClinicalDocument>"#;
    let (st, _, err) = admin_request(
        &node,
        "POST",
        "/view",
        "Content-Type: application/xml\r\n",
        not_pivot,
    )
    .await;
    assert_eq!(st, 400);
    assert!(err.contains("eHDSI pivot document"), "{err}");

    let (st, _, _) = admin_request(
        &node,
        "POST",
        "/view",
        "Content-Type: application/json\r\n",
        b"{}",
    )
    .await;
    assert_eq!(st, 415);

    // beyond the limit, said in advance: refused before a byte of the body is read
    let big = ncpeh::translate::MAX_INPUT + 1;
    let req = format!(
        "POST /view HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/xml\r\nContent-Length: {big}\r\n\r\n"
    );
    let (st, _, err) = admin_raw(&node, req.as_bytes()).await;
    assert_eq!(st, 413, "{err}");
    assert!(err.contains("larger than"), "{err}");

    // the other paths are as they were
    let (st, body) = node.admin_get("/health").await;
    assert_eq!(st, 200, "{body}");
    let (st, _) = node.admin_get("/metrics").await;
    assert_eq!(st, 200);
}

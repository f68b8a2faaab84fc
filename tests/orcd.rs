//! Norwegian journal documents abroad (issue 13): a foreign contact point (Sweden's dev
//! certificate and assertions) asks `/xca` for a Norwegian patient's discharge reports, lab
//! results, imaging reports and images. Each registered document whose typeCode maps to the
//! asked class (orcd_classes.tsv) is offered as an eHDSI OrCD, retrieved over ITI-39, and
//! passes its art-decor schematron with no error. The query's time filters and the
//! confidentiality policy decide what is offered.

mod cda;
mod common;
use base64::Engine;
use common::answer::{self, SUCCESS};
use common::ehdsi::{self as eh, foreign, uuid, NATIONAL};
use common::xdsb::{self, Content};
use common::TestNode;
use ncpeh::xds::confidentiality::VOLVEN_9603;
use std::path::{Path, PathBuf};

const HL7: &str = "urn:hl7-org:v3";
const VOLVEN_9602: &str = "2.16.578.1.12.4.1.1.9602";
const LOINC: &str = "2.16.840.1.113883.6.1";

/// The reference files: NHN's CDA Level 1 example (UTF-16, a PDF inside) and OpenNCP's OrCD
/// image example (a PNG inside). None, with a note, without the shared folder.
struct Sources {
    nhn_cda: Vec<u8>,
    pdf: Vec<u8>,
    png: Vec<u8>,
    shared: PathBuf,
}

fn sources() -> Option<Sources> {
    let shared = cda::shared()?;
    let nhn_cda =
        std::fs::read(shared.join("reference/norway/xds-profile/CDA_Level1_Document01.xml"))
            .ok()?;
    let b64 = |xml: &str| -> Vec<u8> {
        let start = xml
            .find("representation=\"B64\">")
            .map(|i| i + 21)
            .or_else(|| {
                xml.find("mediaType=\"image/png\"")
                    .and_then(|i| xml[i..].find('>').map(|j| i + j + 1))
            });
        let start = start.expect("a base64 body");
        let end = start + xml[start..].find('<').expect("end of the body");
        let text: String = xml[start..end]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .expect("base64")
    };
    // The PDF from NHN's example (UTF-16 text).
    let units: Vec<u16> = nhn_cda[2..]
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    let nhn_text = String::from_utf16(&units).expect("UTF-16");
    let text_start = nhn_text.find("<text").expect("nonXMLBody text");
    let gt = text_start + nhn_text[text_start..].find('>').expect(">") + 1;
    let end = gt + nhn_text[gt..].find('<').expect("</text>");
    let pdf = base64::engine::general_purpose::STANDARD
        .decode(
            nhn_text[gt..end]
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect::<String>(),
        )
        .expect("the NHN example's PDF");
    let image = std::fs::read_to_string(
        shared.join("reference/ehdsi/pivot-orcd/OrCD-x-clinical-image-W7.xml"),
    )
    .ok()?;
    Some(Sources {
        nhn_cda,
        pdf,
        png: b64(&image),
        shared,
    })
}

/// A journal document for ITI-41 of Volven 9602 type `type_code`.
fn journal(pid: &str, type_code: &str, mime: &str) -> common::meta::Doc {
    let mut d = xdsb::doc(&uuid(), pid, mime);
    // Volven 9602: the class is the type's group, X00-1 (A03-2 Epikrise is in A00-1).
    d.class = (format!("{}00-1", &type_code[..1]), VOLVEN_9602.into());
    d.type_code = (type_code.into(), VOLVEN_9602.into());
    d.conf = vec![("N".into(), VOLVEN_9603.into())];
    d.format = (
        "urn:ihe:iti:xds:2017:mimeTypeSufficient".into(),
        "1.3.6.1.4.1.19376.1.2.3".into(),
    );
    d
}

async fn register(node: &TestNode, pid: &str, docs: &[(&common::meta::Doc, &[u8])]) {
    let list: Vec<&common::meta::Doc> = docs.iter().map(|(d, _)| *d).collect();
    let contents: Vec<(&str, Content)> = docs
        .iter()
        .map(|(d, bytes)| (d.id.as_str(), Content::Inline(bytes)))
        .collect();
    eh::provide(node, &eh::set_of(&uuid(), pid, &list), &contents).await;
}

/// FindDocuments for OrCD `class` as `who`: the answer's (classCode, formatCode, uniqueId) per
/// entry. The answer must be a Success without errors.
async fn find_orcd(
    node: &TestNode,
    who: &str,
    pid: &str,
    class: &str,
    extra: &[(&str, &str)],
) -> Vec<(String, String, String)> {
    let class = format!("('{class}^^{LOINC}')");
    let mut params = vec![("$XDSDocumentEntryClassCode", class.as_str())];
    params.extend_from_slice(extra);
    let r = eh::query(node, who, "/xca", &eh::find_docs(pid, &params)).await;
    let text = common::schema::to_xml(&r.body);
    assert_eq!(answer::status(&r.body), SUCCESS, "{text}");
    assert!(!text.contains("RegistryError"), "no error: {text}");
    let uids = answer::unique_ids(&r.body);
    let scheme_of = |scheme: &str| -> Vec<String> {
        r.body
            .descendants_named(
                "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0",
                "Classification",
            )
            .into_iter()
            .filter(|c| c.attr("classificationScheme") == Some(scheme))
            .map(|c| c.attr("nodeRepresentation").unwrap_or_default().to_string())
            .collect()
    };
    let classes = scheme_of(ncpeh::xds::ids::DE_CLASS_CODE);
    let formats = scheme_of(ncpeh::xds::ids::DE_FORMAT_CODE);
    assert_eq!(
        (classes.len(), formats.len()),
        (uids.len(), uids.len()),
        "{text}"
    );
    classes
        .into_iter()
        .zip(formats)
        .zip(uids)
        .map(|((c, f), u)| (c, f, u))
        .collect()
}

/// The schematron of each OrCD class (the 2024 art-decor set).
fn schematron_of(class: &str) -> &'static str {
    match class {
        "34105-7" => "epsos-OrCD_Hospital_Discharge_Report.sch",
        "11502-2" => "epsos-OrCD_Laboratory_Result.sch",
        "18748-4" => "epsos-OrCD_Medical_Imaging_Report.sch",
        _ => "epsos-OrCD_Medical_Images.sch",
    }
}

/// The base64 body of an OrCD, decoded.
fn body_of(xml: &ncpeh::xml::Element) -> Vec<u8> {
    let text = xml
        .path(HL7, &["component", "nonXMLBody", "text"])
        .expect("nonXMLBody/text")
        .deep_text();
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .expect("base64 body")
}

#[tokio::test]
async fn every_orcd_class_is_found_retrieved_and_valid_abroad() {
    let Some(src) = sources() else { return };
    let node = TestNode::start_with_foreign_peer("");
    let (_, pid) = eh::fnr_patient(&node);
    let discharge = journal(&pid, "A03-2", "text/xml");
    let lab = journal(&pid, "C01-2", "application/pdf");
    let imaging = journal(&pid, "E01-2", "application/pdf");
    let images = journal(&pid, "E01-2", "image/png");
    // A type with no OrCD class (Kriseplan) is never offered.
    let plan = journal(&pid, "A01-2", "application/pdf");
    register(
        &node,
        &pid,
        &[
            (&discharge, &src.nhn_cda),
            (&lab, &src.pdf),
            (&imaging, &src.pdf),
            (&images, &src.png),
            (&plan, &src.pdf),
        ],
    )
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut files = Vec::new();
    for (class, format, original) in [
        ("34105-7", "urn:eHDSI:orcd:pdf:2021", &src.pdf),
        ("11502-2", "urn:eHDSI:orcd:pdf:2021", &src.pdf),
        ("18748-4", "urn:eHDSI:orcd:pdf:2021", &src.pdf),
        ("x-clinical-image", "urn:eHDSI:orcd:png:2021", &src.png),
    ] {
        let found = find_orcd(&node, &foreign(&pid), &pid, class, &[]).await;
        assert_eq!(found.len(), 1, "one {class} offered: {found:?}");
        assert_eq!((found[0].0.as_str(), found[0].1.as_str()), (class, format));
        let (docs, r) = eh::retrieve(&node, &foreign(&pid), "/xca", &[found[0].2.clone()]).await;
        assert_eq!(docs.len(), 1, "{}", common::schema::to_xml(&r.body));
        assert_eq!(docs[0].1, "text/xml");
        let xml =
            ncpeh::xml::parse(&docs[0].2, ncpeh::xml::Limits::default()).expect("an OrCD CDA");
        assert_eq!(
            xml.child(HL7, "code").and_then(|c| c.attr("code")),
            Some(class)
        );
        // The original travels unchanged.
        assert_eq!(&body_of(&xml), original, "{class}: the original bytes");
        let f = dir.path().join(format!("{class}.xml"));
        std::fs::write(&f, &docs[0].2).expect("write");
        files.push((class, f, xml));
    }
    // The CDA source's own header reaches the OrCD: its author and custodian.
    let discharge_xml = &files[0].2;
    let text = common::schema::to_xml(discharge_xml);
    assert!(text.contains("BOKORM"), "the source's author: {text}");
    assert!(text.contains("SARPSBORG KOMMUNE"), "the source's custodian");
    // The patient is the one the registry filed the letter under (NHN's example names
    // another): the index's name, never the example's.
    assert!(
        text.contains("Nordmann") && !text.contains("Danser"),
        "the patient's name"
    );
    // A PDF registered as it is takes the patient from the index and the author from the
    // metadata.
    let lab_text = common::schema::to_xml(&files[1].2);
    assert!(
        lab_text.contains("Nordmann") && lab_text.contains("Kari"),
        "{lab_text}"
    );
    assert!(lab_text.contains("Hansen"), "the metadata's author");
    let Some(py) = cda::python() else { return };
    for (class, f, _) in &files {
        let report = cda::schematron(
            &py,
            &src.shared,
            schematron_of(class),
            std::slice::from_ref(f),
        );
        assert!(
            report.is_ok(),
            "{class}: {}",
            report.err().unwrap_or_default()
        );
    }
}

#[tokio::test]
async fn time_filters_and_confidentiality_decide_what_goes_abroad() {
    let Some(src) = sources() else { return };
    let node = TestNode::start_with_foreign_peer("");
    let (_, pid) = eh::fnr_patient(&node);
    // Created 2024-01-15 10:30, service 2024-01-01 to 2024-01-02 (the test metadata's times).
    let n = journal(&pid, "A03-2", "application/pdf");
    let mut nors = journal(&pid, "A03-2", "application/pdf");
    nors.conf = vec![("NORS".into(), VOLVEN_9603.into())];
    register(&node, &pid, &[(&n, &src.pdf), (&nors, &src.pdf)]).await;
    let count = |extra: Vec<(&'static str, &'static str)>| {
        let node = &node;
        let pid = pid.clone();
        async move {
            find_orcd(node, &foreign(&pid), &pid, "34105-7", &extra)
                .await
                .len()
        }
    };
    // NORS stays in Norway: only the N letter is offered abroad.
    assert_eq!(count(vec![]).await, 1);
    assert_eq!(
        count(vec![("$XDSDocumentEntryCreationTimeFrom", "20240116")]).await,
        0
    );
    assert_eq!(
        count(vec![("$XDSDocumentEntryCreationTimeTo", "20240116")]).await,
        1
    );
    assert_eq!(
        count(vec![("$XDSDocumentEntryServiceStartTimeFrom", "20240102")]).await,
        0
    );
    assert_eq!(
        count(vec![("$XDSDocumentEntryServiceStopTimeFrom", "20240102")]).await,
        1
    );
    // A national consumer asking /xca for the class sees both as OrCDs (NORS stays in Norway,
    // and this caller is in Norway).
    assert_eq!(
        find_orcd(&node, NATIONAL, &pid, "34105-7", &[]).await.len(),
        2
    );
}

#[test]
fn the_command_line_wraps_a_journal_document() {
    let Some(src) = sources() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("nhn.xml");
    std::fs::write(&input, &src.nhn_cda).expect("write");
    let run = |args: &[&str]| {
        std::process::Command::new(common::BIN)
            .args(["translate", "journal-to-orcd"])
            .args(args)
            .output()
            .expect("ncpeh runs")
    };
    // NHN's example is a Kriseplan (A01-2): no OrCD class of its own, so one must be given.
    let o = run(&[input.to_str().unwrap_or_default()]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--class"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // The example names no birth date, which the eHDSI header must have: refused, naming it.
    let out = dir.path().join("orcd.xml");
    let o = run(&[input.to_str().unwrap_or_default(), "--class", "34105-7"]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("birth date"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = run(&[
        input.to_str().unwrap_or_default(),
        "--class",
        "34105-7",
        "--birth-date",
        "19840127",
        "--out",
        out.to_str().unwrap_or_default(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let xml = std::fs::read(&out).expect("the OrCD");
    let root = ncpeh::xml::parse(&xml, ncpeh::xml::Limits::default()).expect("XML");
    assert_eq!(body_of(&root), src.pdf, "the NHN example's PDF, unchanged");
    // Without a registry, the document's own patient is the patient.
    assert!(common::schema::to_xml(&root).contains("27888498775"));
    // A picture cannot be a discharge report.
    let png = dir.path().join("x.png");
    std::fs::write(&png, &src.png).expect("write");
    let o = run(&[png.to_str().unwrap_or_default(), "--class", "34105-7"]);
    assert!(!o.status.success(), "a PNG refused as 34105-7");
    let picture = |extra: &[&str]| {
        let mut a = vec![
            png.to_str().unwrap_or_default(),
            "--class",
            "x-clinical-image",
            "--patient",
            "13116900216",
        ];
        a.extend_from_slice(extra);
        run(&a)
    };
    // A picture names nobody: the patient's and the author's names must be given.
    let o = picture(&[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("patient's family and given name") && err.contains("author's"),
        "{err}"
    );
    let o = picture(&[
        "--patient-name",
        "Nordmann^Kari",
        "--birth-date",
        "19691113",
        "--author",
        "9144900^Lin^Rita^^^^^^&2.16.578.1.12.4.1.4.4&ISO",
        "--organisation",
        "Sørlandet sykehus HF^^^^^&2.16.578.1.12.4.1.4.101&ISO^^^^983974899",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("Sørlandet sykehus HF"));
    assert!(String::from_utf8_lossy(&o.stdout).contains("application/png"));
}

/// `pdftotext` of a PDF (None, with a note, without poppler-utils).
fn pdf_text(pdf: &[u8]) -> Option<String> {
    let dir = tempfile::tempdir().ok()?;
    let f = dir.path().join("body.pdf");
    std::fs::write(&f, pdf).ok()?;
    match std::process::Command::new("pdftotext")
        .arg(&f)
        .arg("-")
        .output()
    {
        Ok(o) if o.status.success() => Some(String::from_utf8_lossy(&o.stdout).into_owned()),
        _ => {
            eprintln!(
                "SKIP: pdftotext (poppler-utils) is not installed; the PDF text is unchecked"
            );
            None
        }
    }
}

#[test]
fn a_kith_epikrise_becomes_a_valid_discharge_report_showing_its_text() {
    let Some(src) = sources() else { return };
    let input = src.shared.join("reference/norway/kith/epikrise_v1.2_m.xml");
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("epikrise-orcd.xml");
    let o = std::process::Command::new(common::BIN)
        .args(["translate", "journal-to-orcd"])
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("ncpeh runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // The class comes from the document: an epikrise is a discharge report.
    assert!(String::from_utf8_lossy(&o.stderr).contains("class: 34105-7"));
    let xml = std::fs::read(&out).expect("the OrCD");
    // The same letter gives the same bytes (the pivot's uniqueId is derived from them, so a
    // second query finds the stored one instead of storing another).
    let again = std::process::Command::new(common::BIN)
        .args(["translate", "journal-to-orcd"])
        .arg(&input)
        .output()
        .expect("ncpeh runs");
    assert_eq!(
        String::from_utf8_lossy(&again.stdout).trim_end(),
        String::from_utf8_lossy(&xml).trim_end(),
        "a second translation is byte-identical"
    );
    let root = ncpeh::xml::parse(&xml, ncpeh::xml::Limits::default()).expect("XML");
    let text = common::schema::to_xml(&root);
    // Header facts from the letter: the patient, the hospital, the responsible physician.
    for fact in [
        "13116900216",
        "Danser",
        "NORSK HELSENETT SF HOVEDKONTOR",
        "Overlege Rita",
        "Lin",
        "9144900",
    ] {
        assert!(text.contains(fact), "{fact} in the header");
    }
    let pdf = body_of(&root);
    assert!(pdf.starts_with(b"%PDF-"), "a PDF body");
    if let Some(t) = pdf_text(&pdf) {
        let flat: String = t.split_whitespace().collect::<Vec<_>>().join(" ");
        for shown in [
            "Sykehusepikrise",
            "Endokarditt",
            "I330",
            "Slapp, subfebril siden juli",
            "Forløp og behandling",
            "Furix",
            "Går bra med stokk",
            "glukose kl 0800",
        ] {
            assert!(flat.contains(shown), "{shown:?} on the page: {flat}");
        }
    }
    let Some(py) = cda::python() else { return };
    let report = cda::schematron(
        &py,
        &src.shared,
        schematron_of("34105-7"),
        std::slice::from_ref(&out),
    );
    assert!(report.is_ok(), "{}", report.err().unwrap_or_default());
}

/// A KITH svarrapport (the NILAR form of a lab result) registered as Medisinsk biokjemi goes
/// abroad as an OrCD laboratory result: its values, units, reference ranges and flags in the PDF,
/// the laboratory and the responsible professional in the header, valid by art-decor.
#[tokio::test]
async fn a_kith_svarrapport_goes_abroad_as_a_valid_lab_result() {
    let Some(src) = sources() else { return };
    let svar = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/kith/svarrapport-v1.4.xml"),
    )
    .expect("tests/data/kith/svarrapport-v1.4.xml");
    let node = TestNode::start_with_foreign_peer("");
    // The report's own patient, in the index.
    let pid = "13116900216^^^&2.16.578.1.12.4.1.4.1&ISO";
    node.add_patient_with(pid, "Nordmann", "Kari", Some("19691113"), Some("F"));
    let lab = journal(pid, "C01-2", "text/xml");
    register(&node, pid, &[(&lab, &svar)]).await;

    let found = find_orcd(&node, &foreign(pid), pid, "11502-2", &[]).await;
    assert_eq!(found.len(), 1, "{found:?}");
    let (docs, r) = eh::retrieve(&node, &foreign(pid), "/xca", &[found[0].2.clone()]).await;
    assert_eq!(docs.len(), 1, "{}", common::schema::to_xml(&r.body));
    let xml = ncpeh::xml::parse(&docs[0].2, ncpeh::xml::Limits::default()).expect("an OrCD");
    let text = common::schema::to_xml(&xml);
    for fact in ["Fjordby sykehus HF", "Bergli", "9876512", "Laboratoriesvar"] {
        assert!(text.contains(fact), "{fact} in the header: {text}");
    }
    let pdf = body_of(&xml);
    assert!(pdf.starts_with(b"%PDF-"));
    if let Some(t) = pdf_text(&pdf) {
        let flat: String = t.split_whitespace().collect::<Vec<_>>().join(" ");
        for shown in [
            "B-Hemoglobin",
            "NOR05172",
            "10.9",
            "g/dL",
            "11,7 - 15,3",
            "Under nedre",
            "P-CRP",
            "Ingen atypiske celler sett",
            "Plasma",
            "Prøvene er analysert samme dag.",
        ] {
            assert!(flat.contains(shown), "{shown:?} on the page: {flat}");
        }
    }
    let Some(py) = cda::python() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let f = dir.path().join("lab.xml");
    std::fs::write(&f, &docs[0].2).expect("write");
    let report = cda::schematron(&py, &src.shared, schematron_of("11502-2"), &[f]);
    assert!(report.is_ok(), "{}", report.err().unwrap_or_default());
}

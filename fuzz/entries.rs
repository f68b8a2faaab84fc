//! The body of every fuzz target. Each libFuzzer binary in fuzz_targets/ calls one of these, and
//! tests/fuzz_corpus.rs replays the committed corpora through the same functions on stable, so
//! the fuzzer and the regression test run the very same code.
//!
//! An entry returns normally for any input. A panic, or a failed assertion about what the node
//! writes back, is a finding.

// Each fuzz binary uses one entry; the replay test uses them all.
#![allow(dead_code)]

use ncpeh::xml::{self, Limits};
use std::sync::OnceLock;

/// The body of one target.
pub type Entry = fn(&[u8]);

/// Every target by name, as in fuzz/Cargo.toml and fuzz/corpus/<name>/.
pub const TARGETS: &[(&str, Entry)] = &[
    ("xml_dom", xml_dom),
    ("soap_request", soap_request),
    ("mtom", mtom),
    ("stored_query_params", stored_query_params),
    ("ebrim", ebrim),
    ("mllp", mllp),
    ("hl7v2", hl7v2),
    ("xcpd", xcpd),
    ("saml_assertion", saml_assertion),
    ("xua", xua),
    ("ips_to_ps", ips_to_ps),
    ("eresept_to_ep", eresept_to_ep),
    ("ed_to_m10", ed_to_m10),
    ("pivot_to_nb", pivot_to_nb),
    ("pivot_to_html", pivot_to_html),
    ("journal_to_orcd", journal_to_orcd),
    ("hcer", hcer),
    ("mhd", mhd),
];

/// Room for what the node writes back: it may be larger than what it read.
const ROOMY: Limits = Limits {
    max_depth: 1024,
    max_elements: usize::MAX,
    max_bytes: usize::MAX,
};

/// What the node writes must be XML its own reader accepts.
fn assert_reparses(what: &str, out: &str) {
    if let Err(e) = xml::parse(out.as_bytes(), ROOMY) {
        panic!("{what} wrote XML that does not parse again ({e}):\n{out}");
    }
}

/// Any bytes into the safe XML reader; what it reads is written back and must parse again.
pub fn xml_dom(data: &[u8]) {
    if let Ok(root) = xml::parse(data, Limits::default()) {
        let _ = ncpeh::ebxml::query::parse_adhoc_query(&root);
        let out = xml::write::serialize(&root, &|_| None);
        assert_reparses("xml::write::serialize", &out);
    }
}

/// Any bytes as a SOAP 1.2 request envelope.
pub fn soap_request(data: &[u8]) {
    let _ = ncpeh::soap::decode_request(data, Some("urn:x"), Limits::default());
}

/// A body for the MTOM decoder: the first line is taken as the Content-Type.
pub fn mtom(data: &[u8]) {
    let split = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let ct = String::from_utf8_lossy(&data[..split]);
    let ct = ncpeh::soap::mtom::ContentType::parse(&ct);
    let body = bytes::Bytes::copy_from_slice(data.get(split + 1..).unwrap_or_default());
    let _ = ncpeh::soap::mtom::decode(&ct, body);
}

/// Stored-query value syntax ('a', ('a','b'), numbers) and, after a NUL, LIKE patterns.
pub fn stored_query_params(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    let _ = ncpeh::registry::query::params::split_values(&s);
    if let Some((p, v)) = s.split_once('\u{0}') {
        let _ = ncpeh::registry::query::params::like(p, v);
    }
}

/// An ITI-42 SubmitObjectsRequest or an ITI-41 ProvideAndRegisterDocumentSetRequest body. The
/// objects read are written back (the registry stores that XML and serves it to queries), and
/// that must parse again into as many objects.
pub fn ebrim(data: &[u8]) {
    use ncpeh::ebxml::provide::{parse_provide_request, write_submit_objects};
    let Ok(root) = xml::parse(data, Limits::default()) else {
        return;
    };
    let objects = match parse_provide_request(&root) {
        Ok(req) => {
            for d in &req.documents {
                let _ = d.content.resolve(&Default::default());
            }
            Some(req.objects)
        }
        Err(_) => ncpeh::ebxml::parse_submit_objects(&root).ok(),
    };
    let Some(objects) = objects else { return };
    let out = write_submit_objects(&objects);
    assert_reparses("ebxml::write_submit_objects", &out);
    let again = xml::parse(out.as_bytes(), ROOMY).expect("checked above");
    let reread = ncpeh::ebxml::parse_submit_objects(&again)
        .unwrap_or_else(|e| panic!("written objects are not read again ({e}):\n{out}"));
    assert_eq!(
        reread.len(),
        objects.len(),
        "objects lost in a round trip:\n{out}"
    );
}

/// An MLLP byte stream, fed to the framer in chunks (the first byte sets their size, as reads
/// from a socket would); each whole frame goes through the ITI-8 message path.
pub fn mllp(data: &[u8]) {
    use ncpeh::feed::mllp::Framer;
    let Some((&chunk, stream)) = data.split_first() else {
        return;
    };
    const MAX: usize = 4096;
    let mut framer = Framer::new(MAX);
    let mut frames = Vec::new();
    for piece in stream.chunks(usize::from(chunk) + 1) {
        if framer.push(piece, &mut frames).is_err() {
            break;
        }
    }
    for frame in &frames {
        assert!(
            frame.len() <= MAX,
            "a frame of {} bytes passed a limit of {MAX}",
            frame.len()
        );
        hl7v2(frame);
    }
}

/// One HL7 v2 message (no framing): header, event, PID, and the ACK the node sends back.
pub fn hl7v2(data: &[u8]) {
    use ncpeh::feed::hl7v2;
    use ncpeh::hl7v3::AckCode;
    let text = hl7v2::decode_text(data);
    let ack = match hl7v2::parse_header(&text) {
        Err(e) => hl7v2::build_ack(None, AckCode::Reject, &e.to_string()),
        Ok(h) => {
            let why = match hl7v2::classify(&h) {
                Ok(_) => hl7v2::parse_patient(&text, &h.encoding).err(),
                Err(e) => Some(e),
            };
            let why = why.map(|e| e.to_string()).unwrap_or_default();
            hl7v2::build_ack(Some(&h), AckCode::Error, &why)
        }
    };
    // The ACK is read back by the sender: two segments, and its own header must parse.
    assert_eq!(
        ack.matches('\r').count(),
        2,
        "the ACK is not two segments: {ack:?}"
    );
    assert!(
        hl7v2::parse_header(&ack).is_ok(),
        "the ACK has an unreadable MSH: {ack:?}"
    );
}

/// An ITI-55 XCPD body (PRPA_IN201305UV02).
pub fn xcpd(data: &[u8]) {
    let Ok(root) = xml::parse(data, Limits::default()) else {
        return;
    };
    match ncpeh::hl7v3::parse_query(&root) {
        Ok(msg) => {
            let _ = msg.query.map_err(|e| e.to_string());
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
}

/// A SAML assertion (or anything holding some) read into typed values.
pub fn saml_assertion(data: &[u8]) {
    let Ok(root) = xml::parse(data, Limits::default()) else {
        return;
    };
    let mut ids = Vec::new();
    ncpeh::saml::assertion::ids_in(&root, &mut ids);
    for e in std::iter::once(&root).chain(root.descendants_named(ncpeh::saml::SAML2, "Assertion")) {
        if let Ok(a) = ncpeh::saml::Assertion::read(e) {
            let _ = a.attribute(ncpeh::saml::xspa::ROLE);
            let _ = a.single(ncpeh::saml::xspa::PURPOSE_OF_USE);
        }
    }
}

/// The trust anchor the corpus's signed assertions chain to (self-signed, made by
/// `ncpeh pki init`; its key was thrown away).
const XUA_ANCHOR: &str = include_str!("xua-anchor.pem");
/// The time the checks are made at: fixed, so that a run is repeatable and the seeds, issued
/// for a year from 2026-12-01, are still valid.
const XUA_NOW: i64 = 1_798_761_600; // 2027-01-01T00:00:00Z

fn xua_anchors() -> &'static ncpeh::trust::anchors::Anchors {
    static ANCHORS: OnceLock<ncpeh::trust::anchors::Anchors> = OnceLock::new();
    ANCHORS.get_or_init(|| {
        // Anchors are loaded from a file, as the node does.
        let path =
            std::env::temp_dir().join(format!("ncpeh-fuzz-anchor-{}.pem", std::process::id()));
        std::fs::write(&path, XUA_ANCHOR).expect("write the anchor to a temporary file");
        let anchors =
            ncpeh::trust::anchors::Anchors::load("fuzz issuers", &path, Default::default())
                .expect("the committed anchor loads");
        let _ = std::fs::remove_file(&path);
        anchors
    })
}

/// A wsse:Security header through every XUA check, the xmlsec signature check included when
/// the signer chains to the anchor.
pub fn xua(data: &[u8]) {
    use ncpeh::trust::xua::{verify_header, Settings};
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let settings = Settings {
        clock_skew: time::Duration::MINUTE,
        audiences: vec!["urn:oid:2.16.578.1.12.4.5.10.1".into()],
    };
    let now = time::OffsetDateTime::from_unix_timestamp(XUA_NOW).expect("a valid time");
    let report = verify_header(text, xua_anchors(), &settings, now);
    let _ = report.failure();
}

pub fn ips_to_ps(data: &[u8]) {
    use ncpeh::translate::{self, PsOptions};
    let term = translate::Terminology::builtin();
    let _ = translate::ips_to_ps(
        data,
        term,
        &PsOptions {
            l1: true,
            ..Default::default()
        },
    );
}

pub fn eresept_to_ep(data: &[u8]) {
    use ncpeh::translate;
    let term = translate::Terminology::builtin();
    let _ = translate::eresept_to_ep(data, term, &Default::default());
}

pub fn ed_to_m10(data: &[u8]) {
    use ncpeh::translate;
    let term = translate::Terminology::builtin();
    let _ = translate::ed_to_m10(data, term);
}

pub fn pivot_to_nb(data: &[u8]) {
    use ncpeh::translate;
    let term = translate::Terminology::builtin();
    let _ = translate::pivot_to_nb(data, term);
}

/// A foreign document rendered for a Norwegian reader: whatever it holds, the page has no
/// markup of its own making (no script, no element or URL from the input).
pub fn pivot_to_html(data: &[u8]) {
    use ncpeh::translate;
    let term = translate::Terminology::builtin();
    if let Ok(page) = translate::pivot_to_html(data, term, "nb") {
        let lower = page.to_ascii_lowercase();
        assert!(!lower.contains("<script"), "a script element on the page");
        assert!(
            !lower.contains("javascript:"),
            "a javascript: URL on the page"
        );
        assert!(
            !lower.contains(" onerror=") && !lower.contains(" onload="),
            "an event handler"
        );
        assert!(lower.starts_with("<!doctype html>"), "not an HTML page");
    }
}

/// A Norwegian journal document (CDA, KITH epikrise, PDF, picture) as an OrCD; the first byte
/// picks the class. What is written must be XML the node can read back.
pub fn journal_to_orcd(data: &[u8]) {
    use ncpeh::translate::{self, orcd::Facts, OrcdClass, OrcdSource};
    let Some((&pick, data)) = data.split_first() else {
        return;
    };
    let class = OrcdClass::ALL[usize::from(pick) % OrcdClass::ALL.len()];
    let mut base = Facts::for_cli(Some("13116900216"), "20260101120000+0000");
    base.patient.family = Some("Nordmann".into());
    base.patient.given = Some("Kari".into());
    base.patient.birth = Some("19691113".into());
    base.author.family = Some("Lin".into());
    base.author.given = Some("Rita".into());
    let src = OrcdSource { data, class, base };
    if let Ok(o) = translate::journal_to_orcd(&src) {
        assert!(
            xml::parse(o.xml.as_bytes(), ROOMY).is_ok(),
            "the OrCD is not well-formed"
        );
    }
}

/// A HealthCare Encounter Report as it arrives over XDR.
pub fn hcer(data: &[u8]) {
    let _ = ncpeh::translate::hcer::check_hcer(data);
}

/// An MHD request: a query string when it starts with '?' (ITI-67 and ITI-66 searches), else a
/// FHIR R4 body, XML when it starts with '<' and JSON otherwise (ITI-65). The model's reader never
/// panics (the node would catch it, but print the input), and whatever the node would answer
/// must read again: the OperationOutcome of every refusal (its diagnostics carry text from the
/// input) and the ebRIM of an accepted Bundle.
pub fn mhd(data: &[u8]) {
    use ncpeh::ebxml::provide::write_submit_objects;
    use ncpeh::mhd::fhir::{self, Format, Issue};
    use ncpeh::mhd::{provide, search};
    const BASE: &str = "https://ncpeh.test/fhir";
    if let Some(query) = data.strip_prefix(b"?") {
        let query = String::from_utf8_lossy(query);
        if let Err(issues) = search::find_documents(&query, BASE) {
            mhd_outcome_reads(&issues);
        }
        if let Err(issues) = search::find_lists(&query, BASE) {
            mhd_outcome_reads(&issues);
        }
        return;
    }
    let f = if data.trim_ascii_start().starts_with(b"<") {
        Format::Xml
    } else {
        Format::Json
    };
    let resource = match fhir::read(data, f) {
        Ok(r) => r,
        Err(fhir::WireError::ReaderFailed) => panic!("the FHIR model's reader panicked"),
        Err(e) => return mhd_outcome_reads(&[Issue::error("structure", e.to_string())]),
    };
    if let fhirbolt::model::r4::Resource::Bundle(b) = &resource {
        match provide::submission(b, BASE) {
            Ok(sub) => assert_reparses("ITI-65 as ebRIM", &write_submit_objects(&sub.objects)),
            Err(issues) => mhd_outcome_reads(&issues),
        }
    }
}

/// The OperationOutcome of these issues, in both formats, reads again.
fn mhd_outcome_reads(issues: &[ncpeh::mhd::fhir::Issue]) {
    use ncpeh::mhd::fhir::{self, Format};
    let outcome = fhir::outcome(issues);
    for f in [Format::Json, Format::Xml] {
        let out = fhir::write(&outcome, f);
        mhd_xml_chars(&out, f);
        if let Err(e) = fhir::read(&out, f) {
            panic!(
                "an OperationOutcome in {f:?} does not read again ({e}):\n{}",
                String::from_utf8_lossy(&out)
            );
        }
    }
}

/// FHIR XML the node writes holds only characters XML 1.0 allows (the model's own reader is
/// lenient about them; the client's may not be).
fn mhd_xml_chars(out: &[u8], f: ncpeh::mhd::fhir::Format) {
    if f == ncpeh::mhd::fhir::Format::Xml {
        let text = String::from_utf8_lossy(out);
        assert!(
            !text.contains(xml::write::forbidden),
            "FHIR XML with a character XML cannot carry:\n{text}"
        );
    }
}

use std::sync::{Arc, Mutex};

use super::hl7v2::*;
use super::*;

/// The NIST XDS Toolkit's A01 template (conformance/nist-testkit/A01.txt); `$pid$` is replaced.
pub(super) const A01_TEMPLATE: &str = "MSH|^~\\&|EPICADT|DH|LABADT|DH|201301011226||ADT^A01|HL7MSG00001|P|2.3|\n\
PID|||$pid$||APPLESEED^JOHN^A^III||19710101|M||C|1^CATALYZE STREET^^MADISON^WI^53005-1020|GL|(414)379-1212|(414)271-3434||S||MRN12345001^2^M10|123456789|987654^NC|\n";

pub(super) const NIST_PID: &str = "a8f3c1d2e9b74f1^^^&1.3.6.1.4.1.21367.2005.13.20.1000&ISO";

pub(super) fn a01(pid: &str) -> String {
    A01_TEMPLATE.replace("$pid$", pid)
}

#[derive(Default)]
pub(super) struct MemSink {
    pub patients: Mutex<Vec<FeedPatient>>,
    pub fail: bool,
}

impl PatientSink for MemSink {
    fn upsert(&self, p: &FeedPatient) -> Result<(), String> {
        if self.fail {
            return Err("database is down".into());
        }
        self.patients.lock().unwrap().push(p.clone());
        Ok(())
    }
}

/// MSA-1 and MSA-2 of an ACK, plus its MSH fields.
fn msa(ack: &str) -> (String, String, String) {
    let segs: Vec<&str> = ack.split('\r').filter(|s| !s.is_empty()).collect();
    assert_eq!(segs.len(), 2, "{ack:?}");
    assert!(segs[0].starts_with("MSH|^~\\&|"), "{ack:?}");
    let f: Vec<&str> = segs[1].split('|').collect();
    assert_eq!(f[0], "MSA");
    (
        f[1].to_owned(),
        f[2].to_owned(),
        f.get(3).unwrap_or(&"").to_string(),
    )
}

#[test]
fn nist_a01_template_parses() {
    let text = a01(NIST_PID);
    let h = parse_header(&text).unwrap();
    assert_eq!(h.control_id, "HL7MSG00001");
    assert_eq!(h.sending_application, "EPICADT");
    assert_eq!(h.version, "2.3");
    assert_eq!(classify(&h), Ok(AdtEvent::Admit));
    let p = parse_patient(&text, &h.encoding).unwrap();
    assert_eq!(
        p,
        FeedPatient {
            ids: vec![NIST_PID.to_owned()],
            family: Some("APPLESEED".into()),
            given: Some("JOHN".into()),
            birth_date: Some("19710101".into()),
            gender: Some("M".into()),
        }
    );
}

#[test]
fn cr_lf_and_crlf_separators_read_the_same() {
    let lf = a01(NIST_PID);
    let cr = lf.replace('\n', "\r");
    let crlf = lf.replace('\n', "\r\n");
    let want = parse_patient(&lf, &Encoding::default()).unwrap();
    for text in [cr, crlf] {
        let h = parse_header(&text).unwrap();
        assert_eq!(h.control_id, "HL7MSG00001");
        assert_eq!(parse_patient(&text, &h.encoding).unwrap(), want);
    }
}

#[test]
fn pid3_repetitions_are_normalised() {
    let pid3 = "12345678901^^^NOFNR&2.16.578.1.12.4.1.4.1&ISO^NNNOR\
                ~H123^^^LOCAL\
                ~55^^^&2.16.578.1.12.4.1.4.2\
                ~12345678901^^^&2.16.578.1.12.4.1.4.1&ISO";
    let text = a01(pid3);
    let p = parse_patient(&text, &Encoding::default()).unwrap();
    assert_eq!(
        p.ids,
        vec![
            "12345678901^^^&2.16.578.1.12.4.1.4.1&ISO".to_owned(),
            "55^^^&2.16.578.1.12.4.1.4.2&ISO".to_owned(),
        ]
    );
}

#[test]
fn declared_encoding_characters_are_honoured() {
    let text = "MSH#!*$%#SRC#FAC#NCPEH#NO#20250101##ADT!A04!ADT_A01#C1#P#2.5\r\
                PID###77!!!%1.2.3%ISO*78!!!%1.2.4#\
                #Nordmann$F$Berg!Kari##19800229120000#F\r";
    let h = parse_header(text).unwrap();
    assert_eq!(h.encoding.field, '#');
    assert_eq!(h.encoding.subcomponent, '%');
    assert_eq!(classify(&h), Ok(AdtEvent::Register));
    let p = parse_patient(text, &h.encoding).unwrap();
    assert_eq!(p.ids, vec!["77^^^&1.2.3&ISO", "78^^^&1.2.4&ISO"]);
    assert_eq!(p.family.as_deref(), Some("Nordmann#Berg"));
    assert_eq!(p.given.as_deref(), Some("Kari"));
    assert_eq!(p.birth_date.as_deref(), Some("19800229"));
    // The ACK answers with the sender's delimiters.
    let ack = build_ack(Some(&h), AckCode::Accept, "");
    assert!(ack.starts_with("MSH#!*$%#NCPEH#NO#SRC#FAC#"), "{ack:?}");
    assert!(ack.contains("#ACK!A04!ACK#"), "{ack:?}");
    assert!(ack.contains("\rMSA#AA#C1#"), "{ack:?}");
}

#[test]
fn message_types_are_classified() {
    let with_type = |t: &str| a01(NIST_PID).replace("ADT^A01", t);
    for (t, want) in [
        ("ADT^A01^ADT_A01", Ok(AdtEvent::Admit)),
        ("ADT^A08", Ok(AdtEvent::Update)),
        ("ADT^A40^ADT_A39", Err(Hl7Error::MergeUnsupported)),
        ("ORU^R01", Err(Hl7Error::Unsupported("ORU^R01".into()))),
        ("ADT", Err(Hl7Error::Unsupported("ADT^".into()))),
    ] {
        assert_eq!(classify(&parse_header(&with_type(t)).unwrap()), want, "{t}");
    }
}

#[test]
fn escapes_round_trip() {
    let enc = Encoding::default();
    let raw = "a|b^c&d~e\\f";
    let escaped = escape(raw, &enc);
    assert_eq!(escaped, "a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f");
    assert_eq!(unescape(&escaped, &enc), raw);
    assert_eq!(
        unescape("x\\H\\bold\\N\\ \\unterminated", &enc),
        "xbold \\unterminated"
    );
}

#[test]
fn latin1_is_read() {
    let mut bytes = a01(NIST_PID).replace("APPLESEED", "S?RENSEN").into_bytes();
    let at = bytes.iter().position(|&b| b == b'?').unwrap();
    bytes[at] = 0xD8; // Ø in ISO-8859-1
    let text = decode_text(&bytes);
    let p = parse_patient(&text, &Encoding::default()).unwrap();
    assert_eq!(p.family.as_deref(), Some("SØRENSEN"));
}

#[tokio::test]
async fn process_answers_aa_ae_ar() {
    let good = Arc::new(MemSink::default());
    let sink: Arc<dyn PatientSink> = good.clone();
    let (code, id, _) = msa(&process(a01(NIST_PID).as_bytes(), &sink).await);
    assert_eq!((code.as_str(), id.as_str()), ("AA", "HL7MSG00001"));
    assert_eq!(good.patients.lock().unwrap().len(), 1);

    let failing: Arc<dyn PatientSink> = Arc::new(MemSink {
        fail: true,
        ..Default::default()
    });
    let (code, _, text) = msa(&process(a01(NIST_PID).as_bytes(), &failing).await);
    assert_eq!(code, "AE");
    assert!(!text.contains("database"), "sink internals leak: {text}");

    let (code, id, text) = msa(&process(b"\x00\xffnot hl7 at all", &sink).await);
    assert_eq!((code.as_str(), id.as_str()), ("AR", ""));
    assert!(text.contains("MSH"), "{text}");

    let merge = a01(NIST_PID).replace("ADT^A01", "ADT^A40");
    assert_eq!(msa(&process(merge.as_bytes(), &sink).await).0, "AR");

    let no_oid = a01("H123^^^LOCAL");
    assert_eq!(msa(&process(no_oid.as_bytes(), &sink).await).0, "AE");
    assert_eq!(good.patients.lock().unwrap().len(), 1);
}

#[test]
fn garbage_never_panics() {
    let samples: [&[u8]; 8] = [
        b"",
        b"MSH",
        b"MSH|",
        b"MSH|^~\\",
        b"MSH|^^\\&|",
        b"MSHa^~\\&|",
        "MSH\u{e9}^~\\&\u{e9}x".as_bytes(),
        b"MSH|^~\\&|||||||ADT^A01|1\rPID|||\\",
    ];
    for raw in samples {
        let text = decode_text(raw);
        if let Ok(h) = parse_header(&text) {
            let _ = classify(&h);
            let _ = parse_patient(&text, &h.encoding);
            let _ = build_ack(Some(&h), AckCode::Reject, "x");
        }
    }
}

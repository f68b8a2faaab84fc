//! Malformed input gets an error that names the problem; nothing panics.

use ncpeh::translate::{
    ed_to_m10, eresept_to_ep, ips_to_ps, pivot_to_nb, PsOptions, Terminology, TranslateError,
};

fn ps(input: &str) -> Result<ncpeh::translate::Translated, TranslateError> {
    ips_to_ps(
        input.as_bytes(),
        Terminology::builtin(),
        &PsOptions::default(),
    )
}

#[test]
fn ips_errors_name_the_problem() {
    assert!(matches!(ps("not json"), Err(TranslateError::NotJson(_))));
    match ps(r#"{"resourceType":"Patient"}"#) {
        Err(TranslateError::WrongResourceType { found, .. }) => assert_eq!(found, "Patient"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        ps(r#"{"resourceType":"Bundle","type":"collection"}"#),
        Err(TranslateError::NotDocumentBundle(_))
    ));
    assert!(matches!(
        ps(
            r#"{"resourceType":"Bundle","type":"document","entry":[{"resource":{"resourceType":"Patient"}}]}"#
        ),
        Err(TranslateError::NoComposition)
    ));
    match ps(
        r#"{"resourceType":"Bundle","type":"document","entry":[{"resource":{"resourceType":"Composition"}}]}"#,
    ) {
        Err(TranslateError::MissingElement(m)) => assert!(m.contains("subject"), "{m}"),
        other => panic!("{other:?}"),
    }
    let deep = "[".repeat(10_000);
    assert!(matches!(ps(&deep), Err(TranslateError::NotJson(_))));
}

#[test]
fn ips_minimal_document_translates() {
    let b = r#"{"resourceType":"Bundle","type":"document","entry":[
      {"fullUrl":"urn:uuid:c","resource":{"resourceType":"Composition","date":"2024-01-02","subject":{"reference":"urn:uuid:p"},
        "section":[{"code":{"coding":[{"system":"http://loinc.org","code":"11450-4"}]},"entry":[{"reference":"urn:uuid:x"}]}]}},
      {"fullUrl":"urn:uuid:p","resource":{"resourceType":"Patient","identifier":[{"system":"urn:oid:2.16.578.1.12.4.1.4.1","value":"21014605158"}]}},
      {"fullUrl":"urn:uuid:x","resource":{"resourceType":"Condition","code":{"coding":[{"system":"urn:oid:2.16.578.1.12.4.1.1.7170","code":"K86"}]}}}]}"#;
    let t = ps(b).unwrap();
    // ICPC-2 K86 transcoded to ICD-10 I10, the national code kept as translation
    assert!(t.xml.contains(r#"code="I10""#));
    assert!(
        t.xml
            .contains(r#"<translation code="K86" codeSystem="2.16.578.1.12.4.1.1.7170"/>"#),
        "{}",
        t.xml
    );
    assert!(t
        .xml
        .contains(r#"root="2.16.578.1.12.4.1.4.1" extension="21014605158""#));
    // a code without mapping: OTH + translation + warning
    let b2 = b.replace("K86", "Z99");
    let t2 = ps(&b2).unwrap();
    assert!(t2.xml.contains(r#"nullFlavor="OTH""#));
    assert!(t2.xml.contains(r#"<translation code="Z99""#));
    assert!(t2.warnings.iter().any(|w| w.detail.contains("Z99")));
}

#[test]
fn xml_inputs_refuse_doctype_and_garbage() {
    let term = Terminology::builtin();
    let dt = br#"<?xml version="1.0"?><!DOCTYPE MsgHead [<!ENTITY e "x">]><MsgHead xmlns="http://www.kith.no/xmlstds/msghead/2006-05-24">&e;</MsgHead>"#;
    assert!(matches!(
        eresept_to_ep(dt, term, &Default::default()),
        Err(TranslateError::DoctypeRefused)
    ));
    assert!(matches!(
        ed_to_m10(b"\xff\xfe", term),
        Err(TranslateError::MalformedXml(_))
    ));
    assert!(matches!(
        eresept_to_ep(b"<a><b></a>", term, &Default::default()),
        Err(TranslateError::MalformedXml(_))
    ));
    match eresept_to_ep(
        b"<MsgHead xmlns=\"http://www.kith.no/xmlstds/msghead/2006-05-24\"/>",
        term,
        &Default::default(),
    ) {
        Err(TranslateError::MissingElement(m)) => assert!(m.contains("MsgInfo")),
        other => panic!("{other:?}"),
    }
    assert!(pivot_to_nb(b"", term).is_err());
}

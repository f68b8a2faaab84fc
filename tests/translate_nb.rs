//! pivot -> bokmål: display names with a bokmål designation are swapped, the foreign wording is kept.

mod cda;

use ncpeh::translate::{pivot_to_nb, Terminology, TranslateError};

#[test]
fn swaps_display_names_and_keeps_the_original() {
    let doc = br#"<?xml version="1.0"?>
<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:p="urn:hl7-org:pharm">
  <code code="60591-5" codeSystem="2.16.840.1.113883.6.1" displayName="Patient summary Document"/>
  <x><value code="J45" codeSystem="1.3.6.1.4.1.12559.11.10.1.3.1.44.2" displayName="Asthma">
      <translation code="195967001" codeSystem="2.16.840.1.113883.6.96"/></value></x>
  <y><p:formCode code="10219000" codeSystem="0.4.0.127.0.16.1.1.2.1" displayName="Tablet"><originalText>Tablette</originalText></p:formCode></y>
  <z code="UNMAPPED" codeSystem="1.2.3" displayName="Stays"/>
</ClinicalDocument>"#;
    let t = pivot_to_nb(doc, Terminology::builtin()).unwrap();
    let x = &t.xml;
    assert!(x.contains(r#"displayName="Pasientsammendrag"><originalText>Patient summary Document</originalText></code>"#), "{x}");
    assert!(x.contains(r#"displayName="Astma">"#), "{x}");
    assert!(x.contains("<originalText>Asthma</originalText>"), "{x}");
    assert!(
        x.find("originalText>Asthma").unwrap() < x.find("<translation code=\"195967001\"").unwrap()
    );
    // an existing originalText is kept as it is, not doubled
    assert!(
        x.contains(r#"displayName="Tablett"><originalText>Tablette</originalText></p:formCode>"#),
        "{x}"
    );
    assert_eq!(x.matches("originalText>Tablette").count(), 1);
    assert!(x.contains(r#"displayName="Stays""#));
}

#[test]
fn reference_pivots_stay_well_formed() {
    let Some(shared) = cda::shared() else {
        return;
    };
    for f in [
        "reference/ehdsi/pivot-ps/PS_L3_W6.xml",
        "reference/ehdsi/pivot-ep/ep_single_active_ingredient.xml",
    ] {
        let bytes = std::fs::read(shared.join(f)).unwrap();
        let t = pivot_to_nb(&bytes, Terminology::builtin()).unwrap();
        let mut r = quick_xml::Reader::from_str(&t.xml);
        loop {
            match r.read_event() {
                Ok(quick_xml::events::Event::Eof) => break,
                Ok(_) => {}
                Err(e) => panic!("{f}: output not well-formed: {e}"),
            }
        }
        assert!(t.xml.len() > bytes.len() / 2);
    }
}

#[test]
fn refuses_doctype_and_non_cda() {
    let dt = br#"<!DOCTYPE ClinicalDocument [<!ENTITY x SYSTEM "file:///etc/passwd">]><ClinicalDocument xmlns="urn:hl7-org:v3">&x;</ClinicalDocument>"#;
    assert!(matches!(
        pivot_to_nb(dt, Terminology::builtin()),
        Err(TranslateError::DoctypeRefused)
    ));
    assert!(matches!(
        pivot_to_nb(b"<a/>", Terminology::builtin()),
        Err(TranslateError::WrongDocument { .. })
    ));
    assert!(pivot_to_nb(
        b"<ClinicalDocument xmlns=\"urn:hl7-org:v3\">",
        Terminology::builtin()
    )
    .is_err());
}

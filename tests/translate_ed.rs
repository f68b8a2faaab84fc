//! eD -> M10: the good reference eDispensations become M10-shaped reports linked to the
//! prescription; the bad ones and an eD without a prescription reference get errors naming the problem.

mod cda;

use ncpeh::translate::{ed_to_m10, Terminology, TranslateError};

fn read(name: &str) -> Option<Vec<u8>> {
    let shared = cda::shared()?;
    Some(std::fs::read(shared.join("reference/ehdsi/pivot-ed").join(name)).unwrap())
}

#[test]
fn good_dispensations_become_m10() {
    for name in ["dispensation1.xml", "dispensation2.xml"] {
        let Some(bytes) = read(name) else { return };
        let r = ed_to_m10(&bytes, Terminology::builtin()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(r.prescription_id, "462617619087101", "{name}");
        assert!(r.xml.contains("<ReseptId>462617619087101</ReseptId>"));
        assert!(r.xml.contains("<Antall>1</Antall>"));
        assert!(r
            .xml
            .contains("http://www.kith.no/xmlstds/eresept/m10/2013-10-08"));
        // the prescribed product differs from the dispensed one: a substitution
        assert!(r.dispensed.iter().all(|d| d.substituted), "{name}");
        assert!(r.xml.contains("<ByttetLegemiddel>true</ByttetLegemiddel>"));
    }
}

#[test]
fn bad_quantities_are_refused_with_the_element_named() {
    for (name, why) in [
        ("dispensation_bad_1.xml", "more than zero"),
        ("dispensation_bad_2.xml", "whole number"),
    ] {
        let Some(bytes) = read(name) else { return };
        match ed_to_m10(&bytes, Terminology::builtin()) {
            Err(TranslateError::InvalidValue { element, reason }) => {
                assert!(element.contains("quantity"), "{name}: {element}");
                assert!(reason.contains(why), "{name}: {reason}");
            }
            other => panic!("{name}: expected InvalidValue, got {other:?}"),
        }
    }
}

#[test]
fn zero_package_size_is_refused() {
    let Some(bytes) = read("dispensation_bad_1.xml") else {
        return;
    };
    // the package count fixed, the zero package size remains
    let text = String::from_utf8(bytes).unwrap().replace(
        "<hl7:quantity value=\"-1\" unit=\"1\" />",
        "<hl7:quantity value=\"1\" unit=\"1\" />",
    );
    match ed_to_m10(text.as_bytes(), Terminology::builtin()) {
        Err(TranslateError::InvalidValue { element, reason }) => {
            assert!(element.contains("asContent/pharm:quantity"), "{element}");
            assert!(reason.contains("package size"), "{reason}");
        }
        other => panic!("expected InvalidValue, got {other:?}"),
    }
}

#[test]
fn missing_prescription_reference_is_named() {
    let Some(bytes) = read("dispensation1.xml") else {
        return;
    };
    let text = String::from_utf8(bytes).unwrap();
    let a = text.find("<hl7:inFulfillmentOf>").unwrap();
    let b = text.find("</hl7:inFulfillmentOf>").unwrap() + "</hl7:inFulfillmentOf>".len();
    let mut t = format!("{}{}", &text[..a], &text[b..]);
    t = t.replace(
        "<hl7:id extension=\"462617619087101\" root=\"1.2.208.176.7.2.2\" />",
        "",
    );
    match ed_to_m10(t.as_bytes(), Terminology::builtin()) {
        Err(TranslateError::MissingElement(m)) => assert!(m.contains("inFulfillmentOf"), "{m}"),
        other => panic!("expected MissingElement, got {other:?}"),
    }
}

#[test]
fn not_an_ed_is_refused() {
    let ps = br#"<ClinicalDocument xmlns="urn:hl7-org:v3"><templateId root="1.3.6.1.4.1.12559.11.10.1.3.1.1.3"/></ClinicalDocument>"#;
    assert!(matches!(
        ed_to_m10(ps, Terminology::builtin()),
        Err(TranslateError::WrongDocument { .. })
    ));
    let dt = br#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>"#;
    assert!(matches!(
        ed_to_m10(dt, Terminology::builtin()),
        Err(TranslateError::DoctypeRefused)
    ));
}

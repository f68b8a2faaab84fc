//! W6's source documents: a FHIR IPS bundle per bench patient, as a Norwegian health trust would
//! register it. The sections vary with the patient (medicines by ATC, problems by ICD-10,
//! an allergy, vital signs), so each translation does the work a real one does.

use crate::ids::oid::FNR;
use serde_json::{json, Value};

const MEDICINES: [(&str, &str); 6] = [
    ("C09AA05", "ramipril"),
    ("A10BA02", "metformin"),
    ("C10AA05", "atorvastatin"),
    ("B01AC06", "acetylsalisylsyre"),
    ("R03AC02", "salbutamol"),
    ("N02BE01", "paracetamol"),
];
const PROBLEMS: [(&str, &str); 5] = [
    ("I10", "Essensiell hypertensjon"),
    ("E11", "Diabetes mellitus type 2"),
    ("J45", "Astma"),
    ("E78.0", "Ren hyperkolesterolemi"),
    ("M17", "Kneartrose"),
];
const ALLERGENS: [(&str, &str); 3] = [
    ("256349002", "Peanut"),
    ("372687004", "Amoxicillin"),
    ("227493005", "Cashew nut"),
];
const NAMES: [(&str, &str); 4] = [
    ("Nordmann", "Kari"),
    ("Hansen", "Ola"),
    ("Berg", "Ingrid"),
    ("Dahl", "Per"),
];

const LOINC: &str = "http://loinc.org";
const SNOMED: &str = "http://snomed.info/sct";

fn uuid(patient: u64, n: u64) -> String {
    format!(
        "urn:uuid:7f0c2a52-{:04x}-4000-8000-{:012x}",
        n,
        patient & 0xffff_ffff_ffff
    )
}

fn coded(system: &str, code: &str, display: &str) -> Value {
    json!({"coding": [{"system": system, "code": code, "display": display}]})
}

/// The IPS bundle of bench patient `patient` whose fødselsnummer is `fnr`.
pub fn bundle(patient: u64, fnr: &str) -> Vec<u8> {
    let pick =
        |n: usize, k: u64| ((patient.wrapping_mul(2_654_435_761) >> (k * 3)) % n as u64) as usize;
    let (family, given) = NAMES[pick(NAMES.len(), 0)];
    let subject = json!({"reference": uuid(patient, 2)});
    let mut entries = vec![
        json!({"fullUrl": uuid(patient, 2), "resource": {
            "resourceType": "Patient",
            "identifier": [{"system": format!("urn:oid:{FNR}"), "value": fnr}],
            "name": [{"family": family, "given": [given]}],
            "gender": if patient.is_multiple_of(2) { "female" } else { "male" },
            "birthDate": format!("19{:02}-{:02}-{:02}", 30 + patient % 60, 1 + patient % 12, 1 + patient % 28),
            "address": [{"line": ["Storgata 1"], "city": "Oslo", "postalCode": "0155", "country": "NO"}]}}),
        json!({"fullUrl": uuid(patient, 3), "resource": {
            "resourceType": "Practitioner",
            "identifier": [{"system": "urn:oid:2.16.578.1.12.4.1.4.4", "value": "9144900"}],
            "name": [{"family": "Lege", "given": ["Lise"]}]}}),
        json!({"fullUrl": uuid(patient, 4), "resource": {
            "resourceType": "Organization",
            "identifier": [{"system": "urn:oid:2.16.578.1.12.4.1.4.101", "value": "974589095"}],
            "name": "Legekontoret",
            "address": [{"line": ["Storgata 2"], "city": "Oslo", "postalCode": "0155", "country": "NO"}]}}),
    ];
    let mut meds = Vec::new();
    for k in 0..3 {
        let (atc, name) = MEDICINES[pick(MEDICINES.len(), k + 1)];
        let id = uuid(patient, 10 + k);
        meds.push(json!({"reference": id}));
        entries.push(json!({"fullUrl": id, "resource": {
            "resourceType": "MedicationStatement", "status": "active",
            "medicationCodeableConcept": coded("http://www.whocc.no/atc", atc, name),
            "subject": subject, "effectivePeriod": {"start": "2023-01-15"},
            "dosage": [{"text": "1 tablett daglig"}]}}));
    }
    let mut problems = Vec::new();
    for k in 0..2 {
        let (icd, name) = PROBLEMS[pick(PROBLEMS.len(), k + 4)];
        let id = uuid(patient, 20 + k);
        problems.push(json!({"reference": id}));
        entries.push(json!({"fullUrl": id, "resource": {
            "resourceType": "Condition",
            "clinicalStatus": coded("http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "Active"),
            "code": coded("http://hl7.org/fhir/sid/icd-10", icd, name),
            "subject": subject, "onsetDateTime": "2019-05"}}));
    }
    let (allergen, allergen_name) = ALLERGENS[pick(ALLERGENS.len(), 6)];
    entries.push(json!({"fullUrl": uuid(patient, 30), "resource": {
        "resourceType": "AllergyIntolerance", "type": "allergy", "criticality": "low",
        "clinicalStatus": coded("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "active", "Active"),
        "code": coded(SNOMED, allergen, allergen_name),
        "reaction": [{"manifestation": [coded(SNOMED, "39579001", "Anaphylaxis")]}],
        "patient": subject}}));
    entries.push(json!({"fullUrl": uuid(patient, 40), "resource": {
        "resourceType": "Observation", "status": "final",
        "code": coded(LOINC, "8867-4", "Heart rate"),
        "subject": subject, "effectiveDateTime": "2024-02-28T09:30:00+01:00",
        "valueQuantity": {"value": 55 + patient % 40, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"}}}));
    let section = |title: &str, code: &str, refs: Vec<Value>| json!({"title": title, "code": coded(LOINC, code, title), "entry": refs});
    let composition = json!({"fullUrl": uuid(patient, 1), "resource": {
    "resourceType": "Composition", "status": "final", "language": "nb-NO",
    "identifier": {"system": "urn:oid:2.16.578.1.12.4.5.10.1.99", "value": format!("bench-{patient}")},
    "type": coded(LOINC, "60591-5", "Patient summary Document"),
    "subject": subject, "date": "2024-03-01T10:00:00+01:00",
    "author": [{"reference": uuid(patient, 3)}],
    "title": "Pasientsammendrag", "confidentiality": "N",
    "custodian": {"reference": uuid(patient, 4)},
    "section": [
        section("Legemidler", "10160-0", meds),
        section("Problemer", "11450-4", problems),
        section("Allergier", "48765-2", vec![json!({"reference": uuid(patient, 30)})]),
        section("Vitale tegn", "8716-3", vec![json!({"reference": uuid(patient, 40)})]),
    ]}});
    entries.insert(0, composition);
    let b = json!({
        "resourceType": "Bundle", "type": "document",
        "identifier": {"system": "urn:oid:2.16.578.1.12.4.5.10.1.99", "value": format!("bench-bundle-{patient}")},
        "timestamp": "2024-03-01T10:00:00+01:00",
        "entry": entries,
    });
    serde_json::to_vec(&b).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_bundle_translates_to_a_patient_summary_of_its_patient() {
        let term = crate::translate::Terminology::builtin();
        for p in [0u64, 1, 7, 12_345] {
            let fnr = format!("{}", 10_000_000_000 + p);
            let t = crate::translate::ips_to_ps(&bundle(p, &fnr), term, &Default::default())
                .unwrap_or_else(|e| panic!("patient {p}: {e}"));
            assert!(
                t.xml.contains(&fnr),
                "patient {p}: the PS names its patient"
            );
            assert!(
                t.xml.contains("10160-0") && t.xml.contains("48765-2"),
                "patient {p}"
            );
        }
        assert_ne!(
            bundle(1, "1"),
            bundle(2, "1"),
            "the content varies with the patient"
        );
    }
}

//! IPS -> PS: every reference bundle becomes a PS pivot CDA that is XSD-valid, raises zero errors
//! from the eHDSI PS schematron, and keeps every entry and every clinical code.

mod cda;

use std::collections::BTreeMap;
use std::path::PathBuf;

use ncpeh::translate::{ips_to_ps, PsOptions, Terminology, WarningKind};
use serde_json::Value;

/// FHIR fields whose codes must survive translation.
const CLINICAL: &[&str] = &[
    "code",
    "vaccineCode",
    "valueCodeableConcept",
    "manifestation",
    "route",
    "severity",
    "form",
    "type",
    "site",
];

fn collect_codes(v: &Value, key: Option<&str>, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let (Some(k), Some(Value::Array(cs))) = (key, m.get("coding")) {
                if CLINICAL.contains(&k) {
                    for c in cs {
                        if let Some(code) = c.get("code").and_then(Value::as_str) {
                            out.push(code.to_string());
                        }
                    }
                }
            }
            for (k, x) in m {
                if k != "coding" && k != "text" {
                    collect_codes(x, Some(k), out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_codes(x, key, out)),
        _ => {}
    }
}

fn resolve<'a>(bundle: &'a Value, reference: &str) -> Option<&'a Value> {
    bundle["entry"].as_array()?.iter().find_map(|e| {
        let full = e["fullUrl"].as_str().unwrap_or("");
        let r = &e["resource"];
        let tail = format!(
            "{}/{}",
            r["resourceType"].as_str().unwrap_or(""),
            r["id"].as_str().unwrap_or("")
        );
        (full == reference || tail == reference || full.ends_with(&format!("/{reference}")))
            .then_some(r)
    })
}

/// Input entries per section code, and the clinical codes of the resources they reach.
fn input_facts(bundle: &Value) -> (BTreeMap<String, usize>, Vec<String>) {
    let mut counts = BTreeMap::new();
    let mut codes = Vec::new();
    for s in bundle["entry"][0]["resource"]["section"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let code = s["code"]["coding"][0]["code"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let entries = s["entry"].as_array().cloned().unwrap_or_default();
        if !entries.is_empty() {
            counts.insert(code, entries.len());
        }
        let mut todo: Vec<String> = entries
            .iter()
            .filter_map(|e| e["reference"].as_str().map(str::to_string))
            .collect();
        let mut depth = 0;
        while let Some(r) = todo.pop() {
            depth += 1;
            if depth > 200 {
                break;
            }
            let Some(res) = resolve(bundle, &r) else {
                continue;
            };
            collect_codes(res, None, &mut codes);
            for k in ["medicationReference", "device"] {
                if let Some(x) = res[k]["reference"].as_str() {
                    todo.push(x.to_string());
                }
            }
            for m in res["hasMember"].as_array().into_iter().flatten() {
                if let Some(x) = m["reference"].as_str() {
                    todo.push(x.to_string());
                }
            }
        }
    }
    (counts, codes)
}

#[test]
fn reference_bundles_translate_validate_and_keep_everything() {
    let Some(shared) = cda::shared() else {
        return;
    };
    let dir = shared.join("reference/ips");
    let mut bundles: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("reference/ips")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    bundles.sort();
    assert!(!bundles.is_empty(), "no IPS bundles in {}", dir.display());
    // plus the project's own Norwegian bundle (vital signs, social history, nb-NO)
    bundles.push(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/ips-norwegian-vitals-social.json"),
    );
    let term = Terminology::builtin();
    let out = tempfile::tempdir().unwrap();
    let mut written = Vec::new();
    let mut written_l1 = Vec::new();
    for b in &bundles {
        let bytes = std::fs::read(b).unwrap();
        let t0 = std::time::Instant::now();
        let t = ips_to_ps(
            &bytes,
            term,
            &PsOptions {
                l1: true,
                ..Default::default()
            },
        )
        .unwrap_or_else(|e| panic!("{}: {e}", b.display()));
        eprintln!(
            "{}: {:?}, {} warnings",
            b.display(),
            t0.elapsed(),
            t.warnings.len()
        );
        let json: Value = serde_json::from_slice(&bytes).unwrap();
        let (want, codes) = input_facts(&json);
        let got = cda::section_entries(&t.xml);
        for (sec, n) in &want {
            // an entry PS has no template for is kept in the narrative and reported as Dropped
            let prefix = format!("section[{sec}]/entry[");
            let narrated = t
                .warnings
                .iter()
                .filter(|w| w.kind == WarningKind::Dropped && w.element.starts_with(&prefix))
                .count();
            let written = got.get(sec).copied().unwrap_or(0);
            assert_eq!(
                written + narrated,
                *n,
                "{}: entries in section {sec}",
                b.display()
            );
        }
        let present = cda::all_codes(&t.xml);
        for c in &codes {
            assert!(
                present.contains(c) || t.xml.contains(&format!("[{c} ")),
                "{}: input code {c} missing from the output",
                b.display()
            );
        }
        assert!(t
            .l1_xml
            .as_deref()
            .is_some_and(|x| x.contains("application/pdf")));
        let p = out
            .path()
            .join(b.file_stem().unwrap())
            .with_extension("xml");
        std::fs::write(&p, &t.xml).unwrap();
        written.push(p);
        let p1 = out
            .path()
            .join(b.file_stem().unwrap())
            .with_extension("l1.xml");
        std::fs::write(&p1, t.l1_xml.as_deref().unwrap_or_default()).unwrap();
        written_l1.push(p1);
    }
    let Some(py) = cda::python() else { return };
    cda::xsd(
        &py,
        &shared.join("schemas/ehdsi-cda/CDA_Pharma.xsd"),
        &written,
    )
    .unwrap_or_else(|e| panic!("XSD:\n{e}"));
    let report = cda::schematron(&py, &shared, "epsos-PatientSummary.sch", &written)
        .unwrap_or_else(|e| panic!("PS schematron errors:\n{e}"));
    eprintln!("PS L3: {}", report.lines().last().unwrap_or(""));
    // the L1 variant: XSD and the PS L1 schematron
    cda::xsd(
        &py,
        &shared.join("schemas/ehdsi-cda/CDA_Pharma.xsd"),
        &written_l1,
    )
    .unwrap_or_else(|e| panic!("L1 XSD:\n{e}"));
    let report = cda::schematron(&py, &shared, "epsos-PatientSummary_L1.sch", &written_l1)
        .unwrap_or_else(|e| panic!("PS L1 schematron errors:\n{e}"));
    eprintln!("PS L1: {}", report.lines().last().unwrap_or(""));
}

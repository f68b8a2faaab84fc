//! M1 -> eP: every M1 in the e-resept samples becomes eP pivot CDA with zero errors from the eHDSI
//! eP schematron (the judge for eP) and valid against the shared XSD; codes and ids are carried.

mod cda;

use ncpeh::translate::{eresept_to_ep, EpOptions, Terminology};

/// (V, S) of every element that carries both.
fn volven_codes(xml: &str) -> Vec<(String, String)> {
    let mut r = quick_xml::Reader::from_str(xml);
    let mut out = Vec::new();
    loop {
        match r.read_event() {
            Ok(quick_xml::events::Event::Start(e)) | Ok(quick_xml::events::Event::Empty(e)) => {
                let get = |k: &[u8]| {
                    e.attributes()
                        .flatten()
                        .find(|a| a.key.as_ref() == k)
                        .map(|a| String::from_utf8_lossy(&a.value).into_owned())
                };
                if let (Some(v), Some(s)) = (get(b"V"), get(b"S")) {
                    out.push((v, s));
                }
            }
            Ok(quick_xml::events::Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    out
}

#[test]
fn m1_samples_become_valid_eps() {
    let Some(shared) = cda::shared() else {
        return;
    };
    let dir = shared.join("reference/norway/eresept");
    let mut m1s: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("M1_"))
        })
        .collect();
    m1s.sort();
    assert!(!m1s.is_empty());
    let out = tempfile::tempdir().unwrap();
    let mut written = Vec::new();
    for m in &m1s {
        let bytes = std::fs::read(m).unwrap();
        let eps = eresept_to_ep(&bytes, Terminology::builtin(), &EpOptions::default())
            .unwrap_or_else(|e| panic!("{}: {e}", m.display()));
        assert!(!eps.is_empty());
        let text = String::from_utf8_lossy(&bytes);
        for (i, ep) in eps.iter().enumerate() {
            // the prescription id is the M1 message id and is carried as the entry id
            assert!(text.contains(&ep.prescription_id), "{}", m.display());
            assert!(ep.xml.contains(&ep.prescription_id.to_uppercase()));
            assert!(ep.event_codes.iter().any(|(_, c, _)| c == "open"));
            let codes = cda::all_codes(&ep.xml);
            // every Volven-coded value in the prescription (V with S) is a code, a translation, or
            // named with its code in the narrative
            let resept = &text[text.find("<Resept").unwrap_or(0)..];
            for (v, sys) in volven_codes(resept) {
                assert!(
                    codes.contains(&v) || ep.xml.contains(&format!("[{v} {sys}]")),
                    "{}: coded value {v} ({sys}) lost",
                    m.display()
                );
            }
            let p = out.path().join(format!(
                "{}-{i}.xml",
                m.file_stem().unwrap().to_string_lossy()
            ));
            std::fs::write(&p, &ep.xml).unwrap();
            written.push(p);
        }
    }
    let Some(py) = cda::python() else { return };
    cda::xsd(
        &py,
        &shared.join("schemas/ehdsi-cda/CDA_Pharma.xsd"),
        &written,
    )
    .unwrap_or_else(|e| panic!("XSD:\n{e}"));
    let report = cda::schematron(&py, &shared, "epsos-ePrescription.sch", &written)
        .unwrap_or_else(|e| panic!("eP schematron errors:\n{e}"));
    eprintln!("{}", report.lines().last().unwrap_or(""));
}

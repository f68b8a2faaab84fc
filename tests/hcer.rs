//! HealthCare Encounter Report in over XDR (issue 13, part 2): Spain's contact point sends the
//! report of care it gave a Norwegian patient; the node checks it against the HCER template's
//! rules, stores it, and registers it under the patient's fødselsnummer with a Norwegian class
//! and type, where a national ITI-18 finds it. A bad report is refused with the broken rule named,
//! and nothing of it is stored. The test document passes the art-decor schematron.

mod cda;
mod common;

use common::answer::{self, FAILURE, SUCCESS};
use common::ehdsi::{self as eh, FOREIGN, NATIONAL};
use common::meta;
use common::xdsb::{self, Content};
use common::TestNode;
use ncpeh::ids::action::PROVIDE_AND_REGISTER;
use ncpeh::xds::ids;
use std::path::{Path, PathBuf};

const LOINC: &str = "2.16.840.1.113883.6.1";
const VOLVEN_9602: &str = "2.16.578.1.12.4.1.1.9602";

fn fixture() -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/hcer/hcer-es.xml");
    std::fs::read_to_string(p).expect("tests/data/hcer/hcer-es.xml")
}

/// The test HCER for the patient with fødselsnummer `fnr`.
fn hcer_for(fnr: &str) -> String {
    fixture().replace("PATIENT-FNR", fnr)
}

/// ITI-41 at /xdr as Sweden's test contact point (certificate and assertions, TRC for `pid`)
/// of one document with class and type 34133-9, as a country of treatment sends an HCER.
async fn send(node: &TestNode, pid: &str, doc: &str) -> ncpeh::xml::Element {
    let mut d = xdsb::doc("Hcer", pid, "text/xml");
    d.class = ("34133-9".into(), LOINC.into());
    d.type_code = ("34133-9".into(), LOINC.into());
    let body = xdsb::pnr_body(
        &meta::simple_submission(pid, &[d]),
        &[("Hcer", Content::Inline(doc.as_bytes()))],
    );
    let sec = common::ehdsi_security(&node.pki, Some(pid));
    node.call_as(FOREIGN, "/xdr", PROVIDE_AND_REGISTER, &body, Some(&sec))
        .await
        .body
}

/// The (classCode, typeCode) of each DocumentEntry a national FindDocuments returns.
async fn national_entries(node: &TestNode, pid: &str) -> Vec<((String, String), (String, String))> {
    let q = eh::find_docs(pid, &[]).replacen(&format!(" home=\"{}\"", eh::HOME), "", 1);
    let r = eh::query(node, NATIONAL, "/xds/registry", &q).await;
    assert_eq!(
        answer::status(&r.body),
        SUCCESS,
        "{:?}",
        answer::error_codes(&r.body)
    );
    let code = |eo: &ncpeh::xml::Element, scheme: &str| {
        eo.children_named(answer::RIM, "Classification")
            .find(|c| c.attr("classificationScheme") == Some(scheme))
            .map(|c| {
                let system = c
                    .descendants_named(answer::RIM, "Value")
                    .first()
                    .map(|v| v.text().to_string())
                    .unwrap_or_default();
                (
                    c.attr("nodeRepresentation").unwrap_or("").to_string(),
                    system,
                )
            })
            .unwrap_or_default()
    };
    r.body
        .descendants_named(answer::RIM, "ExtrinsicObject")
        .into_iter()
        .map(|eo| (code(eo, ids::DE_CLASS_CODE), code(eo, ids::DE_TYPE_CODE)))
        .collect()
}

fn error_text(r: &ncpeh::xml::Element) -> String {
    r.descendants_named(answer::RS, "RegistryError")
        .iter()
        .map(|e| e.attr("codeContext").unwrap_or_default().to_string())
        .collect::<Vec<_>>()
        .join(" | ")
}

#[tokio::test]
async fn an_hcer_from_abroad_is_found_by_the_patients_own_doctors() {
    let node = TestNode::start_with_foreign_peer("");
    let (fnr, pid) = eh::fnr_patient(&node);
    let doc = hcer_for(&fnr);
    let r = send(&node, &pid, &doc).await;
    assert_eq!(answer::status(&r), SUCCESS, "{}", error_text(&r));

    let entries = national_entries(&node, &pid).await;
    assert_eq!(
        entries,
        vec![(
            ("A00-1".to_string(), VOLVEN_9602.to_string()),
            ("A03-2".to_string(), VOLVEN_9602.to_string())
        )],
        "registered once, with the Norwegian class and type (national_types.tsv)"
    );
    let uids = xdsb::find_documents(&node, &pid).await;
    let (files, _) = eh::retrieve(&node, NATIONAL, "/xds/repository", &uids).await;
    assert_eq!(files.len(), 1);
    assert_eq!(&files[0].2[..], doc.as_bytes(), "kept as sent");
}

/// Each document breaks one rule of the HCER template: (file name, the document, what the
/// refusal must name).
fn broken(fnr: &str) -> Vec<(&'static str, String, &'static str)> {
    let good = hcer_for(fnr);
    let cut = |from: &str, to: &str| -> String {
        let a = good.find(from).expect("fixture has the start");
        let b = good[a..].find(to).expect("fixture has the end") + a + to.len();
        format!("{}{}", &good[..a], &good[b..])
    };
    vec![
        (
            "no-legal-authenticator.xml",
            cut("<legalAuthenticator>", "</legalAuthenticator>"),
            "legalAuthenticator",
        ),
        (
            "wrong-code.xml",
            good.replace("code=\"34133-9\"", "code=\"60591-5\""),
            "34133-9",
        ),
        (
            "time-without-zone.xml",
            good.replace(
                "<effectiveTime value=\"20261115143000+0100\"/>\n  <confidentialityCode",
                "<effectiveTime value=\"20261115143000\"/>\n  <confidentialityCode",
            ),
            "effectiveTime",
        ),
        (
            "no-parent-document.xml",
            cut("<relatedDocument typeCode=\"XFRM\">", "</relatedDocument>"),
            "relatedDocument",
        ),
        (
            "two-custodians.xml",
            good.replace(
                "</custodian>",
                "</custodian>\n  <custodian><assignedCustodian><representedCustodianOrganization><id root=\"2.16.724.4.40.3\"/></representedCustodianOrganization></assignedCustodian></custodian>",
            ),
            "custodian",
        ),
    ]
}

#[tokio::test]
async fn a_bad_hcer_is_refused_with_the_broken_rule_named_and_nothing_is_stored() {
    let node = TestNode::start_with_foreign_peer("");
    let (fnr, pid) = eh::fnr_patient(&node);
    for (name, doc, names) in broken(&fnr) {
        assert_ne!(
            doc,
            hcer_for(&fnr),
            "{name}: the fixture changed under the test"
        );
        let r = send(&node, &pid, &doc).await;
        assert_eq!(answer::status(&r), FAILURE, "{name}");
        assert_eq!(
            answer::error_codes(&r),
            vec!["XDSRepositoryMetadataError".to_string()],
            "{name}"
        );
        let text = error_text(&r);
        assert!(
            text.contains("1.3.6.1.4.1.12559.11.10.1.3.1.1.4") && text.contains(names),
            "{name}: the refusal names the template and the rule: {text}"
        );
    }
    // About another patient than its DocumentEntry says.
    let (other_fnr, _) = eh::fnr_patient(&node);
    let r = send(&node, &pid, &hcer_for(&other_fnr)).await;
    assert_eq!(
        answer::error_codes(&r),
        vec!["XDSPatientIdDoesNotMatch".to_string()]
    );
    // Not XML a reader would take.
    let doctype = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e \"e\">]>{}",
        hcer_for(&fnr)
            .split_once("?>")
            .map(|(_, b)| b)
            .unwrap_or_default()
    );
    let r = send(&node, &pid, &doctype).await;
    assert_eq!(answer::status(&r), FAILURE, "{}", error_text(&r));

    assert!(
        xdsb::find_documents(&node, &pid).await.is_empty(),
        "nothing was registered"
    );
}

/// The art-decor rules agree: the test HCER passes them with no error, and each broken variant
/// fails them. In the 2024-04-22 release the HCER template (...1.1.4) is checked by the file
/// named `epsos-MedicationRelatedOverview.sch`; the one named after HCER checks the MRO template.
#[test]
fn the_art_decor_schematron_agrees_with_the_native_rules() {
    let (Some(shared), Some(py)) = (cda::shared(), cda::python()) else {
        return;
    };
    let sch = "epsos-MedicationRelatedOverview.sch";
    let text = std::fs::read_to_string(shared.join("schemas/ehdsi-artdecor-20240422").join(sch))
        .expect("schematron");
    assert!(
        text.contains("1.3.6.1.4.1.12559.11.10.1.3.1.1.4-"),
        "{sch} is the one that includes the HCER template"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let fnr = "01017012345";
    let good = dir.path().join("hcer.xml");
    std::fs::write(&good, hcer_for(fnr)).expect("write");
    let report = cda::schematron(&py, &shared, sch, std::slice::from_ref(&good));
    assert!(report.is_ok(), "{}", report.err().unwrap_or_default());

    let files: Vec<PathBuf> = broken(fnr)
        .into_iter()
        .map(|(name, doc, _)| {
            let p = dir.path().join(name);
            std::fs::write(&p, doc).expect("write");
            p
        })
        .collect();
    let report = cda::schematron(&py, &shared, sch, &files).expect_err("the broken ones fail");
    for f in &files {
        let name = f.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        assert!(
            report.contains(&format!("{name}: error")),
            "art-decor finds an error in {name}: {report}"
        );
    }
}
